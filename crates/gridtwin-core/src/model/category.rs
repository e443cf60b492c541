//! Component and event category tables, loaded from data files.
//!
//! Categories are data, not enums: a city loads its own table
//! (`data/categories.csv` is the default). Each row gives the major and minor class
//! codes, Chinese and English names, the owning department, the time limit in working
//! hours and the routing rule that decides who receives a case first.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::code::CodeRule;
use crate::parse::ParseEnumError;

/// Whether a category is a fixed city object (component) or something that happens (event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    Component,
    Event,
}

impl CategoryKind {
    pub fn name(self) -> &'static str {
        match self {
            CategoryKind::Component => "component",
            CategoryKind::Event => "event",
        }
    }
}

impl FromStr for CategoryKind {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.trim() {
            "component" => Ok(CategoryKind::Component),
            "event" => Ok(CategoryKind::Event),
            other => Err(ParseEnumError::new("kind", other, "component or event")),
        }
    }
}

/// Who receives a case of this category first (the four dispatch rules of the domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Statutory duty list 法定: the owning department of the component or category.
    Owner,
    /// Territory 属地: the street/community that holds the place.
    Territory,
    /// Negotiated 商定 between departments.
    Negotiated,
    /// Designated 指定 by a leader, for cross-cutting cases.
    Designated,
}

impl FromStr for Routing {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.trim() {
            "owner" => Ok(Routing::Owner),
            "territory" => Ok(Routing::Territory),
            "negotiated" => Ok(Routing::Negotiated),
            "designated" => Ok(Routing::Designated),
            other => Err(ParseEnumError::new(
                "routing",
                other,
                "owner, territory, negotiated or designated",
            )),
        }
    }
}

/// How a category's time limits are counted: in working hours (the calendar's office
/// hours, holidays off) or in natural hours (the clock: emergencies such as
/// waterlogging are due two hours after intake at any time of day or week).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    #[default]
    Working,
    Natural,
}

impl FromStr for TimeBasis {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.trim() {
            "" | "working" => Ok(TimeBasis::Working),
            "natural" => Ok(TimeBasis::Natural),
            other => Err(ParseEnumError::new(
                "time basis",
                other,
                "working or natural",
            )),
        }
    }
}

/// Limits on the steps of the case loop, in the category's [`TimeBasis`]; `None`
/// where the table sets none. Each is timed from the step before: verification from
/// intake (核实), dispatch from verification (派遣), handling from dispatch (处置,
/// so a department's on-time rate does not carry the centre's delays), the check
/// from the department's feedback (核查).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageLimits {
    pub verify_hours: Option<f64>,
    pub dispatch_hours: Option<f64>,
    pub handle_hours: Option<f64>,
    pub check_hours: Option<f64>,
}

/// Identity of a category: kind, major class and minor class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CategoryKey {
    pub kind: CategoryKind,
    pub major: u32,
    pub minor: u32,
}

impl CategoryKey {
    /// The class code `MMmm` (major then minor, zero-padded to the rule's widths).
    pub fn class_code(&self, rule: &CodeRule) -> String {
        let l = rule.component();
        format!(
            "{:0w1$}{:0w2$}",
            self.major,
            self.minor,
            w1 = l.major as usize,
            w2 = l.minor as usize
        )
    }
}

/// One row of the category table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub key: CategoryKey,
    pub major_zh: String,
    pub major_en: String,
    pub minor_zh: String,
    pub minor_en: String,
    pub department: String,
    /// Time limit to close a case, from intake, in `time_basis` hours.
    pub time_limit_hours: f64,
    pub time_basis: TimeBasis,
    pub stage_limits: StageLimits,
    pub routing: Routing,
}

