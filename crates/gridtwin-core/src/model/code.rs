//! Area and component codes: parsed, validated newtypes.
//!
//! The national scheme nests codes: a child's code is its parent's code followed by
//! the child's serial. How many digits each level adds is a [`CodeRule`], read from a
//! data file (`data/code_rule.toml`) so that a city with 15-digit unit-grid codes can
//! load its own rule.
//!
//! ```
//! use gridtwin_core::code::{CodeRule, Level};
//! let rule = CodeRule::national();
//! let grid = rule.parse_area(Level::Grid, "31010100200301").unwrap();
//! let community = grid.parent(&rule).unwrap();
//! assert_eq!(community.to_string(), "310101002003");
//! assert!(grid.extends(&community));
//! assert!(rule.parse_area(Level::Grid, "3101010020030").is_err()); // 13 digits
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A level of the area hierarchy, from the whole city down to the unit grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Street,
    Community,
    Grid,
}

impl Level {
    /// All levels, top first.
    pub const ALL: [Level; 5] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
    ];

    /// Position from the top (city = 0).
    pub fn depth(self) -> usize {
        self as usize
    }

    /// The level above, if any.
    pub fn parent(self) -> Option<Level> {
        Self::ALL.get(self.depth().checked_sub(1)?).copied()
    }

    /// The level below, if any.
    pub fn child(self) -> Option<Level> {
        Self::ALL.get(self.depth() + 1).copied()
    }

    /// The level's name as used in files (`city`, `district`, `street`, `community`, `grid`).
    pub fn name(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.name() == s.trim())
            .ok_or_else(|| CodeError::UnknownLevel(s.to_string()))
    }
}

/// Digit widths of the component code: district + major class + minor class + serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentLayout {
    pub district: u8,
    pub major: u8,
    pub minor: u8,
    pub serial: u8,
}

impl ComponentLayout {
    /// Total digits of a component code.
    pub fn width(&self) -> usize {
        (self.district + self.major + self.minor + self.serial) as usize
    }
}

/// Widths of each level's part of an area code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaWidths {
    city: u8,
    district: u8,
    street: u8,
    community: u8,
    grid: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRuleFile {
    area: AreaWidths,
    component: ComponentLayout,
}

/// The code rule of a city: digits each level adds, and the component code layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRule {
    added: [u8; 5],
    component: ComponentLayout,
}

/// Codes are kept as integers: 18 digits always fit in a `u64`.
const MAX_DIGITS: usize = 18;

impl CodeRule {
    /// The national scheme: 14-digit unit grids (4+2+3+3+2), 16-digit components (6+2+2+6).
    pub fn national() -> Self {
        CodeRule {
            added: [4, 2, 3, 3, 2],
            component: ComponentLayout {
                district: 6,
                major: 2,
                minor: 2,
                serial: 6,
            },
        }
    }

    /// Builds a rule from per-level widths (city first) and a component layout, checking it.
    pub fn new(added: [u8; 5], component: ComponentLayout) -> Result<Self, String> {
        if let Some(l) = Level::ALL.iter().find(|l| added[l.depth()] == 0) {
            return Err(format!("level `{l}` must add at least one digit"));
        }
        let total: usize = added.iter().map(|&d| d as usize).sum();
        if total > MAX_DIGITS {
            return Err(format!(
                "unit-grid codes would have {total} digits; at most {MAX_DIGITS} are supported"
            ));
        }
        let c = component;
        if c.major == 0 || c.minor == 0 || c.serial == 0 {
            return Err("component major, minor and serial widths must be at least 1".into());
        }
        if c.width() > MAX_DIGITS {
            return Err(format!(
                "component codes would have {} digits; at most {MAX_DIGITS} are supported",
                c.width()
            ));
        }
        let district_width = added[0] as usize + added[1] as usize;
        if c.district as usize != district_width {
            return Err(format!(
                "component district width {} differs from the district code width {district_width} (city + district)",
                c.district
            ));
        }
        Ok(CodeRule { added, component })
    }

