//! `gridtwin simulate` and `gridtwin compare`: seeded replications of a scenario, and
//! a paired comparison of two runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};
use clap::Args;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;
use gridtwin_sim::compare::{compare, Verdict};
use gridtwin_sim::engine::World;
use gridtwin_sim::kpi::Estimate;
use gridtwin_sim::kpi::Kpis;
use gridtwin_sim::scenario::Scenario;
use gridtwin_sim::study::replicate_range;
use gridtwin_sim::study_tables::{
    backlog_csv, backlog_parquet, table_in, BacklogRow, KpiRow, KpiTable,
};
use gridtwin_sim::timeline::write_csv;
use gridtwin_sim::WorkingCalendar;

use crate::progress::bar;

#[derive(Args)]
pub struct SimulateArgs {
    /// Scenario file (TOML in scenes/), a baseline or a what-if overlay.
    scenario: PathBuf,
    /// Independent replications (seeded streams), at most --max-replications.
    #[arg(long, default_value_t = 10)]
    replications: u64,
    /// Seed of the first replication; the same seed gives the same outputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Start from this case history's state at the scenario's start (overrides the
    /// scenario's `[start_state] history`): the cases open then enter at the step
    /// they had reached.
    #[arg(long, value_name = "HISTORY")]
    start_from: Option<PathBuf>,
    /// Let the scenario name files (base, city, calendar, flood.dem) outside its own
    /// folder, the folder above it and the working folder.
    #[arg(long)]
    allow_outside_paths: bool,
    /// The most replications this command runs.
    #[arg(long, default_value_t = 10_000)]
    max_replications: u64,
    /// The longest run a scenario may ask, days.
    #[arg(long, default_value_t = gridtwin_sim::scenario::limits::DEFAULT.days)]
    max_days: f64,
    /// The most cases a scenario's arrival streams may be expected to make.
    #[arg(long, default_value_t = gridtwin_sim::scenario::limits::DEFAULT.cases)]
    max_cases: f64,
    /// The most crews a scenario may field.
    #[arg(long, default_value_t = gridtwin_sim::scenario::limits::DEFAULT.crews)]
    max_crews: u64,
    /// The format of each replication's case timeline and of the study's `kpis` and
    /// `backlog` tables: Parquet (the default; codes and categories
    /// dictionary-encoded, a fifth of the CSV's size and quicker to write) or CSV (the
    /// same columns and values). `vitals`, `report`, `compare`, `calibrate` and the
    /// viewer read both.
    #[arg(long, value_enum, default_value_t = TableFormat::Parquet, alias = "timeline-format")]
    format: TableFormat,
    /// Run only replications FIRST..END of the study (END excluded) and write their
    /// folders and a part file, to spread one study over machines
    /// (`gridtwin.dask.simulate`); `--gather` then writes the study's tables.
    #[arg(long, value_name = "FIRST..END", value_parser = crate::study_parts::parse_range, conflicts_with = "gather")]
    only_replications: Option<std::ops::Range<u64>>,
    /// Write the study's tables (kpis, summary, backlog, welch, manifest) from the part
    /// files runs with --only-replications left in OUT, byte for byte as one run would.
    #[arg(long)]
    gather: bool,
}

/// The file format of the timelines and tables `simulate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Csv,
    Parquet,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Output directory of `simulate` for scenario A (e.g. the baseline).
    a: PathBuf,
    /// Output directory of `simulate` for scenario B (the what-if).
    b: PathBuf,
    /// Directory (DIR) for compare.csv and the charts (default: B's directory).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn csv_bytes<T: serde::Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    write_csv(rows, &mut v)?;
    Ok(v)
}

/// A CSV field, quoted where it holds a comma, quote or line break (indicator names
/// carry department names).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

use gridtwin_sim::study_tables::six_decimals as fmt;

