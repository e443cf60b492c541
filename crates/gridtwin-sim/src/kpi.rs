//! Key performance indicators, computed from the case timeline alone — never from
//! counters kept beside it — and their spread across replications.

use std::collections::{BTreeMap, HashMap};

use gridtwin_core::coord::haversine_m;

use crate::timeline::{CaseRecord, CrewRecord};

/// What the indicators read from one case of a timeline: implemented by the written
/// record ([`CaseRecord`]) and by the simulation's compact in-memory case, so a
/// megacity year's indicators need no text records in memory.
pub trait CaseTimes {
    fn occurred_at(&self) -> i64;
    fn intake_at(&self) -> Option<i64>;
    fn dispatched_at(&self) -> Option<i64>;
    fn assigned_at(&self) -> Option<i64>;
    fn arrived_at(&self) -> Option<i64>;
    fn closed_at(&self) -> Option<i64>;
    fn deadline(&self) -> Option<i64>;
    fn escalated(&self) -> bool;
    /// Closed by the party's compliance on the escalation ladder (no crew sent).
    fn closed_by_compliance(&self) -> bool;
    fn category(&self) -> &str;
    fn lon_lat(&self) -> (f64, f64);
    /// Seconds a crew's trip to the case lost at signals to other emergency vehicles.
    fn signal_delay_s(&self) -> i64 {
        0
    }
    /// Seconds a crew waited for a road to reopen to a place cut off by closures.
    fn cut_off_s(&self) -> i64 {
        0
    }
    fn verified_at(&self) -> Option<i64> {
        None
    }
    fn handled_at(&self) -> Option<i64> {
        None
    }
    fn checked_at(&self) -> Option<i64> {
        None
    }
    /// Declined at registration (不予立案).
    fn not_registered(&self) -> bool {
        false
    }
    /// The department cases of this category go to ("" where unknown).
    fn department(&self) -> &str {
        ""
    }
    /// Timed on natural hours (the emergencies).
    fn natural_time(&self) -> bool {
        false
    }
    /// When the case turns amber (黄灯), and the step deadlines.
    fn amber_at(&self) -> Option<i64> {
        None
    }
    fn verify_due(&self) -> Option<i64> {
        None
    }
    fn dispatch_due(&self) -> Option<i64> {
        None
    }
    fn handle_due(&self) -> Option<i64> {
        None
    }
    fn check_due(&self) -> Option<i64> {
        None
    }
    /// Checks that failed (返工).
    fn rework(&self) -> u32 {
        0
    }
    /// Seconds waited in the department's queue over every pass, where recorded.
    fn queue_wait_s(&self) -> Option<i64> {
        None
    }
    /// Times a crew was taken off the case for an emergency.
    fn preempted(&self) -> u32 {
        0
    }
    /// The hotline call, where a call centre is modelled: (came in, answered, hung up).
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        None
    }
    /// Priority at arrival (0 routine, 2 a hazard's emergency, 3 life-threatening).
    fn arrival_priority(&self) -> u8 {
        0
    }
    /// Went through an escalation ladder: its dispatch waited by policy, so its
    /// response is not a response time.
    fn laddered(&self) -> bool {
        false
    }
    /// Its time limit was extended (延期).
    fn extended(&self) -> bool {
        false
    }
    /// When a crew first reached it (the response), by default the recorded arrival.
    fn first_arrived_at(&self) -> Option<i64> {
        self.arrived_at()
    }
    /// Times a crew took it from the queue, where recorded.
    fn passes(&self) -> Option<u32> {
        None
    }
}

