//! The discrete-event engine of the closed case loop.
//!
//! intake → verify → (graded escalation ladder) → dispatch → crew travels → handle →
//! feedback → check → close, with working-hour deadlines and overdue escalation.
//! One [`EventQueue`] ordered by (time, sequence); randomness keyed per case and
//! purpose ([`crate::rng`]), so a replication is the same at any thread count and
//! scenarios compared on one seed share their arriving incidents.

use std::collections::BTreeSet;

use gridtwin_core::prepared::PreparedPolygon;
use gridtwin_core::{CategoryKind, CategoryTable, City, Level, Routing};

use crate::calendar::WorkingCalendar;
use crate::network::RoadNetwork;
use crate::queue::EventQueue;
use crate::rng::{text_id, uniform, Stream};
use crate::scenario::{parse_shift, Duration, LadderStage, Scenario};
use crate::timeline::{CaseRecord, CrewRecord};

/// Why a world could not be built from a scenario and a city.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorldError(pub String);

struct GridInfo {
    codes: [String; 4],
    polygon: PreparedPolygon,
    bbox: [f64; 4],
    weight: f64,
    camera: bool,
}

struct SimCategory {
    class: String,
    kind: CategoryKind,
    department: usize,
    routing: Routing,
    time_limit_hours: f64,
    handle: Duration,
    ladder: Vec<LadderStage>,
}

struct ArrivalSource {
    category: usize,
    /// Peak rate per second (the thinning envelope) and relative weights.
    per_sec: f64,
    hour: [f64; 24],
    weekday: [f64; 7],
    /// Component failures happen at components; events anywhere in the grids.
    at: Option<Vec<(f64, f64)>>,
}

struct CrewSpec {
    id: String,
    department: usize,
    territorial: bool,
    base: (f64, f64),
    shift: (i64, i64),
}

/// Everything a replication needs, built once per scenario.
pub struct World {
    pub scenario: Scenario,
    grids: Vec<GridInfo>,
    categories: Vec<SimCategory>,
    sources: Vec<ArrivalSource>,
    departments: Vec<String>,
    crews: Vec<CrewSpec>,
    network: Option<RoadNetwork>,
    calendar: WorkingCalendar,
    start: i64,
    end: i64,
    utc_offset_s: i64,
    total_weight: f64,
}

fn weights<const N: usize>(w: &Option<Vec<f64>>) -> [f64; N] {
    let mut out = [1.0; N];
    if let Some(w) = w {
        let max = w.iter().cloned().fold(0.0, f64::max);
        for (o, v) in out.iter_mut().zip(w) {
            *o = v / max;
        }
    }
    out
}

