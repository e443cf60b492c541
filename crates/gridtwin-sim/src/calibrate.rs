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

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write as _;

use gridtwin_core::Routing;

use crate::dist::{fit_all, gamma_quantile, Fit};
use crate::timeline::{CaseRecord, Text};

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
    /// The routing rule of each category (`kind:MMmm`), from the category table: the
    /// centre's delay is fitted per rule, and the hand-overs where the rule has them.
    pub routing: BTreeMap<String, Routing>,
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
    /// How the count was found: `crew ids by hour` or `most at work at once`.
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
    /// The centre's delay before dispatch per routing rule, where the rule has enough
    /// cases; else the pooled `dispatch` step serves.
    pub dispatch_by_routing: Vec<(Routing, StepFit)>,
    /// The hand-overs (属地 forwarding, 退单 returns, 指定 designation).
    pub hand_overs: HandOvers,
    /// Each ladder stage's delay (mean minutes, cases it rests on), where compliance
    /// closures show it: per category, in stage order.
    pub ladder_delays: BTreeMap<String, Vec<Option<(f64, u64)>>>,
    /// Crews' trip times per department with enough trips (≥ 30): a department with
    /// few crews drives farther than the city's pooled trip says.
    pub travel_by_department: Vec<(String, StepFit)>,
}

/// The hand-overs a history shows.
#[derive(Debug, Clone, Default)]
pub struct HandOvers {
    /// Territorial categories: (category key, cases forwarded, cases sent); a category
    /// the street forwards in most of its cases is not street-capable.
    pub forwarded: Vec<(String, u64, u64)>,
    /// Returns per send-and-return trial (truncated geometric MLE), over owner-routed
    /// and forwarded cases.
    pub return_probability: Option<Share>,
    /// Returns before the centre designates: the most seen, at least the default 2.
    pub designate_after: u32,
    /// One hand-over's time: a family fitted on single forwards, else the mean of all
    /// hops as an exponential (`fits` empty then; the mean in `mean`).
    pub hop: Option<StepFit>,
    /// Designation's own time after the last return: mean minutes, cases.
    pub designated: Option<(f64, u64)>,
}

const DAY: i64 = 86_400;
/// The fewest observations a per-category handling fit needs to choose its own family.
const MIN_PER_CATEGORY: usize = 30;
/// The fewest a small group needs for its own mean on the pooled shape.
const MIN_OWN_SCALE: usize = 5;

/// Fits the history (all of it in memory; [`Calibrator`] takes it case by case).
pub fn calibrate(input: &CalibrateInput) -> Result<Calibration, String> {
    let mut acc = Calibrator::new(input);
    for c in input.cases {
        acc.add(c);
    }
    acc.finish()
}

/// One category's running counts.
#[derive(Default)]
struct CategoryAcc {
    n: u64,
    hours: [f64; 24],
    weekdays: [f64; 7],
    /// Cases per local day number.
    daily: BTreeMap<i64, f64>,
    sources: BTreeMap<String, u64>,
    handle: Vec<f64>,
    /// Ladder: actions in order, cases reaching each stage, compliance closures.
    actions: Vec<String>,
    reached: Vec<u64>,
    complied: BTreeMap<String, u64>,
    /// Per stage action: (sum, count) of verification to the compliance check, minutes.
    complied_span: BTreeMap<String, (f64, u64)>,
    /// The category table's routing rule and department for it (looked up once).
    routing: Option<Routing>,
    table_dept: Option<Text>,
}

/// One department's crews as the cases show them.
#[derive(Default)]
struct DepartmentAcc {
    /// (counted only: a hash set of the shared ids, no string copied a case)
    ids: FxHashSet<Text>,
    /// Per local hour, the crews that took a case in it (over the whole window): the
    /// crews on shift in that hour.
    ids_by_hour: Vec<FxHashSet<Text>>,
    hours: [u64; 24],
    days_with: Vec<BTreeSet<i64>>,
    /// (time, +1 taken / −1 handled), for the most at work at once.
    edges: Vec<(i64, i32)>,
}

