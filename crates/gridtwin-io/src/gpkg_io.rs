//! GeoPackage (`.gpkg`, OGC 12-128) read and written in the default build: SQLite
//! compiled in (`rusqlite`, bundled), geometries as GPKG-headed WKB decoded by geozero.
//!
//! Reading takes the file's one feature table, or `FILE.gpkg::LAYER` when it has
//! several; its system (`gpkg_spatial_ref_sys`) is reprojected to WGS-84 lon/lat
//! (`dem_crs`). Every WKB is checked against its bytes before decoding (as Parquet's).
//! Writing makes a one-table GeoPackage in EPSG:4326 with the minimal metadata tables
//! GDAL and QGIS read.

use std::path::Path;

use geo::Geometry;
use geozero::{wkb::Wkb, CoordDimensions, ToGeo, ToWkb};
use gridtwin_core::{RejectReason, Rejection};
use rusqlite::types::ValueRef;

use crate::error::IoError;
use crate::isolate::isolate;
use crate::record::{FieldType, Record, Table, Value};

/// Splits `FILE.gpkg::LAYER` into the file and the layer.
pub fn split_layer(path: &Path) -> (std::path::PathBuf, Option<String>) {
    let s = path.to_string_lossy();
    match s.rsplit_once("::") {
        Some((f, l)) if f.to_ascii_lowercase().ends_with(".gpkg") => {
            (f.into(), Some(l.to_string()))
        }
        _ => (path.to_path_buf(), None),
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The WKB inside a GPKG geometry blob (after its header and envelope), or `None` for
/// an empty geometry.
fn gpkg_wkb(blob: &[u8]) -> Result<Option<&[u8]>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometries are not read".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("unknown envelope kind {e}")),
    };
    let start = 8 + envelope;
    if blob.len() < start {
        return Err("GeoPackage geometry shorter than its header".into());
    }
    if flags & 0b1_0000 != 0 {
        return Ok(None); // empty
    }
    Ok(Some(&blob[start..]))
}

/// Reads the features of a GeoPackage layer.
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let (db, layer) = split_layer(path);
    let file = path.display().to_string();
    let err = |e: String| IoError::read(&file, e);
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| err(e.to_string()))?;
    let sql_err = |e: rusqlite::Error| err(format!("not a readable GeoPackage: {e}"));
    let tables: Vec<String> = conn
        .prepare(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sql_err)?;
    let table = match (layer, tables.len()) {
        (Some(l), _) if tables.contains(&l) => l,
        (Some(l), _) => {
            return Err(err(format!(
                "no feature layer `{l}` (layers: {})",
                tables.join(", ")
            )))
        }
        (None, 1) => tables[0].clone(),
        (None, 0) => return Err(err("no feature layer".into())),
        (None, _) => {
            return Err(err(format!(
                "{} feature layers ({}): name one as FILE.gpkg::LAYER",
                tables.len(),
                tables.join(", ")
            )))
        }
    };
    let (geom_col, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql_err)?;
    // the layer's system: lon/lat WGS-84 (4326, or undefined 0/-1), else reprojected
    let crs = if [4326, 0, -1].contains(&srs_id) {
        None
    } else {
        let (org, code, def): (String, i64, String) = conn
            .query_row(
                "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(sql_err)?;
        let c = if org.eq_ignore_ascii_case("EPSG") {
            crate::dem_crs::Crs::parse(&format!("EPSG:{code}"))
        } else {
            crate::dem_crs::Crs::parse(&def)
        }
        .map_err(|m| err(format!("layer `{table}`'s system {org}:{code}: {m}")))?;
        (!c.is_lon_lat()).then_some(c)
    };
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote(&table)),
            [],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    crate::limits::check_rows(&file, count.max(0) as u64)?;
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {}", quote(&table)))
        .map_err(sql_err)?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).map_err(sql_err)?;
    let mut out = Vec::with_capacity(count.clamp(0, 1 << 20) as usize);
    let mut number = 0u64;
    while let Some(row) = rows.next().map_err(sql_err)? {
        number += 1;
        let mut fields = Vec::with_capacity(names.len());
        let mut geometry = None;
        let mut problem = None;
        for (i, n) in names.iter().enumerate() {
            let v = row.get_ref(i).map_err(sql_err)?;
            if n.eq_ignore_ascii_case(&geom_col) {
                let ValueRef::Blob(blob) = v else { continue };
                let decoded = gpkg_wkb(blob).and_then(|w| match w {
                    None => Ok(None),
                    Some(w) => crate::parquet_io::wkb_fits(w)
                        .and_then(|()| isolate(|| Wkb(w).to_geo()))
                        .and_then(|g| g.map(Some).map_err(|e| e.to_string())),
                });
                match decoded {
                    Ok(g) => geometry = g,
                    Err(e) => problem = Some(e),
                }
                continue;
            }
            fields.push((
                n.clone(),
                match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(x) => Value::Int(x),
                    ValueRef::Real(x) => Value::Float(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => Value::Null,
                },
            ));
        }
        if let (Some(c), Some(g)) = (&crs, &geometry) {
            use geo::{CoordsIter, MapCoords};
            if g.coords_iter().any(|p| c.to_lon_lat(p.x, p.y).is_none()) {
                problem = Some(format!("cannot be reprojected from {}", c.name));
            } else {
                geometry = Some(g.map_coords(|p| {
                    let (x, y) = c.to_lon_lat(p.x, p.y).unwrap_or((f64::NAN, f64::NAN));
                    geo::Coord { x, y }
                }));
            }
        }
        out.push(match problem {
            Some(p) => Err(Rejection::new(
                &file,
                number,
                RejectReason::InvalidGeometry,
                p,
            )),
            None => Ok(Record {
                number,
                geometry,
                fields,
            }),
        });
    }
    Ok(out)
}