    /// Parses a rule from TOML text; `source` names the file in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self, CodeRuleError> {
        let file: CodeRuleFile = toml::from_str(text).map_err(|e| CodeRuleError::Parse {
            file: source.to_string(),
            message: e.to_string(),
        })?;
        let a = file.area;
        CodeRule::new(
            [a.city, a.district, a.street, a.community, a.grid],
            file.component,
        )
        .map_err(|message| CodeRuleError::Invalid {
            file: source.to_string(),
            message,
        })
    }

    /// Loads a rule from a TOML file.
    pub fn load(path: &Path) -> Result<Self, CodeRuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| CodeRuleError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Serialises the rule back to TOML (the same shape as `data/code_rule.toml`).
    pub fn to_toml(&self) -> String {
        let a = self.added;
        let file = CodeRuleFile {
            area: AreaWidths {
                city: a[0],
                district: a[1],
                street: a[2],
                community: a[3],
                grid: a[4],
            },
            component: self.component,
        };
        toml::to_string(&file).expect("a code rule always serialises")
    }

    /// Digits that `level` adds to its parent's code.
    pub fn added_digits(&self, level: Level) -> usize {
        self.added[level.depth()] as usize
    }

    /// The most children one area of `level`'s parent may number at `level`
    /// (99 for two serial digits).
    pub fn max_children(&self, level: Level) -> u64 {
        10u64.saturating_pow(self.added_digits(level) as u32) - 1
    }

    /// Total digits of a code at `level`.
    pub fn width(&self, level: Level) -> usize {
        self.added[..=level.depth()]
            .iter()
            .map(|&d| d as usize)
            .sum()
    }

    /// The component code layout.
    pub fn component(&self) -> ComponentLayout {
        self.component
    }

    /// Parses an area code of a known level.
    pub fn parse_area(&self, level: Level, s: &str) -> Result<AreaCode, CodeError> {
        let value = parse_digits(s, self.width(level))?;
        let code = AreaCode {
            level,
            digits: self.width(level) as u8,
            value,
        };
        for l in Level::ALL.iter().take(level.depth() + 1) {
            if code.segment(self, *l) == 0 {
                return Err(CodeError::ZeroSegment {
                    code: s.to_string(),
                    part: l.name(),
                });
            }
        }
        Ok(code)
    }

    /// Parses an area code whose level is told by its length.
    pub fn parse_area_any(&self, s: &str) -> Result<AreaCode, CodeError> {
        let len = s.trim().len();
        let level = Level::ALL
            .into_iter()
            .find(|&l| self.width(l) == len)
            .ok_or_else(|| CodeError::WrongLength {
                code: s.to_string(),
                expected: Level::ALL
                    .iter()
                    .map(|&l| self.width(l).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                found: len,
            })?;
        self.parse_area(level, s)
    }

    /// The code of the `serial`-th child of `parent` (serials start at 1).
    ///
    /// An error, not an overflow, when the serial does not fit the child level's width.
    pub fn child(&self, parent: &AreaCode, serial: u64) -> Result<AreaCode, CodeError> {
        let level = parent.level.child().ok_or(CodeError::NoChildLevel)?;
        let width = self.added_digits(level);
        let max = 10u64.pow(width as u32) - 1;
        if serial == 0 || serial > max {
            return Err(CodeError::SerialOverflow {
                parent: parent.to_string(),
                serial,
                max,
            });
        }
        Ok(AreaCode {
            level,
            digits: parent.digits + width as u8,
            value: parent.value * 10u64.pow(width as u32) + serial,
        })
    }

    /// The top-level (city) code for a serial string such as `"3101"`.
    pub fn city(&self, s: &str) -> Result<AreaCode, CodeError> {
        self.parse_area(Level::City, s)
    }

    /// Parses a component code.
    pub fn parse_component(&self, s: &str) -> Result<ComponentCode, CodeError> {
        let c = self.component;
        let value = parse_digits(s, c.width())?;
        let code = ComponentCode { value, layout: c };
        for (part, v) in [
            ("district", code.district_value()),
            ("major class", code.major() as u64),
            ("minor class", code.minor() as u64),
            ("serial", code.serial()),
        ] {
            if v == 0 {
                return Err(CodeError::ZeroSegment {
                    code: s.to_string(),
                    part,
                });
            }
        }
        Ok(code)
    }

    /// Builds a component code from its parts, checking each fits its width.
    pub fn component_code(
        &self,
        district: &AreaCode,
        major: u32,
        minor: u32,
        serial: u64,
    ) -> Result<ComponentCode, CodeError> {
        let c = self.component;
        if district.level != Level::District {
            return Err(CodeError::NotADistrict(district.to_string()));
        }
        for (part, v, w) in [
            ("major class", major as u64, c.major),
            ("minor class", minor as u64, c.minor),
            ("serial", serial, c.serial),
        ] {
            let max = 10u64.pow(w as u32) - 1;
            if v == 0 || v > max {
                return Err(CodeError::PartOutOfRange {
                    part,
                    value: v,
                    max,
                });
            }
        }
        let value = ((district.value * 10u64.pow(c.major as u32) + major as u64)
            * 10u64.pow(c.minor as u32)
            + minor as u64)
            * 10u64.pow(c.serial as u32)
            + serial;
        Ok(ComponentCode { value, layout: c })
    }
}