impl CaseTimes for CaseRecord {
    fn occurred_at(&self) -> i64 {
        self.occurred_at
    }
    fn intake_at(&self) -> Option<i64> {
        self.intake_at
    }
    fn dispatched_at(&self) -> Option<i64> {
        self.dispatched_at
    }
    fn assigned_at(&self) -> Option<i64> {
        self.assigned_at
    }
    fn arrived_at(&self) -> Option<i64> {
        self.arrived_at
    }
    fn closed_at(&self) -> Option<i64> {
        self.closed_at
    }
    fn deadline(&self) -> Option<i64> {
        self.deadline
    }
    fn escalated(&self) -> bool {
        self.escalated
    }
    fn closed_by_compliance(&self) -> bool {
        self.closed_by.starts_with("compliance")
    }
    fn category(&self) -> &str {
        &self.category
    }
    fn lon_lat(&self) -> (f64, f64) {
        (self.lon, self.lat)
    }
    fn signal_delay_s(&self) -> i64 {
        self.signal_delay_s
    }
    fn cut_off_s(&self) -> i64 {
        self.cut_off_s
    }
    fn verified_at(&self) -> Option<i64> {
        self.verified_at
    }
    fn handled_at(&self) -> Option<i64> {
        self.handled_at
    }
    fn checked_at(&self) -> Option<i64> {
        self.checked_at
    }
    fn not_registered(&self) -> bool {
        &*self.closed_by == "not_registered"
    }
    fn department(&self) -> &str {
        &self.department
    }
    fn natural_time(&self) -> bool {
        &*self.time_basis == "natural"
    }
    fn amber_at(&self) -> Option<i64> {
        self.amber_at
    }
    fn verify_due(&self) -> Option<i64> {
        self.verify_due
    }
    fn dispatch_due(&self) -> Option<i64> {
        self.dispatch_due
    }
    fn handle_due(&self) -> Option<i64> {
        self.handle_due
    }
    fn check_due(&self) -> Option<i64> {
        self.check_due
    }
    fn rework(&self) -> u32 {
        self.rework
    }
    fn queue_wait_s(&self) -> Option<i64> {
        self.queue_wait_s
    }
    fn preempted(&self) -> u32 {
        self.preempted
    }
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        Some((self.call_at?, self.call_answered_at, self.call_hung_up_at))
    }
    fn arrival_priority(&self) -> u8 {
        self.priority
    }
    fn laddered(&self) -> bool {
        !self.ladder.is_empty()
    }
    fn extended(&self) -> bool {
        self.extended
    }
    fn first_arrived_at(&self) -> Option<i64> {
        self.first_arrived_at.or(self.arrived_at)
    }
    fn passes(&self) -> Option<u32> {
        // (0 in a history that does not record it: counted from its other columns)
        (self.passes > 0).then_some(self.passes)
    }
}

/// The rates the composite index (综合指标值) may weigh, and whether higher is better
/// (a lower-is-better rate enters as 1 − rate).
pub const COMPOSITE_RATES: &[(&str, bool)] = &[
    ("registration_rate", true),
    ("verify_on_time_rate", true),
    ("dispatch_on_time_rate", true),
    ("handle_on_time_rate", true),
    ("check_on_time_rate", true),
    ("on_time_closure_rate", true),
    ("emergency_on_time_rate", true),
    ("rework_rate", false),
];

/// The composite index: Σ wᵢ·scoreᵢ / Σ wᵢ over the weighted rates that have a value
/// (a rate with nothing due drops out and the rest are renormalised; NaN if none has).
pub fn composite(values: &BTreeMap<String, f64>, weights: &BTreeMap<String, f64>) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (name, &w) in weights {
        let Some(&(_, higher)) = COMPOSITE_RATES.iter().find(|r| r.0 == name) else {
            continue;
        };
        let Some(&v) = values.get(name).filter(|v| v.is_finite()) else {
            continue;
        };
        num += w * if higher { v } else { 1.0 - v };
        den += w;
    }
    if den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// Share of cases of each arrival priority reached on site within the priority's
/// target (minutes from intake), on the due basis: of the registered, unladdered cases
/// whose target time fell inside the window, those a crew reached by then — a case
/// not reached at all counts as a miss, not as a missing value. (priority, share).
pub fn response_within_target<C: CaseTimes>(
    cases: &[C],
    start: i64,
    end: i64,
    targets: &BTreeMap<u8, f64>,
) -> Vec<(u8, f64)> {
    targets
        .iter()
        .map(|(&p, &minutes)| {
            let (mut n, mut ok) = (0usize, 0usize);
            for c in cases {
                if c.arrival_priority() != p || c.not_registered() || c.laddered() {
                    continue;
                }
                let Some(i) = c.intake_at() else { continue };
                let due = i + (minutes * 60.0).round() as i64;
                if due < start || due >= end || c.closed_by_compliance() {
                    continue;
                }
                n += 1;
                ok += c.first_arrived_at().is_some_and(|a| a <= due) as usize;
            }
            (p, rate(ok, n))
        })
        .collect()
}

/// Settings the KPIs need besides the timeline.
#[derive(Debug, Clone, Copy)]
pub struct KpiSettings {
    pub start: i64,
    pub end: i64,
    pub sample_secs: i64,
    pub repeat_radius_m: f64,
    pub repeat_window_secs: i64,
}

