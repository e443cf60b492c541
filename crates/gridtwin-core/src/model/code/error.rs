//! Why a code, or a code rule file, was refused.

use thiserror::Error;

use super::Level;

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

/// Why the widths of a code rule were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidCodeRule {
    #[error("level `{0}` must add at least one digit")]
    LevelAddsNothing(Level),
    #[error("unit-grid codes would have {digits} digits; at most {max} are supported")]
    GridCodeTooLong { digits: usize, max: usize },
    #[error("component major, minor and serial widths must be at least 1")]
    ComponentPartEmpty,
    #[error("component codes would have {digits} digits; at most {max} are supported")]
    ComponentCodeTooLong { digits: usize, max: usize },
    #[error(
        "component district width {component} differs from the district code width {area} \
         (city + district)"
    )]
    DistrictWidth { component: u8, area: usize },
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
