//! A case in the run: its step times, compact in memory, and how one begins.

use super::*;

/// A case as the loop keeps it: indices and times; the text record
/// ([`Replication::record`]) is made only when written, so a megacity year's
/// timeline stays compact in memory.
#[derive(Clone)]
pub struct SimCase {
    /// The incident's identity key ([`Arrival`]): every draw for the case is keyed by it.
    pub(super) key: u64,
    pub(super) category_text: Text,
    pub(super) category: u16,
    pub(super) source: u8,
    /// Escalation-ladder stages passed.
    pub(super) ladder: u8,
    /// Closed by compliance at this stage (`u8::MAX`: not); while the closure's
    /// check is pending, the stage whose compliance is being checked.
    pub(super) complied: u8,
    /// Declined at registration (不予立案): closed at verification, never due.
    pub(super) declined: bool,
    /// Checks that found the problem not solved (返工): handling passes − 1.
    pub(super) rework: u8,
    /// Priority at arrival (`priority` rises when the case falls overdue).
    pub(super) arrival_priority: u8,
    pub(super) natural_time: bool,
    pub(super) department_text: Text,
    /// When it turns amber, and the step deadlines (set as each step's clock starts).
    pub(super) amber_at: i64,
    pub(super) verify_due: i64,
    pub(super) dispatch_due: i64,
    pub(super) handle_due: i64,
    pub(super) check_due: i64,
    /// Seconds spent waiting for a crew in the department's queue, over all passes.
    pub(super) queue_wait: i64,
    /// Forwarded by the street to the owner department (转派), times returned as not
    /// the department's (退单), and the seconds those hand-overs took.
    pub(super) forwarded: bool,
    pub(super) returns: u8,
    pub(super) dispute: i64,
    /// The case whose compliance closure this problem came back after (`u32::MAX`:
    /// none).
    pub(super) recurrence_of: u32,
    /// Times a grid worker looked at it without seeing it.
    pub(super) looked: u16,
    /// When a crew first reached it (a reworked or pre-empted case is reached again:
    /// `arrived` is the last time), and how many times a crew took it from the queue.
    pub(super) first_arrived: i64,
    pub(super) passes: u16,
    /// Its category has an escalation ladder: its dispatch waits by policy.
    pub(super) laddered: bool,
    /// Its time limit was extended (延期).
    pub(super) extended: bool,
    /// The hotline call: when it came in, was answered, or the caller hung up.
    pub(super) call_at: i64,
    pub(super) call_answered: i64,
    pub(super) call_hung_up: i64,
    pub(super) priority: u8,
    pub(super) escalated: bool,
    /// Assignment generation and times pre-empted.
    pub(super) gen: u8,
    pub(super) preempted: u16,
    /// When the crew on the way is due, and seconds lost at signals.
    pub(super) eta: i64,
    pub(super) signal_delay: i64,
    /// Seconds the crew waited for a road to reopen to a place cut off by closures.
    pub(super) cut_off: i64,
    pub(super) grid: u32,
    /// Index of the crew on the case (`u32::MAX`: none yet).
    pub(super) crew: u32,
    pub(super) node: u32,
    pub(super) at: (f64, f64),
    pub(super) xy: (f64, f64),
    pub(super) occurred: i64,
    pub(super) intake: i64,
    pub(super) verified: i64,
    pub(super) dispatched: i64,
    pub(super) assigned: i64,
    pub(super) arrived: i64,
    pub(super) handled: i64,
    pub(super) feedback: i64,
    pub(super) checked: i64,
    pub(super) closed: i64,
    pub(super) deadline: i64,
    pub(super) queued_at: i64,
}

