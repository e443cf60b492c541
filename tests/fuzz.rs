//! Deterministic mutation fuzzing of every reader (issue 14): CSV, GeoJSON,
//! FlatGeobuf, GeoParquet, OSM PBF, ESRI ASCII DEMs, scenario TOML and case
//! timelines. Each reader gets 2,000 seeded mutations of a real file (bit flips,
//! truncation, inserted, deleted and duplicated bytes, shuffled lines, swapped fields,
//! extreme numbers) and must, for every one:
//! - not panic (each reader runs in a child process; a panic or abort fails the test
//!   and names the case);
//! - stay within memory: the child runs under an address-space limit of 3 GiB;
//! - stay within time: 10 s a case (debug build);
//! - end in a clean error, or account for every record: results numbered 1..=N with
//!   no gap, each loaded or rejected with its number.
//!
//! A case is reproduced with `GRIDTWIN_FUZZ_READER=<reader> GRIDTWIN_FUZZ_CASE=<n>`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

const CASES: u64 = 2000;
const READERS: [&str; 10] = [
    "csv", "geojson", "fgb", "parquet", "asc", "scenario", "timeline", "osm", "shp", "gpkg",
];

/// SplitMix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const EXTREMES: [&str; 10] = [
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "18446744073709551615",
    "-9223372036854775808",
    "0",
    "-0",
    "1e-300",
    "4294967296",
];

/// One seeded mutation of `seed` (1 to 3 edits).
fn mutate(seed: &[u8], case: u64, text: bool) -> Vec<u8> {
    let mut r = Rng(case.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5eed);
    let mut b = seed.to_vec();
    for _ in 0..1 + r.below(3) {
        let n = b.len();
        match r.below(if text { 9 } else { 6 }) {
            0 => {
                // bit flips
                for _ in 0..1 + r.below(4) {
                    if n > 0 {
                        let i = r.below(n);
                        b[i] ^= 1 << r.below(8);
                    }
                }
            }
            1 => b.truncate(r.below(n + 1)),
            2 => {
                let i = r.below(n + 1);
                let len = 1 + r.below(16);
                let junk: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
                b.splice(i..i, junk);
            }
            3 => {
                let i = r.below(n + 1);
                let j = (i + 1 + r.below(64)).min(n);
                b.drain(i..j.max(i));
            }
            4 => {
                // duplicate a range
                let i = r.below(n + 1);
                let j = (i + 1 + r.below(256)).min(n);
                let part = b[i..j.max(i)].to_vec();
                let at = r.below(b.len() + 1);
                b.splice(at..at, part);
            }
            5 => {
                // a byte set to an extreme value
                if n > 0 {
                    let i = r.below(n);
                    b[i] = [0u8, 0xFF, 0x7F, 0x80][r.below(4)];
                }
            }
            6 => {
                // shuffle two lines
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                if lines.len() > 2 {
                    let (i, j) = (r.below(lines.len()), r.below(lines.len()));
                    lines.swap(i, j);
                }
                b = lines.join(&b'\n');
            }
            7 => {
                // swap two comma-separated fields on one line
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                if !lines.is_empty() {
                    let li = r.below(lines.len());
                    let mut f: Vec<Vec<u8>> = lines[li]
                        .split(|&c| c == b',')
                        .map(<[u8]>::to_vec)
                        .collect();
                    if f.len() > 1 {
                        let (i, j) = (r.below(f.len()), r.below(f.len()));
                        f.swap(i, j);
                    }
                    lines[li] = f.join(&b',');
                }
                b = lines.join(&b'\n');
            }
            _ => {
                // a number replaced by an extreme one
                let s = String::from_utf8_lossy(&b).to_string();
                let spans: Vec<(usize, usize)> = {
                    let bytes = s.as_bytes();
                    let mut v = Vec::new();
                    let mut i = 0;
                    while i < bytes.len() {
                        if bytes[i].is_ascii_digit() {
                            let st = i;
                            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.')
                            {
                                i += 1;
                            }
                            v.push((st, i));
                        } else {
                            i += 1;
                        }
                    }
                    v
                };
                if !spans.is_empty() {
                    let (st, en) = spans[r.below(spans.len())];
                    let mut t = s.clone();
                    t.replace_range(st..en, EXTREMES[r.below(EXTREMES.len())]);
                    b = t.into_bytes();
                }
            }
        }
    }
    b
}

