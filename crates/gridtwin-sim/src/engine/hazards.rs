//! Hazards on the roads: timed closures, a rainstorm's flooding (the storm loop
//! shared with `gridtwin flood`, on a DEM read by `gridtwin_io`) and a fire's spread,
//! as road closure states over time and the incidents they raise.

use super::*;

/// Road closure states over time (`times[k]` on, `states[k]`) and the hazards'
/// incidents.
pub(super) struct RoadHazards {
    pub(super) closure_times: Vec<i64>,
    pub(super) closure_states: Vec<Vec<bool>>,
    pub(super) arrivals: Vec<HazardIncident>,
}

/// An incident a hazard raises: a flooded road's waterlogging, a fire's ignition.
#[derive(Clone, Copy, Debug)]
pub(super) struct HazardIncident {
    pub(super) t: i64,
    /// Its category (index in the world's),
    pub(super) category: usize,
    /// the grid it falls in (none: outside every grid),
    pub(super) grid: Option<GridIx>,
    /// and where (lon/lat).
    pub(super) at: (f64, f64),
}

#[allow(clippy::too_many_arguments)]
pub(super) fn road_hazards(
    scenario: &Scenario,
    table: &CategoryTable,
    city: &City,
    grids: &[GridInfo],
    start: i64,
    locator: &mut Locator,
    categories: &mut Vec<SimCategory>,
    departments: &mut Departments,
) -> Result<RoadHazards, WorldError> {
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
                .ok_or_else(|| WorldError::RoadNotInCity {
                    closure: i,
                    road: id.clone(),
                })?;
            changes.push((start + (c.at_hours * 3600.0).round() as i64, r, true));
            if let Some(u) = c.until_hours {
                changes.push((start + (u * 3600.0).round() as i64, r, false));
            }
        }
    }
    let mut hazard_arrivals = Vec::new();
    if let Some(f) = &scenario.flood {
        // every DEM format `gridtwin flood` reads, under the same lon/lat checks
        let placed = gridtwin_io::read_placed_dem(&f.dem, None).map_err(WorldError::FloodDem)?;
        let dem = &placed.dem;
        let to_dem = |x: f64, y: f64| placed.to_dem(x, y);
        let cat = hazard_category(
            scenario,
            table,
            &f.incident_category,
            categories,
            departments,
        )?;
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
                let grid = a.grid.and_then(|g| {
                    // inventory numbers grids in code order, as `grids` here
                    grids.get(g).map(|_| GridIx::new(g))
                });
                hazard_arrivals.push(HazardIncident {
                    t,
                    category: cat,
                    grid,
                    at: (mid.x, mid.y),
                });
            }
        }
    }
    if let Some(f) = &scenario.fire {
        use gridtwin_core::fire::{building_cover, road_cells, road_closure, spread};
        let res = h3o::Resolution::try_from(f.resolution).map_err(WorldError::FireResolution)?;
        let cat = hazard_category(
            scenario,
            table,
            &f.incident_category,
            categories,
            departments,
        )?;
        let mut starts = Vec::new();
        for (i, p) in f.ignitions.iter().enumerate() {
            let ll = h3o::LatLng::new(p[1], p[0])
                .map_err(|source| WorldError::FireIgnition { index: i, source })?;
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
        let loc = locator.get();
        for p in &f.ignitions {
            let grid = loc.locate(p[0], p[1]).map(|g| GridIx::new(g as usize));
            hazard_arrivals.push(HazardIncident {
                t: t0,
                category: cat,
                grid,
                at: (p[0], p[1]),
            });
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
    Ok(RoadHazards {
        closure_times,
        closure_states,
        arrivals: hazard_arrivals,
    })
}
