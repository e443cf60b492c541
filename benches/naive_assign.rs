//! The naive end-to-end assignment a GIS developer would write first, kept as the
//! yardstick for `gridtwin assign` (issue 19): the same input (a points CSV with
//! `lon`/`lat` columns, a grids layer) and the same output columns (every input column
//! plus grid, community, street and district codes, the outcome and the distance), but
//! built from the plain parts: the `csv` crate in and out, an `rstar` R-tree of grid
//! envelopes, `geo::Contains` on each candidate, `rayon` over chunks of rows.
//!
//! ```text
//! cargo bench -p gridtwin-io --bench naive_assign -- GRIDS POINTS.csv OUT.csv
//! ```
//! (without arguments, as `cargo bench` runs every bench, it says how to call it and
//! exits.) Timing is the caller's: run it under `/usr/bin/time -v` beside
//! `gridtwin assign` on the same files (`benches/peers/naive.sh`).

use std::path::Path;

use geo::{BoundingRect, Contains, MultiPolygon, Point};
use gridtwin_core::{CodeRule, Level};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, RTree, AABB};

/// Rows parsed and located together: enough for both cores, small enough to stream.
const CHUNK: usize = 1 << 20;

/// A grid's polygon and its four codes as text, ready to write.
struct Grid {
    boundary: MultiPolygon<f64>,
    codes: [String; 4],
}

fn load_grids(path: &Path) -> Result<Vec<Grid>, String> {
    let rule = CodeRule::national();
    let records = gridtwin_io::format::read_records(path).map_err(|e| e.to_string())?;
    let mut grids = Vec::new();
    for record in records {
        let Ok(record) = record else { continue };
        let Some(text) = record.text(&["code"]) else {
            continue;
        };
        let Ok(code) = rule.parse_area_any(&text) else {
            continue;
        };
        if code.level() != Level::Grid {
            continue;
        }
        let boundary = match record.geometry {
            Some(geo::Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Some(geo::Geometry::MultiPolygon(m)) => m,
            _ => continue,
        };
        let community = code.parent(&rule).ok_or("grid without a community")?;
        let street = community
            .parent(&rule)
            .ok_or("community without a street")?;
        let district = street.parent(&rule).ok_or("street without a district")?;
        grids.push(Grid {
            boundary,
            codes: [
                code.to_string(),
                community.to_string(),
                street.to_string(),
                district.to_string(),
            ],
        });
    }
    Ok(grids)
}

fn run(grids_path: &Path, points: &Path, out: &Path) -> Result<(u64, u64), String> {
    let grids = load_grids(grids_path)?;
    let tree = RTree::bulk_load(
        grids
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let r = g.boundary.bounding_rect()?;
                let rect = rstar::primitives::Rectangle::from_corners(
                    [r.min().x, r.min().y],
                    [r.max().x, r.max().y],
                );
                Some(GeomWithData::new(rect, i))
            })
            .collect(),
    );
    let mut reader = csv::Reader::from_path(points).map_err(|e| e.to_string())?;
    let header = reader.byte_headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name.as_bytes()))
            .ok_or(format!("no `{name}` column"))
    };
    let (lon, lat) = (column("lon")?, column("lat")?);
    let mut writer = csv::Writer::from_path(out).map_err(|e| e.to_string())?;
    let mut out_header = header.clone();
    for name in [
        "grid_code",
        "community_code",
        "street_code",
        "district_code",
        "outcome",
        "distance_m",
    ] {
        out_header.push_field(name.as_bytes());
    }
    writer
        .write_byte_record(&out_header)
        .map_err(|e| e.to_string())?;
    let (mut assigned, mut unassigned) = (0u64, 0u64);
    let mut chunk: Vec<csv::ByteRecord> = Vec::with_capacity(CHUNK);
    let mut done = false;
    while !done {
        chunk.clear();
        for _ in 0..CHUNK {
            let mut r = csv::ByteRecord::new();
            if !reader.read_byte_record(&mut r).map_err(|e| e.to_string())? {
                done = true;
                break;
            }
            chunk.push(r);
        }
        let found: Vec<Option<usize>> = chunk
            .par_iter()
            .map(|r| {
                let num = |i: usize| {
                    std::str::from_utf8(r.get(i)?)
                        .ok()?
                        .trim()
                        .parse::<f64>()
                        .ok()
                };
                let p = Point::new(num(lon)?, num(lat)?);
                tree.locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
                    .map(|c| c.data)
                    .filter(|&i| grids[i].boundary.contains(&p))
                    .min()
            })
            .collect();
        for (mut r, g) in chunk.drain(..).zip(found) {
            match g {
                Some(i) => {
                    assigned += 1;
                    for code in &grids[i].codes {
                        r.push_field(code.as_bytes());
                    }
                    r.push_field(b"assigned");
                }
                None => {
                    unassigned += 1;
                    for _ in 0..4 {
                        r.push_field(b"");
                    }
                    r.push_field(b"unassigned");
                }
            }
            r.push_field(b"");
            writer.write_byte_record(&r).map_err(|e| e.to_string())?;
        }
    }
    writer.flush().map_err(|e| e.to_string())?;
    Ok((assigned, unassigned))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [grids, points, out] = args.as_slice() else {
        eprintln!(
            "usage: cargo bench -p gridtwin-io --bench naive_assign -- GRIDS POINTS.csv OUT.csv"
        );
        return;
    };
    match run(Path::new(grids), Path::new(points), Path::new(out)) {
        Ok((a, u)) => println!("{a} assigned, {u} unassigned"),
        Err(e) => {
            eprintln!("naive_assign: {e}");
            std::process::exit(1);
        }
    }
}
