//! `gridtwin flood` and `gridtwin dem`: rain on a DEM by fill–spill–merge, and what
//! the water reaches (components, buildings, road segments) per hour of the storm.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use geo::{Geometry, Point};
use gridtwin_core::dem::{synthetic_coastal, Dem};
use gridtwin_core::Level;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;
use gridtwin_io::record::{FieldType, Table, Value};
use gridtwin_io::write_table;

#[derive(Args)]
pub struct FloodArgs {
    /// City directory (e.g. data/helsinki/city).
    #[arg(long)]
    city: PathBuf,
    /// DEM: an ESRI ASCII grid (.asc, with its .prj), or a GeoTIFF with the `gdal`
    /// feature; in lon/lat or a projected system in metres.
    #[arg(long)]
    dem: PathBuf,
    /// The DEM's coordinate system where no .prj lies beside it: EPSG:4326 for
    /// lon/lat, EPSG:326NN for UTM zone NN north, WKT or a PROJ string. A projected
    /// DEM (in metres) is flooded on its own cells; the city is projected onto it.
    #[arg(long)]
    dem_crs: Option<String>,
    /// Rain intensity, mm per hour, uniform over the DEM.
    #[arg(long, default_value_t = 20.0)]
    rain_mm_per_hour: f64,
    /// Storm length in hours; the inventory is taken at the end of every hour.
    #[arg(long, default_value_t = 4)]
    hours: u32,
    /// Water depth (m) at which a road closes and a component or building counts as affected.
    #[arg(long, default_value_t = 0.15)]
    threshold_m: f64,
    /// Output directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Subcommand)]
pub enum DemCommand {
    /// Write a synthetic coastal DEM over a city's extent (for cities without a real one).
    Synth(DemSynthArgs),
}

#[derive(Args)]
pub struct DemSynthArgs {
    /// City directory whose extent the DEM covers (with a 100 m margin).
    #[arg(long)]
    city: PathBuf,
    /// Cell size in metres (north–south).
    #[arg(long, default_value_t = 10.0)]
    cell_m: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output FILE (.asc).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run_dem(c: DemCommand) -> Result<ExitCode> {
    match c {
        DemCommand::Synth(a) => {
            if !(a.cell_m.is_finite() && a.cell_m > 0.0) {
                bail!("--cell-m must be positive");
            }
            let (city, _, _) = load_city(&a.city)?;
            let e = city
                .extent()
                .with_context(|| format!("{}: the city has no extent", a.city.display()))?;
            let margin = 100.0 / gridtwin_core::frame::EARTH_RADIUS_M.to_radians();
            let extent = [
                e.min().x - margin * 2.0,
                e.min().y - margin,
                e.max().x + margin * 2.0,
                e.max().y + margin,
            ];
            let dem = synthetic_coastal(extent, a.cell_m, a.seed);
            write_bytes_atomic(&a.out, dem.to_asc().as_bytes())?;
            println!(
                "wrote {}: {} × {} cells of {} m (synthetic, seed {})",
                a.out.display(),
                dem.cols(),
                dem.rows(),
                a.cell_m,
                a.seed
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_flood(a: FloodArgs) -> Result<ExitCode> {
    if !(a.rain_mm_per_hour.is_finite() && a.rain_mm_per_hour >= 0.0) {
        bail!("--rain-mm-per-hour must be a non-negative number");
    }
    if !(a.threshold_m.is_finite() && a.threshold_m > 0.0) {
        bail!("--threshold-m must be positive");
    }
    let placed = gridtwin_io::read_placed_dem(&a.dem, a.dem_crs.as_deref())?;
    let dem = &placed.dem;
    let (west, north) = dem.origin();
    let (city, table, _) = load_city(&a.city)?;
    let area = placed.cell_area_m2;
    println!(
        "DEM {}: {} × {} cells in {}, {:.1} m² each{}",
        a.dem.display(),
        dem.cols(),
        dem.rows(),
        placed.crs.name,
        area,
        if placed.is_projected() {
            " (the city is projected onto it)"
        } else {
            ""
        }
    );
    let to_dem = |x: f64, y: f64| placed.to_dem(x, y);
    std::fs::create_dir_all(&a.out)?;

    let mut by_hour = String::from(
        "hour,rain_mm,rain_m3,stored_m3,outflow_m3,flooded_cells,flooded_area_m2,components,buildings,roads_closed\n",
    );
    let mut last = None;
    for step in gridtwin_core::flood_impact::storm(
        &city,
        dem,
        a.rain_mm_per_hour,
        a.hours,
        a.threshold_m,
        &to_dem,
        area,
    ) {
        let (hour, rain_m, f, imp) = (step.hour, step.rain_m, step.flood, step.impact);
        by_hour.push_str(&format!(
            "{hour},{:.1},{:.1},{:.1},{:.1},{},{:.1},{},{},{}\n",
            rain_m * 1000.0,
            f.rain_m3,
            f.stored_m3,
            f.outflow_m3,
            imp.flooded_cells,
            imp.flooded_area_m2,
            imp.components.len(),
            imp.buildings.len(),
            imp.roads.len()
        ));
        println!(
            "hour {hour}: {:.0} mm, {:.0} m³ standing, {:.0} m³ drained off; {} components, {} buildings, {} road segments at ≥ {} m",
            rain_m * 1000.0,
            f.stored_m3,
            f.outflow_m3,
            imp.components.len(),
            imp.buildings.len(),
            imp.roads.len(),
            a.threshold_m
        );
        last = Some((f, imp));
    }
    write_bytes_atomic(&a.out.join("impact_by_hour.csv"), by_hour.as_bytes())?;
    let Some((f, imp)) = last else {
        bail!("--hours must be at least 1");
    };
    let depth = Dem::new(
        dem.cols(),
        dem.rows(),
        west,
        north,
        dem.cell_size(),
        f.depth
            .iter()
            .zip(dem.elevations())
            // full precision (the .asc writer prints each value's shortest exact form)
            .map(|(&d, z)| if z.is_nan() { f64::NAN } else { d })
            .collect(),
    );
    write_bytes_atomic(&a.out.join("depth.asc"), depth.to_asc().as_bytes())?;
    // in the DEM's own system, on its own grid
    if !placed.crs.wkt.is_empty() {
        write_bytes_atomic(&a.out.join("depth.prj"), placed.crs.wkt.as_bytes())?;
    }

    // Everything affected at the end of the storm, one row each, with its grid.
    let mut grids: Vec<_> = city.areas_at(Level::Grid).map(|g| g.code).collect();
    grids.sort();
    let grid_code = |g: Option<usize>| g.map(|g| grids[g].to_string()).unwrap_or_default();
    let mut t = Table::new(&[
        ("kind", FieldType::Text),
        ("id", FieldType::Text),
        ("category", FieldType::Text),
        ("owner", FieldType::Text),
        ("depth_m", FieldType::Float),
        ("grid_code", FieldType::Text),
    ]);
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    for x in &imp.components {
        let c = &city.components[x.index];
        let cat = table
            .get(&c.category())
            .map(|k| k.minor_en.clone())
            .unwrap_or_default();
        t.push(
            Some(Geometry::Point(Point::new(c.location.x(), c.location.y()))),
            vec![
                Value::Text("component".into()),
                Value::Text(c.code.to_string()),
                Value::Text(cat),
                Value::Text(c.department.to_string()),
                Value::Float(r3(x.depth_m)),
                Value::Text(grid_code(x.grid)),
            ],
        );
    }
    for x in &imp.buildings {
        let b = &city.buildings[x.index];
        t.push(
            Some(Geometry::MultiPolygon(b.footprint.clone())),
            vec![
                Value::Text("building".into()),
                Value::Text(b.id.clone()),
                Value::Text(String::new()),
                Value::Text(String::new()),
                Value::Float(r3(x.depth_m)),
                Value::Text(grid_code(x.grid)),
            ],
        );
    }
    for x in &imp.roads {
        let r = &city.roads[x.index];
        t.push(
            Some(Geometry::LineString(r.line.clone())),
            vec![
                Value::Text("road_closed".into()),
                Value::Text(r.id.clone()),
                Value::Text(r.class.clone()),
                Value::Text(String::new()),
                Value::Float(r3(x.depth_m)),
                Value::Text(grid_code(x.grid)),
            ],
        );
    }
    write_table(&a.out.join("impact.geojson"), &t)?;
    let mut by_area = String::from("level,code,components,buildings,roads_closed\n");
    for ((level, code), c) in &imp.by_area {
        by_area.push_str(&format!(
            "{},{code},{},{},{}\n",
            level.name(),
            c.components,
            c.buildings,
            c.roads
        ));
    }
    write_bytes_atomic(&a.out.join("impact_by_area.csv"), by_area.as_bytes())?;
    println!(
        "wrote {}: depth.asc (+ .prj), impact_by_hour.csv, impact_by_area.csv, impact.geojson ({} depressions)",
        a.out.display(),
        f.depressions
    );
    Ok(ExitCode::SUCCESS)
}
