//! The one pass over a PBF file: every node's place, and the ways and relations that
//! may become buildings, roads, components or the basemap, kept raw for assembly.

use std::collections::HashMap;
use std::path::Path;

use geo::Coord;
use gridtwin_core::CategoryKey;
use osmpbf::{Element, ElementReader, RelMemberType};

use super::OsmTagMap;
use crate::error::IoError;

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
pub(super) struct RawBuilding<M> {
    pub(super) id: i64,
    pub(super) members: Vec<M>,
    pub(super) height: Option<String>,
    pub(super) levels: Option<String>,
}

pub(super) struct RawRoad {
    pub(super) id: i64,
    pub(super) refs: Vec<i64>,
    pub(super) class: String,
    pub(super) maxspeed: Option<String>,
    pub(super) oneway: bool,
}

/// A multipolygon relation of the basemap: id, member ways (id, is outer), kind.
type BasemapRelation = (i64, Vec<(i64, bool)>, &'static str);

/// What one pass over the PBF keeps.
#[derive(Default)]
pub(super) struct Raw {
    pub(super) nodes: HashMap<i64, Coord<f64>>,
    pub(super) component_nodes: Vec<(i64, CategoryKey)>,
    pub(super) building_ways: Vec<RawBuilding<i64>>,
    pub(super) road_ways: Vec<RawRoad>,
    pub(super) way_refs: HashMap<i64, Vec<i64>>,
    pub(super) building_relations: Vec<RawBuilding<(i64, bool)>>,
    pub(super) basemap_ways: Vec<(i64, Vec<i64>, &'static str)>,
    pub(super) basemap_relations: Vec<BasemapRelation>,
    pub(super) places: Vec<(i64, String)>,
}

/// Reads every element of the PBF at `path`, keeping what the import can use.
pub(super) fn scan(path: &Path, tags: &OsmTagMap) -> Result<Raw, IoError> {
    let reader = ElementReader::from_path(path)
        .map_err(|e| IoError::read(&path.display().to_string(), e))?;
    let mut raw = Raw::default();
    // (the PBF decoder is third-party code on untrusted bytes: isolated)
    crate::isolate::isolate(|| {
        reader.for_each(|element| match element {
            Element::Node(n) => {
                raw.node(n.id(), lon_lat(n.nano_lon(), n.nano_lat()), n.tags(), tags)
            }
            Element::DenseNode(n) => {
                raw.node(n.id(), lon_lat(n.nano_lon(), n.nano_lat()), n.tags(), tags)
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
    Ok(raw)
}

/// Degrees from OSM's integer nanodegrees by one correctly rounded division, so
/// `60.1651349` stays `60.1651349` (a multiplication by 1e-9 would print 60.165134900000005).
impl Raw {
    /// A node (plain or dense, as the file packs it): kept for the ways' geometry, and
    /// as a component or a named place when its tags say so.
    fn node<'t>(
        &mut self,
        id: i64,
        at: Coord<f64>,
        node_tags: impl Iterator<Item = (&'t str, &'t str)> + Clone,
        tags: &OsmTagMap,
    ) {
        self.nodes.insert(id, at);
        if let Some(c) = tags.category(node_tags.clone()) {
            self.component_nodes.push((id, c));
        }
        if let Some(name) = place_name(node_tags) {
            self.places.push((id, name));
        }
    }
}

fn lon_lat(nano_lon: i64, nano_lat: i64) -> Coord<f64> {
    Coord {
        x: nano_lon as f64 / 1e9,
        y: nano_lat as f64 / 1e9,
    }
}