impl World {
    /// Builds the world from a scenario, its city and category table.
    pub fn new(
        scenario: Scenario,
        city: &City,
        table: &CategoryTable,
        calendar: WorkingCalendar,
    ) -> Result<Self, WorldError> {
        let err = |m: String| WorldError(m);
        let start = scenario
            .start
            .parse::<jiff::Timestamp>()
            .map_err(|e| err(format!("start `{}`: {e}", scenario.start)))?;
        let utc_offset_s = calendar.utc_offset_s();
        let start = start.as_second();
        let end = start + (scenario.days * 86_400.0).round() as i64;
        let rule = city.rule;
        let mut grid_areas: Vec<_> = city.areas_at(Level::Grid).collect();
        grid_areas.sort_by_key(|a| a.code);
        if grid_areas.is_empty() {
            return Err(err("the city has no unit grids".into()));
        }
        let mut grids: Vec<GridInfo> = grid_areas
            .iter()
            .map(|a| {
                let at = |l: Level| {
                    a.code
                        .ancestor(&rule, l)
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                };
                let b = a.bbox().expect("grids have boundaries");
                GridInfo {
                    codes: [
                        a.code.to_string(),
                        at(Level::Community),
                        at(Level::Street),
                        at(Level::District),
                    ],
                    polygon: PreparedPolygon::new(&a.boundary),
                    bbox: [b.min().x, b.min().y, b.max().x, b.max().y],
                    weight: a.area_m2()
                        * scenario
                            .arrivals
                            .hotspots
                            .get(&a.code.to_string())
                            .copied()
                            .unwrap_or(1.0),
                    camera: scenario
                        .discovery
                        .camera_grids
                        .contains(&a.code.to_string()),
                }
            })
            .collect();
        for g in scenario
            .arrivals
            .hotspots
            .keys()
            .chain(&scenario.discovery.camera_grids)
        {
            if !grids.iter().any(|x| &x.codes[0] == g) {
                return Err(err(format!(
                    "grid `{g}` named in the scenario is not in the city"
                )));
            }
        }
        // Cameras in the N grids with the highest hotspot factor (ties: lowest code).
        let mut by_factor: Vec<(f64, usize)> = grid_areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    scenario
                        .arrivals
                        .hotspots
                        .get(&a.code.to_string())
                        .copied()
                        .unwrap_or(1.0),
                    i,
                )
            })
            .collect();
        by_factor.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in by_factor.iter().take(scenario.discovery.camera_top_grids) {
            grids[i].camera = true;
        }
        let total_weight = grids.iter().map(|g| g.weight).sum::<f64>();

        let mut departments: Vec<String> = Vec::new();
        let mut dept = |name: &str| -> usize {
            if let Some(i) = departments.iter().position(|d| d == name) {
                i
            } else {
                departments.push(name.to_string());
                departments.len() - 1
            }
        };
        let mut categories = Vec::new();
        let mut sources = Vec::new();
        let add_category = |class: &str,
                            kind: CategoryKind,
                            categories: &mut Vec<SimCategory>,
                            dept: &mut dyn FnMut(&str) -> usize|
         -> Result<usize, WorldError> {
            let c = table.find(kind, class).ok_or_else(|| {
                err(format!(
                    "{} category `{class}` is not in the category table",
                    kind.name()
                ))
            })?;
            let routing = match scenario.dispatch.routing.get(class) {
                Some(r) => r.parse().map_err(err)?,
                None => c.routing,
            };
            categories.push(SimCategory {
                class: class.to_string(),
                kind,
                department: dept(&c.department),
                routing,
                time_limit_hours: c.time_limit_hours,
                handle: scenario
                    .steps
                    .handle_by_category
                    .get(class)
                    .copied()
                    .unwrap_or(scenario.steps.handle),
                ladder: scenario.escalation.get(class).cloned().unwrap_or_default(),
            });
            Ok(categories.len() - 1)
        };
        for (class, a) in &scenario.arrivals.events {
            let i = add_category(class, CategoryKind::Event, &mut categories, &mut dept)?;
            let hour: [f64; 24] = weights(&a.hour_weights);
            let weekday: [f64; 7] = weights(&a.weekday_weights);
            // Peak rate: the mean rate scaled by the profile's peak over its mean.
            let mean_h = hour.iter().sum::<f64>() / 24.0;
            let mean_w = weekday.iter().sum::<f64>() / 7.0;
            let per_sec = a.per_day / 86_400.0 / (mean_h * mean_w);
            sources.push(ArrivalSource {
                category: i,
                per_sec,
                hour,
                weekday,
                at: None,
            });
        }
        for (class, f) in &scenario.arrivals.failures {
            let i = add_category(class, CategoryKind::Component, &mut categories, &mut dept)?;
            let key = table
                .find(CategoryKind::Component, class)
                .expect("checked")
                .key;
            let at: Vec<(f64, f64)> = city
                .components
                .iter()
                .filter(|c| c.category() == key)
                .map(|c| (c.location.x(), c.location.y()))
                .collect();
            let per_sec = at.len() as f64 * f.per_component_per_year / (365.0 * 86_400.0);
            sources.push(ArrivalSource {
                category: i,
                per_sec,
                hour: [1.0; 24],
                weekday: [1.0; 7],
                at: Some(at),
            });
        }
        for class in scenario.escalation.keys() {
            if !categories.iter().any(|c| &c.class == class) {
                return Err(err(format!(
                    "escalation.{class}: no arrivals of that category in the scenario"
                )));
            }
        }
        let centre = {
            let (mut x, mut y, mut w) = (0.0, 0.0, 0.0);
            for g in &grids {
                x += (g.bbox[0] + g.bbox[2]) / 2.0 * g.weight;
                y += (g.bbox[1] + g.bbox[3]) / 2.0 * g.weight;
                w += g.weight;
            }
            (x / w, y / w)
        };
        let mut crews = Vec::new();
        for (name, pool) in &scenario.crews {
            let d = dept(&pool.department);
            let shift = parse_shift(&pool.shift).map_err(err)?;
            for k in 0..pool.count {
                let base = match pool.base.as_str() {
                    "spread" => {
                        // Evenly through the grids in code order.
                        let g = &grids[(k as usize * grids.len()) / pool.count.max(1) as usize];
                        ((g.bbox[0] + g.bbox[2]) / 2.0, (g.bbox[1] + g.bbox[3]) / 2.0)
                    }
                    _ => centre,
                };
                crews.push(CrewSpec {
                    id: format!("{name}-{:03}", k + 1),
                    department: d,
                    territorial: pool.territorial,
                    base,
                    shift,
                });
            }
        }
        let network = (scenario.travel.mode == "roads" && !city.roads.is_empty())
            .then(|| RoadNetwork::new(&city.roads, scenario.travel.max_speed_kmh));
        if scenario.travel.mode == "roads" && network.is_none() {
            return Err(err("travel.mode = roads but the city has no roads".into()));
        }
        Ok(World {
            scenario,
            grids,
            categories,
            sources,
            departments,
            crews,
            network,
            calendar,
            start,
            end,
            utc_offset_s,
            total_weight,
        })
    }

    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn end(&self) -> i64 {
        self.end
    }

    pub fn departments(&self) -> &[String] {
        &self.departments
    }

    /// Pick a grid by weight from a uniform number.
    fn pick_grid(&self, u: f64) -> usize {
        let mut t = u * self.total_weight;
        for (i, g) in self.grids.iter().enumerate() {
            t -= g.weight;
            if t < 0.0 {
                return i;
            }
        }
        self.grids.len() - 1
    }

    fn local(&self, t: i64) -> (usize, usize, i64) {
        let local = t + self.utc_offset_s;
        let day = local.div_euclid(86_400);
        let sec = local.rem_euclid(86_400);
        (
            ((day + 3).rem_euclid(7)) as usize,
            (sec / 3600) as usize,
            sec,
        )
    }

    fn on_shift(&self, crew: usize, t: i64) -> bool {
        let (a, b) = self.crews[crew].shift;
        let (_, _, sec) = self.local(t);
        a <= sec && sec < b
    }

    fn next_shift_start(&self, crew: usize, t: i64) -> i64 {
        let (a, _) = self.crews[crew].shift;
        let (_, _, sec) = self.local(t);
        let midnight = t - sec;
        if sec < a {
            midnight + a
        } else {
            midnight + 86_400 + a
        }
    }
}

