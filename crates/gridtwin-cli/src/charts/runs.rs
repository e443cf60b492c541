//! What a chart reads from a `simulate` run: its name for people, the backlog's 95 %
//! band across replications, and the response times.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use gridtwin_sim::kpi::{CaseTimes, Estimate};
use gridtwin_sim::timeline::{read_records, timeline_in, CaseRecord};

/// The name of a `simulate` run for people: its scenario's `name` (in the
/// `scenario.toml` the run wrote), else the folder's own name.
pub fn run_name(dir: &Path) -> String {
    let from_scenario = std::fs::read_to_string(dir.join("scenario.toml"))
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| t.get("name")?.as_str().map(str::trim).map(String::from))
        .filter(|n| !n.is_empty());
    from_scenario.unwrap_or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| dir.display().to_string())
    })
}

/// Open cases at one sample time across replications: (Unix seconds, mean, lower and
/// upper end of the 95 % band).
pub(super) type BacklogPoint = (i64, f64, f64, f64);

/// Backlog per sample time across replications, and the number of replications.
pub(super) fn backlog_bands(dir: &Path) -> Result<(Vec<BacklogPoint>, usize)> {
    let path = gridtwin_sim::study_tables::table_in(dir, "backlog");
    let rows = gridtwin_sim::study_tables::read_backlog(&path).map_err(|e| anyhow!(e))?;
    let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let mut reps = std::collections::BTreeSet::new();
    for r in rows {
        reps.insert(r.rep);
        by_time.entry(r.time).or_default().push(r.open as f64);
    }
    if by_time.is_empty() {
        anyhow::bail!("{}: empty", path.display());
    }
    let bands = by_time
        .into_iter()
        .map(|(t, v)| {
            let e = Estimate::of(&v);
            let hw = if e.half_width.is_finite() {
                e.half_width
            } else {
                0.0
            };
            (t, e.mean, (e.mean - hw).max(0.0), e.mean + hw)
        })
        .collect();
    Ok((bands, reps.len()))
}

/// Response times (intake → first crew on site), minutes, sorted, over all
/// replications: of registered cases not held back by an escalation ladder, the basis
/// of `response_p50_min` and `response_p90_min`.
pub(super) fn responses(dir: &Path) -> Result<Vec<f64>> {
    let mut reps: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| timeline_in(&e.path())))
        .filter(|p| p.exists())
        .collect();
    reps.sort();
    let mut v = Vec::new();
    for p in reps {
        let cases: Vec<CaseRecord> = read_records(&p).map_err(anyhow::Error::msg)?;
        v.extend(
            cases
                .iter()
                .filter(|c| !c.not_registered() && !c.laddered())
                .filter_map(|c| Some((c.first_arrived_at()? - c.intake_at()?) as f64 / 60.0))
                .filter(|m| m.is_finite() && *m >= 0.0),
        );
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v)
}

/// Legend names of runs `a` and `b`: `A: <scenario name>`; the folder's name is added
/// when both runs bear the same scenario name, so the two can still be told apart.
pub fn run_names(a: &Path, b: &Path) -> (String, String) {
    let (na, nb) = (run_name(a), run_name(b));
    if na == nb {
        let folder = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        };
        (
            format!("A: {na} ({})", folder(a)),
            format!("B: {nb} ({})", folder(b)),
        )
    } else {
        (format!("A: {na}"), format!("B: {nb}"))
    }
}
