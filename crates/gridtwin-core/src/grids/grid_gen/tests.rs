//! Tests of grid generation: irregular communities tiled exactly, H3 grids, and too
//! many grids for the code rule.

use super::*;
use crate::grid_check::{check, CheckOptions, RawArea};
use crate::synth::{MegaCity, SynthParams};

#[test]
fn irregular_communities_are_tiled_exactly_and_validate_clean() {
    let rule = CodeRule::national();
    let districts = vec![(
        rule.parse_area(Level::District, "310101").unwrap(),
        "d".to_string(),
    )];
    // 60 Voronoi grids → ~10 irregular communities (unions of cells)
    let p = SynthParams {
        grids: 60,
        ..SynthParams::shanghai(4, 60, districts)
    };
    let p = SynthParams {
        extent: Rect::new(
            Coord {
                x: 121.40,
                y: 31.20,
            },
            Coord {
                x: 121.42,
                y: 31.22,
            },
        ),
        ..p
    };
    let city = MegaCity::generate(&rule, &p).unwrap();
    let communities: Vec<&Area> = city
        .areas
        .iter()
        .filter(|a| a.level() == Level::Community)
        .collect();
    assert!(communities.len() > 3);
    let mut grids = Vec::new();
    for c in &communities {
        let g = grids_for(&rule, &c.code, &c.boundary, 10_000.0).unwrap();
        // measured on one frame (each area's own frame would differ by ~1e-5)
        let f = LocalFrame::new(c.bbox().unwrap().center().x, c.bbox().unwrap().center().y);
        let sum: f64 = g
            .iter()
            .map(|x| f.to_local_multipolygon(&x.boundary).unsigned_area())
            .sum();
        let whole = f.to_local_multipolygon(&c.boundary).unsigned_area();
        assert!((sum - whole).abs() / whole < 1e-6, "{sum} vs {whole}");
        grids.extend(g);
    }
    let raw = |v: &[&Area]| RawArea::numbered(v.iter().copied());
    let gr: Vec<&Area> = grids.iter().collect();
    let problems = check(
        &raw(&gr),
        Some(&raw(&communities)),
        &rule,
        CheckOptions {
            min_area_m2: 2_000.0,
            max_area_m2: 25_000.0,
            tolerance_m2: 0.01,
        },
    );
    assert!(problems.is_empty(), "{problems:#?}");
    // deterministic
    let again = grids_for(
        &rule,
        &communities[0].code,
        &communities[0].boundary,
        10_000.0,
    )
    .unwrap();
    assert_eq!(
        again,
        grids
            .iter()
            .filter(|g| g.code.extends(&communities[0].code))
            .cloned()
            .collect::<Vec<_>>()
    );
}

#[test]
fn h3_grids_tile_a_community_exactly() {
    let rule = CodeRule::national();
    let c = rule.parse_area(Level::Community, "310101001001").unwrap();
    let b = MultiPolygon(vec![Rect::new(
        Coord {
            x: 121.40,
            y: 31.20,
        },
        Coord {
            x: 121.405,
            y: 31.204,
        },
    )
    .to_polygon()]);
    // resolution 10: cells of about 15,000 m²
    let g = grids_for_h3(&rule, &c, &b, h3o::Resolution::Ten).unwrap();
    assert!(g.len() > 10);
    let cell = h3o::Resolution::Ten.area_m2();
    assert!(
        g.iter().all(|x| x.area_m2() >= 0.25 * cell * 0.99),
        "slivers are merged"
    );
    let f = LocalFrame::new(121.4025, 31.202);
    let sum: f64 = g
        .iter()
        .map(|x| f.to_local_multipolygon(&x.boundary).unsigned_area())
        .sum();
    let whole = f.to_local_multipolygon(&b).unsigned_area();
    assert!((sum - whole).abs() / whole < 1e-6, "{sum} vs {whole}");
    let raw = RawArea::numbered(&g);
    let parent = vec![RawArea {
        record: 1,
        code: c.to_string(),
        boundary: b.clone(),
    }];
    let p = check(
        &raw,
        Some(&parent),
        &rule,
        CheckOptions {
            min_area_m2: 0.0,
            max_area_m2: 1e9,
            tolerance_m2: 0.01,
        },
    );
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn too_many_grids_is_an_error() {
    let rule = CodeRule::national();
    let c = rule.parse_area(Level::Community, "310101001001").unwrap();
    let b = MultiPolygon(vec![Rect::new(
        Coord { x: 121.4, y: 31.2 },
        Coord {
            x: 121.42,
            y: 31.22,
        },
    )
    .to_polygon()]);
    // about 2 km × 2.2 km in 1-ha grids: ~490, more than the 99 a community
    // numbers; refused before the lattice is built, with the target that fits
    let e = grids_for(&rule, &c, &b, 10_000.0).unwrap_err();
    assert!(
        matches!(e, CodeError::TooManyChildren { max: 99, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("at least"), "{e}");
    // issue 14: a target of 0.001 m² is refused at once, not 10^12 lattice cells
    assert!(matches!(
        grids_for(&rule, &c, &b, 0.001),
        Err(CodeError::TooManyChildren { .. })
    ));
}
