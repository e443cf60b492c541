//! A simulated timeline played back: which incidents are visible at a time, in which
//! case state, and how many were reported per H3 cell in the heat window. GPU-free,
//! so it is tested like the rest of the model.

use std::collections::BTreeMap;

use gridtwin_sim::timeline::CaseRecord;
use h3o::{CellIndex, LatLng, Resolution};

use crate::scene::{CityScene, MeshData, PlaybackSpec, Style};

/// Where a case stands in the closed loop at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseState {
    /// Taken in, not yet dispatched.
    Reported,
    /// Dispatched, the crew not yet on site.
    Dispatched,
    /// A crew on site.
    Handling,
    /// Handled, awaiting the check and close.
    Checking,
    /// Closed (shown for a while after closing).
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 5] = [
        CaseState::Reported,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::Checking,
        CaseState::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Dispatched => "dispatched",
            CaseState::Handling => "crew on site",
            CaseState::Checking => "awaiting check",
            CaseState::Closed => "closed",
        }
    }

    pub fn color(self, style: &Style) -> [f32; 3] {
        let c = &style.cases;
        match self {
            CaseState::Reported => c.reported,
            CaseState::Dispatched => c.dispatched,
            CaseState::Handling => c.handling,
            CaseState::Checking => c.checking,
            CaseState::Closed => c.closed,
        }
    }

    /// The state of `case` at `t`, or `None` when it is not on the map: not yet
    /// taken in (the city does not know of it), or closed more than
    /// `closed_visible_s` ago. A missing later stamp keeps the earlier state.
    ///
    /// ```
    /// use gridtwin_viewer::playback::CaseState;
    /// let mut c = gridtwin_sim::timeline::CaseRecord::default();
    /// c.intake_at = Some(100);
    /// c.dispatched_at = Some(200);
    /// c.closed_at = Some(900);
    /// assert_eq!(CaseState::at(&c, 99, 60), None);
    /// assert_eq!(CaseState::at(&c, 100, 60), Some(CaseState::Reported));
    /// assert_eq!(CaseState::at(&c, 500, 60), Some(CaseState::Dispatched));
    /// assert_eq!(CaseState::at(&c, 959, 60), Some(CaseState::Closed));
    /// assert_eq!(CaseState::at(&c, 960, 60), None);
    /// ```
    pub fn at(case: &CaseRecord, t: i64, closed_visible_s: i64) -> Option<CaseState> {
        let intake = case.intake_at?;
        if t < intake {
            return None;
        }
        if let Some(c) = case.closed_at.filter(|c| *c <= t) {
            return (t < c + closed_visible_s).then_some(CaseState::Closed);
        }
        let reached = |s: Option<i64>| s.is_some_and(|s| s <= t);
        Some(if reached(case.handled_at) {
            CaseState::Checking
        } else if reached(case.arrived_at) {
            CaseState::Handling
        } else if reached(case.dispatched_at) {
            CaseState::Dispatched
        } else {
            CaseState::Reported
        })
    }
}

/// The cases of one replication, placed in the scene.
pub struct Playback {
    /// Start of the playback (Unix seconds): times are shown relative to it.
    pub start: i64,
    pub end: i64,
    pub cases: Vec<CaseRecord>,
    /// Each case's marker position (local coordinates, on the ground).
    pub positions: Vec<[f32; 3]>,
    cells: Vec<Option<CellIndex>>,
    pub heat_window_s: i64,
    pub closed_visible_s: i64,
}

impl Playback {
    /// Loads the timeline the spec names: simulates its scenario (replication 0 with
    /// the spec's seed, cut to `days` if given) or reads a timeline file (CSV or Parquet).
    pub fn load(spec: &PlaybackSpec, scene: &CityScene) -> Result<Self, String> {
        let (cases, start, end) = if let Some(path) = &spec.scenario {
            simulate(path, spec.seed, spec.days)?
        } else if let Some(path) = &spec.timeline {
            let cases: Vec<CaseRecord> = gridtwin_sim::timeline::read_records(path)?;
            let first = cases.iter().filter_map(|c| c.intake_at).min().unwrap_or(0);
            let last = cases
                .iter()
                .flat_map(|c| [c.intake_at, c.closed_at, c.handled_at])
                .flatten()
                .max()
                .unwrap_or(first);
            // start at the midnight (UTC) before the first intake
            (cases, first - first.rem_euclid(86_400), last)
        } else {
            return Err("[playback] names neither a scenario nor a timeline".into());
        };
        Ok(Self::new(cases, start, end, spec, scene))
    }

