//! `gridtwin aggregate`: counts per grid or level, per H3 cell, per category and time
//! window — from `assign` output, or straight from points with `--grids`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridtwin_core::aggregate::{Aggregator, GroupBy};
use gridtwin_core::assign::Assigner;
use gridtwin_core::locate::{Location, LocatorOptions};
use gridtwin_core::Level;
use gridtwin_io::atomic::write_atomic;
use gridtwin_io::city_dir::DataTables;
use gridtwin_io::csv_io::{LAT_NAMES, LON_NAMES};
use gridtwin_io::load::{format_time, parse_time};
use gridtwin_io::record::Value;
use gridtwin_io::{read_records, IoError};

use crate::assign::load_grids;

#[derive(Args)]
pub struct AggregateArgs {
    /// Points: `assign` output (with grid_code), or raw points with --grids.
    #[arg(long)]
    points: PathBuf,
    /// Assign raw points to these grids first (a file or a city directory).
    #[arg(long)]
    grids: Option<PathBuf>,
    /// Group by: grid, community, street, district, city, or h3:RES (0–15). Repeatable.
    #[arg(long = "by", required = true)]
    by: Vec<GroupBy>,
    /// Also group by the `category` column.
    #[arg(long)]
    category: bool,
    /// The points' coordinate system where not WGS-84 lon/lat: EPSG:NNNN, WKT or a PROJ
    /// string (default: a `.prj` beside the points file, else lon/lat).
    #[arg(long, value_name = "CRS")]
    crs: Option<String>,
    /// Also group by time window of the `time` column: seconds, or Nm, Nh, Nd.
    #[arg(long)]
    window: Option<String>,
    /// Output FILE: a CSV of group keys and counts, or a map of the same with each
    /// group's area or H3 cell (.geojson, .fgb, .parquet, .gpkg, .shp).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// A duration: seconds, or `Nm`, `Nh`, `Nd`.
pub fn window_seconds(s: &str) -> Result<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("--window `{s}`"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("--window `{s}`: unit must be s, m, h or d"),
    };
    if n <= 0 {
        bail!("`{s}`: a duration must be positive");
    }
    // (a huge count wrapped to 0 and divided by zero; a century is plenty)
    match n.checked_mul(mult) {
        Some(secs) if secs <= MAX_WINDOW_S => Ok(secs),
        _ => bail!("`{s}`: at most {MAX_WINDOW_S} s (100 years)"),
    }
}

/// The longest window or bucket: 100 years of seconds.
const MAX_WINDOW_S: i64 = 100 * 365 * 86_400;

