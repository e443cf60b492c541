//! Gi* against PySAL's esda, on a lattice and over a study area of H3 cells most of
//! which have no case; the weights against their definitions.

use super::*;

fn fixture(name: &str) -> csv::Reader<std::fs::File> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracle")
        .join(name);
    csv::Reader::from_path(path).unwrap()
}

/// z-scores against esda's `G_Local(star=True)` on the same input (fixture made by
/// `tests/oracle/gistar_fixture.py`).
#[test]
fn matches_esda() {
    let rows: Vec<(f64, f64, f64, f64)> = fixture("gistar.csv")
        .deserialize()
        .map(|x| x.unwrap())
        .collect();
    let x: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let centres: Vec<(f64, f64)> = rows.iter().map(|r| (r.0, r.1)).collect();
    let hs = getis_ord_star(&x, &centres, 150.0, 0.05);
    for (h, r) in hs.iter().zip(&rows) {
        assert!((h.z - r.3).abs() < 1e-9, "z {} vs esda {}", h.z, r.3);
    }
    // the planted hot corner comes out hot after the FDR correction
    assert!(hs.iter().any(|h| h.class == "hot"));
    assert!(hs
        .iter()
        .filter(|h| h.class == "hot")
        .all(|h| h.z > 0.0 && h.p < 0.05));
}

/// Over a study area of 127 H3 cells, most with no case, under k-ring and
/// distance-band weights: esda's z for every cell (fixture made by
/// `tests/oracle/gistar_zero_fixture.py` with h3-py, independent of h3o).
#[test]
fn matches_esda_with_the_study_area_s_zero_count_cells() {
    let rows: Vec<(String, f64, f64, f64)> = fixture("gistar_zero.csv")
        .deserialize()
        .map(|x| x.unwrap())
        .collect();
    let cells: Vec<h3o::CellIndex> = rows.iter().map(|r| r.0.parse().unwrap()).collect();
    let x: Vec<f64> = rows.iter().map(|r| r.1).collect();
    assert!(x.iter().filter(|&&v| v == 0.0).count() > x.len() / 2);
    let ring = getis_ord_star_with(&x, &k_ring(&cells, 1), 0.05);
    let centres: Vec<(f64, f64)> = cells
        .iter()
        .map(|c| {
            let ll = h3o::LatLng::from(*c);
            (ll.lng(), ll.lat())
        })
        .collect();
    let band = getis_ord_star(&x, &centres, 549.0, 0.05);
    for (i, r) in rows.iter().enumerate() {
        assert!(
            (ring[i].z - r.2).abs() < 1e-9,
            "{}: k-ring z {} vs esda {}",
            r.0,
            ring[i].z,
            r.2
        );
        assert!(
            (band[i].z - r.3).abs() < 1e-9,
            "{}: band z {} vs esda {}",
            r.0,
            band[i].z,
            r.3
        );
    }
    // the planted cluster is hot; with only the cells that have cases it would be
    // measured against no quiet cells at all
    assert!(ring.iter().filter(|h| h.class == "hot").count() >= 3);
}

#[test]
fn the_distance_band_equals_the_pairwise_definition() {
    // random centres over a few km: the R-tree search equals the all-pairs test
    let mut s = 11u64;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<(f64, f64)> = (0..400)
        .map(|_| (24.9 + rnd() * 0.08, 60.15 + rnd() * 0.04))
        .collect();
    for d in [50.0, 250.0, 1000.0] {
        let fast = distance_band(&centres, d);
        for (i, near) in fast.iter().enumerate() {
            let slow: Vec<usize> = (0..centres.len())
                .filter(|&j| {
                    haversine_m(centres[i].0, centres[i].1, centres[j].0, centres[j].1) <= d
                })
                .collect();
            assert_eq!(near, &slow, "area {i} at {d} m");
        }
    }
}

#[test]
fn queen_and_rook_on_a_lattice_of_squares() {
    // 3 × 3 unit squares: the centre has 8 queen and 4 rook neighbours, a corner 3 and 2
    let sq = |c: usize, r: usize| {
        let (x, y) = (c as f64, r as f64);
        MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (x, y),
                (x + 1.0, y),
                (x + 1.0, y + 1.0),
                (x, y + 1.0),
                (x, y),
            ]),
            vec![],
        )])
    };
    let areas: Vec<_> = (0..9).map(|i| sq(i % 3, i / 3)).collect();
    let queen = contiguity(&areas, false);
    let rook = contiguity(&areas, true);
    assert_eq!(queen[4].len(), 9);
    assert_eq!(rook[4], vec![1, 3, 4, 5, 7]);
    assert_eq!(queen[0], vec![0, 1, 3, 4]);
    assert_eq!(rook[0], vec![0, 1, 3]);
}
