//! `.csvt` files: the column types of a CSV beside it (`assigned.csvt` for
//! `assigned.csv`), read by QGIS and GDAL/OGR so codes stay text — `0101` is a
//! category, not the number 101 — and coordinates and counts are numbers. (pandas
//! does not read them: pass `dtype=str` for code columns, see the README.)
//!
//! ```
//! use gridtwin_io::csvt::column_type;
//! assert_eq!(column_type("grid_code"), "String");
//! assert_eq!(column_type("count"), "Integer");
//! assert_eq!(column_type("distance_m"), "Real");
//! ```

use std::path::{Path, PathBuf};

use crate::atomic::write_bytes_atomic;
use crate::error::IoError;

/// The OGR type of a column gridtwin writes, by its name: coordinates, distances,
/// areas and rates are `Real`, counts `Integer`, everything else (codes, ids,
/// categories, times as text) `String`.
pub fn column_type(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if ["lon", "lat", "lng", "longitude", "latitude", "x", "y"].contains(&n.as_str())
        || n.ends_with("_m")
        || n.ends_with("_m2")
        || n.ends_with("_rate")
        || n.ends_with("_min")
        || n.ends_with("_h")
    {
        "Real"
    } else if n == "count" || n == "rows" || n.ends_with("_count") {
        "Integer"
    } else {
        "String"
    }
}

/// The `.csvt` path of a CSV file.
pub fn path_for(csv: &Path) -> PathBuf {
    csv.with_extension("csvt")
}

/// Writes the `.csvt` beside `csv` for its header (atomically).
pub fn write_for_header(csv: &Path, header: &[String]) -> Result<(), IoError> {
    let line = header
        .iter()
        .map(|h| format!("\"{}\"", column_type(h)))
        .collect::<Vec<_>>()
        .join(",");
    write_bytes_atomic(&path_for(csv), format!("{line}\n").as_bytes())
}

/// Writes the `.csvt` beside `csv` from the header line of the file itself.
pub fn write_for_file(csv: &Path) -> Result<(), IoError> {
    let name = csv.display().to_string();
    let mut r = csv::Reader::from_path(csv).map_err(|e| IoError::read(&name, e))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| IoError::read(&name, e))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    write_for_header(csv, &header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csvt_beside_a_csv() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.csv");
        std::fs::write(&p, "code,category,lon,lat,count\n0101,0101,1,2,3\n").unwrap();
        write_for_file(&p).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("a.csvt")).unwrap(),
            "\"String\",\"String\",\"Real\",\"Real\",\"Integer\"\n"
        );
    }
}
