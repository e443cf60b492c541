//! Incidents (events 事件): something that happened, with a category, place, time and
//! source, and optionally the case timeline that followed.

use std::str::FromStr;

use geo::Point;
use serde::{Deserialize, Serialize};

use crate::category::CategoryKey;
use crate::parse::ParseEnumError;

/// How an incident entered the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeSource {
    /// Found by a grid worker on patrol.
    Patrol,
    /// Reported by a citizen (hotline, app).
    Hotline,
    /// Detected by a camera or IoT sensor.
    Sensor,
}

impl IntakeSource {
    pub const ALL: [IntakeSource; 3] = [
        IntakeSource::Patrol,
        IntakeSource::Hotline,
        IntakeSource::Sensor,
    ];
    pub fn name(self) -> &'static str {
        match self {
            IntakeSource::Patrol => "patrol",
            IntakeSource::Hotline => "hotline",
            IntakeSource::Sensor => "sensor",
        }
    }
}

impl FromStr for IntakeSource {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.trim() {
            "patrol" => Ok(IntakeSource::Patrol),
            "hotline" => Ok(IntakeSource::Hotline),
            "sensor" | "camera" => Ok(IntakeSource::Sensor),
            o => Err(ParseEnumError::new(
                "source",
                o,
                "patrol, hotline or sensor",
            )),
        }
    }
}

/// The steps of the closed case loop after intake, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStep {
    Verify,
    Dispatch,
    Handle,
    Feedback,
    Check,
    Close,
}

impl CaseStep {
    pub const ALL: [CaseStep; 6] = [
        CaseStep::Verify,
        CaseStep::Dispatch,
        CaseStep::Handle,
        CaseStep::Feedback,
        CaseStep::Check,
        CaseStep::Close,
    ];
    /// Column name of the step's time in files (`verified_at`, …).
    pub fn column(self) -> &'static str {
        match self {
            CaseStep::Verify => "verified_at",
            CaseStep::Dispatch => "dispatched_at",
            CaseStep::Handle => "handled_at",
            CaseStep::Feedback => "feedback_at",
            CaseStep::Check => "checked_at",
            CaseStep::Close => "closed_at",
        }
    }
}

/// Times (Unix seconds, UTC) at which a case passed each step; `None` = not yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseTimeline {
    pub steps: [Option<i64>; 6],
}

impl CaseTimeline {
    pub fn at(&self, step: CaseStep) -> Option<i64> {
        self.steps[step as usize]
    }

    /// Checks steps never go back in time, and none is before intake.
    pub fn check(&self, intake: i64) -> Result<(), String> {
        let mut last = ("intake", intake);
        for step in CaseStep::ALL {
            if let Some(t) = self.at(step) {
                if t < last.1 {
                    return Err(format!("{} is before {}", step.column(), last.0));
                }
                last = (step.column(), t);
            }
        }
        Ok(())
    }
}

/// An incident with its case timeline, if known.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub category: CategoryKey,
    /// WGS-84 lon/lat.
    pub location: Point<f64>,
    /// Intake time, Unix seconds UTC.
    pub time: i64,
    pub source: IntakeSource,
    pub timeline: Option<CaseTimeline>,
}