/// One replication's indicators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    /// Scalar indicators by name (stable order).
    pub values: BTreeMap<String, f64>,
    /// Open cases at each sample time: (time, count).
    pub backlog: Vec<(i64, u32)>,
    /// Open cases at each sample time of the discarded warm-up (empty without one):
    /// with `backlog`, the series a Welch plot averages.
    pub warmup_backlog: Vec<(i64, u32)>,
}

/// Open cases (taken in, not yet closed) at each sample time `from, from + step, …`
/// before `to`, by a sweep over intakes and closures in time order.
pub fn backlog_series<C: CaseTimes>(cases: &[C], from: i64, to: i64, step: i64) -> Vec<(i64, u32)> {
    let mut changes: Vec<(i64, i32)> = Vec::with_capacity(cases.len() * 2);
    for c in cases {
        if let Some(i) = c.intake_at() {
            changes.push((i, 1));
            if let Some(x) = c.closed_at() {
                changes.push((x, -1));
            }
        }
    }
    changes.sort_unstable();
    let mut out = Vec::new();
    let (mut open, mut next) = (0i64, 0usize);
    let mut t = from;
    while t < to {
        // open at t: intake <= t and (closed > t)
        while next < changes.len() && changes[next].0 <= t {
            open += changes[next].1 as i64;
            next += 1;
        }
        out.push((t, open.max(0) as u32));
        t += step.max(1);
    }
    out
}

/// Welch's method for the warm-up: the mean over replications of each sample, and its
/// centred moving average over `2w + 1` samples (shrinking to `2i + 1` for the first
/// samples, as Welch does): (sample index, mean, moving average).
pub fn welch(series: &[Vec<u32>], w: usize) -> Vec<(usize, f64, f64)> {
    let n = series.iter().map(|s| s.len()).min().unwrap_or(0);
    let reps = series.len().max(1) as f64;
    let mean: Vec<f64> = (0..n)
        .map(|i| series.iter().map(|s| s[i] as f64).sum::<f64>() / reps)
        .collect();
    (0..n)
        .map(|i| {
            let h = i.min(w).min(n - 1 - i);
            let m = mean[i - h..=i + h].iter().sum::<f64>() / (2 * h + 1) as f64;
            (i, mean[i], m)
        })
        .collect()
}

