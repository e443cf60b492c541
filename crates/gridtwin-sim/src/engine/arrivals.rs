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

/// An arriving incident: (time, category, grid or `usize::MAX`, lon/lat, priority —
/// 2 for an emergency a hazard raised, 0 otherwise —, identity key).
///
/// The key names the incident by where it came from — its source and its number in
/// that source's sequence, or the hazard and its number there — never by its place in
/// the merged arrival list, so an overlay that adds incidents (a rainstorm's
/// waterlogging) leaves every other incident's draws as they were (common random
/// numbers).
pub(super) type Arrival = (i64, usize, usize, (f64, f64), u8, u64);

/// The identity key of incident `n` of the stream named `stream`.
pub(super) fn incident_key(stream: u64, n: u64) -> u64 {
    crate::rng::mix(stream ^ crate::rng::mix(n))
}

/// How an incident that occurs at `t` in `grid` is found: the race between the grid
/// worker's patrol passes, a camera, and a hotline report; (intake time, source —
/// 0 patrol, 1 hotline, 2 sensor —, time of a call to a modelled call centre or NONE).
pub(super) fn discover(
    world: &World,
    seed: u64,
    rep: u64,
    key: u64,
    t: i64,
    grid: usize,
) -> (i64, u8, i64) {
    let sc = &world.scenario;
    let patrol = (sc.discovery.patrol_interval_hours * 3600.0) as i64;
    let mut call_at = NONE;
    let (intake, source) = if sc.discovery.mode == DiscoveryMode::Immediate {
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
    arrivals
}
