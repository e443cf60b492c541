//! The world a replication runs in: the city, its categories, arrival sources, crews,
//! roads and calendar, built once from a scenario and shared by every replication.

use super::*;

/// Why a world could not be built from a scenario and a city.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorldError(pub String);

pub(super) struct GridInfo {
    /// Grid, community, street and district codes.
    pub(super) codes: [Text; 4],
    pub(super) polygon: PreparedPolygon,
    pub(super) bbox: [f64; 4],
    pub(super) weight: f64,
    pub(super) camera: bool,
}

pub(super) struct SimCategory {
    pub(super) class: String,
    pub(super) class_text: Text,
    pub(super) kind_text: Text,
    /// `ladder` text after k stages passed (`""`, `notify`, `notify>visit`, …).
    pub(super) ladder_text: Vec<Text>,
    /// `closed_by` text when stage k's compliance closes the case.
    pub(super) compliance_text: Vec<Text>,
    pub(super) department: usize,
    pub(super) routing: Routing,
    pub(super) time_limit_hours: f64,
    pub(super) time_basis: gridtwin_core::TimeBasis,
    pub(super) stage_limits: gridtwin_core::StageLimits,
    /// Probability that a check finds the problem not solved (the department's).
    pub(super) check_failure: f64,
    /// The street handles it itself when routed by territory (else forwards it).
    pub(super) street_capable: bool,
    pub(super) handle: Duration,
    /// `drawn` travel: the department's trip time (else the scenario's).
    pub(super) trip: Option<Duration>,
    pub(super) ladder: Vec<LadderStage>,
}

pub(super) struct ArrivalSource {
    pub(super) category: usize,
    /// Names the source's random stream and its incidents' keys: the category's kind
    /// and code, so adding or removing another source changes nothing here.
    pub(super) stream: u64,
    pub(super) priority: u8,
    /// Peak rate per second (the thinning envelope) and relative weights.
    pub(super) per_sec: f64,
    pub(super) hour: [f64; 24],
    pub(super) weekday: [f64; 7],
    /// Component failures happen at components (with the grid holding each, or
    /// `usize::MAX` outside every grid); events anywhere in the grids.
    pub(super) at: Option<Vec<((f64, f64), usize)>>,
}

pub(super) struct CrewSpec {
    pub(super) id: Text,
    pub(super) department: usize,
    pub(super) territorial: bool,

    pub(super) base: (f64, f64),
    pub(super) shift: (i64, i64),
}

/// Everything a replication needs, built once per scenario.
pub struct World {
    pub scenario: Scenario,
    pub(super) grids: Vec<GridInfo>,
    pub(super) categories: Vec<SimCategory>,
    pub(super) sources: Vec<ArrivalSource>,
    pub(super) departments: Vec<String>,
    pub(super) crews: Vec<CrewSpec>,
    /// Distinct crew shifts other than the whole day, and the crews on each.
    pub(super) shift_groups: Vec<((i64, i64), Vec<u32>)>,
    pub(super) network: Option<RoadNetwork>,
    pub(super) calendar: WorkingCalendar,
    /// When the simulation starts: `start` less the discarded warm-up.
    pub(super) run_start: i64,
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) utc_offset_s: i64,
    /// Running sums of grid weights, for picking a grid by binary search.
    pub(super) cum_weight: Vec<f64>,
    /// Local metres for nearest-crew searches and straight-line travel.
    pub(super) frame: LocalFrame,
    pub(super) bbox_local: [f64; 4],
    pub(super) texts: Texts,
    /// Road closure states: from each time on, which roads are closed (state i is
    /// numbered i; state 0, before the first change, has every road open).
    pub(super) closure_times: Vec<i64>,
    pub(super) closure_states: Vec<Vec<bool>>,
    /// Incidents a hazard raises: (time, category, grid, lon/lat), emergency priority.
    pub(super) hazard_arrivals: Vec<(i64, usize, usize, (f64, f64))>,
    /// Road nodes with a traffic signal (for signal priority), and its component code.
    pub(super) signal_at: std::collections::HashMap<u32, String>,
    /// Per grid, the grid-level (territorial) crews whose beat holds it.
    pub(super) beat_crews: Vec<Vec<u32>>,
    /// Grid workers: each one's route (grids in walking order) and shift; and the
    /// worker of each grid (`u32::MAX`: none).
    pub(super) workers: Vec<(Vec<u32>, (i64, i64))>,
    pub(super) worker_of_grid: Vec<u32>,
    /// Cases open at the start (a warm start from a history, [`World::start_from`]).
    pub(super) open_at_start: Vec<OpenCase>,
}

/// A case open at the run's start, as its history left it.
#[derive(Debug, Clone)]
pub(super) struct OpenCase {
    pub(super) category: usize,
    pub(super) grid: usize,
    pub(super) at: (f64, f64),
    pub(super) occurred: i64,
    pub(super) intake: i64,
    pub(super) verified: i64,
    pub(super) dispatched: i64,
    pub(super) handled: i64,
    pub(super) feedback: i64,
    pub(super) deadline: i64,
    pub(super) source: u8,
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
pub(super) struct Texts {
    pub(super) empty: Text,
    pub(super) sources: [Text; 3],
    pub(super) crew_closed: Text,
    pub(super) not_registered: Text,
    /// `working`, `natural`.
    pub(super) basis: [Text; 2],
    pub(super) departments: Vec<Text>,
}

pub(super) fn weights<const N: usize>(w: &Option<Vec<f64>>) -> [f64; N] {
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

    /// Start of the reported window (indicators count from here).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// When the simulation starts: the warm-up before [`World::start`] is simulated and
    /// discarded from the indicators.
    pub fn run_start(&self) -> i64 {
        self.run_start
    }

    pub fn end(&self) -> i64 {
        self.end
    }

    /// Names of the departments the scenario's categories go to.
    pub fn department_names(&self) -> impl Iterator<Item = &str> {
        self.departments.iter().map(|d| d.as_str())
    }

    pub fn departments(&self) -> &[String] {
        &self.departments
    }
}
