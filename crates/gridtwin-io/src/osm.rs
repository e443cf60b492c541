//! OpenStreetMap PBF import: buildings, roads and components of a real city.
//!
//! Buildings are closed ways tagged `building` and `type=multipolygon` relations tagged
//! `building` (`building:part` ways are parts of buildings already counted, and are not
//! imported). Roads are ways tagged `highway`, with the class's default speed from
//! `data/road_speeds.csv` unless `maxspeed` gives a number. Components are nodes whose
//! tags match `data/osm_components.csv`. Every candidate ends loaded or rejected; for
//! OSM input a rejection's record number is the element's OSM id.

use std::collections::HashMap;
use std::path::Path;

use geo::{Contains, Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use gridtwin_core::{
    Building, CategoryKey, CategoryKind, CategoryTable, CodeRule, Component, ComponentStatus,
    QualityReport, RejectReason, Rejection, Road, SpeedSource,
};
use osmpbf::{Element, ElementReader, RelMemberType};
use serde::Deserialize;

use crate::error::IoError;
use crate::load::Loader;

/// OSM tag → component category rows, tried in order.
#[derive(Debug, Clone)]
pub struct OsmTagMap {
    rows: Vec<(String, String, CategoryKey)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagRow {
    key: String,
    value: String,
    category: String,
}

impl OsmTagMap {
    /// Loads the map, checking every category exists in the table.
    pub fn load(path: &Path, table: &CategoryTable) -> Result<Self, IoError> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| IoError::read(&file, e))?;
        let mut rows = Vec::new();
        for (i, row) in reader.deserialize::<TagRow>().enumerate() {
            let row = row.map_err(|e| IoError::read(&file, format!("row {}: {e}", i + 1)))?;
            let cat = table
                .find(CategoryKind::Component, &row.category)
                .ok_or_else(|| {
                    IoError::read(
                        &file,
                        format!(
                            "row {}: component category `{}` is not in the category table",
                            i + 1,
                            row.category
                        ),
                    )
                })?;
            rows.push((row.key, row.value, cat.key));
        }
        Ok(OsmTagMap { rows })
    }

    fn category<'t>(
        &self,
        tags: impl Iterator<Item = (&'t str, &'t str)> + Clone,
    ) -> Option<CategoryKey> {
        self.rows
            .iter()
            .find(|(k, v, _)| tags.clone().any(|(tk, tv)| tk == k && tv == v))
            .map(|(_, _, c)| *c)
    }
}

/// Default speeds per road class.
#[derive(Debug, Clone)]
pub struct RoadSpeeds(HashMap<String, f64>);

impl RoadSpeeds {
    pub fn load(path: &Path) -> Result<Self, IoError> {
        let file = path.display().to_string();
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Row {
            class: String,
            speed_kmh: f64,
        }
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| IoError::read(&file, e))?;
        let mut map = HashMap::new();
        for (i, row) in reader.deserialize::<Row>().enumerate() {
            let row = row.map_err(|e| IoError::read(&file, format!("row {}: {e}", i + 1)))?;
            if !(row.speed_kmh.is_finite() && row.speed_kmh > 0.0) {
                return Err(IoError::read(
                    &file,
                    format!("row {}: speed must be positive", i + 1),
                ));
            }
            if map.insert(row.class.clone(), row.speed_kmh).is_some() {
                return Err(IoError::read(
                    &file,
                    format!("row {}: class `{}` listed twice", i + 1, row.class),
                ));
            }
        }
        Ok(RoadSpeeds(map))
    }

    /// The speed of a road class (km/h), if the table has it.
    pub fn get(&self, class: &str) -> Option<f64> {
        self.0.get(class).copied()
    }
}

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

/// The basemap kind of an area feature's tags: water or park, or neither.
fn basemap_kind<'t>(mut tag: impl FnMut(&str) -> Option<&'t str>) -> Option<&'static str> {
    let water = matches!(tag("natural"), Some("water" | "bay"))
        || tag("waterway") == Some("riverbank")
        || matches!(tag("landuse"), Some("reservoir" | "basin"));
    if water {
        return Some("water");
    }
    let park = matches!(
        tag("leisure"),
        Some("park" | "garden" | "nature_reserve" | "playground")
    ) || matches!(
        tag("landuse"),
        Some("grass" | "forest" | "meadow" | "recreation_ground" | "cemetery" | "village_green")
    ) || matches!(tag("natural"), Some("wood" | "scrub" | "grassland"));
    park.then_some("park")
}

