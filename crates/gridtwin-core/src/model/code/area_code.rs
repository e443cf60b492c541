//! The code of one area: its level, digits and value, and how it nests in its
//! ancestors' codes.

use std::fmt;

use serde::Serialize;

use super::{CodeRule, Level};

/// A code of one area (city, district, street, community or unit grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AreaCode {
    pub(super) level: Level,
    pub(super) digits: u8,
    pub(super) value: u64,
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

    pub(super) fn segment(&self, rule: &CodeRule, level: Level) -> u64 {
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
