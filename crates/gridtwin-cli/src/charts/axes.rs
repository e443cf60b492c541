//! Axes that read as people read them: time in the city's local clock with day names
//! on local midnights, and counts ticked at whole numbers.

use plotters::prelude::*;

use gridtwin_sim::compare::thousands;

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
