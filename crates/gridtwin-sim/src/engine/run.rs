//! One replication: the event loop of the closed case loop.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct QueueKey {
    /// Higher priority first.
    pub(super) neg_priority: i8,
    pub(super) since: i64,
    pub(super) case: CaseId,
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
    pub(super) requests: std::collections::HashMap<u32, Vec<(i64, u8, i64, CaseId)>>,
    pub(super) trips: std::collections::HashMap<CaseId, Vec<u32>>,
}

/// What a grid worker is doing.
#[derive(Clone, Copy)]
pub(super) enum Doing {
    Off,
    Visit(GridIx),
    /// Verifying a case (`false`) or checking it (`true`).
    Task(CaseId, bool),
}

/// Grid workers on their routes.
pub(super) struct Workers {
    /// What each grid worker is doing,
    pub(super) doing: Vec<Doing>,
    /// where it is on its route,
    pub(super) pos: Vec<usize>,
    /// the tasks waiting for it (case, is a check);
    pub(super) tasks: Vec<std::collections::VecDeque<(CaseId, bool)>>,
    /// each visit (grid, time);
    pub(super) patrol_visits: Vec<(u32, i64)>,
    /// per grid, its incidents in order of occurrence,
    pub(super) grid_cases: Vec<Vec<CaseId>>,
    /// how many of them had occurred by the last visit,
    pub(super) grid_next: Vec<usize>,
    /// and those occurred and not found yet.
    pub(super) grid_pending: Vec<Vec<CaseId>>,
}

/// The centre's people: operators per station and the call centre's agents.
pub(super) struct Staff {
    /// Free operators per station (registration, dispatching),
    pub(super) station_free: [u32; 2],
    /// and the cases waiting, in arrival order;
    pub(super) station_queue: [std::collections::VecDeque<CaseId>; 2],
    /// the call centre's free agents,
    pub(super) agents_free: u32,
    /// and the callers waiting (one who hung up is skipped).
    pub(super) callers: std::collections::VecDeque<CaseId>,
}

/// The crews during a run.
pub(super) struct CrewState {
    /// Busy or not,
    pub(super) busy: Vec<bool>,
    /// where each is,
    pub(super) at: Vec<Place>,
    /// busy time inside the reported window,
    pub(super) busy_secs: Vec<i64>,
    /// the part of it on shift,
    pub(super) shift_busy: Vec<i64>,
    /// the case each is on,
    pub(super) case: Vec<Option<CaseId>>,
    /// and the free ones on shift per department: [grid-level (territorial), other].
    pub(super) free: Vec<[FreeCrews; 2]>,
}
/// What every step of a run reads and none changes.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'w> {
    pub(super) world: &'w World,
    pub(super) seed: u64,
    pub(super) rep: u64,
}

/// One replication in progress: the event queue, the cases, the crews, the queues
/// and the people of the centre; each event is handed to the method named for it
/// (`case_events.rs`, `people_events.rs`). A method takes the fields it uses by name
/// (`let Run { queue, cases, .. } = self`), so the borrows stay disjoint and a step
/// reads as the model does.
pub(super) struct Run<'w> {
    /// The world, the seed and the replication number: what every step reads.
    pub(super) ctx: Ctx<'w>,
    /// Lane 0: intakes; lane 1 + c: deadlines of category c.
    pub(super) queue: EventQueue<Ev>,
    /// Events handled.
    pub(super) events: u64,
    /// Every case, by number.
    pub(super) cases: Vec<SimCase<'w>>,
    /// Incidents drawn (recurrences come on top).
    pub(super) n_arrivals: usize,
    /// Problems that came back after a compliance closure.
    pub(super) recurrences: usize,
    /// Grid workers on their routes, and the incidents waiting to be found.
    pub(super) workers: Workers,
    /// The centre's operators and the call centre's agents, and who waits for them.
    pub(super) staff: Staff,
    /// The crews: busy or free, where, on which case, their busy time.
    pub(super) crew: CrewState,
    /// Signal-priority requests of emergency trips,
    pub(super) requests: SignalBook,
    /// and the decisions taken.
    pub(super) contention: Vec<ContentionRecord>,
    /// One queue of waiting cases per department.
    pub(super) queues: Vec<BTreeSet<QueueKey>>,
}