/// Nearest-rank quantile of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Nearest-rank quantiles of unsorted values by selection (O(n), the same values as
/// [`quantile`] of the sorted values); `qs` ascending.
pub fn quantiles(v: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut out = Vec::with_capacity(qs.len());
    let mut from = 0;
    for &q in qs {
        if n == 0 {
            out.push(f64::NAN);
            continue;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        // earlier selections left everything below `from` no greater than v[from..]
        let rank_in = rank.max(from);
        let (_, x, _) = v[from..].select_nth_unstable_by(rank_in - from, |a, b| a.total_cmp(b));
        out.push(*x);
        from = rank_in;
    }
    out
}

/// Step spans (unsorted) between two times of each case that has both.
fn spans<C: CaseTimes>(
    cases: &[&C],
    from: impl Fn(&C) -> Option<i64>,
    to: impl Fn(&C) -> Option<i64>,
    unit: f64,
) -> Vec<f64> {
    cases
        .iter()
        .filter_map(|&c| Some((to(c)? - from(c)?) as f64 / unit))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Computes the indicators of one replication.
pub fn compute<C: CaseTimes + Sync>(cases: &[C], crews: &[CrewRecord], s: KpiSettings) -> Kpis {
    // The repeat search is the longest part on a large timeline: beside the rest.
    let (repeat_n, mut out) = rayon::join(
        || repeats(cases, s.repeat_radius_m, s.repeat_window_secs),
        || indicators(cases, crews, s),
    );
    out.values
        .insert("repeat_incidents".into(), repeat_n as f64);
    out
}

/// A share `n / of`, NaN when nothing was due.
fn rate(n: usize, of: usize) -> f64 {
    if of > 0 {
        n as f64 / of as f64
    } else {
        f64::NAN
    }
}

/// On-time rate of a step on the due basis: of the cases whose step deadline fell
/// inside the window (done or not), the share done by it.
fn step_on_time<C: CaseTimes>(
    cases: &[&C],
    s: &KpiSettings,
    due: impl Fn(&C) -> Option<i64>,
    done: impl Fn(&C) -> Option<i64>,
) -> f64 {
    let mut n = 0;
    let mut on_time = 0;
    for &c in cases {
        if let Some(d) = due(c).filter(|&d| d >= s.start && d < s.end) {
            n += 1;
            on_time += done(c).is_some_and(|x| x <= d) as usize;
        }
    }
    rate(on_time, n)
}

/// Every indicator but the repeat count.
///
/// Flow indicators count the cases taken in inside the window `[start, end)` (cases
/// of a discarded warm-up are left out); rates of time limits are on the due basis
/// (应结案): the cases whose deadline fell inside the window, closed or not — a case
/// still open past its deadline counts against the rate, it does not drop out.
fn indicators<C: CaseTimes>(cases: &[C], crews: &[CrewRecord], s: KpiSettings) -> Kpis {
    let mut k = BTreeMap::new();
    let window = |t: i64| t >= s.start && t < s.end;
    let taken: Vec<&C> = cases
        .iter()
        .filter(|c| c.intake_at().is_some_and(window))
        .collect();
    // (a case may close after the window's end in a history that runs on)
    let closed_by_end = |c: &C| c.closed_at().is_some_and(|x| x < s.end);
    let closed = taken.iter().filter(|c| closed_by_end(c)).count();
    let registered: Vec<&C> = taken
        .iter()
        .filter(|c| !c.not_registered())
        .copied()
        .collect();
    let duration_h = (s.end - s.start) as f64 / 3600.0;
    k.insert(
        "cases_occurred".into(),
        cases.iter().filter(|c| window(c.occurred_at())).count() as f64,
    );
    k.insert("cases_taken_in".into(), taken.len() as f64);
    k.insert("cases_closed".into(), closed as f64);
    // every case taken in before the end (warm-up too) and not closed by then
    let open_at_end: Vec<&C> = cases
        .iter()
        .filter(|c| c.intake_at().is_some_and(|i| i < s.end) && !closed_by_end(c))
        .collect();
    k.insert("cases_open_at_end".into(), open_at_end.len() as f64);
    k.insert(
        "open_overdue_at_end".into(),
        open_at_end
            .iter()
            .filter(|c| !c.not_registered() && c.deadline().is_some_and(|d| d < s.end))
            .count() as f64,
    );
    // 立案率: reports registered as cases
    k.insert(
        "registration_rate".into(),
        rate(registered.len(), taken.len()),
    );

    let mut discovery = spans(&taken, |c| Some(c.occurred_at()), |c| c.intake_at(), 60.0);
    k.insert("discovery_delay_mean_min".into(), mean(&discovery));
    let q = quantiles(&mut discovery, &[0.9]);
    k.insert("discovery_delay_p90_min".into(), q[0]);
    let mut dispatch = spans(&registered, |c| c.intake_at(), |c| c.dispatched_at(), 60.0);
    let q = quantiles(&mut dispatch, &[0.5, 0.9]);
    k.insert("dispatch_delay_p50_min".into(), q[0]);
    k.insert("dispatch_delay_p90_min".into(), q[1]);
    // Crew wait per pass in the queue (a reworked or pre-empted case waits again);
    // a history without the recorded waits gives dispatch → assignment.
    let (mut wait_s, mut passes) = (0i64, 0u64);
    for c in &registered {
        match c.queue_wait_s() {
            Some(w) => {
                wait_s += w;
                passes += c
                    .passes()
                    .unwrap_or(c.preempted() + c.rework() + c.assigned_at().is_some() as u32)
                    as u64;
            }
            None => {
                if let (Some(d), Some(a)) = (c.dispatched_at(), c.assigned_at()) {
                    wait_s += a - d;
                    passes += 1;
                }
            }
        }
    }
    k.insert(
        "crew_wait_mean_min".into(),
        if passes > 0 {
            wait_s as f64 / 60.0 / passes as f64
        } else {
            f64::NAN
        },
    );
    // (a laddered case's dispatch waited by policy: not a response)
    let responding: Vec<&C> = registered
        .iter()
        .filter(|c| !c.laddered())
        .copied()
        .collect();
    let mut response = spans(
        &responding,
        |c| c.intake_at(),
        |c| c.first_arrived_at(),
        60.0,
    );
    let q = quantiles(&mut response, &[0.5, 0.9]);
    k.insert("response_p50_min".into(), q[0]);
    k.insert("response_p90_min".into(), q[1]);
    let mut close = spans(&registered, |c| c.intake_at(), |c| c.closed_at(), 3600.0);
    let q = quantiles(&mut close, &[0.5, 0.9]);
    k.insert("close_time_p50_h".into(), q[0]);
    k.insert("close_time_p90_h".into(), q[1]);

    // 按期结案率 on the due basis (应结案), over every registered case due in the window
    // (those taken in during a warm-up too: they fall due here)
    let due: Vec<&C> = cases
        .iter()
        .filter(|c| !c.not_registered() && c.deadline().is_some_and(window))
        .collect();
    let on_time = |c: &C| matches!((c.closed_at(), c.deadline()), (Some(a), Some(d)) if a <= d);
    let due_on_time = due.iter().filter(|c| on_time(c)).count();
    k.insert("cases_due".into(), due.len() as f64);
    k.insert("on_time_closure_rate".into(), rate(due_on_time, due.len()));
    // 督办: cases past their deadline while open, which the centre supervises
    k.insert("overdue".into(), (due.len() - due_on_time) as f64);
    let emergencies: Vec<&C> = due.iter().filter(|c| c.natural_time()).copied().collect();
    k.insert(
        "emergency_on_time_rate".into(),
        rate(
            emergencies.iter().filter(|c| on_time(c)).count(),
            emergencies.len(),
        ),
    );
    // 黄灯: cases still open when they turned amber
    k.insert(
        "amber_warnings".into(),
        registered
            .iter()
            .filter(|c| {
                c.amber_at()
                    .is_some_and(|a| a < s.end && c.closed_at().is_none_or(|x| x > a))
            })
            .count() as f64,
    );
    // the seeds' step indicators: 按时核实率, 派遣, 按期处置率 (timed from dispatch),
    // 按时核查率
    let all: Vec<&C> = cases.iter().collect();
    k.insert(
        "verify_on_time_rate".into(),
        step_on_time(&all, &s, |c| c.verify_due(), |c| c.verified_at()),
    );
    k.insert(
        "dispatch_on_time_rate".into(),
        step_on_time(&all, &s, |c| c.dispatch_due(), |c| c.dispatched_at()),
    );
    k.insert(
        "handle_on_time_rate".into(),
        step_on_time(&all, &s, |c| c.handle_due(), |c| c.handled_at()),
    );
    k.insert(
        "check_on_time_rate".into(),
        step_on_time(&all, &s, |c| c.check_due(), |c| c.checked_at()),
    );
    // 延期率: registered cases whose time limit was extended
    k.insert(
        "extension_rate".into(),
        rate(
            registered.iter().filter(|c| c.extended()).count(),
            registered.len(),
        ),
    );
    // 返工率: checks that found the problem not solved, of all checks made (each
    // failed check, and the check that closed the case)
    let failed: u64 = taken.iter().map(|c| c.rework() as u64).sum();
    let passed = taken
        .iter()
        .filter(|c| closed_by_end(c) && !c.not_registered() && c.checked_at().is_some())
        .count() as u64;
    k.insert(
        "rework_rate".into(),
        rate(failed as usize, (failed + passed) as usize),
    );
    k.insert(
        "closed_by_compliance".into(),
        taken.iter().filter(|c| c.closed_by_compliance()).count() as f64,
    );
    // Utilisation per department: the pooled figure hides the bottleneck.
    // (busy on shift over time on shift: work past a shift's end is overtime)
    let mut by_dept: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for c in crews {
        let e = by_dept.entry(&c.department).or_default();
        e.0 += c.busy_secs - c.overtime_secs;
        e.1 += c.on_shift_secs;
    }
    k.insert(
        "crew_overtime_h".into(),
        crews.iter().map(|c| c.overtime_secs).sum::<i64>() as f64 / 3600.0,
    );
    let (busy, shift) = by_dept
        .values()
        .fold((0, 0), |(b, o), &(b2, o2)| (b + b2, o + o2));
    k.insert(
        "crew_utilisation".into(),
        rate(busy as usize, shift as usize),
    );
    let mut max_u = f64::NAN;
    for (d, (b, o)) in &by_dept {
        let u = rate(*b as usize, *o as usize);
        k.insert(format!("crew_utilisation:{d}"), u);
        if u.is_finite() && (max_u.is_nan() || u > max_u) {
            max_u = u;
        }
    }
    k.insert("crew_utilisation_max".into(), max_u);
    // 按期处置率 per department, timed from dispatch
    let mut depts: BTreeMap<&str, Vec<&C>> = BTreeMap::new();
    for c in cases.iter().filter(|c| !c.department().is_empty()) {
        depts.entry(c.department()).or_default().push(c);
    }
    for (d, list) in &depts {
        let r = step_on_time(list, &s, |c| c.handle_due(), |c| c.handled_at());
        if !r.is_nan() {
            k.insert(format!("handle_on_time_rate:{d}"), r);
        }
    }
    // The 12345 call centre (where modelled): calls that came in inside the window,
    // the share whose caller hung up before an agent answered, and the mean wait of
    // every caller until answered or hung up (Erlang-A's Wq; calls still waiting at
    // the end count up to it).
    let calls: Vec<(i64, Option<i64>, Option<i64>)> = cases
        .iter()
        .filter_map(|c| c.call())
        .filter(|c| window(c.0))
        .collect();
    if !calls.is_empty() {
        let hung = calls.iter().filter(|c| c.2.is_some()).count();
        k.insert("hotline_calls".into(), calls.len() as f64);
        k.insert("hotline_abandon_rate".into(), rate(hung, calls.len()));
        let wait: i64 = calls
            .iter()
            .map(|&(at, answered, hung)| answered.or(hung).unwrap_or(s.end).min(s.end) - at)
            .sum();
        k.insert(
            "hotline_wait_mean_min".into(),
            wait as f64 / 60.0 / calls.len() as f64,
        );
    }
    k.insert(
        "signal_delay_total_min".into(),
        taken.iter().map(|c| c.signal_delay_s()).sum::<i64>() as f64 / 60.0,
    );
    k.insert(
        "cut_off_total_min".into(),
        taken.iter().map(|c| c.cut_off_s()).sum::<i64>() as f64 / 60.0,
    );

    // Backlog: open cases (warm-up ones too) at each sample time.
    let backlog = backlog_series(cases, s.start, s.end, s.sample_secs);
    let backlog_mean = mean(&backlog.iter().map(|b| b.1 as f64).collect::<Vec<_>>());
    k.insert("backlog_mean".into(), backlog_mean);
    k.insert(
        "backlog_max".into(),
        backlog.iter().map(|b| b.1).max().unwrap_or(0) as f64,
    );
    // Little's law ingredients: arrival rate per hour and mean time in system (open
    // cases counted up to the end), so L = λW can be checked on any run.
    let in_system: Vec<f64> = taken
        .iter()
        .map(|c| {
            (c.closed_at().unwrap_or(s.end).min(s.end)
                - c.intake_at().unwrap_or(s.end).max(s.start)) as f64
                / 3600.0
        })
        .collect();
    k.insert("arrival_rate_per_h".into(), taken.len() as f64 / duration_h);
    k.insert("time_in_system_mean_h".into(), mean(&in_system));
    Kpis {
        values: k,
        backlog,
        warmup_backlog: Vec::new(),
    }
}

/// Cases that repeat an earlier case of the same category within `radius_m` and
/// `window_secs` (duplicate reports of one problem, or a problem that came back);
/// "earlier" is by time of occurrence, then by place in the timeline.
///
/// Cases are bucketed by category and a lon/lat cell at least `radius_m` wide at the
/// highest latitude present, so a repeat can only lie in the 3 × 3 cells around a
/// case; categories are searched in parallel (the count is a sum, the same at any
/// thread count).
pub fn repeats<C: CaseTimes + Sync>(cases: &[C], radius_m: f64, window_secs: i64) -> usize {
    use rayon::prelude::*;
    // Cases in timeline order per category; equal times keep that order.
    let mut by_category: HashMap<&str, Vec<&C>> = HashMap::new();
    for c in cases {
        by_category.entry(c.category()).or_default().push(c);
    }
    let max_lat = cases
        .iter()
        .map(|c| c.lon_lat().1.abs())
        .fold(0.0f64, f64::max)
        .min(89.0);
    // 111,000 m per degree is below the sphere's 111,195: cells come out a little wide.
    let cell_lat = (radius_m / 111_000.0).max(1e-9);
    let cell_lon = (cell_lat / (max_lat + 0.01).to_radians().cos()).max(1e-9);
    let groups: Vec<Vec<&C>> = by_category.into_values().collect();
    groups
        .into_par_iter()
        .map(|mut group| {
            group.sort_by_key(|c| c.occurred_at());
            // (cell x, cell y) → latest earlier case there; `next` chains older ones.
            let mut heads: gridtwin_core::int_hash::IntMap<(i64, i64), u32> = Default::default();
            let mut entries: Vec<(i64, f64, f64, u32)> = Vec::with_capacity(group.len());
            let mut n = 0usize;
            for c in group {
                let (lon, lat) = c.lon_lat();
                let occurred = c.occurred_at();
                let (bx, by) = (
                    (lon / cell_lon).floor() as i64,
                    (lat / cell_lat).floor() as i64,
                );
                let mut found = false;
                'search: for dx in -1..=1 {
                    for dy in -1..=1 {
                        let mut at = heads.get(&(bx + dx, by + dy)).copied().unwrap_or(u32::MAX);
                        while at != u32::MAX {
                            let (t, x, y, next) = entries[at as usize];
                            if occurred - t > window_secs {
                                // older entries further down the chain are older still
                                break;
                            }
                            if haversine_m(x, y, lon, lat) <= radius_m {
                                found = true;
                                break 'search;
                            }
                            at = next;
                        }
                    }
                }
                n += found as usize;
                let head = heads.entry((bx, by)).or_insert(u32::MAX);
                entries.push((occurred, lon, lat, *head));
                *head = (entries.len() - 1) as u32;
            }
            n
        })
        .sum()
}

/// Student's t quantile for a two-sided 95 % interval with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        _ => 1.960 + 2.4 / df as f64,
    }
}

