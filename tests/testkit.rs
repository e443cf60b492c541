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
