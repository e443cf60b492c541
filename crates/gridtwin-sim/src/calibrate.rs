//! Calibration: a scenario fitted to a city's own case history.
//!
//! From a timeline (`simulate`'s, or a history with the same columns) it fits, per
//! category, the arrival rate (Poisson, with its exact 95 % interval) with hour-of-day
//! and weekday profiles and a linear trend (reported); where incidents happen (a
//! hotspot factor per grid, shrunk toward 1 by empirical Bayes: a Poisson–gamma model
//! whose between-grid variance is estimated by the method of moments, so a grid with
//! few cases keeps a factor near the city-wide rate while a busy grid's own rate shows
//! through); the step durations, choosing each step's family among exponential,
//! uniform, lognormal and gamma by AIC, with the KS distance of the fit; the shares of
//! reports not registered, checks failed and time limits extended; and crews per
//! department from the crew ids (else from the most cases worked at once).
//!
//! The fitted scenario starts each case at its intake (`discovery.mode = "immediate"`):
//! a history records when a problem was reported, rarely when it began, so discovery
//! is described (channel shares, intake delays) and not fitted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::dist::{fit_all, gamma_quantile, Fit};
use crate::timeline::CaseRecord;

/// What calibration needs besides the history.
pub struct CalibrateInput<'a> {
    pub cases: &'a [CaseRecord],
    /// Unit grids: code and area (m²), for the hotspot factors (incidents are placed
    /// in proportion to area × factor).
    pub grids: Vec<(String, f64)>,
    /// Components per class code (`MMmm`), for failure rates per component.
    pub components_per_class: BTreeMap<String, u64>,
    /// The department of each category (`kind:MMmm`), from the category table: a
    /// department with cases and no crews in the history still needs a crew to run.
    pub departments: BTreeMap<String, String>,
    /// The window fitted, Unix seconds `[from, to)`; `None`: whole local days around the
    /// history's intakes.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub utc_offset_s: i64,
}

/// A rate with its 95 % interval, per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub count: u64,
    pub per_day: f64,
    pub low: f64,
    pub high: f64,
}

/// One category's arrivals.
#[derive(Debug, Clone)]
pub struct CategoryFit {
    pub kind: String,
    pub class: String,
    pub rate: Rate,
    pub hour_weights: [f64; 24],
    pub weekday_weights: [f64; 7],
    /// Change of the daily count per day (least squares), with its 95 % interval.
    pub trend_per_day: (f64, f64, f64),
    /// Intakes by channel.
    pub sources: BTreeMap<String, u64>,
}

/// One step's fits (best first).
#[derive(Debug, Clone)]
pub struct StepFit {
    pub step: String,
    pub fits: Vec<Fit>,
    /// Mean of the sample, minutes, with its 95 % interval (normal approximation).
    pub mean: (f64, f64, f64),
}

/// A share (count of total) with its 95 % interval (Wilson).
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub hits: u64,
    pub of: u64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A department's crews as the history shows them.
#[derive(Debug, Clone)]
pub struct CrewFit {
    pub department: String,
    pub count: u32,
    /// How the count was found: `crew ids` or `most at work at once`.
    pub from: &'static str,
    /// Local hours in which its crews took cases (first..last), `None`: round the clock.
    pub shift: Option<(u32, u32)>,
}

/// Everything fitted, and why some rows could not be used.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub from: i64,
    pub to: i64,
    pub days: f64,
    pub categories: Vec<CategoryFit>,
    /// Grid code → hotspot factor (posterior mean), only where it differs from 1.
    pub hotspots: BTreeMap<String, f64>,
    /// The estimated between-grid variance of the rate ratio (0: no hotspots).
    pub hotspot_variance: f64,
    pub steps: Vec<StepFit>,
    /// Handling time per category where a category has enough cases (≥ 30).
    pub handle_by_category: Vec<(String, Fit)>,
    pub not_registered: Share,
    pub check_failure: Share,
    pub extension: Share,
    pub crews: Vec<CrewFit>,
    /// Rows left out, by reason.
    pub unused: BTreeMap<String, u64>,
    /// Parameters the history could not give, with the value kept.
    pub kept: Vec<(String, String)>,
    /// Components per class code, for failure rates per component.
    pub components_per_class: BTreeMap<String, u64>,
    /// The city's time zone (seconds east of UTC), for the times written.
    pub utc_offset_s: i64,
    /// Escalation ladders the history shows: per category (`kind:MMmm`), each stage's
    /// action and the share of cases reaching it that complied there.
    pub ladders: Vec<(String, Vec<(String, Share)>)>,
    /// Intake delay (occurrence to intake) by channel, where the history records
    /// occurrence apart from intake: minutes, best fit.
    pub intake_delays: Vec<(String, Fit)>,
}

