//! What the indicators read from a case, so the written record and the simulation's
//! compact in-memory case serve them alike.

use crate::timeline::CaseRecord;

/// What the indicators read from one case of a timeline: implemented by the written
/// record ([`CaseRecord`]) and by the simulation's compact in-memory case, so a
/// megacity year's indicators need no text records in memory.
pub trait CaseTimes {
    fn occurred_at(&self) -> i64;
    fn intake_at(&self) -> Option<i64>;
    fn dispatched_at(&self) -> Option<i64>;
    fn assigned_at(&self) -> Option<i64>;
    fn arrived_at(&self) -> Option<i64>;
    fn closed_at(&self) -> Option<i64>;
    fn deadline(&self) -> Option<i64>;
    fn escalated(&self) -> bool;
    /// Closed by the party's compliance on the escalation ladder (no crew sent).
    fn closed_by_compliance(&self) -> bool;
    fn category(&self) -> &str;
    fn lon_lat(&self) -> (f64, f64);
    /// Seconds a crew's trip to the case lost at signals to other emergency vehicles.
    fn signal_delay_s(&self) -> i64 {
        0
    }
    /// Seconds a crew waited for a road to reopen to a place cut off by closures.
    fn cut_off_s(&self) -> i64 {
        0
    }
    fn verified_at(&self) -> Option<i64> {
        None
    }
    fn handled_at(&self) -> Option<i64> {
        None
    }
    fn checked_at(&self) -> Option<i64> {
        None
    }
    /// Declined at registration (不予立案).
    fn not_registered(&self) -> bool {
        false
    }
    /// The department cases of this category go to ("" where unknown).
    fn department(&self) -> &str {
        ""
    }
    /// Timed on natural hours (the emergencies).
    fn natural_time(&self) -> bool {
        false
    }
    /// When the case turns amber (黄灯), and the step deadlines.
    fn amber_at(&self) -> Option<i64> {
        None
    }
    fn verify_due(&self) -> Option<i64> {
        None
    }
    fn dispatch_due(&self) -> Option<i64> {
        None
    }
    fn handle_due(&self) -> Option<i64> {
        None
    }
    fn check_due(&self) -> Option<i64> {
        None
    }
    /// Checks that failed (返工).
    fn rework(&self) -> u32 {
        0
    }
    /// Seconds waited in the department's queue over every pass, where recorded.
    fn queue_wait_s(&self) -> Option<i64> {
        None
    }
    /// Times a crew was taken off the case for an emergency.
    fn preempted(&self) -> u32 {
        0
    }
    /// The hotline call, where a call centre is modelled: (came in, answered, hung up).
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        None
    }
    /// Priority at arrival (0 routine, 2 a hazard's emergency, 3 life-threatening).
    fn arrival_priority(&self) -> u8 {
        0
    }
    /// Went through an escalation ladder: its dispatch waited by policy, so its
    /// response is not a response time.
    fn laddered(&self) -> bool {
        false
    }
    /// Its time limit was extended (延期).
    fn extended(&self) -> bool {
        false
    }
    /// When a crew first reached it (the response), by default the recorded arrival.
    fn first_arrived_at(&self) -> Option<i64> {
        self.arrived_at()
    }
    /// Times a crew took it from the queue, where recorded.
    fn passes(&self) -> Option<u32> {
        None
    }
}

impl CaseTimes for CaseRecord {
    fn occurred_at(&self) -> i64 {
        self.occurred_at
    }
    fn intake_at(&self) -> Option<i64> {
        self.intake_at
    }
    fn dispatched_at(&self) -> Option<i64> {
        self.dispatched_at
    }
    fn assigned_at(&self) -> Option<i64> {
        self.assigned_at
    }
    fn arrived_at(&self) -> Option<i64> {
        self.arrived_at
    }
    fn closed_at(&self) -> Option<i64> {
        self.closed_at
    }
    fn deadline(&self) -> Option<i64> {
        self.deadline
    }
    fn escalated(&self) -> bool {
        self.escalated
    }
    fn closed_by_compliance(&self) -> bool {
        self.closed_by.starts_with("compliance")
    }
    fn category(&self) -> &str {
        &self.category
    }
    fn lon_lat(&self) -> (f64, f64) {
        (self.lon, self.lat)
    }
    fn signal_delay_s(&self) -> i64 {
        self.signal_delay_s
    }
    fn cut_off_s(&self) -> i64 {
        self.cut_off_s
    }
    fn verified_at(&self) -> Option<i64> {
        self.verified_at
    }
    fn handled_at(&self) -> Option<i64> {
        self.handled_at
    }
    fn checked_at(&self) -> Option<i64> {
        self.checked_at
    }
    fn not_registered(&self) -> bool {
        &*self.closed_by == "not_registered"
    }
    fn department(&self) -> &str {
        &self.department
    }
    fn natural_time(&self) -> bool {
        &*self.time_basis == "natural"
    }
    fn amber_at(&self) -> Option<i64> {
        self.amber_at
    }
    fn verify_due(&self) -> Option<i64> {
        self.verify_due
    }
    fn dispatch_due(&self) -> Option<i64> {
        self.dispatch_due
    }
    fn handle_due(&self) -> Option<i64> {
        self.handle_due
    }
    fn check_due(&self) -> Option<i64> {
        self.check_due
    }
    fn rework(&self) -> u32 {
        self.rework
    }
    fn queue_wait_s(&self) -> Option<i64> {
        self.queue_wait_s
    }
    fn preempted(&self) -> u32 {
        self.preempted
    }
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        Some((self.call_at?, self.call_answered_at, self.call_hung_up_at))
    }
    fn arrival_priority(&self) -> u8 {
        self.priority
    }
    fn laddered(&self) -> bool {
        !self.ladder.is_empty()
    }
    fn extended(&self) -> bool {
        self.extended
    }
    fn first_arrived_at(&self) -> Option<i64> {
        self.first_arrived_at.or(self.arrived_at)
    }
    fn passes(&self) -> Option<u32> {
        // (0 in a history that does not record it: counted from its other columns)
        (self.passes > 0).then_some(self.passes)
    }
}
