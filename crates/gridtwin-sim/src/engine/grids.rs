//! The unit grids of the world: codes up the levels, prepared boundaries, arrival
//! weights (area × hotspot factor) and cameras; and the locator built once for them.

use super::*;

/// The grids in code order and their cumulative arrival weights.
pub(super) fn build_grids(
    scenario: &Scenario,
    grid_areas: &[&gridtwin_core::Area],
    rule: gridtwin_core::CodeRule,
) -> Result<(Vec<GridInfo>, Vec<f64>), WorldError> {
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
            return Err(WorldError::GridNotInCity(g.clone()));
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
    Ok((grids, cum_weight))
}

/// The grid locator, built on first need (component failures, fire ignitions).
pub(super) struct Locator<'a> {
    areas: &'a [&'a gridtwin_core::Area],
    built: Option<GridLocator>,
}

impl<'a> Locator<'a> {
    pub(super) fn new(areas: &'a [&'a gridtwin_core::Area]) -> Self {
        Locator { areas, built: None }
    }

    pub(super) fn get(&mut self) -> &GridLocator {
        let areas = self.areas;
        self.built.get_or_insert_with(|| {
            let owned: Vec<_> = areas.iter().map(|a| (*a).clone()).collect();
            GridLocator::new(&owned, LocatorOptions::default())
        })
    }
}
