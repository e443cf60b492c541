//! Charts of a comparison, as PNG and SVG (plotters): backlog over time with 95 %
//! bands across replications, and the distribution (CDF) of response times.
//! PNG text uses the font shipped in `data/fonts/`, so no system fonts are needed.
//!
//! The charts go on slides: series are named by their scenario, time axes read in the
//! city's local clock, every axis says its unit, counts tick at whole numbers, and the
//! legend sits in a strip of its own below the plot so it never covers the data.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use gridtwin_sim::compare::thousands;
use gridtwin_sim::kpi::{CaseTimes, Estimate};
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

/// The name of a `simulate` run for people: its scenario's `name` (in the
/// `scenario.toml` the run wrote), else the folder's own name.
pub fn run_name(dir: &Path) -> String {
    let from_scenario = std::fs::read_to_string(dir.join("scenario.toml"))
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| t.get("name")?.as_str().map(str::trim).map(String::from))
        .filter(|n| !n.is_empty());
    from_scenario.unwrap_or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| dir.display().to_string())
    })
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Weekday, day of month, month name and `HH:MM` of `t` at `offset_s` east of UTC;
/// None for a time outside the years 1–9999.
fn civil(t: i64, offset_s: i64) -> Option<(&'static str, u32, &'static str, String)> {
    let iso = gridtwin_sim::local_time::format(t, offset_s);
    // `YYYY-MM-DDTHH:MM:SS…`; a time out of range comes back as plain seconds
    if iso.len() < 16 || iso.as_bytes()[10] != b'T' {
        return None;
    }
    let month: usize = iso[5..7].parse().ok()?;
    let day: u32 = iso[8..10].parse().ok()?;
    // 1970-01-01 was a Thursday
    let weekday = WEEKDAYS[((t + offset_s).div_euclid(86_400) + 4).rem_euclid(7) as usize];
    Some((
        weekday,
        day,
        MONTHS.get(month.checked_sub(1)?)?,
        iso[11..16].to_string(),
    ))
}

/// `Mon 3 Mar`: a local date as a slide reads it.
pub fn day_label(t: i64, offset_s: i64) -> String {
    civil(t, offset_s)
        .map(|(w, d, m, _)| format!("{w} {d} {m}"))
        .unwrap_or_else(|| t.to_string())
}

/// `UTC+08:00`.
pub fn offset_label(offset_s: i64) -> String {
    let a = offset_s.abs();
    format!(
        "UTC{}{:02}:{:02}",
        if offset_s < 0 { '-' } else { '+' },
        a / 3600,
        a % 3600 / 60
    )
}

/// A time axis in the city's local clock: x is hours from `start`; ticks fall on
/// local midnights (or whole hours that divide a day), labelled `Mon 3 Mar` when a
/// tick is a day or more apart, `Mon 09:00` when closer.
pub struct TimeAxis {
    start: i64,
    end: i64,
    offset_s: i64,
    step_h: i64,
}

impl TimeAxis {
    /// The most labels one axis carries: more would crowd a 900-pixel chart.
    const MOST_TICKS: i64 = 9;

    pub fn new(start: i64, end: i64, offset_s: i64) -> TimeAxis {
        let end = end.max(start + 3600);
        let span_h = (end - start) as f64 / 3600.0;
        let step_h = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 672]
            .into_iter()
            .find(|&s| span_h / s as f64 <= Self::MOST_TICKS as f64)
            .unwrap_or_else(|| (span_h / Self::MOST_TICKS as f64 / 168.0).ceil() as i64 * 168);
        TimeAxis {
            start,
            end,
            offset_s,
            step_h,
        }
    }

    /// Hours from the axis's start.
    pub fn x(&self, t: i64) -> f64 {
        (t - self.start) as f64 / 3600.0
    }

    pub fn range(&self) -> std::ops::Range<f64> {
        0.0..self.x(self.end)
    }

    /// Local times `every_h` apart from the local midnight at or before the start,
    /// within the axis, as x values.
    fn every(&self, every_h: i64) -> Vec<f64> {
        let day0 = (self.start + self.offset_s).div_euclid(86_400) * 86_400 - self.offset_s;
        let step = every_h.max(1) * 3600;
        let first = day0 + (self.start - day0 + step - 1).div_euclid(step) * step;
        (0..)
            .map(|i| first + i * step)
            .take_while(|&t| t <= self.end)
            .map(|t| self.x(t))
            .collect()
    }

    /// The labelled ticks.
    pub fn ticks(&self) -> Vec<f64> {
        self.every(self.step_h)
    }

    /// Unlabelled mesh lines between ticks: every 6 hours between daily ticks.
    pub fn light(&self) -> Vec<f64> {
        match self.step_h {
            24 => self.every(6),
            48 | 72 => self.every(24),
            _ => Vec::new(),
        }
    }

    pub fn label(&self, x: f64) -> String {
        let t = self.start + (x * 3600.0).round() as i64;
        match civil(t, self.offset_s) {
            Some((w, d, m, _)) if self.step_h >= 24 => format!("{w} {d} {m}"),
            Some((w, _, _, hm)) => format!("{w} {hm}"),
            None => format!("{x:.0} h"),
        }
    }

    /// The axis's description, with the time zone the labels are in.
    pub fn desc(&self) -> String {
        format!("local time ({})", offset_label(self.offset_s))
    }
}