    pub fn new(
        cases: Vec<CaseRecord>,
        start: i64,
        end: i64,
        spec: &PlaybackSpec,
        scene: &CityScene,
    ) -> Self {
        let res = Resolution::try_from(spec.heat_resolution).unwrap_or(Resolution::Nine);
        let positions = cases
            .iter()
            .map(|c| scene.local(c.lon, c.lat, 0.0))
            .collect();
        let cells = cases
            .iter()
            .map(|c| LatLng::new(c.lat, c.lon).ok().map(|ll| ll.to_cell(res)))
            .collect();
        Playback {
            start,
            end,
            cases,
            positions,
            cells,
            heat_window_s: (spec.heat_window_hours * 3600.0).round() as i64,
            closed_visible_s: (spec.closed_visible_hours * 3600.0).round() as i64,
        }
    }

    /// Length of the playback in seconds.
    pub fn duration(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    /// The cases on the map at `t` (absolute seconds) and their states, by case order.
    pub fn visible_at(&self, t: i64) -> Vec<(usize, CaseState)> {
        self.cases
            .iter()
            .enumerate()
            .filter_map(|(i, c)| CaseState::at(c, t, self.closed_visible_s).map(|s| (i, s)))
            .collect()
    }

    /// Cases taken in during `(t - window, t]`, counted per H3 cell.
    pub fn heat_at(&self, t: i64) -> BTreeMap<CellIndex, u32> {
        let mut heat = BTreeMap::new();
        for (c, cell) in self.cases.iter().zip(&self.cells) {
            let (Some(intake), Some(cell)) = (c.intake_at, cell) else {
                continue;
            };
            if intake <= t && intake > t - self.heat_window_s {
                *heat.entry(*cell).or_insert(0) += 1;
            }
        }
        heat
    }

    /// Incident markers at `t`: a box per visible case, coloured by state.
    pub fn incident_mesh(&self, t: i64, style: &Style) -> MeshData {
        let mut m = MeshData::default();
        let s = style.cases.marker_size_m / 2.0;
        for (i, state) in self.visible_at(t) {
            let p = self.positions[i];
            let c = state.color(style);
            m.push_box(
                [p[0], s * 1.5, p[2]],
                [s, s * 1.5, s],
                [c[0], c[1], c[2], 1.0],
            );
        }
        m
    }

    /// Heat columns at `t`: a hexagonal prism per cell, height and colour by count.
    pub fn heat_mesh(&self, t: i64, style: &Style, scene: &CityScene) -> MeshData {
        let heat = self.heat_at(t);
        let mut m = MeshData::default();
        let max = heat.values().copied().max().unwrap_or(1).max(1) as f32;
        let hs = &style.heat;
        for (cell, n) in heat {
            let ring: Vec<[f32; 2]> = cell
                .boundary()
                .iter()
                .map(|ll| {
                    let p = scene.local(ll.lng(), ll.lat(), 0.0);
                    [p[0], p[2]]
                })
                .collect();
            let f = n as f32 / max;
            let c = [
                hs.low[0] + (hs.high[0] - hs.low[0]) * f,
                hs.low[1] + (hs.high[1] - hs.low[1]) * f,
                hs.low[2] + (hs.high[2] - hs.low[2]) * f,
                hs.opacity,
            ];
            m.push_prism(&ring, n as f32 * hs.m_per_incident, c);
        }
        m
    }

    /// `day D HH:MM` of absolute time `t`, counted from the playback start.
    pub fn clock(&self, t: i64) -> String {
        clock(t - self.start)
    }
}

/// `day D HH:MM` of `secs` since the start (day 1 is the first).
///
/// ```
/// assert_eq!(gridtwin_viewer::playback::clock(34_200), "day 1 09:30");
/// assert_eq!(gridtwin_viewer::playback::clock(86_400 + 60), "day 2 00:01");
/// ```
pub fn clock(secs: i64) -> String {
    let s = secs.max(0);
    format!(
        "day {} {:02}:{:02}",
        s / 86_400 + 1,
        s % 86_400 / 3600,
        s % 3600 / 60
    )
}

/// Simulates replication 0 of a scenario, cut to `days` if given.
fn simulate(
    path: &std::path::Path,
    seed: u64,
    days: Option<f64>,
) -> Result<(Vec<CaseRecord>, i64, i64), String> {
    use gridtwin_sim::calendar::WorkingCalendar;
    use gridtwin_sim::engine::{run, World};
    use gridtwin_sim::scenario::Scenario;
    let mut sc = Scenario::load(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .scenario;
    if let Some(d) = days {
        if d.is_nan() || d <= 0.0 {
            return Err(format!("[playback] days {d} must be > 0"));
        }
        sc.days = d;
    }
    let (city, table, _) = gridtwin_io::city_dir::load_city(&sc.city)?;
    let cal = WorkingCalendar::load(&sc.calendar).map_err(|e| e.to_string())?;
    let world = World::new(sc, &city, &table, cal)
        .map_err(|e| format!("{}: {}", path.display(), e.with_causes()))?;
    let rep = run(&world, seed, 0);
    Ok((rep.records(), world.start(), world.end()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{build, SceneFile};
    use geo::Contains;
    use std::path::Path;

    #[test]
    fn demo_day_plays_back_consistently() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let file = SceneFile::load(&repo.join("scenes/demo.toml")).unwrap();
        let (city, _, _) = gridtwin_io::city_dir::load_city(&file.city).unwrap();
        let scene = build(&city, &file.style);
        let spec = file.playback.as_ref().unwrap();
        let pb = Playback::load(spec, &scene).unwrap();
        assert_eq!(pb.duration(), 86_400);
        assert!(pb.cases.len() > 50, "{} cases in a day", pb.cases.len());
        // deterministic by seed
        let again = Playback::load(spec, &scene).unwrap();
        assert_eq!(again.cases, pb.cases);

        let mut seen_states = std::collections::BTreeSet::new();
        for hour in 0..=24 {
            let t = pb.start + hour * 3600;
            let visible = pb.visible_at(t);
            // open cases: taken in and not yet closed, counted straight from the records
            let open = pb
                .cases
                .iter()
                .filter(|c| {
                    c.intake_at.is_some_and(|i| i <= t) && c.closed_at.is_none_or(|x| x > t)
                })
                .count();
            assert_eq!(
                visible
                    .iter()
                    .filter(|(_, s)| *s != CaseState::Closed)
                    .count(),
                open,
                "hour {hour}"
            );
            for (i, s) in &visible {
                let c = &pb.cases[*i];
                seen_states.insert(*s);
                // the state's own stamp has been reached
                let stamp = match s {
                    CaseState::Reported => c.intake_at,
                    CaseState::Dispatched => c.dispatched_at,
                    CaseState::Handling => c.arrived_at,
                    CaseState::Checking => c.handled_at,
                    CaseState::Closed => c.closed_at,
                };
                assert!(stamp.is_some_and(|x| x <= t), "case {} {s:?}", c.case_id);
            }
            // heat: every intake of the window, in the hexagon that holds it
            let heat = pb.heat_at(t);
            let in_window = pb
                .cases
                .iter()
                .filter(|c| {
                    c.intake_at
                        .is_some_and(|i| i <= t && i > t - pb.heat_window_s)
                })
                .collect::<Vec<_>>();
            assert_eq!(heat.values().sum::<u32>() as usize, in_window.len());
            for c in &in_window {
                let p = geo::Point::new(c.lon, c.lat);
                let cell = heat
                    .keys()
                    .find(|cell| gridtwin_core::hexcell::hexagon(**cell).contains(&p));
                assert!(cell.is_some(), "case {} outside every heat cell", c.case_id);
            }
            // meshes: one box per visible case, one prism (6 top + 6 walls × 4) per cell
            let style = &file.style;
            assert_eq!(
                pb.incident_mesh(t, style).positions.len(),
                visible.len() * 20
            );
            let hm = pb.heat_mesh(t, style, &scene);
            assert_eq!(hm.positions.len(), heat.len() * 30);
            let top = hm.positions.iter().map(|p| p[1]).fold(0.0, f32::max);
            let max = heat.values().copied().max().unwrap_or(0) as f32;
            assert!((top - max * style.heat.m_per_incident).abs() < 1e-3);
        }
        assert!(seen_states.len() >= 4, "{seen_states:?}");
    }
}
