//! The discrete-event engine of the closed case loop.
//!
//! intake → verify → (graded escalation ladder) → dispatch → crew travels → handle →
//! feedback → check → close, with working-hour deadlines and overdue escalation.
//! One [`EventQueue`] ordered by (time, sequence); randomness keyed per case and
//! purpose ([`crate::rng`]), so a replication is the same at any thread count and
//! scenarios compared on one seed share their arriving incidents.

use std::collections::BTreeSet;

use gridtwin_core::frame::LocalFrame;
use gridtwin_core::locate::{GridLocator, LocatorOptions};
use gridtwin_core::prepared::PreparedPolygon;
use gridtwin_core::{CategoryKind, CategoryTable, City, Level, Routing};

use crate::calendar::WorkingCalendar;
use crate::free_crews::FreeCrews;
use crate::network::{Closed, RoadNetwork};
use crate::queue::EventQueue;
use crate::rng::{text_id, uniform, Stream};
use crate::scenario::{parse_shift, Duration, LadderStage, Scenario};
use crate::timeline::{CaseRecord, ContentionRecord, CrewRecord, Text};

/// Why a world could not be built from a scenario and a city.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorldError(pub String);

struct GridInfo {
    /// Grid, community, street and district codes.
    codes: [Text; 4],
    polygon: PreparedPolygon,
    bbox: [f64; 4],
    weight: f64,
    camera: bool,
}

struct SimCategory {
    class: String,
    class_text: Text,
    kind_text: Text,
    /// `ladder` text after k stages passed (`""`, `notify`, `notify>visit`, …).
    ladder_text: Vec<Text>,
    /// `closed_by` text when stage k's compliance closes the case.
    compliance_text: Vec<Text>,
    department: usize,
    routing: Routing,
    time_limit_hours: f64,
    time_basis: gridtwin_core::TimeBasis,
    stage_limits: gridtwin_core::StageLimits,
    /// Probability that a check finds the problem not solved (the department's).
    check_failure: f64,
    /// The street handles it itself when routed by territory (else forwards it).
    street_capable: bool,
    handle: Duration,
    /// `drawn` travel: the department's trip time (else the scenario's).
    trip: Option<Duration>,
    ladder: Vec<LadderStage>,
}

struct ArrivalSource {
    category: usize,
    /// Names the source's random stream and its incidents' keys: the category's kind
    /// and code, so adding or removing another source changes nothing here.
    stream: u64,
    priority: u8,
    /// Peak rate per second (the thinning envelope) and relative weights.
    per_sec: f64,
    hour: [f64; 24],
    weekday: [f64; 7],
    /// Component failures happen at components (with the grid holding each, or
    /// `usize::MAX` outside every grid); events anywhere in the grids.
    at: Option<Vec<((f64, f64), usize)>>,
}

struct CrewSpec {
    id: Text,
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
    /// Distinct crew shifts other than the whole day, and the crews on each.
    shift_groups: Vec<((i64, i64), Vec<u32>)>,
    network: Option<RoadNetwork>,
    calendar: WorkingCalendar,
    /// When the simulation starts: `start` less the discarded warm-up.
    run_start: i64,
    start: i64,
    end: i64,
    utc_offset_s: i64,
    /// Running sums of grid weights, for picking a grid by binary search.
    cum_weight: Vec<f64>,
    /// Local metres for nearest-crew searches and straight-line travel.
    frame: LocalFrame,
    bbox_local: [f64; 4],
    texts: Texts,
    /// Road closure states: from each time on, which roads are closed (state i is
    /// numbered i; state 0, before the first change, has every road open).
    closure_times: Vec<i64>,
    closure_states: Vec<Vec<bool>>,
    /// Incidents a hazard raises: (time, category, grid, lon/lat), emergency priority.
    hazard_arrivals: Vec<(i64, usize, usize, (f64, f64))>,
    /// Road nodes with a traffic signal (for signal priority), and its component code.
    signal_at: std::collections::HashMap<u32, String>,
    /// Per grid, the grid-level (territorial) crews whose beat holds it.
    beat_crews: Vec<Vec<u32>>,
    /// Grid workers: each one's route (grids in walking order) and shift; and the
    /// worker of each grid (`u32::MAX`: none).
    workers: Vec<(Vec<u32>, (i64, i64))>,
    worker_of_grid: Vec<u32>,
    /// Cases open at the start (a warm start from a history, [`World::start_from`]).
    open_at_start: Vec<OpenCase>,
}

/// A case open at the run's start, as its history left it.
#[derive(Debug, Clone)]
struct OpenCase {
    category: usize,
    grid: usize,
    at: (f64, f64),
    occurred: i64,
    intake: i64,
    verified: i64,
    dispatched: i64,
    handled: i64,
    feedback: i64,
    deadline: i64,
    source: u8,
}

/// How many open cases a warm start brought in, by the step they had reached, and
/// the history rows it could not place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartState {
    /// Open at the start and not verified; verified, not dispatched; dispatched (in
    /// a queue or with a crew), not handled; handled, not checked.
    pub awaiting_verification: usize,
    pub awaiting_dispatch: usize,
    pub with_department: usize,
    pub awaiting_check: usize,
    /// Rows open at the start left out, by reason.
    pub left_out: std::collections::BTreeMap<String, usize>,
}

