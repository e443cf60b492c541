//! The case loop's steps: step durations, dispatch and hand-overs between
//! departments, and the graded escalation ladders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Duration;

/// Durations of the loop's steps; `handle` may be overridden per category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    pub verify: Duration,
    pub handle: Duration,
    pub feedback: Duration,
    pub check: Duration,
    /// Category (`event:0101`, `component:0107`, or a bare code naming one kind
    /// only) → handling time.
    #[serde(default)]
    pub handle_by_category: BTreeMap<String, Duration>,
    /// Probability that the check — a grid worker's visit to the spot — finds the
    /// problem not solved (返工): the case goes back to its department's queue with its
    /// original deadline. Per department in `check_failure_by_department`.
    #[serde(default)]
    pub check_failure: f64,
    #[serde(default)]
    pub check_failure_by_department: BTreeMap<String, f64>,
    /// Probability that the centre declines to register a report (不予立案: not within
    /// its remit, or not a real problem), closing it at verification.
    #[serde(default)]
    pub not_registered: f64,
    /// Probability that the department, on receiving a case, applies for an extension
    /// of its time limit (延期) and is granted `extension_hours` more (on the
    /// category's basis).
    #[serde(default)]
    pub extension: f64,
    #[serde(default)]
    pub extension_hours: f64,
}

/// Dispatch delays per routing rule, and routing overrides per category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    pub owner_delay: Duration,
    pub territory_delay: Duration,
    pub negotiated_delay: Duration,
    pub designated_delay: Duration,
    /// Category class code → routing (`owner`, `territory`, `negotiated`, `designated`).
    #[serde(default)]
    pub routing: BTreeMap<String, String>,
    /// Cases of at least this priority that find no free crew take the nearest crew of
    /// their department busy with lower-priority work (pre-emption); that case goes
    /// back to the queue. Unset: no pre-emption.
    #[serde(default)]
    pub preempt_at_priority: Option<u8>,
    /// Categories the street (属地) handles itself when routed by territory: `kind:code`
    /// or a bare code. Any other territorial case is forwarded (转派) to its owner
    /// department. Unset: streets handle every territorial category.
    #[serde(default)]
    pub street_capable: Option<Vec<String>>,
    /// Probability that a department receiving a case returns it as not its own
    /// (退单) — owner (duty-list) and forwarded cases; each return is a hand-over
    /// back and forth. After `designate_after` returns the centre designates (指定)
    /// the department, which cannot return it.
    #[serde(default)]
    pub return_probability: f64,
    #[serde(default = "default_designate_after")]
    pub designate_after: u8,
    /// Time each hand-over takes (forwarding, a return and its re-sending).
    #[serde(default = "default_hop")]
    pub hop_delay: Duration,
}

fn default_designate_after() -> u8 {
    2
}

fn default_hop() -> Duration {
    Duration::Fixed { minutes: 0.0 }
}

/// One stage of a graded escalation ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStage {
    /// What happens (`notify`, `visit`): for the timeline.
    pub action: String,
    pub delay: Duration,
    /// Chance the party complies at this stage, closing the case without a crew.
    pub compliance: f64,
}
