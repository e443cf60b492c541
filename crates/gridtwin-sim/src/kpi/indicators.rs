//! Every indicator of one replication but the repeat count: flow, step on-time rates
//! on the due basis, durations, crews, backlog.

use std::collections::BTreeMap;

use super::{backlog_series, mean, quantiles, rate, CaseTimes, KpiSettings, Kpis};
use crate::timeline::CrewRecord;

/// Step spans (unsorted) between two times of each case that has both.
#[cfg(test)]
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

/// On-time rate of a step on the due basis: of the cases whose step deadline fell
/// inside the window (done or not), the share done by it.
#[cfg(test)]
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

/// A step's tally on the due basis: the cases whose step deadline fell inside the
/// window (done or not), and those done by it.
#[derive(Default, Clone, Copy)]
struct DueTally {
    due: usize,
    on_time: usize,
}

impl DueTally {
    fn add(&mut self, s: &KpiSettings, due: Option<i64>, done: Option<i64>) {
        if let Some(d) = due.filter(|&d| d >= s.start && d < s.end) {
            self.due += 1;
            self.on_time += done.is_some_and(|x| x <= d) as usize;
        }
    }

    fn rate(&self) -> f64 {
        rate(self.on_time, self.due)
    }
}

/// Every indicator but the repeat count.
///
/// Flow indicators count the cases taken in inside the window `[start, end)` (cases
/// of a discarded warm-up are left out); rates of time limits are on the due basis
/// (应结案): the cases whose deadline fell inside the window, closed or not — a case
/// still open past its deadline counts against the rate, it does not drop out.
///
/// One pass over the cases gathers every count, sum and span list (a megacity year
/// has 5 M cases of ~300 bytes: the twenty-odd passes over them and their filtered
/// lists this once took were most of the indicators' time, memory traffic). Spans go
/// into their lists in case order, so means and quantiles are those of the passes;
/// `indicators_by_passes`, the former code, is the test's oracle.
pub(super) fn indicators<C: CaseTimes>(cases: &[C], crews: &[CrewRecord], s: KpiSettings) -> Kpis {
    let window = |t: i64| t >= s.start && t < s.end;
    // (a case may close after the window's end in a history that runs on)
    let closed_by_end = |c: &C| c.closed_at().is_some_and(|x| x < s.end);
    let on_time = |c: &C| matches!((c.closed_at(), c.deadline()), (Some(a), Some(d)) if a <= d);
    let (mut occurred, mut taken, mut closed, mut registered) = (0usize, 0usize, 0usize, 0usize);
    let (mut open_at_end, mut open_overdue) = (0usize, 0usize);
    let (mut discovery, mut dispatch, mut response, mut close, mut in_system) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut wait_s, mut passes) = (0i64, 0u64);
    let (mut due, mut due_on_time, mut emergencies, mut emergencies_on_time) =
        (0usize, 0usize, 0usize, 0usize);
    let (mut amber, mut extended, mut compliance) = (0usize, 0usize, 0usize);
    let (mut failed, mut passed) = (0u64, 0u64);
    let mut steps = [DueTally::default(); 4];
    let mut depts: BTreeMap<&str, DueTally> = BTreeMap::new();
    let mut calls: Vec<(i64, Option<i64>, Option<i64>)> = Vec::new();
    let (mut signal_s, mut cut_off_s) = (0i64, 0i64);
    for c in cases {
        let intake = c.intake_at();
        let done_by_end = closed_by_end(c);
        occurred += window(c.occurred_at()) as usize;
        // every case taken in before the end (warm-up too) and not closed by then
        if intake.is_some_and(|i| i < s.end) && !done_by_end {
            open_at_end += 1;
            open_overdue +=
                (!c.not_registered() && c.deadline().is_some_and(|d| d < s.end)) as usize;
        }
        // 按期结案率 on the due basis (应结案), over every registered case due in the
        // window (those taken in during a warm-up too: they fall due here)
        if !c.not_registered() && c.deadline().is_some_and(window) {
            let ok = on_time(c) as usize;
            due += 1;
            due_on_time += ok;
            if c.natural_time() {
                emergencies += 1;
                emergencies_on_time += ok;
            }
        }
        // the seeds' step indicators: 按时核实率, 派遣, 按期处置率 (timed from
        // dispatch), 按时核查率; 按期处置率 per department
        steps[0].add(&s, c.verify_due(), c.verified_at());
        steps[1].add(&s, c.dispatch_due(), c.dispatched_at());
        steps[2].add(&s, c.handle_due(), c.handled_at());
        steps[3].add(&s, c.check_due(), c.checked_at());
        if !c.department().is_empty() {
            depts
                .entry(c.department())
                .or_default()
                .add(&s, c.handle_due(), c.handled_at());
        }
        if let Some(call) = c.call().filter(|call| window(call.0)) {
            calls.push(call);
        }
        let Some(i) = intake.filter(|&i| window(i)) else {
            continue;
        };
        // taken in inside the window
        taken += 1;
        closed += done_by_end as usize;
        discovery.push((i - c.occurred_at()) as f64 / 60.0);
        failed += c.rework() as u64;
        passed += (done_by_end && !c.not_registered() && c.checked_at().is_some()) as u64;
        compliance += c.closed_by_compliance() as usize;
        signal_s += c.signal_delay_s();
        cut_off_s += c.cut_off_s();
        in_system
            .push((c.closed_at().unwrap_or(s.end).min(s.end) - i.max(s.start)) as f64 / 3600.0);
        if c.not_registered() {
            continue;
        }
        registered += 1;
        if let Some(d) = c.dispatched_at() {
            dispatch.push((d - i) as f64 / 60.0);
        }
        // Crew wait per pass in the queue (a reworked or pre-empted case waits again);
        // a history without the recorded waits gives dispatch → assignment.
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
        // (a laddered case's dispatch waited by policy: not a response)
        if !c.laddered() {
            if let Some(a) = c.first_arrived_at() {
                response.push((a - i) as f64 / 60.0);
            }
        }
        if let Some(x) = c.closed_at() {
            close.push((x - i) as f64 / 3600.0);
        }
        // 黄灯: cases still open when they turned amber
        amber += c
            .amber_at()
            .is_some_and(|a| a < s.end && c.closed_at().is_none_or(|x| x > a))
            as usize;
        extended += c.extended() as usize;
    }

    let mut k = BTreeMap::new();
    let duration_h = (s.end - s.start) as f64 / 3600.0;
    k.insert("cases_occurred".into(), occurred as f64);
    k.insert("cases_taken_in".into(), taken as f64);
    k.insert("cases_closed".into(), closed as f64);
    k.insert("cases_open_at_end".into(), open_at_end as f64);
    k.insert("open_overdue_at_end".into(), open_overdue as f64);
    // 立案率: reports registered as cases
    k.insert("registration_rate".into(), rate(registered, taken));
    k.insert("discovery_delay_mean_min".into(), mean(&discovery));
    let q = quantiles(&mut discovery, &[0.9]);
    k.insert("discovery_delay_p90_min".into(), q[0]);
    let q = quantiles(&mut dispatch, &[0.5, 0.9]);
    k.insert("dispatch_delay_p50_min".into(), q[0]);
    k.insert("dispatch_delay_p90_min".into(), q[1]);
    k.insert(
        "crew_wait_mean_min".into(),
        if passes > 0 {
            wait_s as f64 / 60.0 / passes as f64
        } else {
            f64::NAN
        },
    );
    let q = quantiles(&mut response, &[0.5, 0.9]);
    k.insert("response_p50_min".into(), q[0]);
    k.insert("response_p90_min".into(), q[1]);
    let q = quantiles(&mut close, &[0.5, 0.9]);
    k.insert("close_time_p50_h".into(), q[0]);
    k.insert("close_time_p90_h".into(), q[1]);
    k.insert("cases_due".into(), due as f64);
    k.insert("on_time_closure_rate".into(), rate(due_on_time, due));
    // 督办: cases past their deadline while open, which the centre supervises
    k.insert("overdue".into(), (due - due_on_time) as f64);
    k.insert(
        "emergency_on_time_rate".into(),
        rate(emergencies_on_time, emergencies),
    );
    k.insert("amber_warnings".into(), amber as f64);
    for (name, step) in [
        "verify_on_time_rate",
        "dispatch_on_time_rate",
        "handle_on_time_rate",
        "check_on_time_rate",
    ]
    .into_iter()
    .zip(steps)
    {
        k.insert(name.into(), step.rate());
    }
    // 延期率: registered cases whose time limit was extended
    k.insert("extension_rate".into(), rate(extended, registered));
    // 返工率: checks that found the problem not solved, of all checks made (each
    // failed check, and the check that closed the case)
    k.insert(
        "rework_rate".into(),
        rate(failed as usize, (failed + passed) as usize),
    );
    k.insert("closed_by_compliance".into(), compliance as f64);
    crew_indicators(&mut k, crews);
    for (d, tally) in &depts {
        let r = tally.rate();
        if !r.is_nan() {
            k.insert(format!("handle_on_time_rate:{d}"), r);
        }
    }
    calls_indicators(&mut k, &calls, &s);
    k.insert("signal_delay_total_min".into(), signal_s as f64 / 60.0);
    k.insert("cut_off_total_min".into(), cut_off_s as f64 / 60.0);
    let backlog = backlog_indicators(&mut k, cases, &s);
    k.insert("arrival_rate_per_h".into(), taken as f64 / duration_h);
    k.insert("time_in_system_mean_h".into(), mean(&in_system));
    Kpis {
        values: k,
        backlog,
        warmup_backlog: Vec::new(),
    }
}