/// Calibration case by case, in one pass and bounded memory: counts, and the step
/// durations (8 bytes a case and step) that the fits need whole. A megacity year's
/// history is streamed through it.
pub struct Calibrator<'a> {
    input: &'a CalibrateInput<'a>,
    unused: BTreeMap<String, u64>,
    first: i64,
    last: i64,
    categories: BTreeMap<(String, String), CategoryAcc>,
    /// While adding: by `kind:class` (one look-up a case, without allocating), moved
    /// into `categories` when fitting.
    by_key: FxHashMap<String, CategoryAcc>,
    /// The key of the case being added (reused).
    key: String,
    per_grid: FxHashMap<String, f64>,
    events: f64,
    /// verify, dispatch, handle, feedback, check, travel (minutes).
    steps: [Vec<f64>; 6],
    verified: u64,
    not_registered: u64,
    /// Checks made: every failed check is a rework, every passed one closes a case
    /// (crew work and compliance alike), so checks = reworks + cases checked.
    checks: u64,
    reworks: u64,
    dispatched: u64,
    extended: u64,
    /// (sorted by name when fitting)
    departments: FxHashMap<String, DepartmentAcc>,
    /// Dispatch to arrival, for a history without assignment times (waiting for a
    /// crew included).
    dispatch_to_arrival: Vec<f64>,
    elsewhere: BTreeMap<(String, String, String), u64>,
    delays: BTreeMap<String, Vec<f64>>,
    /// The centre's delay per routing rule (minutes, hand-overs taken off).
    by_routing: BTreeMap<Routing, Vec<f64>>,
    /// Territorial category → (forwarded, sent).
    forwarded: BTreeMap<String, (u64, u64)>,
    /// Cases open to returns (owner-routed or forwarded) by the returns they had.
    returns_hist: Vec<u64>,
    /// One forward and no return: the hand-over's time alone (minutes).
    single_hops: Vec<f64>,
    /// (returns, hops, dispute minutes) of cases with returns.
    returned: Vec<(u32, u32, f64)>,
    /// Crews' trips per department (the table's), minutes.
    trips: BTreeMap<String, Vec<f64>>,
}

const STEP_NAMES: [&str; 6] = [
    "verify", "dispatch", "handle", "feedback", "check", "travel",
];

impl<'a> Calibrator<'a> {
    pub fn new(input: &'a CalibrateInput<'a>) -> Self {
        Calibrator {
            input,
            unused: BTreeMap::new(),
            first: i64::MAX,
            last: i64::MIN,
            categories: BTreeMap::new(),
            by_key: FxHashMap::default(),
            key: String::new(),
            per_grid: Default::default(),
            events: 0.0,
            steps: Default::default(),
            verified: 0,
            not_registered: 0,
            checks: 0,
            reworks: 0,
            dispatched: 0,
            extended: 0,
            departments: FxHashMap::default(),
            dispatch_to_arrival: Vec::new(),
            elsewhere: BTreeMap::new(),
            delays: BTreeMap::new(),
            by_routing: BTreeMap::new(),
            forwarded: BTreeMap::new(),
            returns_hist: Vec::new(),
            single_hops: Vec::new(),
            returned: Vec::new(),
            trips: BTreeMap::new(),
        }
    }

