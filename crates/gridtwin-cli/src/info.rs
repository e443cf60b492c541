//! `gridtwin info`: what a city directory holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;

#[derive(Args)]
pub struct InfoArgs {
    /// A city directory (written by `gridtwin import` or `gridtwin synth`).
    city: PathBuf,
    /// Also write the summary and data-quality report to this JSON file (FILE).
    #[arg(long, value_name = "FILE", alias = "json")]
    out: Option<PathBuf>,
}

pub fn run(a: InfoArgs) -> Result<ExitCode> {
    let (city, table, quality) = load_city(&a.city)?;
    let summary = city.summary(&table);
    println!("{summary}");
    // The import's own ledger, if the directory has one, then this read's.
    if let Ok(text) = std::fs::read_to_string(a.city.join("quality.json")) {
        if let Ok(import_q) = serde_json::from_str::<gridtwin_core::QualityReport>(&text) {
            println!("import {import_q}");
        }
    }
    println!("this read: {quality}");
    for p in city.check_hierarchy() {
        println!("hierarchy problem: area {}: {}", p.code, p.message);
    }
    if let Some(path) = a.out {
        let json = serde_json::json!({"summary": summary, "quality": quality});
        write_bytes_atomic(
            &path,
            (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
        )?;
    }
    // The process ends here: its memory goes back whole, without dropping a
    // megacity's 12 M components one by one (half a second of `info`).
    std::mem::forget(city);
    Ok(ExitCode::SUCCESS)
}