/// Texts shared by every case record.
struct Texts {
    empty: Text,
    sources: [Text; 3],
    crew_closed: Text,
    not_registered: Text,
    /// `working`, `natural`.
    basis: [Text; 2],
    departments: Vec<Text>,
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
    /// The city's time zone, seconds east of UTC (times in its files are written in it).
    pub fn utc_offset_s(&self) -> i64 {
        self.utc_offset_s
    }

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
        let run_start = start - (scenario.warmup_days * 86_400.0).round() as i64;
        let rule = city.rule;
        let mut grid_areas: Vec<_> = city.areas_at(Level::Grid).collect();
        grid_areas.sort_by_key(|a| a.code);
        if grid_areas.is_empty() {
            return Err(err("the city has no unit grids".into()));
        }
        let mut grids: Vec<GridInfo> = grid_areas
            .iter()
            .map(|a| {
                let at = |l: Level| -> Text {
                    a.code
                        .ancestor(&rule, l)
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                        .into()
                };
                let b = a.bbox().expect("grids have boundaries");
                GridInfo {
                    codes: [
                        a.code.to_string().into(),
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
            if !grids.iter().any(|x| *x.codes[0] == **g) {
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
        let cum_weight: Vec<f64> = grids
            .iter()
            .scan(0.0, |acc, g| {
                *acc += g.weight;
                Some(*acc)
            })
            .collect();

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
            let routing = match by_category(&scenario.dispatch.routing, kind, class) {
                Some(r) => r.parse().map_err(err)?,
                None => c.routing,
            };
            let ladder: Vec<LadderStage> = by_category(&scenario.escalation, kind, class)
                .cloned()
                .unwrap_or_default();
            let mut ladder_text: Vec<Text> = vec!["".into()];
            let mut compliance_text = Vec::new();
            for (i, st) in ladder.iter().enumerate() {
                let prev = ladder_text[i].clone();
                ladder_text.push(if i == 0 {
                    st.action.as_str().into()
                } else {
                    format!("{prev}>{}", st.action).into()
                });
                compliance_text.push(format!("compliance:{}", st.action).into());
            }
            categories.push(SimCategory {
                class: class.to_string(),
                class_text: class.into(),
                kind_text: kind.name().into(),
                ladder_text,
                compliance_text,
                department: dept(&c.department),
                routing,
                time_limit_hours: c.time_limit_hours,
                time_basis: c.time_basis,
                stage_limits: c.stage_limits,
                street_capable: match &scenario.dispatch.street_capable {
                    None => true,
                    Some(list) => list
                        .iter()
                        .any(|k| k == class || *k == format!("{}:{class}", kind.name())),
                },
                check_failure: scenario
                    .steps
                    .check_failure_by_department
                    .get(&c.department)
                    .copied()
                    .unwrap_or(scenario.steps.check_failure),
                handle: by_category(&scenario.steps.handle_by_category, kind, class)
                    .copied()
                    .unwrap_or(scenario.steps.handle),
                trip: scenario
                    .travel
                    .time_by_department
                    .get(&c.department)
                    .or(scenario.travel.time.as_ref())
                    .copied(),
                ladder,
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
                stream: text_id(&format!("event:{class}")),
                priority: a.priority,
                per_sec,
                hour,
                weekday,
                at: None,
            });
        }
        let mut locator: Option<GridLocator> = None;
        for (class, f) in &scenario.arrivals.failures {
            let i = add_category(class, CategoryKind::Component, &mut categories, &mut dept)?;
            let key = table
                .find(CategoryKind::Component, class)
                .expect("checked")
                .key;
            let points: Vec<(f64, f64)> = city
                .components
                .iter()
                .filter(|c| c.category() == key)
                .map(|c| (c.location.x(), c.location.y()))
                .collect();
            // The grid of each component, once (the locator's half-open boundary rule).
            let loc = locator.get_or_insert_with(|| {
                let owned: Vec<_> = grid_areas.iter().map(|a| (*a).clone()).collect();
                GridLocator::new(&owned, LocatorOptions::default())
            });
            let mut found = Vec::new();
            loc.locate_many(&points, &mut found);
            let at: Vec<((f64, f64), usize)> = points
                .into_iter()
                .zip(found)
                .map(|(p, g)| (p, g.map_or(usize::MAX, |g| g as usize)))
                .collect();
            let per_sec = at.len() as f64 * f.per_component_per_year / (365.0 * 86_400.0);
            sources.push(ArrivalSource {
                category: i,
                stream: text_id(&format!("component:{class}")),
                priority: 0,
                per_sec,
                hour: [1.0; 24],
                weekday: [1.0; 7],
                at: Some(at),
            });
        }
        // Keys of per-category tables name one category of the scenario: `event:0101`,
        // `component:0101`, or a bare code where only one kind has it (component 0101,
        // a water manhole cover, and event 0101, exposed garbage, share a code).
        let present: Vec<(&str, &str)> = categories
            .iter()
            .map(|c| (&*c.kind_text, c.class.as_str()))
            .collect();
        for (table, keys) in [
            ("escalation", scenario.escalation.keys().collect::<Vec<_>>()),
            (
                "dispatch.routing",
                scenario.dispatch.routing.keys().collect(),
            ),
            (
                "steps.handle_by_category",
                scenario.steps.handle_by_category.keys().collect(),
            ),
        ] {
            for key in keys {
                let kinds: Vec<&str> = match key.split_once(':') {
                    Some((kind, class)) => {
                        if kind != "event" && kind != "component" {
                            return Err(err(format!(
                                "{table}.\"{key}\": `{kind}` is not a kind (event or component)"
                            )));
                        }
                        present
                            .iter()
                            .filter(|p| **p == (kind, class))
                            .map(|p| p.0)
                            .collect()
                    }
                    None => present.iter().filter(|p| p.1 == key).map(|p| p.0).collect(),
                };
                match kinds.len() {
                    0 => {
                        return Err(err(format!(
                            "{table}.\"{key}\": no arrivals of that category in the scenario"
                        )))
                    }
                    1 => {}
                    _ => {
                        return Err(err(format!(
                            "{table}.\"{key}\": both event {key} and component {key} arrive in this scenario; write \"event:{key}\" or \"component:{key}\""
                        )))
                    }
                }
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
        let mut beat_crews: Vec<Vec<u32>> = vec![Vec::new(); grids.len()];
        for (name, pool) in &scenario.crews {
            let d = dept(&pool.department);
            let shift = parse_shift(&pool.shift).map_err(err)?;
            for k in 0..pool.count {
                let base = match pool.base.as_str() {
                    "spread" => {
                        // The grids in code order, cut into one run per crew (its beat):
                        // based at the weighted centre of its grids, and a grid-level
                        // (territorial) crew serves its own grids' territorial cases
                        // first (力量下沉).
                        let n = grids.len();
                        let count = pool.count.max(1) as usize;
                        let beat = (k as usize * n) / count..((k as usize + 1) * n) / count;
                        if pool.territorial {
                            for g in beat.clone() {
                                beat_crews[g].push(crews.len() as u32);
                            }
                        }
                        let (mut x, mut y, mut w) = (0.0, 0.0, 0.0);
                        for g in &grids[beat] {
                            x += (g.bbox[0] + g.bbox[2]) / 2.0 * g.weight.max(1e-12);
                            y += (g.bbox[1] + g.bbox[3]) / 2.0 * g.weight.max(1e-12);
                            w += g.weight.max(1e-12);
                        }
                        if w > 0.0 {
                            (x / w, y / w)
                        } else {
                            centre
                        }
                    }
                    _ => {
                        if pool.territorial {
                            // based at the centre, it serves every grid
                            for b in beat_crews.iter_mut() {
                                b.push(crews.len() as u32);
                            }
                        }
                        centre
                    }
                };
                crews.push(CrewSpec {
                    id: format!("{name}-{:03}", k + 1).into(),
                    department: d,
                    territorial: pool.territorial,
                    base,
                    shift,
                });
            }
        }
        let mut shift_groups: Vec<((i64, i64), Vec<u32>)> = Vec::new();
        for (k, c) in crews.iter().enumerate() {
            if c.shift == (0, 86_400) {
                continue;
            }
            match shift_groups.iter_mut().find(|g| g.0 == c.shift) {
                Some(g) => g.1.push(k as u32),
                None => shift_groups.push((c.shift, vec![k as u32])),
            }
        }
        let frame = LocalFrame::new(centre.0, centre.1);
        let mut bbox_local = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for g in &grids {
            let a = frame.to_local(g.bbox[0], g.bbox[1]);
            let b = frame.to_local(g.bbox[2], g.bbox[3]);
            bbox_local = [
                bbox_local[0].min(a.0),
                bbox_local[1].min(a.1),
                bbox_local[2].max(b.0),
                bbox_local[3].max(b.1),
            ];
        }
        // Closures: timed ones from the scenario, and those a rainstorm causes.
        let road_index: std::collections::HashMap<&str, usize> = city
            .roads
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut changes: Vec<(i64, usize, bool)> = Vec::new();
        for (i, c) in scenario.closures.iter().enumerate() {
            for id in &c.roads {
                let r = *road_index
                    .get(id.as_str())
                    .ok_or_else(|| err(format!("closures[{i}]: road `{id}` is not in the city")))?;
                changes.push((start + (c.at_hours * 3600.0).round() as i64, r, true));
                if let Some(u) = c.until_hours {
                    changes.push((start + (u * 3600.0).round() as i64, r, false));
                }
            }
        }
        let mut hazard_arrivals = Vec::new();
        // The event category a hazard raises cases of (added if no arrivals name it).
        let hazard_category = |class: &str,
                               categories: &mut Vec<SimCategory>,
                               dept: &mut dyn FnMut(&str) -> usize|
         -> Result<usize, WorldError> {
            match categories
                .iter()
                .position(|c| c.class == class && &*c.kind_text == CategoryKind::Event.name())
            {
                Some(i) => Ok(i),
                None => add_category(class, CategoryKind::Event, categories, dept),
            }
        };
        if let Some(f) = &scenario.flood {
            // every DEM format `gridtwin flood` reads, under the same lon/lat checks
            let placed = gridtwin_io::read_placed_dem(&f.dem, None)
                .map_err(|e| err(format!("flood.dem: {e}")))?;
            let dem = &placed.dem;
            let to_dem = |x: f64, y: f64| placed.to_dem(x, y);
            let cat = hazard_category(&f.incident_category, &mut categories, &mut dept)?;
            let area = placed.cell_area_m2;
            let mut closed = vec![false; city.roads.len()];
            for step in gridtwin_core::flood_impact::storm(
                city,
                dem,
                f.rain_mm_per_hour,
                f.hours,
                f.threshold_m,
                &to_dem,
                area,
            ) {
                let (h, imp) = (step.hour, step.impact);
                let t = start + ((f.start_hours + h as f64) * 3600.0).round() as i64;
                for a in imp.roads {
                    if std::mem::replace(&mut closed[a.index], true) {
                        continue;
                    }
                    changes.push((t, a.index, true));
                    let line = &city.roads[a.index].line;
                    let mid = line.0[line.0.len() / 2];
                    let grid = a
                        .grid
                        .and_then(|g| {
                            // inventory numbers grids in code order, as `grids` here
                            grids.get(g).map(|_| g)
                        })
                        .unwrap_or(usize::MAX);
                    hazard_arrivals.push((t, cat, grid, (mid.x, mid.y)));
                }
            }
        }
        if let Some(f) = &scenario.fire {
            use gridtwin_core::fire::{building_cover, road_cells, road_closure, spread};
            let res = h3o::Resolution::try_from(f.resolution)
                .map_err(|e| err(format!("fire.resolution: {e}")))?;
            let cat = hazard_category(&f.incident_category, &mut categories, &mut dept)?;
            let mut starts = Vec::new();
            for (i, p) in f.ignitions.iter().enumerate() {
                let ll = h3o::LatLng::new(p[1], p[0])
                    .map_err(|e| err(format!("fire.ignitions[{i}]: {e}")))?;
                starts.push(ll.to_cell(res));
            }
            let run = spread(
                &building_cover(&city.buildings, res),
                &starts,
                &f.spread,
                f.seed,
            );
            let t0 = start + (f.start_hours * 3600.0).round() as i64;
            let step = (f.spread.step_minutes * 60.0).round() as i64;
            for (i, road) in city.roads.iter().enumerate() {
                if let Some((a, b)) = road_closure(&run, &road_cells(road, res), f.spread.steps) {
                    changes.push((t0 + a as i64 * step, i, true));
                    changes.push((t0 + (b as i64 + 1) * step, i, false));
                }
            }
            let loc = locator.get_or_insert_with(|| {
                let owned: Vec<_> = grid_areas.iter().map(|a| (*a).clone()).collect();
                GridLocator::new(&owned, LocatorOptions::default())
            });
            for p in &f.ignitions {
                let grid = loc.locate(p[0], p[1]).map_or(usize::MAX, |g| g as usize);
                hazard_arrivals.push((t0, cat, grid, (p[0], p[1])));
            }
        }
        changes.sort_by_key(|&(t, r, c)| (t, r, c));
        let mut closure_times = vec![i64::MIN];
        let mut closure_states = vec![vec![false; city.roads.len()]];
        for (t, r, c) in changes {
            if *closure_times.last().expect("state 0") != t {
                closure_times.push(t);
                closure_states.push(closure_states.last().expect("state 0").clone());
            }
            closure_states.last_mut().expect("a state")[r] = c;
        }
        let network = (scenario.travel.mode == "roads" && !city.roads.is_empty())
            .then(|| RoadNetwork::new(&city.roads, scenario.travel.max_speed_kmh));
        // Signalised intersections: the node nearest each traffic signal, within 30 m.
        let mut signal_at = std::collections::HashMap::new();
        if scenario.signals.is_some() {
            let net = network
                .as_ref()
                .ok_or_else(|| err("signals need travel.mode = roads".into()))?;
            let key = table.find(CategoryKind::Component, "0202").map(|c| c.key);
            for c in city.components.iter().filter(|c| Some(c.category()) == key) {
                let (x, y) = (c.location.x(), c.location.y());
                if let Some(n) = net.nearest(x, y) {
                    let p = net.node(n);
                    if gridtwin_core::coord::haversine_m(x, y, p.0, p.1) <= 30.0 {
                        signal_at.entry(n).or_insert_with(|| c.code.to_string());
                    }
                }
            }
        }
        if scenario.travel.mode == "roads" && network.is_none() {
            return Err(err("travel.mode = roads but the city has no roads".into()));
        }
        for (table, d) in scenario
            .steps
            .check_failure_by_department
            .keys()
            .map(|d| ("steps.check_failure_by_department", d))
            .chain(
                scenario
                    .travel
                    .time_by_department
                    .keys()
                    .map(|d| ("travel.time_by_department", d)),
            )
        {
            if !departments.contains(d) {
                return Err(err(format!(
                    "{table}.\"{d}\": no category or crew of the scenario has that department (departments: {})",
                    departments.join(", ")
                )));
            }
        }
        // Grid workers' beats: the grids in code order, cut into one run per worker.
        let mut workers = Vec::new();
        let mut worker_of_grid = vec![u32::MAX; grids.len()];
        if let (Some(w), false) = (&scenario.discovery.grid_workers, grids.is_empty()) {
            let shift = crate::scenario::parse_shift(&w.shift).map_err(err)?;
            let n = grids.len();
            let count = (w.count as usize).min(n.max(1));
            for k in 0..count {
                let route: Vec<u32> = ((k * n) / count..((k + 1) * n) / count)
                    .map(|g| g as u32)
                    .collect();
                for &g in &route {
                    worker_of_grid[g as usize] = k as u32;
                }
                workers.push((route, shift));
            }
        }
        let department_texts: Vec<Text> = departments.iter().map(|d| d.as_str().into()).collect();
        Ok(World {
            scenario,
            grids,
            categories,
            sources,
            departments,
            crews,
            shift_groups,
            network,
            calendar,
            run_start,
            start,
            end,
            utc_offset_s,
            cum_weight,
            frame,
            bbox_local,
            texts: Texts {
                empty: "".into(),
                sources: ["patrol".into(), "hotline".into(), "sensor".into()],
                crew_closed: "crew".into(),
                not_registered: "not_registered".into(),
                basis: ["working".into(), "natural".into()],
                departments: department_texts,
            },
            closure_times,
            closure_states,
            hazard_arrivals,
            signal_at,
            beat_crews,
            workers,
            worker_of_grid,
            open_at_start: Vec::new(),
        })
    }

    /// Starts the run from a history's state: every case of `history` open at the
    /// run's start (taken in before it, not closed by it) enters at the step it had
    /// reached; its remaining step time is drawn conditionally on the time already
    /// spent, and its deadline is the history's (else its category's, from intake).
    /// A case with a crew at the start goes back to its department's queue (the
    /// history does not say where the crew is). Only cases in the scenario's
    /// categories and grids can enter; the rest are counted in `left_out`.
    pub fn start_from(&mut self, history: &[CaseRecord]) -> StartState {
        let t0 = self.start;
        // (the history is the warm-up: nothing is simulated before the start)
        self.run_start = self.start;
        let mut state = StartState::default();
        let grid_of: std::collections::HashMap<&str, usize> = self
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (&*g.codes[0], i))
            .collect();
        let mut open = Vec::new();
        for c in history {
            let Some(intake) = c.intake_at.filter(|&t| t < t0) else {
                continue;
            };
            if c.closed_at.is_some_and(|t| t <= t0) {
                continue;
            }
            let mut leave = |why: &str| *state.left_out.entry(why.to_string()).or_default() += 1;
            let Some(category) = self
                .categories
                .iter()
                .position(|k| *k.kind_text == *c.kind && k.class == *c.category)
            else {
                leave("category not in the scenario");
                continue;
            };
            let Some(&grid) = grid_of.get(&*c.grid_code) else {
                leave("grid not in the city");
                continue;
            };
            let by = |t: Option<i64>| t.filter(|&t| t <= t0).unwrap_or(NONE);
            let (verified, dispatched, handled) =
                (by(c.verified_at), by(c.dispatched_at), by(c.handled_at));
            let feedback = by(c.feedback_at);
            if handled != NONE {
                state.awaiting_check += 1;
            } else if dispatched != NONE {
                state.with_department += 1;
            } else if verified != NONE {
                state.awaiting_dispatch += 1;
            } else {
                state.awaiting_verification += 1;
            }
            let source = match &*c.source {
                "patrol" => 0,
                "hotline" => 1,
                _ => 2,
            };
            let at = if c.lon.is_finite() && c.lat.is_finite() {
                (c.lon, c.lat)
            } else {
                let b = self.grids[grid].bbox;
                ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
            };
            open.push(OpenCase {
                category,
                grid,
                at,
                occurred: c.occurred_at.min(intake),
                intake,
                verified,
                dispatched,
                handled,
                feedback,
                deadline: c.deadline.unwrap_or(NONE),
                source,
            });
        }
        self.open_at_start = open;
        state
    }

    /// Start of the reported window (indicators count from here).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// When the simulation starts: the warm-up before [`World::start`] is simulated and
    /// discarded from the indicators.
    pub fn run_start(&self) -> i64 {
        self.run_start
    }

    /// When a step whose clock starts at `from` is due, on the category's basis
    /// (`NONE` where the category sets no limit for it).
    fn due(&self, cat: &SimCategory, from: i64, hours: Option<f64>) -> i64 {
        hours.map_or(NONE, |h| self.calendar.add_hours(cat.time_basis, from, h))
    }

    /// Names of the departments the scenario's categories go to.
    pub fn department_names(&self) -> impl Iterator<Item = &str> {
        self.departments.iter().map(|d| d.as_str())
    }

    pub fn end(&self) -> i64 {
        self.end
    }

    pub fn departments(&self) -> &[String] {
        &self.departments
    }

    /// Roads closed at time `t`.
    fn closed_at(&self, t: i64) -> Closed<'_> {
        let i = self.closure_times.partition_point(|&x| x <= t) - 1;
        Closed {
            state: i as u32,
            roads: &self.closure_states[i],
        }
    }

    /// Number of roads closed at time `t`.
    pub fn roads_closed_at(&self, t: i64) -> usize {
        self.closed_at(t).roads.iter().filter(|&&c| c).count()
    }

    /// Number of road closure states (1 when nothing ever closes).
    pub fn closure_states(&self) -> usize {
        self.closure_states.len()
    }

    /// Travel time a crew leaving at `t` needs from `from` to `to` (lon/lat), as the
    /// engine computes it: on the roads open at `t`, or as `travel.mode` says; a place
    /// cut off by closures counts the wait for the reopening that lets the crew through.
    pub fn travel_secs_at(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> i64 {
        match &self.network {
            Some(n) => {
                let (a, b) = (
                    n.nearest(from.0, from.1).unwrap_or(0),
                    n.nearest(to.0, to.1).unwrap_or(0),
                );
                let (wait, trip) = self.road_trip(t, (from, a), (to, b));
                wait + trip
            }
            None if self.scenario.travel.mode == "straight" => {
                let (p, q) = (
                    self.frame.to_local(from.0, from.1),
                    self.frame.to_local(to.0, to.1),
                );
                let d = (p.0 - q.0).hypot(p.1 - q.1);
                (d * self.scenario.travel.detour_factor
                    / (self.scenario.travel.straight_speed_kmh / 3.6))
                    .round() as i64
            }
            None => match (
                &self.scenario.travel.time,
                self.scenario.travel.mode.as_str(),
            ) {
                // (no case to key a draw: the median trip)
                (Some(d), "drawn") => draw(d, 0.5),
                _ => 0,
            },
        }
    }

    /// The signalised nodes on the path of a trip leaving `from` (lon/lat) at `t` for
    /// `to` on the roads open at `t`, each with the time the trip reaches it before any
    /// wait at a signal (as the engine asks for signal priority).
    pub fn signal_times(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> Vec<(u32, i64)> {
        let Some(n) = &self.network else {
            return Vec::new();
        };
        let (a, b) = (
            n.nearest(from.0, from.1).unwrap_or(0),
            n.nearest(to.0, to.1).unwrap_or(0),
        );
        self.signal_times_from(t, (from, a), b)
    }

    fn signal_times_from(&self, t: i64, from: ((f64, f64), u32), to_node: u32) -> Vec<(u32, i64)> {
        let Some(n) = &self.network else {
            return Vec::new();
        };
        let access = n.access_secs(from.0, from.1);
        n.path_with(from.1, to_node, self.closed_at(t))
            .unwrap_or_default()
            .into_iter()
            .filter(|(node, _)| self.signal_at.contains_key(node))
            .map(|(node, secs)| (node, t + (access + secs).round() as i64))
            .collect()
    }

    /// Whether closures at `t` cut `to` off from `from` (lon/lat) on a road network
    /// that reaches it when every road is open.
    pub fn cut_off_at(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> bool {
        let Some(n) = &self.network else {
            return false;
        };
        let (a, b) = (
            n.nearest(from.0, from.1).unwrap_or(0),
            n.nearest(to.0, to.1).unwrap_or(0),
        );
        n.travel_between_unless_cut(from, a, to, b, self.closed_at(t))
            .is_none()
    }

    /// A road trip leaving `from` at `t` for `to` (each a lon/lat and its nearest
    /// node): the seconds the place stays cut off by closures first (the crew waits
    /// for the first reopening that lets it through; past the run's end if none
    /// does), and the trip's seconds then.
    fn road_trip(&self, t: i64, from: ((f64, f64), u32), to: ((f64, f64), u32)) -> (i64, i64) {
        let Some(n) = &self.network else {
            return (0, 0);
        };
        let trip = |t: i64| {
            n.travel_between_unless_cut(from.0, from.1, to.0, to.1, self.closed_at(t))
                .map(|s| s.round() as i64)
        };
        if let Some(s) = trip(t) {
            return (0, s);
        }
        let later = self.closure_times.partition_point(|&x| x <= t);
        for &t2 in &self.closure_times[later..] {
            if let Some(s) = trip(t2) {
                return (t2 - t, s);
            }
        }
        (self.end - t + 1, 0)
    }

    /// Pick a grid by weight from a uniform number.
    fn pick_grid(&self, u: f64) -> usize {
        let total = *self.cum_weight.last().expect("a city has grids");
        let t = u * total;
        self.cum_weight
            .partition_point(|&c| c <= t)
            .min(self.grids.len() - 1)
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

    /// The centre sends a case on: the routing rule's delay, then the hand-overs (属地
    /// forwarding to the owner department when the street cannot handle the category,
    /// 退单 returns by the department, each with probability `return_probability`, until
    /// the centre designates it after `designate_after` returns). Records the
    /// hand-overs on the case; returns the seconds until dispatch.
    fn hand_over(&self, c: &mut SimCase, seed: u64, rep: u64) -> i64 {
        let sc = &self.scenario;
        let d = &sc.dispatch;
        let cat = &self.categories[c.category as usize];
        let key = c.key;
        let mut wait = dispatch_delay(sc, cat.routing, seed, rep, key);
        let forwarded = cat.routing == Routing::Territory && !cat.street_capable;
        let mut dispute = 0;
        let mut hop = 0u64;
        if forwarded {
            dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop));
            hop += 1;
        }
        let mut returns = 0u8;
        if forwarded || cat.routing == Routing::Owner {
            while returns < d.designate_after
                && uniform(seed, rep, key, P_RETURN, returns as u64) < d.return_probability
            {
                returns += 1;
                // back to the centre, and sent again
                dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop));
                dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop + 1));
                hop += 2;
            }
            if returns == d.designate_after && d.designate_after > 0 && d.return_probability > 0.0 {
                // 指定: the centre designates the department
                dispute += draw(&d.designated_delay, uniform(seed, rep, key, P_DISPATCH, 1));
            }
        }
        c.forwarded = forwarded;
        c.returns = returns;
        c.dispute = dispute;
        wait += dispute;
        wait
    }

    /// Seconds of `[a, b)` inside crew `k`'s shift.
    fn shift_secs_between(&self, k: usize, a: i64, b: i64) -> i64 {
        let (s0, s1) = self.crews[k].shift;
        let (_, _, sec) = self.local(a);
        let mut midnight = a - sec;
        let mut total = 0;
        while midnight < b {
            total += ((midnight + s1).min(b) - (midnight + s0).max(a)).max(0);
            midnight += 86_400;
        }
        total
    }

    fn on_shift(&self, crew: usize, t: i64) -> bool {
        let (a, b) = self.crews[crew].shift;
        let (_, _, sec) = self.local(t);
        a <= sec && sec < b
    }

    /// The first time after `t` (strictly) at `sec` seconds past local midnight.
    fn next_time_of_day(&self, sec_of_day: i64, t: i64) -> i64 {
        let (_, _, sec) = self.local(t);
        let midnight = t - sec;
        if sec < sec_of_day {
            midnight + sec_of_day
        } else {
            midnight + 86_400 + sec_of_day
        }
    }
}

/// A case the centre sends on (verified, or at the end of its ladder, or after a
/// compliance that did not hold): to a dispatcher where the centre's staff are
/// modelled (station 1), else after the routing rule's delay and the hand-overs.
#[allow(clippy::too_many_arguments)]
fn send_on(
    world: &World,
    c: &mut SimCase,
    id: u32,
    t: i64,
    (seed, rep): (u64, u64),
    station_free: &mut [u32; 2],
    station_queue: &mut [std::collections::VecDeque<u32>; 2],
    queue: &mut EventQueue<Ev>,
) {
    match &world.scenario.centre {
        Some(cs) => {
            if station_free[1] > 0 {
                station_free[1] -= 1;
                let d = draw(
                    &cs.dispatching,
                    uniform(seed, rep, c.key, P_STATION, 1 + 2 * c.rework as u64),
                );
                queue.schedule(t + d, Ev::StationDone(1, id));
            } else {
                station_queue[1].push_back(id);
            }
        }
        None => {
            let at = t + world.hand_over(c, seed, rep);
            queue.schedule(at, Ev::Dispatch(id));
        }
    }
}

/// The entry of a per-category table for a category: its `kind:class` key, else its
/// bare class code (whose ambiguity across kinds [`World::new`] refuses).
fn by_category<'a, V>(
    table: &'a std::collections::BTreeMap<String, V>,
    kind: CategoryKind,
    class: &str,
) -> Option<&'a V> {
    table
        .get(&format!("{}:{class}", kind.name()))
        .or_else(|| table.get(class))
}