/// Results numbered 1..=N without a gap: every record loaded or rejected once.
fn accounted(numbers: &[u64]) -> Result<(), String> {
    for (i, &n) in numbers.iter().enumerate() {
        if n != i as u64 + 1 {
            return Err(format!("result {} has record number {n}", i + 1));
        }
    }
    Ok(())
}

/// The seed file of a reader, and whether it is text.
fn seed_file(reader: &str, dir: &Path) -> (PathBuf, bool) {
    use gridtwin_io::record::{FieldType, Table, Value};
    let repo = repo();
    match reader {
        "csv" => {
            let text =
                std::fs::read_to_string(repo.join("data/helsinki/city/components.csv")).unwrap();
            let p = dir.join("seed.csv");
            std::fs::write(
                &p,
                text.lines().take(40).collect::<Vec<_>>().join("\n") + "\n",
            )
            .unwrap();
            (p, true)
        }
        "geojson" | "fgb" | "parquet" | "gpkg" => {
            let mut t = Table::new(&[
                ("code", FieldType::Text),
                ("n", FieldType::Int),
                ("x", FieldType::Float),
            ]);
            for i in 0..12 {
                let (x, y) = (24.93 + i as f64 * 0.002, 60.16 + i as f64 * 0.001);
                let g = geo::Geometry::Point(geo::Point::new(x, y));
                t.push(
                    Some(g),
                    vec![
                        Value::Text(format!("99010100100{i:03}")),
                        Value::Int(i),
                        Value::Float(i as f64 / 3.0),
                    ],
                );
            }
            let p = dir.join(format!("seed.{reader}"));
            gridtwin_io::write_table(&p, &t).unwrap();
            (p, reader == "geojson")
        }
        "shp" => {
            // polygons: a Shapefile's .shp, .shx, .dbf (and .prj)
            let mut t = Table::new(&[("code", FieldType::Text), ("n", FieldType::Int)]);
            for i in 0..12 {
                let x = 24.93 + i as f64 * 0.002;
                let ring = vec![
                    (x, 60.16),
                    (x + 0.001, 60.16),
                    (x + 0.001, 60.161),
                    (x, 60.161),
                    (x, 60.16),
                ];
                let g = geo::Geometry::Polygon(geo::Polygon::new(ring.into(), vec![]));
                t.push(
                    Some(g),
                    vec![Value::Text(format!("99010100100{i:03}")), Value::Int(i)],
                );
            }
            let p = dir.join("seed.shp");
            gridtwin_io::write_table(&p, &t).unwrap();
            (p, false)
        }
        "asc" => {
            let p = dir.join("seed.asc");
            let mut s = String::from("ncols 12\nnrows 10\nxllcorner 24.93\nyllcorner 60.16\ncellsize 0.0001\nNODATA_value -9999\n");
            for r in 0..10 {
                let row: Vec<String> = (0..12)
                    .map(|c| format!("{}", (r * 7 + c * 3) % 11))
                    .collect();
                s.push_str(&row.join(" "));
                s.push('\n');
            }
            std::fs::write(&p, s).unwrap();
            (p, true)
        }
        "scenario" => {
            // the baseline, with its paths made absolute names inside the fuzz folder
            let text = std::fs::read_to_string(repo.join("scenes/baseline.toml")).unwrap();
            let city = dir.join("city");
            if !city.exists() {
                std::os::unix::fs::symlink(repo.join("data/helsinki/city"), &city).unwrap();
                std::os::unix::fs::symlink(
                    repo.join("data/calendar.toml"),
                    dir.join("calendar.toml"),
                )
                .unwrap();
            }
            let text = text
                .replace("../data/helsinki/city", "city")
                .replace("../data/calendar.toml", "calendar.toml");
            let p = dir.join("seed.toml");
            std::fs::write(&p, text).unwrap();
            (p, true)
        }
        "timeline" => {
            let p = dir.join("seed_timeline.csv");
            let mut s = String::from(
                "case_id,kind,category,grid_code,community_code,street_code,district_code,lon,lat,occurred_at,intake_at,source,verified_at,ladder,dispatched_at,crew,assigned_at,arrived_at,handled_at,feedback_at,checked_at,closed_at,closed_by,deadline,escalated,preempted,signal_delay_s,cut_off_s,satisfaction\n",
            );
            for i in 0..15i64 {
                let t = 1_741_000_000 + i * 1800;
                s.push_str(&format!(
                    "C{:07},event,0501,99010100100{:03},990101001001,990101001,990101,24.94{},60.17{},{t},{},hotline,{},,{},crew_{},{},{},{},{},{},{},crew,{},false,0,0,0,0.{}\n",
                    i + 1,
                    1 + i % 5,
                    i % 10,
                    i % 7,
                    t + 60,
                    t + 120,
                    t + 180,
                    i % 3,
                    t + 200,
                    t + 900,
                    t + 2000,
                    t + 2100,
                    t + 2200,
                    t + 2300,
                    t + 86_400,
                    i % 10
                ));
            }
            std::fs::write(&p, s).unwrap();
            (p, true)
        }
        "osm" => {
            // the Helsinki extract's header blob and first data blob: a real PBF, small
            let b = std::fs::read(repo.join("data/helsinki/Helsinki.osm.pbf")).unwrap();
            let mut at = 0usize;
            for _ in 0..2 {
                let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
                let header = &b[at + 4..at + 4 + len];
                // BlobHeader field 3 (datasize), a varint
                let mut i = 0;
                let mut datasize = 0usize;
                while i < header.len() {
                    let key = header[i];
                    i += 1;
                    let mut v = 0usize;
                    let mut shift = 0;
                    match key & 7 {
                        0 => loop {
                            let c = header[i];
                            i += 1;
                            v |= ((c & 0x7F) as usize) << shift;
                            shift += 7;
                            if c & 0x80 == 0 {
                                break;
                            }
                        },
                        2 => {
                            loop {
                                let c = header[i];
                                i += 1;
                                v |= ((c & 0x7F) as usize) << shift;
                                shift += 7;
                                if c & 0x80 == 0 {
                                    break;
                                }
                            }
                            i += v;
                        }
                        _ => panic!("unexpected wire type"),
                    }
                    if key >> 3 == 3 {
                        datasize = v;
                    }
                }
                at += 4 + len + datasize;
            }
            let p = dir.join("seed.osm.pbf");
            std::fs::write(&p, &b[..at]).unwrap();
            (p, false)
        }
        _ => unreachable!(),
    }
}

