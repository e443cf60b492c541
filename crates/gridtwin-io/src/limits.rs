//! Limits on what a reader holds in memory, set once per process (the command line's
//! `--max-rows-in-memory`). A reader that materialises a file checks the row count the
//! file declares before reading it: a 332 kB Parquet whose run-length encoding
//! declares 40 million rows would take about 15 GB as records.

use std::sync::atomic::{AtomicU64, Ordering};

/// Rows a reader may hold in memory by default: 20 million (about 7 GB of records;
/// the synthetic megacity's 12 million components fit).
pub const DEFAULT_MAX_ROWS: u64 = 20_000_000;

static MAX_ROWS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_ROWS);

/// Sets the rows a reader may hold in memory.
pub fn set_max_rows(n: u64) {
    MAX_ROWS.store(n, Ordering::Relaxed);
}

/// The rows a reader may hold in memory.
pub fn max_rows() -> u64 {
    MAX_ROWS.load(Ordering::Relaxed)
}

/// An error when `declared` rows exceed the limit.
pub fn check_rows(file: &str, declared: u64) -> Result<(), crate::IoError> {
    let max = max_rows();
    if declared > max {
        return Err(crate::IoError::read(
            file,
            format!(
                "declares {declared} rows, more than the {max} a reader holds in memory \
                 (raise it with --max-rows-in-memory)"
            ),
        ));
    }
    Ok(())
}