/// Draws a duration in seconds.
fn draw(d: &Duration, u: f64) -> i64 {
    let minutes = match *d {
        Duration::Fixed { minutes } => minutes,
        Duration::Exp { mean } => -mean * (1.0 - u).ln(),
        Duration::Uniform { min, max } => min + (max - min) * u,
        Duration::Lognormal { mu, sigma } => {
            crate::dist::quantile(crate::dist::Family::Lognormal, &[mu, sigma], u)
        }
        Duration::Gamma { shape, mean } => {
            crate::dist::quantile(crate::dist::Family::Gamma, &[shape, mean], u)
        }
    };
    // (a heavy tail is cut at a year: a duration, not an overflow)
    (minutes.min(525_600.0) * 60.0).round() as i64
}

/// Draws the rest of a duration already `spent_s` seconds old: the law conditioned on
/// lasting longer than that (u mapped onto (F(spent), 1)), less the time spent.
fn draw_after(d: &Duration, spent_s: i64, u: f64) -> i64 {
    use crate::dist::{cdf, quantile, Family};
    let spent = spent_s.max(0) as f64 / 60.0;
    let (family, p): (Family, Vec<f64>) = match *d {
        Duration::Fixed { minutes } => (Family::Fixed, vec![minutes]),
        // memoryless: the rest is a fresh draw
        Duration::Exp { .. } => return draw(d, u),
        Duration::Uniform { min, max } => (Family::Uniform, vec![min, max]),
        Duration::Lognormal { mu, sigma } => (Family::Lognormal, vec![mu, sigma]),
        Duration::Gamma { shape, mean } => (Family::Gamma, vec![shape, mean]),
    };
    if family == Family::Fixed {
        return ((p[0] - spent).max(0.0) * 60.0).round() as i64;
    }
    let f0 = cdf(family, &p, spent);
    if f0 >= 1.0 - 1e-12 {
        return 0; // overdue past the law's end: it happens now
    }
    let minutes = quantile(family, &p, f0 + u * (1.0 - f0)) - spent;
    (minutes.clamp(0.0, 525_600.0) * 60.0).round() as i64
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
const P_CHECK_FAIL: u64 = 14;
const P_REGISTER: u64 = 15;
const P_HOP: u64 = 16;
const P_CALL: u64 = 18;
const P_RECUR: u64 = 20;
const P_VISIT: u64 = 21;
const P_STATION: u64 = 22;
const P_EXTEND: u64 = 23;
const P_TRAVEL: u64 = 24;
/// The stream of problems that came back after a compliance closure.
const RECURRENCE_STREAM: u64 = 0x5245_4355_5252; // "RECURR"
const P_PATIENCE: u64 = 19;
const P_RETURN: u64 = 17;
/// Draw index step per handling pass, so a reworked case's passes draw afresh (and a
/// pre-empted one's restarts, numbered within the pass).
const PASS: u64 = 1 << 16;
/// The stream of incidents raised by hazards (floods, fires), in the order raised.
const HAZARD_STREAM: u64 = 0x4841_5a41_5244; // "HAZARD"
/// The stream of the cases open at a warm start.
const START_STREAM: u64 = 0x5354_4152_5453; // "STARTS"

#[derive(Clone, Copy, Debug)]
enum Ev {
    Intake(u32),
    Verified(u32),
    Ladder(u32, u8),
    Dispatch(u32),
    /// (case, its assignment generation: a pre-empted assignment's events are void)
    Arrive(u32, u8),
    Handled(u32, u8),
    Checked(u32),
    Deadline(u32),
    /// A citizen's hotline call reaches the call centre; an agent finishes it; the
    /// caller hangs up while waiting.
    Call(u32),
    CallDone(u32),
    HangUp(u32),
    /// A grid worker finishes what it was doing (a grid of its route, or a task).
    WorkerStep(u32),
    /// An intake found in the loop (a worker's patrol, an answered call) by this
    /// channel: the channel is the case's source only if it is first to take it in.
    IntakeFrom(u32, u8),
    /// A centre operator finishes a case: station 0 registration, 1 dispatching.
    StationDone(u8, u32),
    /// The department reports a case handled: with grid workers, a check visit is due.
    Feedback(u32),
    CrewFree(u32),
    /// A shift group comes on duty / goes off duty.
    ShiftStart(u32),
    ShiftEnd(u32),
}

/// No time yet (a step not reached).
const NONE: i64 = i64::MIN;

fn opt(t: i64) -> Option<i64> {
    (t != NONE).then_some(t)
}

/// A case as the loop keeps it: indices and times; the text record
/// ([`Replication::record`]) is made only when written, so a megacity year's
/// timeline stays compact in memory.
#[derive(Clone)]
pub struct SimCase {
    /// The incident's identity key ([`Arrival`]): every draw for the case is keyed by it.
    key: u64,
    category_text: Text,
    category: u16,
    source: u8,
    /// Escalation-ladder stages passed.
    ladder: u8,
    /// Closed by compliance at this stage (`u8::MAX`: not); while the closure's
    /// check is pending, the stage whose compliance is being checked.
    complied: u8,
    /// Declined at registration (不予立案): closed at verification, never due.
    declined: bool,
    /// Checks that found the problem not solved (返工): handling passes − 1.
    rework: u8,
    /// Priority at arrival (`priority` rises when the case falls overdue).
    arrival_priority: u8,
    natural_time: bool,
    department_text: Text,
    /// When it turns amber, and the step deadlines (set as each step's clock starts).
    amber_at: i64,
    verify_due: i64,
    dispatch_due: i64,
    handle_due: i64,
    check_due: i64,
    /// Seconds spent waiting for a crew in the department's queue, over all passes.
    queue_wait: i64,
    /// Forwarded by the street to the owner department (转派), times returned as not
    /// the department's (退单), and the seconds those hand-overs took.
    forwarded: bool,
    returns: u8,
    dispute: i64,
    /// The case whose compliance closure this problem came back after (`u32::MAX`:
    /// none).
    recurrence_of: u32,
    /// Times a grid worker looked at it without seeing it.
    looked: u16,
    /// When a crew first reached it (a reworked or pre-empted case is reached again:
    /// `arrived` is the last time), and how many times a crew took it from the queue.
    first_arrived: i64,
    passes: u16,
    /// Its category has an escalation ladder: its dispatch waits by policy.
    laddered: bool,
    /// Its time limit was extended (延期).
    extended: bool,
    /// The hotline call: when it came in, was answered, or the caller hung up.
    call_at: i64,
    call_answered: i64,
    call_hung_up: i64,
    priority: u8,
    escalated: bool,
    /// Assignment generation and times pre-empted.
    gen: u8,
    preempted: u16,
    /// When the crew on the way is due, and seconds lost at signals.
    eta: i64,
    signal_delay: i64,
    /// Seconds the crew waited for a road to reopen to a place cut off by closures.
    cut_off: i64,
    grid: u32,
    /// Index of the crew on the case (`u32::MAX`: none yet).
    crew: u32,
    node: u32,
    at: (f64, f64),
    xy: (f64, f64),
    occurred: i64,
    intake: i64,
    verified: i64,
    dispatched: i64,
    assigned: i64,
    arrived: i64,
    handled: i64,
    feedback: i64,
    checked: i64,
    closed: i64,
    deadline: i64,
    queued_at: i64,
}

impl crate::kpi::CaseTimes for SimCase {
    fn occurred_at(&self) -> i64 {
        self.occurred
    }
    fn intake_at(&self) -> Option<i64> {
        opt(self.intake)
    }
    fn dispatched_at(&self) -> Option<i64> {
        opt(self.dispatched)
    }
    fn assigned_at(&self) -> Option<i64> {
        opt(self.assigned)
    }
    fn arrived_at(&self) -> Option<i64> {
        opt(self.arrived)
    }
    fn closed_at(&self) -> Option<i64> {
        opt(self.closed)
    }
    fn deadline(&self) -> Option<i64> {
        opt(self.deadline)
    }
    fn escalated(&self) -> bool {
        self.escalated
    }
    fn closed_by_compliance(&self) -> bool {
        self.complied != u8::MAX && self.closed != NONE
    }
    fn category(&self) -> &str {
        &self.category_text
    }
    fn lon_lat(&self) -> (f64, f64) {
        self.at
    }
    fn signal_delay_s(&self) -> i64 {
        self.signal_delay
    }
    fn cut_off_s(&self) -> i64 {
        self.cut_off
    }
    fn verified_at(&self) -> Option<i64> {
        opt(self.verified)
    }
    fn handled_at(&self) -> Option<i64> {
        opt(self.handled)
    }
    fn checked_at(&self) -> Option<i64> {
        opt(self.checked)
    }
    fn not_registered(&self) -> bool {
        self.declined
    }
    fn department(&self) -> &str {
        &self.department_text
    }
    fn natural_time(&self) -> bool {
        self.natural_time
    }
    fn amber_at(&self) -> Option<i64> {
        opt(self.amber_at)
    }
    fn verify_due(&self) -> Option<i64> {
        opt(self.verify_due)
    }
    fn dispatch_due(&self) -> Option<i64> {
        opt(self.dispatch_due)
    }
    fn handle_due(&self) -> Option<i64> {
        opt(self.handle_due)
    }
    fn check_due(&self) -> Option<i64> {
        opt(self.check_due)
    }
    fn rework(&self) -> u32 {
        self.rework as u32
    }
    fn queue_wait_s(&self) -> Option<i64> {
        Some(self.queue_wait)
    }
    fn preempted(&self) -> u32 {
        self.preempted as u32
    }
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        Some((
            opt(self.call_at)?,
            opt(self.call_answered),
            opt(self.call_hung_up),
        ))
    }
    fn arrival_priority(&self) -> u8 {
        self.arrival_priority
    }
    fn laddered(&self) -> bool {
        self.laddered
    }
    fn first_arrived_at(&self) -> Option<i64> {
        opt(self.first_arrived)
    }
    fn passes(&self) -> Option<u32> {
        Some(self.passes as u32)
    }
    fn extended(&self) -> bool {
        self.extended
    }
}