    /// Takes one case in.
    pub fn add(&mut self, c: &CaseRecord) {
        let off = self.input.utc_offset_s;
        let Some(t) = c.intake_at else {
            *self.unused.entry("no intake time".into()).or_default() += 1;
            return;
        };
        if self.input.from.is_some_and(|f| t < f) || self.input.to.is_some_and(|e| t >= e) {
            *self
                .unused
                .entry("intake outside the window".into())
                .or_default() += 1;
            return;
        }
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        let local = t + off;
        let day = local.div_euclid(DAY);
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.push_str(&c.kind);
        key.push(':');
        key.push_str(&c.category);
        if !self.by_key.contains_key(key.as_str()) {
            let acc = CategoryAcc {
                routing: self.input.routing.get(key.as_str()).copied(),
                table_dept: self
                    .input
                    .departments
                    .get(key.as_str())
                    .map(|d| Text::from(d.as_str())),
                ..CategoryAcc::default()
            };
            self.by_key.insert(key.clone(), acc);
        }
        let cat = self.by_key.get_mut(key.as_str()).expect("inserted above");
        let (routing, table_dept) = (cat.routing, cat.table_dept.clone());
        cat.n += 1;
        cat.hours[(local.rem_euclid(DAY) / 3600) as usize] += 1.0;
        // 1970-01-01 was a Thursday: Monday first
        cat.weekdays[((day + 3).rem_euclid(7)) as usize] += 1.0;
        *cat.daily.entry(day).or_default() += 1.0;
        match cat.sources.get_mut(&*c.source) {
            Some(n) => *n += 1,
            None => {
                cat.sources.insert(c.source.to_string(), 1);
            }
        }
        let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 60.0),
            _ => None,
        };
        // step durations: first passes only where a case was reworked or taken off
        // for an emergency (the timeline keeps the last pass's times)
        if c.rework == 0 && c.preempted == 0 {
            let handle = span(c.arrived_at, c.handled_at);
            let spans = [
                span(c.intake_at, c.verified_at),
                // the centre's own dispatch: no ladder, the hand-overs' time taken off
                // (a history that does not record it: cases without hand-overs only)
                if !c.ladder.is_empty() {
                    None
                } else if !c.forwarded && c.returns == 0 {
                    span(c.verified_at, c.dispatched_at)
                } else if c.dispute_s > 0 {
                    span(c.verified_at, c.dispatched_at)
                        .map(|x| x - c.dispute_s as f64 / 60.0)
                        .filter(|x| *x >= 0.0)
                } else {
                    None
                },
                handle,
                span(c.handled_at, c.feedback_at),
                // (from the feedback, or from the handling where a history has none)
                span(c.feedback_at.or(c.handled_at), c.checked_at),
                // the crew's trip: taken (assigned) to on site
                span(c.assigned_at, c.arrived_at),
            ];
            if let (Some(r), Some(x)) = (routing, spans[1]) {
                self.by_routing.entry(r).or_default().push(x);
            }
            if let Some(x) = spans[5] {
                let dept = table_dept.as_deref().unwrap_or(&c.department);
                match self.trips.get_mut(dept) {
                    Some(v) => v.push(x),
                    None => {
                        self.trips.insert(dept.to_string(), vec![x]);
                    }
                }
            }
            for (v, x) in self.steps.iter_mut().zip(spans) {
                if let Some(x) = x {
                    v.push(x);
                }
            }
            // hand-overs, over cases the centre sent on
            if c.ladder.is_empty() && c.dispatched_at.is_some() {
                if routing == Some(Routing::Territory) {
                    if !self.forwarded.contains_key(key.as_str()) {
                        self.forwarded.insert(key.clone(), (0, 0));
                    }
                    let f = self
                        .forwarded
                        .get_mut(key.as_str())
                        .expect("inserted above");
                    f.0 += c.forwarded as u64;
                    f.1 += 1;
                }
                if c.forwarded || routing == Some(Routing::Owner) {
                    let r = c.returns as usize;
                    if self.returns_hist.len() <= r {
                        self.returns_hist.resize(r + 1, 0);
                    }
                    self.returns_hist[r] += 1;
                    let dispute = c.dispute_s as f64 / 60.0;
                    if c.returns == 0 && c.forwarded && c.dispute_s > 0 {
                        self.single_hops.push(dispute);
                    } else if c.returns > 0 && c.dispute_s > 0 {
                        let hops = c.forwarded as u32 + 2 * c.returns;
                        self.returned.push((c.returns, hops, dispute));
                    }
                }
            }
            if let Some(h) = handle {
                cat.handle.push(h);
            }
            if c.assigned_at.is_none() {
                if let Some(x) = span(c.dispatched_at, c.arrived_at) {
                    self.dispatch_to_arrival.push(x);
                }
            }
        }
        // the ladder
        if !c.ladder.is_empty() {
            for (i, a) in c.ladder.split('>').enumerate() {
                if cat.actions.len() <= i {
                    cat.actions.push(a.to_string());
                    cat.reached.push(0);
                }
                cat.reached[i] += 1;
            }
        }
        if let Some(stage) = c.closed_by.strip_prefix("compliance:") {
            *cat.complied.entry(stage.to_string()).or_default() += 1;
            // the stages' delays then the check: verification to the check
            if c.rework == 0 {
                if let Some(x) = span(c.verified_at, c.checked_at) {
                    let e = cat.complied_span.entry(stage.to_string()).or_default();
                    e.0 += x;
                    e.1 += 1;
                }
            }
        }
        // hotspots: events only (component failures happen where the components are)
        if &*c.kind == "event" && !c.grid_code.is_empty() {
            match self.per_grid.get_mut(&*c.grid_code) {
                Some(n) => *n += 1.0,
                None => {
                    self.per_grid.insert(c.grid_code.to_string(), 1.0);
                }
            }
            self.events += 1.0;
        }
        self.verified += c.verified_at.is_some() as u64;
        self.not_registered += (&*c.closed_by == "not_registered") as u64;
        self.checks += c.rework as u64 + c.checked_at.is_some() as u64;
        self.reworks += c.rework as u64;
        self.dispatched += c.dispatched_at.is_some() as u64;
        self.extended += c.extended as u64;
        // crews, counted in the department the category table routes the category to
        let dept: &str = match &table_dept {
            Some(d) => {
                if !c.department.is_empty() && *c.department != **d {
                    *self
                        .elsewhere
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
        if let (false, Some(taken)) = (dept.is_empty(), c.assigned_at.or(c.arrived_at)) {
            if !self.departments.contains_key(dept) {
                self.departments
                    .insert(dept.to_string(), DepartmentAcc::default());
            }
            let d = self.departments.get_mut(dept).expect("inserted above");
            let lt = taken + off;
            let h = (lt.rem_euclid(DAY) / 3600) as usize;
            if !c.crew.is_empty() {
                d.ids.insert(c.crew.clone());
                if d.ids_by_hour.is_empty() {
                    d.ids_by_hour = vec![FxHashSet::default(); 24];
                }
                d.ids_by_hour[h].insert(c.crew.clone());
            }
            d.hours[h] += 1;
            if d.days_with.is_empty() {
                d.days_with = vec![BTreeSet::new(); 24];
            }
            d.days_with[h].insert(lt.div_euclid(DAY));
            if let Some(done) = c.handled_at {
                d.edges.push((taken, 1));
                d.edges.push((done, -1));
            }
        }
        // intake delays by channel, where occurrence is recorded apart from intake
        if t > c.occurred_at {
            let x = (t - c.occurred_at) as f64 / 60.0;
            match self.delays.get_mut(&*c.source) {
                Some(v) => v.push(x),
                None => {
                    self.delays.insert(c.source.to_string(), vec![x]);
                }
            }
        }
        self.key = key;
    }

    /// Fits what was taken in.
    pub fn finish(mut self) -> Result<Calibration, String> {
        for (k, a) in std::mem::take(&mut self.by_key) {
            let (kind, class) = k.split_once(':').unwrap_or(("", &k));
            self.categories
                .insert((kind.to_string(), class.to_string()), a);
        }
        let input = self.input;
        let off = input.utc_offset_s;
        if self.first > self.last {
            return Err(if self.unused.is_empty() {
                "the history has no case".into()
            } else {
                "no case has its intake inside the window (or an intake time at all)".into()
            });
        }
        let from = input
            .from
            .unwrap_or_else(|| (self.first + off).div_euclid(DAY) * DAY - off);
        let to = input
            .to
            .unwrap_or_else(|| ((self.last + off).div_euclid(DAY) + 1) * DAY - off);
        if to <= from {
            return Err(format!("the window is empty: from {from} to {to}"));
        }
        let days = (to - from) as f64 / DAY as f64;
        let n_days = (to - from).div_euclid(DAY).max(1) as usize;
        let first_day = (from + off).div_euclid(DAY);
        // exposure: how many of each weekday the window holds
        let mut weekday_days = [0.0; 7];
        for d in 0..n_days as i64 {
            weekday_days[((first_day + d + 3).rem_euclid(7)) as usize] += 1.0;
        }
        let categories: Vec<CategoryFit> = self
            .categories
            .iter()
            .map(|((kind, class), a)| {
                let (lo, hi) = poisson_interval(a.n);
                let mut weekdays = a.weekdays;
                for (w, e) in weekdays.iter_mut().zip(weekday_days) {
                    *w = if e > 0.0 { *w / e } else { 0.0 };
                }
                let daily: Vec<f64> = (0..n_days as i64)
                    .map(|d| a.daily.get(&(first_day + d)).copied().unwrap_or(0.0))
                    .collect();
                CategoryFit {
                    kind: kind.clone(),
                    class: class.clone(),
                    rate: Rate {
                        count: a.n,
                        per_day: a.n as f64 / days,
                        low: lo / days,
                        high: hi / days,
                    },
                    hour_weights: normalise(a.hours),
                    weekday_weights: normalise(weekdays),
                    trend_per_day: trend(&daily),
                    sources: a.sources.clone(),
                }
            })
            .collect();
        let per_grid: BTreeMap<&str, f64> = self
            .per_grid
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        let total_area: f64 = input.grids.iter().map(|g| g.1).sum();
        let (hotspots, hotspot_variance) = if self.events > 0.0 && total_area > 0.0 {
            eb_hotspots(&input.grids, &per_grid, self.events, total_area)
        } else {
            (BTreeMap::new(), 0.0)
        };
        // (each step's fits on its own thread: a megacity year has millions of values;
        // the results keep the steps' order)
        use rayon::prelude::*;
        let mut kept = Vec::new();
        let mut samples: Vec<(&str, Vec<f64>)> = Vec::new();
        if self.steps[5].len() < 2 && self.dispatch_to_arrival.len() >= 2 {
            kept.push((
                "travel.time".to_string(),
                "the history has no assignment times: fitted from dispatch to arrival, which includes any wait for a crew".to_string(),
            ));
            self.steps[5] = std::mem::take(&mut self.dispatch_to_arrival);
        }
        for (name, xs) in STEP_NAMES.iter().zip(std::mem::take(&mut self.steps)) {
            if xs.len() < 2 {
                kept.push((
                    format!("steps.{name}"),
                    format!(
                        "only {} case(s) show this step: the default is kept",
                        xs.len()
                    ),
                ));
            } else {
                samples.push((name, xs));
            }
        }
        let steps: Vec<StepFit> = samples
            .par_iter()
            .map(|(name, xs)| StepFit {
                step: name.to_string(),
                mean: mean_interval(xs),
                fits: fit_all(xs),
            })
            .collect();
        // a category with enough cases chooses its own family; a rare one keeps the
        // pooled shape on its own mean (waterlogging's 2-hour jobs must not become
        // the city's 40-minute ones for want of 30 cases)
        let pooled_handle = steps
            .iter()
            .find(|s| s.step == "handle")
            .map(|s| &s.fits[0]);
        let wanted: Vec<(String, &Vec<f64>)> = self
            .categories
            .iter()
            .filter(|(_, a)| a.handle.len() >= MIN_OWN_SCALE)
            .map(|((kind, class), a)| (format!("{kind}:{class}"), &a.handle))
            .collect();
        let handle_by_category: Vec<(String, Fit)> = wanted
            .par_iter()
            .filter_map(|(k, xs)| match pooled_handle {
                Some(p) if xs.len() < MIN_PER_CATEGORY => Some((k.clone(), p.rescaled_to(xs))),
                _ => fit_all(xs).into_iter().next().map(|b| (k.clone(), b)),
            })
            .collect();
        let ladders = self
            .categories
            .iter()
            .filter(|(_, a)| !a.actions.is_empty())
            .map(|((kind, class), a)| {
                let stages = a
                    .actions
                    .iter()
                    .zip(&a.reached)
                    .map(|(act, &reached)| {
                        let complied = a.complied.get(act).copied().unwrap_or(0);
                        (act.clone(), wilson(complied, reached))
                    })
                    .collect();
                (format!("{kind}:{class}"), stages)
            })
            .collect();
        let mut crews = Vec::new();
        let departments: BTreeMap<String, DepartmentAcc> =
            std::mem::take(&mut self.departments).into_iter().collect();
        for (dept, mut d) in departments {
            if !d.ids.is_empty() {
                // Crews on shift per hour (the crews that took cases in it), as pools:
                // level k of the hourly profile is one crew on the hours with at least
                // k; equal hour ranges make one pool (3 at night and 8 by day: 3 round
                // the clock and 5 by day).
                let n: Vec<usize> = d.ids_by_hour.iter().map(|s| s.len()).collect();
                let mut pools: Vec<(Option<(u32, u32)>, u32)> = Vec::new();
                for k in 1..=n.iter().copied().max().unwrap_or(0) {
                    let hours: Vec<u32> = (0..24).filter(|&h| n[h as usize] >= k).collect();
                    let shift = match (hours.first(), hours.last()) {
                        (Some(&a), Some(&b)) if hours.len() < 24 => Some((a, b + 1)),
                        _ => None,
                    };
                    match pools.iter_mut().find(|p| p.0 == shift) {
                        Some(p) => p.1 += 1,
                        None => pools.push((shift, 1)),
                    }
                }
                for (shift, count) in pools {
                    crews.push(CrewFit {
                        department: dept.clone(),
                        count,
                        from: "crew ids by hour",
                        shift,
                    });
                }
                continue;
            }
            let (count, from_what) = {
                d.edges.sort();
                let (mut now, mut most) = (0i32, 0i32);
                for (_, e) in &d.edges {
                    now += e;
                    most = most.max(now);
                }
                (most.max(1) as u32, "most at work at once")
            };
            // An hour is on shift where crews took cases in it: at least 1 % of them,
            // or on at least a fifth of the days (night hours with few cases, worked
            // every night, are still on).
            let total: u64 = d.hours.iter().sum();
            let busy: Vec<u32> = (0..24)
                .filter(|&h| {
                    d.hours[h as usize] * 100 >= total.max(1)
                        || d.days_with.get(h as usize).map_or(0, |s| s.len()) as f64
                            >= 0.2 * n_days as f64
                })
                .collect();
            let shift = match (busy.first(), busy.last()) {
                (Some(&a), Some(&b)) if busy.len() < 22 && b >= a => Some((a, b + 1)),
                _ => None,
            };
            crews.push(CrewFit {
                department: dept,
                count: count.max(1),
                from: from_what,
                shift,
            });
        }
        for ((class, given, table), n) in &self.elsewhere {
            kept.push((
                format!("department of {class}"),
                format!(
                    "the history sends {n} of its cases to {given}, the category table to {table}: the scenario follows the table (its crews are counted there)"
                ),
            ));
        }
        // departments whose cases the history has but whose crews it does not show
        for (kind, class) in self.categories.keys() {
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
        let dispatch_by_routing: Vec<(Routing, StepFit)> = std::mem::take(&mut self.by_routing)
            .into_iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|(_, xs)| xs.len() >= MIN_PER_CATEGORY)
            .map(|(r, xs)| {
                (
                    r,
                    StepFit {
                        step: format!("dispatch ({})", routing_name(r)),
                        mean: mean_interval(&xs),
                        fits: fit_all(&xs),
                    },
                )
            })
            .collect();
        // (a department with few trips: the pooled shape on its own mean)
        let pooled_trip = steps
            .iter()
            .find(|s| s.step == "travel")
            .map(|s| s.fits[0].clone());
        let travel_by_department: Vec<(String, StepFit)> = std::mem::take(&mut self.trips)
            .into_iter()
            .filter(|(_, xs)| xs.len() >= MIN_OWN_SCALE)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(d, xs)| {
                let fits = match &pooled_trip {
                    Some(p) if xs.len() < MIN_PER_CATEGORY => vec![p.rescaled_to(&xs)],
                    _ => fit_all(&xs),
                };
                let fit = StepFit {
                    step: format!("travel ({d})"),
                    mean: mean_interval(&xs),
                    fits,
                };
                (d, fit)
            })
            .collect();
        let hand_overs = self.hand_overs();
        // Each ladder stage's mean delay by deconvolution: a closure by compliance at
        // stage k took the stages up to k, then the check.
        let check_mean = steps.iter().find(|s| s.step == "check").map(|s| s.mean.0);
        let ladder_delays = self
            .categories
            .iter()
            .filter(|(_, a)| !a.actions.is_empty())
            .map(|((kind, class), a)| {
                let mut before = 0.0;
                let mut known = true;
                let delays = a
                    .actions
                    .iter()
                    .map(|act| {
                        let (sum, n) = a.complied_span.get(act).copied().unwrap_or((0.0, 0));
                        let d = match check_mean {
                            Some(cm) if known && n >= 5 => Some(sum / n as f64 - cm - before),
                            _ => None,
                        };
                        match d {
                            Some(d) if d > 0.0 => {
                                before += d;
                                Some((d, n))
                            }
                            _ => {
                                known = false;
                                None
                            }
                        }
                    })
                    .collect();
                (format!("{kind}:{class}"), delays)
            })
            .collect();
        let intake_delays = std::mem::take(&mut self.delays)
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
            not_registered: wilson(self.not_registered, self.verified),
            check_failure: wilson(self.reworks, self.checks.max(self.reworks)),
            extension: wilson(self.extended, self.dispatched),
            crews,
            unused: self.unused,
            kept,
            components_per_class: input.components_per_class.clone(),
            utc_offset_s: off,
            ladders,
            intake_delays,
            dispatch_by_routing,
            hand_overs,
            ladder_delays,
            travel_by_department,
        })
    }

    /// The hand-overs: forwarding per territorial category, returns as a truncated
    /// geometric (each send is a trial until the centre designates), a hop's time.
    fn hand_overs(&mut self) -> HandOvers {
        let forwarded = self
            .forwarded
            .iter()
            .map(|(k, &(f, n))| (k.clone(), f, n))
            .collect();
        let most = self.returns_hist.len().saturating_sub(1) as u32;
        let designate_after = most.max(2);
        let (mut hits, mut trials) = (0u64, 0u64);
        for (r, &n) in self.returns_hist.iter().enumerate() {
            hits += r as u64 * n;
            trials += (r as u64 + (r < designate_after as usize) as u64) * n;
        }
        let return_probability = (trials > 0).then(|| wilson(hits, trials));
        let hop = if self.single_hops.len() >= MIN_PER_CATEGORY {
            Some(StepFit {
                step: "hop".into(),
                mean: mean_interval(&self.single_hops),
                fits: fit_all(&self.single_hops),
            })
        } else {
            // the mean of every hop (returns below the designation only)
            let (mut sum, mut hops) = (
                self.single_hops.iter().sum::<f64>(),
                self.single_hops.len() as f64,
            );
            for &(r, h, d) in &self.returned {
                if r < designate_after {
                    sum += d;
                    hops += h as f64;
                }
            }
            (hops > 0.0).then(|| StepFit {
                step: "hop".into(),
                mean: (sum / hops, f64::NAN, f64::NAN),
                fits: Vec::new(),
            })
        };
        let designated = hop.as_ref().and_then(|h| {
            let extra: Vec<f64> = self
                .returned
                .iter()
                .filter(|r| r.0 >= designate_after)
                .map(|&(_, hops, d)| d - hops as f64 * h.mean.0)
                .collect();
            let m = extra.iter().sum::<f64>() / extra.len().max(1) as f64;
            (!extra.is_empty() && m > 0.0).then_some((m, extra.len() as u64))
        });
        HandOvers {
            forwarded,
            return_probability,
            designate_after,
            hop,
            designated,
        }
    }
}

