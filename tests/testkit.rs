//! What the end-to-end tests share: the repository's path and running the installed
//! binary in a folder. Included by each test crate (`#[path = "testkit.rs"] mod testkit;`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs gridtwin in `dir`; its stdout, or a failure showing both streams.
pub fn ok_in(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Runs gridtwin in `dir`, whatever its outcome.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridtwin"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

/// Runs gridtwin from the repository root; its stdout, or a failure showing both
/// streams.
pub fn ok(args: &[&str]) -> String {
    ok_in(&repo(), args)
}

/// The files of a folder (not its subfolders), by name, with their bytes.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Runs gridtwin from the repository root, whatever its outcome.
pub fn run(args: &[&str]) -> Output {
    run_in(&repo(), args)
}

/// Runs gridtwin from the repository root with `RAYON_NUM_THREADS` set to `threads`
/// (if given), whatever its outcome.
pub fn gridtwin_env(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gridtwin"));
    c.args(args).current_dir(repo());
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().expect("runs")
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 2×2 unit grids of 0.01° in one community, codes NW=01, NE=02, SW=03, SE=04.
pub fn two_by_two(dir: &Path) -> PathBuf {
    let sq = |x: f64, y: f64| {
        format!(
            "\"POLYGON(({x} {y},{} {y},{} {},{x} {},{x} {y}))\"",
            x + 0.01,
            x + 0.01,
            y + 0.01,
            y + 0.01
        )
    };
    let text = format!(
        "code,wkt\n31010100100101,{}\n31010100100102,{}\n31010100100103,{}\n31010100100104,{}\n",
        sq(121.0, 31.01),
        sq(121.01, 31.01),
        sq(121.0, 31.0),
        sq(121.01, 31.0)
    );
    let p = dir.join("grids.csv");
    std::fs::write(&p, text).unwrap();
    p
}

/// The records of a CSV file (header left out), as text fields.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(|f| f.to_string()).collect())
        .collect()
}

/// The records of a CSV file as maps from column name to value.
pub fn csv_maps(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            h.iter()
                .zip(x.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}