/// What one replication produced.
pub struct Replication<'w> {
    world: &'w World,
    /// Incidents the arrival processes generated (counted there, to check that the
    /// timeline holds every one of them).
    pub arrivals: usize,
    /// The timeline, in case order (compact; see [`Replication::record`]).
    pub cases: Vec<SimCase>,
    pub crews: Vec<CrewRecord>,
    pub events: u64,
    /// Signal-priority decisions, in the order they were taken.
    pub contention: Vec<ContentionRecord>,
    /// Grid workers' patrol visits: (grid index, when the worker left it); empty
    /// without grid workers.
    pub patrol_visits: Vec<(u32, i64)>,
}

impl Replication<'_> {
    /// The timeline record of case `i`.
    pub fn record(&self, i: usize) -> CaseRecord {
        let world = self.world;
        let c = &self.cases[i];
        let tx = &world.texts;
        let cat = &world.categories[c.category as usize];
        let codes = world.grids.get(c.grid as usize).map(|g| &g.codes);
        let code = |i: usize| codes.map_or_else(|| tx.empty.clone(), |g| g[i].clone());

        CaseRecord {
            case_id: format!("C{:07}", i + 1),
            kind: cat.kind_text.clone(),
            category: cat.class_text.clone(),
            department: c.department_text.clone(),
            grid_code: code(0),
            community_code: code(1),
            street_code: code(2),
            district_code: code(3),
            lon: c.at.0,
            lat: c.at.1,
            occurred_at: c.occurred,
            intake_at: opt(c.intake),
            source: tx.sources[c.source as usize].clone(),
            verified_at: opt(c.verified),
            ladder: cat.ladder_text[c.ladder as usize].clone(),
            dispatched_at: opt(c.dispatched),
            crew: world
                .crews
                .get(c.crew as usize)
                .map_or_else(|| tx.empty.clone(), |k| k.id.clone()),
            assigned_at: opt(c.assigned),
            arrived_at: opt(c.arrived),
            handled_at: opt(c.handled),
            feedback_at: opt(c.feedback),
            checked_at: opt(c.checked),
            closed_at: opt(c.closed),
            closed_by: if c.declined {
                tx.not_registered.clone()
            } else if c.complied != u8::MAX && c.closed != NONE {
                cat.compliance_text[c.complied as usize].clone()
            } else if c.closed != NONE {
                tx.crew_closed.clone()
            } else {
                tx.empty.clone()
            },
            deadline: opt(c.deadline),
            time_basis: tx.basis[(cat.time_basis == gridtwin_core::TimeBasis::Natural) as usize]
                .clone(),
            amber_at: opt(c.amber_at),
            verify_due: opt(c.verify_due),
            dispatch_due: opt(c.dispatch_due),
            handle_due: opt(c.handle_due),
            check_due: opt(c.check_due),
            call_at: opt(c.call_at),
            call_answered_at: opt(c.call_answered),
            call_hung_up_at: opt(c.call_hung_up),
            extended: c.extended,
            recurrence_of: if c.recurrence_of == u32::MAX {
                String::new()
            } else {
                format!("C{:07}", c.recurrence_of + 1)
            },
            forwarded: c.forwarded,
            returns: c.returns as u32,
            dispute_s: c.dispute,
            rework: c.rework as u32,
            first_arrived_at: opt(c.first_arrived),
            passes: c.passes as u32,
            queue_wait_s: Some(c.queue_wait),
            priority: c.arrival_priority,
            escalated: c.escalated,
            preempted: c.preempted as u32,
            signal_delay_s: c.signal_delay,
            cut_off_s: c.cut_off,
            satisfaction: None,
        }
    }

    /// All timeline records, in case order.
    pub fn records(&self) -> Vec<CaseRecord> {
        (0..self.cases.len()).map(|i| self.record(i)).collect()
    }

    /// The timeline as CSV bytes (the same as [`crate::timeline::write_csv`] of
    /// [`Replication::records`]), made in parallel blocks of records so the whole
    /// text timeline never sits in memory.
    pub fn timeline_csv(&self) -> Result<Vec<u8>, csv::Error> {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 16;
        let n = self.cases.len();
        if n == 0 {
            let mut v = Vec::new();
            crate::timeline::write_csv::<CaseRecord, _>(&[], &mut v)?;
            return Ok(v);
        }
        let blocks: Vec<Vec<u8>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let rows: Vec<CaseRecord> = (b * BLOCK..((b + 1) * BLOCK).min(n))
                    .map(|i| self.record(i))
                    .collect();
                let mut out = csv::WriterBuilder::new()
                    .has_headers(b == 0)
                    .from_writer(Vec::with_capacity(rows.len() * 200));
                // times in the city's own zone (each block on its own rayon thread)
                crate::local_time::with_offset(self.world.utc_offset_s, || {
                    for r in &rows {
                        out.serialize(r)?;
                    }
                    Ok::<(), csv::Error>(())
                })?;
                out.into_inner().map_err(|e| e.into_error().into())
            })
            .collect::<Result<_, csv::Error>>()?;
        Ok(blocks.concat())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    /// Higher priority first.
    neg_priority: i8,
    since: i64,
    case: u32,
}

