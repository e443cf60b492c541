//! `gridtwin fire`: urban fire spread on H3 cells from a fire scene (scenes/fire.toml):
//! burning and burnt cells per step, buildings reached, roads closed while it burns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use geo::{Centroid, Geometry};
use gridtwin_core::fire::{building_cover, hexagon, spread, FireParams};
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;
use gridtwin_io::record::{FieldType, Table, Value};
use gridtwin_io::write_table;
use serde::Deserialize;

#[derive(Args)]
pub struct FireArgs {
    /// Fire scene (TOML in scenes/, e.g. scenes/fire.toml).
    scene: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FireScene {
    name: String,
    /// City directory, relative to the scene file.
    city: PathBuf,
    /// H3 resolution of the automaton's cells (12: about 300 m² each).
    resolution: u8,
    /// Where it starts: [lon, lat] points.
    ignitions: Vec<[f64; 2]>,
    #[serde(default)]
    fire: FireParams,
}

fn load(path: &Path) -> Result<FireScene> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut s: FireScene =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    s.city = path.parent().unwrap_or(Path::new(".")).join(&s.city);
    s.fire
        .check()
        .map_err(|(k, m)| anyhow::anyhow!("{}: `fire.{k}`: {m}", path.display()))?;
    if s.ignitions.is_empty() {
        bail!("{}: `ignitions` names no point", path.display());
    }
    Ok(s)
}

pub fn run(a: FireArgs) -> Result<ExitCode> {
    let scene = load(&a.scene)?;
    let res = h3o::Resolution::try_from(scene.resolution)
        .map_err(|e| anyhow::anyhow!("{}: `resolution`: {e}", a.scene.display()))?;
    let (city, _, _) = load_city(&scene.city)?;
    let cover = building_cover(&city.buildings, res);
    let mut starts = Vec::new();
    for (i, p) in scene.ignitions.iter().enumerate() {
        let ll = h3o::LatLng::new(p[1], p[0])
            .map_err(|e| anyhow::anyhow!("{}: ignitions[{i}]: {e}", a.scene.display()))?;
        starts.push(ll.to_cell(res));
    }
    let p = &scene.fire;
    let run = spread(&cover, &starts, p, a.seed);
    let minutes = |s: u32| s as f64 * p.step_minutes;

    // Buildings: caught when any cell under them catches.
    let mut caught: Vec<(usize, u32)> = Vec::new();
    for (i, b) in city.buildings.iter().enumerate() {
        let cells = building_cover(std::slice::from_ref(b), res);
        if let Some(s) = cells.keys().filter_map(|c| run.ignited_at.get(c)).min() {
            caught.push((i, *s));
        }
    }
    // Roads: closed while a cell they pass through burns.
    let road_cells: Vec<Vec<h3o::CellIndex>> = city
        .roads
        .iter()
        .map(|r| gridtwin_core::fire::road_cells(r, res))
        .collect();
    let mut by_step =
        String::from("step,minute,burning_cells,burnt_cells,buildings_caught,roads_closed\n");
    let mut closed_spans: BTreeMap<usize, (u32, u32)> = BTreeMap::new();
    for s in 0..=p.steps {
        let closed: Vec<usize> = road_cells
            .iter()
            .enumerate()
            .filter(|(_, cells)| cells.iter().any(|&c| run.burning_at(c, s)))
            .map(|(i, _)| i)
            .collect();
        for &i in &closed {
            let e = closed_spans.entry(i).or_insert((s, s));
            e.1 = s;
        }
        by_step.push_str(&format!(
            "{s},{},{},{},{},{}\n",
            minutes(s),
            run.burning[s as usize],
            run.burnt[s as usize],
            caught.iter().filter(|c| c.1 <= s).count(),
            closed.len()
        ));
    }
    std::fs::create_dir_all(&a.out)?;
    write_bytes_atomic(&a.out.join("fire_by_step.csv"), by_step.as_bytes())?;
    let mut t = Table::new(&[
        ("kind", FieldType::Text),
        ("id", FieldType::Text),
        ("caught_minute", FieldType::Float),
        ("closed_until_minute", FieldType::Float),
    ]);
    for (c, s) in &run.ignited_at {
        t.push(
            Some(Geometry::MultiPolygon(hexagon(*c))),
            vec![
                Value::Text("cell".into()),
                Value::Text(c.to_string()),
                Value::Float(minutes(*s)),
                Value::Null,
            ],
        );
    }
    for (i, s) in &caught {
        let b = &city.buildings[*i];
        t.push(
            b.footprint.centroid().map(Geometry::Point),
            vec![
                Value::Text("building".into()),
                Value::Text(b.id.clone()),
                Value::Float(minutes(*s)),
                Value::Null,
            ],
        );
    }
    for (i, (from, to)) in &closed_spans {
        let r = &city.roads[*i];
        t.push(
            Some(Geometry::LineString(r.line.clone())),
            vec![
                Value::Text("road_closed".into()),
                Value::Text(r.id.clone()),
                Value::Float(minutes(*from)),
                Value::Float(minutes(*to + 1)),
            ],
        );
    }
    write_table(&a.out.join("fire.geojson"), &t)?;
    println!(
        "{} (seed {}): {} cells caught, {} buildings, {} road segments closed at some time over {} min",
        scene.name,
        a.seed,
        run.ignited_at.len(),
        caught.len(),
        closed_spans.len(),
        minutes(p.steps)
    );
    println!("wrote {}: fire_by_step.csv, fire.geojson", a.out.display());
    Ok(ExitCode::SUCCESS)
}