/// A GPKG geometry blob: header (little-endian, no envelope) + WKB.
fn gpkg_blob(g: &Geometry<f64>) -> Result<Vec<u8>, String> {
    let wkb = g.to_wkb(CoordDimensions::xy()).map_err(|e| e.to_string())?;
    let mut b = Vec::with_capacity(8 + wkb.len());
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian header, no envelope, not empty
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.extend_from_slice(&wkb);
    Ok(b)
}

/// Writes a table as a one-layer GeoPackage (EPSG:4326) at `path`, a new file.
pub fn write(table: &Table, layer: &str, path: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let kind = table
        .rows
        .iter()
        .find_map(|(g, _)| g.as_ref())
        .map(|g| match g {
            Geometry::Point(_) => "POINT",
            Geometry::LineString(_) => "LINESTRING",
            Geometry::Polygon(_) => "POLYGON",
            Geometry::MultiPoint(_) => "MULTIPOINT",
            Geometry::MultiLineString(_) => "MULTILINESTRING",
            Geometry::MultiPolygon(_) => "MULTIPOLYGON",
            _ => "GEOMETRY",
        })
        .unwrap_or("GEOMETRY");
    let cols: Vec<String> = table
        .schema
        .iter()
        .map(|(n, t)| {
            format!(
                "{} {}",
                quote(n),
                match t {
                    FieldType::Int => "INTEGER",
                    FieldType::Float => "REAL",
                    FieldType::Bool => "BOOLEAN",
                    FieldType::Text => "TEXT",
                }
            )
        })
        .collect();
    let sql = format!(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL), ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL), ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{wkt}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
         CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {kind}{sep}{cols});
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id, last_change) VALUES ('{l}', 'features', '{l}', 4326, '1970-01-01T00:00:00.000Z');
         INSERT INTO gpkg_geometry_columns VALUES ('{l}', 'geom', '{kind}', 4326, 0, 0);",
        wkt = crate::dem_crs::WGS84_PRJ.replace('\'', "''"),
        t = quote(layer),
        l = layer.replace('\'', "''"),
        sep = if cols.is_empty() { "" } else { ", " },
        cols = cols.join(", "),
    );
    conn.execute_batch(&sql).map_err(|e| e.to_string())?;
    let placeholders: Vec<String> = (0..table.schema.len() + 1)
        .map(|i| format!("?{}", i + 1))
        .collect();
    let names: Vec<String> = std::iter::once("geom".to_string())
        .chain(table.schema.iter().map(|(n, _)| quote(n)))
        .collect();
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    {
        let mut stmt = tx
            .prepare(&format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(layer),
                names.join(", "),
                placeholders.join(", ")
            ))
            .map_err(|e| e.to_string())?;
        for (g, values) in &table.rows {
            let mut params: Vec<rusqlite::types::Value> = Vec::with_capacity(values.len() + 1);
            params.push(match g {
                Some(g) => rusqlite::types::Value::Blob(gpkg_blob(g)?),
                None => rusqlite::types::Value::Null,
            });
            for v in values {
                params.push(match v {
                    Value::Null => rusqlite::types::Value::Null,
                    Value::Bool(b) => rusqlite::types::Value::Integer(*b as i64),
                    Value::Int(x) => rusqlite::types::Value::Integer(*x),
                    Value::Float(x) => rusqlite::types::Value::Real(*x),
                    Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
                });
            }
            stmt.execute(rusqlite::params_from_iter(params))
                .map_err(|e| e.to_string())?;
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_round_trips_and_a_projected_one_comes_back_in_lon_lat() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wards.gpkg");
        let mut t = Table::new(&[
            ("code", FieldType::Text),
            ("n", FieldType::Int),
            ("x", FieldType::Float),
        ]);
        let ring = vec![
            (24.9, 60.1),
            (24.91, 60.1),
            (24.91, 60.11),
            (24.9, 60.11),
            (24.9, 60.1),
        ];
        t.push(
            Some(Geometry::Polygon(geo::Polygon::new(ring.into(), vec![]))),
            vec![Value::Text("0101".into()), Value::Int(3), Value::Float(0.5)],
        );
        t.push(
            None,
            vec![Value::Text("0102".into()), Value::Null, Value::Float(1.0)],
        );
        write(&t, "wards", &p).unwrap();
        let back = read(&p).unwrap();
        assert_eq!(back.len(), 2);
        let r = back[0].as_ref().unwrap();
        assert_eq!(r.fields[0], ("fid".to_string(), Value::Int(1)));
        assert_eq!(
            r.fields[1],
            ("code".to_string(), Value::Text("0101".into()))
        );
        assert_eq!(r.geometry, t.rows[0].0);
        assert!(back[1].as_ref().unwrap().geometry.is_none());
        // the same layer stated in UTM 35N comes back in lon/lat
        let utm = crate::dem_crs::Crs::parse("EPSG:32635").unwrap();
        let conn = rusqlite::Connection::open(&p).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('UTM 35N', 32635, 'EPSG', 32635, '{}', NULL);
             UPDATE gpkg_geometry_columns SET srs_id = 32635; UPDATE gpkg_contents SET srs_id = 32635;",
            utm.wkt.replace('\'', "''")
        ))
        .unwrap();
        let (x, y) = utm.from_lon_lat(24.9, 60.1).unwrap();
        let blob = gpkg_blob(&Geometry::Point(geo::Point::new(x, y))).unwrap();
        conn.execute("UPDATE wards SET geom = ?1 WHERE fid = 1", [blob])
            .unwrap();
        drop(conn);
        let back = read(&p).unwrap();
        let Some(Geometry::Point(q)) = back[0].as_ref().unwrap().geometry else {
            panic!()
        };
        assert!(
            (q.x() - 24.9).abs() < 1e-9 && (q.y() - 60.1).abs() < 1e-9,
            "{q:?}"
        );
        // two layers: the reader asks which
        let conn = rusqlite::Connection::open(&p).unwrap();
        conn.execute_batch("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('other', 'features', 'other', 4326);").unwrap();
        drop(conn);
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("FILE.gpkg::LAYER") && e.contains("wards"), "{e}");
        let mut named = p.as_os_str().to_owned();
        named.push("::wards");
        assert_eq!(read(Path::new(&named)).unwrap().len(), 2);
    }
}