/// An arriving incident: (time, category, grid or `usize::MAX`, lon/lat, priority —
/// 2 for an emergency a hazard raised, 0 otherwise —, identity key).
///
/// The key names the incident by where it came from — its source and its number in
/// that source's sequence, or the hazard and its number there — never by its place in
/// the merged arrival list, so an overlay that adds incidents (a rainstorm's
/// waterlogging) leaves every other incident's draws as they were (common random
/// numbers).
type Arrival = (i64, usize, usize, (f64, f64), u8, u64);

/// The identity key of incident `n` of the stream named `stream`.
fn incident_key(stream: u64, n: u64) -> u64 {
    crate::rng::mix(stream ^ crate::rng::mix(n))
}

/// Where a crew is: lon/lat, road node, local metres.
#[derive(Clone, Copy)]
struct Place {
    at: (f64, f64),
    node: u32,
    xy: (f64, f64),
}

/// Signal-priority requests of emergency trips: per signalised node, (time at the
/// signal, priority, departure, case); and each trip's signalised nodes, so that a
/// trip that loses at one signal has its later requests moved by its wait.
#[derive(Default)]
struct SignalBook {
    requests: std::collections::HashMap<u32, Vec<(i64, u8, i64, u32)>>,
    trips: std::collections::HashMap<u32, Vec<u32>>,
}

