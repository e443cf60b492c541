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
use gridtwin_io::record::{FieldType, Table, Value};
use gridtwin_io::write_table;
use gridtwin_sim::timeline::{read_records, CaseRecord};
use gridtwin_sim::vitals::{load_thresholds, vitals, warnings, AreaLevel, INDICATORS};

#[derive(Args)]
pub struct VitalsArgs {
    /// A case timeline: `rep_NNN/timeline.parquet` (or `.csv`) of `simulate`, or a history file with the same columns.
    timeline: PathBuf,
    /// Output directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Area level: grid, community, street, district, or h3:RES.
    #[arg(long, default_value = "grid")]
    level: String,
    /// Time bucket: Nm, Nh or Nd. Buckets start on the city's clock (a day at local
    /// midnight) and are written as ISO 8601 local times.
    #[arg(long, default_value = "1h")]
    bucket: String,
    /// The city's time zone, hours east of UTC (default: the calendar's
    /// `utc_offset_hours`, data/calendar.toml).
    #[arg(long, value_name = "HOURS", allow_hyphen_values = true)]
    utc_offset_hours: Option<f64>,
    /// Threshold table (default: DATA/vitals_thresholds.csv).
    #[arg(long)]
    thresholds: Option<PathBuf>,
    /// City directory, for area boundaries in the hotspot map (grid levels).
    #[arg(long)]
    city: Option<PathBuf>,
    /// Hotspot neighbourhood for `--hotspot-weights distance`: areas whose centres
    /// are within this many metres.
    #[arg(long, default_value_t = 250.0)]
    hotspot_distance_m: f64,
    /// Hotspot weights (binary, each area with itself): `distance` (a band of
    /// --hotspot-distance-m), `queen` or `rook` (areas sharing a vertex or an edge;
    /// grid levels), `kring:K` (H3 cells within K steps).
    #[arg(long, default_value = "distance")]
    hotspot_weights: String,
    /// The study area: every area or H3 cell in it enters the hotspot weights, with
    /// or without cases. `city` (the --city's extent) or a polygon file. Default:
    /// `city` when --city is given; otherwise only the areas with cases (then a
    /// cluster stands against no quiet area, and the help says so).
    #[arg(long)]
    study_area: Option<String>,
    /// The most H3 cells a study area may hold.
    #[arg(long, default_value_t = 2_000_000)]
    max_study_cells: usize,
    /// The most area × bucket rows an output may hold (a far-off date or a fine level
    /// with short buckets would otherwise fill the disk).
    #[arg(long, default_value_t = 5_000_000)]
    max_rows: u64,
    /// The smallest group of answers whose satisfaction mean is shown (k-anonymity);
    /// smaller groups are withheld and marked in the `suppressed` column.
    #[arg(long, default_value_t = gridtwin_sim::vitals::MIN_GROUP)]
    min_group: usize,
}

/// Hotspot weights, as asked on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Weights {
    Distance,
    Queen,
    Rook,
    KRing(u32),
}

fn hotspot_weights(s: &str) -> Result<Weights> {
    Ok(match s {
        "distance" => Weights::Distance,
        "queen" => Weights::Queen,
        "rook" => Weights::Rook,
        _ => match s.strip_prefix("kring:").map(str::parse::<u32>) {
            Some(Ok(k)) if (1..=50).contains(&k) => Weights::KRing(k),
            _ => bail!(
                "--hotspot-weights `{s}`: expected distance, queen, rook or kring:K (K from 1 to 50)"
            ),
        },
    })
}

/// The largest hotspot neighbourhood taken: 100 km, more than a city spans.
const MAX_HOTSPOT_DISTANCE_M: f64 = 100_000.0;

fn area_level(s: &str, rule: &CodeRule) -> Result<AreaLevel> {
    if let Some(r) = s.strip_prefix("h3:") {
        let r: u8 = r.parse().context("H3 resolution")?;
        return Ok(AreaLevel::H3(h3o::Resolution::try_from(r)?));
    }
    let level: Level = s.parse()?;
    Ok(AreaLevel::CodePrefix(rule.width(level)))
}

