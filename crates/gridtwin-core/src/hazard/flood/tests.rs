//! Unit tests of fill–spill–merge: bowls, merges, plateaus, flats, nested basins,
//! agreement with the first implementation, and thread-count independence.

use super::*;

fn dem(rows: &[&[f64]]) -> Dem {
    let cols = rows[0].len();
    let z: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Dem::new(cols, rows.len(), 0.0, rows.len() as f64, 1.0, z)
}

fn conserved(f: &Flood) {
    assert!(
        (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs() <= 1e-9 * f.rain_m3.max(1.0),
        "rain {} = stored {} + out {}",
        f.rain_m3,
        f.stored_m3,
        f.outflow_m3
    );
}

#[test]
fn a_bowl_fills_to_its_spill_level_and_no_higher() {
    // 3 × 3 floor at 0 inside a rim of 10 with one notch at 4
    let d = dem(&[
        &[10., 10., 10., 10., 10.],
        &[10., 0., 0., 0., 10.],
        &[10., 0., 0., 0., 4.],
        &[10., 0., 0., 0., 10.],
        &[10., 10., 10., 10., 10.],
    ]);
    // little rain: the 9 m³ that fell on the floor stay there
    let f = fill_spill_merge(&d, &[1.0; 25], 1.0);
    conserved(&f);
    assert_eq!(f.depressions, 1);
    assert!((f.depth[6] - 1.0).abs() < 1e-12);
    // the rim cells (outlets) hold nothing; their rain left
    assert_eq!(f.depth[0], 0.0);
    assert!((f.outflow_m3 - 16.0).abs() < 1e-12);
    // lots of rain: the floor stands exactly at the notch (4 m), the rest spills
    let f = fill_spill_merge(&d, &[10.0; 25], 1.0);
    conserved(&f);
    for i in [6, 7, 8, 11, 12, 13, 16, 17, 18] {
        assert!((f.depth[i] - 4.0).abs() < 1e-12, "{}", f.depth[i]);
    }
    assert!((f.stored_m3 - 36.0).abs() < 1e-9);
}

#[test]
fn two_basins_merge_after_overflow() {
    // west basin floor 0 (2 cells), east basin floor 2 (2 cells), rim between at 3,
    // outer walls 10: rain only on the west basin.
    let d = dem(&[
        &[10., 10., 10., 10., 10., 10., 10.],
        &[10., 0., 0., 3., 2., 2., 10.],
        &[10., 10., 10., 10., 10., 10., 10.],
    ]);
    let mut rain = vec![0.0; 21];
    // 4 m³: fills west to 2 m... (2 cells) and no spill yet
    rain[8] = 2.0;
    rain[9] = 2.0;
    let f = fill_spill_merge(&d, &rain, 1.0);
    conserved(&f);
    assert_eq!(f.depressions, 2);
    assert!((f.depth[8] - 2.0).abs() < 1e-12 && f.depth[11] == 0.0);
    // 10 m³: west fills to 3 (6 m³), 4 m³ spill east: east (floor 2) holds 2 m³ to
    // the rim at 3 and is then full too: they merge; 2 m³ more over 5 cells
    // (west 2 + rim cell + east 2) → level 3 + 2/5 = 3.4
    rain[8] = 5.0;
    rain[9] = 5.0;
    let f = fill_spill_merge(&d, &rain, 1.0);
    conserved(&f);
    assert!((f.depth[8] - 3.4).abs() < 1e-12, "{}", f.depth[8]);
    assert!((f.depth[10] - 0.4).abs() < 1e-12, "{}", f.depth[10]);
    assert!((f.depth[11] - 1.4).abs() < 1e-12, "{}", f.depth[11]);
    assert_eq!(f.outflow_m3, 0.0);
    // 5 m³: west full to 3 (6 m³ needed — not yet), east dry
    rain[8] = 2.5;
    rain[9] = 2.5;
    let f = fill_spill_merge(&d, &rain, 1.0);
    assert!((f.depth[8] - 2.5).abs() < 1e-12 && f.depth[11] == 0.0);
    // 7 m³: west full at 3 with 6, 1 m³ to the east: 0.5 m over its floor
    rain[8] = 3.5;
    rain[9] = 3.5;
    let f = fill_spill_merge(&d, &rain, 1.0);
    conserved(&f);
    assert!((f.depth[8] - 3.0).abs() < 1e-12);
    assert!((f.depth[11] - 0.5).abs() < 1e-12 && (f.depth[12] - 0.5).abs() < 1e-12);
}

#[test]
fn a_plateau_drains() {
    // A flat plateau at 5 whose east side falls to the edge: nothing stays on it.
    let d = dem(&[
        &[9., 9., 9., 9., 9., 9.],
        &[9., 5., 5., 5., 5., 1.],
        &[9., 5., 5., 5., 5., 1.],
        &[9., 5., 5., 5., 5., 1.],
        &[9., 9., 9., 9., 9., 9.],
    ]);
    let f = fill_spill_merge(&d, &[0.3; 30], 1.0);
    conserved(&f);
    assert!(f.depth.iter().all(|&x| x == 0.0), "{:?}", f.depth);
    assert!((f.outflow_m3 - 9.0).abs() < 1e-9);
}

#[test]
fn a_flat_pit_is_one_depression_and_fills_evenly() {
    let d = dem(&[
        &[9., 9., 9., 9.],
        &[9., 2., 2., 9.],
        &[9., 2., 2., 9.],
        &[9., 9., 9., 9.],
    ]);
    let mut rain = vec![0.0; 16];
    rain[5] = 4.0; // 4 m³ on one cell of the 2 × 2 flat floor
    let f = fill_spill_merge(&d, &rain, 2.0);
    conserved(&f);
    assert_eq!(f.depressions, 1);
    for i in [5, 6, 9, 10] {
        assert!((f.depth[i] - 1.0).abs() < 1e-12);
    }
    assert!((f.stored_m3 - 8.0).abs() < 1e-12); // 2 m² cells
}

/// Rough terrain with many nested depressions (seeded).
fn rough(cols: usize, rows: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..cols * rows)
        .map(|i| {
            let (r, c) = ((i / cols) as f64, (i % cols) as f64);
            (r / 5.0).sin() * 3.0 + (c / 7.0).cos() * 3.0 + rnd() * 2.0
        })
        .collect()
}

