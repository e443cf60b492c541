//! What the end-to-end tests share: the repository's path and running the installed
//! binary in a folder. Included by each test crate (`#[path = "testkit.rs"] mod testkit;`).
#![allow(dead_code)]

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
