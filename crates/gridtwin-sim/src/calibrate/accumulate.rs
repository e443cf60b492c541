//! The history taken in case by case: counts, profiles and the step durations the
//! fits need whole, in bounded memory (a megacity year is streamed through it).

use super::*;

/// One category's running counts.
#[derive(Default)]
pub(super) struct CategoryAcc {
    pub(super) n: u64,
    pub(super) hours: [f64; 24],
    pub(super) weekdays: [f64; 7],
    /// Cases per local day number.
    pub(super) daily: BTreeMap<i64, f64>,
    pub(super) sources: BTreeMap<String, u64>,
    pub(super) handle: Vec<f64>,
    /// Ladder: actions in order, cases reaching each stage, compliance closures.
    pub(super) actions: Vec<String>,
    pub(super) reached: Vec<u64>,
    pub(super) complied: BTreeMap<String, u64>,
    /// Per stage action: (sum, count) of verification to the compliance check, minutes.
    pub(super) complied_span: BTreeMap<String, (f64, u64)>,
    /// The category table's routing rule and department for it (looked up once).
    pub(super) routing: Option<Routing>,
    pub(super) table_dept: Option<Text>,
}

/// One department's crews as the cases show them.
#[derive(Default)]
pub(super) struct DepartmentAcc {
    /// (counted only: a hash set of the shared ids, no string copied a case)
    pub(super) ids: FxHashSet<Text>,
    /// Per local hour, the crews that took a case in it (over the whole window): the
    /// crews on shift in that hour.
    pub(super) ids_by_hour: Vec<FxHashSet<Text>>,
    pub(super) hours: [u64; 24],
    pub(super) days_with: Vec<BTreeSet<i64>>,
    /// (time, +1 taken / −1 handled), for the most at work at once.
    pub(super) edges: Vec<(i64, i32)>,
}

/// Calibration case by case, in one pass and bounded memory: counts, and the step
/// durations (8 bytes a case and step) that the fits need whole. A megacity year's
/// history is streamed through it.
pub struct Calibrator<'a> {
    pub(super) input: &'a CalibrateInput<'a>,
    pub(super) unused: BTreeMap<String, u64>,
    pub(super) first: i64,
    pub(super) last: i64,
    pub(super) categories: BTreeMap<(String, String), CategoryAcc>,
    /// While adding: by `kind:class` (one look-up a case, without allocating), moved
    /// into `categories` when fitting.
    pub(super) by_key: FxHashMap<String, CategoryAcc>,
    /// The key of the case being added (reused).
    pub(super) key: String,
    pub(super) per_grid: FxHashMap<String, f64>,
    pub(super) events: f64,
    /// verify, dispatch, handle, feedback, check, travel (minutes).
    pub(super) steps: [Vec<f64>; 6],
    pub(super) verified: u64,
    pub(super) not_registered: u64,
    /// Checks made: every failed check is a rework, every passed one closes a case
    /// (crew work and compliance alike), so checks = reworks + cases checked.
    pub(super) checks: u64,
    pub(super) reworks: u64,
    pub(super) dispatched: u64,
    pub(super) extended: u64,
    /// (sorted by name when fitting)
    pub(super) departments: FxHashMap<String, DepartmentAcc>,
    /// Dispatch to arrival, for a history without assignment times (waiting for a
    /// crew included).
    pub(super) dispatch_to_arrival: Vec<f64>,
    pub(super) elsewhere: BTreeMap<(String, String, String), u64>,
    pub(super) delays: BTreeMap<String, Vec<f64>>,
    /// The centre's delay per routing rule (minutes, hand-overs taken off).
    pub(super) by_routing: BTreeMap<Routing, Vec<f64>>,
    /// Territorial category → (forwarded, sent).
    pub(super) forwarded: BTreeMap<String, (u64, u64)>,
    /// Cases open to returns (owner-routed or forwarded) by the returns they had.
    pub(super) returns_hist: Vec<u64>,
    /// One forward and no return: the hand-over's time alone (minutes).
    pub(super) single_hops: Vec<f64>,
    /// (returns, hops, dispute minutes) of cases with returns.
    pub(super) returned: Vec<(u32, u32, f64)>,
    /// Crews' trips per department (the table's), minutes.
    pub(super) trips: BTreeMap<String, Vec<f64>>,
}

pub(super) const STEP_NAMES: [&str; 6] = [
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
}