#[test]
fn nested_basins_and_a_chain_of_spills_conserve_volume() {
    // Volume is conserved and the water is at rest.
    let (cols, rows) = (60, 50);
    let z = rough(cols, rows, 3);
    let top = z.iter().cloned().fold(f64::MIN, f64::max);
    let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, z.clone());
    for rain in [0.01, 0.1, 1.0, 5.0] {
        let f = fill_spill_merge(&d, &vec![rain; cols * rows], 1.0);
        conserved(&f);
        assert!(f.depressions > 10);
        // Settled: no wet cell's surface stands above a neighbour's surface (water
        // would still flow there).
        let surface = |i: usize| z[i] + f.depth[i];
        let mut wet = 0;
        for i in 0..cols * rows {
            assert!(f.depth[i] >= 0.0 && surface(i) <= top + 1e-9);
            // (a rim cell may carry a rounding-sized film)
            if f.depth[i] < 1e-9 {
                continue;
            }
            wet += 1;
            for k in d.neighbours(i) {
                assert!(
                    surface(k) >= surface(i) - 1e-9,
                    "rain {rain}: water at {i} stands {} above {k}",
                    surface(i) - surface(k)
                );
            }
        }
        assert!(wet > 0);
    }
}

#[test]
fn agrees_with_the_priority_flood_implementation() {
    // The first implementation (a priority flood from every pit with a table of
    // rims between each pair of depressions, lakes with per-lake heaps of cells) is
    // kept as an independent oracle: a different labelling and a different way to
    // find rims and volumes must give the same water, cell by cell.
    // (the last terrain has one 5 km spike: the rest of the relief falls in a few
    // bins of the sort, which then order many cells by their low digit)
    for (seed, cols, rows) in [(3u64, 60, 50), (7, 41, 97), (11, 128, 64), (13, 90, 70)] {
        let mut z = rough(cols, rows, seed);
        if seed == 13 {
            z[cols * 5 + 5] = 5000.0;
        }
        // a few holes of no data, and a flat terrace
        for i in (seed as usize..z.len()).step_by(397) {
            z[i] = f64::NAN;
        }
        for v in z.iter_mut().skip(cols * 3).take(cols / 2) {
            *v = 1.25;
        }
        let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, z.clone());
        for rain in [0.005, 0.05, 0.5, 3.0] {
            let rain: Vec<f64> = (0..z.len()).map(|i| rain * (1 + i % 3) as f64).collect();
            let f = fill_spill_merge(&d, &rain, 2.0);
            let o = oracle::fill_spill_merge(&d, &rain, 2.0);
            conserved(&f);
            assert!((f.rain_m3 - o.rain_m3).abs() < 1e-9 * o.rain_m3);
            assert!(
                (f.outflow_m3 - o.outflow_m3).abs() < 1e-9 * o.rain_m3,
                "seed {seed}: out {} vs {}",
                f.outflow_m3,
                o.outflow_m3
            );
            for i in 0..z.len() {
                assert!(
                    (f.depth[i] - o.depth[i]).abs() < 1e-9,
                    "seed {seed} cell {i}: {} vs {}",
                    f.depth[i],
                    o.depth[i]
                );
            }
        }
    }
}