pub fn run_simulate(a: SimulateArgs) -> Result<ExitCode> {
    if a.replications == 0 || a.replications > a.max_replications {
        anyhow::bail!(
            "--replications {}: from 1 to {} (raise it with --max-replications)",
            a.replications,
            a.max_replications
        );
    }
    gridtwin_sim::scenario::limits::set(gridtwin_sim::scenario::limits::Limits {
        days: a.max_days,
        cases: a.max_cases,
        crews: a.max_crews,
        ..gridtwin_sim::scenario::limits::DEFAULT
    });
    let policy = if a.allow_outside_paths {
        gridtwin_sim::scenario::PathPolicy::Anywhere
    } else {
        gridtwin_sim::scenario::PathPolicy::NearScenario
    };
    let loaded = Scenario::load_with(&a.scenario, policy)?;
    let sc = loaded.scenario.clone();
    if a.gather {
        let (kpis, parts) = crate::study_parts::gather(&a.out, a.seed, a.replications)?;
        remove_stale_outputs(&a.out, a.replications)?;
        write_tables(&a, &loaded, &kpis)?;
        for p in parts {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
        write_manifest(&a.out, &loaded.files, a.seed, a.replications)?;
        println!("wrote {}", a.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let reps = a.only_replications.clone().unwrap_or(0..a.replications);
    if reps.end > a.replications {
        bail!(
            "--only-replications {}..{}: the study has replications 0..{}",
            reps.start,
            reps.end,
            a.replications
        );
    }
    let (city, table, q) = load_city(&sc.city)?;
    if q.totals().2 > 0 {
        eprintln!("{q}");
    }
    let calendar = WorkingCalendar::load(&sc.calendar)?;
    let mut world = World::new(sc.clone(), &city, &table, calendar)?;
    // a warm start: the cases open at the start in a history enter where they were
    let history = a
        .start_from
        .clone()
        .or_else(|| sc.start_state.as_ref().map(|s| s.history.clone()));
    if let Some(h) = history {
        let grids: Vec<gridtwin_core::Area> =
            city.areas_at(gridtwin_core::Level::Grid).cloned().collect();
        let assigner = gridtwin_core::assign::Assigner::new(
            &grids,
            &city.rule,
            gridtwin_core::locate::LocatorOptions::default(),
        );
        let reading = crate::history::Reading {
            assigner: &assigner,
            table: &table,
            utc_offset_s: WorkingCalendar::load(&sc.calendar)?.utc_offset_s(),
            whole: true,
        };
        let (cases, unreadable) = crate::history::read_history(&h, &reading)?;
        let st = world.start_from(&cases);
        println!(
            "start from {} at {}: {} open cases ({} awaiting verification, {} awaiting dispatch, {} with their department, {} awaiting the check)",
            h.display(),
            sc.start,
            st.awaiting_verification + st.awaiting_dispatch + st.with_department + st.awaiting_check,
            st.awaiting_verification,
            st.awaiting_dispatch,
            st.with_department,
            st.awaiting_check
        );
        for (why, n) in st
            .left_out
            .iter()
            .map(|(k, v)| (k, *v as u64))
            .chain(unreadable.iter().map(|(k, v)| (k, *v)))
        {
            println!("  left out: {n} rows, {why}");
        }
    }
    // the world holds what it needs of the city: its components (12 M in a megacity,
    // gigabytes) go before the replications' cases are made
    drop(city);
    std::fs::create_dir_all(&a.out)?;
    // The outputs are one set: the manifest, written last, says the run finished and
    // lists its files; it goes first, with replications a larger earlier run left, so
    // a killed re-run never looks complete beside old files.
    if a.only_replications.is_some() {
        // a slice: the study is not complete here until it is gathered
        match std::fs::remove_file(a.out.join(MANIFEST)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| a.out.join(MANIFEST).display().to_string())
            }
            _ => {}
        }
    } else {
        remove_stale_outputs(&a.out, a.replications)?;
    }
    let pb = bar(reps.end - reps.start, "replications");
    let done = AtomicU64::new(0);
    let mut took = 0.0;
    let mut events = 0u64;
    // Replications run in batches of the thread count; each batch's timelines are
    // written and dropped before the next (a megacity timeline is gigabytes).
    let batch = rayon::current_num_threads().max(1) as u64;
    let mut kpis: Vec<Kpis> = Vec::new();
    let mut from = reps.start;
    while from < reps.end {
        let to = (from + batch).min(reps.end);
        let t0 = std::time::Instant::now();
        let results = replicate_range(&world, a.seed, from..to, &|| {
            pb.set_position(done.fetch_add(1, Ordering::Relaxed) + 1);
        });
        took += t0.elapsed().as_secs_f64();
        // The batch's timelines are written side by side, a thread each: one
        // replication's writing (rows to columns on the pool, encoding on its writer
        // threads) leaves the cores idle part of the time. Each file's bytes are the
        // same whatever runs beside it; indicators and counts are taken in order.
        let written: Vec<Result<(u64, Kpis)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = results
                .into_iter()
                .enumerate()
                .map(|(i, (r, k))| {
                    let (a, world) = (&a, &world);
                    scope.spawn(move || -> Result<(u64, Kpis)> {
                        let dir = a.out.join(format!("rep_{:03}", from as usize + i));
                        remove_other_format(&dir, "timeline", a.format)?;
                        match a.format {
                            TableFormat::Csv => {
                                write_bytes_atomic(&dir.join("timeline.csv"), &r.timeline_csv()?)?
                            }
                            TableFormat::Parquet => {
                                let path = dir.join("timeline.parquet");
                                let name = path.display().to_string();
                                gridtwin_io::atomic::write_atomic(&path, |w| {
                                    r.write_timeline_parquet(w)
                                        .map_err(|e| gridtwin_io::IoError::write(&name, e))
                                })?
                            }
                        }
                        write_bytes_atomic(&dir.join("crews.csv"), &csv_bytes(&r.crews)?)?;
                        if world.scenario.signals.is_some() {
                            write_bytes_atomic(
                                &dir.join("contention.csv"),
                                &csv_bytes(&r.contention)?,
                            )?;
                        }
                        Ok((r.events, k))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        for w in written {
            let (e, k) = w?;
            events += e;
            kpis.push(k);
        }
        from = to;
    }
    pb.finish_and_clear();
    if a.only_replications.is_some() {
        crate::study_parts::write_part(&a.out, a.seed, a.replications, &reps, &kpis)?;
        println!(
            "wrote replications {}..{} of {} to {}",
            reps.start,
            reps.end,
            a.replications,
            a.out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    write_tables(&a, &loaded, &kpis)?;
    write_manifest(&a.out, &loaded.files, a.seed, a.replications)?;
    println!("wrote {}", a.out.display());
    eprintln!(
        "{events} events in {took:.2} s of simulation and indicators ({:.2} M events/s over all replications; writing timelines not counted)",
        events as f64 / took / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

/// The study's tables from every replication's indicators (in replication order):
/// the resolved scenario, kpis.csv, backlog.csv, welch.csv and summary.csv.
fn write_tables(
    a: &SimulateArgs,
    loaded: &gridtwin_sim::scenario::LoadedScenario,
    kpis: &[Kpis],
) -> Result<()> {
    let sc = &loaded.scenario;
    let merged = toml::to_string(&loaded.merged)?;
    let header = format!(
        "# Resolved scenario: {}\n# seed {}, {} replications\n",
        loaded
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" over "),
        a.seed,
        a.replications
    );
    write_bytes_atomic(&a.out.join("scenario.toml"), (header + &merged).as_bytes())?;
    // every indicator any replication has (a department with no case due in one
    // replication has no on-time rate there: an empty cell)
    let names: Vec<String> = kpis
        .iter()
        .flat_map(|k| k.values.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let value = |k: &gridtwin_sim::kpi::Kpis, n: &str| k.values.get(n).copied().unwrap_or(f64::NAN);
    let table = KpiTable {
        names: names.clone(),
        rows: kpis
            .iter()
            .enumerate()
            .map(|(rep, k)| KpiRow {
                rep: rep as u64,
                seed: a.seed,
                values: names.iter().map(|n| k.values.get(n).copied()).collect(),
            })
            .collect(),
    };
    let backlog: Vec<BacklogRow> = kpis
        .iter()
        .enumerate()
        .flat_map(|(rep, k)| {
            k.backlog.iter().map(move |&(time, open)| BacklogRow {
                rep: rep as u64,
                time,
                open,
            })
        })
        .collect();
    remove_other_format(&a.out, "kpis", a.format)?;
    remove_other_format(&a.out, "backlog", a.format)?;
    match a.format {
        TableFormat::Csv => {
            write_bytes_atomic(&a.out.join("kpis.csv"), &table.to_csv()?)?;
            write_bytes_atomic(&a.out.join("backlog.csv"), &backlog_csv(&backlog))?;
        }
        TableFormat::Parquet => {
            write_bytes_atomic(
                &a.out.join("kpis.parquet"),
                &table.to_parquet().map_err(anyhow::Error::msg)?,
            )?;
            write_bytes_atomic(
                &a.out.join("backlog.parquet"),
                &backlog_parquet(&backlog).map_err(anyhow::Error::msg)?,
            )?;
        }
    }
    // Welch's plot for choosing the warm-up: open cases from the simulation's start
    // (the warm-up included), averaged over replications and smoothed over a day.
    let series: Vec<Vec<u32>> = kpis
        .iter()
        .map(|k| {
            k.warmup_backlog
                .iter()
                .chain(&k.backlog)
                .map(|b| b.1)
                .collect()
        })
        .collect();
    let step_h = sc.sample_minutes / 60.0;
    let half_day = ((12.0 / step_h).round() as usize).max(1);
    let w = gridtwin_sim::kpi::welch(&series, half_day);
    let mut welch_text =
        String::from("hours_from_run_start,in_warmup,open_mean,open_moving_mean\n");
    let warm = kpis.first().map_or(0, |k| k.warmup_backlog.len());
    for (i, m, mm) in &w {
        welch_text.push_str(&format!(
            "{},{},{},{}\n",
            fmt(*i as f64 * step_h),
            *i < warm,
            fmt(*m),
            fmt(*mm)
        ));
    }
    write_bytes_atomic(&a.out.join("welch.csv"), welch_text.as_bytes())?;
    let mut summary = String::from("kpi,mean,ci95_lo,ci95_hi,replications\n");
    println!(
        "{} — {} replications, seed {}",
        sc.name, a.replications, a.seed
    );
    println!("{:<44} {:>12} {:>24}", "indicator", "mean", "95% CI");
    for (i, n) in names.iter().enumerate() {
        let v: Vec<f64> = kpis.iter().map(|k| value(k, n)).collect();
        let e = Estimate::of(&v);
        summary.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(n),
            fmt(e.mean),
            fmt(e.lo()),
            fmt(e.hi()),
            e.n
        ));
        println!(
            "{:<44} {:>12.3} {:>24}",
            n,
            e.mean,
            if e.half_width.is_finite() {
                format!("[{:.3}, {:.3}]", e.lo(), e.hi())
            } else {
                "-".into()
            }
        );
        let _ = i;
    }
    write_bytes_atomic(&a.out.join("summary.csv"), summary.as_bytes())?;
    Ok(())
}

/// The file that says a `simulate` output is complete.
const MANIFEST: &str = "manifest.json";

/// Removes the previous run's manifest and the replication folders beyond this run's.
fn remove_stale_outputs(out: &Path, replications: u64) -> Result<()> {
    match std::fs::remove_file(out.join(MANIFEST)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| out.join(MANIFEST).display().to_string()),
    }
    for e in std::fs::read_dir(out)?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(n) = name
            .strip_prefix("rep_")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if n >= replications && e.path().is_dir() {
            std::fs::remove_dir_all(e.path())
                .with_context(|| format!("removing the earlier run's {name}"))?;
        }
    }
    Ok(())
}

/// Removes table `name` in the format this run does not write, which an earlier run
/// may have left (readers take Parquet over CSV: a stale one would be read instead).
fn remove_other_format(dir: &Path, name: &str, format: TableFormat) -> Result<()> {
    let other = match format {
        TableFormat::Csv => "parquet",
        TableFormat::Parquet => "csv",
    };
    let path = dir.join(format!("{name}.{other}"));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing the earlier run's {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Every file of the run with its size, written last.
fn write_manifest(
    out: &Path,
    scenario_files: &[PathBuf],
    seed: u64,
    replications: u64,
) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)?.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name != MANIFEST && !name.starts_with('.') {
                let rel = p
                    .strip_prefix(out)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, e.metadata()?.len()));
            }
        }
    }
    files.sort();
    let json = serde_json::json!({
        "complete": true,
        "scenario": scenario_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "seed": seed,
        "replications": replications,
        "files": files.iter().map(|(p, n)| serde_json::json!({"path": p, "bytes": n})).collect::<Vec<_>>(),
    });
    write_bytes_atomic(
        &out.join(MANIFEST),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    Ok(())
}

/// Checks that `dir` holds a finished `simulate` run whose files are as its manifest
/// lists them (not a killed re-run beside an earlier run's files).
fn check_complete(dir: &Path) -> Result<()> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: no {MANIFEST}: not a finished `simulate` output (interrupted? run it again)",
            dir.display()
        )
    })?;
    let m: serde_json::Value =
        serde_json::from_str(&text).with_context(|| path.display().to_string())?;
    for f in m["files"].as_array().into_iter().flatten() {
        let (Some(rel), Some(bytes)) = (f["path"].as_str(), f["bytes"].as_u64()) else {
            anyhow::bail!("{}: a file entry without path and bytes", path.display());
        };
        let now = std::fs::metadata(dir.join(rel)).map(|m| m.len()).ok();
        if now != Some(bytes) {
            anyhow::bail!(
                "{}: {rel} is not the file the run wrote ({bytes} bytes listed, {}): the \
                 folder mixes runs; run simulate again",
                dir.display(),
                now.map_or("missing".to_string(), |n| format!("{n} now"))
            );
        }
    }
    Ok(())
}

