//! Tests of the synthetic megacity: the Voronoi grids tile the box and nest, and
//! components and buildings land where they should.

use geo::Point;

use super::*;
use crate::building::Building;
use crate::category::CategoryTable;
use crate::component::Component;
use geo::{Area as _, Contains};

fn districts(rule: &CodeRule) -> Vec<(AreaCode, String)> {
    ["310101", "310104", "310105"]
        .iter()
        .map(|c| (rule.parse_area(Level::District, c).unwrap(), c.to_string()))
        .collect()
}

#[test]
fn voronoi_grids_tile_the_box_and_nest() {
    let rule = CodeRule::national();
    let p = SynthParams::shanghai(7, 500, districts(&rule));
    let city = MegaCity::generate(&rule, &p).unwrap();
    let grids: Vec<&Area> = city.grids().collect();
    assert_eq!(grids.len(), 500);
    let total: f64 = grids.iter().map(|g| g.boundary.unsigned_area()).sum();
    let boxed = p.extent.to_polygon().unsigned_area();
    assert!((total - boxed).abs() / boxed < 1e-9, "{total} vs {boxed}");
    // every grid's code extends an area present one level up
    let codes: std::collections::HashSet<AreaCode> = city.areas.iter().map(|a| a.code).collect();
    for g in &grids {
        assert!(codes.contains(&g.code.parent(&rule).unwrap()));
    }
    // a point's grid by nearest site is the Voronoi cell that contains it
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..500 {
        let (x, y) = city.random_point(&mut rng);
        let code = city.grid_of(x, y);
        let cell = grids.iter().find(|g| g.code == code).unwrap();
        assert!(
            cell.boundary.contains(&Point::new(x, y))
                || geo::Intersects::intersects(&cell.boundary, &Point::new(x, y))
        );
    }
    // deterministic by seed
    let again = MegaCity::generate(&rule, &p).unwrap();
    assert_eq!(again.areas, city.areas);
}

#[test]
fn components_carry_their_district_and_category() {
    let rule = CodeRule::national();
    let p = SynthParams {
        with_parent_boundaries: false,
        ..SynthParams::shanghai(3, 200, districts(&rule))
    };
    let city = MegaCity::generate(&rule, &p).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/categories.csv");
    let table = CategoryTable::load(&path, &rule).unwrap();
    let comps: Vec<Component> = city.components(&table, 2000, 9).unwrap().collect();
    assert_eq!(comps.len(), 2000);
    for c in &comps {
        let grid = city.grid_of(c.location.x(), c.location.y());
        assert!(grid.extends(&c.code.district(&rule)));
        assert!(table.get(&c.category()).is_some());
    }
    let codes: std::collections::HashSet<u64> = comps.iter().map(|c| c.code.value()).collect();
    assert_eq!(codes.len(), comps.len(), "component codes are unique");
    let again: Vec<Component> = city.components(&table, 2000, 9).unwrap().collect();
    assert_eq!(again, comps);
}

#[test]
fn buildings_lie_in_the_box_with_sane_sizes() {
    use geo::{BoundingRect, Contains};
    let rule = CodeRule::national();
    let p = SynthParams {
        with_parent_boundaries: false,
        ..SynthParams::shanghai(3, 50, districts(&rule))
    };
    let city = MegaCity::generate(&rule, &p).unwrap();
    let b: Vec<Building> = city.buildings(500, 4).collect();
    assert_eq!(b.len(), 500);
    for x in &b {
        let r = x.footprint.bounding_rect().unwrap();
        assert!(p.extent.contains(&r.center()));
        // 10..40 m a side, in degrees at this latitude
        let lat = r.center().y.to_radians().cos();
        let w = r.width() * 111_320.0 * lat;
        let h = r.height() * 111_320.0;
        assert!(
            (9.99..=40.01).contains(&w) && (9.99..=40.01).contains(&h),
            "{w} {h}"
        );
        assert!((9.0..=150.0).contains(&x.height_m));
    }
    assert_eq!(city.buildings(500, 4).collect::<Vec<_>>(), b);
    assert!(b.iter().any(|x| x.height_m > 30.0));
}