fn parse_digits(s: &str, expected: usize) -> Result<u64, CodeError> {
    let t = s.trim();
    if let Some(pos) = t.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(CodeError::NotDigits {
            code: s.to_string(),
            position: pos + 1,
        });
    }
    if t.len() != expected {
        return Err(CodeError::WrongLength {
            code: s.to_string(),
            expected: expected.to_string(),
            found: t.len(),
        });
    }
    // At most 18 ASCII digits: always fits.
    Ok(t.parse::<u64>().expect("checked digits"))
}

/// A code of one area (city, district, street, community or unit grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AreaCode {
    level: Level,
    digits: u8,
    value: u64,
}

impl AreaCode {
    /// The level this code names.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.digits as usize
    }

    /// Codes always have digits; present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.digits == 0
    }

    /// The code as an integer (leading zeros are implied by [`AreaCode::len`]).
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The code of the enclosing area one level up.
    pub fn parent(&self, rule: &CodeRule) -> Option<AreaCode> {
        self.ancestor(rule, self.level.parent()?)
    }

    /// The code of the enclosing area at `level` (a level above this one, or itself).
    pub fn ancestor(&self, rule: &CodeRule, level: Level) -> Option<AreaCode> {
        if level > self.level {
            return None;
        }
        let width = rule.width(level);
        let drop = self.digits as usize - width;
        Some(AreaCode {
            level,
            digits: width as u8,
            value: self.value / 10u64.pow(drop as u32),
        })
    }

    /// True when this code is a strict descendant of `ancestor`: it starts with its digits.
    pub fn extends(&self, ancestor: &AreaCode) -> bool {
        ancestor.digits < self.digits
            && self.value / 10u64.pow((self.digits - ancestor.digits) as u32) == ancestor.value
    }

    /// The digits this level adds to its parent's code, as a number.
    pub fn serial(&self, rule: &CodeRule) -> u64 {
        self.segment(rule, self.level)
    }

    fn segment(&self, rule: &CodeRule, level: Level) -> u64 {
        let end = rule.width(level);
        let drop = self.digits as usize - end;
        (self.value / 10u64.pow(drop as u32)) % 10u64.pow(rule.added_digits(level) as u32)
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.value, width = self.digits as usize)
    }
}

impl Serialize for AreaCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A component code: district + major class + minor class + serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ComponentCode {
    value: u64,
    layout: ComponentLayout,
}

impl ComponentCode {
    fn split(&self) -> (u64, u32, u32, u64) {
        let l = self.layout;
        let serial = self.value % 10u64.pow(l.serial as u32);
        let rest = self.value / 10u64.pow(l.serial as u32);
        let minor = (rest % 10u64.pow(l.minor as u32)) as u32;
        let rest = rest / 10u64.pow(l.minor as u32);
        let major = (rest % 10u64.pow(l.major as u32)) as u32;
        let district = rest / 10u64.pow(l.major as u32);
        (district, major, minor, serial)
    }

    fn district_value(&self) -> u64 {
        self.split().0
    }

