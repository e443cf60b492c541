//! `gridtwin`: the command line of the gridtwin city grid-management engine, as a
//! library so that other front ends (the Python package) run a command line in their
//! own process with the binary's exact behaviour; `src/main.rs` is the binary.
//!
//! One module per subcommand (`import`, `info`, `synth`, `assign`, `aggregate`,
//! `grids`, `simulate`, `calibrate`, `backtest`, `vitals`, `report`, `flood`, `fire`,
//! `view`); what several share: `tables` (data tables built into the binary),
//! `history` (case histories read leniently), `charts` (plotters charts), `progress`.
//! The work itself lives in the library crates; a module here parses arguments,
//! calls them, and prints.

mod aggregate;
mod assign;
mod backtest;
mod calibrate;
mod charts;
mod fire;
mod flood;
mod grids;
mod history;
mod import;
mod info;
mod progress;
mod report;
mod simulate;
mod study_parts;
mod synth;
pub mod tables;
mod view;
mod vitals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The command line.
#[derive(Parser)]
#[command(
    name = "gridtwin",
    version,
    about = "Unit-grid city management and digital twin",
    after_help = "Conventions:
  --out FILE   writes one file, its format by extension (.csv, .geojson, .fgb, .parquet, .gpkg, .shp)
  --out DIR    writes a directory of files (each command's help says which it takes)
  --grids      unit grids: a grid layer file or a city directory (grids diff compares OLD NEW)
  units        flags end in their unit: -m2 square metres, -m metres, -hours; buckets as 15m, 1h, 1d
Exit codes: 0 done; 1 data rejected under --strict (or a check found problems);
  2 usage (a flag or its value refused); 3 input or output error (a file missing,
  unreadable or malformed, a scenario refused, a write that failed)."
)]
pub struct Cli {
    /// Directory of the data tables (code rule, categories, OSM tag map, road speeds,
    /// calendar, thresholds, font). Default: ./data if it holds code_rule.toml, else the
    /// tables built into this binary.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// The most rows a reader holds in memory (inputs read whole: GeoJSON, and
    /// FlatGeobuf and Parquet except as `assign --points`, which streams them; their
    /// declared row count is checked first).
    #[arg(long, global = true, default_value_t = gridtwin_io::limits::DEFAULT_MAX_ROWS)]
    max_rows_in_memory: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assign points (components, incidents) to unit grids and every level above.
    #[command(
        after_help = "Example:\n  gridtwin assign --grids data/helsinki/city --points data/helsinki/city/components.csv --out out/assigned.csv
  gridtwin assign --grids grids.fgb --points cases.csv --delimiter ';' --lon-col x --lat-col y --nearest-m 50 --out out/cases.parquet"
    )]
    Assign(assign::AssignArgs),
    /// Count points per grid or level, per H3 cell, per category and time window.
    #[command(
        after_help = "Example:\n  gridtwin aggregate --points out/assigned.csv --by community --category --out out/counts.csv
  gridtwin aggregate --points data/helsinki/city/components.csv --grids data/helsinki/city --by h3:9 --out out/h3.geojson"
    )]
    Aggregate(aggregate::AggregateArgs),
    /// Grid management: validate unit grids.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  gridtwin grids validate --grids data/helsinki/city --tolerance-m2 5 --out out/validation
  gridtwin grids generate --communities data/helsinki/city --target-area-m2 10000 --out out/grids.geojson"
    )]
    Grids(grids::GridsCommand),
    /// Import a city: an OSM city settings file (e.g. data/helsinki/city.toml), or layers in any format.
    #[command(
        after_help = "Example:\n  gridtwin import data/helsinki/city.toml --out out/helsinki
  gridtwin import --areas wards.geojson --code-field GEOCODE --crs EPSG:32651 --out out/mycity"
    )]
    Import(import::ImportArgs),
    /// Counts per level and category, extent and data quality of a city directory.
    #[command(after_help = "Example:\n  gridtwin info data/helsinki/city --out out/info.json")]
    Info(info::InfoArgs),
    /// Run seeded replications of a scenario (scenes/*.toml).
    #[command(
        after_help = "Example:\n  gridtwin simulate scenes/baseline.toml --replications 10 --seed 1 --out out/sim/baseline"
    )]
    Simulate(simulate::SimulateArgs),
    /// Compare two simulate runs: KPI differences with paired confidence intervals, charts.
    #[command(after_help = "Example:\n  gridtwin compare out/sim/baseline out/sim/patrol")]
    Compare(simulate::CompareArgs),
    /// Fit a scenario to a city's case history: arrival rates and profiles, hotspots,
    /// step-duration families (AIC, KS), shares, crews; runnable by `simulate`.
    #[command(
        after_help = "Example:\n  gridtwin calibrate out/sim/baseline/rep_000/timeline.parquet --city data/helsinki/city --out out/fitted.toml --report out/fit"
    )]
    Calibrate(calibrate::CalibrateArgs),
    /// Score a forecast: fit on the history before T, start from its state at T,
    /// simulate N days R times, and compare with what happened (bands, KS, verdicts).
    #[command(
        after_help = "Example:\n  gridtwin backtest history.csv --city data/helsinki/city --train-until 2025-04-14T00:00:00+08:00 --days 7 --replications 20 --out out/backtest"
    )]
    Backtest(backtest::BacktestArgs),
    /// City vital signs from a case timeline: indicators, warnings, Gi* hotspots.
    #[command(
        after_help = "Example:\n  gridtwin vitals out/sim/baseline/rep_000/timeline.parquet --city data/helsinki/city --out out/vitals"
    )]
    Vitals(vitals::VitalsArgs),
    /// A self-contained HTML report (tables, SVG charts) and PNG charts from a case timeline.
    #[command(
        after_help = "Example:\n  gridtwin report out/sim/baseline/rep_000/timeline.parquet --out out/report"
    )]
    Report(report::ReportArgs),
    /// Write a synthetic megacity (grids, components, incidents), deterministic by seed.
    #[command(
        after_help = "Example:\n  gridtwin synth --out out/small --grids 2000 --components 100000 --incidents 20000 --format parquet"
    )]
    Synth(synth::SynthArgs),
    /// Rain on a DEM (fill–spill–merge): water depths and what they reach, hour by hour.
    #[command(
        after_help = "Example:\n  gridtwin flood --dem data/helsinki/dem_synthetic.asc --city data/helsinki/city --rain-mm-per-hour 30 --hours 4 --out out/flood"
    )]
    Flood(flood::FloodArgs),
    /// Fire spread on H3 cells from a fire scene (scenes/fire.toml): cells, buildings, roads over time.
    #[command(after_help = "Example:\n  gridtwin fire scenes/fire.toml --seed 1 --out out/fire")]
    Fire(fire::FireArgs),
    /// Digital elevation models: a synthetic DEM for a city without one.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  gridtwin dem synth --city data/helsinki/city --out out/dem.asc"
    )]
    Dem(flood::DemCommand),
    /// Open the 3D viewer on a scene (scenes/demo.toml), or render a still with --screenshot.
    #[command(
        after_help = "Example:\n  gridtwin view --scene scenes/demo.toml --screenshot out/demo.png --at 10:30"
    )]
    View(view::ViewArgs),
}