/// Runs one replication.
pub fn run(world: &World, seed: u64, rep: u64) -> Replication<'_> {
    let mut run = Run::new(world, seed, rep);
    while let Some((t, ev)) = run.queue.pop() {
        if t >= world.end {
            break;
        }
        run.events += 1;
        run.load_ahead();
        run.step(t, ev);
    }
    run.finish()
}

/// Events ahead in a lane whose cases are loaded early: far enough for a load from
/// memory to arrive, near enough to stay in cache.
const AHEAD: usize = 12;

impl Run<'_> {
    /// Starts loading the cases of events that come soon: the event `AHEAD` places on
    /// in the lane just popped from (intakes, deadlines: each case's first touch in
    /// hours, from a gigabyte of cases) and the heap's next. The loop is otherwise
    /// waiting on those loads (`perf`: most of `step`'s samples sat on a case's first
    /// field read). A hint only: nothing is read or changed.
    #[inline]
    fn load_ahead(&self) {
        let (lane, heap) = self.queue.ahead(AHEAD);
        for ev in [lane, heap].into_iter().flatten() {
            if let Some(id) = ev.case() {
                if let Some(c) = self.cases.get(id.ix()) {
                    prefetch_case(c);
                }
            }
        }
    }
}

/// Asks the CPU to start loading every cache line of a case.
#[inline(always)]
fn prefetch_case(c: &SimCase) {
    let base = c as *const SimCase as *const i8;
    let size = std::mem::size_of::<SimCase>();
    // every 64 bytes, and the last byte (a case need not start on a line)
    for at in (0..size).step_by(64).chain([size - 1]) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint; it reads nothing and cannot fault (the
        // address is inside the case: `at` < its size).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(base.add(at))
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (base, at);
    }
}