/// The name of a place worth a label (a node tagged `place` of [`PLACE_KINDS`], named).
fn place_name<'t>(tags: impl Iterator<Item = (&'t str, &'t str)>) -> Option<String> {
    let (mut place, mut name) = (false, None);
    for (k, v) in tags {
        match k {
            "place" => place = PLACE_KINDS.contains(&v),
            "name" => name = Some(v.to_string()),
            _ => {}
        }
    }
    name.filter(|_| place)
}

/// Place names worth a label on a city map.
const PLACE_KINDS: [&str; 7] = [
    "city",
    "town",
    "borough",
    "suburb",
    "quarter",
    "neighbourhood",
    "island",
];

/// A building candidate: a way's node refs, or a relation's member ways (id, is outer).
struct RawBuilding<M> {
    id: i64,
    members: Vec<M>,
    height: Option<String>,
    levels: Option<String>,
}

struct RawRoad {
    id: i64,
    refs: Vec<i64>,
    class: String,
    maxspeed: Option<String>,
    oneway: bool,
}

/// A multipolygon relation of the basemap: id, member ways (id, is outer), kind.
type BasemapRelation = (i64, Vec<(i64, bool)>, &'static str);

/// What one pass over the PBF keeps.
#[derive(Default)]
struct Raw {
    nodes: HashMap<i64, Coord<f64>>,
    component_nodes: Vec<(i64, CategoryKey)>,
    building_ways: Vec<RawBuilding<i64>>,
    road_ways: Vec<RawRoad>,
    way_refs: HashMap<i64, Vec<i64>>,
    building_relations: Vec<RawBuilding<(i64, bool)>>,
    basemap_ways: Vec<(i64, Vec<i64>, &'static str)>,
    basemap_relations: Vec<BasemapRelation>,
    places: Vec<(i64, String)>,
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
    let reader = ElementReader::from_path(path)
        .map_err(|e| IoError::read(&path.display().to_string(), e))?;
    let mut raw = Raw::default();
    // (the PBF decoder is third-party code on untrusted bytes: isolated)
    crate::isolate::isolate(|| {
        reader.for_each(|element| match element {
            Element::Node(n) => {
                raw.nodes
                    .insert(n.id(), lon_lat(n.nano_lon(), n.nano_lat()));
                if let Some(c) = tags.category(n.tags()) {
                    raw.component_nodes.push((n.id(), c));
                }
                if let Some(name) = place_name(n.tags()) {
                    raw.places.push((n.id(), name));
                }
            }
            Element::DenseNode(n) => {
                raw.nodes
                    .insert(n.id(), lon_lat(n.nano_lon(), n.nano_lat()));
                if let Some(c) = tags.category(n.tags()) {
                    raw.component_nodes.push((n.id(), c));
                }
                if let Some(name) = place_name(n.tags()) {
                    raw.places.push((n.id(), name));
                }
            }
            Element::Way(w) => {
                let tag = |k: &str| {
                    w.tags()
                        .find(|(tk, _)| *tk == k)
                        .map(|(_, v)| v.to_string())
                };
                let refs: Vec<i64> = w.refs().collect();
                if tag("building").is_some() {
                    raw.building_ways.push(RawBuilding {
                        id: w.id(),
                        members: refs.clone(),
                        height: tag("height"),
                        levels: tag("building:levels"),
                    });
                }
                if let Some(class) = tag("highway") {
                    let oneway = matches!(tag("oneway").as_deref(), Some("yes" | "1" | "true"))
                        || tag("junction").as_deref() == Some("roundabout");
                    raw.road_ways.push(RawRoad {
                        id: w.id(),
                        refs: refs.clone(),
                        class,
                        maxspeed: tag("maxspeed"),
                        oneway,
                    });
                }
                let kind = basemap_kind(|k| w.tags().find(|(tk, _)| *tk == k).map(|(_, v)| v));
                if let Some(kind) = kind {
                    if tag("building").is_none() && refs.len() >= 4 && refs.first() == refs.last() {
                        raw.basemap_ways.push((w.id(), refs.clone(), kind));
                    }
                }
                raw.way_refs.insert(w.id(), refs);
            }
            Element::Relation(r) => {
                let tag = |k: &str| {
                    r.tags()
                        .find(|(tk, _)| *tk == k)
                        .map(|(_, v)| v.to_string())
                };
                let kind = basemap_kind(|k| r.tags().find(|(tk, _)| *tk == k).map(|(_, v)| v));
                if let (Some(kind), Some("multipolygon"), None) =
                    (kind, tag("type").as_deref(), tag("building"))
                {
                    let members = r
                        .members()
                        .filter(|m| m.member_type == RelMemberType::Way)
                        .map(|m| (m.member_id, m.role().unwrap_or("outer") != "inner"))
                        .collect();
                    raw.basemap_relations.push((r.id(), members, kind));
                }
                if tag("type").as_deref() == Some("multipolygon") && tag("building").is_some() {
                    let members = r
                        .members()
                        .filter(|m| m.member_type == RelMemberType::Way)
                        .map(|m| (m.member_id, m.role().unwrap_or("outer") != "inner"))
                        .collect();
                    raw.building_relations.push(RawBuilding {
                        id: r.id(),
                        members,
                        height: tag("height"),
                        levels: tag("building:levels"),
                    });
                }
            }
        })
    })
    .map_err(|e| IoError::read(&path.display().to_string(), e))?
    .map_err(|e| IoError::read(&path.display().to_string(), e))?;

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

/// Degrees from OSM's integer nanodegrees by one correctly rounded division, so
/// `60.1651349` stays `60.1651349` (a multiplication by 1e-9 would print 60.165134900000005).
fn lon_lat(nano_lon: i64, nano_lat: i64) -> Coord<f64> {
    Coord {
        x: nano_lon as f64 / 1e9,
        y: nano_lat as f64 / 1e9,
    }
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

/// Joins member ways into closed rings (outer and inner), holes into the outer that
/// contains them.
fn assemble_multipolygon(
    members: &[(i64, bool)],
    ways: &HashMap<i64, Vec<i64>>,
    nodes: &HashMap<i64, Coord<f64>>,
) -> Result<MultiPolygon<f64>, (RejectReason, String)> {
    let rings_of = |outer: bool| -> Result<Vec<LineString<f64>>, (RejectReason, String)> {
        let mut chains: Vec<Vec<i64>> = Vec::new();
        for (way, is_outer) in members {
            if *is_outer != outer {
                continue;
            }
            let refs = ways.get(way).ok_or_else(|| {
                (
                    RejectReason::MissingCoordinate,
                    format!("member way {way} is missing from the extract"),
                )
            })?;
            chains.push(refs.clone());
        }
        let mut rings = Vec::new();
        while let Some(mut chain) = chains.pop() {
            while chain.first() != chain.last() {
                let end = *chain.last().expect("non-empty");
                let Some(pos) = chains
                    .iter()
                    .position(|c| c.first() == Some(&end) || c.last() == Some(&end))
                else {
                    return Err((
                        RejectReason::InvalidGeometry,
                        "member ways do not close into a ring".to_string(),
                    ));
                };
                let mut next = chains.remove(pos);
                if next.first() != Some(&end) {
                    next.reverse();
                }
                chain.extend_from_slice(&next[1..]);
            }
            let coords: Vec<Coord<f64>> = chain
                .iter()
                .map(|n| nodes.get(n).copied().ok_or(*n))
                .collect::<Result<_, _>>()
                .map_err(|n| {
                    (
                        RejectReason::MissingCoordinate,
                        format!("node {n} is missing from the extract"),
                    )
                })?;
            if coords.len() < 4 {
                return Err((
                    RejectReason::InvalidGeometry,
                    "a ring needs at least 3 distinct nodes".to_string(),
                ));
            }
            rings.push(LineString(coords));
        }
        Ok(rings)
    };
    let outers = rings_of(true)?;
    let inners = rings_of(false)?;
    if outers.is_empty() {
        return Err((RejectReason::InvalidGeometry, "no outer ring".to_string()));
    }
    let mut polygons: Vec<Polygon<f64>> = outers
        .into_iter()
        .map(|o| Polygon::new(o, vec![]))
        .collect();
    for inner in inners {
        let probe = Point(inner.0[0]);
        let host = polygons
            .iter_mut()
            .find(|p| p.contains(&probe))
            .ok_or_else(|| {
                (
                    RejectReason::InvalidGeometry,
                    "an inner ring lies in no outer ring".to_string(),
                )
            })?;
        host.interiors_push(inner);
    }
    Ok(MultiPolygon(polygons))
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
                    .map(|c| c.department.clone())
                    .unwrap_or_default(),
                status: ComponentStatus::InService,
                source_id: format!("osm:node/{id}"),
            })
        })
        .collect()
}
