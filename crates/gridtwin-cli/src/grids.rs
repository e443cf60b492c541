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
    /// Re-assignment delta after a redraw: which components change grid.
    Diff(DiffArgs),
    /// Redraw grids for a what-if: split large ones, merge small ones, renumber.
    Redraw(RedrawArgs),
}

#[derive(Args)]
pub struct RedrawArgs {
    /// Unit grids: a file or a city directory.
    #[arg(long, value_name = "FILE|DIR")]
    grids: Option<PathBuf>,
    /// (the grids as a positional argument, as earlier releases took them)
    #[arg(value_name = "GRIDS", hide = true)]
    grids_at: Option<PathBuf>,
    /// Split grids over this many m² into strips of at most that.
    #[arg(long, value_name = "M2", alias = "split-over")]
    split_over_m2: Option<f64>,
    /// Merge grids under this many m² into their longest-shared neighbour (same community).
    #[arg(long, value_name = "M2", alias = "merge-under")]
    merge_under_m2: Option<f64>,
    /// Renumber each community's grids north→south, west→east.
    #[arg(long)]
    renumber: bool,
    /// The new grid file (FILE: one layer, its format by extension).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// With --delta: the components whose re-assignment to report.
    #[arg(long)]
    components: Option<PathBuf>,
    /// Directory for the re-assignment delta (moves.csv, diff.json).
    #[arg(long, value_name = "DIR")]
    delta: Option<PathBuf>,
}

#[derive(Args)]
pub struct DiffArgs {
    /// Grids before the redraw.
    old: PathBuf,
    /// Grids after the redraw.
    new: PathBuf,
    /// Components (any point file; a `grid_code` column from `assign` on OLD is used
    /// as the old assignment, else OLD is located).
    #[arg(long)]
    components: PathBuf,
    /// Output directory (DIR) for moves.csv and diff.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Re-test every component against NEW, not only those in changed grids.
    #[arg(long)]
    full: bool,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Communities to fill with grids: a file (code + polygon) or a city directory (its
    /// areas layer).
    #[arg(long, value_name = "FILE|DIR", alias = "within")]
    communities: PathBuf,
    /// Target grid area, m² (the classic unit grid is 10,000 m²).
    #[arg(
        long,
        value_name = "M2",
        default_value_t = 10_000.0,
        alias = "target-area"
    )]
    target_area_m2: f64,
    /// Use H3 cells of this resolution (0–15), clipped to each community, instead of a lattice.
    #[arg(long)]
    h3: Option<u8>,
    /// Output grid file (FILE: GeoJSON, FlatGeobuf, GeoParquet, GeoPackage, Shapefile or
    /// CSV with WKT, by extension).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Unit grids: a file (code + polygon) or a city directory (its areas layer).
    #[arg(long, value_name = "FILE|DIR")]
    grids: Option<PathBuf>,
    /// (the grids as a positional argument, as earlier releases took them)
    #[arg(value_name = "GRIDS", hide = true)]
    grids_at: Option<PathBuf>,
    /// Communities the grids must tile (default: the communities in GRIDS, if any).
    #[arg(long)]
    parents: Option<PathBuf>,
    /// Size rule: a grid smaller than this many m² is a problem.
    #[arg(long, default_value_t = 2_000.0)]
    min_area_m2: f64,
    /// Size rule: a grid larger than this many m² is a problem.
    #[arg(long, default_value_t = 40_000.0)]
    max_area_m2: f64,
    /// Overlaps, gaps and parts outside the parent of at most this many m² are not
    /// problems (real boundary layers carry slivers of a square metre or two).
    #[arg(long, default_value_t = 0.01)]
    tolerance_m2: f64,
    /// Output directory (DIR) for validation.json and problems.geojson.
    #[arg(long, value_name = "DIR", default_value = "out/validation")]
    out: PathBuf,
    /// Exit 1 if any problem is found.
    #[arg(long)]
    strict: bool,
}

