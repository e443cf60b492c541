//! Fill–spill–merge over a 10-million-cell DEM (issue 6: under 1 s on this machine).
//! `cargo bench -p gridtwin-core --bench flood`
//!
//! Terrain: 3,200 × 3,125 cells of 1 m: rolling hills (sums of sines, ~±8 m, closed
//! valleys several metres deep) with seeded uniform noise; 50 mm of rain.
//! - `rough_10M`: 0.3 m of noise — close to white noise at 1 m: 872 k pits, two cells
//!   in three on a rim between basins (the worst case we know of);
//! - `lidar_10M`: 0.03 m of noise, the vertical noise of a LiDAR DEM.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gridtwin_core::dem::Dem;
use gridtwin_core::flood::fill_spill_merge;

fn terrain(cols: usize, rows: usize, noise_m: f64) -> Dem {
    let mut s = 11u64;
    let z = (0..cols * rows)
        .map(|i| {
            let (r, c) = ((i / cols) as f64, (i % cols) as f64);
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (s >> 11) as f64 / (1u64 << 53) as f64;
            (r / 90.0).sin() * 4.0
                + (c / 130.0).cos() * 3.0
                + ((r + c) / 37.0).sin()
                + noise * noise_m
        })
        .collect();
    Dem::new(cols, rows, 0.0, rows as f64, 1.0, z)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fill_spill_merge");
    g.sample_size(10);
    for (name, noise_m) in [("rough_10M", 0.3), ("lidar_10M", 0.03)] {
        let dem = terrain(3200, 3125, noise_m);
        let rain = vec![0.05; dem.cols() * dem.rows()];
        let f = fill_spill_merge(&dem, &rain, 1.0);
        eprintln!(
            "{name}: {} depressions; rain {:.0} m³ = stored {:.0} + out {:.0}",
            f.depressions, f.rain_m3, f.stored_m3, f.outflow_m3
        );
        g.throughput(Throughput::Elements((dem.cols() * dem.rows()) as u64));
        g.bench_function(name, |b| {
            b.iter(|| fill_spill_merge(&dem, &rain, 1.0).stored_m3)
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
