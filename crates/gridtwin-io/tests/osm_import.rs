//! OSM import counts checked against an independent reader (`osmpbfreader`, a separate
//! implementation of the PBF format) on the committed Helsinki extract.

use std::path::Path;

use gridtwin_core::{CategoryKind, Level};
use gridtwin_io::city_dir::{import_osm_city, DataTables, OsmImportConfig};
use osmpbfreader::{OsmObj, OsmPbfReader};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Independent {
    buildings: usize,
    lamps: usize,
    hydrants: usize,
    highways: usize,
    /// Named place nodes of the kinds a city map labels.
    places: usize,
    /// Closed ways that are parks (leisure=park) or water (natural=water).
    parks: usize,
    water: usize,
}

fn count_independently(pbf: &Path) -> Independent {
    let mut r = OsmPbfReader::new(std::fs::File::open(pbf).unwrap());
    let mut c = Independent {
        buildings: 0,
        lamps: 0,
        hydrants: 0,
        highways: 0,
        places: 0,
        parks: 0,
        water: 0,
    };
    for obj in r.iter() {
        match obj.unwrap() {
            OsmObj::Node(n) => {
                c.lamps += n.tags.contains("highway", "street_lamp") as usize;
                c.hydrants += n.tags.contains("emergency", "fire_hydrant") as usize;
                let labelled = [
                    "city",
                    "town",
                    "borough",
                    "suburb",
                    "quarter",
                    "neighbourhood",
                    "island",
                ]
                .iter()
                .any(|k| n.tags.contains("place", k));
                c.places += (labelled && n.tags.contains_key("name")) as usize;
            }
            OsmObj::Way(w) => {
                c.buildings += w.tags.contains_key("building") as usize;
                c.highways += w.tags.contains_key("highway") as usize;
                let closed = w.nodes.len() >= 4 && w.nodes.first() == w.nodes.last();
                let plain = closed && !w.tags.contains_key("building");
                c.parks += (plain && w.tags.contains("leisure", "park")) as usize;
                c.water += (plain && w.tags.contains("natural", "water")) as usize;
            }
            OsmObj::Relation(r) => {
                c.buildings += (r.tags.contains("type", "multipolygon")
                    && r.tags.contains_key("building")) as usize;
            }
        }
    }
    c
}

#[test]
fn helsinki_counts_match_an_independent_reader() {
    let tables = DataTables::load(&repo().join("data")).unwrap();
    let cfg = OsmImportConfig::load(&repo().join("data/helsinki/city.toml")).unwrap();
    let truth = count_independently(&cfg.osm);
    // sanity: the extract is the one DATA.md describes
    assert_eq!((truth.lamps, truth.hydrants), (586, 37));

    let (city, quality, basemap) = import_osm_city(&cfg, &tables).unwrap();
    let layer = |name: &str| {
        quality
            .files
            .values()
            .find(|f| f.layer == name)
            .unwrap()
            .clone()
    };
    // Every building and road candidate is accounted for: loaded + rejected = independent count.
    let b = layer("buildings");
    assert_eq!(b.read, truth.buildings as u64);
    assert_eq!(b.loaded, city.buildings.len() as u64);
    assert_eq!(b.read, b.loaded + b.rejected);
    let r = layer("roads");
    assert_eq!(r.read, truth.highways as u64);
    assert_eq!(r.loaded, city.roads.len() as u64);
    assert!(quality.balanced());

    let class = |name: &str| {
        let key = tables
            .table
            .find(CategoryKind::Component, name)
            .unwrap()
            .key;
        city.components
            .iter()
            .filter(|c| c.category() == key)
            .count()
    };
    assert_eq!(class("Street lamp"), truth.lamps);
    assert_eq!(class("Fire hydrant"), truth.hydrants);

    // The generated hierarchy nests and covers the extent with ~10,000 m² grids.
    assert!(city.check_hierarchy().is_empty());
    let grids: Vec<_> = city.areas_at(Level::Grid).collect();
    let mean = grids.iter().map(|g| g.area_m2()).sum::<f64>() / grids.len() as f64;
    assert!((8_000.0..12_000.0).contains(&mean), "{mean}");
    // The basemap: every named place node; parks and water as the independent reader
    // counts them (at least: other green and water tags add to them).
    let kind = |k: &str| basemap.iter().filter(|f| f.kind == k).count();
    assert_eq!(kind("place"), truth.places);
    assert!(
        truth.places > 0 && truth.parks > 0,
        "the extract has places and parks"
    );
    let parks_tagged = basemap
        .iter()
        .filter(|f| f.kind == "park" && f.source_id.starts_with("osm:way/"))
        .count();
    assert!(
        parks_tagged >= truth.parks,
        "{parks_tagged} < {}",
        truth.parks
    );
    assert!(kind("water") >= truth.water);
    // Buildings with tagged heights use them; others fall back as documented.
    assert!(city.buildings.iter().all(|b| b.height_m > 0.0));
}
