//! The world a replication runs in: the city, its categories, arrival sources, crews,
//! roads and calendar, built once from a scenario and shared by every replication.

use super::*;

/// Why a world could not be built from a scenario and a city: each names the
/// scenario key or city layer at fault; a reader's own error is its source.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("start `{start}`")]
    Start {
        start: String,
        #[source]
        source: jiff::Error,
    },
    #[error("the city has no unit grids")]
    NoGrids,
    #[error("grid `{0}` named in the scenario is not in the city")]
    GridNotInCity(String),
    #[error("{kind} category `{class}` is not in the category table")]
    UnknownCategory { kind: &'static str, class: String },
    /// A routing rule, a shift: the parser's message names the value.
    #[error("{0}")]
    BadValue(String),
    /// A key of a per-category table (`escalation`, `dispatch.routing`, …).
    #[error("{table}.\"{key}\": {why}")]
    CategoryKey {
        table: &'static str,
        key: String,
        why: String,
    },
    #[error("closures[{closure}]: road `{road}` is not in the city")]
    RoadNotInCity { closure: usize, road: String },
    #[error("flood.dem")]
    FloodDem(#[source] gridtwin_io::IoError),
    #[error("fire.resolution")]
    FireResolution(#[source] h3o::error::InvalidResolution),
    #[error("fire.ignitions[{index}]")]
    FireIgnition {
        index: usize,
        #[source]
        source: h3o::error::InvalidLatLng,
    },
    #[error("signals need travel.mode = roads")]
    SignalsNeedRoads,
    #[error("travel.mode = roads but the city has no roads")]
    NoRoads,
    #[error("{table}.\"{department}\": no category or crew of the scenario has that department (departments: {known})")]
    UnknownDepartment {
        table: &'static str,
        department: String,
        known: String,
    },
}

impl WorldError {
    /// The message with its causes, `: `-joined (as `anyhow` prints `{:#}`), for a
    /// caller that shows a plain string.
    pub fn with_causes(&self) -> String {
        gridtwin_core::causes::with_causes(self)
    }
}

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
    /// Its department's name.
    pub(super) department_text: Text,
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
    /// Component failures happen at components (with the grid holding each; none
    /// outside every grid); events anywhere in the grids.
    pub(super) at: Option<Vec<Site>>,
}

/// A component a failure can happen at: where it stands and the grid holding it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Site {
    pub(super) at: (f64, f64),
    pub(super) grid: Option<GridIx>,
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
    pub(super) hazard_arrivals: Vec<HazardIncident>,
    /// Road nodes with a traffic signal (for signal priority), and its component code.
    pub(super) signal_at: std::collections::HashMap<u32, String>,
    /// Per grid, the grid-level (territorial) crews whose beat holds it.
    pub(super) beat_crews: Vec<Vec<u32>>,
    /// Grid workers: each one's route (grids in walking order) and shift; and the
    /// worker of each grid.
    pub(super) workers: Vec<(Vec<GridIx>, (i64, i64))>,
    pub(super) worker_of_grid: Vec<Option<u32>>,
    /// Cases open at the start (a warm start from a history, [`World::start_from`]).
    pub(super) open_at_start: Vec<OpenCase>,
}

/// A case open at the run's start, as its history left it.
#[derive(Debug, Clone)]
pub(super) struct OpenCase {
    pub(super) category: usize,
    pub(super) grid: GridIx,
    pub(super) at: (f64, f64),
    pub(super) occurred: i64,
    pub(super) intake: i64,
    /// The steps it had reached by the start (none: not reached).
    pub(super) verified: Option<i64>,
    pub(super) dispatched: Option<i64>,
    pub(super) handled: Option<i64>,
    pub(super) feedback: Option<i64>,
    pub(super) deadline: Option<i64>,
    pub(super) source: IntakeSource,
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
        let start = scenario
            .start
            .parse::<jiff::Timestamp>()
            .map_err(|source| WorldError::Start {
                start: scenario.start.clone(),
                source,
            })?;
        let utc_offset_s = calendar.utc_offset_s();
        let start = start.as_second();
        let end = start + (scenario.days * 86_400.0).round() as i64;
        let run_start = start - (scenario.warmup_days * 86_400.0).round() as i64;
        // deadlines are set from the warm-up's start to the end; a limit runs a year
        // past the end at most before the calendar is walked day by day again
        let mut calendar = calendar;
        calendar.prepare_days(run_start.min(start) - 86_400, end + 366 * 86_400);
        let rule = city.rule;
        let mut grid_areas: Vec<_> = city.areas_at(Level::Grid).collect();
        grid_areas.sort_by_key(|a| a.code);
        if grid_areas.is_empty() {
            return Err(WorldError::NoGrids);
        }
        let (grids, cum_weight) = build_grids(&scenario, &grid_areas, rule)?;
        let mut departments = Departments::default();
        let mut categories = Vec::new();
        let mut locator = Locator::new(&grid_areas);
        let sources = arrival_sources(
            &scenario,
            table,
            city,
            &mut locator,
            &mut categories,
            &mut departments,
        )?;
        check_category_keys(&scenario, &categories)?;
        let centre = {
            let (mut x, mut y, mut w) = (0.0, 0.0, 0.0);
            for g in &grids {
                x += (g.bbox[0] + g.bbox[2]) / 2.0 * g.weight;
                y += (g.bbox[1] + g.bbox[3]) / 2.0 * g.weight;
                w += g.weight;
            }
            (x / w, y / w)
        };
        let (crews, beat_crews, shift_groups) =
            build_crews(&scenario, &grids, centre, &mut departments)?;
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
        let hazards = road_hazards(
            &scenario,
            table,
            city,
            &grids,
            start,
            &mut locator,
            &mut categories,
            &mut departments,
        )?;
        let network = (scenario.travel.mode == TravelMode::Roads && !city.roads.is_empty())
            .then(|| RoadNetwork::new(&city.roads, scenario.travel.max_speed_kmh));
        let signal_at = signal_nodes(&scenario, table, city, network.as_ref())?;
        if scenario.travel.mode == TravelMode::Roads && network.is_none() {
            return Err(WorldError::NoRoads);
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
            if !departments.0.contains(d) {
                return Err(WorldError::UnknownDepartment {
                    table,
                    department: d.clone(),
                    known: departments.0.join(", "),
                });
            }
        }
        let (workers, worker_of_grid) = worker_beats(&scenario, &grids)?;
        let departments = departments.0;
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
            },
            closure_times: hazards.closure_times,
            closure_states: hazards.closure_states,
            hazard_arrivals: hazards.arrivals,
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
