//! The crews of the world: pools cut into crews with their bases and beats, their
//! shift groups, and the grid workers' routes.

use super::*;

/// A crew's base, department, shift; per grid the territorial crews of its beat; the
/// crews grouped by shift.
pub(super) type Crews = (Vec<CrewSpec>, Vec<Vec<u32>>, Vec<((i64, i64), Vec<u32>)>);

/// The crews of the scenario's pools (a `spread` pool's crews each based at the
/// weighted centre of its run of grids, the others at the city's centre).
pub(super) fn build_crews(
    scenario: &Scenario,
    grids: &[GridInfo],
    centre: (f64, f64),
    departments: &mut Departments,
) -> Result<Crews, WorldError> {
    let mut crews = Vec::new();
    let mut beat_crews: Vec<Vec<u32>> = vec![Vec::new(); grids.len()];
    for (name, pool) in &scenario.crews {
        let d = departments.index(&pool.department);
        let shift = parse_shift(&pool.shift).map_err(WorldError::BadValue)?;
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
    Ok((crews, beat_crews, shift_groups))
}

/// Grid workers' beats: the grids in code order, cut into one run per worker; per
/// grid, its worker.
#[allow(clippy::type_complexity)]
pub(super) fn worker_beats(
    scenario: &Scenario,
    grids: &[GridInfo],
) -> Result<(Vec<(Vec<GridIx>, (i64, i64))>, Vec<Option<u32>>), WorldError> {
    let mut workers = Vec::new();
    let mut worker_of_grid = vec![None; grids.len()];
    if let (Some(w), false) = (&scenario.discovery.grid_workers, grids.is_empty()) {
        let shift = crate::scenario::parse_shift(&w.shift).map_err(WorldError::BadValue)?;
        let n = grids.len();
        let count = (w.count as usize).min(n.max(1));
        for k in 0..count {
            let route: Vec<GridIx> = ((k * n) / count..((k + 1) * n) / count)
                .map(GridIx::new)
                .collect();
            for &g in &route {
                worker_of_grid[g.ix()] = Some(k as u32);
            }
            workers.push((route, shift));
        }
    }
    Ok((workers, worker_of_grid))
}
