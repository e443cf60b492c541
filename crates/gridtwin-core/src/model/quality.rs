//! Data quality: every input record ends loaded or rejected, with the reason.
//!
//! A [`QualityReport`] keeps, per source file, how many records were read, loaded and
//! rejected, counts per reason and the first few examples of each. Its invariant —
//! `read == loaded + rejected` for every file — is what "nothing lost" means.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a record was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// A required coordinate or geometry is absent.
    MissingCoordinate,
    /// A coordinate is not a finite number (NaN, inf, text).
    BadCoordinate,
    /// A coordinate lies outside lon −180..180 / lat −90..90.
    OutOfRange,
    /// The category is not in the loaded category table.
    UnknownCategory,
    /// A code does not parse under the code rule.
    MalformedCode,
    /// A code does not extend its parent's code.
    CodeNotExtendingParent,
    /// A polygon ring is not closed, too short or self-intersecting.
    InvalidGeometry,
    /// The geometry type is not the one expected (a line where a point was due).
    WrongGeometryType,
    /// The same id or code appeared earlier in the input.
    DuplicateId,
    /// A required field is absent or empty.
    MissingField,
    /// A field's value cannot be interpreted (a bad time, an unknown status).
    BadValue,
    /// The record itself cannot be parsed (wrong number of CSV fields, broken JSON).
    Unparsable,
    /// An area to be numbered (`--autocode`) has no parent in the layer above.
    NoParent,
}

impl RejectReason {
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::MissingCoordinate => "missing_coordinate",
            RejectReason::BadCoordinate => "bad_coordinate",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::UnknownCategory => "unknown_category",
            RejectReason::MalformedCode => "malformed_code",
            RejectReason::CodeNotExtendingParent => "code_not_extending_parent",
            RejectReason::InvalidGeometry => "invalid_geometry",
            RejectReason::WrongGeometryType => "wrong_geometry_type",
            RejectReason::DuplicateId => "duplicate_id",
            RejectReason::MissingField => "missing_field",
            RejectReason::BadValue => "bad_value",
            RejectReason::Unparsable => "unparsable",
            RejectReason::NoParent => "no_parent",
        }
    }
}

impl RejectReason {
    /// Every reason, in order.
    pub const ALL: [RejectReason; 13] = [
        RejectReason::MissingCoordinate,
        RejectReason::BadCoordinate,
        RejectReason::OutOfRange,
        RejectReason::UnknownCategory,
        RejectReason::MalformedCode,
        RejectReason::CodeNotExtendingParent,
        RejectReason::InvalidGeometry,
        RejectReason::WrongGeometryType,
        RejectReason::DuplicateId,
        RejectReason::MissingField,
        RejectReason::BadValue,
        RejectReason::Unparsable,
        RejectReason::NoParent,
    ];

    /// The reason of a name as [`RejectReason::name`] writes it.
    ///
    /// ```
    /// use gridtwin_core::RejectReason;
    /// assert_eq!(RejectReason::from_name("invalid_geometry"), Some(RejectReason::InvalidGeometry));
    /// assert_eq!(RejectReason::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<RejectReason> {
        RejectReason::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One rejected record: where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub file: String,
    /// 1-based record number within the file (data rows; a CSV header is not counted).
    pub record: u64,
    pub reason: RejectReason,
    pub detail: String,
}

impl Rejection {
    pub fn new(
        file: impl Into<String>,
        record: u64,
        reason: RejectReason,
        detail: impl Into<String>,
    ) -> Self {
        Rejection {
            file: file.into(),
            record,
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: record {}: {}: {}",
            self.file, self.record, self.reason, self.detail
        )
    }
}

impl std::error::Error for Rejection {}

/// Counts of one reason in one file, with its first examples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasonSummary {
    pub count: u64,
    pub examples: Vec<Rejection>,
}

/// Tally of one layer of one input file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileQuality {
    pub file: String,
    /// What the records were loaded as (components, incidents, areas…).
    pub layer: String,
    pub read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub reasons: BTreeMap<RejectReason, ReasonSummary>,
}

/// Data-quality summary over all files of one load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Keyed `"{file} [{layer}]"`: one file (an OSM extract) can feed several layers.
    pub files: BTreeMap<String, FileQuality>,
    /// Every rejection, where the caller asked for all of them (`import --rejected`);
    /// the report itself keeps the first [`EXAMPLES_PER_REASON`] of each reason.
    #[serde(skip)]
    pub all: Option<Vec<Rejection>>,
}

/// How many examples of each reason a report keeps.
pub const EXAMPLES_PER_REASON: usize = 5;

impl QualityReport {
    pub fn new() -> Self {
        Self::default()
    }

