//! `gridtwin vitals`: the city's vital signs from a case timeline — indicators per
//! area and time bucket, threshold warnings, and Gi* hotspots as GeoJSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use geo::{Geometry, LineString, Polygon};
use gridtwin_core::{CodeRule, Level};
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;
use gridtwin_io::load::format_time;
use gridtwin_io::record::{FieldType, Table, Value};
use gridtwin_io::write_table;
use gridtwin_sim::timeline::{read_csv, CaseRecord};
use gridtwin_sim::vitals::{
    getis_ord_star, load_thresholds, vitals, warnings, AreaLevel, INDICATORS,
};

#[derive(Args)]
pub struct VitalsArgs {
    /// A case timeline: `rep_NNN/timeline.csv` of `simulate`, or a history file with the same columns.
    timeline: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Area level: grid, community, street, district, or h3:RES.
    #[arg(long, default_value = "grid")]
    level: String,
    /// Time bucket: Nm, Nh or Nd.
    #[arg(long, default_value = "1h")]
    bucket: String,
    /// Threshold table (default: DATA/vitals_thresholds.csv).
    #[arg(long)]
    thresholds: Option<PathBuf>,
    /// City directory, for area boundaries in the hotspot map (grid levels).
    #[arg(long)]
    city: Option<PathBuf>,
    /// Hotspot neighbourhood: areas whose centres are within this many metres.
    #[arg(long, default_value_t = 250.0)]
    hotspot_distance_m: f64,
}

fn area_level(s: &str, rule: &CodeRule) -> Result<AreaLevel> {
    if let Some(r) = s.strip_prefix("h3:") {
        let r: u8 = r.parse().context("H3 resolution")?;
        return Ok(AreaLevel::H3(h3o::Resolution::try_from(r)?));
    }
    let level: Level = s.parse()?;
    Ok(AreaLevel::CodePrefix(rule.width(level)))
}

pub fn run(data: &Path, a: VitalsArgs) -> Result<ExitCode> {
    let cases: Vec<CaseRecord> = read_csv(&a.timeline).map_err(anyhow::Error::msg)?;
    if cases.is_empty() {
        bail!("{}: no cases", a.timeline.display());
    }
    let (city, rule) = match &a.city {
        Some(c) => {
            let (city, _, _) = load_city(c).map_err(anyhow::Error::msg)?;
            let rule = city.rule;
            (Some(city), rule)
        }
        None => (None, CodeRule::load(&data.join("code_rule.toml"))?),
    };
    let level = area_level(&a.level, &rule)?;
    let bucket = crate::aggregate::window_seconds(&a.bucket)?;
    let (start, end) = gridtwin_sim::vitals::span(&cases, bucket);
    let rows = vitals(&cases, level, start, end, bucket, 50.0, 72 * 3600);

    let mut text = String::from("level,area,bucket_start");
    for n in INDICATORS {
        text.push(',');
        text.push_str(n);
    }
    text.push('\n');
    let f = |v: f64| {
        if v.is_finite() {
            format!("{}", (v * 1e6).round() / 1e6)
        } else {
            String::new()
        }
    };
    for r in &rows {
        text.push_str(&format!("{},{},{}", a.level, r.area, format_time(r.bucket)));
        for v in r.values {
            text.push(',');
            text.push_str(&f(v));
        }
        text.push('\n');
    }
    std::fs::create_dir_all(&a.out)?;
    write_bytes_atomic(&a.out.join("vitals.csv"), text.as_bytes())?;

    let thresholds_path = a
        .thresholds
        .clone()
        .unwrap_or_else(|| data.join("vitals_thresholds.csv"));
    let thresholds = load_thresholds(&thresholds_path).map_err(anyhow::Error::msg)?;
    let ws = warnings(&rows, &a.level, &thresholds);
    let mut wtext = String::from("area,bucket_start,indicator,value,op,threshold,severity\n");
    for w in &ws {
        wtext.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            w.area,
            format_time(w.bucket),
            w.indicator,
            f(w.value),
            w.op,
            w.threshold,
            w.severity
        ));
    }
    write_bytes_atomic(&a.out.join("warnings.csv"), wtext.as_bytes())?;

    // Hotspots of total inflow over the whole period.
    let mut inflow: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        *inflow.entry(r.area.clone()).or_default() += r.values[0];
    }
    let boundary = |area: &str| -> Option<geo::MultiPolygon<f64>> {
        match level {
            AreaLevel::H3(_) => {
                let cell: h3o::CellIndex = area.parse().ok()?;
                let ring: Vec<(f64, f64)> = cell
                    .boundary()
                    .iter()
                    .map(|ll| (ll.lng(), ll.lat()))
                    .collect();
                Some(geo::MultiPolygon(vec![Polygon::new(
                    LineString::from(ring),
                    vec![],
                )]))
            }
            AreaLevel::CodePrefix(_) => {
                let city = city.as_ref()?;
                city.areas
                    .iter()
                    .find(|x| x.code.to_string() == area)
                    .map(|x| x.boundary.clone())
            }
        }
    };
    // Areas known by boundary: all the level's areas of the city (zeros included), or
    // the H3 cells with cases.
    let mut areas: Vec<(String, f64, geo::MultiPolygon<f64>)> = Vec::new();
    match (&city, level) {
        (Some(c), AreaLevel::CodePrefix(n)) => {
            for x in c.areas.iter().filter(|x| x.code.len() == n) {
                areas.push((
                    x.code.to_string(),
                    inflow.get(&x.code.to_string()).copied().unwrap_or(0.0),
                    x.boundary.clone(),
                ));
            }
        }
        _ => {
            for (k, v) in &inflow {
                if let Some(b) = boundary(k) {
                    areas.push((k.clone(), *v, b));
                }
            }
        }
    }
    let mut hot = 0;
    if areas.len() >= 3 {
        use geo::Centroid;
        let x: Vec<f64> = areas.iter().map(|a| a.1).collect();
        let centres: Vec<(f64, f64)> = areas
            .iter()
            .map(|a| a.2.centroid().map(|p| (p.x(), p.y())).unwrap_or((0.0, 0.0)))
            .collect();
        let hs = getis_ord_star(&x, &centres, a.hotspot_distance_m, 0.05);
        let mut t = Table::new(&[
            ("area", FieldType::Text),
            ("inflow", FieldType::Float),
            ("z", FieldType::Float),
            ("p", FieldType::Float),
            ("class", FieldType::Text),
        ]);
        for (ar, h) in areas.iter().zip(&hs) {
            hot += (h.class == "hot") as usize;
            t.push(
                Some(Geometry::MultiPolygon(ar.2.clone())),
                vec![
                    Value::Text(ar.0.clone()),
                    Value::Float(ar.1),
                    Value::Float((h.z * 1e6).round() / 1e6),
                    Value::Float((h.p * 1e6).round() / 1e6),
                    Value::Text(h.class.clone()),
                ],
            );
        }
        write_table(&a.out.join("hotspots.geojson"), &t)?;
    } else {
        eprintln!(
            "hotspots skipped: {} areas with boundaries (give --city for grid levels)",
            areas.len()
        );
    }
    println!(
        "{} cases, {} {} areas × {} buckets of {}: {} warnings, {} hot spots; wrote {}/vitals.csv, warnings.csv{}",
        cases.len(),
        inflow.len(),
        a.level,
        rows.len() / inflow.len().max(1),
        a.bucket,
        ws.len(),
        hot,
        a.out.display(),
        if areas.len() >= 3 { ", hotspots.geojson" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}