    /// The district code this component belongs to.
    pub fn district(&self, rule: &CodeRule) -> AreaCode {
        AreaCode {
            level: Level::District,
            digits: rule.width(Level::District) as u8,
            value: self.district_value(),
        }
    }

    /// Major class number.
    pub fn major(&self) -> u32 {
        self.split().1
    }

    /// Minor class number.
    pub fn minor(&self) -> u32 {
        self.split().2
    }

    /// Serial within district and class.
    pub fn serial(&self) -> u64 {
        self.split().3
    }

    /// The code as an integer.
    pub fn value(&self) -> u64 {
        self.value
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.value, width = self.layout.width())
    }
}

impl Serialize for ComponentCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a code was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeError {
    #[error("code `{code}` has {found} digits, expected {expected}")]
    WrongLength {
        code: String,
        expected: String,
        found: usize,
    },
    #[error("code `{code}` has a non-digit at character {position}")]
    NotDigits { code: String, position: usize },
    #[error("code `{code}` has an all-zero {part} part")]
    ZeroSegment { code: String, part: &'static str },
    #[error("child serial {serial} of `{parent}` is out of range 1..={max} for the code rule")]
    SerialOverflow {
        parent: String,
        serial: u64,
        max: u64,
    },
    #[error("{part} {value} is out of range 1..={max} for the code rule")]
    PartOutOfRange {
        part: &'static str,
        value: u64,
        max: u64,
    },
    #[error(
        "`{parent}` would take about {wanted} {level} areas; the code rule numbers at most \
         {max} under one parent ({hint})"
    )]
    TooManyChildren {
        parent: String,
        level: &'static str,
        wanted: u64,
        max: u64,
        hint: String,
    },
    #[error("unit grids have no child level")]
    NoChildLevel,
    #[error("`{0}` is not a district code")]
    NotADistrict(String),
    #[error("unknown level `{0}` (expected city, district, street, community or grid)")]
    UnknownLevel(String),
    #[error("code `{child}` does not extend its parent's code `{parent}`")]
    NotExtendingParent { child: String, parent: String },
}