pub fn run(data: &Path, a: AggregateArgs) -> Result<ExitCode> {
    // (`--out x.geojson` wrote CSV text into a .geojson file)
    let ext = a
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    // a map (the group's area or H3 cell as geometry) in any format gridtwin writes,
    // or a CSV table of keys and counts
    let geojson = match ext.as_str() {
        "csv" => false,
        "geojson" | "json" | "fgb" | "parquet" | "geoparquet" | "gpkg" | "shp" => true,
        _ => bail!(
            "--out {}: aggregate writes a CSV table of keys and counts (.csv) or the same \
             with each group's area or H3 cell as its geometry (.geojson, .fgb, .parquet \
             GeoParquet, .gpkg or .shp)",
            a.out.display()
        ),
    };
    // the geometry of a group: its first spatial key's area (polygons from --grids) or
    // H3 cell
    let spatial = a.by.first().cloned();
    if geojson && spatial.is_none() {
        bail!(
            "--out {}: a map needs a --by level or h3:RES",
            a.out.display()
        );
    }
    if geojson
        && matches!(spatial, Some(gridtwin_core::aggregate::GroupBy::Level(_)))
        && a.grids.is_none()
    {
        bail!(
            "--out {}: the areas' polygons come from --grids (a city directory or a grid file with its levels)",
            a.out.display()
        );
    }
    let tables = DataTables::load(data)?;
    let window = a.window.as_deref().map(window_seconds).transpose()?;
    let mut boundaries: std::collections::HashMap<String, geo::MultiPolygon<f64>> =
        Default::default();
    let assigner = match &a.grids {
        Some(g) => {
            let (areas, q) = load_grids(g, &tables)?;
            if q.totals().2 > 0 {
                eprintln!("{q}");
            }
            if geojson {
                for ar in &areas {
                    boundaries.insert(ar.code.to_string(), ar.boundary.clone());
                }
            }
            Some(Assigner::new(
                &areas,
                &tables.rule,
                LocatorOptions::default(),
            ))
        }
        None => None,
    };
    let mut agg = Aggregator::new(tables.rule, a.by.clone(), a.category, window);
    let (mut rows, mut rejected) = (0u64, Vec::new());
    let file = a.points.display().to_string();
    let crs = crate::assign::points_crs(a.crs.as_deref(), &a.points)?.filter(|c| !c.is_lon_lat());
    for rec in read_records(&a.points)? {
        rows += 1;
        let r = match rec {
            Ok(r) => r,
            Err(rej) => {
                rejected.push(format!(
                    "record {}: {}: {}",
                    rej.record, rej.reason, rej.detail
                ));
                continue;
            }
        };
        // the point: a geometry, or lon/lat fields under any of their documented names
        let field = |names: &[&str]| names.iter().find_map(|n| r.get(n)).map(Value::as_f64);
        let lon_lat = match &r.geometry {
            Some(geo::Geometry::Point(p)) => Some((p.x(), p.y())),
            _ => match (field(&LON_NAMES), field(&LAT_NAMES)) {
                (Some(Ok(Some(x))), Some(Ok(Some(y)))) => Some((x, y)),
                (Some(Err(_)), _) | (_, Some(Err(_))) => {
                    rejected.push(format!(
                        "record {}: bad_coordinate: lon/lat not a number",
                        r.number
                    ));
                    continue;
                }
                _ => None,
            },
        };
        let lon_lat = match (lon_lat, &crs) {
            (Some((x, y)), Some(c)) => match c.to_lon_lat(x, y) {
                Some(p) => Some(p),
                None => {
                    rejected.push(format!(
                        "record {}: bad_coordinate: ({x}, {y}) cannot be reprojected from {}",
                        r.number, c.name
                    ));
                    continue;
                }
            },
            (p, _) => p,
        };
        // a NaN, infinite or out-of-range point is rejected, not counted as unassigned
        if let Some((x, y)) = lon_lat {
            if !(x.is_finite() && y.is_finite()) {
                rejected.push(format!("record {}: bad_coordinate: ({x}, {y})", r.number));
                continue;
            }
            if !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
                rejected.push(format!("record {}: out_of_range: ({x}, {y})", r.number));
                continue;
            }
        } else if assigner.is_some() {
            rejected.push(format!(
                "record {}: missing_coordinate: no point to assign (a geometry, or lon/lat \
                 under lon/lng/longitude/x and lat/latitude/y)",
                r.number
            ));
            continue;
        }
        let grid = match &assigner {
            Some(asg) => match lon_lat.map(|(x, y)| asg.assign(x, y, None)) {
                Some(Location::Inside(g)) => {
                    Some(tables.rule.parse_area(Level::Grid, &asg.codes(g).grid)?)
                }
                _ => None,
            },
            None => match r.text(&["grid_code"]) {
                Some(c) => match tables.rule.parse_area(Level::Grid, &c) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        rejected.push(format!("record {}: malformed_code: {e}", r.number));
                        continue;
                    }
                },
                None => None,
            },
        };
        let time = match (window, r.get("time")) {
            (Some(_), Some(v)) => match parse_time(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    rejected.push(format!("record {}: bad_value: time: {e}", r.number));
                    continue;
                }
            },
            _ => None,
        };
        let category = r.text(&["category"]);
        if let Err(e) = agg.add(grid, lon_lat, category.as_deref(), time) {
            rejected.push(format!("record {}: bad_coordinate: {e}", r.number));
        }
    }
    let name = a.out.display().to_string();
    // With one H3 grouping, its cell also goes in a `hex_id` column: the name
    // kepler.gl's H3 layer picks up by itself.
    let mut columns = agg.columns();
    let hex = (columns.iter().filter(|c| c.starts_with("h3_r")).count() == 1)
        .then(|| columns.iter().position(|c| c.starts_with("h3_r")))
        .flatten();
    if hex.is_some() {
        columns.push("hex_id".into());
    }
    if !geojson {
        write_atomic(&a.out, |w| {
            let mut out = csv::Writer::from_writer(w);
            let err = |e: csv::Error| IoError::write(&name, e);
            out.write_record(&columns).map_err(err)?;
            for (mut key, n) in agg.rows() {
                if let (Some(_), Some(last)) = (agg.window(), key.last_mut()) {
                    if let Ok(t) = last.parse::<i64>() {
                        *last = format_time(t);
                    }
                }
                let cell = hex.map(|i| key[i].clone());
                key.push(n.to_string());
                key.extend(cell);
                out.write_record(&key).map_err(err)?;
            }
            out.flush().map_err(|e| IoError::write(&name, e))
        })?;
    }
    if geojson {
        write_map(
            &a.out,
            &agg,
            &columns,
            spatial.as_ref().expect("checked"),
            &boundaries,
        )?;
    } else {
        // column types for QGIS/OGR: codes stay text
        gridtwin_io::csvt::write_for_header(&a.out, &columns)?;
    }
    println!(
        "{rows} rows: {} counted in {} groups, {} rejected; wrote {}",
        agg.total(),
        agg.rows().count(),
        rejected.len(),
        a.out.display()
    );
    for r in rejected.iter().take(5) {
        println!("  {file}: {r}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the counts as a GeoJSON map: one feature per group, its properties the
/// group's keys and count, its geometry the area (from `boundaries`) or H3 cell of the
/// first `--by` key (none for the empty key of unassigned points).
fn write_map(
    out: &Path,
    agg: &Aggregator,
    columns: &[String],
    spatial: &gridtwin_core::aggregate::GroupBy,
    boundaries: &std::collections::HashMap<String, geo::MultiPolygon<f64>>,
) -> Result<()> {
    use gridtwin_core::aggregate::GroupBy;
    use gridtwin_io::record::{FieldType, Table, Value};
    let fields: Vec<(&str, FieldType)> = columns
        .iter()
        .map(|c| {
            let t = if c == "count" {
                FieldType::Int
            } else {
                FieldType::Text
            };
            (c.as_str(), t)
        })
        .collect();
    let mut table = Table::new(&fields);
    let h3_key = columns.iter().position(|c| c.starts_with("h3_r"));
    for (mut key, n) in agg.rows() {
        if let (Some(_), Some(last)) = (agg.window(), key.last_mut()) {
            if let Ok(t) = last.parse::<i64>() {
                *last = format_time(t);
            }
        }
        let geometry: Option<geo::Geometry<f64>> = match spatial {
            GroupBy::Level(_) => boundaries.get(&key[0]).cloned().map(Into::into),
            GroupBy::H3(_) => u64::from_str_radix(&key[0], 16)
                .ok()
                .and_then(|v| h3o::CellIndex::try_from(v).ok())
                .map(|cell| {
                    let mut ring: Vec<(f64, f64)> = cell
                        .boundary()
                        .iter()
                        .map(|ll| (ll.lng(), ll.lat()))
                        .collect();
                    if let Some(&first) = ring.first() {
                        ring.push(first);
                    }
                    geo::Polygon::new(geo::LineString::from(ring), vec![]).into()
                }),
        };
        // (the `hex_id` column repeats the H3 key, as in the CSV)
        let values: Vec<Value> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.as_str() {
                "count" => Value::Int(n as i64),
                "hex_id" => Value::Text(h3_key.map(|j| key[j].clone()).unwrap_or_default()),
                _ => Value::Text(key.get(i).cloned().unwrap_or_default()),
            })
            .collect();
        table.push(geometry, values);
    }
    gridtwin_io::write_table(out, &table).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_parse_and_huge_ones_are_errors_not_zero() {
        assert_eq!(super::window_seconds("90").unwrap(), 90);
        assert_eq!(super::window_seconds("2h").unwrap(), 7200);
        assert_eq!(super::window_seconds("1d").unwrap(), 86_400);
        // issue 14: these wrapped to 0 and divided by zero downstream
        for bad in [
            "9223372036854775807d",
            "106751991167301d",
            "99999999999h",
            "0",
            "-1h",
            "3w",
        ] {
            assert!(super::window_seconds(bad).is_err(), "{bad}");
        }
    }
}
