//! The discrete-event engine of the closed case loop.
//!
//! intake → verify → (graded escalation ladder) → dispatch → crew travels → handle →
//! feedback → check → close, with working-hour deadlines and overdue escalation.
//! One [`EventQueue`] ordered by (time, sequence); randomness keyed per case and
//! purpose ([`crate::rng`]), so a replication is the same at any thread count and
//! scenarios compared on one seed share their arriving incidents.
//!
//! The map (A/B Street's shape: one state, each command to its owner):
//! - the [`World`], built once from a scenario and a city and shared by every
//!   replication: `world` assembles `grids`, `categories` (with the arrival sources),
//!   `crews` (with the grid workers' beats), `hazards` (timed closures, a storm's
//!   flooding, a fire) and `signals`;
//! - a replication, a `Run` (`run`): `Run::new` draws its incidents and queues their
//!   intakes, `Run::step` hands each event to the method named for it —
//!   `case_events` (intake, verification, the ladder, dispatch, arrival, handling,
//!   feedback, the check, the deadline) and `people_events` (calls, the centre's
//!   operators, grid workers, crews coming free, shifts) —, `Run::finish` gives the
//!   [`Replication`];
//! - what both use: `arrivals` (thinning, discovery), `case` (the compact case),
//!   `dispatch` (routing and hand-overs), `roads` (trips, closures), `clock` (local
//!   time, deadlines, shifts), `draw` (laws by inverse CDF), `start` (the warm start).

use std::collections::BTreeSet;

use gridtwin_core::frame::LocalFrame;
use gridtwin_core::locate::{GridLocator, LocatorOptions};
use gridtwin_core::prepared::PreparedPolygon;
use gridtwin_core::{CategoryKind, CategoryTable, City, IntakeSource, Level, Routing};

use crate::calendar::WorkingCalendar;
use crate::free_crews::FreeCrews;
use crate::network::{Closed, RoadNetwork};
use crate::queue::EventQueue;
use crate::rng::{text_id, uniform, Stream};
use crate::scenario::{parse_shift, DiscoveryMode, Duration, LadderStage, Scenario, TravelMode};
use crate::timeline::{CaseName, CaseRecord, CaseRow, ContentionRecord, CrewRecord, Text};

mod arrivals;
mod case;
mod case_events;
mod categories;
mod clock;
mod crews;
mod dispatch;
mod draw;
mod grids;
mod hazards;
mod ids;
mod people_events;
mod replication;
mod roads;
mod run;
mod signals;
mod start;
mod world;

pub use case::SimCase;
pub use replication::Replication;
pub use run::run;
pub use world::{StartState, World, WorldError};
// (the concerns see each other's items through the module, as one file did)
#[allow(unused_imports)]
use self::{
    arrivals::*, case::*, categories::*, clock::*, crews::*, dispatch::*, draw::*, grids::*,
    hazards::*, ids::*, replication::*, roads::*, run::*, signals::*, start::*, world::*,
};

// Purposes of keyed random numbers.
const P_SPOT: u64 = 2;
const P_PATROL: u64 = 3;
const P_HOTLINE: u64 = 4;
const P_HOTLINE_DELAY: u64 = 5;
const P_SENSOR: u64 = 6;
const P_VERIFY: u64 = 7;
const P_DISPATCH: u64 = 8;
const P_HANDLE: u64 = 9;
const P_FEEDBACK: u64 = 10;
const P_CHECK: u64 = 11;
const P_LADDER: u64 = 12;
const P_PHASE: u64 = 13;
const P_CHECK_FAIL: u64 = 14;
const P_REGISTER: u64 = 15;
const P_HOP: u64 = 16;
const P_CALL: u64 = 18;
const P_RECUR: u64 = 20;
const P_VISIT: u64 = 21;
const P_STATION: u64 = 22;
const P_EXTEND: u64 = 23;
const P_TRAVEL: u64 = 24;
/// The stream of problems that came back after a compliance closure.
const RECURRENCE_STREAM: u64 = 0x5245_4355_5252; // "RECURR"
const P_PATIENCE: u64 = 19;
const P_RETURN: u64 = 17;
/// Draw index step per handling pass, so a reworked case's passes draw afresh (and a
/// pre-empted one's restarts, numbered within the pass).
const PASS: u64 = 1 << 16;
/// The stream of incidents raised by hazards (floods, fires), in the order raised.
const HAZARD_STREAM: u64 = 0x4841_5a41_5244; // "HAZARD"
/// The stream of the cases open at a warm start.
const START_STREAM: u64 = 0x5354_4152_5453; // "STARTS"

#[derive(Clone, Copy, Debug)]
enum Ev {
    Intake(CaseId),
    Verified(CaseId),
    Ladder(CaseId, u8),
    Dispatch(CaseId),
    /// (case, its assignment generation: a pre-empted assignment's events are void)
    Arrive(CaseId, u8),
    Handled(CaseId, u8),
    Checked(CaseId),
    Deadline(CaseId),
    /// A citizen's hotline call reaches the call centre; an agent finishes it; the
    /// caller hangs up while waiting.
    Call(CaseId),
    CallDone(CaseId),
    HangUp(CaseId),
    /// A grid worker finishes what it was doing (a grid of its route, or a task).
    WorkerStep(u32),
    /// An intake found in the loop (a worker's patrol, an answered call) by this
    /// channel: the channel is the case's source only if it is first to take it in.
    IntakeFrom(CaseId, IntakeSource),
    /// A centre operator finishes a case at a station.
    StationDone(Station, CaseId),
    /// The department reports a case handled: with grid workers, a check visit is due.
    Feedback(CaseId),
    CrewFree(CrewId),
    /// A shift group comes on duty / goes off duty.
    ShiftStart(u32),
    ShiftEnd(u32),
}

impl Ev {
    /// The case the event is about, if any.
    fn case(&self) -> Option<CaseId> {
        match *self {
            Ev::Intake(id)
            | Ev::Verified(id)
            | Ev::Ladder(id, _)
            | Ev::Dispatch(id)
            | Ev::Arrive(id, _)
            | Ev::Handled(id, _)
            | Ev::Checked(id)
            | Ev::Deadline(id)
            | Ev::Call(id)
            | Ev::CallDone(id)
            | Ev::HangUp(id)
            | Ev::IntakeFrom(id, _)
            | Ev::StationDone(_, id)
            | Ev::Feedback(id) => Some(id),
            Ev::WorkerStep(_) | Ev::CrewFree(_) | Ev::ShiftStart(_) | Ev::ShiftEnd(_) => None,
        }
    }
}

/// The command centre's two stations: its operators register a case, then dispatch
/// it (the index of each station's operators and queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Station {
    Registration = 0,
    Dispatching = 1,
}
