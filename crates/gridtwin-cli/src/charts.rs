//! Charts of a comparison, as PNG and SVG (plotters): backlog over time with 95 %
//! bands across replications, and the distribution (CDF) of response times.
//! PNG text uses the font shipped in `data/fonts/`, so no system fonts are needed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use gridtwin_sim::kpi::Estimate;
use gridtwin_sim::timeline::{read_csv, CaseRecord};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Registers the bundled font once per process.
pub fn register_font(data: &Path) -> Result<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let r = DONE.get_or_init(|| {
        let path = data.join("fonts/DejaVuSans.ttf");
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{}: not a usable font", path.display()))
    });
    r.clone().map_err(anyhow::Error::msg)
}

/// Backlog per sample time across replications: (hours from start, mean, lo, hi).
fn backlog_bands(dir: &Path) -> Result<Vec<(f64, f64, f64, f64)>> {
    let path = dir.join("backlog.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| path.display().to_string())?;
    let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec?;
        let (t, n): (i64, f64) = (rec[1].parse()?, rec[2].parse()?);
        by_time.entry(t).or_default().push(n);
    }
    let t0 = *by_time
        .keys()
        .next()
        .ok_or_else(|| anyhow!("{}: empty", path.display()))?;
    Ok(by_time
        .into_iter()
        .map(|(t, v)| {
            let e = Estimate::of(&v);
            let hw = if e.half_width.is_finite() {
                e.half_width
            } else {
                0.0
            };
            (
                (t - t0) as f64 / 3600.0,
                e.mean,
                (e.mean - hw).max(0.0),
                e.mean + hw,
            )
        })
        .collect())
}

/// Response times (intake → crew on site), minutes, sorted, over all replications.
fn responses(dir: &Path) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path().join("timeline.csv");
        if p.exists() {
            let cases: Vec<CaseRecord> = read_csv(&p).map_err(anyhow::Error::msg)?;
            v.extend(
                cases
                    .iter()
                    .filter_map(|c| Some((c.arrived_at? - c.intake_at?) as f64 / 60.0)),
            );
        }
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v)
}

const A: RGBColor = RGBColor(31, 119, 180);
const B: RGBColor = RGBColor(214, 39, 40);

fn draw_backlog<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &[(f64, f64, f64, f64)],
    b: &[(f64, f64, f64, f64)],
    names: (&str, &str),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let max_x = a.iter().chain(b).map(|p| p.0).fold(1.0, f64::max);
    let max_y = a.iter().chain(b).map(|p| p.3).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Backlog: open cases over time (mean and 95% band)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..max_x, 0f64..max_y)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("hours from start")
        .y_desc("open cases")
        .draw()
        .map_err(e)?;
    for (series, color, name) in [(a, A, names.0), (b, B, names.1)] {
        let band: Vec<(f64, f64)> = series
            .iter()
            .map(|p| (p.0, p.3))
            .chain(series.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2))))
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(e)?
            .label(name.to_string())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

fn draw_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &[f64],
    b: &[f64],
    names: (&str, &str),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    // Show up to the 98th percentile of either, so a long tail does not flatten the rest.
    let q = |v: &[f64]| {
        v.get(((v.len() as f64 * 0.98) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(1.0)
    };
    let max_x = q(a).max(q(b)).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Response time (intake to crew on site): share of cases within",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..max_x, 0f64..1f64)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("minutes")
        .y_desc("share of cases")
        .draw()
        .map_err(e)?;
    for (v, color, name) in [(a, A, names.0), (b, B, names.1)] {
        let n = v.len().max(1) as f64;
        let pts = v
            .iter()
            .enumerate()
            .filter(|(_, x)| **x <= max_x)
            .map(|(i, x)| (*x, (i + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(e)?
            .label(format!("{name} (n = {})", v.len()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Writes backlog.{png,svg} and response.{png,svg} comparing runs `a` and `b`.
pub fn write_charts(data: &Path, a: &Path, b: &Path, out: &Path) -> Result<()> {
    register_font(data)?;
    let names = (
        "A: ".to_string() + &a.display().to_string(),
        "B: ".to_string() + &b.display().to_string(),
    );
    let names = (names.0.as_str(), names.1.as_str());
    let (ba, bb) = (backlog_bands(a)?, backlog_bands(b)?);
    let (ra, rb) = (responses(a)?, responses(b)?);
    let size = (960, 540);
    // Each chart is drawn to a temporary file and renamed: outputs are atomic.
    let tmp = |name: &str| out.join(format!(".{name}.tmp-{}", std::process::id()));
    for (name, svg) in [
        ("backlog", true),
        ("backlog", false),
        ("response", true),
        ("response", false),
    ] {
        let file = format!("{name}.{}", if svg { "svg" } else { "png" });
        let t = tmp(&file).with_extension(if svg { "svg" } else { "png" });
        {
            if svg {
                let root = SVGBackend::new(&t, size).into_drawing_area();
                if name == "backlog" {
                    draw_backlog(&root, &ba, &bb, names)?
                } else {
                    draw_cdf(&root, &ra, &rb, names)?
                }
            } else {
                let root = BitMapBackend::new(&t, size).into_drawing_area();
                if name == "backlog" {
                    draw_backlog(&root, &ba, &bb, names)?
                } else {
                    draw_cdf(&root, &ra, &rb, names)?
                }
            }
        }
        std::fs::rename(&t, out.join(&file))
            .with_context(|| out.join(&file).display().to_string())?;
    }
    Ok(())
}