#[test]
fn a_lake_formed_late_still_spills_into_its_neighbour() {
    // Issue 15's smallest case: the two pits at 2.229 and 3.418 merge while the
    // settling is already past the rim at 6.42 that joins them to the pit at
    // 5.938; the merged lake must still be looked at there. Every interior cell
    // drains into the lake: 16 m³ over the cells at 2.229, 3.418, 5.938, 6.42 and
    // 0.26 (sum 18.265) stand at (16 + 18.265) / 5 = 6.853 m.
    let text = "ncols 6\nnrows 6\nxllcorner -34.9\nyllcorner -8.0\ncellsize 0.0001\n\
                NODATA_value -9999\n\
                19.978 19.978 19.978 19.978 19.978 19.978\n\
                19.978 2.229 19.978 19.978 19.978 19.978\n\
                19.978 3.418 19.978 5.938 19.978 19.978\n\
                19.978 19.978 6.42 19.978 19.978 19.978\n\
                19.978 19.978 0.26 19.978 19.978 19.978\n\
                19.978 19.978 19.978 19.978 19.978 19.978\n";
    let d = Dem::from_asc(text, "issue15.asc").unwrap();
    let f = fill_spill_merge(&d, &[1.0; 36], 1.0);
    conserved(&f);
    let z = d.elevations();
    for (i, &zi) in z.iter().enumerate() {
        let want = if zi < 6.853 { 6.853 - zi } else { 0.0 };
        assert!(
            (f.depth[i] - want).abs() < 1e-9,
            "cell {i}: {} not {want}",
            f.depth[i]
        );
    }
    assert!((f.stored_m3 - 16.0).abs() < 1e-9);
}

#[test]
fn thread_count_does_not_change_the_water() {
    let (cols, rows) = (300, 200);
    let d = Dem::new(cols, rows, 0.0, rows as f64, 1.0, rough(cols, rows, 5));
    let rain = vec![0.2; cols * rows];
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| fill_spill_merge(&d, &rain, 1.0))
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.depth, b.depth);
    assert_eq!(a.stored_m3.to_bits(), b.stored_m3.to_bits());
    assert_eq!(a.outflow_m3.to_bits(), b.outflow_m3.to_bits());
}