/// The grids, given as `--grids` (or positionally, as before): one of the two.
fn given_grids(flag: Option<PathBuf>, positional: Option<PathBuf>) -> Result<PathBuf> {
    match (flag, positional) {
        (Some(g), None) | (None, Some(g)) => Ok(g),
        (Some(_), Some(_)) => anyhow::bail!("--grids: give the grids once"),
        (None, None) => {
            anyhow::bail!("--grids FILE|DIR is needed (a grid file or a city directory)")
        }
    }
}

/// Reads areas without judging them (a broken ring is a finding here, not a rejection).
fn read_raw(path: &Path) -> Result<Vec<RawArea>> {
    let file = if path.is_dir() {
        gridtwin_io::city_dir::find_layer(path, "areas")
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
        GridsCommand::Diff(a) => diff(data, &rule, a),
        GridsCommand::Redraw(a) => redraw(data, &rule, a),
    }
}

fn redraw(data: &Path, rule: &CodeRule, mut a: RedrawArgs) -> Result<ExitCode> {
    let grids_path = given_grids(a.grids.take(), a.grids_at.take())?;
    use gridtwin_core::grid_gen::redraw::{merge_under, renumber, split_over};
    let mut grids = grid_areas(data, &grids_path)?;
    let old = grids.clone();
    let before = grids.len();
    if let Some(m) = a.split_over_m2 {
        grids = split_over(rule, &grids, m).map_err(|e| anyhow::anyhow!("split: {e}"))?;
    }
    if let Some(m) = a.merge_under_m2 {
        grids = merge_under(rule, &grids, m);
    }
    if a.renumber {
        grids = renumber(rule, &grids).map_err(|e| anyhow::anyhow!("renumber: {e}"))?;
    }
    let n = grids.len();
    let redrawn = grids.clone();
    write_grids(rule, grids, &a.out)?;
    println!("{before} grids → {} grids; wrote {}", n, a.out.display());
    match (a.components, a.delta) {
        // (the delta of the grids as redrawn, in memory: not read back from the file)
        (Some(components), Some(out)) => {
            write_delta(rule, &old, &redrawn, &components, &out, false)
        }
        (None, None) => Ok(ExitCode::SUCCESS),
        _ => bail!("give both --components and --delta for the re-assignment delta"),
    }
}

/// Loads the unit grids of a file or city directory, validated.
fn grid_areas(data: &Path, path: &Path) -> Result<Vec<gridtwin_core::Area>> {
    let tables = gridtwin_io::city_dir::DataTables::load(data)?;
    let (areas, q) = crate::assign::load_grids(path, &tables)?;
    if q.totals().2 > 0 {
        bail!(
            "{}: {} grid record(s) rejected; run `gridtwin grids validate` first\n{q}",
            path.display(),
            q.totals().2
        );
    }
    Ok(areas
        .into_iter()
        .filter(|a| a.level() == Level::Grid)
        .collect())
}

fn diff(data: &Path, rule: &CodeRule, a: DiffArgs) -> Result<ExitCode> {
    // the two grid sets are read side by side (each is seconds at a megacity's size)
    let (old, new) = rayon::join(|| grid_areas(data, &a.old), || grid_areas(data, &a.new));
    let (old, new) = (old?, new?);
    write_delta(rule, &old, &new, &a.components, &a.out, a.full)
}