/// A command that did not run to its end: the message the binary prints after
/// `error: ` and its exit code (2 usage, 3 input or output; see [`exit_code_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Parses `args` (the program name first) as the binary does, without exiting on a
/// usage error: clap's error, rendered, is the failure's message.
pub fn parse<I, T>(args: I) -> Result<Cli, Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args).map_err(|e| Failure {
        code: 2,
        message: e.render().to_string(),
    })
}

/// Runs a parsed command line: `Ok(0)` done, `Ok(1)` data rejected under `--strict` or
/// a check that found problems (the viewer's own code passes through).
pub fn execute(cli: Cli) -> Result<ExitCode, Failure> {
    gridtwin_io::limits::set_max_rows(cli.max_rows_in_memory);
    let data = tables::resolve(cli.data).map_err(|e| Failure {
        code: 2,
        message: format!("{e:#}"),
    })?;
    let result = match cli.command {
        Command::Assign(a) => assign::run(&data, a),
        Command::Aggregate(a) => aggregate::run(&data, a),
        Command::Import(a) => import::run(&data, a),
        Command::Grids(c) => grids::run(&data, c),
        Command::Info(a) => info::run(a),
        Command::Synth(a) => synth::run(&data, a),
        Command::Simulate(a) => simulate::run_simulate(a),
        Command::Vitals(a) => vitals::run(&data, a),
        Command::Calibrate(a) => calibrate::run(&data, a),
        Command::Backtest(a) => backtest::run(&data, a),
        Command::Report(a) => report::run(&data, a),
        Command::Compare(a) => simulate::run_compare(&data, a),
        Command::Flood(a) => flood::run_flood(a),
        Command::Dem(c) => flood::run_dem(c),
        Command::Fire(a) => fire::run(a),
        Command::View(a) => view::run(a),
    };
    result.map_err(|e| Failure {
        code: exit_code_of(&e),
        message: format!("{e:#}"),
    })
}

/// Exit codes: 0 done; 1 data rejected under `--strict` (or a check that found
/// problems); 2 a usage error — clap's, or a flag's value refused (our messages about
/// a flag begin with it: `--nearest-m must be …`); 3 an input or output error (a file
/// missing, unreadable or malformed, a scenario refused, a write that failed).
fn exit_code_of(e: &anyhow::Error) -> u8 {
    if e.to_string().starts_with("--") {
        2
    } else {
        3
    }
}