/// Mean and 95 % confidence half-width of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: f64,
    pub n: usize,
}

impl Estimate {
    pub fn of(v: &[f64]) -> Estimate {
        let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        let m = mean(&v);
        let sd = if n > 1 {
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        Estimate {
            mean: m,
            half_width: t95(n.saturating_sub(1)) * sd / (n as f64).sqrt(),
            n,
        }
    }

    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(
        id: &str,
        occurred: i64,
        intake: i64,
        closed: Option<i64>,
        deadline: i64,
    ) -> CaseRecord {
        CaseRecord {
            case_id: id.into(),
            category: "0501".into(),
            occurred_at: occurred,
            intake_at: Some(intake),
            dispatched_at: Some(intake + 600),
            assigned_at: Some(intake + 900),
            arrived_at: Some(intake + 1200),
            closed_at: closed,
            deadline: Some(deadline),
            lon: 24.94,
            lat: 60.17,
            ..Default::default()
        }
    }

    #[test]
    fn quantiles_by_selection_equal_quantiles_of_sorted_values() {
        let mut s = 7u64;
        for n in [0usize, 1, 2, 3, 10, 101, 1000] {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((s >> 40) % 50) as f64 // many ties
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let qs = [0.1, 0.5, 0.5, 0.9, 1.0];
            let want: Vec<f64> = qs.iter().map(|&q| quantile(&sorted, q)).collect();
            let got = quantiles(&mut v.clone(), &qs);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "n = {n}");
        }
    }

