//! Early warnings: the threshold table (`indicator,level,op,threshold,severity`), its
//! operator as an enum read once when the table is, and the warnings a level's rows
//! fire.

use super::{VitalsRow, INDICATORS};

/// How a threshold compares: read from the table's `op` column when it is loaded, and
/// written back as the same text (`>=`, `<=`) in warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    /// `>=`: a warning fires when the value reaches the threshold.
    #[serde(rename = ">=")]
    AtLeast,
    /// `<=`: a warning fires when the value falls to the threshold.
    #[serde(rename = "<=")]
    AtMost,
}

impl Op {
    /// As the table writes it: `>=` or `<=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::AtLeast => ">=",
            Op::AtMost => "<=",
        }
    }

    /// As a report prints it: `≥` or `≤`.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::AtLeast => "≥",
            Op::AtMost => "≤",
        }
    }

    /// Whether `value` has reached (or fallen to) `threshold`; an undefined value
    /// (NaN) never fires.
    pub fn fires(self, value: f64, threshold: f64) -> bool {
        value.is_finite()
            && match self {
                Op::AtLeast => value >= threshold,
                Op::AtMost => value <= threshold,
            }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Op {
    type Err = String;

    /// `>=` or `<=`; anything else is refused with the message the table's loader
    /// puts after the line number.
    fn from_str(s: &str) -> Result<Op, String> {
        match s {
            ">=" => Ok(Op::AtLeast),
            "<=" => Ok(Op::AtMost),
            _ => Err(format!("op must be >= or <=, not `{s}`")),
        }
    }
}

/// A threshold on one indicator at one level: a warning fires when the value
/// reaches it (`>=`) or falls to it (`<=`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub indicator: String,
    pub level: String,
    pub op: Op,
    pub threshold: f64,
    pub severity: String,
}

/// A row of the threshold table as read, its operator still text: an unknown operator
/// is refused by [`load_thresholds`] naming its line, where a serde error would name
/// the record. (Named `Threshold` so a malformed row's error reads as before.)
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename = "Threshold")]
struct Row {
    indicator: String,
    level: String,
    op: String,
    threshold: f64,
    severity: String,
}

/// An early warning.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Warning {
    pub area: String,
    pub bucket: i64,
    pub indicator: String,
    pub value: f64,
    pub op: Op,
    pub threshold: f64,
    pub severity: String,
}

/// Loads thresholds from CSV (`indicator,level,op,threshold,severity`), checking
/// indicator names and operators; errors name the line.
pub fn load_thresholds(path: &std::path::Path) -> Result<Vec<Threshold>, String> {
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, t) in r.deserialize::<Row>().enumerate() {
        let t = t.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = i + 2;
        if !INDICATORS.contains(&t.indicator.as_str()) {
            return Err(format!(
                "{}: line {line}: unknown indicator `{}` (known: {})",
                path.display(),
                t.indicator,
                INDICATORS.join(", ")
            ));
        }
        let op =
            t.op.parse::<Op>()
                .map_err(|m| format!("{}: line {line}: {m}", path.display()))?;
        if !t.threshold.is_finite() {
            return Err(format!(
                "{}: line {line}: threshold must be a number",
                path.display()
            ));
        }
        out.push(Threshold {
            indicator: t.indicator,
            level: t.level,
            op,
            threshold: t.threshold,
            severity: t.severity,
        });
    }
    Ok(out)
}

/// Warnings for rows of one level against the thresholds of that level.
pub fn warnings(rows: &[VitalsRow], level: &str, thresholds: &[Threshold]) -> Vec<Warning> {
    let mut out = Vec::new();
    for row in rows {
        for t in thresholds.iter().filter(|t| t.level == level) {
            let i = INDICATORS
                .iter()
                .position(|n| *n == t.indicator)
                .expect("checked on load");
            let v = row.values[i];
            if t.op.fires(v, t.threshold) {
                out.push(Warning {
                    area: row.area.clone(),
                    bucket: row.bucket,
                    indicator: t.indicator.clone(),
                    value: v,
                    op: t.op,
                    threshold: t.threshold,
                    severity: t.severity.clone(),
                });
            }
        }
    }
    out
}