/// The re-assignment delta of `components` from `old` to `new` grids (in memory):
/// moves.csv and diff.json in `out`.
fn write_delta(
    rule: &CodeRule,
    old: &[gridtwin_core::Area],
    new: &[gridtwin_core::Area],
    components: &Path,
    out: &Path,
    full: bool,
) -> Result<ExitCode> {
    let d = gridtwin_core::grid_diff::GridDiff::new(old, new, rule, full);
    let changed = &d.changed;
    let (mut total, mut retested, mut moves) = (0u64, 0u64, Vec::new());
    let mut per_grid: BTreeMap<(String, String), u64> = BTreeMap::new();
    // One component: its place, its grid before (`grid_code`, else located in OLD)
    // and its id; re-tested where it may have moved.
    type Move = (u64, String, String, String);
    let one = |number: u64, (x, y): (f64, f64), grid: Option<&str>, id: Option<&str>| {
        // (the old grid is looked up only where the new one was: a place outside the
        // changed region keeps its grid, whatever it is)
        let after = d.retest(x, y)?;
        let before = grid.map_or_else(|| d.old_grid(x, y), str::to_string);
        Some((after != before).then(|| {
            let id = id.map_or_else(|| number.to_string(), str::to_string);
            (number, id, before, after)
        }))
    };
    let from_record = |r: Result<gridtwin_io::Record, gridtwin_core::Rejection>| {
        let r = r.map_err(|e| anyhow::anyhow!("{e}"))?;
        let point = match (
            &r.geometry,
            r.get("lon").map(Value::as_f64),
            r.get("lat").map(Value::as_f64),
        ) {
            (Some(Geometry::Point(p)), _, _) => (p.x(), p.y()),
            (_, Some(Ok(Some(x))), Some(Ok(Some(y)))) => (x, y),
            _ => bail!("{}: record {}: no point", components.display(), r.number),
        };
        let grid = r.text(&["grid_code"]);
        let id = r.text(&["code", "id"]);
        Ok(one(r.number, point, grid.as_deref(), id.as_deref()))
    };
    let mut count = |moved: Option<Option<Move>>| {
        total += 1;
        if let Some(m) = moved {
            retested += 1;
            if let Some(m) = m {
                *per_grid.entry((m.2.clone(), m.3.clone())).or_default() += 1;
                moves.push(m);
            }
        }
    };
    let parquet = matches!(
        gridtwin_io::Format::from_path(components),
        Ok(gridtwin_io::Format::GeoParquet)
    );
    if parquet {
        // Streamed a batch at a time, the rows of each re-tested in parallel (a
        // megacity's 12 M components); a row that is not a plain point with text
        // codes is read as a record, as any other format's.
        use rayon::prelude::*;
        let mut failed: Option<anyhow::Error> = None;
        let streamed = gridtwin_io::parquet_io::for_each_point_batch(
            components,
            &["grid_code", "code", "id"],
            |b| {
                let rows: Vec<Result<Option<Option<Move>>>> = (0..b.len())
                    .into_par_iter()
                    .with_min_len(4096)
                    .map(|row| {
                        let number = b.first + row as u64;
                        match (b.point(row), b.text(0, row), b.text(1, row), b.text(2, row)) {
                            (Some(p), Some(grid), Some(code), Some(id)) => {
                                Ok(one(number, p, grid, code.or(id)))
                            }
                            _ => from_record(b.record(row)),
                        }
                    })
                    .collect();
                for r in rows {
                    match r {
                        Ok(m) => count(m),
                        Err(e) => {
                            // (the row's own error, kept whole; the reader is told to stop)
                            let stop =
                                gridtwin_io::IoError::read(&components.display().to_string(), &e);
                            failed = Some(e);
                            return Err(stop);
                        }
                    }
                }
                Ok(())
            },
        );
        if let Some(e) = failed {
            return Err(e);
        }
        streamed?;
    } else {
        for r in read_records(components)? {
            count(from_record(r)?);
        }
    }
    std::fs::create_dir_all(out)?;
    // (through the CSV writer: an id holding a comma or a quote is quoted, not split)
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["record", "id", "old_grid", "new_grid"])?;
    for (n, id, b, f) in &moves {
        w.write_record([n.to_string().as_str(), id, b, f])?;
    }
    write_bytes_atomic(&out.join("moves.csv"), &w.into_inner()?)?;
    let flows: Vec<serde_json::Value> = per_grid
        .iter()
        .map(|((b, f), n)| serde_json::json!({"old_grid": b, "new_grid": f, "components": n}))
        .collect();
    let json = serde_json::json!({"changed_grids": changed, "components": total, "retested": retested, "moved": moves.len(), "flows": flows, "full": full});
    write_bytes_atomic(
        &out.join("diff.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    println!("{} changed grids; {total} components, {retested} re-tested, {} move; wrote {}/moves.csv and diff.json", changed.len(), moves.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes grids as an areas layer (code, level, name, parent), the city directory's
/// own table, sorted by code.
fn write_grids(rule: &CodeRule, grids: Vec<gridtwin_core::Area>, out: &Path) -> Result<()> {
    let mut city = gridtwin_core::City::new("grids", *rule);
    city.areas = grids;
    write_table(out, &gridtwin_io::city_dir::area_table(&city))?;
    Ok(())
}

fn generate(rule: &CodeRule, a: GenerateArgs) -> Result<ExitCode> {
    if !(a.target_area_m2.is_finite() && a.target_area_m2 > 0.0) {
        bail!("--target-area-m2 must be a positive number of m²");
    }
    let h3 =
        a.h3.map(h3o::Resolution::try_from)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--h3: {e}"))?;
    let communities: Vec<RawArea> = read_raw(&a.communities)?
        .into_iter()
        .filter(|x| x.code.len() == rule.width(Level::Community))
        .collect();
    if communities.is_empty() {
        bail!(
            "{}: no community codes ({} digits)",
            a.communities.display(),
            rule.width(Level::Community)
        );
    }
    let mut all = Vec::new();
    for c in &communities {
        let code = rule
            .parse_area(Level::Community, &c.code)
            .map_err(|e| anyhow::anyhow!("record {}: {e}", c.record))?;
        let grids = match h3 {
            Some(r) => gridtwin_core::grid_gen::grids_for_h3(rule, &code, &c.boundary, r),
            None => gridtwin_core::grid_gen::grids_for(rule, &code, &c.boundary, a.target_area_m2),
        }
        .map_err(|e| anyhow::anyhow!("community {}: {e}", c.code))?;
        all.extend(grids);
    }
    let n = all.len();
    write_grids(rule, all, &a.out)?;
    println!(
        "{n} grids in {} communities; wrote {}",
        communities.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn validate(rule: &CodeRule, mut a: ValidateArgs) -> Result<ExitCode> {
    let grids_path = given_grids(a.grids.take(), a.grids_at.take())?;
    let all = read_raw(&grids_path)?;
    // an area without a code cannot be judged as a grid or a parent: a file of them
    // reported "0 grids: 0 problems" and passed --strict (issue 14)
    let uncoded: Vec<u64> = all
        .iter()
        .filter(|x| x.code.trim().is_empty())
        .map(|x| x.record)
        .collect();
    if !uncoded.is_empty() {
        bail!(
            "{}: {} of {} areas have no `code` (records {}{}): every grid needs its code",
            grids_path.display(),
            uncoded.len(),
            all.len(),
            uncoded
                .iter()
                .take(5)
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if uncoded.len() > 5 { ", …" } else { "" }
        );
    }
    let cw = rule.width(Level::Community);
    // From a file of mixed levels, the communities are the community-length codes,
    // the grids everything longer than a street's (a malformed grid code included, to
    // be reported); cities, districts and streets are left out.
    let sw = rule.width(Level::Street);
    let all_count = all.len();
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
    if grids.is_empty() {
        bail!(
            "{}: no grids: none of its {} areas has a code longer than a street's ({} digits)",
            grids_path.display(),
            all_count,
            sw
        );
    }
    if !(a.tolerance_m2.is_finite() && a.tolerance_m2 >= 0.0) {
        anyhow::bail!(
            "--tolerance-m2 must be zero or a positive area, not {}",
            a.tolerance_m2
        );
    }
    let opts = CheckOptions {
        min_area_m2: a.min_area_m2,
        max_area_m2: a.max_area_m2,
        tolerance_m2: a.tolerance_m2,
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
