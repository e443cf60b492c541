//! Drawing the two charts: the backlog over time with its bands, and the CDF of
//! response times, one series per run.

use anyhow::{anyhow, Result};
use gridtwin_sim::compare::thousands;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::runs::BacklogPoint;
use super::{
    count_label, count_ticks, draw_legend, frame, legend_height, Ticked, TimeAxis, DESC, LABEL,
};

pub(super) const A: RGBColor = RGBColor(31, 119, 180);
pub(super) const B: RGBColor = RGBColor(214, 39, 40);

/// One run's series with its name.
pub(super) struct Run<'a, T> {
    pub(super) name: &'a str,
    pub(super) color: RGBColor,
    pub(super) data: &'a T,
}

pub(super) fn draw_backlog<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[Run<'_, Vec<BacklogPoint>>],
    replications: usize,
    offset_s: i64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let (_, h) = root.dim_in_pixel();
    let (plot, strip) = root.split_vertically(h - legend_height(runs.len() + 1));
    let all = || runs.iter().flat_map(|r| r.data.iter());
    let start = all().map(|p| p.0).min().unwrap_or(0);
    let end = all().map(|p| p.0).max().unwrap_or(start);
    let axis = TimeAxis::new(start, end, offset_s);
    // headroom, so the peak does not run along the frame
    let (top, yticks) = count_ticks(all().map(|p| p.3).fold(1.0, f64::max) * 1.05, 8);
    let mut chart = frame(
        &plot,
        &format!("Open cases over time, mean of {replications} replications"),
    )
    .build_cartesian_2d(
        Ticked::new(axis.range(), axis.ticks(), axis.light()),
        Ticked::new(0.0..top, yticks, Vec::new()),
    )
    .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(axis.desc())
        .y_desc("open cases")
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(&count_label)
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", DESC))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for run in runs {
        let s = run.data;
        let band: Vec<(f64, f64)> = s
            .iter()
            .map(|p| (axis.x(p.0), p.3))
            .chain(s.iter().rev().map(|p| (axis.x(p.0), p.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, run.color.mix(0.2))))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(
                s.iter().map(|p| (axis.x(p.0), p.1)),
                run.color.stroke_width(2),
            ))
            .map_err(e)?;
    }
    let entries: Vec<(String, RGBColor, bool)> = runs
        .iter()
        .map(|r| (r.name.to_string(), r.color, true))
        .collect();
    draw_legend(
        &strip,
        &entries,
        Some("Line: mean open cases at each hour; shaded: 95 % confidence band of the mean."),
    )?;
    root.present().map_err(e)?;
    Ok(())
}

/// The response-time axis's top: the 99th percentile of both runs together, rounded
/// up to a tick, so a long tail (days, for a case left waiting) does not squeeze
/// the bulk into the left edge. Returns (top, ticks, responses beyond the top).
fn response_axis(runs: &[Run<'_, Vec<f64>>]) -> (f64, Vec<f64>, usize) {
    let mut all: Vec<f64> = runs.iter().flat_map(|r| r.data.iter().copied()).collect();
    all.sort_by(|a, b| a.total_cmp(b));
    let p99 = if all.is_empty() {
        1.0
    } else {
        all[((all.len() as f64 * 0.99).ceil() as usize).clamp(1, all.len()) - 1]
    };
    let (top, ticks) = count_ticks(p99, 11);
    let beyond = all.iter().filter(|&&m| m > top).count();
    (top, ticks, beyond)
}

pub(super) fn draw_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[Run<'_, Vec<f64>>],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let (_, h) = root.dim_in_pixel();
    let (plot, strip) = root.split_vertically(h - legend_height(runs.len() + 1));
    let (top, xticks, beyond) = response_axis(runs);
    let total: usize = runs.iter().map(|r| r.data.len()).sum();
    let mut chart = frame(
        &plot,
        "Response time: share of cases reached within a given time",
    )
    .build_cartesian_2d(
        Ticked::new(0.0..top, xticks, Vec::new()),
        Ticked::new(
            0.0..1.0,
            (0..=10).map(|i| i as f64 / 10.0).collect(),
            Vec::new(),
        ),
    )
    .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("response time (min), intake to crew on site")
        .y_desc("cases reached (%)")
        .x_label_formatter(&count_label)
        .y_label_formatter(&|y| format!("{:.0} %", y * 100.0))
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", DESC))
        .draw()
        .map_err(e)?;
    for run in runs {
        let v = run.data;
        let n = v.len().max(1) as f64;
        let within = v.iter().take_while(|&&m| m <= top).count();
        // a step per case up to the axis's end, then flat to the edge
        let pts = v
            .iter()
            .take(within)
            .enumerate()
            .map(|(i, x)| (*x, (i + 1) as f64 / n))
            .chain(std::iter::once((top, within as f64 / n)));
        chart
            .draw_series(LineSeries::new(pts, run.color.stroke_width(2)))
            .map_err(e)?;
    }
    let entries: Vec<(String, RGBColor, bool)> = runs
        .iter()
        .map(|r| {
            (
                format!("{} ({} responses)", r.name, thousands(r.data.len() as i64)),
                r.color,
                false,
            )
        })
        .collect();
    let note = format!(
        "Axis capped at {} min, the 99th percentile rounded up: {} of {} responses took longer.",
        thousands(top as i64),
        thousands(beyond as i64),
        thousands(total as i64)
    );
    draw_legend(&strip, &entries, Some(&note))?;
    root.present().map_err(e)?;
    Ok(())
}
