//! `gridtwin synth`: a synthetic megacity at a real city's scale, deterministic by seed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gridtwin_core::synth::{MegaCity, SynthParams};
use gridtwin_core::{City, Level, QualityReport};
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::{area_table, component_table, incident_table, DataTables};
use gridtwin_io::sink::TableSink;
use gridtwin_io::write_table;

use crate::progress::{bar, spinner};

#[derive(Clone, Copy, ValueEnum)]
enum PointFormat {
    Csv,
    Parquet,
}

#[derive(Args)]
pub struct SynthArgs {
    /// Output city directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Unit grids (Shanghai: about 40,000 over its central 2,100 km² box).
    #[arg(long, default_value_t = 40_000)]
    grids: usize,
    /// Components (Shanghai reports about 12 million).
    #[arg(long, default_value_t = 12_000_000)]
    components: usize,
    /// Buildings (rectangles with heights; for the viewer's performance scene).
    #[arg(long, default_value_t = 0)]
    buildings: usize,
    /// Incidents over one year from 2025-01-01.
    #[arg(long, default_value_t = 1_000_000)]
    incidents: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// File format of components and incidents.
    #[arg(long, value_enum, default_value = "csv")]
    format: PointFormat,
    /// Skip street/community/district boundaries (unions of grids), which take a while at full scale.
    #[arg(long)]
    grids_only: bool,
}

const CHUNK: usize = 1 << 20;
const YEAR_2025: i64 = 1_735_689_600;

fn districts(
    data: &Path,
    rule: &gridtwin_core::CodeRule,
) -> Result<Vec<(gridtwin_core::AreaCode, String)>> {
    let path = data.join("synth/shanghai_districts.csv");
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(&path)
        .with_context(|| path.display().to_string())?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let code = rule
            .parse_area(Level::District, rec.get(0).unwrap_or(""))
            .with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        out.push((
            code,
            format!("{} {}", rec.get(1).unwrap_or(""), rec.get(2).unwrap_or("")),
        ));
    }
    Ok(out)
}

pub fn run(data: &Path, a: SynthArgs) -> Result<ExitCode> {
    let tables = DataTables::load(data)?;
    let mut params = SynthParams::shanghai(a.seed, a.grids, districts(data, &tables.rule)?);
    params.with_parent_boundaries = !a.grids_only;
    let sp = spinner("grids");
    let mega = MegaCity::generate(&tables.rule, &params)?;
    sp.finish_and_clear();
    let ext = match a.format {
        PointFormat::Csv => "csv",
        PointFormat::Parquet => "parquet",
    };
    std::fs::create_dir_all(&a.out)?;
    let mut city = City::new(format!("Synthetic megacity (seed {})", a.seed), tables.rule);
    city.areas = mega.areas.clone();
    write_table(&a.out.join("areas.fgb"), &area_table(&city))?;
    let mut quality = QualityReport::new();
    let file = |name: &str| a.out.join(format!("{name}.{ext}"));

    // Components and incidents are streamed in chunks: bounded memory at any count.
    let template = component_table(&City::new("", tables.rule));
    let mut sink = TableSink::create(&file("components"), &template)?;
    let pb = bar(a.components as u64, "components");
    let mut gen = mega.components(&tables.table, a.components, a.seed)?;
    let mut written = 0usize;
    loop {
        city.components = gen.by_ref().take(CHUNK).collect();
        if city.components.is_empty() {
            break;
        }
        written += city.components.len();
        sink.write(&component_table(&city))?;
        pb.inc(city.components.len() as u64);
    }
    sink.finish()?;
    pb.finish_and_clear();
    city.components.clear();

    let template = incident_table(&City::new("", tables.rule));
    let mut sink = TableSink::create(&file("incidents"), &template)?;
    let pb = bar(a.incidents as u64, "incidents");
    let mut gen = mega.incidents(&tables.table, a.incidents, a.seed, YEAR_2025)?;
    loop {
        city.incidents = gen.by_ref().take(CHUNK).collect();
        if city.incidents.is_empty() {
            break;
        }
        sink.write(&incident_table(&city))?;
        pb.inc(city.incidents.len() as u64);
    }
    sink.finish()?;
    pb.finish_and_clear();

    // The rest of a city directory, so `gridtwin info` reads it.
    write_bytes_atomic(
        &a.out.join("city.toml"),
        format!("name = \"{}\"\n", city.name).as_bytes(),
    )?;
    write_bytes_atomic(
        &a.out.join("code_rule.toml"),
        tables.rule.to_toml().as_bytes(),
    )?;
    write_bytes_atomic(
        &a.out.join("categories.csv"),
        &std::fs::read(&tables.categories_path)?,
    )?;
    let empty = City::new("", tables.rule);
    let mut with_buildings = City::new("", tables.rule);
    with_buildings.buildings = mega.buildings(a.buildings, a.seed).collect();
    write_table(
        &a.out.join("buildings.geojson"),
        &gridtwin_io::city_dir::building_table(&with_buildings),
    )?;
    write_table(
        &a.out.join("roads.geojson"),
        &gridtwin_io::city_dir::road_table(&empty),
    )?;
    write_bytes_atomic(
        &a.out.join("quality.json"),
        (quality.to_json() + "\n").as_bytes(),
    )?;
    quality.files.clear();
    let grids = mega.grids().count();
    println!(
        "wrote {}: {} areas ({grids} unit grids), {written} components (of {} asked; a class full at the serial width is skipped), {} incidents",
        a.out.display(),
        mega.areas.len(),
        a.components,
        a.incidents
    );
    Ok(ExitCode::SUCCESS)
}