/// A validated category table.
#[derive(Debug, Clone)]
pub struct CategoryTable {
    categories: Vec<Category>,
    index: rustc_hash::FxHashMap<CategoryKey, usize>,
    rule: CodeRule,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    kind: String,
    major: String,
    major_zh: String,
    major_en: String,
    minor: String,
    minor_zh: String,
    minor_en: String,
    department: String,
    time_limit_hours: String,
    routing: String,
    /// Optional columns: `working` (default) or `natural`, and per-step limits.
    #[serde(default)]
    time_basis: String,
    #[serde(default)]
    verify_limit_hours: String,
    #[serde(default)]
    dispatch_limit_hours: String,
    #[serde(default)]
    handle_limit_hours: String,
    #[serde(default)]
    check_limit_hours: String,
}

/// One defect in a category table file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProblem {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for TableProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column `{c}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A category table that could not be loaded: every problem found, with its line.
#[derive(Debug, Clone, Error)]
#[error("{file}: {} problem(s) in category table:\n  {}", problems.len(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
pub struct CategoryTableError {
    pub file: String,
    pub problems: Vec<TableProblem>,
}

impl CategoryTable {
    /// Loads a table from a CSV file.
    pub fn load(path: &Path, rule: &CodeRule) -> Result<Self, CategoryTableError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CategoryTableError {
            file: file.clone(),
            problems: vec![TableProblem {
                line: 0,
                column: None,
                message: format!("cannot read: {e}"),
            }],
        })?;
        Self::from_csv_str(&text, &file, rule)
    }

    /// Parses a table from CSV text; `file` names the source in errors.
    ///
    /// Every problem is collected, so a city fixing its table sees them all at once.
    pub fn from_csv_str(
        text: &str,
        file: &str,
        rule: &CodeRule,
    ) -> Result<Self, CategoryTableError> {
        let mut problems = Vec::new();
        let mut categories: Vec<Category> = Vec::new();
        let mut index = rustc_hash::FxHashMap::default();
        let mut major_names: HashMap<(CategoryKind, u32), (String, String, u64)> = HashMap::new();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let layout = rule.component();
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                return Err(CategoryTableError {
                    file: file.to_string(),
                    problems: vec![TableProblem {
                        line: 1,
                        column: None,
                        message: e.to_string(),
                    }],
                })
            }
        };
        for result in reader.records() {
            let parsed = result.and_then(|rec| {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                rec.deserialize::<Row>(Some(&headers))
                    .map(|row| (line, row))
            });
            let (line, row) = match parsed {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    problems.push(TableProblem {
                        line,
                        column: None,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let mut bad = |column: &str, message: String| {
                problems.push(TableProblem {
                    line,
                    column: Some(column.to_string()),
                    message,
                })
            };
            let kind = row
                .kind
                .parse::<CategoryKind>()
                .map_err(|m| bad("kind", m.into()));
            let major = parse_class(&row.major, layout.major as usize).map_err(|m| bad("major", m));
            let minor = parse_class(&row.minor, layout.minor as usize).map_err(|m| bad("minor", m));
            let routing = row
                .routing
                .parse::<Routing>()
                .map_err(|m| bad("routing", m.into()));
            let limit = match row.time_limit_hours.parse::<f64>() {
                Ok(h) if h.is_finite() && h > 0.0 => Ok(h),
                _ => {
                    bad(
                        "time_limit_hours",
                        format!(
                            "`{}` is not a positive number of working hours",
                            row.time_limit_hours
                        ),
                    );
                    Err(())
                }
            };
            let time_basis = row
                .time_basis
                .parse::<TimeBasis>()
                .map_err(|m| bad("time_basis", m.into()));
            let mut stage = |column: &str, v: &str| -> Option<f64> {
                if v.is_empty() {
                    return None;
                }
                match v.parse::<f64>() {
                    Ok(h) if h.is_finite() && h > 0.0 => Some(h),
                    _ => {
                        bad(column, format!("`{v}` is not a positive number of hours"));
                        None
                    }
                }
            };
            let stage_limits = StageLimits {
                verify_hours: stage("verify_limit_hours", &row.verify_limit_hours),
                dispatch_hours: stage("dispatch_limit_hours", &row.dispatch_limit_hours),
                handle_hours: stage("handle_limit_hours", &row.handle_limit_hours),
                check_hours: stage("check_limit_hours", &row.check_limit_hours),
            };
            for (column, value) in [
                ("major_zh", &row.major_zh),
                ("major_en", &row.major_en),
                ("minor_zh", &row.minor_zh),
                ("minor_en", &row.minor_en),
                ("department", &row.department),
            ] {
                if value.is_empty() {
                    bad(column, "empty".to_string());
                }
            }
            let (Ok(kind), Ok(major), Ok(minor), Ok(routing), Ok(time_limit_hours), Ok(time_basis)) =
                (kind, major, minor, routing, limit, time_basis)
            else {
                continue;
            };
            match major_names.get(&(kind, major)) {
                Some((zh, en, first)) if *zh != row.major_zh || *en != row.major_en => bad(
                    "major_zh",
                    format!(
                        "major class {major:0w$} is named `{}`/`{}` here but `{zh}`/`{en}` on line {first}",
                        row.major_zh,
                        row.major_en,
                        w = layout.major as usize
                    ),
                ),
                Some(_) => {}
                None => {
                    major_names.insert(
                        (kind, major),
                        (row.major_zh.clone(), row.major_en.clone(), line),
                    );
                }
            }
            let key = CategoryKey { kind, major, minor };
            if let Some(&first) = index.get(&key) {
                let first: &Category = &categories[first];
                bad(
                    "minor",
                    format!(
                        "duplicate {} category {} (first: {})",
                        kind.name(),
                        key.class_code(rule),
                        first.minor_en
                    ),
                );
                continue;
            }
            index.insert(key, categories.len());
            categories.push(Category {
                key,
                major_zh: row.major_zh,
                major_en: row.major_en,
                minor_zh: row.minor_zh,
                minor_en: row.minor_en,
                department: row.department,
                time_limit_hours,
                time_basis,
                stage_limits,
                routing,
            });
        }
        if categories.is_empty() && problems.is_empty() {
            problems.push(TableProblem {
                line: 1,
                column: None,
                message: "the table has no categories".into(),
            });
        }
        if !problems.is_empty() {
            return Err(CategoryTableError {
                file: file.to_string(),
                problems,
            });
        }
        Ok(CategoryTable {
            categories,
            index,
            rule: *rule,
        })
    }

    /// All categories in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter()
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    /// True when the table has no categories (never, for a loaded table).
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// Looks a category up by key.
    pub fn get(&self, key: &CategoryKey) -> Option<&Category> {
        self.index.get(key).map(|&i| &self.categories[i])
    }

    /// Looks a category up by its class code (`"0107"`), or by its English or Chinese
    /// minor-class name, case-insensitively.
    pub fn find(&self, kind: CategoryKind, text: &str) -> Option<&Category> {
        let t = text.trim();
        let layout = self.rule.component();
        let width = (layout.major + layout.minor) as usize;
        if t.len() == width && t.bytes().all(|b| b.is_ascii_digit()) {
            let major = t[..layout.major as usize].parse().ok()?;
            let minor = t[layout.major as usize..].parse().ok()?;
            return self.get(&CategoryKey { kind, major, minor });
        }
        self.categories
            .iter()
            .find(|c| c.key.kind == kind && (c.minor_en.eq_ignore_ascii_case(t) || c.minor_zh == t))
    }

    /// The code rule the table was checked against.
    pub fn rule(&self) -> &CodeRule {
        &self.rule
    }
}

fn parse_class(s: &str, width: usize) -> Result<u32, String> {
    if s.len() != width || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a {width}-digit class code"));
    }
    match s.parse::<u32>() {
        Ok(0) | Err(_) => Err(format!(
            "`{s}` is not a valid class code (must not be zero)"
        )),
        Ok(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "kind,major,major_zh,major_en,minor,minor_zh,minor_en,department,time_limit_hours,routing\n";

    fn shipped() -> CategoryTable {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/categories.csv");
        CategoryTable::load(&path, &CodeRule::national()).unwrap()
    }

    #[test]
    fn default_table_has_six_component_majors_and_required_minors() {
        let t = shipped();
        let majors: std::collections::BTreeSet<_> = t
            .iter()
            .filter(|c| c.key.kind == CategoryKind::Component)
            .map(|c| c.major_zh.clone())
            .collect();
        for m in [
            "公用设施",
            "道路交通",
            "市容环境",
            "园林绿化",
            "房屋土地",
            "其他",
        ] {
            assert!(majors.contains(m), "{m}");
        }
        assert_eq!(majors.len(), 6);
        for (kind, name) in [
            (CategoryKind::Component, "上水井盖"),
            (CategoryKind::Component, "路灯"),
            (CategoryKind::Component, "消防栓"),
            (CategoryKind::Component, "行道树"),
            (CategoryKind::Component, "垃圾箱"),
            (CategoryKind::Component, "公交站亭"),
            (CategoryKind::Component, "交通信号灯"),
            (CategoryKind::Event, "占道经营"),
            (CategoryKind::Event, "暴露垃圾"),
            (CategoryKind::Event, "违章停车"),
            (CategoryKind::Event, "积水"),
        ] {
            assert!(t.find(kind, name).is_some(), "{name}");
        }
        let lamp = t.find(CategoryKind::Component, "0107").unwrap();
        assert_eq!(lamp.minor_en, "Street lamp");
        assert_eq!(lamp.routing, Routing::Owner);
        let vending = t
            .find(CategoryKind::Event, "illegal street vending")
            .unwrap();
        assert_eq!(vending.routing, Routing::Territory);
        assert!(t.find(CategoryKind::Event, "0107").is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = format!(
            "{HEADER}\
             component,01,公用设施,Public utilities,01,上水井盖,Water cover,Water Co,24,owner\n\
             component,01,公用设施,Public utilities,01,上水井盖,Water cover,Water Co,24,owner\n\
             widget,01,公用设施,Public utilities,02,x,y,Water Co,24,owner\n\
             component,1,公用设施,Public utilities,03,x,y,Water Co,24,owner\n\
             component,01,公用设施,Public utilities,04,x,y,Water Co,-3,owner\n\
             component,01,公用设施,Public utilities,05,x,y,Water Co,24,somebody\n\
             component,01,Other name,Public utilities,06,x,y,Water Co,24,owner\n\
             component,01,公用设施,Public utilities,07,x,y,,24,owner\n"
        );
        let e = CategoryTable::from_csv_str(&text, "cats.csv", &CodeRule::national()).unwrap_err();
        let lines: Vec<(u64, Option<&str>)> = e
            .problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (3, Some("minor")),
                (4, Some("kind")),
                (5, Some("major")),
                (6, Some("time_limit_hours")),
                (7, Some("routing")),
                (8, Some("major_zh")),
                (9, Some("department")),
            ]
        );
        let msg = e.to_string();
        assert!(msg.starts_with("cats.csv: 7 problem(s)"), "{msg}");
        assert!(msg.contains("duplicate component category 0101"), "{msg}");
    }

    #[test]
    fn missing_column_and_empty_table_are_errors() {
        let e = CategoryTable::from_csv_str(
            "kind,major\ncomponent,01\n",
            "c.csv",
            &CodeRule::national(),
        )
        .unwrap_err();
        assert_eq!(e.problems[0].line, 2);
        assert!(e.problems[0].message.contains("missing field"), "{e}");
        let e = CategoryTable::from_csv_str(HEADER, "c.csv", &CodeRule::national()).unwrap_err();
        assert!(e.to_string().contains("no categories"));
    }

    #[test]
    fn a_city_can_load_its_own_table() {
        let text = format!(
            "{HEADER}event,07,城市管理,City management,01,违规摆摊,Stall,Chengguan,12,territory\n"
        );
        let t = CategoryTable::from_csv_str(&text, "own.csv", &CodeRule::national()).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.find(CategoryKind::Event, "0701").unwrap().department,
            "Chengguan"
        );
    }
}