impl<'w> Run<'w> {
    /// The replication set up: its incidents drawn, their cases and intakes queued,
    /// the warm start entered, the crews at their bases.
    fn new(world: &'w World, seed: u64, rep: u64) -> Self {
        let sc = &world.scenario;
        // Lane 0: intakes (sorted up front); lane 1 + c: deadlines of category c (their
        // times only grow, as intakes come in time order and the calendar is monotone).
        let mut queue: EventQueue<Ev> = EventQueue::with_lanes(1 + world.categories.len());
        let events = 0u64;

        let arrivals = draw_arrivals(world, seed, rep);

        let n_arrivals = arrivals.len();
        // Each case is made from its own arrival and keyed draws alone, so they are made
        // side by side (in case order: the same cases at any thread count); the intake
        // and call times come back beside them.
        let mut cases: Vec<SimCase<'w>> = Vec::new();
        let mut found: Vec<(i64, Option<i64>)> = Vec::new();
        {
            use rayon::prelude::*;
            arrivals
                .par_iter()
                .map(|a| {
                    let (intake, source, call_at) =
                        discover(world, (seed, rep), a.key, a.t, a.grid);
                    let mut c = new_case(world, a, source);
                    let call_at = call_at.filter(|&t| t < world.end);
                    if let Some(call_at) = call_at {
                        c.call_at = at(call_at);
                    }
                    (c, (intake, call_at))
                })
                .unzip_into_vecs(&mut cases, &mut found);
        }
        drop(arrivals);
        let mut intakes: Vec<(i64, CaseId)> = Vec::with_capacity(n_arrivals);
        let mut calls: Vec<(i64, CaseId)> = Vec::new();
        for (id, &(intake, call_at)) in found.iter().enumerate() {
            let id = CaseId::new(id);
            if intake < world.end {
                intakes.push((intake, id));
            }
            if let Some(call_at) = call_at {
                calls.push((call_at, id));
            }
        }
        drop(found);
        let recurrences = 0usize;
        cases.reserve(world.open_at_start.len());
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
        let walking = sc.discovery.grid_workers.as_ref();
        let n_workers = world.workers.len();
        let w_doing = vec![Doing::Off; n_workers];
        let w_pos = vec![0usize; n_workers];
        let w_tasks: Vec<std::collections::VecDeque<(CaseId, bool)>> =
            vec![Default::default(); n_workers];
        let patrol_visits: Vec<(u32, i64)> = Vec::new();
        let mut grid_cases: Vec<Vec<CaseId>> = Vec::new();
        let mut grid_next: Vec<usize> = Vec::new();
        let mut grid_pending: Vec<Vec<CaseId>> = Vec::new();
        if walking.is_some() {
            grid_cases = vec![Vec::new(); world.grids.len()];
            grid_next = vec![0; world.grids.len()];
            grid_pending = vec![Vec::new(); world.grids.len()];
            for (id, c) in cases.iter().enumerate() {
                if let Some(g) = c.grid {
                    grid_cases[g.ix()].push(CaseId::new(id));
                }
            }
            for w in 0..n_workers {
                // every worker starts its route at the run's start (or its shift's)
                queue.schedule(world.run_start, Ev::WorkerStep(w as u32));
            }
        }
        // The centre's staff: per station (registration, dispatching), free operators and
        // the cases waiting in arrival order.
        let centre = sc.centre.as_ref();
        let station_free: [u32; 2] = centre.map_or([0, 0], |c| [c.intake_staff, c.dispatchers]);
        let station_queue: [std::collections::VecDeque<CaseId>; 2] = Default::default();
        // The call centre: free agents and the callers waiting (in call order; one who
        // hung up is skipped when reached).
        let agents_free = sc.discovery.call_centre.as_ref().map_or(0, |c| c.agents);
        let callers: std::collections::VecDeque<CaseId> = Default::default();

        // --- Crews.
        let n_crews = world.crews.len();
        let crew_busy = vec![false; n_crews];
        let crew_at: Vec<Place> = world
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
        let crew_busy_secs = vec![0i64; n_crews];
        let crew_shift_busy = vec![0i64; n_crews];
        // The case each crew is on.
        let crew_case = vec![None; n_crews];
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
        for k in 0..n_crews {
            if world.on_shift(k, world.run_start) {
                free[world.crews[k].department][slot(world, CrewId::new(k))]
                    .insert(k as u32, crew_at[k].xy);
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
        let requests = SignalBook::default();
        let contention: Vec<ContentionRecord> = Vec::new();
        // One queue of waiting cases per department.
        let queues: Vec<BTreeSet<QueueKey>> = vec![BTreeSet::new(); world.departments.len()];

        Run {
            ctx: Ctx { world, seed, rep },
            queue,
            events,
            cases,
            n_arrivals,
            recurrences,
            workers: Workers {
                doing: w_doing,
                pos: w_pos,
                tasks: w_tasks,
                patrol_visits,
                grid_cases,
                grid_next,
                grid_pending,
            },
            staff: Staff {
                station_free,
                station_queue,
                agents_free,
                callers,
            },
            crew: CrewState {
                busy: crew_busy,
                at: crew_at,
                busy_secs: crew_busy_secs,
                shift_busy: crew_shift_busy,
                case: crew_case,
                free,
            },
            requests,
            contention,
            queues,
        }
    }

    /// Hands an event to its method.
    fn step(&mut self, t: i64, ev: Ev) {
        let ev = match ev {
            Ev::IntakeFrom(id, source) => {
                let c = &mut self.cases[id.ix()];
                if c.intake.is_none() {
                    c.source = source;
                }
                Ev::Intake(id)
            }
            other => other,
        };
        match ev {
            Ev::Intake(id) => self.on_intake(t, id),
            Ev::Verified(id) => self.on_verified(t, id),
            Ev::Ladder(id, i) => self.on_ladder(t, id, i),
            Ev::Dispatch(id) => self.on_dispatch(t, id),
            Ev::Arrive(id, gen) => self.on_arrive(t, id, gen),
            Ev::Handled(id, gen) => self.on_handled(t, id, gen),
            Ev::Checked(id) => self.on_checked(t, id),
            Ev::Deadline(id) => self.on_deadline(t, id),
            Ev::Call(id) => self.on_call(t, id),
            Ev::HangUp(id) => self.on_hang_up(t, id),
            Ev::CallDone(id) => self.on_call_done(t, id),
            Ev::StationDone(st, id) => self.on_station_done(t, st, id),
            Ev::Feedback(id) => self.on_feedback(t, id),
            Ev::WorkerStep(w) => self.on_worker_step(t, w),
            Ev::CrewFree(k) => self.on_crew_free(t, k),
            Ev::ShiftStart(g) => self.on_shift_start(t, g),
            Ev::ShiftEnd(g) => self.on_shift_end(t, g),
            Ev::IntakeFrom(..) => unreachable!("turned into Intake above"),
        }
    }

    /// What the replication produced: busy time still running counts to the end.
    fn finish(self) -> Replication<'w> {
        let world = self.ctx.world;
        let Run {
            cases,
            n_arrivals,
            recurrences,
            events,
            contention,
            workers,
            mut crew,
            ..
        } = self;
        // Busy time still running at the end counts up to the end.
        for c in &cases {
            if let (Some(assigned), None, Some(k)) = (c.assigned, c.handled, c.crew) {
                add_busy(
                    world,
                    &mut crew.busy_secs,
                    &mut crew.shift_busy,
                    k,
                    assigned.secs(),
                    world.end,
                );
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
                busy_secs: crew.busy_secs[k],
                overtime_secs: crew.busy_secs[k] - crew.shift_busy[k],
            })
            .collect();
        Replication {
            world,
            arrivals: n_arrivals + recurrences,
            cases,
            crews,
            events,
            contention,
            patrol_visits: workers.patrol_visits,
        }
    }
}

/// Whether grid worker `w` is on shift at `t`.
pub(super) fn worker_on_shift(world: &World, w: usize, t: i64) -> bool {
    let (a, b) = world.workers[w].1;
    let (_, _, sec) = world.local(t);
    a <= sec && sec < b
}

/// The grid worker of a case's grid, where grid workers are modelled.
pub(super) fn worker_of(world: &World, c: &SimCase) -> Option<usize> {
    world.scenario.discovery.grid_workers.as_ref()?;
    world.worker_of_grid[c.grid?.ix()].map(|w| w as usize)
}

/// A centre operator's time on a case at a station.
pub(super) fn station_time(
    world: &World,
    (seed, rep): (u64, u64),
    st: Station,
    c: &SimCase,
) -> i64 {
    let cs = world
        .scenario
        .centre
        .as_ref()
        .expect("stations need [centre]");
    let d = match st {
        Station::Registration => &cs.registration,
        Station::Dispatching => &cs.dispatching,
    };
    draw(
        d,
        uniform(seed, rep, c.key, P_STATION, st as u64 + 2 * c.rework as u64),
    )
}

/// Busy time of crew `k` over `[a, b)` inside the reported window (the warm-up is
/// discarded), and the part of it on the crew's shift.
pub(super) fn add_busy(
    world: &World,
    busy_secs: &mut [i64],
    shift_busy: &mut [i64],
    k: CrewId,
    a: i64,
    b: i64,
) {
    let (a, b) = (a.max(world.start), b.min(world.end));
    if b > a {
        busy_secs[k.ix()] += b - a;
        shift_busy[k.ix()] += world.shift_secs_between(k.ix(), a, b);
    }
}

/// A crew's slot among its department's free crews: 0 grid-level, 1 other.
pub(super) fn slot(world: &World, k: CrewId) -> usize {
    usize::from(!world.crews[k.ix()].territorial)
}

/// Crew `k`, at `from`, takes case `id` at `t` and sets off: the trip (after any
/// closure cuts the place off) is scheduled, and an emergency trip requests priority
/// at the signals on its path.
#[allow(clippy::too_many_arguments)]
pub(super) fn set_off(
    world: &World,
    (seed, rep): (u64, u64),
    cases: &mut [SimCase],
    queue: &mut EventQueue<Ev>,
    book: &mut SignalBook,
    contention: &mut Vec<ContentionRecord>,
    crew_case: &mut [Option<CaseId>],
    (id, k, from, t): (CaseId, CrewId, Place, i64),
) {
    crew_case[k.ix()] = Some(id);
    let c = &mut cases[id.ix()];
    c.crew = Some(k);
    c.assigned = at(t);
    c.queue_wait += t - c.queued_at;
    c.passes = c.passes.saturating_add(1);
    let (cut_off, drive) = trip(world, (seed, rep), from, c, t);
    c.cut_off += cut_off;
    // a place cut off is set off for when a road reopens
    let t = t + cut_off;
    let arrive = t + drive;
    let own_delay = request_signals(world, cases, queue, book, contention, (id, from, t));
    let c = &mut cases[id.ix()];
    c.eta = at(arrive + own_delay);
    c.signal_delay += own_delay;
    queue.schedule(arrive + own_delay, Ev::Arrive(id, c.gen));
}
