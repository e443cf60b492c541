//! City components: fixed objects (manhole covers, lamps, hydrants…), coded and owned.

use std::str::FromStr;
use std::sync::Arc;

use geo::Point;
use serde::{Deserialize, Serialize};
pub use smol_str::SmolStr;

use crate::category::{CategoryKey, CategoryKind};
use crate::code::ComponentCode;
use crate::parse::ParseEnumError;

/// Condition of a component as surveyed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    #[default]
    InService,
    Damaged,
    Missing,
    Removed,
}

impl ComponentStatus {
    pub fn name(self) -> &'static str {
        match self {
            ComponentStatus::InService => "in_service",
            ComponentStatus::Damaged => "damaged",
            ComponentStatus::Missing => "missing",
            ComponentStatus::Removed => "removed",
        }
    }
}

impl FromStr for ComponentStatus {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.trim() {
            "" | "in_service" => Ok(ComponentStatus::InService),
            "damaged" => Ok(ComponentStatus::Damaged),
            "missing" => Ok(ComponentStatus::Missing),
            "removed" => Ok(ComponentStatus::Removed),
            o => Err(ParseEnumError::new(
                "status",
                o,
                "in_service, damaged, missing or removed",
            )),
        }
    }
}

/// A surveyed city component. Its category is the major/minor class in its code.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub code: ComponentCode,
    /// WGS-84 lon/lat.
    pub location: Point<f64>,
    /// Owning department (defaults to the category's department): shared text, as a
    /// city has a few dozen departments and millions of components.
    pub department: Arc<str>,
    pub status: ComponentStatus,
    /// Identifier in the source data (e.g. `osm:node/123`), for tracing back: inline
    /// up to 23 bytes, so a component carries no heap string of its own.
    pub source_id: SmolStr,
}

impl Component {
    /// The component's category key, read from its code.
    pub fn category(&self) -> CategoryKey {
        CategoryKey {
            kind: CategoryKind::Component,
            major: self.code.major(),
            minor: self.code.minor(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A megacity holds 12 M components: each byte is 12 MB (issue 19).
    #[test]
    fn a_component_takes_72_bytes() {
        assert_eq!(std::mem::size_of::<ComponentCode>(), 12);
        assert_eq!(std::mem::size_of::<Component>(), 72);
    }
}
