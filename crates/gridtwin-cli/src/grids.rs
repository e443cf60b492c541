//! `gridtwin grids …`: grid management. `validate` checks unit grids against their
//! communities and reports every problem with its place, as JSON and as GeoJSON that
//! opens in QGIS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use geo::{Geometry, MultiPolygon, Point};
use gridtwin_core::grid_check::{check, CheckOptions, RawArea};
use gridtwin_core::{CodeRule, Level};
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::record::{FieldType, Table, Value};
use gridtwin_io::{read_records, write_table};

#[derive(Subcommand)]
pub enum GridsCommand {
    /// Check grids: broken rings, overlaps, gaps, crossing the parent, size, codes.
    Validate(ValidateArgs),
    /// Generate unit grids of about a target area inside each community.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Communities: a file (code + polygon) or a city directory (its areas layer).
    #[arg(long)]
    within: PathBuf,
    /// Target grid area, m² (the classic unit grid is 10,000 m²).
    #[arg(long, default_value_t = 10_000.0)]
    target_area: f64,
    /// Output grid file (GeoJSON, FlatGeobuf, GeoParquet or CSV with WKT).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Unit grids: a file (code + polygon) or a city directory (its areas layer).
    grids: PathBuf,
    /// Communities the grids must tile (default: the communities in GRIDS, if any).
    #[arg(long)]
    parents: Option<PathBuf>,
    #[arg(long, default_value_t = 2_000.0)]
    min_area_m2: f64,
    #[arg(long, default_value_t = 40_000.0)]
    max_area_m2: f64,
    /// Output directory for validation.json and problems.geojson.
    #[arg(long, default_value = "out/validation")]
    out: PathBuf,
    /// Exit 1 if any problem is found.
    #[arg(long)]
    strict: bool,
}

/// Reads areas without judging them (a broken ring is a finding here, not a rejection).
fn read_raw(path: &Path) -> Result<Vec<RawArea>> {
    let file = if path.is_dir() {
        ["geojson", "fgb", "parquet", "csv"]
            .iter()
            .map(|e| path.join(format!("areas.{e}")))
            .find(|p| p.exists())
            .ok_or_else(|| anyhow::anyhow!("{}: no areas layer", path.display()))?
    } else {
        path.to_path_buf()
    };
    let mut out = Vec::new();
    for r in read_records(&file)? {
        let r = r.map_err(|e| anyhow::anyhow!("{e}"))?;
        let code = r.text(&["code"]).unwrap_or_default();
        let boundary = match r.geometry {
            Some(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Some(Geometry::MultiPolygon(m)) => m,
            _ => bail!("{}: record {}: not a polygon", file.display(), r.number),
        };
        out.push(RawArea {
            record: r.number,
            code,
            boundary,
        });
    }
    Ok(out)
}

pub fn run(data: &Path, cmd: GridsCommand) -> Result<ExitCode> {
    let rule = CodeRule::load(&data.join("code_rule.toml"))?;
    match cmd {
        GridsCommand::Validate(a) => validate(&rule, a),
        GridsCommand::Generate(a) => generate(&rule, a),
    }
}

fn generate(rule: &CodeRule, a: GenerateArgs) -> Result<ExitCode> {
    if !(a.target_area.is_finite() && a.target_area > 0.0) {
        bail!("--target-area must be a positive number of m²");
    }
    let communities: Vec<RawArea> = read_raw(&a.within)?
        .into_iter()
        .filter(|x| x.code.len() == rule.width(Level::Community))
        .collect();
    if communities.is_empty() {
        bail!(
            "{}: no community codes ({} digits)",
            a.within.display(),
            rule.width(Level::Community)
        );
    }
    let mut t = Table::new(&[
        ("code", FieldType::Text),
        ("level", FieldType::Text),
        ("name", FieldType::Text),
        ("parent", FieldType::Text),
    ]);
    let mut n = 0;
    for c in &communities {
        let code = rule
            .parse_area(Level::Community, &c.code)
            .map_err(|e| anyhow::anyhow!("record {}: {e}", c.record))?;
        let grids = gridtwin_core::grid_gen::grids_for(rule, &code, &c.boundary, a.target_area)
            .map_err(|e| anyhow::anyhow!("community {}: {e}", c.code))?;
        for g in grids {
            n += 1;
            t.push(
                Some(Geometry::MultiPolygon(g.boundary.clone())),
                vec![
                    Value::Text(g.code.to_string()),
                    Value::Text("grid".into()),
                    Value::Text(g.name.clone()),
                    Value::Text(c.code.clone()),
                ],
            );
        }
    }
    write_table(&a.out, &t)?;
    println!(
        "{n} grids in {} communities; wrote {}",
        communities.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn validate(rule: &CodeRule, a: ValidateArgs) -> Result<ExitCode> {
    let all = read_raw(&a.grids)?;
    let cw = rule.width(Level::Community);
    // From a file of mixed levels, the communities are the community-length codes,
    // the grids everything longer than a street's (a malformed grid code included, to
    // be reported); cities, districts and streets are left out.
    let sw = rule.width(Level::Street);
    let (grids, parents): (Vec<RawArea>, Vec<RawArea>) = all
        .into_iter()
        .filter(|x| x.code.len() > sw)
        .partition(|x| x.code.len() != cw);
    let parents = match &a.parents {
        Some(p) => read_raw(p)?
            .into_iter()
            .filter(|x| x.code.len() == cw)
            .collect(),
        None => parents,
    };
    let opts = CheckOptions {
        min_area_m2: a.min_area_m2,
        max_area_m2: a.max_area_m2,
        ..CheckOptions::default()
    };
    let problems = check(
        &grids,
        (!parents.is_empty()).then_some(&parents[..]),
        rule,
        opts,
    );

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in &problems {
        *counts
            .entry(
                serde_json::to_value(p.kind)?
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
            .or_default() += 1;
    }
    std::fs::create_dir_all(&a.out)?;
    let json = serde_json::json!({
        "grids": grids.len(),
        "parents": parents.len(),
        "size_rule_m2": [a.min_area_m2, a.max_area_m2],
        "problems_by_kind": counts,
        "problems": problems,
    });
    write_bytes_atomic(
        &a.out.join("validation.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    let mut t = Table::new(&[
        ("kind", FieldType::Text),
        ("codes", FieldType::Text),
        ("area_m2", FieldType::Float),
        ("detail", FieldType::Text),
    ]);
    for p in &problems {
        let g = match &p.geometry {
            Some(m) => Geometry::MultiPolygon(m.clone()),
            None => Geometry::Point(Point::new(p.location.0, p.location.1)),
        };
        t.push(
            Some(g),
            vec![
                Value::Text(
                    serde_json::to_value(p.kind)?
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                ),
                Value::Text(p.codes.join(" ")),
                p.area_m2
                    .map(|x| Value::Float((x * 100.0).round() / 100.0))
                    .unwrap_or(Value::Null),
                Value::Text(p.detail.clone()),
            ],
        );
    }
    write_table(&a.out.join("problems.geojson"), &t)?;
    println!(
        "{} grids, {} parents: {} problem(s)",
        grids.len(),
        parents.len(),
        problems.len()
    );
    for (k, n) in &counts {
        println!("  {k}: {n}");
    }
    for p in problems.iter().take(10) {
        println!(
            "  {:?} {} at ({:.6}, {:.6}): {}",
            p.kind,
            p.codes.join(" "),
            p.location.0,
            p.location.1,
            p.detail
        );
    }
    println!(
        "wrote {}/validation.json and problems.geojson",
        a.out.display()
    );
    if a.strict && !problems.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