/// A linear f64 axis with the ticks given (labelled ones, and unlabelled light mesh
/// lines): plotters' own picks round numbers of the raw value, which for hours from
/// a start are not local midnights.
#[derive(Clone)]
pub struct Ticked {
    range: std::ops::Range<f64>,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ticked {
    pub fn new(range: std::ops::Range<f64>, bold: Vec<f64>, light: Vec<f64>) -> Ticked {
        Ticked { range, bold, light }
    }
}

impl Ranged for Ticked {
    // (every chart gives its own label formatter)
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        plotters::coord::types::RangedCoordf64::from(self.range.clone()).map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// Whole-number ticks from 0 covering `max` (steps of 1, 2, 5 × 10ⁿ, at most `most`
/// of them), and the top of the axis: counts tick at whole numbers, never `2.5`.
pub fn count_ticks(max: f64, most: usize) -> (f64, Vec<f64>) {
    let max = if max.is_finite() { max.max(1.0) } else { 1.0 };
    let most = most.max(2) as f64;
    let mut step = 1.0;
    'find: for p in 0..=307 {
        for m in [1.0, 2.0, 5.0] {
            step = m * 10f64.powi(p);
            if (max / step).ceil() + 1.0 <= most {
                break 'find;
            }
        }
    }
    let top = (max / step).ceil() * step;
    let ticks = (0..)
        .map(|i| i as f64 * step)
        .take_while(|&v| v <= top + step * 1e-9)
        .collect();
    (top, ticks)
}

/// A count tick's label: `1,500`.
pub fn count_label(v: &f64) -> String {
    thousands(v.round() as i64)
}

/// Font sizes: legible when a 960-pixel chart fills a third of a slide.
pub const CAPTION: u32 = 22;
pub const LABEL: u32 = 15;
pub const DESC: u32 = 16;

/// A legend strip below a chart: one line per series (colour, then name), then an
/// optional note in grey.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
    note: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    let line_h = 22;
    let mut y = 6;
    for (name, color, band) in entries {
        let mid = y + line_h / 2;
        if *band {
            area.draw(&Rectangle::new(
                [(24, mid - 7), (56, mid + 7)],
                color.mix(0.2).filled(),
            ))
            .map_err(e)?;
        }
        area.draw(&PathElement::new(
            vec![(24, mid), (56, mid)],
            color.stroke_width(3),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            name.clone(),
            (66, mid),
            TextStyle::from(("sans-serif", LABEL + 1).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                ),
            ),
        ))
        .map_err(e)?;
        y += line_h;
    }
    if let Some(note) = note {
        area.draw(&Text::new(
            note.to_string(),
            (24, y + line_h / 2),
            ("sans-serif", LABEL)
                .into_font()
                .color(&RGBColor(90, 90, 90))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
        ))
        .map_err(e)?;
    }
    Ok(())
}

/// The height of a legend strip of `lines` lines.
pub fn legend_height(lines: usize) -> u32 {
    12 + 22 * lines as u32
}

/// Open cases at one sample time across replications: (Unix seconds, mean, lower and
/// upper end of the 95 % band).
type BacklogPoint = (i64, f64, f64, f64);

/// Backlog per sample time across replications, and the number of replications.
fn backlog_bands(dir: &Path) -> Result<(Vec<BacklogPoint>, usize)> {
    let path = dir.join("backlog.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| path.display().to_string())?;
    let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let mut reps = std::collections::BTreeSet::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: record {}", path.display(), i + 1))?;
        let field = |k: usize| rec.get(k).unwrap_or("");
        // times in Unix seconds or local ISO 8601
        let t = gridtwin_sim::local_time::parse(field(1))
            .map_err(|e| anyhow!("{}: record {}: time {e}", path.display(), i + 1))?;
        let n: f64 = field(2)
            .parse()
            .with_context(|| format!("{}: record {}: open", path.display(), i + 1))?;
        reps.insert(field(0).to_string());
        by_time.entry(t).or_default().push(n);
    }
    if by_time.is_empty() {
        anyhow::bail!("{}: empty", path.display());
    }
    let bands = by_time
        .into_iter()
        .map(|(t, v)| {
            let e = Estimate::of(&v);
            let hw = if e.half_width.is_finite() {
                e.half_width
            } else {
                0.0
            };
            (t, e.mean, (e.mean - hw).max(0.0), e.mean + hw)
        })
        .collect();
    Ok((bands, reps.len()))
}

