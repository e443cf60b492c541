//! The indicator table (`data/indicators.csv`): each indicator's human name, unit and
//! direction, by exact name or by prefix for the names made at run time.

use std::collections::BTreeMap;

use super::{Better, Unit};

/// One indicator described: its human name, unit and direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub name: String,
    pub unit: Unit,
    pub better: Better,
    /// The row's place in the table (related indicators sit together there), for
    /// listing indicators in that order; `usize::MAX` for one the table lacks.
    pub rank: usize,
}

/// The indicator table (`data/indicators.csv`): exact names, and prefixes (a name
/// ending in `*`) for the indicators named at run time (`crew_utilisation:<dept>`,
/// `response_within_target:p<N>`).
#[derive(Debug, Clone, Default)]
pub struct Indicators {
    exact: BTreeMap<String, Described>,
    /// (prefix, name template with `{}`, unit, direction), longest prefix first.
    prefixes: Vec<(String, Described)>,
}

impl Indicators {
    /// Loads and checks the table; errors name the file and line.
    pub fn load(path: &std::path::Path) -> Result<Indicators, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Indicators::parse(&text, &path.display().to_string())
    }

    /// Parses the table from bytes; `file` names it in errors.
    pub fn parse(text: &[u8], file: &str) -> Result<Indicators, String> {
        let mut r = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text);
        let header = r.headers().map_err(|e| format!("{file}: {e}"))?.clone();
        const COLUMNS: [&str; 4] = ["indicator", "name", "unit", "better"];
        if header.iter().collect::<Vec<_>>() != COLUMNS {
            return Err(format!(
                "{file}: the header must be `{}`, not `{}`",
                COLUMNS.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            ));
        }
        let mut out = Indicators::default();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| format!("{file}: {e}"))?;
            let line = rec.position().map_or(0, |p| p.line());
            let bad = |what: String| format!("{file}: line {line}: {what}");
            if rec.len() != COLUMNS.len() {
                return Err(bad(format!(
                    "{} fields, expected {} ({}; quote a name that holds a comma)",
                    rec.len(),
                    COLUMNS.len(),
                    COLUMNS.join(",")
                )));
            }
            let (indicator, name, unit, better) = (&rec[0], &rec[1], &rec[2], &rec[3]);
            let stem = indicator.strip_suffix('*');
            let key = stem.unwrap_or(indicator);
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:".contains(c))
            {
                return Err(bad(format!(
                    "indicator `{indicator}`: lower-case letters, digits, `_` and `:`, \
                     optionally ending in `*`"
                )));
            }
            if let Some(first) = seen.insert(indicator.to_string(), line) {
                return Err(bad(format!(
                    "indicator `{indicator}` again (first on line {first})"
                )));
            }
            if name.is_empty() {
                return Err(bad(format!("indicator `{indicator}` has no name")));
            }
            if stem.is_some() != name.contains("{}") {
                return Err(bad(format!(
                    "name `{name}`: a prefix (`…*`) needs `{{}}` in its name for the rest of \
                     the indicator, and only a prefix has one"
                )));
            }
            let unit = Unit::ALL
                .iter()
                .find(|u| u.0 == unit)
                .map(|u| u.1)
                .ok_or_else(|| {
                    bad(format!(
                        "unit must be one of {}, not `{unit}`",
                        Unit::ALL.map(|u| u.0).join(", ")
                    ))
                })?;
            let better = match better {
                "higher" => Better::Higher,
                "lower" => Better::Lower,
                "neither" => Better::Neither,
                other => {
                    return Err(bad(format!(
                        "better must be higher, lower or neither, not `{other}`"
                    )))
                }
            };
            let d = Described {
                name: name.to_string(),
                unit,
                better,
                rank: seen.len(),
            };
            match stem {
                Some(p) => out.prefixes.push((p.to_string(), d)),
                None => {
                    out.exact.insert(key.to_string(), d);
                }
            }
        }
        // the most specific prefix wins, whatever the file's order
        out.prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The description of `kpi`: its exact row, else the longest prefix it extends.
    pub fn get(&self, kpi: &str) -> Option<Described> {
        if let Some(d) = self.exact.get(kpi) {
            return Some(d.clone());
        }
        self.prefixes.iter().find_map(|(p, d)| {
            let rest = kpi.strip_prefix(p.as_str()).filter(|r| !r.is_empty())?;
            Some(Described {
                name: d.name.replace("{}", rest),
                ..d.clone()
            })
        })
    }

    /// As [`Indicators::get`], or the machine name, a plain number and no direction
    /// for an indicator the table does not know (the caller says which).
    pub fn describe(&self, kpi: &str) -> Described {
        self.get(kpi).unwrap_or_else(|| Described {
            name: kpi.to_string(),
            unit: Unit::Index,
            better: Better::Neither,
            rank: usize::MAX,
        })
    }
}
