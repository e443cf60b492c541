//! GeoJSON (RFC 7946) reader and writer.
//!
//! Features are parsed one by one, so a broken feature is rejected with its number
//! while the others load. A legacy `crs` member naming anything but WGS-84 lon/lat
//! (EPSG:4326 / OGC CRS84) is a file-level error.

use std::io::Write;
use std::path::Path;

use gridtwin_core::{RejectReason, Rejection};
use serde_json::Value as Json;

use crate::error::IoError;
use crate::record::{FieldType, Record, Table, Value};

fn json_to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// Names a CRS given as a legacy GeoJSON `crs` member, if it is not lon/lat WGS-84.
fn foreign_crs(root: &Json) -> Option<String> {
    let name = root.get("crs")?.get("properties")?.get("name")?.as_str()?;
    let n = name.to_ascii_uppercase();
    let wgs84 = n.ends_with("CRS84") || n.ends_with("EPSG::4326") || n.ends_with("EPSG:4326");
    (!wgs84).then(|| name.to_string())
}

/// Set when the command was told the layers' coordinate system (`--crs`): a legacy
/// `crs` member is then no reason to refuse the file.
static CRS_DECLARED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says that the layers' coordinate system was given by the user (see `CRS_DECLARED`).
pub fn set_crs_declared(declared: bool) {
    CRS_DECLARED.store(declared, std::sync::atomic::Ordering::Relaxed);
}

/// Reads every feature of a GeoJSON file.
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| IoError::read(&file, e))?;
    let root: Json = serde_json::from_str(&text)
        .map_err(|e| IoError::read(&file, format!("not valid JSON: {e}")))?;
    if let Some(crs) = foreign_crs(&root) {
        if !CRS_DECLARED.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(IoError::ForeignCrs { file, crs });
        }
    }
    let features: Vec<Json> = match root.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => match root.get("features") {
            Some(Json::Array(a)) => a.clone(),
            _ => {
                return Err(IoError::read(
                    &file,
                    "FeatureCollection without a `features` array",
                ))
            }
        },
        Some("Feature") => vec![root.clone()],
        other => {
            return Err(IoError::read(
                &file,
                format!("expected a FeatureCollection or Feature, found type {other:?}"),
            ))
        }
    };
    crate::limits::check_rows(&file, features.len() as u64)?;
    Ok(features
        .into_iter()
        .enumerate()
        .map(|(i, f)| feature_record(&file, i as u64 + 1, f))
        .collect())
}

fn feature_record(file: &str, number: u64, f: Json) -> Result<Record, Rejection> {
    let props = f.get("properties").cloned();
    let id = f.get("id").cloned();
    let feature: geojson::Feature = serde_json::from_value(f).map_err(|e| {
        Rejection::new(
            file,
            number,
            RejectReason::Unparsable,
            format!("bad feature: {e}"),
        )
    })?;
    let geometry = match feature.geometry {
        None => None,
        Some(g) => {
            // checked before the conversion, which panics on a short position and
            // closes an open ring silently
            check_geometry(&g.value)
                .map_err(|e| Rejection::new(file, number, RejectReason::InvalidGeometry, e))?;
            Some(geo::Geometry::<f64>::try_from(g).map_err(|e| {
                Rejection::new(file, number, RejectReason::InvalidGeometry, e.to_string())
            })?)
        }
    };
    let mut fields: Vec<(String, Value)> = Vec::new();
    let props = match props {
        Some(Json::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    // The feature's own `id` stands in for an `id` property only when there is none.
    if let Some(id) = id.filter(|_| !props.contains_key("id")) {
        fields.push(("id".into(), json_to_value(&id)));
    }
    for (k, v) in props {
        fields.push((k, json_to_value(&v)));
    }
    Ok(Record {
        number,
        geometry,
        fields,
    })
}

/// What makes a GeoJSON geometry unusable before it is converted: a position without
/// both coordinates, a polygon ring that is not closed or has under four positions
/// (RFC 7946 §3.1.6), a polygon without rings.
fn check_geometry(v: &geojson::GeometryValue) -> Result<(), String> {
    use geojson::{GeometryValue as G, Position};
    let position = |p: &Position| {
        if p.len() < 2 {
            Err(format!(
                "a position needs two coordinates, found {:?}",
                p.as_slice()
            ))
        } else {
            Ok(())
        }
    };
    let line = |l: &Vec<Position>| l.iter().try_for_each(position);
    let polygon = |rings: &Vec<Vec<Position>>| {
        if rings.is_empty() {
            return Err("a polygon without rings".to_string());
        }
        for (k, ring) in rings.iter().enumerate() {
            line(ring)?;
            if ring.len() < 4 {
                return Err(format!(
                    "ring {k} has {} positions; a ring needs four",
                    ring.len()
                ));
            }
            if ring.first().map(Position::as_slice) != ring.last().map(Position::as_slice) {
                return Err(format!(
                    "ring {k} is not closed (its last position is not its first)"
                ));
            }
        }
        Ok(())
    };
    match v {
        G::Point { coordinates } => position(coordinates),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => line(coordinates),
        G::MultiLineString { coordinates } => coordinates.iter().try_for_each(line),
        G::Polygon { coordinates } => polygon(coordinates),
        G::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                return Err("a multipolygon without polygons".into());
            }
            coordinates.iter().try_for_each(polygon)
        }
        G::GeometryCollection { geometries } => {
            geometries.iter().try_for_each(|g| check_geometry(&g.value))
        }
    }
}

fn value_to_json(v: &Value, t: FieldType) -> Json {
    match (v, t) {
        (Value::Null, _) => Json::Null,
        (Value::Bool(b), _) => Json::Bool(*b),
        (Value::Int(i), _) => Json::from(*i),
        (Value::Float(f), _) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        (Value::Text(s), _) => Json::String(s.clone()),
    }
}

/// Writes a table as a GeoJSON FeatureCollection, one feature per line.
pub fn write<W: Write>(table: &Table, w: &mut W) -> std::io::Result<()> {
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (i, (geometry, values)) in table.rows.iter().enumerate() {
        let mut props = serde_json::Map::new();
        for ((name, t), v) in table.schema.iter().zip(values) {
            props.insert(name.clone(), value_to_json(v, *t));
        }
        let feature = geojson::Feature {
            bbox: None,
            geometry: geometry.as_ref().map(geojson::Geometry::from),
            id: None,
            properties: Some(props),
            foreign_members: None,
        };
        if i > 0 {
            w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *w, &feature)?;
    }
    w.write_all(b"\n]}\n")
}