/// Reads `path` with `reader`: Ok(record numbers) or a clean error.
fn read(reader: &str, path: &Path) -> Result<Vec<u64>, String> {
    match reader {
        "csv" | "geojson" | "fgb" | "parquet" | "shp" | "gpkg" => {
            let recs = gridtwin_io::read_records(path).map_err(|e| e.to_string())?;
            Ok(recs
                .map(|r| match r {
                    Ok(rec) => rec.number,
                    Err(rej) => rej.record,
                })
                .collect())
        }
        "asc" => {
            let text = std::fs::read(path).map_err(|e| e.to_string())?;
            let text = String::from_utf8(text).map_err(|e| e.to_string())?;
            let dem =
                gridtwin_core::dem::Dem::from_asc(&text, "f.asc").map_err(|e| e.to_string())?;
            // and flooded: the model must take whatever the reader accepts
            if dem.cols() * dem.rows() <= 1 << 16 {
                let n = dem.cols() * dem.rows();
                let f = gridtwin_core::flood::fill_spill_merge(&dem, &vec![0.05; n], 1.0);
                if (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs() > 1e-6 * f.rain_m3.max(1.0) {
                    return Ok(vec![0]); // (not conserved: reported as a gap)
                }
            }
            Ok(Vec::new())
        }
        "scenario" => {
            let s = gridtwin_sim::scenario::Scenario::load(path).map_err(|e| e.to_string())?;
            let _ = s;
            Ok(Vec::new())
        }
        "timeline" => {
            let cases: Vec<gridtwin_sim::timeline::CaseRecord> =
                gridtwin_sim::timeline::read_csv(path)?;
            let level = gridtwin_sim::vitals::AreaLevel::CodePrefix(14);
            let n = cases.len();
            let (ok, out) = gridtwin_sim::vitals::screen(cases, level);
            if ok.len() + out.len() != n {
                return Ok(vec![0]);
            }
            if !ok.is_empty() {
                let (start, end) = gridtwin_sim::vitals::span(&ok, 3600, 0);
                if (end - start) / 3600 < 100_000 {
                    let _ =
                        gridtwin_sim::vitals::vitals(&ok, level, start, end, 3600, 50.0, 3600, 5);
                }
            }
            Ok(Vec::new())
        }
        "osm" => {
            let tables = gridtwin_io::city_dir::DataTables::load(&repo().join("data"))?;
            let loader = gridtwin_io::Loader::new(&tables.rule, &tables.table);
            gridtwin_io::osm::read_osm(path, &tables.tags, &tables.speeds, &loader)
                .map_err(|e| e.to_string())?;
            Ok(Vec::new())
        }
        _ => unreachable!(),
    }
}

/// The child: every case of one reader, under the parent's limits.
fn child(reader: &str, only: Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let (seed_path, text) = seed_file(reader, dir.path());
    let seed = std::fs::read(&seed_path).unwrap();
    // the unmutated seed reads cleanly and completely
    let clean =
        read(reader, &seed_path).unwrap_or_else(|e| panic!("{reader}: the seed fails: {e}"));
    accounted(&clean).unwrap();
    let ext = seed_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap();
    let cases: Vec<u64> = match only {
        Some(c) => vec![c],
        None => (0..CASES).collect(),
    };
    for case in cases {
        eprintln!("FUZZ {reader} {case}");
        let p = dir.path().join(format!("case.{ext}"));
        if reader == "shp" {
            // even cases break the .shp, odd ones the .dbf (the others as written)
            for part in ["shp", "shx", "dbf"] {
                std::fs::copy(seed_path.with_extension(part), p.with_extension(part)).unwrap();
            }
            let part = if case % 2 == 0 { "shp" } else { "dbf" };
            let original = std::fs::read(seed_path.with_extension(part)).unwrap();
            std::fs::write(p.with_extension(part), mutate(&original, case, false)).unwrap();
        } else {
            let bytes = mutate(&seed, case, text);
            std::fs::write(&p, &bytes).unwrap();
        }
        if only.is_some() {
            if let Ok(keep) = std::env::var("GRIDTWIN_FUZZ_KEEP") {
                std::fs::copy(&p, keep).unwrap();
            }
        }
        let t0 = Instant::now();
        let r = read(reader, &p);
        let took = t0.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "{reader} case {case}: {took:?}"
        );
        if let Ok(numbers) = r {
            if let Err(e) = accounted(&numbers) {
                panic!("{reader} case {case}: records not accounted for: {e}");
            }
        }
    }
    eprintln!("FUZZ {reader} done");
}