    #[test]
    fn repeats_equal_a_brute_force_search() {
        // Clustered cases at a high latitude (narrow lon cells), three categories, many
        // equal times: the bucketed search counts exactly what an all-pairs one does.
        let mut s = 99u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let cases: Vec<CaseRecord> = (0..3000)
            .map(|i| CaseRecord {
                case_id: format!("C{i:05}"),
                category: ["a", "b", "c"][(rnd() * 3.0) as usize].into(),
                occurred_at: (rnd() * 200.0).floor() as i64 * 60,
                lon: 24.94 + rnd() * 0.01,
                lat: 60.17 + rnd() * 0.004,
                ..Default::default()
            })
            .collect();
        let (radius, window) = (60.0, 1800);
        let mut order: Vec<&CaseRecord> = cases.iter().collect();
        order.sort_by_key(|c| c.occurred_at);
        let brute = (0..order.len())
            .filter(|&i| {
                let c = order[i];
                order[..i].iter().any(|e| {
                    e.category == c.category
                        && c.occurred_at - e.occurred_at <= window
                        && haversine_m(e.lon, e.lat, c.lon, c.lat) <= radius
                })
            })
            .count();
        assert!(brute > 50, "the fixture should have repeats: {brute}");
        assert_eq!(repeats(&cases, radius, window), brute);
    }

