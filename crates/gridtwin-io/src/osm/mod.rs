//! OpenStreetMap PBF import: buildings, roads and components of a real city.
//!
//! Buildings are closed ways tagged `building` and `type=multipolygon` relations tagged
//! `building` (`building:part` ways are parts of buildings already counted, and are not
//! imported). Roads are ways tagged `highway`, with the class's default speed from
//! `data/road_speeds.csv` unless `maxspeed` gives a number. Components are nodes whose
//! tags match `data/osm_components.csv`. Every candidate ends loaded or rejected; for
//! OSM input a rejection's record number is the element's OSM id.

mod multipolygon;
mod scan;
mod tables;

use std::collections::HashMap;
use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use gridtwin_core::{
    Building, CategoryKey, CategoryTable, CodeRule, Component, ComponentStatus, QualityReport,
    RejectReason, Rejection, Road, SpeedSource,
};

use crate::error::IoError;
use crate::load::Loader;
use multipolygon::assemble_multipolygon;
use scan::{RawBuilding, RawRoad};

pub use tables::{OsmTagMap, RoadSpeeds};

/// What an OSM import produced, before the area hierarchy is added.
pub struct OsmCity {
    pub buildings: Vec<Building>,
    pub roads: Vec<Road>,
    /// Components with their category; codes are given once the district is known.
    pub components: Vec<(CategoryKey, Point<f64>, i64)>,
    /// What a map shows under the data: water, parks and place names (for the viewer;
    /// no counts in the quality report, as these are not the city's records).
    pub basemap: Vec<BasemapFeature>,
    pub quality: QualityReport,
}

/// One feature of the basemap: `kind` is `water` or `park` (a polygon) or `place` (a
/// point with its name).
#[derive(Debug, Clone)]
pub struct BasemapFeature {
    pub kind: &'static str,
    pub name: String,
    pub geometry: Geometry<f64>,
    pub source_id: String,
}