pub fn run(data: &Path, a: VitalsArgs) -> Result<ExitCode> {
    let d = a.hotspot_distance_m;
    // (checked before anything is read or written: no partial outputs)
    if !(d.is_finite() && d > 0.0 && d <= MAX_HOTSPOT_DISTANCE_M) {
        bail!(
            "--hotspot-distance-m must be a distance in metres above 0 and at most \
             {MAX_HOTSPOT_DISTANCE_M} (a city's span), not {d}"
        );
    }
    let weights = hotspot_weights(&a.hotspot_weights)?;
    let cases: Vec<CaseRecord> = read_records(&a.timeline).map_err(anyhow::Error::msg)?;
    if cases.is_empty() {
        bail!("{}: no cases", a.timeline.display());
    }
    let (city, rule) = match &a.city {
        Some(c) => {
            let (city, _, _) = load_city(c)?;
            let rule = city.rule;
            (Some(city), rule)
        }
        None => (None, CodeRule::load(&data.join("code_rule.toml"))?),
    };
    let level = area_level(&a.level, &rule)?;
    if a.min_group == 0 {
        bail!("--min-group must be at least 1");
    }
    // every case enters, or is counted out with its reason (rejected.csv)
    let read = cases.len();
    let (cases, rejected) = gridtwin_sim::vitals::screen(cases, level);
    if !rejected.is_empty() {
        let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &rejected {
            *by_reason
                .entry(r.2.split(' ').next().unwrap_or(""))
                .or_default() += 1;
        }
        eprintln!(
            "{} of {read} cases cannot enter the vitals at {} (see rejected.csv): {:?}",
            rejected.len(),
            a.level,
            by_reason
        );
    }
    if cases.is_empty() {
        bail!(
            "{}: none of its {read} cases can enter the vitals at {}; first: record {}: {}",
            a.timeline.display(),
            a.level,
            rejected[0].0,
            rejected[0].2
        );
    }
    match (weights, level) {
        (Weights::KRing(_), AreaLevel::CodePrefix(_)) => {
            bail!("--hotspot-weights kring:K is for H3 levels; grid levels take queen or rook")
        }
        (Weights::Queen | Weights::Rook, AreaLevel::H3(_)) => {
            bail!("--hotspot-weights queen/rook are for grid levels; H3 levels take kring:K")
        }
        _ => {}
    }
    // the study area's polygons (lon/lat), where one is given or implied
    let study: Option<geo::MultiPolygon<f64>> = match (a.study_area.as_deref(), &city) {
        (Some("city") | None, Some(c)) => Some(city_extent(c)),
        (Some("city"), None) => bail!("--study-area city needs --city"),
        (Some(file), _) => Some(read_study_area(Path::new(file))?),
        (None, None) => None,
    };
    let bucket = crate::aggregate::window_seconds(&a.bucket)?;
    let off = match a.utc_offset_hours {
        Some(h) if (-14.0..=14.0).contains(&h) => (h * 3600.0).round() as i64,
        Some(h) => bail!("--utc-offset-hours {h} is out of range -14..14"),
        None => gridtwin_sim::WorkingCalendar::load(&data.join("calendar.toml"))?.utc_offset_s(),
    };
    let local = |t: i64| gridtwin_sim::local_time::format(t, off);
    let (start, end) = gridtwin_sim::vitals::span(&cases, bucket, off);
    // the output's size, known before it is made
    let areas_with_cases = cases
        .iter()
        .filter_map(|c| level.key(c))
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    let buckets = ((end - start) as u64).div_ceil(bucket as u64);
    if areas_with_cases.saturating_mul(buckets) > a.max_rows {
        bail!(
            "{areas_with_cases} areas × {buckets} buckets of {} is more than --max-rows {} \
             (the cases span {} to {}): choose a coarser --level or a longer --bucket",
            a.bucket,
            a.max_rows,
            local(start),
            local(end)
        );
    }
    let rows = vitals(
        &cases,
        level,
        start,
        end,
        bucket,
        50.0,
        72 * 3600,
        a.min_group,
    );

    let mut text = String::from("level,area,bucket_start");
    for n in INDICATORS {
        text.push(',');
        text.push_str(n);
    }
    text.push_str(",suppressed\n");
    let f = |v: f64| {
        if v.is_finite() {
            format!("{}", (v * 1e6).round() / 1e6)
        } else {
            String::new()
        }
    };
    for r in &rows {
        text.push_str(&format!("{},{},{}", a.level, r.area, local(r.bucket)));
        for v in r.values {
            text.push(',');
            text.push_str(&f(v));
        }
        text.push_str(if r.suppressed {
            ",satisfaction_mean\n"
        } else {
            ",\n"
        });
    }
    std::fs::create_dir_all(&a.out)?;
    write_bytes_atomic(&a.out.join("vitals.csv"), text.as_bytes())?;
    if !rejected.is_empty() {
        let mut t = String::from("record,case_id,reason\n");
        for (n, id, why) in &rejected {
            t.push_str(&format!(
                "{n},\"{}\",\"{}\"\n",
                id.replace('"', "\"\""),
                why.replace('"', "\"\"")
            ));
        }
        write_bytes_atomic(&a.out.join("rejected.csv"), t.as_bytes())?;
    }

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
            local(w.bucket),
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
    // The areas that enter the weights: every area of the level in the study area
    // (zeros included), and every area with cases.
    let mut areas: Vec<(String, f64, geo::MultiPolygon<f64>)> = Vec::new();
    let mut outside = 0usize;
    match (&city, level) {
        (Some(c), AreaLevel::CodePrefix(n)) => {
            use geo::{Centroid, Contains};
            for x in c.areas.iter().filter(|x| x.code.len() == n) {
                let v = inflow.get(&x.code.to_string()).copied().unwrap_or(0.0);
                let inside = match (&study, x.boundary.centroid()) {
                    (Some(s), Some(p)) => s.contains(&p),
                    _ => true,
                };
                if inside || v > 0.0 {
                    outside += (!inside) as usize;
                    areas.push((x.code.to_string(), v, x.boundary.clone()));
                }
            }
        }
        (_, AreaLevel::H3(res)) => {
            let mut cells: Vec<h3o::CellIndex> = match &study {
                Some(s) => gridtwin_sim::hotspot::study_cells(s, res, a.max_study_cells)
                    .map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            };
            let in_study = cells.len();
            cells.extend(
                inflow
                    .keys()
                    .filter_map(|k| k.parse::<h3o::CellIndex>().ok()),
            );
            cells.sort_unstable();
            cells.dedup();
            outside = if study.is_some() {
                cells.len() - in_study
            } else {
                0
            };
            for c in cells {
                let k = c.to_string();
                if let Some(b) = boundary(&k) {
                    areas.push((k.clone(), inflow.get(&k).copied().unwrap_or(0.0), b));
                }
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
    if outside > 0 {
        eprintln!("note: {outside} area(s) with cases lie outside the study area; they enter the weights too");
    }
    if study.is_none() {
        eprintln!(
            "note: no study area (give --city or --study-area): only areas with cases enter \
             the hotspot weights"
        );
    }
    let mut hot = 0;
    if areas.len() >= 3 {
        use geo::Centroid;
        let x: Vec<f64> = areas.iter().map(|a| a.1).collect();
        let centres: Vec<(f64, f64)> = areas
            .iter()
            .map(|a| a.2.centroid().map(|p| (p.x(), p.y())).unwrap_or((0.0, 0.0)))
            .collect();
        let d = a.hotspot_distance_m;
        let neighbours = match weights {
            Weights::Distance => gridtwin_sim::hotspot::distance_band(&centres, d),
            Weights::Queen | Weights::Rook => {
                let polys: Vec<geo::MultiPolygon<f64>> =
                    areas.iter().map(|a| a.2.clone()).collect();
                gridtwin_sim::hotspot::contiguity(&polys, weights == Weights::Rook)
            }
            Weights::KRing(k) => {
                let cells: Vec<h3o::CellIndex> =
                    areas.iter().filter_map(|a| a.0.parse().ok()).collect();
                gridtwin_sim::hotspot::k_ring(&cells, k)
            }
        };
        let hs = gridtwin_sim::hotspot::getis_ord_star_with(&x, &neighbours, 0.05);
        if weights == Weights::Distance
            && hs.iter().all(|h| h.z == 0.0)
            && x.iter().any(|&v| v != x[0])
        {
            bail!(
                "--hotspot-distance-m {d}: every area's neighbourhood holds none or all of \
                 the {} areas, so Gi* is undefined; choose a distance between the areas' \
                 spacing and the study area's span",
                x.len()
            );
        }
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

/// The city's extent as polygons: its highest level's areas (the city, else its
/// districts, …).
fn city_extent(city: &gridtwin_core::City) -> geo::MultiPolygon<f64> {
    for level in [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
    ] {
        let polys: Vec<Polygon<f64>> = city
            .areas_at(level)
            .flat_map(|a| a.boundary.0.iter().cloned())
            .collect();
        if !polys.is_empty() {
            return geo::MultiPolygon(polys);
        }
    }
    geo::MultiPolygon(vec![])
}

/// A study area from a polygon file (any format the readers take).
fn read_study_area(path: &Path) -> Result<geo::MultiPolygon<f64>> {
    let mut polys = Vec::new();
    for r in gridtwin_io::read_records(path)? {
        let r = r.map_err(|e| anyhow::anyhow!("{e}"))?;
        match r.geometry {
            Some(Geometry::Polygon(p)) => polys.push(p),
            Some(Geometry::MultiPolygon(m)) => polys.extend(m.0),
            _ => bail!(
                "{}: record {}: a study area is made of polygons",
                path.display(),
                r.number
            ),
        }
    }
    if polys.is_empty() {
        bail!("{}: no polygons for a study area", path.display());
    }
    Ok(geo::MultiPolygon(polys))
}