/// Runs one replication.
pub fn run(world: &World, seed: u64, rep: u64) -> Replication<'_> {
    let sc = &world.scenario;
    // Lane 0: intakes (sorted up front); lane 1 + c: deadlines of category c (their
    // times only grow, as intakes come in time order and the calendar is monotone).
    let mut queue: EventQueue<Ev> = EventQueue::with_lanes(1 + world.categories.len());
    let mut events = 0u64;

    // --- Arrivals: thinning of a Poisson process per source, on its own stream
    // (sources are independent, so they are drawn in parallel).
    use rayon::prelude::*;
    let per_source: Vec<Vec<Arrival>> = world
        .sources
        .par_iter()
        .map(|src| {
            let mut arrivals = Vec::new();
            if src.per_sec <= 0.0 {
                return arrivals;
            }
            let stream = src.stream;
            let mut s = Stream::new(seed, rep, stream);
            let mut n = 0u64;
            let mut t = world.run_start as f64;
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
                        let (p, g) =
                            points[((u1 * points.len() as f64) as usize).min(points.len() - 1)];
                        (g, p)
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
                arrivals.push((
                    t as i64,
                    src.category,
                    grid,
                    at,
                    src.priority,
                    incident_key(stream, n),
                ));
                n += 1;
            }
            arrivals
        })
        .collect();
    let mut arrivals: Vec<Arrival> = per_source.concat();
    arrivals.extend(
        world
            .hazard_arrivals
            .iter()
            .enumerate()
            .filter(|(_, h)| h.0 < world.end)
            .map(|(i, &(t, c, g, at))| (t, c, g, at, 2u8, incident_key(HAZARD_STREAM, i as u64))),
    );
    arrivals.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.3 .0.total_cmp(&b.3 .0))
            .then(a.3 .1.total_cmp(&b.3 .1))
            .then(a.5.cmp(&b.5))
    });

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
    // A warm start: the cases open at the start, each at the step it had reached.
    for (i, o) in world.open_at_start.iter().enumerate() {
        let id = cases.len() as u32;
        let key = incident_key(START_STREAM, i as u64);
        let mut c = new_case(
            world,
            key,
            (o.occurred, o.category, o.grid, o.at, 0),
            o.source,
        );
        let cat = &world.categories[o.category];
        c.intake = o.intake;
        c.deadline = if o.deadline != NONE {
            o.deadline
        } else {
            world
                .calendar
                .add_hours(cat.time_basis, o.intake, cat.time_limit_hours)
        };
        c.amber_at = world.calendar.add_hours(
            cat.time_basis,
            o.intake,
            cat.time_limit_hours * sc.amber_fraction,
        );
        c.verified = o.verified;
        c.dispatched = o.dispatched;
        c.handled = o.handled;
        c.feedback = o.feedback;
        let t0 = world.start;
        let u = |purpose: u64| uniform(seed, rep, key, purpose, 0);
        let (at, ev) = if o.handled != NONE {
            let from = if o.feedback != NONE {
                o.feedback
            } else {
                o.handled
            };
            (
                t0 + draw_after(&sc.steps.check, t0 - from, u(P_CHECK)),
                Ev::Checked(id),
            )
        } else if o.dispatched != NONE {
            (t0, Ev::Dispatch(id))
        } else if o.verified != NONE {
            let d = match cat.routing {
                Routing::Owner => &sc.dispatch.owner_delay,
                Routing::Territory => &sc.dispatch.territory_delay,
                Routing::Negotiated => &sc.dispatch.negotiated_delay,
                Routing::Designated => &sc.dispatch.designated_delay,
            };
            (
                t0 + draw_after(d, t0 - o.verified, u(P_DISPATCH)),
                Ev::Dispatch(id),
            )
        } else {
            (
                t0 + draw_after(&sc.steps.verify, t0 - o.intake, u(P_VERIFY)),
                Ev::Verified(id),
            )
        };
        queue.schedule(c.deadline.max(t0), Ev::Deadline(id));
        queue.schedule(at, ev);
        cases.push(c);
    }
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
    let speed_ms = sc.travel.straight_speed_kmh / 3.6;
    // A crew leaving `from` at `t` for case `c`: how long the place stays cut off by
    // closures first (the crew waits for the first reopening that lets it through;
    // past the run's end if none does), and the trip then.
    let travel = |from: Place, c: &SimCase, t: i64| -> (i64, i64) {
        match &world.network {
            Some(_) => world.road_trip(t, (from.at, from.node), (c.at, c.node)),
            None if sc.travel.mode == "straight" => {
                let d = (from.xy.0 - c.xy.0).hypot(from.xy.1 - c.xy.1);
                (0, (d * sc.travel.detour_factor / speed_ms).round() as i64)
            }
            // a trip's own draw: each pass and each restart after a pre-emption
            None => match (
                &world.categories[c.category as usize].trip,
                sc.travel.mode.as_str(),
            ) {
                (Some(d), "drawn") => {
                    let trip = c.passes as u64 * PASS + c.preempted as u64;
                    (0, draw(d, uniform(seed, rep, c.key, P_TRAVEL, trip)))
                }
                _ => (0, 0),
            },
        }
    };

    // A crew sets off: the trip is scheduled, and an emergency trip requests signal
    // priority at each signal on its path; conflicts within the window are decided
    // by (priority, earlier departure, lower case number), the loser waiting.
    let signals = sc.signals.as_ref();
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
        let (cut_off, trip) = travel(from, c, t);
        c.cut_off += cut_off;
        // a place cut off is set off for when a road reopens
        let t = t + cut_off;
        let arrive = t + trip;
        let mut own_delay = 0i64;
        let c = &cases[id as usize];
        if let (Some(g), Some(_)) = (signals, &world.network) {
            if c.priority >= g.priority_from && !world.signal_at.is_empty() {
                let delay = g.delay_s.round() as i64;
                let window = g.window_s.round() as i64;
                let path = world.signal_times_from(t, (from.at, from.node), c.node);
                let me = (c.priority, t, id);
                let path_nodes: Vec<u32> = path.iter().map(|&(n, _)| n).collect();
                let mut later_shifts: Vec<(u32, i64, i64)> = Vec::new();
                for (node, reach) in path {
                    let code = &world.signal_at[&node];
                    let at = reach + own_delay;
                    let list = book.requests.entry(node).or_default();
                    for &(ot, op, odep, oid) in list.iter() {
                        if oid == id || (ot - at).abs() > window {
                            continue;
                        }
                        let other = (op, odep, oid);
                        // higher priority, then earlier departure, then lower case
                        let i_win = (std::cmp::Reverse(me.0), me.1, me.2)
                            < (std::cmp::Reverse(other.0), other.1, other.2);
                        let (w, l) = if i_win { (me, other) } else { (other, me) };
                        // the delay imposed (none when the loser already arrived)
                        let mut imposed = delay;
                        if i_win {
                            // the other vehicle waits: its arrival moves if still due,
                            // and so do its requests at the signals after this one
                            let o = &mut cases[oid as usize];
                            if o.eta != NONE && o.eta > t && o.arrived == NONE {
                                o.gen = o.gen.wrapping_add(1);
                                o.eta += delay;
                                o.signal_delay += delay;
                                queue.schedule(o.eta, Ev::Arrive(oid, o.gen));
                                later_shifts.push((oid, ot, delay));
                            } else {
                                imposed = 0;
                            }
                        } else {
                            own_delay += delay;
                        }
                        let (winner_at, loser_at) = if i_win { (at, ot) } else { (ot, at) };
                        contention.push(ContentionRecord {
                            at,
                            node,
                            signal: code.clone(),
                            winner_case: format!("C{:07}", w.2 + 1),
                            winner_priority: w.0,
                            winner_departed: w.1,
                            loser_case: format!("C{:07}", l.2 + 1),
                            loser_priority: l.0,
                            loser_departed: l.1,
                            delay_s: imposed,
                            winner_at,
                            loser_at,
                        });
                    }
                    list.push((at, me.0, t, id));
                    // the losers' requests after the signal where they lost, shifted
                    // by their wait (on their own path: node by node, later times)
                    for (oid, from_time, d) in later_shifts.drain(..) {
                        for &n2 in book.trips.get(&oid).into_iter().flatten() {
                            for r in book.requests.get_mut(&n2).into_iter().flatten() {
                                if r.3 == oid && r.0 > from_time {
                                    r.0 += d;
                                }
                            }
                        }
                    }
                }
                book.trips.insert(id, path_nodes);
            }
        }
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

