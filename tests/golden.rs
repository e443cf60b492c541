//! The simulation's outputs, byte for byte, against digests recorded before a
//! refactoring: three scenes (the baseline, the Thursday rainstorm, signal contention)
//! at a fixed seed, every file `simulate` writes. A change that moves one number in one
//! timeline fails here, naming the file.
//!
//! A change meant to alter the model records new digests: run
//! `GRIDTWIN_BLESS=1 cargo test --test golden` and commit `tests/golden/simulate.txt`
//! with the change that explains it.

use std::collections::BTreeMap;
use std::path::Path;

#[path = "testkit.rs"]
mod testkit;
use testkit::repo;

/// The scenes, their seed and replications.
const SCENES: [&str; 3] = ["baseline", "rainstorm_thursday_noon", "signal_contention"];
const SEED: &str = "7";
const REPLICATIONS: &str = "2";

/// FNV-1a, 64 bits: a digest to notice change, not to resist an adversary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Every output file of a run (its path inside the run) with its size and digest; the
/// manifest is left out (it names where the scenario was read from).
fn digests(run: &Path) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![run.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(run)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "manifest.json" {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            out.insert(rel, (bytes.len() as u64, fnv1a(&bytes)));
        }
    }
    out
}

#[test]
fn simulate_outputs_match_the_recorded_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let mut now = String::new();
    for scene in SCENES {
        let out = tmp.path().join(scene);
        testkit::ok_in(
            &repo(),
            &[
                "simulate",
                &format!("scenes/{scene}.toml"),
                "--replications",
                REPLICATIONS,
                "--seed",
                SEED,
                "--out",
                out.to_str().unwrap(),
                // the CSV, whose bytes are the record (Parquet's bytes depend on the
                // encoder's version; its values are checked against the CSV's in
                // `simulate_vitals`)
                "--format",
                "csv",
            ],
        );
        for (file, (bytes, digest)) in digests(&out) {
            now.push_str(&format!("{scene} {file} {bytes} {digest:016x}\n"));
        }
    }
    let recorded = repo().join("tests/golden/simulate.txt");
    if std::env::var_os("GRIDTWIN_BLESS").is_some() {
        std::fs::write(&recorded, &now).unwrap();
        return;
    }
    let before = std::fs::read_to_string(&recorded).unwrap();
    let (before, now): (Vec<&str>, Vec<&str>) = (before.lines().collect(), now.lines().collect());
    let changed: Vec<String> = before
        .iter()
        .filter(|l| !now.contains(l))
        .map(|l| format!("was: {l}"))
        .chain(
            now.iter()
                .filter(|l| !before.contains(l))
                .map(|l| format!("now: {l}")),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "simulate's outputs changed (scene, file, bytes, digest):\n{}",
        changed.join("\n")
    );
}