/// Utilisation per department (the pooled figure hides the bottleneck: busy on
/// shift over time on shift, work past a shift's end being overtime) and overtime.
fn crew_indicators(k: &mut BTreeMap<String, f64>, crews: &[CrewRecord]) {
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
}

/// The 12345 call centre (where modelled): calls that came in inside the window, the
/// share whose caller hung up before an agent answered, and the mean wait of every
/// caller until answered or hung up (Erlang-A's Wq; calls still waiting at the end
/// count up to it).
fn calls_indicators(
    k: &mut BTreeMap<String, f64>,
    calls: &[(i64, Option<i64>, Option<i64>)],
    s: &KpiSettings,
) {
    if calls.is_empty() {
        return;
    }
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

/// Backlog: open cases (warm-up ones too) at each sample time, with its mean and
/// maximum.
fn backlog_indicators<C: CaseTimes>(
    k: &mut BTreeMap<String, f64>,
    cases: &[C],
    s: &KpiSettings,
) -> Vec<(i64, u32)> {
    let backlog = backlog_series(cases, s.start, s.end, s.sample_secs);
    let backlog_mean = mean(&backlog.iter().map(|b| b.1 as f64).collect::<Vec<_>>());
    k.insert("backlog_mean".into(), backlog_mean);
    k.insert(
        "backlog_max".into(),
        backlog.iter().map(|b| b.1).max().unwrap_or(0) as f64,
    );
    backlog
}

/// Every indicator but the repeat count, pass by pass over filtered lists: the code
/// [`indicators`] replaced, kept as its oracle.
#[cfg(test)]
pub(super) fn indicators_by_passes<C: CaseTimes>(
    cases: &[C],
    crews: &[CrewRecord],
    s: KpiSettings,
) -> Kpis {
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
    // (crews and calls as the one-pass code has them: the oracle is for the cases)
    crew_indicators(&mut k, crews);
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
    calls_indicators(&mut k, &calls, &s);
    k.insert(
        "signal_delay_total_min".into(),
        taken.iter().map(|c| c.signal_delay_s()).sum::<i64>() as f64 / 60.0,
    );
    k.insert(
        "cut_off_total_min".into(),
        taken.iter().map(|c| c.cut_off_s()).sum::<i64>() as f64 / 60.0,
    );

    let backlog = backlog_indicators(&mut k, cases, &s);
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