const DAY: i64 = 86_400;
/// A step's duration in a case, minutes (`None`: the case does not show the step).
type StepSpan<'a> = Box<dyn Fn(&CaseRecord) -> Option<f64> + 'a>;
/// The fewest observations a per-category handling fit needs.
const MIN_PER_CATEGORY: usize = 30;

/// Fits the history.
pub fn calibrate(input: &CalibrateInput) -> Result<Calibration, String> {
    let off = input.utc_offset_s;
    let mut unused: BTreeMap<String, u64> = BTreeMap::new();
    let intakes: Vec<i64> = input.cases.iter().filter_map(|c| c.intake_at).collect();
    let (Some(&first), Some(&last)) = (intakes.iter().min(), intakes.iter().max()) else {
        return Err("the history has no case with an intake time".into());
    };
    let from = input
        .from
        .unwrap_or_else(|| (first + off).div_euclid(DAY) * DAY - off);
    let to = input
        .to
        .unwrap_or_else(|| ((last + off).div_euclid(DAY) + 1) * DAY - off);
    if to <= from {
        return Err(format!("the window is empty: from {from} to {to}"));
    }
    let days = (to - from) as f64 / DAY as f64;
    let in_window: Vec<&CaseRecord> = input
        .cases
        .iter()
        .filter(|c| match c.intake_at {
            None => {
                *unused.entry("no intake time".into()).or_default() += 1;
                false
            }
            Some(t) if t < from || t >= to => {
                *unused
                    .entry("intake outside the window".into())
                    .or_default() += 1;
                false
            }
            Some(_) => true,
        })
        .collect();
    if in_window.is_empty() {
        return Err("no case has its intake inside the window".into());
    }

    // arrivals per category
    let mut by_cat: BTreeMap<(String, String), Vec<&CaseRecord>> = BTreeMap::new();
    for c in &in_window {
        by_cat
            .entry((c.kind.to_string(), c.category.to_string()))
            .or_default()
            .push(c);
    }
    let n_days = (to - from).div_euclid(DAY).max(1) as usize;
    let categories: Vec<CategoryFit> = by_cat
        .iter()
        .map(|((kind, class), cs)| {
            let n = cs.len() as u64;
            let (lo, hi) = poisson_interval(n);
            let mut hours = [0.0; 24];
            let mut weekdays = [0.0; 7];
            let mut daily = vec![0.0; n_days];
            let mut sources: BTreeMap<String, u64> = BTreeMap::new();
            for c in cs {
                let t = c.intake_at.expect("in the window");
                let local = t + off;
                hours[(local.rem_euclid(DAY) / 3600) as usize] += 1.0;
                // 1970-01-01 was a Thursday: Monday first
                weekdays[((local.div_euclid(DAY) + 3).rem_euclid(7)) as usize] += 1.0;
                let d = ((t - from) / DAY) as usize;
                if d < n_days {
                    daily[d] += 1.0;
                }
                *sources.entry(c.source.to_string()).or_default() += 1;
            }
            // exposure: how many of each weekday the window holds
            let mut weekday_days = [0.0; 7];
            for d in 0..n_days as i64 {
                let local_day = (from + off).div_euclid(DAY) + d;
                weekday_days[((local_day + 3).rem_euclid(7)) as usize] += 1.0;
            }
            for (w, e) in weekdays.iter_mut().zip(weekday_days) {
                *w = if e > 0.0 { *w / e } else { 0.0 };
            }
            CategoryFit {
                kind: kind.clone(),
                class: class.clone(),
                rate: Rate {
                    count: n,
                    per_day: n as f64 / days,
                    low: lo / days,
                    high: hi / days,
                },
                hour_weights: normalise(hours),
                weekday_weights: normalise(weekdays),
                trend_per_day: trend(&daily),
                sources,
            }
        })
        .collect();

    // hotspots: events only (component failures happen where the components are)
    let mut per_grid: BTreeMap<&str, f64> = BTreeMap::new();
    let mut events = 0.0;
    for c in in_window.iter().filter(|c| &*c.kind == "event") {
        if !c.grid_code.is_empty() {
            *per_grid.entry(&c.grid_code).or_default() += 1.0;
            events += 1.0;
        }
    }
    let total_area: f64 = input.grids.iter().map(|g| g.1).sum();
    let (hotspots, hotspot_variance) = if events > 0.0 && total_area > 0.0 {
        eb_hotspots(&input.grids, &per_grid, events, total_area)
    } else {
        (BTreeMap::new(), 0.0)
    };

    // step durations (minutes), first passes only where a case was reworked or
    // taken off for an emergency (the timeline keeps the last pass's times)
    let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 60.0),
        _ => None,
    };
    let clean = |c: &&&CaseRecord| c.rework == 0 && c.preempted == 0;
    let collect = |f: &dyn Fn(&CaseRecord) -> Option<f64>| -> Vec<f64> {
        in_window
            .iter()
            .filter(clean)
            .filter_map(|c| f(c))
            .collect()
    };
    let steps_wanted: [(&str, StepSpan); 5] = [
        ("verify", Box::new(|c| span(c.intake_at, c.verified_at))),
        (
            "dispatch",
            Box::new(|c| {
                // the centre's own dispatch: no ladder, no hand-overs
                if c.ladder.is_empty() && !c.forwarded && c.returns == 0 {
                    span(c.verified_at, c.dispatched_at)
                } else {
                    None
                }
            }),
        ),
        ("handle", Box::new(|c| span(c.arrived_at, c.handled_at))),
        ("feedback", Box::new(|c| span(c.handled_at, c.feedback_at))),
        // (from the feedback, or from the handling where a history has no feedback)
        (
            "check",
            Box::new(|c| span(c.feedback_at.or(c.handled_at), c.checked_at)),
        ),
    ];
    let mut steps = Vec::new();
    let mut kept = Vec::new();
    for (name, f) in &steps_wanted {
        let xs = collect(f.as_ref());
        if xs.len() < 2 {
            kept.push((
                format!("steps.{name}"),
                format!(
                    "only {} case(s) show this step: the default is kept",
                    xs.len()
                ),
            ));
            continue;
        }
        steps.push(StepFit {
            step: name.to_string(),
            fits: fit_all(&xs),
            mean: mean_interval(&xs),
        });
    }
    let mut handle_by_category = Vec::new();
    for ((kind, class), cs) in &by_cat {
        let xs: Vec<f64> = cs
            .iter()
            .filter(|c| c.rework == 0 && c.preempted == 0)
            .filter_map(|c| span(c.arrived_at, c.handled_at))
            .collect();
        if xs.len() >= MIN_PER_CATEGORY {
            if let Some(best) = fit_all(&xs).into_iter().next() {
                handle_by_category.push((format!("{kind}:{class}"), best));
            }
        }
    }

    let verified = in_window.iter().filter(|c| c.verified_at.is_some()).count() as u64;
    let not_reg = in_window
        .iter()
        .filter(|c| &*c.closed_by == "not_registered")
        .count() as u64;
    let passes: u64 = in_window.iter().map(|c| c.passes as u64).sum();
    let reworks: u64 = in_window.iter().map(|c| c.rework as u64).sum();
    let dispatched = in_window
        .iter()
        .filter(|c| c.dispatched_at.is_some())
        .count() as u64;
    let extended = in_window.iter().filter(|c| c.extended).count() as u64;

    // crews per department
    let mut crews = Vec::new();
    // Crews are counted for the department the category table gives a category (the
    // simulation routes by it); where the history sent a category elsewhere, it says so.
    let mut departments: BTreeMap<&str, Vec<&CaseRecord>> = BTreeMap::new();
    let mut elsewhere: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for c in &in_window {
        let table_dept = input
            .departments
            .get(&format!("{}:{}", c.kind, c.category))
            .map(String::as_str);
        let dept = match table_dept {
            Some(d) => {
                if !c.department.is_empty() && *c.department != *d {
                    *elsewhere
                        .entry((
                            c.category.to_string(),
                            c.department.to_string(),
                            d.to_string(),
                        ))
                        .or_default() += 1;
                }
                d
            }
            None => &c.department,
        };
        if !dept.is_empty() && c.assigned_at.or(c.arrived_at).is_some() {
            departments.entry(dept).or_default().push(c);
        }
    }
    for (dept, cs) in departments {
        let ids: BTreeSet<&str> = cs
            .iter()
            .map(|c| &*c.crew)
            .filter(|s| !s.is_empty())
            .collect();
        let (count, from_what) = if !ids.is_empty() {
            (ids.len() as u32, "crew ids")
        } else {
            (most_at_once(&cs), "most at work at once")
        };
        // An hour is on shift where crews took cases in it: at least 1 % of them, or
        // on at least a fifth of the days (night hours with few cases, worked every
        // night, are still on).
        let mut hours = [0u64; 24];
        let mut days_with: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); 24];
        for c in &cs {
            let t = c.assigned_at.or(c.arrived_at).expect("filtered") + off;
            let h = (t.rem_euclid(DAY) / 3600) as usize;
            hours[h] += 1;
            days_with[h].insert(t.div_euclid(DAY));
        }
        let total: u64 = hours.iter().sum();
        let busy: Vec<u32> = (0..24)
            .filter(|&h| {
                hours[h as usize] * 100 >= total.max(1)
                    || days_with[h as usize].len() as f64 >= 0.2 * n_days as f64
            })
            .collect();
        let shift = match (busy.first(), busy.last()) {
            (Some(&a), Some(&b)) if busy.len() < 22 && b >= a => Some((a, b + 1)),
            _ => None,
        };
        crews.push(CrewFit {
            department: dept.to_string(),
            count: count.max(1),
            from: from_what,
            shift,
        });
    }
    for ((class, given, table), n) in &elsewhere {
        kept.push((
            format!("department of {class}"),
            format!(
                "the history sends {n} of its cases to {given}, the category table to {table}: the scenario follows the table (its crews are counted there)"
            ),
        ));
    }
    // departments whose cases the history has but whose crews it does not show
    for (kind, class) in by_cat.keys() {
        let Some(dept) = input.departments.get(&format!("{kind}:{class}")) else {
            continue;
        };
        if !crews.iter().any(|c| &c.department == dept) {
            kept.push((
                format!("crews of {dept}"),
                "the history shows none at work: 1 crew, round the clock".into(),
            ));
            crews.push(CrewFit {
                department: dept.clone(),
                count: 1,
                from: "nothing in the history (kept)",
                shift: None,
            });
        }
    }
    // escalation ladders: stage k reached by the cases whose ladder names k + 1
    // stages; complied there when closed by `compliance:<action k>`
    let mut ladders = Vec::new();
    for ((kind, class), cs) in &by_cat {
        let mut actions: Vec<String> = Vec::new();
        for c in cs.iter().filter(|c| !c.ladder.is_empty()) {
            for (i, a) in c.ladder.split('>').enumerate() {
                if actions.len() <= i {
                    actions.push(a.to_string());
                }
            }
        }
        if actions.is_empty() {
            continue;
        }
        let stages = actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let reached = cs
                    .iter()
                    .filter(|c| !c.ladder.is_empty() && c.ladder.split('>').count() > i)
                    .count() as u64;
                let complied = cs
                    .iter()
                    .filter(|c| *c.closed_by == *format!("compliance:{a}"))
                    .count() as u64;
                (a.clone(), wilson(complied, reached))
            })
            .collect();
        ladders.push((format!("{kind}:{class}"), stages));
    }
    // intake delays by channel, where occurrence is recorded apart from intake
    let mut delays: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for c in &in_window {
        if let Some(i) = c.intake_at {
            if i > c.occurred_at {
                delays
                    .entry(c.source.to_string())
                    .or_default()
                    .push((i - c.occurred_at) as f64 / 60.0);
            }
        }
    }
    let intake_delays = delays
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .filter_map(|(k, v)| fit_all(&v).into_iter().next().map(|f| (k, f)))
        .collect();
    Ok(Calibration {
        from,
        to,
        days,
        categories,
        hotspots,
        hotspot_variance,
        steps,
        handle_by_category,
        not_registered: wilson(not_reg, verified),
        check_failure: wilson(reworks, passes.max(reworks)),
        extension: wilson(extended, dispatched),
        crews,
        unused,
        kept,
        components_per_class: input.components_per_class.clone(),
        utc_offset_s: off,
        ladders,
        intake_delays,
    })
}