/// Reads an OSM PBF file.
pub fn read_osm(
    path: &Path,
    tags: &OsmTagMap,
    speeds: &RoadSpeeds,
    loader: &Loader,
) -> Result<OsmCity, IoError> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    let raw = scan::scan(path, tags)?;

    let mut quality = QualityReport::new();
    let reject = |q: &mut QualityReport, layer: &str, id: i64, reason, detail: String| {
        q.rejected(layer, Rejection::new(&file, id as u64, reason, detail))
    };
    let line_of = |refs: &[i64]| -> Result<Vec<Coord<f64>>, i64> {
        refs.iter()
            .map(|r| raw.nodes.get(r).copied().ok_or(*r))
            .collect()
    };

    let mut buildings = Vec::new();
    let mut add_building = |q: &mut QualityReport,
                            kind: &str,
                            id: i64,
                            footprint: Result<MultiPolygon<f64>, (RejectReason, String)>,
                            h: &Option<String>,
                            l: &Option<String>| {
        let result = footprint.and_then(|fp| {
            fp.check_validation()
                .map_err(|e| (RejectReason::InvalidGeometry, e.to_string()))?;
            let (height_m, height_source) = loader.height(h.as_deref(), l.as_deref())?;
            Ok(Building {
                id: format!("osm:{kind}/{id}"),
                footprint: fp,
                height_m,
                height_source,
            })
        });
        match result {
            Ok(b) => {
                q.loaded(&file, "buildings");
                buildings.push(b);
            }
            Err((reason, detail)) => {
                reject(q, "buildings", id, reason, format!("{kind} {id}: {detail}"))
            }
        }
    };
    for RawBuilding {
        id,
        members: refs,
        height: h,
        levels: l,
    } in &raw.building_ways
    {
        let fp = line_of(refs)
            .map_err(|n| {
                (
                    RejectReason::MissingCoordinate,
                    format!("node {n} is missing from the extract"),
                )
            })
            .and_then(|coords| {
                if coords.len() < 4 || coords.first() != coords.last() {
                    Err((
                        RejectReason::InvalidGeometry,
                        "the way is not a closed ring".to_string(),
                    ))
                } else {
                    Ok(MultiPolygon(vec![Polygon::new(LineString(coords), vec![])]))
                }
            });
        add_building(&mut quality, "way", *id, fp, h, l);
    }
    for RawBuilding {
        id,
        members,
        height: h,
        levels: l,
    } in &raw.building_relations
    {
        let fp = assemble_multipolygon(members, &raw.way_refs, &raw.nodes);
        add_building(&mut quality, "relation", *id, fp, h, l);
    }

    let mut roads = Vec::new();
    for RawRoad {
        id,
        refs,
        class,
        maxspeed,
        oneway,
    } in &raw.road_ways
    {
        let result = (|| {
            let coords = line_of(refs).map_err(|n| {
                (
                    RejectReason::MissingCoordinate,
                    format!("node {n} is missing from the extract"),
                )
            })?;
            if coords.len() < 2 {
                return Err((
                    RejectReason::InvalidGeometry,
                    "a road needs two nodes".to_string(),
                ));
            }
            let default = *speeds.0.get(class).ok_or_else(|| {
                (
                    RejectReason::UnknownCategory,
                    format!("highway=`{class}` has no speed in the road speed table"),
                )
            })?;
            let (speed_kmh, speed_source) = match maxspeed.as_deref().and_then(parse_maxspeed) {
                Some(s) => (s, SpeedSource::Tagged),
                None => (default, SpeedSource::Class),
            };
            Ok(Road {
                id: format!("osm:way/{id}"),
                line: LineString(coords),
                class: class.clone(),
                speed_kmh,
                speed_source,
                oneway: *oneway,
            })
        })();
        match result {
            Ok(r) => {
                quality.loaded(&file, "roads");
                roads.push(r);
            }
            Err((reason, detail)) => reject(
                &mut quality,
                "roads",
                *id,
                reason,
                format!("way {id}: {detail}"),
            ),
        }
    }

    let mut components = Vec::new();
    for (id, cat) in &raw.component_nodes {
        let c = raw.nodes[id];
        match gridtwin_core::coord::check_lon_lat(c.x, c.y) {
            Ok(()) => {
                quality.loaded(&file, "components");
                components.push((*cat, Point(c), *id));
            }
            Err(_) => reject(
                &mut quality,
                "components",
                *id,
                RejectReason::OutOfRange,
                format!("node {id} at ({}, {})", c.x, c.y),
            ),
        }
    }
    components.sort_by_key(|c| c.2);

    // The basemap: what cannot be drawn (a node missing from a clipped extract, a
    // ring that does not close) is left out; it is a backdrop, not a record.
    let mut basemap = Vec::new();
    for (id, refs, kind) in &raw.basemap_ways {
        if let Ok(coords) = line_of(refs) {
            basemap.push(BasemapFeature {
                kind,
                name: String::new(),
                geometry: Geometry::Polygon(Polygon::new(LineString(coords), vec![])),
                source_id: format!("osm:way/{id}"),
            });
        }
    }
    for (id, members, kind) in &raw.basemap_relations {
        if let Ok(mp) = assemble_multipolygon(members, &raw.way_refs, &raw.nodes) {
            basemap.push(BasemapFeature {
                kind,
                name: String::new(),
                geometry: Geometry::MultiPolygon(mp),
                source_id: format!("osm:relation/{id}"),
            });
        }
    }
    for (id, name) in &raw.places {
        basemap.push(BasemapFeature {
            kind: "place",
            name: name.clone(),
            geometry: Geometry::Point(Point(raw.nodes[id])),
            source_id: format!("osm:node/{id}"),
        });
    }
    basemap.sort_by(|a, b| (a.kind, &a.source_id).cmp(&(b.kind, &b.source_id)));
    Ok(OsmCity {
        buildings,
        roads,
        components,
        basemap,
        quality,
    })
}

/// Parses `maxspeed`: a number in km/h, or `N mph`; anything else (`FI:urban`, `none`)
/// falls back to the class default.
fn parse_maxspeed(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Some(mph) = t.strip_suffix("mph") {
        return mph
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0)
            .map(|v| v * 1.609_344);
    }
    t.trim_end_matches("km/h")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
}

/// Gives OSM components their codes: district + class + serial in OSM-id order.
pub fn code_components(
    rule: &CodeRule,
    table: &CategoryTable,
    district: &gridtwin_core::AreaCode,
    raw: &[(CategoryKey, Point<f64>, i64)],
) -> Result<Vec<Component>, gridtwin_core::code::CodeError> {
    let mut serial: HashMap<CategoryKey, u64> = HashMap::new();
    raw.iter()
        .map(|(key, p, id)| {
            let s = serial.entry(*key).or_insert(0);
            *s += 1;
            Ok(Component {
                code: rule.component_code(district, key.major, key.minor, *s)?,
                location: *p,
                department: table
                    .get(key)
                    .map(|c| c.department.as_str().into())
                    .unwrap_or_else(|| "".into()),
                status: ComponentStatus::InService,
                source_id: format!("osm:node/{id}").into(),
            })
        })
        .collect()
}