/// How an incident that occurs at `t` in `grid` is found: the race between the grid
/// worker's patrol passes, a camera, and a hotline report; (intake time, source —
/// 0 patrol, 1 hotline, 2 sensor —, time of a call to a modelled call centre or NONE).
fn discover(world: &World, seed: u64, rep: u64, key: u64, t: i64, grid: usize) -> (i64, u8, i64) {
    let sc = &world.scenario;
    let patrol = (sc.discovery.patrol_interval_hours * 3600.0) as i64;
    let mut call_at = NONE;
    let (intake, source) = if sc.discovery.mode == "immediate" {
        (t, 2u8)
    } else {
        let mut best = (i64::MAX, 0u8);
        let walking = sc.discovery.grid_workers.is_some();
        if grid != usize::MAX && !walking {
            let phase = (uniform(seed, rep, grid as u64, P_PHASE, 0) * patrol as f64) as i64;
            let mut pass = world.run_start
                + phase
                + ((t - world.run_start - phase).div_euclid(patrol) + 1) * patrol;
            for k in 0..1000 {
                if uniform(seed, rep, key, P_PATROL, k) < sc.discovery.patrol_detect_probability {
                    break;
                }
                pass += patrol;
            }
            best = (pass, 0);
        }
        // (grid workers on foot see incidents in the loop)
        if grid != usize::MAX && world.grids[grid].camera {
            let s = t + draw(
                &sc.discovery.sensor_delay,
                uniform(seed, rep, key, P_SENSOR, 0),
            );
            if s < best.0 {
                best = (s, 2);
            }
        }
        if uniform(seed, rep, key, P_HOTLINE, 0) < sc.discovery.hotline_probability {
            let h = t + draw(
                &sc.discovery.hotline_delay,
                uniform(seed, rep, key, P_HOTLINE_DELAY, 0),
            );
            if sc.discovery.call_centre.is_some() {
                // the call queues at the call centre (in the loop): a patrol may
                // still find it first, and the call is then a duplicate report
                call_at = h;
            } else if h < best.0 {
                best = (h, 1);
            }
        }
        best
    };
    (intake, source, call_at)
}

