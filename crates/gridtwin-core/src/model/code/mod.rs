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

//!
//! Files by concern: `rule` (the [`CodeRule`] and its file), `area_code` and
//! `component_code` (the parsed codes), `error` (why a code or a rule was refused);
//! the levels of the hierarchy are here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod area_code;
mod component_code;
mod error;
mod rule;
#[cfg(test)]
mod tests;

pub use area_code::AreaCode;
pub use component_code::ComponentCode;
pub use error::{CodeError, CodeRuleError, InvalidCodeRule};
pub use rule::{CodeRule, ComponentLayout};

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
