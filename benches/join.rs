//! Join core: points located in 40,000 Voronoi unit grids (Shanghai's scale), in memory.
//!
//! `cargo bench -p gridtwin-core --bench join`
//!
//! - `gridtwin`: the lattice cell cache + exact tests (`Assigner::assign_batch`), rayon;
//! - `naive`: an R-tree of grid envelopes + `geo::Contains` on each candidate, rayon —
//!   the straightforward geo + rstar + rayon loop gridtwin is measured against;
//! - `build`: building the cell cache for the 40,000 grids.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use geo::{BoundingRect, Contains, Point};
use gridtwin_core::assign::Assigner;
use gridtwin_core::code::{CodeRule, Level};
use gridtwin_core::locate::{GridLocator, LocatorOptions};
use gridtwin_core::synth::{MegaCity, SynthParams};
use gridtwin_core::Area;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, RTree, AABB};

fn grids() -> (CodeRule, Vec<Area>) {
    let rule = CodeRule::national();
    let districts = [
        "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    ]
    .iter()
    .map(|c| (rule.parse_area(Level::District, c).unwrap(), c.to_string()))
    .collect();
    let p = SynthParams {
        with_parent_boundaries: false,
        ..SynthParams::shanghai(1, 40_000, districts)
    };
    let city = MegaCity::generate(&rule, &p).unwrap();
    (rule, city.grids().cloned().collect())
}

fn points(n: usize) -> Vec<Option<(f64, f64)>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            Some((
                121.2 + rng.random::<f64>() * 0.5,
                31.0 + rng.random::<f64>() * 0.4,
            ))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (rule, grids) = grids();
    let n = 1_000_000;
    let pts = points(n);
    let assigner = Assigner::new(&grids, &rule, LocatorOptions::default());
    let mut g = c.benchmark_group("join_40k_voronoi_grids");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("gridtwin", n), &pts, |b, pts| {
        b.iter(|| assigner.assign_batch(pts, None))
    });

    let tree = RTree::bulk_load(
        grids
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let r = a.boundary.bounding_rect().unwrap();
                GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [r.min().x, r.min().y],
                        [r.max().x, r.max().y],
                    ),
                    i,
                )
            })
            .collect(),
    );
    g.bench_with_input(BenchmarkId::new("naive", n), &pts, |b, pts| {
        b.iter(|| {
            pts.par_iter()
                .map(|p| {
                    let (x, y) = p.unwrap();
                    let pt = Point::new(x, y);
                    tree.locate_in_envelope_intersecting(&AABB::from_point([x, y]))
                        .map(|e| e.data)
                        .filter(|&i| grids[i].boundary.contains(&pt))
                        .min()
                })
                .collect::<Vec<_>>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("build_cell_cache");
    g.sample_size(10);
    g.bench_function("40k_voronoi_grids", |b| {
        b.iter(|| GridLocator::new(&grids, LocatorOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
