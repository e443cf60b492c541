//! Many seeded replications of one scenario, run in parallel with the same results at
//! any thread count (each replication's randomness depends only on seed and index).

use rayon::prelude::*;

use crate::engine::{run, Replication, World};
use crate::kpi::{compute, KpiSettings, Kpis};

/// Runs replications `0..n` of `world` with `seed`, in parallel; `done` is called as
/// each finishes. Results come back in replication order.
pub fn replicate<'w>(
    world: &'w World,
    seed: u64,
    n: u64,
    done: &(dyn Fn() + Sync),
) -> Vec<(Replication<'w>, Kpis)> {
    replicate_range(world, seed, 0..n, done)
}

/// Runs replications `reps` (a slice of a larger study, so a caller can write and drop
/// each batch's timelines before the next: a megacity year is gigabytes per timeline).
pub fn replicate_range<'w>(
    world: &'w World,
    seed: u64,
    reps: std::ops::Range<u64>,
    done: &(dyn Fn() + Sync),
) -> Vec<(Replication<'w>, Kpis)> {
    let s = &world.scenario;
    let settings = KpiSettings {
        start: world.start(),
        end: world.end(),
        sample_secs: (s.sample_minutes * 60.0).round() as i64,
        repeat_radius_m: s.repeat_radius_m,
        repeat_window_secs: (s.repeat_window_hours * 3600.0).round() as i64,
    };
    reps.into_par_iter()
        .map(|rep| {
            let r = run(world, seed, rep);
            // (the warm-up's backlog beside the indicators: a sort of every case's
            // intake and closure, as long as the repeat search on a megacity)
            let (mut k, warmup_backlog) = rayon::join(
                || compute(&r.cases, &r.crews, settings),
                || {
                    crate::kpi::backlog_series(
                        &r.cases,
                        world.run_start(),
                        world.start(),
                        settings.sample_secs,
                    )
                },
            );
            for (p, share) in crate::kpi::response_within_target(
                &r.cases,
                world.start(),
                world.end(),
                &s.response_target_minutes
                    .iter()
                    .filter_map(|(p, m)| Some((p.parse().ok()?, *m)))
                    .collect(),
            ) {
                k.values
                    .insert(format!("response_within_target:p{p}"), share);
            }
            if !s.composite.is_empty() {
                let c = crate::kpi::composite(&k.values, &s.composite);
                k.values.insert("composite_index".into(), c);
            }
            k.warmup_backlog = warmup_backlog;
            done();
            (r, k)
        })
        .collect()
}
