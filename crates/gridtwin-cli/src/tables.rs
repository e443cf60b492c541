//! The default data tables, built into the binary, so an installed `gridtwin` runs from
//! any folder: the code rule, categories, OSM tag map, road speeds, working calendar,
//! vital-sign thresholds, the indicators' names and directions, the synthetic
//! megacity's districts and the charts' font.
//!
//! Which tables a command reads: `--data DIR` when given; else `./data` when it holds a
//! `code_rule.toml` (the repository, or a user's own tables beside their work); else
//! the built-in ones, written once to a cache folder named by their content hash
//! (`$XDG_CACHE_HOME/gridtwin/`, `~/.cache/gridtwin/` or the temporary folder) so every
//! reader keeps reading files. A city directory's own `categories.csv` still wins for
//! that city (see `gridtwin_io::city_dir`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// (path under the data folder, contents).
const BUILT_IN: &[(&str, &[u8])] = &[
    (
        "code_rule.toml",
        include_bytes!("../../../data/code_rule.toml"),
    ),
    (
        "categories.csv",
        include_bytes!("../../../data/categories.csv"),
    ),
    (
        "osm_components.csv",
        include_bytes!("../../../data/osm_components.csv"),
    ),
    (
        "road_speeds.csv",
        include_bytes!("../../../data/road_speeds.csv"),
    ),
    (
        "calendar.toml",
        include_bytes!("../../../data/calendar.toml"),
    ),
    (
        "vitals_thresholds.csv",
        include_bytes!("../../../data/vitals_thresholds.csv"),
    ),
    (
        "indicators.csv",
        include_bytes!("../../../data/indicators.csv"),
    ),
    (
        "synth/shanghai_districts.csv",
        include_bytes!("../../../data/synth/shanghai_districts.csv"),
    ),
    (
        "fonts/DejaVuSans.ttf",
        include_bytes!("../../../data/fonts/DejaVuSans.ttf"),
    ),
    (
        "fonts/DejaVuSans.LICENSE",
        include_bytes!("../../../data/fonts/DejaVuSans.LICENSE"),
    ),
];

/// The data folder a command reads (see the module doc).
pub fn resolve(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d);
    }
    let local = Path::new("data");
    if local.join("code_rule.toml").is_file() {
        return Ok(local.to_path_buf());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("gridtwin");
    materialize(&base)
}

/// FNV-1a over the built-in files' names and bytes: a new binary with other tables
/// gets its own folder.
fn content_hash() -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for (name, bytes) in BUILT_IN {
        for b in name.bytes().chain([0]).chain(bytes.iter().copied()) {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Writes the built-in tables under `base` once (a folder renamed into place when
/// complete, so a reader never sees half of it) and returns their folder.
pub fn materialize(base: &Path) -> Result<PathBuf> {
    let dir = base.join(format!("data-{:016x}", content_hash()));
    if dir.join(".complete").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(base)
        .with_context(|| format!("{}: cannot write the built-in tables", base.display()))?;
    let tmp = base.join(format!(".data-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (name, bytes) in BUILT_IN {
        let path = tmp.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| path.display().to_string())?;
    }
    std::fs::write(tmp.join(".complete"), b"")?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // another run put them there first
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join(".complete").is_file() {
            anyhow::bail!("{}: cannot write the built-in tables", dir.display());
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_tables_are_the_repository_s_and_are_written_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = materialize(tmp.path()).unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        for (name, _) in BUILT_IN {
            assert_eq!(
                std::fs::read(dir.join(name)).unwrap(),
                std::fs::read(data.join(name)).unwrap(),
                "{name}"
            );
        }
        assert_eq!(materialize(tmp.path()).unwrap(), dir);
        // the tables load
        gridtwin_core::CodeRule::load(&dir.join("code_rule.toml")).unwrap();
    }
}