#[test]
fn every_reader_survives_thousands_of_mutated_inputs() {
    if let Ok(reader) = std::env::var("GRIDTWIN_FUZZ_READER") {
        let only = std::env::var("GRIDTWIN_FUZZ_CASE")
            .ok()
            .and_then(|c| c.parse().ok());
        child(&reader, only);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for reader in READERS {
        // (a GDAL build reads .gpkg through GDAL: the compiled-in reader is not there)
        if reader == "gpkg"
            && gridtwin_io::format::Format::from_path(Path::new("x.gpkg")).ok()
                != Some(gridtwin_io::format::Format::GeoPackage)
        {
            continue;
        }
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--exact",
            "every_reader_survives_thousands_of_mutated_inputs",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("GRIDTWIN_FUZZ_READER", reader)
        .current_dir(repo());
        // SAFETY: setrlimit in the child between fork and exec touches only the
        // child's own limits.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 3 << 30,
                    rlim_max: 3 << 30,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !err.contains(&format!("FUZZ {reader} done")) {
            let last = err
                .lines()
                .rev()
                .find(|l| l.starts_with("FUZZ"))
                .unwrap_or("");
            let tail: Vec<&str> = err.lines().rev().take(15).collect();
            failures.push(format!(
                "{reader}: {:?} after `{last}`:\n{}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
