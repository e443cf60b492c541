//! Reading a scenario: the overlay chain, each file checked on its own, paths kept
//! near the scenario, the tables merged, then the merged values checked.

use std::path::{Path, PathBuf};

use super::file_check::FileCheck;
use super::{LoadedScenario, Scenario, ScenarioError};

/// Overlays `over` on `base` table by table; a distribution (a table with a `dist`
/// key) is one value and replaces the base's whole (`{dist = "fixed", minutes = 30}`
/// over an `exp` must not keep its `mean`).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if !o.contains_key("dist") => {
                merge(b, o)
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The largest scenario file read (a scenario is a few kB; `base = "/dev/zero"` read
/// until memory ran out).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Where the files a scenario names (`base`, `city`, `calendar`, `flood.dem`) may lie.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PathPolicy {
    /// Under the scenario file's folder, or the folder above it (a project's
    /// `scenes/` beside its `data/`), or the working folder.
    #[default]
    NearScenario,
    /// Anywhere (`--allow-outside-paths`).
    Anywhere,
}

/// Reads a scenario file: a regular file of at most [`MAX_SCENARIO_BYTES`].
fn read_scenario_text(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(format!(
            "{} bytes: a scenario file is at most {MAX_SCENARIO_BYTES}",
            meta.len()
        ));
    }
    std::fs::read_to_string(p).map_err(|e| e.to_string())
}

/// A TOML error without the text it quotes (a file that is not TOML at all, such as
/// `/etc/passwd` named as a base, must not be echoed): the message and its place.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

/// Whether `target` lies where `policy` allows for a scenario at `scenario`.
fn allowed(target: &Path, scenario: &Path, policy: PathPolicy) -> bool {
    if policy == PathPolicy::Anywhere {
        return true;
    }
    // resolved as far as it exists (`..` and links), so `../../etc` is seen for what
    // it is
    let resolve = |p: &Path| {
        let mut existing = p.to_path_buf();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(n), Some(parent)) => {
                    rest.push(n.to_os_string());
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut r = std::fs::canonicalize(&existing).unwrap_or(existing);
        for n in rest.into_iter().rev() {
            r.push(n);
        }
        r
    };
    let t = resolve(target);
    let dir = resolve(scenario.parent().unwrap_or(Path::new(".")));
    let roots = [
        Some(dir.clone()),
        dir.parent().map(Path::to_path_buf),
        std::env::current_dir().ok().map(|c| resolve(&c)),
    ];
    roots.iter().flatten().any(|r| t.starts_with(r))
}

impl Scenario {
    /// Loads a scenario file and the chain of bases it overlays; the files it names
    /// must lie near it (see [`PathPolicy::NearScenario`]).
    pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
        Scenario::load_with(path, PathPolicy::default())
    }

    /// Loads a scenario file and its bases, with the files it names where `policy`
    /// allows.
    pub fn load_with(path: &Path, policy: PathPolicy) -> Result<LoadedScenario, ScenarioError> {
        let mut chain: Vec<(PathBuf, toml::Table)> = Vec::new();
        let mut next = Some(path.to_path_buf());
        while let Some(p) = next.take() {
            if chain.len() > 16 || chain.iter().any(|(q, _)| q == &p) {
                return Err(ScenarioError::File {
                    file: p.display().to_string(),
                    message: "overlay chain loops or is too long".into(),
                });
            }
            let file = p.display().to_string();
            let text = read_scenario_text(&p).map_err(|message| ScenarioError::File {
                file: file.clone(),
                message,
            })?;
            // (not TOML at all: say so without quoting it)
            let mut table: toml::Table =
                toml::from_str(&text).map_err(|e| ScenarioError::File {
                    file: file.clone(),
                    message: format!("not a scenario (TOML): {}", toml_error(&text, &e)),
                })?;
            toml::from_str::<FileCheck>(&text).map_err(|e| ScenarioError::File {
                file: file.clone(),
                message: e.to_string(),
            })?;
            if let Some(base) = table.remove("base") {
                let base = base.as_str().ok_or_else(|| ScenarioError::File {
                    file: file.clone(),
                    message: "`base` must be a file name".into(),
                })?;
                let b = p.parent().unwrap_or(Path::new(".")).join(base);
                if !allowed(&b, path, policy) {
                    return Err(ScenarioError::File {
                        file: file.clone(),
                        message: format!(
                            "`base` {base} lies outside the scenario's folders; \
                             allow it with --allow-outside-paths"
                        ),
                    });
                }
                next = Some(b);
            }
            // Paths in a file are relative to that file.
            let dir = p.parent().unwrap_or(Path::new(".")).to_path_buf();
            let outside = |key: &str, s: &str| ScenarioError::File {
                file: file.clone(),
                message: format!(
                    "`{key}` {s} lies outside the scenario's folders; allow it with \
                     --allow-outside-paths"
                ),
            };
            for key in ["city", "calendar"] {
                if let Some(toml::Value::String(s)) = table.get(key) {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside(key, s));
                    }
                    let joined = joined.display().to_string();
                    table.insert(key.into(), toml::Value::String(joined));
                }
            }
            if let Some(toml::Value::Table(f)) = table.get_mut("start_state") {
                if let Some(toml::Value::String(s)) = f.get("history") {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside("start_state.history", s));
                    }
                    let joined = joined.display().to_string();
                    f.insert("history".into(), toml::Value::String(joined));
                }
            }
            if let Some(toml::Value::Table(f)) = table.get_mut("flood") {
                if let Some(toml::Value::String(s)) = f.get("dem") {
                    let joined = dir.join(s);
                    if !allowed(&joined, path, policy) {
                        return Err(outside("flood.dem", s));
                    }
                    let joined = joined.display().to_string();
                    f.insert("dem".into(), toml::Value::String(joined));
                }
            }
            chain.push((p, table));
        }
        let files: Vec<PathBuf> = chain.iter().map(|(p, _)| p.clone()).collect();
        let names = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" over ");
        let mut merged = toml::Table::new();
        for (_, t) in chain.into_iter().rev() {
            merge(&mut merged, t);
        }
        // (a mode is an enum: its key named here, where a parse error would not)
        for (table, key, allowed) in [
            (
                "travel",
                "mode",
                &["roads", "straight", "drawn", "none"][..],
            ),
            ("discovery", "mode", &["channels", "immediate"][..]),
        ] {
            let given = merged.get(table).and_then(|t| t.get(key));
            if let Some(v) = given.filter(|v| !v.as_str().is_some_and(|m| allowed.contains(&m))) {
                return Err(ScenarioError::Value {
                    files: names.clone(),
                    key: format!("{table}.{key}"),
                    message: format!("`{}`: expected {}", v, allowed.join(", ")),
                });
            }
        }
        let scenario: Scenario =
            toml::Value::Table(merged.clone())
                .try_into()
                .map_err(|e: toml::de::Error| ScenarioError::Value {
                    files: names.clone(),
                    key: "(scenario)".into(),
                    message: e.message().to_string(),
                })?;
        scenario
            .check()
            .map_err(|(key, message)| ScenarioError::Value {
                files: names.clone(),
                key,
                message,
            })?;
        Ok(LoadedScenario {
            scenario,
            files,
            merged,
        })
    }
}