/// A new case of an incident: (time, category, grid, lon/lat, priority).
fn new_case(
    world: &World,
    key: u64,
    (t, category, grid, at, priority): (i64, usize, usize, (f64, f64), u8),
    source: u8,
) -> SimCase {
    let node = world
        .network
        .as_ref()
        .and_then(|n| n.nearest(at.0, at.1))
        .unwrap_or(0);
    SimCase {
        key,
        category_text: world.categories[category].class_text.clone(),
        category: category as u16,
        source,
        ladder: 0,
        complied: u8::MAX,
        declined: false,
        rework: 0,
        queue_wait: 0,
        forwarded: false,
        returns: 0,
        dispute: 0,
        recurrence_of: u32::MAX,
        looked: 0,
        first_arrived: NONE,
        passes: 0,
        laddered: !world.categories[category].ladder.is_empty(),
        extended: false,
        call_at: NONE,
        call_answered: NONE,
        call_hung_up: NONE,
        arrival_priority: priority,
        natural_time: world.categories[category].time_basis == gridtwin_core::TimeBasis::Natural,
        department_text: world.texts.departments[world.categories[category].department].clone(),
        amber_at: NONE,
        verify_due: NONE,
        dispatch_due: NONE,
        handle_due: NONE,
        check_due: NONE,
        priority,
        escalated: false,
        gen: 0,
        preempted: 0,
        eta: NONE,
        signal_delay: 0,
        cut_off: 0,
        grid: grid as u32,
        crew: u32::MAX,
        node,
        at,
        xy: world.frame.to_local(at.0, at.1),
        occurred: t,
        intake: NONE,
        verified: NONE,
        dispatched: NONE,
        assigned: NONE,
        arrived: NONE,
        handled: NONE,
        feedback: NONE,
        checked: NONE,
        closed: NONE,
        deadline: NONE,
        queued_at: 0,
    }
}

fn dispatch_delay(sc: &Scenario, routing: Routing, seed: u64, rep: u64, key: u64) -> i64 {
    let d = match routing {
        Routing::Owner => &sc.dispatch.owner_delay,
        Routing::Territory => &sc.dispatch.territory_delay,
        Routing::Negotiated => &sc.dispatch.negotiated_delay,
        Routing::Designated => &sc.dispatch.designated_delay,
    };
    draw(d, uniform(seed, rep, key, P_DISPATCH, 0))
}
