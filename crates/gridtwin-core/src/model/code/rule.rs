//! The code rule: how many digits each level adds and the component code layout,
//! read from a TOML file, and parsing and building codes under it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AreaCode, CodeError, CodeRuleError, ComponentCode, InvalidCodeRule, Level};

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
    pub fn new(added: [u8; 5], component: ComponentLayout) -> Result<Self, InvalidCodeRule> {
        if let Some(l) = Level::ALL.iter().find(|l| added[l.depth()] == 0) {
            return Err(InvalidCodeRule::LevelAddsNothing(*l));
        }
        let total: usize = added.iter().map(|&d| d as usize).sum();
        if total > MAX_DIGITS {
            return Err(InvalidCodeRule::GridCodeTooLong {
                digits: total,
                max: MAX_DIGITS,
            });
        }
        let c = component;
        if c.major == 0 || c.minor == 0 || c.serial == 0 {
            return Err(InvalidCodeRule::ComponentPartEmpty);
        }
        if c.width() > MAX_DIGITS {
            return Err(InvalidCodeRule::ComponentCodeTooLong {
                digits: c.width(),
                max: MAX_DIGITS,
            });
        }
        let district_width = added[0] as usize + added[1] as usize;
        if c.district as usize != district_width {
            return Err(InvalidCodeRule::DistrictWidth {
                component: c.district,
                area: district_width,
            });
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
        .map_err(|e| CodeRuleError::Invalid {
            file: source.to_string(),
            message: e.to_string(),
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
        self.parse_component_classes(s).map(|(code, _, _)| code)
    }

    /// [`CodeRule::parse_component`], with the code's major and minor class numbers
    /// read in the same pass (a loader looks each code's category up at once).
    pub fn parse_component_classes(&self, s: &str) -> Result<(ComponentCode, u32, u32), CodeError> {
        match self.component_parts_fast(s) {
            Some(parts) => self.component_of_parts(s, parts),
            None => self.component_of_parts(s, self.component_parts(s)?),
        }
    }

    /// A code's four parts (district, major, minor, serial) where it is exactly the
    /// layout's width of ASCII digits (the usual case: each part read in a loop of
    /// its own, no trimming, no position kept for an error); `None` otherwise, for
    /// [`CodeRule::component_parts`] to judge.
    fn component_parts_fast(&self, s: &str) -> Option<[u64; 4]> {
        let c = self.component;
        let b = s.as_bytes();
        if b.len() != c.width() {
            return None;
        }
        let (mut parts, mut at, mut bad) = ([0u64; 4], 0usize, false);
        for (part, w) in parts
            .iter_mut()
            .zip([c.district, c.major, c.minor, c.serial])
        {
            let mut v = 0u64;
            for &x in &b[at..at + w as usize] {
                let d = x.wrapping_sub(b'0');
                bad |= d > 9;
                // (wrapping: a non-digit's value is thrown away below)
                v = v.wrapping_mul(10).wrapping_add(d as u64);
            }
            *part = v;
            at += w as usize;
        }
        (!bad).then_some(parts)
    }

    /// A code's four parts, trimmed and checked digit by digit (the error names the
    /// first character that is not a digit, or the length).
    fn component_parts(&self, s: &str) -> Result<[u64; 4], CodeError> {
        let c = self.component;
        let t = check_digits(s, c.width())?;
        let ends = [
            c.district as usize,
            (c.district + c.major) as usize,
            (c.district + c.major + c.minor) as usize,
            c.width(),
        ];
        let (mut parts, mut k) = ([0u64; 4], 0usize);
        for (i, &b) in t.as_bytes().iter().enumerate() {
            while i >= ends[k] {
                k += 1;
            }
            parts[k] = parts[k] * 10 + (b - b'0') as u64;
        }
        Ok(parts)
    }

    /// The code of its four parts, each of which must be non-zero.
    fn component_of_parts(
        &self,
        s: &str,
        parts: [u64; 4],
    ) -> Result<(ComponentCode, u32, u32), CodeError> {
        let c = self.component;
        for (part, v) in ["district", "major class", "minor class", "serial"]
            .into_iter()
            .zip(parts)
        {
            if v == 0 {
                return Err(CodeError::ZeroSegment {
                    code: s.to_string(),
                    part,
                });
            }
        }
        // (the digits side by side: at most 18 of them, so no overflow)
        let shift = |v: u64, w: u8| v * 10u64.pow(w as u32);
        let value = shift(
            shift(shift(parts[0], c.major) + parts[1], c.minor) + parts[2],
            c.serial,
        ) + parts[3];
        Ok((
            ComponentCode { value, layout: c },
            parts[1] as u32,
            parts[2] as u32,
        ))
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
    let t = check_digits(s, expected)?;
    // At most 18 ASCII digits, all checked: always fits.
    Ok(t.bytes().fold(0u64, |v, b| v * 10 + (b - b'0') as u64))
}

/// `s` trimmed, if it is `expected` ASCII digits; else the first non-digit (counted
/// from 1 in the trimmed text) or the wrong length.
fn check_digits(s: &str, expected: usize) -> Result<&str, CodeError> {
    // (a code that starts and ends with a digit has nothing to trim: the usual case,
    // and `trim` decodes a character at each end)
    let b = s.as_bytes();
    let t = if b.first().is_some_and(u8::is_ascii_digit) && b.last().is_some_and(u8::is_ascii_digit)
    {
        s
    } else {
        s.trim()
    };
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
    Ok(t)
}