fn routing_name(r: Routing) -> &'static str {
    match r {
        Routing::Owner => "owner",
        Routing::Territory => "territory",
        Routing::Negotiated => "negotiated",
        Routing::Designated => "designated",
    }
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
                    "{} = {}   # n = {}, KS {}{}",
                    quote(k),
                    duration(f),
                    f.n,
                    fmt(f.ks),
                    if f.aic.is_nan() {
                        "; the city's shape on its own mean (too few for a family of its own)"
                    } else {
                        ""
                    }
                );
            }
        }
        self.write_dispatch(&mut t);
        for (cat, stages) in &self.ladders {
            let delays = self.ladder_delays.get(cat);
            for (i, (action, share)) in stages.iter().enumerate() {
                let _ = writeln!(t, "[[escalation.{}]]", quote(cat));
                let _ = writeln!(t, "action = {}", quote(action));
                match delays.and_then(|d| d.get(i).copied().flatten()) {
                    Some((mean, n)) => {
                        let _ = writeln!(
                            t,
                            "delay = {{ dist = \"exp\", mean = {} }}   # mean from {n} closures by compliance here (verification to check, less the check and the stages before); the family is not seen",
                            fmt(mean)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "delay = {{ dist = \"exp\", mean = 60 }}   # too few closures by compliance here to tell: kept"
                        );
                    }
                }
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
        let mut used: BTreeSet<String> = BTreeSet::new();
        for c in &self.crews {
            let base: String = c
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
            // (a department with pools on several shifts: one key each)
            let mut key = base.clone();
            let mut i = 2;
            while !used.insert(key.clone()) {
                key = format!("{base}_{i}");
                i += 1;
            }
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
        match step("travel") {
            Some(s) => {
                let _ = writeln!(
                    t,
                    "\n[travel]\nmode = \"drawn\"   # a history has trip times, not crews' positions\ntime = {}   # {}",
                    duration(&s.fits[0]),
                    note(s)
                );
                if !self.travel_by_department.is_empty() {
                    let _ = writeln!(t, "[travel.time_by_department]");
                    for (d, s) in &self.travel_by_department {
                        let _ =
                            writeln!(t, "{} = {}   # {}", quote(d), duration(&s.fits[0]), note(s));
                    }
                }
            }
            None => {
                let _ = writeln!(
                    t,
                    "\n[travel]\nmode = \"straight\"   # not in the history (no assigned and arrival times): kept\nstraight_speed_kmh = 20"
                );
            }
        }
        t
    }

    /// `[dispatch]`: the centre's delay per routing rule, and the hand-overs.
    fn write_dispatch(&self, t: &mut String) {
        let pooled = self.steps.iter().find(|s| s.step == "dispatch");
        let by = |r: Routing| {
            self.dispatch_by_routing
                .iter()
                .find(|(x, _)| *x == r)
                .map(|(_, s)| s)
        };
        let _ = writeln!(t, "\n[dispatch]");
        for (r, default) in [
            (Routing::Owner, 20.0),
            (Routing::Territory, 10.0),
            (Routing::Negotiated, 240.0),
            (Routing::Designated, 60.0),
        ] {
            let name = routing_name(r);
            let line = match (by(r), pooled) {
                (Some(s), _) => format!("{}   # {}", duration(&s.fits[0]), note(s)),
                (None, Some(s)) if matches!(r, Routing::Owner | Routing::Territory) => format!(
                    "{}   # too few {name}-routed cases: all routes pooled, {}",
                    duration(&s.fits[0]),
                    note(s)
                ),
                _ => match (r, self.hand_overs.designated) {
                    (Routing::Designated, Some((m, n))) => format!(
                        "{{ dist = \"exp\", mean = {} }}   # mean from {n} designations after returns (their hand-overs taken off)",
                        fmt(m)
                    ),
                    _ => format!(
                        "{{ dist = \"exp\", mean = {} }}   # not in the history: kept",
                        fmt(default)
                    ),
                },
            };
            let _ = writeln!(t, "{name}_delay = {line}");
        }
        let h = &self.hand_overs;
        // (a history without forwarding — or without the column — leaves the default:
        // streets handle every territorial category)
        if h.forwarded.iter().any(|(_, f, _)| *f > 0) {
            let capable: Vec<String> = h
                .forwarded
                .iter()
                .filter(|(_, f, n)| 2 * f < *n)
                .map(|(k, _, _)| quote(k))
                .collect();
            let forwarded: Vec<String> = h
                .forwarded
                .iter()
                .map(|(k, f, n)| format!("{k} {f} of {n}"))
                .collect();
            let _ = writeln!(
                t,
                "street_capable = [{}]   # territorial categories the streets kept (forwarded: {})",
                capable.join(", "),
                forwarded.join(", ")
            );
        }
        if let Some(p) = &h.return_probability {
            let _ = writeln!(
                t,
                "return_probability = {}   # {} returns in {} sends; 95 % CI {}–{}",
                fmt(p.value),
                p.hits,
                p.of,
                fmt(p.low),
                fmt(p.high)
            );
            let _ = writeln!(
                t,
                "designate_after = {}   # the most returns a case had (at least 2)",
                h.designate_after
            );
        }
        match &h.hop {
            Some(s) if !s.fits.is_empty() => {
                let _ = writeln!(t, "hop_delay = {}   # {}", duration(&s.fits[0]), note(s));
            }
            Some(s) => {
                let _ = writeln!(
                    t,
                    "hop_delay = {{ dist = \"exp\", mean = {} }}   # mean of the hand-overs of returned cases (too few single forwards for a family)",
                    fmt(s.mean.0)
                );
            }
            None => {}
        }
        let _ = writeln!(t);
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
    let how = if f.aic.is_nan() {
        "the city's shape on its own mean (too few for a family of its own)".to_string()
    } else {
        others.join(", ")
    };
    format!(
        "n = {}, mean {} min (95 % CI {}–{}), KS {}; {how}",
        f.n,
        fmt(s.mean.0),
        fmt(s.mean.1),
        fmt(s.mean.2),
        fmt(f.ks),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Three crews round the clock and five more by day (08–20): the crews on shift
    /// per hour come back as two pools.
    #[test]
    fn crews_per_hour_become_pools() {
        let mut cases = Vec::new();
        let t0 = 1_740_787_200; // 2025-03-01T00:00:00Z
        for day in 0..14i64 {
            for h in 0..24i64 {
                let crews: Vec<String> = (1..=3)
                    .map(|i| format!("N{i}"))
                    .chain(
                        (1..=5)
                            .filter(|_| (8..20).contains(&h))
                            .map(|i| format!("D{i}")),
                    )
                    .collect();
                for crew in crews {
                    let t = t0 + day * DAY + h * 3600 + 60;
                    cases.push(CaseRecord {
                        case_id: format!("{day}-{h}-{crew}"),
                        kind: "event".into(),
                        category: "0101".into(),
                        department: "Sanitation Department".into(),
                        intake_at: Some(t),
                        occurred_at: t,
                        assigned_at: Some(t),
                        arrived_at: Some(t + 60),
                        handled_at: Some(t + 600),
                        crew: crew.into(),
                        passes: 1,
                        ..CaseRecord::default()
                    });
                }
            }
        }
        let input = CalibrateInput {
            cases: &cases,
            grids: vec![],
            components_per_class: BTreeMap::new(),
            departments: BTreeMap::new(),
            routing: BTreeMap::new(),
            from: None,
            to: None,
            utc_offset_s: 0,
        };
        let fit = calibrate(&input).unwrap();
        let mut pools: Vec<(u32, Option<(u32, u32)>)> =
            fit.crews.iter().map(|c| (c.count, c.shift)).collect();
        pools.sort();
        assert_eq!(pools, vec![(3, None), (5, Some((8, 20)))]);
    }
}
