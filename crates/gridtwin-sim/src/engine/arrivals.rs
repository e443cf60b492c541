//! Where and how incidents arrive: the grid an event falls in, how it is found
//! (patrol, camera, hotline), and its identity key.

use super::*;

impl World {
    /// Pick a grid by weight from a uniform number.
    pub(super) fn pick_grid(&self, u: f64) -> usize {
        let total = *self.cum_weight.last().expect("a city has grids");
        let t = u * total;
        self.cum_weight
            .partition_point(|&c| c <= t)
            .min(self.grids.len() - 1)
    }
}

/// An arriving incident.
///
/// Its key names the incident by where it came from — its source and its number in
/// that source's sequence, or the hazard and its number there — never by its place in
/// the merged arrival list, so an overlay that adds incidents (a rainstorm's
/// waterlogging) leaves every other incident's draws as they were (common random
/// numbers).
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    /// When it occurs,
    pub(super) t: i64,
    /// its category (index in the world's),
    pub(super) category: usize,
    /// the grid it falls in (none: outside every grid),
    pub(super) grid: Option<GridIx>,
    /// where (lon/lat),
    pub(super) at: (f64, f64),
    /// its priority (2 for an emergency a hazard raised, 0 otherwise),
    pub(super) priority: u8,
    /// and its identity key.
    pub(super) key: u64,
}

/// The identity key of incident `n` of the stream named `stream`.
pub(super) fn incident_key(stream: u64, n: u64) -> u64 {
    crate::rng::mix(stream ^ crate::rng::mix(n))
}

/// How an incident that occurs at `t` in `grid` is found: the race between the grid
/// worker's patrol passes, a camera, and a hotline report; (intake time, source,
/// time of a call to a modelled call centre).
pub(super) fn discover(
    world: &World,
    (seed, rep): (u64, u64),
    key: u64,
    t: i64,
    grid: Option<GridIx>,
) -> (i64, IntakeSource, Option<i64>) {
    let sc = &world.scenario;
    let patrol = (sc.discovery.patrol_interval_hours * 3600.0) as i64;
    let mut call_at = None;
    let (intake, source) = if sc.discovery.mode == DiscoveryMode::Immediate {
        (t, IntakeSource::Sensor)
    } else {
        let mut best = (i64::MAX, IntakeSource::Patrol);
        let walking = sc.discovery.grid_workers.is_some();
        if let (Some(grid), false) = (grid, walking) {
            let phase = (uniform(seed, rep, grid.get() as u64, P_PHASE, 0) * patrol as f64) as i64;
            let mut pass = world.run_start
                + phase
                + ((t - world.run_start - phase).div_euclid(patrol) + 1) * patrol;
            for k in 0..1000 {
                if uniform(seed, rep, key, P_PATROL, k) < sc.discovery.patrol_detect_probability {
                    break;
                }
                pass += patrol;
            }
            best = (pass, IntakeSource::Patrol);
        }
        // (grid workers on foot see incidents in the loop)
        if grid.is_some_and(|g| world.grids[g.ix()].camera) {
            let s = t + draw(
                &sc.discovery.sensor_delay,
                uniform(seed, rep, key, P_SENSOR, 0),
            );
            if s < best.0 {
                best = (s, IntakeSource::Sensor);
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
                call_at = Some(h);
            } else if h < best.0 {
                best = (h, IntakeSource::Hotline);
            }
        }
        best
    };
    (intake, source, call_at)
}

/// The replication's incidents in time order: each source's Poisson process by
/// thinning on its own stream (sources are independent, so they are drawn in
/// parallel), and the hazards' incidents.
pub(super) fn draw_arrivals(world: &World, seed: u64, rep: u64) -> Vec<Arrival> {
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
                        let site =
                            points[((u1 * points.len() as f64) as usize).min(points.len() - 1)];
                        (site.grid, site.at)
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
                        (Some(GridIx::new(g)), p)
                    }
                };
                arrivals.push(Arrival {
                    t: t as i64,
                    category: src.category,
                    grid,
                    at,
                    priority: src.priority,
                    key: incident_key(stream, n),
                });
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
            .filter(|(_, h)| h.t < world.end)
            .map(|(i, h)| Arrival {
                t: h.t,
                category: h.category,
                grid: h.grid,
                at: h.at,
                priority: 2,
                key: incident_key(HAZARD_STREAM, i as u64),
            }),
    );
    arrivals.par_sort_unstable_by(|a, b| {
        a.t.cmp(&b.t)
            .then(a.category.cmp(&b.category))
            .then(a.at.0.total_cmp(&b.at.0))
            .then(a.at.1.total_cmp(&b.at.1))
            .then(a.key.cmp(&b.key))
    });
    arrivals
}