    #[test]
    fn hand_computed_timeline() {
        // three cases over a 4-hour window; one closes late, one stays open
        let s = KpiSettings {
            start: 0,
            end: 4 * 3600,
            sample_secs: 3600,
            repeat_radius_m: 50.0,
            repeat_window_secs: 3600,
        };
        let cases = vec![
            case("a", 0, 600, Some(3600), 7200),
            case("b", 1800, 1800, Some(3 * 3600), 7200),
            case("c", 7200, 7800, None, 9000),
        ];
        let crews = vec![CrewRecord {
            crew: "x".into(),
            department: "d".into(),
            on_shift_secs: 4 * 3600,
            busy_secs: 3600,
            overtime_secs: 0,
        }];
        let k = compute(&cases, &crews, s);
        let v = |n: &str| k.values[n];
        assert_eq!(v("cases_taken_in"), 3.0);
        assert_eq!(v("cases_closed"), 2.0);
        // due basis (应结案): all three fell due inside the window; only a closed on
        // time — b closed late, c is still open past its deadline and counts against
        // the rate (on closed cases only it would read 1/2)
        assert_eq!(v("cases_due"), 3.0);
        assert_eq!(v("on_time_closure_rate"), 1.0 / 3.0);
        assert_eq!(v("overdue"), 2.0); // b closed late, c open past its deadline
        assert_eq!(v("open_overdue_at_end"), 1.0);
        assert_eq!(v("cases_open_at_end"), 1.0);
        assert_eq!(v("discovery_delay_mean_min"), (10.0 + 0.0 + 10.0) / 3.0);
        assert_eq!(v("crew_wait_mean_min"), 5.0);
        assert_eq!(v("response_p50_min"), 20.0);
        assert_eq!(v("crew_utilisation"), 0.25);
        // backlog at 0h: none (a taken at 600); 1h: b (a closed at 3600); 2h: b; 3h: c
        assert_eq!(k.backlog, vec![(0, 0), (3600, 1), (7200, 1), (10800, 1)]);
        // a and b: same category within 50 m; b occurred 1800 s after a → a repeat
        assert_eq!(v("repeat_incidents"), 1.0);
        // L = λW exactly on the integral: (3000 + 9000 + 6600) s / 4 h
        let l = v("arrival_rate_per_h") * v("time_in_system_mean_h");
        assert!((l - (3000.0 + 9000.0 + 6600.0) / 14400.0).abs() < 1e-12);
    }

