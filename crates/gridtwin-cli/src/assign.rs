//! `gridtwin assign`: every point to its unit grid and the levels above, nothing lost.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridtwin_core::assign::Assigner;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::locate::LocatorOptions;
use gridtwin_core::{Area, QualityReport};
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::batch::{assign_file, AssignOptions};
use gridtwin_io::city_dir::DataTables;

use crate::progress::bar;

#[derive(Args)]
pub struct AssignArgs {
    /// Unit grids: a file in any supported format (code + polygon), or a city directory.
    #[arg(long)]
    grids: PathBuf,
    /// Points (components or incidents): CSV, GeoParquet or FlatGeobuf (streamed), or
    /// GeoJSON.
    #[arg(long)]
    points: PathBuf,
    /// Output FILE (its format by extension): input columns plus grid, community, street
    /// and district codes and the outcome.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// JSON report (default: OUT with extension .report.json).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Rejected rows with record number and reason (default: OUT with extension .rejected.csv).
    #[arg(long)]
    rejected: Option<PathBuf>,
    /// Give points outside every grid the nearest grid within MAX_M metres.
    #[arg(long, value_name = "MAX_M", alias = "nearest")]
    nearest_m: Option<f64>,
    /// Coordinate system of the points' lon/lat: wgs84, gcj02 or bd09.
    #[arg(long, default_value = "wgs84")]
    coords: LonLatSystem,
    /// Fail (exit 1) if any grid or point row is rejected, or no point falls in a grid.
    #[arg(long)]
    strict: bool,
    /// Repair self-intersecting and bow-tie grids instead of rejecting them (each
    /// repair printed with the area as drawn and after).
    #[arg(long)]
    make_valid: bool,
    /// Name of the longitude column of a CSV input (default: lon, lng, longitude or x).
    #[arg(long, value_name = "NAME")]
    lon_col: Option<String>,
    /// Name of the latitude column of a CSV input (default: lat, latitude or y).
    #[arg(long, value_name = "NAME")]
    lat_col: Option<String>,
    /// The points' coordinate system where not WGS-84 lon/lat: EPSG:NNNN, WKT or a PROJ
    /// string (default: a `.prj` beside the points file, else lon/lat); x/y columns or
    /// geometries are reprojected on read.
    #[arg(long, value_name = "CRS")]
    crs: Option<String>,
    /// Field delimiter of a CSV input: one character, e.g. ';' or a tab ('\t').
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    delimiter: u8,
    /// Rows per streamed chunk.
    #[arg(long, default_value_t = 1 << 17)]
    chunk_rows: usize,
    /// Lattice cells per grid in the cell cache.
    #[arg(long, default_value_t = 64.0, hide = true)]
    cells_per_grid: f64,
    /// Bytes per block of the CSV fast path.
    #[arg(long, default_value_t = 8 << 20, hide = true)]
    block_bytes: usize,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" => Ok(s.as_bytes()[0]),
        _ => Err(format!("`{s}`: one ASCII character (',', ';', '|' or \\t)")),
    }
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    out.with_file_name(format!("{stem}{suffix}"))
}

/// Reads unit grids from a file or a city directory's areas layer, validated.
pub fn load_grids(path: &Path, tables: &DataTables) -> Result<(Vec<Area>, QualityReport)> {
    load_grids_with(path, tables, false)
}

/// [`load_grids`], repairing invalid polygons when `make_valid` (each repair printed).
pub fn load_grids_with(
    path: &Path,
    tables: &DataTables,
    make_valid: bool,
) -> Result<(Vec<Area>, QualityReport)> {
    let (areas, q, repairs) = gridtwin_io::city_dir::load_grids(path, tables, make_valid)?;
    for r in repairs {
        eprintln!(
            "repaired {} (record {} of {}): {}; {:.1} m² as drawn, {:.1} m² repaired",
            r.id, r.record, r.file, r.problem, r.area_given_m2, r.area_repaired_m2
        );
    }
    Ok((areas, q))
}

/// One place on disk for `p`, whether or not it exists yet (its folder resolved).
fn place(p: &Path) -> PathBuf {
    let name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&dir).unwrap_or(dir).join(name)
}

/// Inputs and outputs must be different files: `--rejected` equal to `--out`
/// interleaved two writers in one file, and an output over the input destroys it.
fn distinct(files: &[(&str, &Path)]) -> Result<()> {
    for (i, (a, pa)) in files.iter().enumerate() {
        for (b, pb) in &files[i + 1..] {
            if place(pa) == place(pb) {
                bail!(
                    "{a} and {b} are the same file ({}): give them different paths",
                    pa.display()
                );
            }
        }
    }
    Ok(())
}

/// [min lon, min lat, max lon, max lat] of the unit grids.
fn grids_extent(areas: &[gridtwin_core::Area]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for a in areas
        .iter()
        .filter(|a| a.level() == gridtwin_core::Level::Grid)
    {
        if let Some(r) = a.bbox() {
            b = [
                b[0].min(r.min().x),
                b[1].min(r.min().y),
                b[2].max(r.max().x),
                b[3].max(r.max().y),
            ];
        }
    }
    b
}