    fn file(&mut self, file: &str, layer: &str) -> &mut FileQuality {
        self.files
            .entry(format!("{file} [{layer}]"))
            .or_insert_with(|| FileQuality {
                file: file.to_string(),
                layer: layer.to_string(),
                ..Default::default()
            })
    }

    /// Records one loaded record.
    pub fn loaded(&mut self, file: &str, layer: &str) {
        let q = self.file(file, layer);
        q.read += 1;
        q.loaded += 1;
    }

    /// Records `n` loaded records at once (a columnar reader counts a batch).
    pub fn loaded_many(&mut self, file: &str, layer: &str, n: u64) {
        if n > 0 {
            let q = self.file(file, layer);
            q.read += n;
            q.loaded += n;
        }
    }

    /// Takes back a record counted as loaded that a later step rejects (a component
    /// coded after all the areas are read), so it is not counted twice.
    pub fn retract_loaded(&mut self, file: &str, layer: &str) {
        let q = self.file(file, layer);
        q.read = q.read.saturating_sub(1);
        q.loaded = q.loaded.saturating_sub(1);
    }

    /// Records one rejected record.
    pub fn rejected(&mut self, layer: &str, rejection: Rejection) {
        let q = self.file(&rejection.file, layer);
        q.read += 1;
        q.rejected += 1;
        let r = q.reasons.entry(rejection.reason).or_default();
        r.count += 1;
        if let Some(all) = &mut self.all {
            all.push(rejection.clone());
        }
        let q = self.file(&rejection.file, layer);
        let r = q.reasons.entry(rejection.reason).or_default();
        if r.examples.len() < EXAMPLES_PER_REASON {
            r.examples.push(rejection);
        }
    }

    /// A report that also keeps every rejection (in [`QualityReport::all`]).
    pub fn keeping_all() -> Self {
        QualityReport {
            all: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// Adds another report's tallies into this one.
    pub fn merge(&mut self, other: QualityReport) {
        if let (Some(mine), Some(theirs)) = (&mut self.all, other.all) {
            mine.extend(theirs);
        }
        for q in other.files.into_values() {
            let mine = self.file(&q.file, &q.layer);
            mine.read += q.read;
            mine.loaded += q.loaded;
            mine.rejected += q.rejected;
            for (reason, s) in q.reasons {
                let r = mine.reasons.entry(reason).or_default();
                r.count += s.count;
                let room = EXAMPLES_PER_REASON.saturating_sub(r.examples.len());
                r.examples.extend(s.examples.into_iter().take(room));
            }
        }
    }

    /// Total records read, loaded and rejected over all files.
    pub fn totals(&self) -> (u64, u64, u64) {
        self.files.values().fold((0, 0, 0), |(r, l, j), q| {
            (r + q.read, l + q.loaded, j + q.rejected)
        })
    }

    /// True when every file's records add up: read = loaded + rejected.
    pub fn balanced(&self) -> bool {
        self.files.values().all(|q| q.read == q.loaded + q.rejected)
    }

    /// Pretty JSON of the report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "data quality:")?;
        for (name, q) in &self.files {
            writeln!(
                f,
                "  {name}: read {}, loaded {}, rejected {}",
                q.read, q.loaded, q.rejected
            )?;
            for (reason, s) in &q.reasons {
                writeln!(f, "    {reason}: {}", s.count)?;
                if let Some(e) = s.examples.first() {
                    writeln!(f, "      e.g. record {}: {}", e.record, e.detail)?;
                }
            }
        }
        let (r, l, j) = self.totals();
        write!(f, "  total: read {r}, loaded {l}, rejected {j}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_add_up_and_keep_first_examples() {
        let mut q = QualityReport::new();
        q.loaded("a.csv", "components");
        for i in 0..7 {
            q.rejected(
                "components",
                Rejection::new("a.csv", 2 + i, RejectReason::BadCoordinate, "lon `x`"),
            );
        }
        let mut other = QualityReport::new();
        other.rejected(
            "components",
            Rejection::new("a.csv", 40, RejectReason::UnknownCategory, "9999"),
        );
        other.loaded("b.csv", "incidents");
        q.merge(other);
        assert_eq!(q.totals(), (10, 2, 8));
        assert!(q.balanced());
        let a = &q.files["a.csv [components]"];
        let bad = &a.reasons[&RejectReason::BadCoordinate];
        assert_eq!(bad.count, 7);
        assert_eq!(bad.examples.len(), EXAMPLES_PER_REASON);
        assert_eq!(bad.examples[0].record, 2);
        let json = q.to_json();
        assert!(json.contains("\"bad_coordinate\""), "{json}");
        let back: QualityReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, q);
    }
}
