//! Who works the cases: crew pools and their shifts, and the command centre's staff.

use serde::{Deserialize, Serialize};

use super::Duration;

/// A pool of crews.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrewPool {
    /// Department whose owner/duty-list cases it takes (as in the category table).
    pub department: String,
    pub count: u32,
    /// Also takes territorial cases (street/community level crews).
    #[serde(default)]
    pub territorial: bool,
    /// `centre`: all at the city centre; `spread`: one per grid, spread over the city.
    #[serde(default = "default_base")]
    pub base: String,
    /// Local hours on duty, `HH:MM-HH:MM` (`00:00-24:00`: always).
    #[serde(default = "default_shift")]
    pub shift: String,
}

fn default_base() -> String {
    "centre".into()
}
pub(super) fn default_shift() -> String {
    "00:00-24:00".into()
}

/// The command centre's staff: intake operators (受理员) register every report, one at a
/// time each — `registration` replaces `steps.verify` —, and dispatchers (派遣员) decide
/// where each case goes — `dispatching` comes before the routing rule's delay. Cases
/// wait for a free one in arrival order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentreStaff {
    pub intake_staff: u32,
    pub registration: Duration,
    pub dispatchers: u32,
    pub dispatching: Duration,
}

/// Parses a crew shift `HH:MM-HH:MM` (the calendar's period syntax).
pub fn parse_shift(s: &str) -> Result<(i64, i64), String> {
    crate::calendar::parse_period(s)
}