    #[test]
    fn response_within_target_counts_the_unreached_as_misses() {
        // target 30 min for priority 2; window 0–4 h
        let mk = |id: &str, intake: i64, arrived: Option<i64>, ladder: &str| CaseRecord {
            case_id: id.into(),
            priority: 2,
            intake_at: Some(intake),
            arrived_at: arrived,
            ladder: ladder.into(),
            ..Default::default()
        };
        let cases = vec![
            mk("a", 0, Some(1200), ""),    // in time
            mk("b", 600, Some(3000), ""),  // late
            mk("c", 3600, None, ""),       // never reached: a miss, due at 5400
            mk("d", 3600, None, "notify"), // laddered: not a response
            mk("e", 4 * 3600, None, ""),   // due after the window
        ];
        let t = BTreeMap::from([(2u8, 30.0), (0u8, 10.0)]);
        let r = response_within_target(&cases, 0, 4 * 3600, &t);
        assert!(r[0].1.is_nan()); // no priority-0 case
        assert_eq!(r[1], (2, 1.0 / 3.0));
    }

    #[test]
    fn composite_by_hand() {
        let v = BTreeMap::from([
            ("on_time_closure_rate".to_string(), 0.8),
            ("rework_rate".to_string(), 0.1),
            ("check_on_time_rate".to_string(), f64::NAN),
        ]);
        let w = BTreeMap::from([
            ("on_time_closure_rate".to_string(), 3.0),
            ("rework_rate".to_string(), 1.0),
            ("check_on_time_rate".to_string(), 5.0),
        ]);
        // (3 × 0.8 + 1 × (1 − 0.1)) / 4; the rate with nothing due drops out
        assert!((composite(&v, &w) - 3.3 / 4.0).abs() < 1e-12);
        assert!(composite(&v, &BTreeMap::new()).is_nan());
    }

    #[test]
    fn estimates() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // sd = 1.29099, t(3) = 3.182 → 3.182 × 1.29099 / 2
        assert!((e.half_width - 3.182 * 1.290_994_448_7 / 2.0).abs() < 1e-9);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), 5.0);
    }
}
