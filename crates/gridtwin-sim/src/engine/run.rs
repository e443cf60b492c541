//! One replication: the event loop of the closed case loop.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct QueueKey {
    /// Higher priority first.
    pub(super) neg_priority: i8,
    pub(super) since: i64,
    pub(super) case: u32,
}

/// Where a crew is: lon/lat, road node, local metres.
#[derive(Clone, Copy)]
pub(super) struct Place {
    pub(super) at: (f64, f64),
    pub(super) node: u32,
    pub(super) xy: (f64, f64),
}

/// Signal-priority requests of emergency trips: per signalised node, (time at the
/// signal, priority, departure, case); and each trip's signalised nodes, so that a
/// trip that loses at one signal has its later requests moved by its wait.
#[derive(Default)]
pub(super) struct SignalBook {
    pub(super) requests: std::collections::HashMap<u32, Vec<(i64, u8, i64, u32)>>,
    pub(super) trips: std::collections::HashMap<u32, Vec<u32>>,
}

/// Runs one replication.
pub fn run(world: &World, seed: u64, rep: u64) -> Replication<'_> {
    let sc = &world.scenario;
    // Lane 0: intakes (sorted up front); lane 1 + c: deadlines of category c (their
    // times only grow, as intakes come in time order and the calendar is monotone).
    let mut queue: EventQueue<Ev> = EventQueue::with_lanes(1 + world.categories.len());
    let mut events = 0u64;

    let arrivals = draw_arrivals(world, seed, rep);

    let n_arrivals = arrivals.len();
    let mut cases: Vec<SimCase> = Vec::with_capacity(n_arrivals);
    let mut intakes: Vec<(i64, u32)> = Vec::with_capacity(n_arrivals);
    // Patrol phase per grid (when in the interval its worker passes).
    let mut calls: Vec<(i64, u32)> = Vec::new();
    let mut recurrences = 0usize;
    for (id, (t, category, grid, at, priority, key)) in arrivals.into_iter().enumerate() {
        let id = id as u32;
        let (intake, source, call_at) = discover(world, seed, rep, key, t, grid);
        cases.push(new_case(
            world,
            key,
            (t, category, grid, at, priority),
            source,
        ));
        if intake < world.end {
            intakes.push((intake, id));
        }
        if call_at != NONE && call_at < world.end {
            cases.last_mut().expect("pushed").call_at = call_at;
            calls.push((call_at, id));
        }
    }
    enter_open_cases(world, seed, rep, &mut cases, &mut queue);
    // Intakes are scheduled first, in time then case order, into their own lane: at
    // equal times an intake comes before any other event.
    intakes.sort_unstable();
    queue.reserve_lane(0, intakes.len());
    for &(t, id) in &intakes {
        queue.schedule_in_lane(0, t, Ev::Intake(id));
    }
    drop(intakes);
    calls.sort_unstable();
    for &(t, id) in &calls {
        queue.schedule(t, Ev::Call(id));
    }
    drop(calls);
    // Grid workers: what each is doing, where it is on its route, the tasks waiting for
    // it (case, is a check); per grid, its incidents in order of occurrence (`grid_next`
    // of them have occurred by the last visit) and those occurred and not found yet.
    #[derive(Clone, Copy)]
    enum Doing {
        Off,
        Visit(u32),
        Task(u32, bool),
    }
    let walking = sc.discovery.grid_workers.as_ref();
    let n_workers = world.workers.len();
    let mut w_doing = vec![Doing::Off; n_workers];
    let mut w_pos = vec![0usize; n_workers];
    let mut w_tasks: Vec<std::collections::VecDeque<(u32, bool)>> =
        vec![Default::default(); n_workers];
    let mut patrol_visits: Vec<(u32, i64)> = Vec::new();
    let mut grid_cases: Vec<Vec<u32>> = Vec::new();
    let mut grid_next: Vec<usize> = Vec::new();
    let mut grid_pending: Vec<Vec<u32>> = Vec::new();
    if walking.is_some() {
        grid_cases = vec![Vec::new(); world.grids.len()];
        grid_next = vec![0; world.grids.len()];
        grid_pending = vec![Vec::new(); world.grids.len()];
        for (id, c) in cases.iter().enumerate() {
            if let Some(list) = grid_cases.get_mut(c.grid as usize) {
                list.push(id as u32);
            }
        }
        for w in 0..n_workers {
            // every worker starts its route at the run's start (or its shift's)
            queue.schedule(world.run_start, Ev::WorkerStep(w as u32));
        }
    }
    let worker_on_shift = |w: usize, t: i64| {
        let (a, b) = world.workers[w].1;
        let (_, _, sec) = world.local(t);
        a <= sec && sec < b
    };
    // The grid worker of a case's grid, where grid workers are modelled.
    let worker_of = |c: &SimCase| -> Option<usize> {
        walking?;
        let w = *world.worker_of_grid.get(c.grid as usize)?;
        (w != u32::MAX).then_some(w as usize)
    };
    // The centre's staff: per station (registration, dispatching), free operators and
    // the cases waiting in arrival order.
    let centre = sc.centre.as_ref();
    let mut station_free: [u32; 2] = centre.map_or([0, 0], |c| [c.intake_staff, c.dispatchers]);
    let mut station_queue: [std::collections::VecDeque<u32>; 2] = Default::default();
    let station_time = |st: u8, c: &SimCase| -> i64 {
        let cs = centre.expect("stations need [centre]");
        let d = if st == 0 {
            &cs.registration
        } else {
            &cs.dispatching
        };
        draw(
            d,
            uniform(seed, rep, c.key, P_STATION, st as u64 + 2 * c.rework as u64),
        )
    };
    // The call centre: free agents and the callers waiting (in call order; one who
    // hung up is skipped when reached).
    let mut agents_free = sc.discovery.call_centre.as_ref().map_or(0, |c| c.agents);
    let mut callers: std::collections::VecDeque<u32> = Default::default();

    // --- Crews.
    let n_crews = world.crews.len();
    let mut crew_busy = vec![false; n_crews];
    let mut crew_at: Vec<Place> = world
        .crews
        .iter()
        .map(|c| Place {
            at: c.base,
            node: world
                .network
                .as_ref()
                .and_then(|n| n.nearest(c.base.0, c.base.1))
                .unwrap_or(0),
            xy: world.frame.to_local(c.base.0, c.base.1),
        })
        .collect();
    let mut crew_busy_secs = vec![0i64; n_crews];
    let mut crew_shift_busy = vec![0i64; n_crews];
    // Busy time inside the reported window (the warm-up is discarded), and the part
    // of it on the crew's shift.
    let mut busy = |k: usize, a: i64, b: i64| {
        let (a, b) = (a.max(world.start), b.min(world.end));
        if b > a {
            crew_busy_secs[k] += b - a;
            crew_shift_busy[k] += world.shift_secs_between(k, a, b);
        }
    };
    // The case each crew is on (`u32::MAX`: none).
    let mut crew_case = vec![u32::MAX; n_crews];
    // Free crews on shift, per department: [grid-level (territorial), other].
    let mut free: Vec<[FreeCrews; 2]> = (0..world.departments.len())
        .map(|d| {
            let count = |terr: bool| {
                world
                    .crews
                    .iter()
                    .filter(|c| c.department == d && c.territorial == terr)
                    .count()
            };
            [
                FreeCrews::new(world.bbox_local, count(true), n_crews),
                FreeCrews::new(world.bbox_local, count(false), n_crews),
            ]
        })
        .collect();
    let slot = |k: usize| -> usize { usize::from(!world.crews[k].territorial) };
    for k in 0..n_crews {
        if world.on_shift(k, world.run_start) {
            free[world.crews[k].department][slot(k)].insert(k as u32, crew_at[k].xy);
        }
    }
    for (g, ((a, b), _)) in world.shift_groups.iter().enumerate() {
        queue.schedule(
            world.next_time_of_day(*a, world.run_start - 1),
            Ev::ShiftStart(g as u32),
        );
        queue.schedule(
            world.next_time_of_day(*b, world.run_start - 1),
            Ev::ShiftEnd(g as u32),
        );
    }
    // Signal-priority requests per signalised node: (time at the signal, priority,
    // departure, case); and the decisions taken.
    let mut requests = SignalBook::default();
    let mut contention: Vec<ContentionRecord> = Vec::new();
    // One queue of waiting cases per department.
    let mut queues: Vec<BTreeSet<QueueKey>> = vec![BTreeSet::new(); world.departments.len()];
    // A crew sets off: the trip (after any closure cuts the place off) is scheduled,
    // and an emergency trip requests priority at the signals on its path.
    // Crew `k`, at `from`, takes case `id` at `t` and sets off.
    let set_off = |cases: &mut Vec<SimCase>,
                   queue: &mut EventQueue<Ev>,
                   book: &mut SignalBook,
                   contention: &mut Vec<ContentionRecord>,
                   crew_case: &mut [u32],
                   (id, k, from, t): (u32, usize, Place, i64)| {
        crew_case[k] = id;
        let c = &mut cases[id as usize];
        c.crew = k as u32;
        c.assigned = t;
        c.queue_wait += t - c.queued_at;
        c.passes = c.passes.saturating_add(1);
        let (cut_off, drive) = trip(world, (seed, rep), from, c, t);
        c.cut_off += cut_off;
        // a place cut off is set off for when a road reopens
        let t = t + cut_off;
        let arrive = t + drive;
        let own_delay = request_signals(world, cases, queue, book, contention, (id, from, t));
        let c = &mut cases[id as usize];
        c.eta = arrive + own_delay;
        c.signal_delay += own_delay;
        queue.schedule(c.eta, Ev::Arrive(id, c.gen));
    };

    while let Some((t, ev)) = queue.pop() {
        if t >= world.end {
            break;
        }
        events += 1;
        let ev = match ev {
            Ev::IntakeFrom(id, source) => {
                let c = &mut cases[id as usize];
                if c.intake == NONE {
                    c.source = source;
                }
                Ev::Intake(id)
            }
            other => other,
        };
        match ev {
            Ev::Intake(id) => {
                let key = cases[id as usize].key;
                let c = &mut cases[id as usize];
                if c.intake != NONE {
                    continue; // taken in already by another channel
                }
                c.intake = t;
                let cat = &world.categories[c.category as usize];
                let deadline = world
                    .calendar
                    .add_hours(cat.time_basis, t, cat.time_limit_hours);
                c.deadline = deadline;
                c.amber_at = world.calendar.add_hours(
                    cat.time_basis,
                    t,
                    cat.time_limit_hours * sc.amber_fraction,
                );
                c.verify_due = world.due(cat, t, cat.stage_limits.verify_hours);
                queue.schedule_in_lane(1 + c.category as usize, deadline, Ev::Deadline(id));
                if centre.is_some() {
                    // registered by an intake operator first (then verified)
                    if station_free[0] > 0 {
                        station_free[0] -= 1;
                        queue.schedule(t + station_time(0, c), Ev::StationDone(0, id));
                    } else {
                        station_queue[0].push_back(id);
                    }
                    continue;
                }
                match worker_of(c) {
                    // a report from the hotline or a camera: the grid's worker goes to
                    // verify it on the spot
                    Some(w) if c.source != 0 => w_tasks[w].push_back((id, false)),
                    _ => queue.schedule(
                        t + draw(&sc.steps.verify, uniform(seed, rep, key, P_VERIFY, 0)),
                        Ev::Verified(id),
                    ),
                }
            }
            Ev::Verified(id) => {
                let key = cases[id as usize].key;
                let c = &mut cases[id as usize];
                c.verified = t;
                let cat = &world.categories[c.category as usize];
                if sc.steps.not_registered > 0.0
                    && uniform(seed, rep, key, P_REGISTER, 0) < sc.steps.not_registered
                {
                    c.declined = true;
                    c.closed = t;
                } else if let Some(stage) = cat.ladder.first() {
                    // (no dispatch limit on a ladder: its delays are the policy)
                    queue.schedule(
                        t + draw(&stage.delay, uniform(seed, rep, key, P_LADDER, 0)),
                        Ev::Ladder(id, 0),
                    );
                } else {
                    c.dispatch_due = world.due(cat, t, cat.stage_limits.dispatch_hours);
                    send_on(
                        world,
                        c,
                        id,
                        t,
                        (seed, rep),
                        &mut station_free,
                        &mut station_queue,
                        &mut queue,
                    );
                }
            }
            Ev::Ladder(id, i) => {
                let key = cases[id as usize].key;
                let c = &mut cases[id as usize];
                let cat = &world.categories[c.category as usize];
                c.ladder = i + 1;
                if uniform(seed, rep, key, P_LADDER, 100 + i as u64)
                    < cat.ladder[i as usize].compliance
                {
                    // the party says it complied: a grid worker goes to check
                    c.complied = i;
                    match worker_of(c) {
                        Some(w) => w_tasks[w].push_back((id, true)),
                        None => queue.schedule(
                            t + draw(&sc.steps.check, uniform(seed, rep, key, P_CHECK, 0)),
                            Ev::Checked(id),
                        ),
                    }
                } else if let Some(next) = cat.ladder.get(i as usize + 1) {
                    queue.schedule(
                        t + draw(&next.delay, uniform(seed, rep, key, P_LADDER, i as u64 + 1)),
                        Ev::Ladder(id, i + 1),
                    );
                } else {
                    send_on(
                        world,
                        c,
                        id,
                        t,
                        (seed, rep),
                        &mut station_free,
                        &mut station_queue,
                        &mut queue,
                    );
                }
            }
            Ev::Dispatch(id) => {
                let c = &mut cases[id as usize];
                let cat = &world.categories[c.category as usize];
                let q = cat.department;
                // the first dispatch stands (a reworked case comes back here)
                if c.dispatched == NONE {
                    c.dispatched = t;
                    c.handle_due = world.due(cat, t, cat.stage_limits.handle_hours);
                    // 延期: the department applies for more time, and is granted it
                    if sc.steps.extension > 0.0
                        && t < c.deadline
                        && uniform(seed, rep, c.key, P_EXTEND, 0) < sc.steps.extension
                    {
                        c.extended = true;
                        c.deadline = world.calendar.add_hours(
                            cat.time_basis,
                            c.deadline,
                            sc.steps.extension_hours,
                        );
                    }
                }
                c.queued_at = t;
                // Nearest free crew on shift of the department (straight line; the
                // road network then gives the travel time); for territorial cases,
                // grid-level crews first.
                let [terr, other] = &free[q];
                // (a case the street forwarded is the owner department's, not the beat's)
                let pick = if cat.routing == Routing::Territory && !c.forwarded {
                    // the free grid-level crew of the case's beat (the nearest of
                    // them), then the department's other crews, then any grid crew
                    let own = world
                        .beat_crews
                        .get(c.grid as usize)
                        .into_iter()
                        .flatten()
                        .filter(|&&k| terr.contains(k))
                        .map(|&k| {
                            let p = crew_at[k as usize].xy;
                            (k, (p.0 - c.xy.0).hypot(p.1 - c.xy.1))
                        })
                        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                    own.or_else(|| other.nearest(c.xy))
                        .or_else(|| terr.nearest(c.xy))
                } else {
                    match (terr.nearest(c.xy), other.nearest(c.xy)) {
                        (Some(a), Some(b)) => Some(if (a.1, a.0) <= (b.1, b.0) { a } else { b }),
                        (a, b) => a.or(b),
                    }
                };
                // An emergency with no free crew takes the nearest crew of its
                // department on lower-priority work (ties: lowest crew index).
                let (c_priority, c_xy) = (c.priority, c.xy);
                let pick = pick.map(|(k, _)| k as usize).or_else(|| {
                    let at = sc.dispatch.preempt_at_priority?;
                    if c_priority < at {
                        return None;
                    }
                    let mut best: Option<(f64, usize)> = None;
                    for k in 0..n_crews {
                        let v = crew_case[k];
                        if world.crews[k].department != q || v == u32::MAX {
                            continue;
                        }
                        let vc = &cases[v as usize];
                        if vc.priority >= c_priority || vc.handled != NONE {
                            continue;
                        }
                        let p = if vc.arrived != NONE {
                            vc.xy
                        } else {
                            crew_at[k].xy
                        };
                        let d = (p.0 - c_xy.0).hypot(p.1 - c_xy.1);
                        if best.is_none_or(|(bd, _)| d < bd) {
                            best = Some((d, k));
                        }
                    }
                    let (_, k) = best?;
                    // Take the crew off its case: that case waits again.
                    let v = crew_case[k] as usize;
                    let vc = &mut cases[v];
                    busy(k, vc.assigned, t);
                    if vc.arrived != NONE {
                        crew_at[k] = Place {
                            at: vc.at,
                            node: vc.node,
                            xy: vc.xy,
                        };
                    }
                    vc.gen = vc.gen.wrapping_add(1);
                    vc.eta = NONE;
                    vc.preempted = vc.preempted.saturating_add(1);
                    vc.assigned = NONE;
                    vc.arrived = NONE;
                    vc.crew = u32::MAX;
                    vc.queued_at = t;
                    queues[q].insert(QueueKey {
                        neg_priority: -(vc.priority as i8),
                        since: t,
                        case: v as u32,
                    });
                    crew_busy[k] = false;
                    Some(k)
                });
                let c = &mut cases[id as usize];
                match pick {
                    Some(k) => {
                        free[q][slot(k)].remove(k as u32);
                        crew_busy[k] = true;
                        set_off(
                            &mut cases,
                            &mut queue,
                            &mut requests,
                            &mut contention,
                            &mut crew_case,
                            (id, k, crew_at[k], t),
                        );
                    }
                    None => {
                        queues[q].insert(QueueKey {
                            neg_priority: -(c.priority as i8),
                            since: t,
                            case: id,
                        });
                    }
                }
            }
            Ev::Arrive(id, gen) => {
                let key = cases[id as usize].key;
                let c = &mut cases[id as usize];
                if c.gen != gen {
                    continue; // the crew was taken off this case on its way
                }
                c.arrived = t;
                if c.first_arrived == NONE {
                    c.first_arrived = t;
                }
                let cat = &world.categories[c.category as usize];
                // (a pre-empted case's handling starts over, with a fresh draw)
                queue.schedule(
                    t + draw(
                        &cat.handle,
                        uniform(
                            seed,
                            rep,
                            key,
                            P_HANDLE,
                            c.rework as u64 * PASS + c.preempted as u64,
                        ),
                    ),
                    Ev::Handled(id, gen),
                );
            }
            Ev::Handled(id, gen) => {
                let key = cases[id as usize].key;
                let c = &mut cases[id as usize];
                if c.gen != gen {
                    continue; // taken off while handling
                }
                c.handled = t;
                let k = c.crew as usize;
                crew_case[k] = u32::MAX;
                crew_busy[k] = false;
                busy(k, c.assigned, t);
                crew_at[k] = Place {
                    at: c.at,
                    node: c.node,
                    xy: c.xy,
                };
                let pass = c.rework as u64;
                let fb = t + draw(
                    &sc.steps.feedback,
                    uniform(seed, rep, key, P_FEEDBACK, pass),
                );
                c.feedback = fb;
                let cat = &world.categories[c.category as usize];
                c.check_due = world.due(cat, fb, cat.stage_limits.check_hours);
                if worker_of(c).is_some() {
                    queue.schedule(fb, Ev::Feedback(id));
                } else {
                    let ck = fb + draw(&sc.steps.check, uniform(seed, rep, key, P_CHECK, pass));
                    queue.schedule(ck, Ev::Checked(id));
                }
                queue.schedule(t, Ev::CrewFree(k as u32));
            }
            Ev::Checked(id) => {
                let c = &mut cases[id as usize];
                let key = c.key;
                let r = world.categories[c.category as usize].check_failure;
                // the pass's own draw: rework k is decided by draw k
                if r > 0.0 && uniform(seed, rep, key, P_CHECK_FAIL, c.rework as u64) < r {
                    // not solved (返工): back to the department's queue, deadline kept;
                    // a compliance that did not hold sends a crew after all
                    c.rework = c.rework.saturating_add(1);
                    let was_compliance = c.complied != u8::MAX;
                    c.complied = u8::MAX;
                    c.gen = c.gen.wrapping_add(1);
                    c.crew = u32::MAX;
                    c.eta = NONE;
                    c.assigned = NONE;
                    c.arrived = NONE;
                    c.handled = NONE;
                    c.feedback = NONE;
                    // (the next pass's check is due anew: no check time until it is made)
                    c.checked = NONE;
                    if was_compliance {
                        // the party did not comply: the case is dispatched as at the end
                        // of the ladder (dispatchers, routing, hand-overs)
                        send_on(
                            world,
                            c,
                            id,
                            t,
                            (seed, rep),
                            &mut station_free,
                            &mut station_queue,
                            &mut queue,
                        );
                    } else {
                        queue.schedule(t, Ev::Dispatch(id));
                    }
                } else {
                    c.checked = t;
                    c.closed = t;
                    // a compliance that did not last: the problem comes back
                    if let (Some(r), true) = (&sc.recurrence, c.complied != u8::MAX) {
                        if uniform(seed, rep, key, P_RECUR, 0) < r.after_compliance {
                            let at = t + draw(&r.delay, uniform(seed, rep, key, P_RECUR, 1));
                            let new_key = incident_key(RECURRENCE_STREAM ^ key, 0);
                            let (category, grid, place, priority) = (
                                c.category as usize,
                                c.grid as usize,
                                c.at,
                                c.arrival_priority,
                            );
                            let (intake, source, call_at) =
                                discover(world, seed, rep, new_key, at, grid);
                            let mut n = new_case(
                                world,
                                new_key,
                                (at, category, grid, place, priority),
                                source,
                            );
                            n.recurrence_of = id;
                            let new_id = cases.len() as u32;
                            if let Some(list) = grid_pending.get_mut(grid) {
                                list.push(new_id); // (seen by a worker once it occurs)
                            }
                            recurrences += 1;
                            if intake < world.end {
                                queue.schedule(intake, Ev::Intake(new_id));
                            }
                            if call_at != NONE && call_at < world.end {
                                n.call_at = call_at;
                                queue.schedule(call_at, Ev::Call(new_id));
                            }
                            cases.push(n);
                        }
                    }
                }
            }
            Ev::Deadline(id) => {
                let c = &mut cases[id as usize];
                if c.deadline > t {
                    // extended since: falls due later (outside the category's lane,
                    // whose times only grow)
                    queue.schedule(c.deadline, Ev::Deadline(id));
                    continue;
                }
                if c.closed == NONE {
                    c.escalated = true;
                    let before = c.priority;
                    c.priority = c.priority.max(1);
                    // A queued case moves ahead of routine ones.
                    let q = world.categories[c.category as usize].department;
                    let old = QueueKey {
                        neg_priority: -(before as i8),
                        since: c.queued_at,
                        case: id,
                    };
                    if before != c.priority && queues[q].remove(&old) {
                        queues[q].insert(QueueKey {
                            neg_priority: -(c.priority as i8),
                            since: c.queued_at,
                            case: id,
                        });
                    }
                }
            }
            Ev::Call(id) => {
                let cc = sc
                    .discovery
                    .call_centre
                    .as_ref()
                    .expect("calls need a call centre");
                let c = &mut cases[id as usize];
                if agents_free > 0 {
                    agents_free -= 1;
                    c.call_answered = t;
                    let d = draw(&cc.handle, uniform(seed, rep, c.key, P_CALL, 0));
                    queue.schedule(t + d, Ev::CallDone(id));
                } else {
                    callers.push_back(id);
                    let d = draw(&cc.patience, uniform(seed, rep, c.key, P_PATIENCE, 0));
                    queue.schedule(t + d, Ev::HangUp(id));
                }
            }
            Ev::HangUp(id) => {
                let c = &mut cases[id as usize];
                if c.call_answered == NONE && c.call_hung_up == NONE {
                    c.call_hung_up = t; // the report is lost
                }
            }
            Ev::CallDone(id) => {
                let cc = sc
                    .discovery
                    .call_centre
                    .as_ref()
                    .expect("calls need a call centre");
                let c = &mut cases[id as usize];
                if c.intake == NONE {
                    // registered from the call (a patrol may have been first: then the
                    // call was a duplicate report, merged)
                    queue.schedule(t, Ev::IntakeFrom(id, 1));
                }
                agents_free += 1;
                while let Some(next) = callers.pop_front() {
                    let n = &mut cases[next as usize];
                    if n.call_hung_up != NONE {
                        continue;
                    }
                    agents_free -= 1;
                    n.call_answered = t;
                    let d = draw(&cc.handle, uniform(seed, rep, n.key, P_CALL, 0));
                    queue.schedule(t + d, Ev::CallDone(next));
                    break;
                }
            }
            Ev::StationDone(st, id) => {
                let i = st as usize;
                let c = &mut cases[id as usize];
                if st == 0 {
                    // registered: verified on the spot by the grid's worker (a hotline
                    // or camera report), else now
                    match worker_of(c) {
                        Some(w) if c.source != 0 => w_tasks[w].push_back((id, false)),
                        _ => queue.schedule(t, Ev::Verified(id)),
                    }
                } else {
                    let at = t + world.hand_over(c, seed, rep);
                    queue.schedule(at, Ev::Dispatch(id));
                }
                station_free[i] += 1;
                if let Some(next) = station_queue[i].pop_front() {
                    station_free[i] -= 1;
                    let d = station_time(st, &cases[next as usize]);
                    queue.schedule(t + d, Ev::StationDone(st, next));
                }
            }
            Ev::IntakeFrom(..) => unreachable!("turned into Intake above"),
            Ev::Feedback(id) => {
                if let Some(w) = worker_of(&cases[id as usize]) {
                    w_tasks[w].push_back((id, true));
                }
            }
            Ev::WorkerStep(w) => {
                let wi = w as usize;
                let gw = walking.expect("grid workers");
                match w_doing[wi] {
                    Doing::Off => {}
                    Doing::Visit(g) => {
                        patrol_visits.push((g, t));
                        // the grid's incidents that have occurred, looked at as the
                        // worker leaves it
                        let gi = g as usize;
                        while let Some(&id) = grid_cases[gi].get(grid_next[gi]) {
                            if cases[id as usize].occurred > t {
                                break;
                            }
                            grid_pending[gi].push(id);
                            grid_next[gi] += 1;
                        }
                        let p = sc.discovery.patrol_detect_probability;
                        grid_pending[gi].retain(|&id| {
                            let c = &mut cases[id as usize];
                            if c.intake != NONE {
                                return false;
                            }
                            if c.occurred > t {
                                return true;
                            }
                            if uniform(seed, rep, c.key, P_PATROL, c.looked as u64) < p {
                                queue.schedule(t, Ev::IntakeFrom(id, 0));
                                false
                            } else {
                                c.looked = c.looked.saturating_add(1);
                                true
                            }
                        });
                        w_pos[wi] = (w_pos[wi] + 1) % world.workers[wi].0.len();
                    }
                    Doing::Task(id, false) => queue.schedule(t, Ev::Verified(id)),
                    Doing::Task(id, true) => queue.schedule(t, Ev::Checked(id)),
                }
                // next: off until the shift starts; else a waiting task, else the
                // next grid of the route
                if !worker_on_shift(wi, t) {
                    w_doing[wi] = Doing::Off;
                    let start = world.next_time_of_day(world.workers[wi].1 .0, t);
                    queue.schedule(start, Ev::WorkerStep(w));
                } else if let Some((id, check)) = w_tasks[wi].pop_front() {
                    w_doing[wi] = Doing::Task(id, check);
                    let c = &cases[id as usize];
                    let (d, draw_ix) = if check {
                        (&gw.check_visit, 1 + 2 * c.rework as u64)
                    } else {
                        (&gw.verify_visit, 0)
                    };
                    let dur = draw(d, uniform(seed, rep, c.key, P_VISIT, draw_ix));
                    queue.schedule(t + dur, Ev::WorkerStep(w));
                } else {
                    let g = world.workers[wi].0[w_pos[wi]];
                    w_doing[wi] = Doing::Visit(g);
                    let dur = (gw.minutes_per_grid * 60.0).round() as i64;
                    queue.schedule(t + dur.max(1), Ev::WorkerStep(w));
                }
            }
            Ev::CrewFree(k) => {
                let k = k as usize;
                let d = world.crews[k].department;
                // Off shift, the crew stays idle until its shift group starts again.
                if crew_busy[k] || free[d][slot(k)].contains(k as u32) || !world.on_shift(k, t) {
                    continue;
                }
                // The most urgent case waiting in its department's queue.
                if let Some(key) = queues[d].pop_first() {
                    crew_busy[k] = true;
                    set_off(
                        &mut cases,
                        &mut queue,
                        &mut requests,
                        &mut contention,
                        &mut crew_case,
                        (key.case, k, crew_at[k], t),
                    );
                } else {
                    free[d][slot(k)].insert(k as u32, crew_at[k].xy);
                }
            }
            Ev::ShiftStart(g) => {
                let ((a, _), members) = &world.shift_groups[g as usize];
                for &k in members {
                    if !crew_busy[k as usize] {
                        queue.schedule(t, Ev::CrewFree(k));
                    }
                }
                queue.schedule(world.next_time_of_day(*a, t), Ev::ShiftStart(g));
            }
            Ev::ShiftEnd(g) => {
                let ((_, b), members) = &world.shift_groups[g as usize];
                for &k in members {
                    let k = k as usize;
                    free[world.crews[k].department][slot(k)].remove(k as u32);
                }
                queue.schedule(world.next_time_of_day(*b, t), Ev::ShiftEnd(g));
            }
        }
    }

    // Busy time still running at the end counts up to the end.
    for c in &cases {
        if c.assigned != NONE && c.handled == NONE {
            busy(c.crew as usize, c.assigned, world.end);
        }
    }
    let crews = world
        .crews
        .iter()
        .enumerate()
        .map(|(k, c)| CrewRecord {
            crew: c.id.clone(),
            department: world.departments[c.department].clone(),
            on_shift_secs: world.shift_secs_between(k, world.start, world.end),
            busy_secs: crew_busy_secs[k],
            overtime_secs: crew_busy_secs[k] - crew_shift_busy[k],
        })
        .collect();
    Replication {
        world,
        arrivals: n_arrivals + recurrences,
        cases,
        crews,
        events,
        contention,
        patrol_visits,
    }
}