/// Draws a duration in seconds.
fn draw(d: &Duration, u: f64) -> i64 {
    let minutes = match *d {
        Duration::Fixed { minutes } => minutes,
        Duration::Exp { mean } => -mean * (1.0 - u).ln(),
        Duration::Uniform { min, max } => min + (max - min) * u,
    };
    (minutes * 60.0).round() as i64
}

// Purposes of keyed random numbers.
const P_SPOT: u64 = 2;
const P_PATROL: u64 = 3;
const P_HOTLINE: u64 = 4;
const P_HOTLINE_DELAY: u64 = 5;
const P_SENSOR: u64 = 6;
const P_VERIFY: u64 = 7;
const P_DISPATCH: u64 = 8;
const P_HANDLE: u64 = 9;
const P_FEEDBACK: u64 = 10;
const P_CHECK: u64 = 11;
const P_LADDER: u64 = 12;
const P_PHASE: u64 = 13;

#[derive(Clone, Copy, Debug)]
enum Ev {
    Intake(u32),
    Verified(u32),
    Ladder(u32, u8),
    Dispatch(u32),
    Arrive(u32),
    Handled(u32),
    Checked(u32),
    Deadline(u32),
    CrewFree(u32),
}

struct Case {
    rec: CaseRecord,
    /// Index of the crew on the case (the record keeps its name).
    crew: usize,
    category: usize,
    at: (f64, f64),
    node: u32,
    priority: u8,
    queued_at: i64,
}