/// Response times (intake → first crew on site), minutes, sorted, over all
/// replications: of registered cases not held back by an escalation ladder, the basis
/// of `response_p50_min` and `response_p90_min`.
fn responses(dir: &Path) -> Result<Vec<f64>> {
    let mut reps: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path().join("timeline.csv")))
        .filter(|p| p.exists())
        .collect();
    reps.sort();
    let mut v = Vec::new();
    for p in reps {
        let cases: Vec<CaseRecord> = read_csv(&p).map_err(anyhow::Error::msg)?;
        v.extend(
            cases
                .iter()
                .filter(|c| !c.not_registered() && !c.laddered())
                .filter_map(|c| Some((c.first_arrived_at()? - c.intake_at()?) as f64 / 60.0))
                .filter(|m| m.is_finite() && *m >= 0.0),
        );
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v)
}

const A: RGBColor = RGBColor(31, 119, 180);
const B: RGBColor = RGBColor(214, 39, 40);

/// One run's series with its name.
struct Run<'a, T> {
    name: &'a str,
    color: RGBColor,
    data: &'a T,
}

fn draw_backlog<DB: DrawingBackend>(
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
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            format!("Open cases over time, mean of {replications} replications"),
            ("sans-serif", CAPTION),
        )
        .margin(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(64)
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

fn draw_cdf<DB: DrawingBackend>(
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
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Response time: share of cases reached within a given time",
            ("sans-serif", CAPTION),
        )
        .margin(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(64)
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

/// Legend names of runs `a` and `b`: `A: <scenario name>`; the folder's name is added
/// when both runs bear the same scenario name, so the two can still be told apart.
pub fn run_names(a: &Path, b: &Path) -> (String, String) {
    let (na, nb) = (run_name(a), run_name(b));
    if na == nb {
        let folder = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        };
        (
            format!("A: {na} ({})", folder(a)),
            format!("B: {nb} ({})", folder(b)),
        )
    } else {
        (format!("A: {na}"), format!("B: {nb}"))
    }
}

/// Writes backlog.{png,svg} and response.{png,svg} comparing runs `a` and `b`; times
/// are shown at `offset_s` east of UTC (the calendar's).
pub fn write_charts(data: &Path, a: &Path, b: &Path, out: &Path, offset_s: i64) -> Result<()> {
    register_font(data)?;
    let (name_a, name_b) = run_names(a, b);
    let ((ba, reps_a), (bb, reps_b)) = (backlog_bands(a)?, backlog_bands(b)?);
    let (ra, rb) = (responses(a)?, responses(b)?);
    let backlog = [
        Run {
            name: &name_a,
            color: A,
            data: &ba,
        },
        Run {
            name: &name_b,
            color: B,
            data: &bb,
        },
    ];
    let response = [
        Run {
            name: &name_a,
            color: A,
            data: &ra,
        },
        Run {
            name: &name_b,
            color: B,
            data: &rb,
        },
    ];
    // (the comparison pairs replications: both runs have the same count in practice)
    let replications = reps_a.min(reps_b);
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
                    draw_backlog(&root, &backlog, replications, offset_s)?
                } else {
                    draw_cdf(&root, &response)?
                }
            } else {
                let root = BitMapBackend::new(&t, size).into_drawing_area();
                if name == "backlog" {
                    draw_backlog(&root, &backlog, replications, offset_s)?
                } else {
                    draw_cdf(&root, &response)?
                }
            }
        }
        std::fs::rename(&t, out.join(&file))
            .with_context(|| out.join(&file).display().to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_axis_ticks_on_local_midnights_with_day_names() {
        // 2025-03-03 00:00 +08:00 (a Monday) for a week
        let start = 1_740_931_200;
        let axis = TimeAxis::new(start, start + 7 * 86_400, 8 * 3600);
        assert_eq!(
            axis.ticks(),
            (0..=7).map(|d| d as f64 * 24.0).collect::<Vec<_>>()
        );
        assert_eq!(axis.label(0.0), "Mon 3 Mar");
        assert_eq!(axis.label(24.0 * 6.0), "Sun 9 Mar");
        assert_eq!(axis.desc(), "local time (UTC+08:00)");
        // a day starting at 07:30 local: 3-hourly ticks from 09:00
        let axis = TimeAxis::new(start + 7 * 3600 + 1800, start + 31 * 3600, 8 * 3600);
        assert_eq!(axis.ticks()[0], 1.5);
        assert_eq!(axis.label(1.5), "Mon 09:00");
    }

    #[test]
    fn count_ticks_are_whole_numbers() {
        assert_eq!(count_ticks(3.3, 8), (4.0, vec![0.0, 1.0, 2.0, 3.0, 4.0]));
        let (top, t) = count_ticks(31.7, 8);
        assert_eq!(top, 35.0);
        assert!(t.iter().all(|v| v.fract() == 0.0) && t.len() <= 8, "{t:?}");
        assert_eq!(count_ticks(0.0, 8).0, 1.0);
        // a corrupt huge value still gives a handful of ticks, not millions
        assert!(count_ticks(1e20, 8).1.len() <= 8);
        assert!(count_ticks(f64::INFINITY, 8).1.len() <= 8);
        assert_eq!(count_label(&6000.0), "6,000");
    }
}
