//! Working-hour calendars: case time limits are counted in working hours, so a
//! 24-hour limit on a case reported Friday evening ends on Wednesday, not Saturday.
//!
//! A calendar is data: a UTC offset, per weekday the working periods of the day, the
//! public holidays (days off) and the make-up working days (调休: a weekend day worked
//! on weekday hours).
//!
//! ```
//! use gridtwin_sim::WorkingCalendar;
//! // Mon–Fri 08:30–12:00 and 13:30–17:30 at UTC+8 (7.5 working hours a day)
//! let cal = WorkingCalendar::from_toml_str(r#"
//!     utc_offset_hours = 8
//!     weekdays = ["08:30-12:00", "13:30-17:30"]
//! "#, "cal.toml").unwrap();
//! // Monday 2025-01-06 10:00 local = 02:00 UTC; 8 working hours later is Tuesday 10:30 local.
//! let monday_10 = 1_736_128_800;
//! assert_eq!(cal.add_working_hours(monday_10, 8.0), monday_10 + 86_400 + 1_800);
//! ```

use serde::Deserialize;
use thiserror::Error;

/// Why a calendar file was refused.
#[derive(Debug, Error)]
#[error("{file}: {message}")]
pub struct CalendarError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    utc_offset_hours: f64,
    /// Periods of Monday to Friday, as `"HH:MM-HH:MM"`.
    weekdays: Vec<String>,
    /// Periods of Saturday and Sunday (none by default).
    #[serde(default)]
    weekend: Vec<String>,
    /// Public holidays, local dates `YYYY-MM-DD` or inclusive ranges
    /// `YYYY-MM-DD..YYYY-MM-DD`: no working hours on them.
    #[serde(default)]
    holidays: Vec<String>,
    /// Make-up working days (调休), local dates or ranges: worked on weekday hours.
    #[serde(default)]
    workdays: Vec<String>,
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD` into local day numbers (days since
/// 1970-01-01), inclusive.
fn parse_days(s: &str) -> Result<std::ops::RangeInclusive<i64>, String> {
    let day = |t: &str| -> Result<i64, String> {
        let d: jiff::civil::Date = t
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a date YYYY-MM-DD"))?;
        let since = d
            .since(jiff::civil::date(1970, 1, 1))
            .map_err(|e| format!("`{t}`: {e}"))?;
        Ok(since.get_days() as i64)
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (day(a)?, day(b)?),
        None => {
            let d = day(s)?;
            (d, d)
        }
    };
    if b < a {
        return Err(format!("range `{s}` ends before it starts"));
    }
    if b - a > 366 {
        return Err(format!("range `{s}` is longer than a year"));
    }
    Ok(a..=b)
}

/// Working periods per weekday (Monday = 0), as seconds from local midnight.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    utc_offset_s: i64,
    days: [Vec<(i64, i64)>; 7],
    /// Local days whose hours differ from their weekday's: `false` a holiday, `true` a
    /// make-up working day (weekday hours).
    exceptions: std::collections::BTreeMap<i64, bool>,
    /// Working seconds before each midnight of a span of days
    /// ([`WorkingCalendar::prepare_days`]): a cache, not part of what the calendar says.
    table: DayTable,
}

impl PartialEq for WorkingCalendar {
    fn eq(&self, o: &Self) -> bool {
        (self.utc_offset_s, &self.days, &self.exceptions)
            == (o.utc_offset_s, &o.days, &o.exceptions)
    }
}

/// Working seconds from the local midnight of `first_day` to each later midnight,
/// `cum[i]` up to day `first_day + i`, and which hours each day has: `kind[i]` a
/// weekday's (0 = Monday; a make-up day has Monday's) or [`HOLIDAY`]. Adding working
/// hours then reads a few numbers in a row instead of walking day by day through the
/// holiday map (a megacity year sets ~15 M deadlines).
#[derive(Debug, Clone, Default)]
struct DayTable {
    first_day: i64,
    cum: Vec<i64>,
    kind: Vec<u8>,
}

/// A day without working hours in [`DayTable::kind`].
const HOLIDAY: u8 = 7;

const DAY: i64 = 86_400;

/// Parses `HH:MM-HH:MM` into seconds from local midnight (`24:00` allowed as an end).
pub fn parse_period(s: &str) -> Result<(i64, i64), String> {
    let clock = |t: &str| -> Result<i64, String> {
        let (h, m) = t
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("`{t}` is not HH:MM"))?;
        let h: i64 = h.parse().map_err(|_| format!("`{t}` is not HH:MM"))?;
        let m: i64 = m.parse().map_err(|_| format!("`{t}` is not HH:MM"))?;
        if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > 24 * 60 {
            return Err(format!("`{t}` is not a time of day"));
        }
        Ok(h * 3600 + m * 60)
    };
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("`{s}` is not HH:MM-HH:MM"))?;
    let (a, b) = (clock(a)?, clock(b)?);
    if a >= b {
        return Err(format!("period `{s}` ends before it starts"));
    }
    Ok((a, b))
}

impl WorkingCalendar {
    /// Builds a calendar from TOML text; `file` names the source in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, CalendarError> {
        let err = |message: String| CalendarError {
            file: file.to_string(),
            message,
        };
        let f: CalendarFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if !(-14.0..=14.0).contains(&f.utc_offset_hours) {
            return Err(err(format!(
                "utc_offset_hours {} is out of range -14..14",
                f.utc_offset_hours
            )));
        }
        let parse_all = |v: &[String]| -> Result<Vec<(i64, i64)>, CalendarError> {
            let mut p: Vec<(i64, i64)> = v
                .iter()
                .map(|s| parse_period(s))
                .collect::<Result<_, _>>()
                .map_err(err)?;
            p.sort();
            if p.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(err("working periods overlap".into()));
            }
            Ok(p)
        };
        let weekdays = parse_all(&f.weekdays)?;
        let weekend = parse_all(&f.weekend)?;
        if weekdays.is_empty() && weekend.is_empty() {
            return Err(err("a calendar needs at least one working period".into()));
        }
        let mut days: [Vec<(i64, i64)>; 7] = Default::default();
        for (d, day) in days.iter_mut().enumerate() {
            *day = if d < 5 {
                weekdays.clone()
            } else {
                weekend.clone()
            };
        }
        let mut exceptions = std::collections::BTreeMap::new();
        for (list, working, key) in [
            (&f.holidays, false, "holidays"),
            (&f.workdays, true, "workdays"),
        ] {
            for s in list {
                for d in parse_days(s).map_err(|m| err(format!("{key}: {m}")))? {
                    if exceptions.insert(d, working) == Some(!working) {
                        return Err(err(format!(
                            "{key}: `{s}` is listed both as a holiday and as a working day"
                        )));
                    }
                }
            }
        }
        if weekdays.is_empty() && exceptions.values().any(|&w| w) {
            return Err(err("make-up workdays need weekday working periods".into()));
        }
        Ok(WorkingCalendar {
            utc_offset_s: (f.utc_offset_hours * 3600.0).round() as i64,
            days,
            exceptions,
            table: DayTable::default(),
        })
    }

    /// The working periods of local day `day` (a weekday `weekday`).
    fn periods(&self, day: i64, weekday: usize) -> &[(i64, i64)] {
        match self.exceptions.get(&day) {
            Some(false) => &[],
            Some(true) => &self.days[0],
            None => &self.days[weekday],
        }
    }

    /// The instant `hours` after `t` on `basis`: natural hours on the clock, or
    /// working hours on this calendar.
    pub fn add_hours(&self, basis: gridtwin_core::TimeBasis, t: i64, hours: f64) -> i64 {
        match basis {
            gridtwin_core::TimeBasis::Natural => t + (hours * 3600.0).round() as i64,
            gridtwin_core::TimeBasis::Working => self.add_working_hours(t, hours),
        }
    }

    /// The calendar's offset from UTC, seconds.
    pub fn utc_offset_s(&self) -> i64 {
        self.utc_offset_s
    }

    /// Local day number and weekday (Monday = 0) of a Unix time. 1970-01-01 was a Thursday.
    fn local_day(&self, t: i64) -> (i64, usize) {
        let day = (t + self.utc_offset_s).div_euclid(DAY);
        (day, (day + 3).rem_euclid(7) as usize)
    }

    /// Tabulates the working seconds of every local day from the one holding `from`
    /// to the one holding `to` (at most ten years), so that
    /// [`WorkingCalendar::add_working_hours`] inside that span reads the table, a day
    /// per step, instead of walking through the holiday map.
    /// Results are the same with or without the table.
    pub fn prepare_days(&mut self, from: i64, to: i64) {
        let (first, weekday) = self.local_day(from);
        let last = self.local_day(to).0.clamp(first, first + 3660);
        let days = (last - first + 1) as usize;
        let mut cum = Vec::with_capacity(days + 1);
        let mut kind = Vec::with_capacity(days);
        let mut total = 0i64;
        cum.push(0);
        for (i, day) in (first..=last).enumerate() {
            let k = match self.exceptions.get(&day) {
                Some(false) => HOLIDAY,
                Some(true) => 0,
                None => ((weekday + i) % 7) as u8,
            };
            total += self.hours_of(k).iter().map(|(a, b)| b - a).sum::<i64>();
            cum.push(total);
            kind.push(k);
        }
        self.table = DayTable {
            first_day: first,
            cum,
            kind,
        };
    }

    /// The working periods of a [`DayTable::kind`].
    fn hours_of(&self, kind: u8) -> &[(i64, i64)] {
        self.days.get(kind as usize).map_or(&[], |p| p.as_slice())
    }

    /// The instant `hours` working hours after `t`.
    pub fn add_working_hours(&self, t: i64, hours: f64) -> i64 {
        let left = (hours * 3600.0).round() as i64;
        match self.add_by_table(t, left) {
            Some(u) => u,
            None => self.add_by_walking(t, left),
        }
    }

    /// [`WorkingCalendar::add_working_hours`] from the day table: the earliest instant
    /// whose working seconds since the table's start are `t`'s plus `left` (the walk's
    /// answer: an instant inside a period or at its end). `None` where `t` or the
    /// answer falls outside the table, or `left` is not positive.
    fn add_by_table(&self, t: i64, left: i64) -> Option<i64> {
        let DayTable {
            first_day,
            cum,
            kind,
        } = &self.table;
        if left <= 0 || kind.is_empty() {
            return None;
        }
        let day = (t + self.utc_offset_s).div_euclid(DAY);
        let i = usize::try_from(day - first_day)
            .ok()
            .filter(|&i| i < kind.len())?;
        let since_midnight = t - (day * DAY - self.utc_offset_s);
        // working seconds before t on its own day
        let before: i64 = self
            .hours_of(kind[i])
            .iter()
            .map(|&(a, b)| since_midnight.clamp(a, b) - a)
            .sum();
        let target = cum[i] + before + left;
        // the day by whose end `target` is reached (cum[k] < target <= cum[k + 1]): a
        // limit is hours or days ahead, so a few steps forward
        let mut k = i;
        while cum.get(k + 1).is_some_and(|&c| c < target) {
            k += 1;
        }
        if k >= kind.len() {
            return None;
        }
        let midnight_k = (first_day + k as i64) * DAY - self.utc_offset_s;
        let mut rem = target - cum[k];
        for &(a, b) in self.hours_of(kind[k]) {
            if rem <= b - a {
                return Some(midnight_k + a + rem);
            }
            rem -= b - a;
        }
        None
    }

    /// The instant `left` working seconds after `t`, walking day by day.
    fn add_by_walking(&self, t: i64, mut left: i64) -> i64 {
        let (mut day, mut weekday) = self.local_day(t);
        let mut now = t;
        loop {
            let midnight = day * DAY - self.utc_offset_s;
            for &(a, b) in self.periods(day, weekday) {
                let (start, end) = (midnight + a, midnight + b);
                if end <= now {
                    continue;
                }
                let from = now.max(start);
                if from + left <= end {
                    return from + left;
                }
                left -= end - from;
                now = end;
            }
            day += 1;
            weekday = (weekday + 1) % 7;
        }
    }

    /// Loads a calendar from a TOML file (e.g. `data/calendar.toml`).
    pub fn load(path: &std::path::Path) -> Result<Self, CalendarError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CalendarError {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, &file)
    }

    /// When a case of `category` taken in at `intake` falls overdue.
    pub fn deadline(&self, category: &gridtwin_core::Category, intake: i64) -> i64 {
        self.add_hours(category.time_basis, intake, category.time_limit_hours)
    }

    /// Working seconds between `a` and `b` (zero if `b <= a`).
    pub fn working_seconds_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let (mut day, mut weekday) = self.local_day(a);
        let mut total = 0;
        loop {
            let midnight = day * DAY - self.utc_offset_s;
            if midnight >= b {
                return total;
            }
            for &(s, e) in self.periods(day, weekday) {
                let (start, end) = ((midnight + s).max(a), (midnight + e).min(b));
                total += (end - start).max(0);
            }
            day += 1;
            weekday = (weekday + 1) % 7;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> WorkingCalendar {
        WorkingCalendar::from_toml_str(
            "utc_offset_hours = 8\nweekdays = [\"08:30-12:00\", \"13:30-17:30\"]\n",
            "c",
        )
        .unwrap()
    }

    // Monday 2025-01-06 00:00 at UTC+8
    const MON: i64 = 1_736_092_800;

    #[test]
    fn friday_evening_case_with_a_day_limit_ends_next_week() {
        let cal = office();
        let friday_18 = MON + 4 * DAY + 18 * 3600;
        // 7.5 working hours a day: 24 h = 3 full days + 1.5 h → Thursday 10:00
        let deadline = cal.add_working_hours(friday_18, 24.0);
        assert_eq!(deadline, MON + 7 * DAY + 3 * DAY + 10 * 3600);
        assert_eq!(cal.working_seconds_between(friday_18, deadline), 24 * 3600);
    }

    #[test]
    fn lunch_break_is_skipped_and_measures_agree() {
        let cal = office();
        let t = MON + 11 * 3600; // Monday 11:00
        assert_eq!(cal.add_working_hours(t, 2.0), MON + 14 * 3600 + 30 * 60);
        for h in [0.5, 1.0, 7.5, 13.0, 40.0] {
            let d = cal.add_working_hours(t, h);
            assert_eq!(
                cal.working_seconds_between(t, d),
                (h * 3600.0) as i64,
                "{h}"
            );
        }
        // a week holds exactly 37.5 working hours
        assert_eq!(
            cal.working_seconds_between(MON, MON + 7 * DAY),
            37 * 3600 + 1800
        );
    }

    #[test]
    fn shipped_calendar_gives_category_deadlines() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let cal = WorkingCalendar::load(&data.join("calendar.toml")).unwrap();
        assert_eq!(cal.utc_offset_s(), office().utc_offset_s());
        // the shipped calendar holds 2025's holidays: the same as the hand-made one
        // across National Day
        let t = MON + 200 * DAY; // 2025-07-25
        for h in [8.0, 40.0, 100.0, 400.0] {
            assert_eq!(
                cal.add_working_hours(t, h),
                national_day_2025().add_working_hours(t, h)
            );
        }
        let rule = gridtwin_core::CodeRule::national();
        let table =
            gridtwin_core::CategoryTable::load(&data.join("categories.csv"), &rule).unwrap();
        let vending = table
            .find(gridtwin_core::CategoryKind::Event, "占道经营")
            .unwrap();
        assert_eq!(vending.time_limit_hours, 8.0);
        // Monday 16:00 + 8 working hours = Tuesday 16:30 (1.5 h Monday, 6.5 h Tuesday)
        let t = MON + 16 * 3600;
        assert_eq!(cal.deadline(vending, t), MON + DAY + 16 * 3600 + 1800);
    }

    /// Office hours with China's 2025 National Day holiday (1–8 October, with the
    /// Mid-Autumn Festival) and its make-up working days, Sunday 28 September and
    /// Saturday 11 October (State Council notice of 2024-11-12).
    fn national_day_2025() -> WorkingCalendar {
        WorkingCalendar::from_toml_str(
            r#"utc_offset_hours = 8
weekdays = ["08:30-12:00", "13:30-17:30"]
holidays = ["2025-10-01..2025-10-08"]
workdays = ["2025-09-28", "2025-10-11"]
"#,
            "c",
        )
        .unwrap()
    }

    /// Local time at UTC+8 of a date and clock time.
    fn local(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
        jiff::civil::date(y, m, d)
            .at(h, min, 0, 0)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .unwrap()
            .timestamp()
            .as_second()
    }

    #[test]
    fn deadlines_across_the_2025_national_day_holiday_match_a_hand_count() {
        let cal = national_day_2025();
        // Fri 26 Sep 16:00 + 24 h: Fri 1.5 h, Sat off, Sun 28 (make-up) 7.5 h, Mon 29
        // 7.5 h, Tue 30 7.5 h = 24 h → Tue 30 Sep 17:30
        assert_eq!(
            cal.add_working_hours(local(2025, 9, 26, 16, 0), 24.0),
            local(2025, 9, 30, 17, 30)
        );
        // Tue 30 Sep 16:00 + 8 h: Tue 1.5 h, 1–8 Oct off, Thu 9 Oct 6.5 h → 16:30
        assert_eq!(
            cal.add_working_hours(local(2025, 9, 30, 16, 0), 8.0),
            local(2025, 10, 9, 16, 30)
        );
        // Fri 10 Oct 17:00 + 4 h: Fri 0.5 h, Sat 11 (make-up) 3.5 h → Sat 12:00
        assert_eq!(
            cal.add_working_hours(local(2025, 10, 10, 17, 0), 4.0),
            local(2025, 10, 11, 12, 0)
        );
        // the holiday week holds no working hour; the make-up Sunday a full day
        assert_eq!(
            cal.working_seconds_between(local(2025, 10, 1, 0, 0), local(2025, 10, 9, 0, 0)),
            0
        );
        assert_eq!(
            cal.working_seconds_between(local(2025, 9, 28, 0, 0), local(2025, 9, 29, 0, 0)),
            7 * 3600 + 1800
        );
        // without the exceptions the same week would be an ordinary one
        assert_eq!(
            office().add_working_hours(local(2025, 9, 30, 16, 0), 8.0),
            local(2025, 10, 1, 16, 30)
        );
    }

    #[test]
    fn an_emergency_on_natural_hours_is_due_on_the_clock() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let cal = WorkingCalendar::load(&data.join("calendar.toml")).unwrap();
        let rule = gridtwin_core::CodeRule::national();
        let table =
            gridtwin_core::CategoryTable::load(&data.join("categories.csv"), &rule).unwrap();
        let water = table
            .find(gridtwin_core::CategoryKind::Event, "积水")
            .unwrap();
        assert_eq!(water.time_basis, gridtwin_core::TimeBasis::Natural);
        // 积水 taken Saturday 22:00 with a 2 h natural limit: due Sunday 00:00
        let saturday_22 = local(2025, 3, 8, 22, 0);
        assert_eq!(cal.deadline(water, saturday_22), local(2025, 3, 9, 0, 0));
    }

    #[test]
    fn bad_calendars_are_errors_naming_the_file() {
        for text in [
            "utc_offset_hours = 8\nweekdays = [\"12:00-08:00\"]\n",
            "utc_offset_hours = 8\nweekdays = [\"08:00-12:00\", \"11:00-13:00\"]\n",
            "utc_offset_hours = 8\nweekdays = [\"8-12\"]\n",
            "utc_offset_hours = 8\nweekdays = []\n",
            "utc_offset_hours = 8\nweekdays = [\"08:00-12:00\"]\nholidays = 3\n",
            "utc_offset_hours = 8\nweekdays = [\"08:00-12:00\"]\nholidays = [\"2025-13-01\"]\n",
            "utc_offset_hours = 8\nweekdays = [\"08:00-12:00\"]\nholidays = [\"2025-10-08..2025-10-01\"]\n",
            "utc_offset_hours = 8\nweekdays = [\"08:00-12:00\"]\nholidays = [\"2025-10-01\"]\nworkdays = [\"2025-10-01\"]\n",
        ] {
            let e = WorkingCalendar::from_toml_str(text, "cal.toml").unwrap_err();
            assert!(e.to_string().starts_with("cal.toml:"), "{e}");
        }
    }

    /// A random calendar: per weekday zero to three periods on a 15-minute raster
    /// (adjacent ones and one ending at 24:00 included), holidays and make-up days
    /// over a few months, any quarter-hour offset.
    fn random_calendar(seed: u64) -> WorkingCalendar {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut days: [Vec<(i64, i64)>; 7] = Default::default();
        for d in days.iter_mut() {
            let mut marks: Vec<i64> = (0..2 * next(4)).map(|_| next(97) as i64 * 900).collect();
            // (equal marks: a period ending where the next begins, or one of no length
            // that is dropped)
            marks.sort();
            *d = marks
                .chunks_exact(2)
                .map(|w| (w[0], w[1]))
                .filter(|(a, b)| a < b)
                .collect();
        }
        if days.iter().all(|d| d.is_empty()) {
            days[2] = vec![(9 * 3600, 17 * 3600)];
        }
        let mut exceptions = std::collections::BTreeMap::new();
        for _ in 0..next(12) {
            exceptions.insert(20_090 + next(120) as i64, next(3) == 0);
        }
        let mut cal = WorkingCalendar {
            utc_offset_s: (next(113) as i64 - 56) * 900,
            days,
            exceptions,
            table: DayTable::default(),
        };
        // (a make-up day on a calendar without weekday periods is refused on load)
        if cal.days[0].is_empty() {
            cal.exceptions.retain(|_, w| !*w);
        }
        cal
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Adding working hours by the day table gives the walk's instant, at any
        /// calendar, start (before, inside and after the table) and length.
        #[test]
        fn the_day_table_adds_as_the_walk_does(
            seed in 0u64..u64::MAX,
            at in -20i64 * DAY..140 * DAY,
            seconds in proptest::prop_oneof![0i64..4 * 3600, 0i64..600 * 3600],
        ) {
            let walk = random_calendar(seed);
            let mut table = walk.clone();
            // 2025-01-06 .. 100 days on: the table covers part of the range of `at`
            let start = 1_736_092_800;
            table.prepare_days(start, start + 100 * DAY);
            let t = start + at;
            let hours = seconds as f64 / 3600.0;
            proptest::prop_assert_eq!(table.add_working_hours(t, hours), walk.add_by_walking(t, seconds));
        }
    }

    #[test]
    fn the_day_table_answers_inside_its_span() {
        // (the property above would hold trivially if the table never answered)
        let start = 1_736_092_800;
        let mut answered = 0;
        for seed in 0..2000u64 {
            let mut cal = random_calendar(seed);
            cal.prepare_days(start, start + 100 * DAY);
            let t = start + (seed as i64 % 60) * DAY + (seed as i64 * 7919) % DAY;
            answered += usize::from(cal.add_by_table(t, 8 * 3600).is_some());
        }
        assert!(answered > 1900, "{answered} of 2000");
    }
}