/// What one replication produced.
pub struct Replication {
    /// Incidents the arrival processes generated (counted there, to check that the
    /// timeline holds every one of them).
    pub arrivals: usize,
    pub cases: Vec<CaseRecord>,
    pub crews: Vec<CrewRecord>,
    pub events: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    /// Higher priority first.
    neg_priority: i8,
    since: i64,
    case: u32,
}

/// Runs one replication.
pub fn run(world: &World, seed: u64, rep: u64) -> Replication {
    let sc = &world.scenario;
    let mut queue: EventQueue<Ev> = EventQueue::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut events = 0u64;

    // --- Arrivals: thinning of a Poisson process per source, on its own stream.
    let mut arrivals: Vec<(i64, usize, usize, (f64, f64))> = Vec::new();
    for (si, src) in world.sources.iter().enumerate() {
        if src.per_sec <= 0.0 {
            continue;
        }
        let cat = &world.categories[src.category];
        let mut s = Stream::new(seed, rep, text_id(&cat.class) ^ (si as u64) << 48);
        let mut t = world.start as f64;
        loop {
            t += -(1.0 - s.next_f64()).ln() / src.per_sec;
            if t >= world.end as f64 {
                break;
            }
            let (wd, hr, _) = world.local(t as i64);
            let accept = s.next_f64() < src.hour[hr] * src.weekday[wd];
            let (u1, u2, u3) = (s.next_f64(), s.next_f64(), s.next_f64());
            if !accept {
                continue;
            }
            let (grid, at) = match &src.at {
                Some(points) if !points.is_empty() => {
                    let p = points[((u1 * points.len() as f64) as usize).min(points.len() - 1)];
                    (
                        world
                            .grids
                            .iter()
                            .position(|g| {
                                g.polygon.contains(p.0, p.1) || g.polygon.on_boundary(p.0, p.1)
                            })
                            .unwrap_or(usize::MAX),
                        p,
                    )
                }
                Some(_) => continue,
                None => {
                    let g = world.pick_grid(u1);
                    let b = world.grids[g].bbox;
                    // Rejection sampling inside the grid, keyed so it is reproducible.
                    let mut p = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                    for k in 0..64u64 {
                        let (a, c) = if k == 0 {
                            (u2, u3)
                        } else {
                            (
                                uniform(seed, rep, (t as u64) ^ k, P_SPOT, k),
                                uniform(seed, rep, (t as u64) ^ k, P_SPOT, k + 100),
                            )
                        };
                        let q = (b[0] + a * (b[2] - b[0]), b[1] + c * (b[3] - b[1]));
                        if world.grids[g].polygon.contains(q.0, q.1) {
                            p = q;
                            break;
                        }
                    }
                    (g, p)
                }
            };
            arrivals.push((t as i64, src.category, grid, at));
        }
    }
    arrivals.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.3 .0.total_cmp(&b.3 .0))
            .then(a.3 .1.total_cmp(&b.3 .1))
    });

    let n_arrivals = arrivals.len();
    let mut intakes: Vec<(i64, u32)> = Vec::with_capacity(n_arrivals);
    // Patrol phase per grid (when in the interval its worker passes).
    let patrol = (sc.discovery.patrol_interval_hours * 3600.0) as i64;
    for (id, (t, category, grid, at)) in arrivals.into_iter().enumerate() {
        let id = id as u32;
        let key = id as u64;
        let cat = &world.categories[category];
        let (intake, source) = if sc.discovery.mode == "immediate" {
            (t, "sensor")
        } else {
            let mut best = (i64::MAX, "patrol");
            if grid != usize::MAX {
                let phase = (uniform(seed, rep, grid as u64, P_PHASE, 0) * patrol as f64) as i64;
                let mut pass = world.start
                    + phase
                    + ((t - world.start - phase).div_euclid(patrol) + 1) * patrol;
                for k in 0..1000 {
                    if uniform(seed, rep, key, P_PATROL, k) < sc.discovery.patrol_detect_probability
                    {
                        break;
                    }
                    pass += patrol;
                }
                best = (pass, "patrol");
                if world.grids[grid].camera {
                    let s = t + draw(
                        &sc.discovery.sensor_delay,
                        uniform(seed, rep, key, P_SENSOR, 0),
                    );
                    if s < best.0 {
                        best = (s, "sensor");
                    }
                }
            }
            if uniform(seed, rep, key, P_HOTLINE, 0) < sc.discovery.hotline_probability {
                let h = t + draw(
                    &sc.discovery.hotline_delay,
                    uniform(seed, rep, key, P_HOTLINE_DELAY, 0),
                );
                if h < best.0 {
                    best = (h, "hotline");
                }
            }
            best
        };
        let node = world
            .network
            .as_ref()
            .and_then(|n| n.nearest(at.0, at.1))
            .unwrap_or(0);
        let codes = world
            .grids
            .get(grid)
            .map(|g| g.codes.clone())
            .unwrap_or_default();
        let rec = CaseRecord {
            case_id: format!("C{:07}", id + 1),
            kind: cat.kind.name().to_string(),
            category: cat.class.clone(),
            grid_code: codes[0].clone(),
            community_code: codes[1].clone(),
            street_code: codes[2].clone(),
            district_code: codes[3].clone(),
            lon: at.0,
            lat: at.1,
            occurred_at: t,
            intake_at: None,
            source: source.to_string(),
            ..Default::default()
        };
        cases.push(Case {
            rec,
            crew: usize::MAX,
            category,
            at,
            node,
            priority: 0,
            queued_at: 0,
        });
        if intake < world.end {
            intakes.push((intake, id));
        }
    }
    // Intakes are merged into the event stream from a sorted list instead of sitting in
    // the heap all at once (a year of a megacity would make every pop slow). At equal
    // times an intake comes before other events, in case order — the order the heap
    // gave them when they were scheduled first.
    intakes.sort_unstable();
    let mut next_intake = 0usize;

    // --- Crews.
    let n_crews = world.crews.len();
    let mut crew_busy = vec![false; n_crews];
    let mut crew_at: Vec<((f64, f64), u32)> = world
        .crews
        .iter()
        .map(|c| {
            (
                c.base,
                world
                    .network
                    .as_ref()
                    .and_then(|n| n.nearest(c.base.0, c.base.1))
                    .unwrap_or(0),
            )
        })
        .collect();
    let mut crew_busy_secs = vec![0i64; n_crews];
    let mut crew_waiting_shift = vec![false; n_crews];
    // One queue per department. Territorial routing prefers the department's crews
    // stationed at grid level (territorial pools) when one is free.
    let mut queues: Vec<BTreeSet<QueueKey>> = vec![BTreeSet::new(); world.departments.len()];
    let queue_of = |c: &Case| -> usize { world.categories[c.category].department };
    let serves = |crew: usize, q: usize| -> bool { world.crews[crew].department == q };
    let travel = |from: ((f64, f64), u32), to: (f64, f64), to_node: u32| -> i64 {
        match &world.network {
            Some(n) => n.travel_between(from.0, from.1, to, to_node).round() as i64,
            None => 0,
        }
    };

    loop {
        let from_list = match (intakes.get(next_intake), queue.peek_time()) {
            (Some(&(ti, _)), Some(tq)) => ti <= tq,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (t, ev) = if from_list {
            let (ti, id) = intakes[next_intake];
            next_intake += 1;
            (ti, Ev::Intake(id))
        } else {
            match queue.pop() {
                Some(x) => x,
                None => break,
            }
        };
        if t >= world.end {
            break;
        }
        events += 1;
        match ev {
            Ev::Intake(id) => {
                let c = &mut cases[id as usize];
                c.rec.intake_at = Some(t);
                let cat = &world.categories[c.category];
                let deadline = world.calendar.add_working_hours(t, cat.time_limit_hours);
                c.rec.deadline = Some(deadline);
                queue.schedule(deadline, Ev::Deadline(id));
                queue.schedule(
                    t + draw(&sc.steps.verify, uniform(seed, rep, id as u64, P_VERIFY, 0)),
                    Ev::Verified(id),
                );
            }
            Ev::Verified(id) => {
                let c = &mut cases[id as usize];
                c.rec.verified_at = Some(t);
                let cat = &world.categories[c.category];
                if let Some(stage) = cat.ladder.first() {
                    queue.schedule(
                        t + draw(&stage.delay, uniform(seed, rep, id as u64, P_LADDER, 0)),
                        Ev::Ladder(id, 0),
                    );
                } else {
                    queue.schedule(
                        t + dispatch_delay(sc, cat.routing, seed, rep, id),
                        Ev::Dispatch(id),
                    );
                }
            }
            Ev::Ladder(id, i) => {
                let c = &mut cases[id as usize];
                let cat = &world.categories[c.category];
                let stage = &cat.ladder[i as usize];
                c.rec
                    .ladder
                    .push_str(if c.rec.ladder.is_empty() { "" } else { ">" });
                c.rec.ladder.push_str(&stage.action);
                if uniform(seed, rep, id as u64, P_LADDER, 100 + i as u64) < stage.compliance {
                    c.rec.closed_at = Some(t);
                    c.rec.closed_by = format!("compliance:{}", stage.action);
                } else if let Some(next) = cat.ladder.get(i as usize + 1) {
                    queue.schedule(
                        t + draw(
                            &next.delay,
                            uniform(seed, rep, id as u64, P_LADDER, i as u64 + 1),
                        ),
                        Ev::Ladder(id, i + 1),
                    );
                } else {
                    queue.schedule(
                        t + dispatch_delay(sc, cat.routing, seed, rep, id),
                        Ev::Dispatch(id),
                    );
                }
            }
            Ev::Dispatch(id) => {
                let q = queue_of(&cases[id as usize]);
                let c = &mut cases[id as usize];
                c.rec.dispatched_at = Some(t);
                let territory = world.categories[c.category].routing == Routing::Territory;
                // Nearest free crew on shift of the department (straight line; the road
                // network then gives the travel time); for territorial cases, grid-level
                // crews first.
                let mut best: Option<((bool, f64), usize)> = None;
                for k in 0..n_crews {
                    if crew_busy[k] || !serves(k, q) || !world.on_shift(k, t) {
                        continue;
                    }
                    let p = crew_at[k].0;
                    let d = gridtwin_core::coord::haversine_m(p.0, p.1, c.at.0, c.at.1);
                    let rank = (territory && !world.crews[k].territorial, d);
                    if best.is_none_or(|(br, _)| rank < br) {
                        best = Some((rank, k));
                    }
                }
                match best {
                    Some((_, k)) => {
                        crew_busy[k] = true;
                        c.crew = k;
                        c.rec.crew = world.crews[k].id.clone();
                        c.rec.assigned_at = Some(t);
                        let tt = travel(crew_at[k], c.at, c.node);
                        queue.schedule(t + tt, Ev::Arrive(id));
                    }
                    None => {
                        c.queued_at = t;
                        queues[q].insert(QueueKey {
                            neg_priority: -(c.priority as i8),
                            since: t,
                            case: id,
                        });
                    }
                }
            }
            Ev::Arrive(id) => {
                let c = &mut cases[id as usize];
                c.rec.arrived_at = Some(t);
                let cat = &world.categories[c.category];
                queue.schedule(
                    t + draw(&cat.handle, uniform(seed, rep, id as u64, P_HANDLE, 0)),
                    Ev::Handled(id),
                );
            }
            Ev::Handled(id) => {
                let c = &mut cases[id as usize];
                c.rec.handled_at = Some(t);
                let k = world
                    .crews
                    .iter()
                    .position(|x| x.id == c.rec.crew)
                    .expect("a handled case has a crew");
                crew_busy[k] = false;
                crew_busy_secs[k] += t - c.rec.assigned_at.unwrap_or(t);
                crew_at[k] = (c.at, c.node);
                let fb = t + draw(
                    &sc.steps.feedback,
                    uniform(seed, rep, id as u64, P_FEEDBACK, 0),
                );
                c.rec.feedback_at = Some(fb);
                let ck = fb + draw(&sc.steps.check, uniform(seed, rep, id as u64, P_CHECK, 0));
                queue.schedule(ck, Ev::Checked(id));
                queue.schedule(t, Ev::CrewFree(k as u32));
            }
            Ev::Checked(id) => {
                let c = &mut cases[id as usize];
                c.rec.checked_at = Some(t);
                c.rec.closed_at = Some(t);
                c.rec.closed_by = "crew".into();
            }
            Ev::Deadline(id) => {
                let c = &mut cases[id as usize];
                if c.rec.closed_at.is_none() {
                    c.rec.escalated = true;
                    c.priority = 1;
                    // A queued case moves ahead of routine ones.
                    let q = queue_of(&cases[id as usize]);
                    let c = &cases[id as usize];
                    let old = QueueKey {
                        neg_priority: 0,
                        since: c.queued_at,
                        case: id,
                    };
                    if queues[q].remove(&old) {
                        queues[q].insert(QueueKey {
                            neg_priority: -1,
                            since: c.queued_at,
                            case: id,
                        });
                    }
                }
            }
            Ev::CrewFree(k) => {
                let k = k as usize;
                if crew_busy[k] {
                    continue;
                }
                if !world.on_shift(k, t) {
                    if !crew_waiting_shift[k] {
                        crew_waiting_shift[k] = true;
                        queue.schedule(world.next_shift_start(k, t), Ev::CrewFree(k as u32));
                    }
                    continue;
                }
                crew_waiting_shift[k] = false;
                // The most urgent case among the queues this crew serves.
                let pick = (0..queues.len())
                    .filter(|&q| serves(k, q))
                    .filter_map(|q| queues[q].first().map(|key| (*key, q)))
                    .min();
                if let Some((key, q)) = pick {
                    queues[q].remove(&key);
                    let c = &mut cases[key.case as usize];
                    crew_busy[k] = true;
                    c.crew = k;
                    c.rec.crew = world.crews[k].id.clone();
                    c.rec.assigned_at = Some(t);
                    let tt = travel(crew_at[k], c.at, c.node);
                    queue.schedule(t + tt, Ev::Arrive(key.case));
                }
            }
        }
        // Crews off shift with work waiting are woken at their next shift start.
        if let Ev::Dispatch(_) = ev {
            for k in 0..n_crews {
                if !crew_busy[k] && !crew_waiting_shift[k] && !world.on_shift(k, t) {
                    crew_waiting_shift[k] = true;
                    queue.schedule(world.next_shift_start(k, t), Ev::CrewFree(k as u32));
                }
            }
        }
    }

    // Busy time still running at the end counts up to the end.
    for c in &cases {
        if let (Some(a), None) = (c.rec.assigned_at, c.rec.handled_at) {
            crew_busy_secs[c.crew] += world.end - a;
        }
    }
    let crews = world
        .crews
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let shift_len = c.shift.1 - c.shift.0;
            CrewRecord {
                crew: c.id.clone(),
                department: world.departments[c.department].clone(),
                on_shift_secs: ((world.end - world.start) as f64 / 86_400.0 * shift_len as f64)
                    .round() as i64,
                busy_secs: crew_busy_secs[k],
            }
        })
        .collect();
    Replication {
        arrivals: n_arrivals,
        cases: cases.into_iter().map(|c| c.rec).collect(),
        crews,
        events,
    }
}

fn dispatch_delay(sc: &Scenario, routing: Routing, seed: u64, rep: u64, id: u32) -> i64 {
    let d = match routing {
        Routing::Owner => &sc.dispatch.owner_delay,
        Routing::Territory => &sc.dispatch.territory_delay,
        Routing::Negotiated => &sc.dispatch.negotiated_delay,
        Routing::Designated => &sc.dispatch.designated_delay,
    };
    draw(d, uniform(seed, rep, id as u64, P_DISPATCH, 0))
}