/// The exact (Garwood) 95 % interval of a Poisson count.
pub fn poisson_interval(n: u64) -> (f64, f64) {
    poisson_interval_at(n, 0.95)
}

/// The exact (Garwood) interval of a Poisson count at confidence `level`.
pub fn poisson_interval_at(n: u64, level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    let lo = if n == 0 {
        0.0
    } else {
        gamma_quantile(n as f64, tail)
    };
    (lo, gamma_quantile(n as f64 + 1.0, 1.0 - tail))
}

/// A share with its Wilson 95 % interval.
fn wilson(hits: u64, of: u64) -> Share {
    if of == 0 {
        return Share {
            hits,
            of,
            value: 0.0,
            low: 0.0,
            high: 1.0,
        };
    }
    let (n, p, z) = (of as f64, hits as f64 / of as f64, 1.959_963_984_540_054);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Share {
        hits,
        of,
        value: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// Weights with mean 1 (all zeros stay zeros).
fn normalise<const N: usize>(mut w: [f64; N]) -> [f64; N] {
    let mean = w.iter().sum::<f64>() / N as f64;
    if mean > 0.0 {
        for v in &mut w {
            *v /= mean;
        }
    }
    w
}

/// Least-squares slope of daily counts, with its 95 % interval (normal).
fn trend(daily: &[f64]) -> (f64, f64, f64) {
    let n = daily.len() as f64;
    if daily.len() < 3 {
        return (0.0, f64::NAN, f64::NAN);
    }
    let xm = (n - 1.0) / 2.0;
    let ym = daily.iter().sum::<f64>() / n;
    let sxx: f64 = (0..daily.len()).map(|i| (i as f64 - xm).powi(2)).sum();
    let sxy: f64 = daily
        .iter()
        .enumerate()
        .map(|(i, y)| (i as f64 - xm) * (y - ym))
        .sum();
    let b = sxy / sxx;
    let resid: f64 = daily
        .iter()
        .enumerate()
        .map(|(i, y)| (y - ym - b * (i as f64 - xm)).powi(2))
        .sum();
    let se = (resid / (n - 2.0) / sxx).sqrt();
    (b, b - 1.96 * se, b + 1.96 * se)
}

/// Mean with a 95 % normal interval.
fn mean_interval(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let h = 1.96 * sd / n.sqrt();
    (m, m - h, m + h)
}

/// The most cases a department had on site at once (arrival to handled).
fn most_at_once(cs: &[&CaseRecord]) -> u32 {
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for c in cs {
        if let (Some(a), Some(h)) = (c.assigned_at.or(c.arrived_at), c.handled_at) {
            edges.push((a, 1));
            edges.push((h, -1));
        }
    }
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most.max(1) as u32
}

/// Poisson–gamma empirical Bayes: counts n_g against expectations e_g (events ×
/// area share); the rate ratio's between-grid variance τ² by the method of moments;
/// each grid's factor (n_g + 1/τ²) / (e_g + 1/τ²).
fn eb_hotspots(
    grids: &[(String, f64)],
    counts: &BTreeMap<&str, f64>,
    events: f64,
    total_area: f64,
) -> (BTreeMap<String, f64>, f64) {
    let e: Vec<f64> = grids.iter().map(|g| events * g.1 / total_area).collect();
    let g = grids.len() as f64;
    let q: f64 = grids
        .iter()
        .zip(&e)
        .filter(|(_, &e)| e > 0.0)
        .map(|(gr, &e)| (counts.get(gr.0.as_str()).copied().unwrap_or(0.0) - e).powi(2) / e)
        .sum();
    let se: f64 = e.iter().sum();
    let se2: f64 = e.iter().map(|x| x * x).sum();
    let tau2 = ((q - (g - 1.0)) / (se - se2 / se)).max(0.0);
    let mut out = BTreeMap::new();
    if tau2 > 0.0 {
        let k = 1.0 / tau2;
        for (gr, &e) in grids.iter().zip(&e) {
            let n = counts.get(gr.0.as_str()).copied().unwrap_or(0.0);
            let f = (n + k) / (e + k);
            // (two decimals: a factor within half a percent of 1 is no hotspot)
            let f = (f * 100.0).round() / 100.0;
            if f != 1.0 {
                out.insert(gr.0.clone(), f);
            }
        }
    }
    (out, tau2)
}

impl Calibration {
    /// The fitted scenario as TOML, each value with its sample size and interval.
    /// `city` and `calendar` are written as given (paths relative to the file).
    pub fn scenario_toml(
        &self,
        name: &str,
        city: &str,
        calendar: &str,
        start: &str,
        days: f64,
    ) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Fitted by `gridtwin calibrate` to {} days of case history ({} to {}).\n\
             # Each value: the cases it rests on and its 95 % interval. Discovery is not\n\
             # fitted: cases start at their intake (mode = \"immediate\").",
            fmt(self.days),
            crate::local_time::format(self.from, self.utc_offset_s),
            crate::local_time::format(self.to, self.utc_offset_s)
        );
        let _ = writeln!(t, "name = {}", quote(name));
        let _ = writeln!(t, "city = {}", quote(city));
        let _ = writeln!(t, "calendar = {}", quote(calendar));
        let _ = writeln!(t, "start = {}", quote(start));
        let _ = writeln!(t, "days = {}\nwarmup_days = 0\n", fmt(days));
        for c in &self.categories {
            let r = &c.rate;
            if c.kind == "component" {
                let n = self.components_of(&c.class);
                let per_year = |d: f64| d * 365.0 / n.max(1) as f64;
                let _ = writeln!(t, "[arrivals.failures.{}]", quote(&c.class));
                let _ = writeln!(
                    t,
                    "per_component_per_year = {}   # {} failures of {} components; 95 % CI {}–{}",
                    fmt(per_year(r.per_day)),
                    r.count,
                    n,
                    fmt(per_year(r.low)),
                    fmt(per_year(r.high))
                );
                continue;
            }
            let _ = writeln!(t, "[arrivals.events.{}]", quote(&c.class));
            let _ = writeln!(
                t,
                "per_day = {}   # {} cases; 95 % CI {}–{}; trend {} per day per day (95 % CI {}–{}, not applied)",
                fmt(r.per_day),
                r.count,
                fmt(r.low),
                fmt(r.high),
                fmt(c.trend_per_day.0),
                fmt(c.trend_per_day.1),
                fmt(c.trend_per_day.2)
            );
            let _ = writeln!(t, "hour_weights = [{}]", list(&c.hour_weights));
            let _ = writeln!(t, "weekday_weights = [{}]", list(&c.weekday_weights));
        }
        if !self.hotspots.is_empty() {
            let _ = writeln!(
                t,
                "\n# Hotspot factor per grid: empirical Bayes (Poisson–gamma, between-grid variance {}), 1 where not listed",
                fmt(self.hotspot_variance)
            );
            let _ = writeln!(t, "[arrivals.hotspots]");
            for (g, f) in &self.hotspots {
                let _ = writeln!(t, "{} = {}", quote(g), fmt(*f));
            }
        }
        let _ = writeln!(
            t,
            "\n[discovery]\nmode = \"immediate\"\npatrol_interval_hours = 4\npatrol_detect_probability = 0.8\nhotline_probability = 0.3\nhotline_delay = {{ dist = \"exp\", mean = 45 }}\nsensor_delay = {{ dist = \"fixed\", minutes = 2 }}\n"
        );
        for (channel, f) in &self.intake_delays {
            let _ = writeln!(
                t,
                "# intake delay by {channel} (occurrence to intake), not applied: {} (n = {}, KS {})",
                duration(f),
                f.n,
                fmt(f.ks)
            );
        }
        let _ = writeln!(t, "[steps]");
        let step = |name: &str| self.steps.iter().find(|s| s.step == name);
        for name in ["verify", "handle", "feedback", "check"] {
            match step(name) {
                Some(s) => {
                    let _ = writeln!(t, "{name} = {}   # {}", duration(&s.fits[0]), note(s));
                }
                None => {
                    let _ = writeln!(
                        t,
                        "{name} = {{ dist = \"fixed\", minutes = 0 }}   # not in the history"
                    );
                }
            }
        }
        let share = |s: &Share| {
            format!(
                "{}   # {} of {}; 95 % CI {}–{}",
                fmt(s.value),
                s.hits,
                s.of,
                fmt(s.low),
                fmt(s.high)
            )
        };
        let _ = writeln!(t, "check_failure = {}", share(&self.check_failure));
        let _ = writeln!(t, "not_registered = {}", share(&self.not_registered));
        let _ = writeln!(t, "extension = {}", share(&self.extension));
        let _ = writeln!(t, "extension_hours = 8   # not in the history: kept");
        if !self.handle_by_category.is_empty() {
            let _ = writeln!(t, "[steps.handle_by_category]");
            for (k, f) in &self.handle_by_category {
                let _ = writeln!(
                    t,
                    "{} = {}   # n = {}, KS {}",
                    quote(k),
                    duration(f),
                    f.n,
                    fmt(f.ks)
                );
            }
        }
        let dispatch = match step("dispatch") {
            Some(s) => format!("{}   # {}", duration(&s.fits[0]), note(s)),
            None => "{ dist = \"exp\", mean = 20 }   # not in the history: kept".into(),
        };
        let _ = writeln!(
            t,
            "\n[dispatch]\nowner_delay = {dispatch}\nterritory_delay = {dispatch}\nnegotiated_delay = {{ dist = \"exp\", mean = 240 }}   # not fitted\ndesignated_delay = {{ dist = \"exp\", mean = 60 }}   # not fitted\n"
        );
        for (cat, stages) in &self.ladders {
            for (action, share) in stages {
                let _ = writeln!(t, "[[escalation.{}]]", quote(cat));
                let _ = writeln!(t, "action = {}", quote(action));
                let _ = writeln!(
                    t,
                    "delay = {{ dist = \"exp\", mean = 60 }}   # the stages' times are not in a history: kept"
                );
                let _ = writeln!(
                    t,
                    "compliance = {}   # {} of {} complied here; 95 % CI {}–{}",
                    fmt(share.value),
                    share.hits,
                    share.of,
                    fmt(share.low),
                    fmt(share.high)
                );
            }
        }
        if !self.ladders.is_empty() {
            let _ = writeln!(t);
        }
        for c in &self.crews {
            let key: String = c
                .department
                .chars()
                .map(|ch| {
                    if ch.is_alphanumeric() {
                        ch.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            let _ = writeln!(t, "[crews.{}]", quote(&key));
            let _ = writeln!(t, "department = {}", quote(&c.department));
            let _ = writeln!(t, "count = {}   # from {}", c.count, c.from);
            if let Some((a, b)) = c.shift {
                let _ = writeln!(
                    t,
                    "shift = \"{a:02}:00-{b:02}:00\"   # hours its crews took cases"
                );
            }
        }
        let _ = writeln!(
            t,
            "\n[travel]\nmode = \"straight\"   # not fitted: crews' positions are not in a history\nstraight_speed_kmh = 20"
        );
        t
    }

    fn components_of(&self, class: &str) -> u64 {
        self.components_per_class.get(class).copied().unwrap_or(0)
    }
}

fn note(s: &StepFit) -> String {
    let f = &s.fits[0];
    let others: Vec<String> = s.fits[1..]
        .iter()
        .map(|o| format!("{} ΔAIC {}", o.family.name(), fmt(o.aic - f.aic)))
        .collect();
    format!(
        "n = {}, mean {} min (95 % CI {}–{}), KS {}; {}",
        f.n,
        fmt(s.mean.0),
        fmt(s.mean.1),
        fmt(s.mean.2),
        fmt(f.ks),
        others.join(", ")
    )
}

/// A fit as a scenario duration.
pub fn duration(f: &Fit) -> String {
    let p = &f.params;
    match f.family {
        crate::dist::Family::Fixed => format!("{{ dist = \"fixed\", minutes = {} }}", fmt(p[0])),
        crate::dist::Family::Exp => format!("{{ dist = \"exp\", mean = {} }}", fmt(p[0])),
        crate::dist::Family::Uniform => {
            format!(
                "{{ dist = \"uniform\", min = {}, max = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
        crate::dist::Family::Lognormal => {
            format!(
                "{{ dist = \"lognormal\", mu = {}, sigma = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
        crate::dist::Family::Gamma => {
            format!(
                "{{ dist = \"gamma\", shape = {}, mean = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
    }
}

/// Four significant digits, no exponent for everyday numbers.
fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "nan".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = (4 - 1 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn list(w: &[f64]) -> String {
    w.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(", ")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
