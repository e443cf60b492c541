//! One `simulate` study spread over machines: `--only-replications FIRST..END` runs a
//! slice of the replications and leaves, beside their folders, a part file with their
//! indicators; `--gather` reads the parts and writes the study's tables as one run
//! would, byte for byte (each replication's randomness depends only on the seed and
//! its index, so where it ran does not matter).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use gridtwin_sim::kpi::Kpis;
use serde::{Deserialize, Serialize};

/// A part file: the slice's replications and their indicators.
#[derive(Serialize, Deserialize)]
struct Part {
    seed: u64,
    replications: u64,
    first: u64,
    end: u64,
    kpis: Vec<PartKpis>,
}

/// One replication's indicators; numbers as Rust writes them (`{:?}`: the shortest
/// text that reads back to the same f64, NaN and infinities included).
#[derive(Serialize, Deserialize)]
struct PartKpis {
    values: Vec<(String, String)>,
    backlog: Vec<(i64, u32)>,
    warmup_backlog: Vec<(i64, u32)>,
}

/// Parses `FIRST..END` (END excluded).
pub fn parse_range(s: &str) -> Result<Range<u64>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}`: FIRST..END, e.g. 0..4"))?;
    let (a, b) = (
        a.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{a}` is not a replication index"))?,
        b.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{b}` is not a replication index"))?,
    );
    if a >= b {
        return Err(format!("`{s}`: the range is empty (END is excluded)"));
    }
    Ok(a..b)
}

fn part_path(out: &Path, reps: &Range<u64>) -> PathBuf {
    out.join(format!("part_{:06}_{:06}.json", reps.start, reps.end))
}

/// Writes the part file of replications `reps` (their indicators in order).
pub fn write_part(
    out: &Path,
    seed: u64,
    replications: u64,
    reps: &Range<u64>,
    kpis: &[Kpis],
) -> Result<()> {
    let part = Part {
        seed,
        replications,
        first: reps.start,
        end: reps.end,
        kpis: kpis
            .iter()
            .map(|k| PartKpis {
                values: k
                    .values
                    .iter()
                    .map(|(n, v)| (n.clone(), format!("{v:?}")))
                    .collect(),
                backlog: k.backlog.clone(),
                warmup_backlog: k.warmup_backlog.clone(),
            })
            .collect(),
    };
    gridtwin_io::atomic::write_bytes_atomic(&part_path(out, reps), &serde_json::to_vec(&part)?)?;
    Ok(())
}

/// Reads every part file in `out`, checks that together they hold replications
/// `0..replications` of this seed exactly once, and returns the indicators in order
/// with the part files (to remove once the study's tables are written).
pub fn gather(out: &Path, seed: u64, replications: u64) -> Result<(Vec<Kpis>, Vec<PathBuf>)> {
    let mut by_rep: BTreeMap<u64, Kpis> = BTreeMap::new();
    let mut files = Vec::new();
    let entries = std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !(name.starts_with("part_") && name.ends_with(".json")) {
            continue;
        }
        let path = e.path();
        let text = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let part: Part = serde_json::from_slice(&text).with_context(|| {
            format!(
                "{}: not a part file of simulate --only-replications",
                path.display()
            )
        })?;
        if part.seed != seed || part.replications != replications {
            bail!(
                "{}: a part of a study with seed {} and {} replications, not seed {seed} and {replications}",
                path.display(),
                part.seed,
                part.replications
            );
        }
        if part.kpis.len() as u64 != part.end.saturating_sub(part.first) {
            bail!(
                "{}: {} replications listed for {}..{}",
                path.display(),
                part.kpis.len(),
                part.first,
                part.end
            );
        }
        for (rep, k) in (part.first..part.end).zip(part.kpis) {
            let values = k
                .values
                .into_iter()
                .map(|(n, v)| {
                    let x = v
                        .parse::<f64>()
                        .with_context(|| format!("{}: `{v}` is not a number", path.display()))?;
                    Ok((n, x))
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            let kpis = Kpis {
                values,
                backlog: k.backlog,
                warmup_backlog: k.warmup_backlog,
            };
            if by_rep.insert(rep, kpis).is_some() {
                bail!("{}: replication {rep} is in two part files", out.display());
            }
        }
        files.push(path);
    }
    let missing: Vec<String> = (0..replications)
        .filter(|r| !by_rep.contains_key(r))
        .map(|r| r.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: replications {} have no part file (run simulate --only-replications for them first)",
            out.display(),
            missing.join(", ")
        );
    }
    if let Some(extra) = by_rep.keys().find(|&&r| r >= replications) {
        bail!(
            "{}: a part holds replication {extra}, beyond the study's {replications}",
            out.display()
        );
    }
    files.sort();
    Ok((by_rep.into_values().collect(), files))
}