/// Each replication's indicators: rep → indicator → value.
type RepKpis = BTreeMap<u64, BTreeMap<String, f64>>;

/// A finished run's indicators and its seed.
fn read_kpis(dir: &Path) -> Result<(RepKpis, Option<u64>)> {
    check_complete(dir)?;
    let path = table_in(dir, "kpis");
    let t = KpiTable::read(&path)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{} (is this a `simulate` output?)", dir.display()))?;
    let seed = t.rows.first().map(|r| r.seed);
    let out = t
        .rows
        .into_iter()
        .map(|r| {
            let m = t
                .names
                .iter()
                .zip(r.values)
                .map(|(k, v)| (k.clone(), v.unwrap_or(f64::NAN)))
                .collect();
            (r.rep, m)
        })
        .collect();
    Ok((out, seed))
}

/// The indicator table of `data`: names, units and which way is better.
fn indicator_table(data: &Path) -> Result<gridtwin_sim::compare::Indicators> {
    gridtwin_sim::compare::Indicators::load(&data.join("indicators.csv"))
        .map_err(anyhow::Error::msg)
}

pub fn run_compare(data: &Path, a: CompareArgs) -> Result<ExitCode> {
    let ((ka, seed_a), (kb, seed_b)) = (read_kpis(&a.a)?, read_kpis(&a.b)?);
    if seed_a != seed_b {
        bail!(
            "{} and {} were run with different seeds: a paired comparison needs the same seed",
            a.a.display(),
            a.b.display()
        );
    }
    let table = indicator_table(data)?;
    let offset_s = WorkingCalendar::load(&data.join("calendar.toml"))?.utc_offset_s();
    let diffs = compare(&ka, &kb);
    let out = a.out.clone().unwrap_or_else(|| a.b.clone());
    let (name_a, name_b) = crate::charts::run_names(&a.a, &a.b);
    println!("{name_a} ({})\n{name_b} ({})", a.a.display(), a.b.display());
    println!(
        "{:<44} {:>11} {:>11} {:>11} {:>24}  {:>9}  B vs A",
        "indicator", "A", "B", "B − A", "paired 95% CI of B − A", "better is"
    );
    let mut csv_text = String::from(
        "kpi,a_mean,b_mean,diff_mean,diff_ci95_lo,diff_ci95_hi,p_value,p_holm,significant,replications,better,verdict,name\n",
    );
    let mut unknown = Vec::new();
    for d in &diffs {
        let described = table.get(&d.kpi);
        if described.is_none() {
            unknown.push(d.kpi.as_str());
        }
        let described = described.unwrap_or_else(|| table.describe(&d.kpi));
        let verdict = d.verdict(described.better);
        let row = format!(
            "{:<44} {:>11.3} {:>11.3} {:>11.3} {:>24}  {:>9}  {}",
            d.kpi,
            d.a.mean,
            d.b.mean,
            d.diff.mean,
            if d.diff.half_width.is_finite() {
                format!("[{:.3}, {:.3}]", d.diff.lo(), d.diff.hi())
            } else {
                "-".into()
            },
            described.better.as_str(),
            match verdict {
                Verdict::Better => "B better *",
                Verdict::Worse => "B worse *",
                Verdict::Differs => "differs *",
                Verdict::NoDifference => "",
            }
        );
        println!("{}", row.trim_end());
        csv_text.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&d.kpi),
            fmt(d.a.mean),
            fmt(d.b.mean),
            fmt(d.diff.mean),
            fmt(d.diff.lo()),
            fmt(d.diff.hi()),
            fmt(d.p_value),
            fmt(d.p_adjusted),
            d.significant(),
            d.diff.n,
            described.better.as_str(),
            verdict.as_str(),
            csv_field(&described.name)
        ));
    }
    println!(
        "* B differs from A at 5 % over all {} indicators (paired t-test, Holm-adjusted p in \
         compare.csv); better or worse by the direction in indicators.csv",
        diffs.iter().filter(|d| !d.p_value.is_nan()).count()
    );
    if !unknown.is_empty() {
        // not an error: a new indicator still compares, it just has no direction yet
        eprintln!(
            "{} indicator(s) not in {} (no better direction, shown as neither): {}",
            unknown.len(),
            data.join("indicators.csv").display(),
            unknown.join(", ")
        );
    }
    write_bytes_atomic(&out.join("compare.csv"), csv_text.as_bytes())?;
    crate::charts::write_charts(data, &a.a, &a.b, &out, offset_s)?;
    println!(
        "wrote {} and charts backlog.{{png,svg}}, response.{{png,svg}}",
        out.join("compare.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}