impl crate::kpi::CaseTimes for SimCase {
    fn occurred_at(&self) -> i64 {
        self.occurred
    }
    fn intake_at(&self) -> Option<i64> {
        opt(self.intake)
    }
    fn dispatched_at(&self) -> Option<i64> {
        opt(self.dispatched)
    }
    fn assigned_at(&self) -> Option<i64> {
        opt(self.assigned)
    }
    fn arrived_at(&self) -> Option<i64> {
        opt(self.arrived)
    }
    fn closed_at(&self) -> Option<i64> {
        opt(self.closed)
    }
    fn deadline(&self) -> Option<i64> {
        opt(self.deadline)
    }
    fn escalated(&self) -> bool {
        self.escalated
    }
    fn closed_by_compliance(&self) -> bool {
        self.complied != u8::MAX && self.closed != NONE
    }
    fn category(&self) -> &str {
        &self.category_text
    }
    fn lon_lat(&self) -> (f64, f64) {
        self.at
    }
    fn signal_delay_s(&self) -> i64 {
        self.signal_delay
    }
    fn cut_off_s(&self) -> i64 {
        self.cut_off
    }
    fn verified_at(&self) -> Option<i64> {
        opt(self.verified)
    }
    fn handled_at(&self) -> Option<i64> {
        opt(self.handled)
    }
    fn checked_at(&self) -> Option<i64> {
        opt(self.checked)
    }
    fn not_registered(&self) -> bool {
        self.declined
    }
    fn department(&self) -> &str {
        &self.department_text
    }
    fn natural_time(&self) -> bool {
        self.natural_time
    }
    fn amber_at(&self) -> Option<i64> {
        opt(self.amber_at)
    }
    fn verify_due(&self) -> Option<i64> {
        opt(self.verify_due)
    }
    fn dispatch_due(&self) -> Option<i64> {
        opt(self.dispatch_due)
    }
    fn handle_due(&self) -> Option<i64> {
        opt(self.handle_due)
    }
    fn check_due(&self) -> Option<i64> {
        opt(self.check_due)
    }
    fn rework(&self) -> u32 {
        self.rework as u32
    }
    fn queue_wait_s(&self) -> Option<i64> {
        Some(self.queue_wait)
    }
    fn preempted(&self) -> u32 {
        self.preempted as u32
    }
    fn call(&self) -> Option<(i64, Option<i64>, Option<i64>)> {
        Some((
            opt(self.call_at)?,
            opt(self.call_answered),
            opt(self.call_hung_up),
        ))
    }
    fn arrival_priority(&self) -> u8 {
        self.arrival_priority
    }
    fn laddered(&self) -> bool {
        self.laddered
    }
    fn first_arrived_at(&self) -> Option<i64> {
        opt(self.first_arrived)
    }
    fn passes(&self) -> Option<u32> {
        Some(self.passes as u32)
    }
    fn extended(&self) -> bool {
        self.extended
    }
}

/// A new case of an incident: (time, category, grid, lon/lat, priority).
pub(super) fn new_case(
    world: &World,
    key: u64,
    (t, category, grid, at, priority): (i64, usize, usize, (f64, f64), u8),
    source: u8,
) -> SimCase {
    let node = world
        .network
        .as_ref()
        .and_then(|n| n.nearest(at.0, at.1))
        .unwrap_or(0);
    SimCase {
        key,
        category_text: world.categories[category].class_text.clone(),
        category: category as u16,
        source,
        ladder: 0,
        complied: u8::MAX,
        declined: false,
        rework: 0,
        queue_wait: 0,
        forwarded: false,
        returns: 0,
        dispute: 0,
        recurrence_of: u32::MAX,
        looked: 0,
        first_arrived: NONE,
        passes: 0,
        laddered: !world.categories[category].ladder.is_empty(),
        extended: false,
        call_at: NONE,
        call_answered: NONE,
        call_hung_up: NONE,
        arrival_priority: priority,
        natural_time: world.categories[category].time_basis == gridtwin_core::TimeBasis::Natural,
        department_text: world.texts.departments[world.categories[category].department].clone(),
        amber_at: NONE,
        verify_due: NONE,
        dispatch_due: NONE,
        handle_due: NONE,
        check_due: NONE,
        priority,
        escalated: false,
        gen: 0,
        preempted: 0,
        eta: NONE,
        signal_delay: 0,
        cut_off: 0,
        grid: grid as u32,
        crew: u32::MAX,
        node,
        at,
        xy: world.frame.to_local(at.0, at.1),
        occurred: t,
        intake: NONE,
        verified: NONE,
        dispatched: NONE,
        assigned: NONE,
        arrived: NONE,
        handled: NONE,
        feedback: NONE,
        checked: NONE,
        closed: NONE,
        deadline: NONE,
        queued_at: 0,
    }
}