/// Why a code rule file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeRuleError {
    #[error("{file}: cannot read code rule: {message}")]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: invalid code rule: {message}")]
    Invalid { file: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn national_widths() {
        let r = CodeRule::national();
        assert_eq!(r.width(Level::City), 4);
        assert_eq!(r.width(Level::District), 6);
        assert_eq!(r.width(Level::Street), 9);
        assert_eq!(r.width(Level::Community), 12);
        assert_eq!(r.width(Level::Grid), 14);
        assert_eq!(r.component().width(), 16);
    }

    #[test]
    fn fifteen_digit_rule_from_toml() {
        let text = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=3\n\
                    [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
        let r = CodeRule::from_toml_str(text, "rule.toml").unwrap();
        assert_eq!(r.width(Level::Grid), 15);
        let g = r.parse_area(Level::Grid, "310101002003123").unwrap();
        assert_eq!(g.serial(&r), 123);
        assert!(r.parse_area(Level::Grid, "31010100200312").is_err());
        // round trip of the rule itself
        assert_eq!(CodeRule::from_toml_str(&r.to_toml(), "x").unwrap(), r);
    }

    #[test]
    fn rule_file_errors_name_file_and_key() {
        let unknown = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=2\nblock=2\n\
                       [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
        let e = CodeRule::from_toml_str(unknown, "rule.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rule.toml") && e.contains("block"), "{e}");
        let bad_district = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=2\n\
                       [component]\ndistrict=5\nmajor=2\nminor=2\nserial=6\n";
        let e = CodeRule::from_toml_str(bad_district, "rule.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("district width 5"), "{e}");
        let zero = "[area]\ncity=4\ndistrict=2\nstreet=0\ncommunity=3\ngrid=2\n\
                       [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
        assert!(CodeRule::from_toml_str(zero, "r").is_err());
    }

    #[test]
    fn shipped_rule_is_national() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/code_rule.toml");
        assert_eq!(CodeRule::load(&path).unwrap(), CodeRule::national());
    }

    #[test]
    fn parent_child_rule() {
        let r = CodeRule::national();
        let city = r.city("3101").unwrap();
        let district = r.child(&city, 1).unwrap();
        assert_eq!(district.to_string(), "310101");
        let street = r.child(&district, 2).unwrap();
        let community = r.child(&street, 3).unwrap();
        let grid = r.child(&community, 99).unwrap();
        assert_eq!(grid.to_string(), "31010100200399");
        assert!(grid.extends(&community) && grid.extends(&street) && grid.extends(&city));
        assert!(!community.extends(&grid));
        assert!(!grid.extends(&grid));
        assert_eq!(grid.ancestor(&r, Level::District), Some(district));
        let other = r.parse_area(Level::Community, "310101002004").unwrap();
        assert!(!grid.extends(&other));
        // the 2-digit serial overflows at 100: an error, not a wrap
        assert!(matches!(
            r.child(&community, 100),
            Err(CodeError::SerialOverflow { max: 99, .. })
        ));
        assert!(r.child(&community, 0).is_err());
        assert!(r.child(&grid, 1).is_err());
    }

    #[test]
    fn malformed_codes_rejected() {
        let r = CodeRule::national();
        for bad in [
            "",
            "3101010020030a",
            "310101002003",
            "31010100200300",
            "0000010020031",
        ] {
            assert!(r.parse_area(Level::Grid, bad).is_err(), "{bad}");
        }
        assert!(matches!(
            r.parse_area(Level::Grid, "31010100000301"),
            Err(CodeError::ZeroSegment { part: "street", .. })
        ));
        assert!(r.parse_component("3101010101000000").is_err()); // zero serial
        assert!(r.parse_component("310101010100001").is_err()); // 15 digits
        let c = r.parse_component("3101010302000042").unwrap();
        assert_eq!((c.major(), c.minor(), c.serial()), (3, 2, 42));
        assert_eq!(c.district(&r).to_string(), "310101");
    }

    fn grid_code() -> impl Strategy<Value = (u64, u64, u64, u64, u64)> {
        (1u64..=9999, 1u64..=99, 1u64..=999, 1u64..=999, 1u64..=99)
    }

    proptest! {
        #[test]
        fn area_codes_round_trip((c, d, s, m, g) in grid_code()) {
            let r = CodeRule::national();
            let text = format!("{c:04}{d:02}{s:03}{m:03}{g:02}");
            let code = r.parse_area(Level::Grid, &text).unwrap();
            prop_assert_eq!(code.to_string(), text.clone());
            prop_assert_eq!(r.parse_area_any(&text).unwrap(), code);
            // built child by child gives the same code
            let built = [d, s, m, g].iter().fold(r.city(&format!("{c:04}")).unwrap(), |p, &n| r.child(&p, n).unwrap());
            prop_assert_eq!(built, code);
            let mut up = code;
            while let Some(p) = up.parent(&r) {
                prop_assert!(code.extends(&p));
                prop_assert!(text.starts_with(&p.to_string()));
                up = p;
            }
        }

        #[test]
        fn component_codes_round_trip(d in 1u64..=999_999, maj in 1u32..=99, min in 1u32..=99, ser in 1u64..=999_999) {
            let r = CodeRule::national();
            let text = format!("{d:06}{maj:02}{min:02}{ser:06}");
            let c = r.parse_component(&text).unwrap();
            prop_assert_eq!(c.to_string(), text);
            prop_assert_eq!((c.major(), c.minor(), c.serial()), (maj, min, ser));
            if d % 100 != 0 && d / 100 != 0 {
                let dc = r.parse_area(Level::District, &format!("{d:06}")).unwrap();
                prop_assert_eq!(r.component_code(&dc, maj, min, ser).unwrap(), c);
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,20}") {
            let r = CodeRule::national();
            let _ = r.parse_area_any(&s);
            let _ = r.parse_component(&s);
        }

        #[test]
        fn wrong_length_digit_strings_rejected(s in "[0-9]{1,18}") {
            let r = CodeRule::national();
            if s.len() != 14 {
                prop_assert!(r.parse_area(Level::Grid, &s).is_err());
            }
            if s.len() != 16 {
                prop_assert!(r.parse_component(&s).is_err());
            }
        }
    }
}