pub fn run(data: &Path, a: AssignArgs) -> Result<ExitCode> {
    {
        let rejected = a
            .rejected
            .clone()
            .unwrap_or_else(|| sibling(&a.out, ".rejected.csv"));
        let report = a
            .report
            .clone()
            .unwrap_or_else(|| sibling(&a.out, ".report.json"));
        distinct(&[
            ("--points", &a.points),
            ("--out", &a.out),
            ("--rejected", &rejected),
            ("--report", &report),
        ])?;
    }
    if let Some(m) = a.nearest_m {
        if !(m.is_finite() && m >= 0.0) {
            bail!("--nearest-m must be a distance in metres, not {m}");
        }
    }
    let tables = DataTables::load(data)?;
    let t0 = Instant::now();
    let (areas, grid_quality) = load_grids_with(&a.grids, &tables, a.make_valid)?;
    let (_, _, bad_grids) = grid_quality.totals();
    if bad_grids > 0 {
        eprintln!("{grid_quality}");
        if a.strict {
            eprintln!("error: --strict: {bad_grids} grid record(s) rejected");
            return Ok(ExitCode::from(1));
        }
    }
    let assigner = Assigner::new(
        &areas,
        &tables.rule,
        LocatorOptions {
            cells_per_grid: a.cells_per_grid,
            ..LocatorOptions::default()
        },
    );
    if assigner.grids() == 0 {
        bail!(
            "{}: no unit grids (codes of {} digits) to assign to",
            a.grids.display(),
            tables.rule.width(gridtwin_core::Level::Grid)
        );
    }
    let (nx, ny, direct) = assigner.locator().cache_stats();
    let built = t0.elapsed();
    let report_path = a
        .report
        .clone()
        .unwrap_or_else(|| sibling(&a.out, ".report.json"));
    let rejected_path = a
        .rejected
        .clone()
        .unwrap_or_else(|| sibling(&a.out, ".rejected.csv"));
    // The report is written last and lists the output and rejected files with their
    // sizes: a run is complete when its report exists and agrees. The old one goes
    // first, so a killed re-run never leaves new outputs beside an old report.
    match std::fs::remove_file(&report_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| report_path.display().to_string()),
    }
    let size = std::fs::metadata(&a.points).map(|m| m.len()).unwrap_or(0);
    let pb = bar(size, "assigning");
    let opts = AssignOptions {
        nearest_m: a.nearest_m,
        coords: a.coords,
        chunk_rows: a.chunk_rows,
        block_bytes: a.block_bytes,
        lon_col: a.lon_col.clone(),
        lat_col: a.lat_col.clone(),
        delimiter: a.delimiter,
        crs: points_crs(a.crs.as_deref(), &a.points)?,
    };
    let t1 = Instant::now();
    let report = assign_file(
        &assigner,
        Some(&tables.table),
        &a.points,
        &a.out,
        &rejected_path,
        &opts,
        &|done| pb.set_position(done),
    )?;
    pb.finish_and_clear();
    let took = t1.elapsed();
    if gridtwin_io::format::Format::from_path(&a.out).ok() == Some(gridtwin_io::format::Format::Csv)
    {
        // column types for QGIS/OGR: codes stay text
        gridtwin_io::csvt::write_for_file(&a.out)?;
    }
    let bytes = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let json = serde_json::json!({
        "assignment": report,
        "grid_quality": grid_quality,
        "files": [
            {"path": a.out.display().to_string(), "bytes": bytes(&a.out)},
            {"path": rejected_path.display().to_string(), "bytes": bytes(&rejected_path)},
        ],
    });
    write_bytes_atomic(
        &report_path,
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    println!(
        "{} rows: {} assigned, {} nearest, {} unassigned, {} rejected",
        report.rows, report.assigned, report.nearest, report.unassigned, report.rejected
    );
    for (why, n) in &report.unassigned_by_reason {
        println!("  unassigned, {why}: {n}");
    }
    for (why, n) in &report.rejected_by_reason {
        println!("  rejected, {why}: {n}");
    }
    println!(
        "wrote {} (report {}, rejected rows {})",
        a.out.display(),
        report_path.display(),
        rejected_path.display()
    );
    eprintln!(
        "{} grids, cell cache {nx}×{ny} ({:.0}% of cells answer without a polygon test), built in {:.2} s; assigned in {:.2} s ({:.2} M rows/s)",
        assigner.grids(),
        direct * 100.0,
        built.as_secs_f64(),
        took.as_secs_f64(),
        report.rows as f64 / took.as_secs_f64().max(1e-9) / 1e6
    );
    // Points that meet no grid at all are nearly always a mistake of the input: lon and
    // lat swapped, another coordinate system, the wrong city.
    let located = report.rows - report.rejected;
    let none_met = located > 0 && report.assigned + report.nearest == 0;
    if none_met {
        let b = grids_extent(&areas);
        eprintln!(
            "warning: none of the {located} points falls in a grid. The grids span lon {:.5}..{:.5}, lat {:.5}..{:.5}: are the points' lon and lat swapped (--lon-col/--lat-col), in another coordinate system (--coords), or of another city?",
            b[0], b[2], b[1], b[3]
        );
    }
    if a.strict && report.rejected > 0 {
        eprintln!("error: --strict: {} row(s) rejected", report.rejected);
        return Ok(ExitCode::from(1));
    }
    if a.strict && none_met {
        eprintln!("error: --strict: no point falls in a grid");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The points' coordinate system: `--crs`, else the `.prj` beside the file, else none
/// (lon/lat).
pub(crate) fn points_crs(
    given: Option<&str>,
    points: &Path,
) -> Result<Option<std::sync::Arc<gridtwin_io::dem_crs::Crs>>> {
    use gridtwin_io::dem_crs::Crs;
    if let Some(t) = given {
        let c = Crs::parse(t).map_err(|m| anyhow::anyhow!("--crs {t}: {m}"))?;
        return Ok(Some(std::sync::Arc::new(c)));
    }
    let prj = points.with_extension("prj");
    match std::fs::read_to_string(&prj) {
        Ok(text) => Ok(Some(std::sync::Arc::new(
            Crs::parse(&text).map_err(|m| anyhow::anyhow!("{}: {m}", prj.display()))?,
        ))),
        Err(_) => Ok(None),
    }
}
