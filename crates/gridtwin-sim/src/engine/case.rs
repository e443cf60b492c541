//! A case in the run: its step times, compact in memory, and how one begins.

use super::*;

/// A case as the loop keeps it: indices and times; the text record
/// ([`Replication::record`]) is made only when written, so a megacity year's
/// timeline stays compact in memory.
#[derive(Clone)]
pub struct SimCase<'w> {
    /// The incident's identity key ([`Arrival`]): every draw for the case is keyed by it.
    pub(super) key: u64,
    /// Its category, borrowed from the world (its texts: no counter of a shared text
    /// is touched per case, a thin pointer where two texts were), and the category's
    /// index (its deadline lane).
    pub(super) cat: &'w SimCategory,
    pub(super) category: u16,
    pub(super) source: IntakeSource,
    /// Escalation-ladder stages passed.
    pub(super) ladder: u8,
    /// Closed by compliance at this stage; while the closure's check is pending, the
    /// stage whose compliance is being checked.
    pub(super) complied: Option<u8>,
    /// Declined at registration (不予立案): closed at verification, never due.
    pub(super) declined: bool,
    /// Checks that found the problem not solved (返工): handling passes − 1.
    pub(super) rework: u8,
    /// Priority at arrival (`priority` rises when the case falls overdue).
    pub(super) arrival_priority: u8,
    pub(super) natural_time: bool,
    /// When it turns amber, and the step deadlines (set as each step's clock starts).
    pub(super) amber_at: Option<Moment>,
    pub(super) verify_due: Option<Moment>,
    pub(super) dispatch_due: Option<Moment>,
    pub(super) handle_due: Option<Moment>,
    pub(super) check_due: Option<Moment>,
    /// Seconds spent waiting for a crew in the department's queue, over all passes.
    pub(super) queue_wait: i64,
    /// Forwarded by the street to the owner department (转派), times returned as not
    /// the department's (退单), and the seconds those hand-overs took.
    pub(super) forwarded: bool,
    pub(super) returns: u8,
    pub(super) dispute: i64,
    /// The case whose compliance closure this problem came back after.
    pub(super) recurrence_of: Option<CaseId>,
    /// Times a grid worker looked at it without seeing it.
    pub(super) looked: u16,
    /// When a crew first reached it (a reworked or pre-empted case is reached again:
    /// `arrived` is the last time), and how many times a crew took it from the queue.
    pub(super) first_arrived: Option<Moment>,
    pub(super) passes: u16,
    /// Its category has an escalation ladder: its dispatch waits by policy.
    pub(super) laddered: bool,
    /// Its time limit was extended (延期).
    pub(super) extended: bool,
    /// The hotline call: when it came in, was answered, or the caller hung up.
    pub(super) call_at: Option<Moment>,
    pub(super) call_answered: Option<Moment>,
    pub(super) call_hung_up: Option<Moment>,
    pub(super) priority: u8,
    pub(super) escalated: bool,
    /// Assignment generation and times pre-empted.
    pub(super) gen: u8,
    pub(super) preempted: u16,
    /// When the crew on the way is due, and seconds lost at signals.
    pub(super) eta: Option<Moment>,
    pub(super) signal_delay: i64,
    /// Seconds the crew waited for a road to reopen to a place cut off by closures.
    pub(super) cut_off: i64,
    /// The grid it is in (none: outside every grid).
    pub(super) grid: Option<GridIx>,
    /// The crew on the case.
    pub(super) crew: Option<CrewId>,
    pub(super) node: u32,
    pub(super) at: (f64, f64),
    pub(super) xy: (f64, f64),
    pub(super) occurred: i64,
    pub(super) intake: Option<Moment>,
    pub(super) verified: Option<Moment>,
    pub(super) dispatched: Option<Moment>,
    pub(super) assigned: Option<Moment>,
    pub(super) arrived: Option<Moment>,
    pub(super) handled: Option<Moment>,
    pub(super) feedback: Option<Moment>,
    pub(super) checked: Option<Moment>,
    pub(super) closed: Option<Moment>,
    pub(super) deadline: Option<Moment>,
    pub(super) queued_at: i64,
}

impl crate::kpi::CaseTimes for SimCase<'_> {
    fn occurred_at(&self) -> i64 {
        self.occurred
    }
    fn intake_at(&self) -> Option<i64> {
        secs(self.intake)
    }
    fn dispatched_at(&self) -> Option<i64> {
        secs(self.dispatched)
    }
    fn assigned_at(&self) -> Option<i64> {
        secs(self.assigned)
    }
    fn arrived_at(&self) -> Option<i64> {
        secs(self.arrived)
    }
    fn closed_at(&self) -> Option<i64> {
        secs(self.closed)
    }
    fn deadline(&self) -> Option<i64> {
        secs(self.deadline)
    }
    fn escalated(&self) -> bool {
        self.escalated
    }
    fn closed_by_compliance(&self) -> bool {
        self.complied.is_some() && self.closed.is_some()
    }
    fn category(&self) -> &str {
        &self.cat.class_text
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
        secs(self.verified)
    }
    fn handled_at(&self) -> Option<i64> {
        secs(self.handled)
    }
    fn checked_at(&self) -> Option<i64> {
        secs(self.checked)
    }
    fn not_registered(&self) -> bool {
        self.declined
    }
    fn department(&self) -> &str {
        &self.cat.department_text
    }
    fn natural_time(&self) -> bool {
        self.natural_time
    }
    fn amber_at(&self) -> Option<i64> {
        secs(self.amber_at)
    }
    fn verify_due(&self) -> Option<i64> {
        secs(self.verify_due)
    }
    fn dispatch_due(&self) -> Option<i64> {
        secs(self.dispatch_due)
    }
    fn handle_due(&self) -> Option<i64> {
        secs(self.handle_due)
    }
    fn check_due(&self) -> Option<i64> {
        secs(self.check_due)
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
            secs(self.call_at)?,
            secs(self.call_answered),
            secs(self.call_hung_up),
        ))
    }
    fn arrival_priority(&self) -> u8 {
        self.arrival_priority
    }
    fn laddered(&self) -> bool {
        self.laddered
    }
    fn first_arrived_at(&self) -> Option<i64> {
        secs(self.first_arrived)
    }
    fn passes(&self) -> Option<u32> {
        Some(self.passes as u32)
    }
    fn extended(&self) -> bool {
        self.extended
    }
}

/// A new case of an incident, found by `source`.
pub(super) fn new_case<'w>(world: &'w World, a: &Arrival, source: IntakeSource) -> SimCase<'w> {
    let Arrival {
        t,
        category,
        grid,
        at,
        priority,
        key,
    } = *a;
    let node = world
        .network
        .as_ref()
        .and_then(|n| n.nearest(at.0, at.1))
        .unwrap_or(0);
    let cat = &world.categories[category];
    SimCase {
        key,
        cat,
        category: category as u16,
        source,
        ladder: 0,
        complied: None,
        declined: false,
        rework: 0,
        queue_wait: 0,
        forwarded: false,
        returns: 0,
        dispute: 0,
        recurrence_of: None,
        looked: 0,
        first_arrived: None,
        passes: 0,
        laddered: !cat.ladder.is_empty(),
        extended: false,
        call_at: None,
        call_answered: None,
        call_hung_up: None,
        arrival_priority: priority,
        natural_time: cat.time_basis == gridtwin_core::TimeBasis::Natural,
        amber_at: None,
        verify_due: None,
        dispatch_due: None,
        handle_due: None,
        check_due: None,
        priority,
        escalated: false,
        gen: 0,
        preempted: 0,
        eta: None,
        signal_delay: 0,
        cut_off: 0,
        grid,
        crew: None,
        node,
        at,
        xy: world.frame.to_local(at.0, at.1),
        occurred: t,
        intake: None,
        verified: None,
        dispatched: None,
        assigned: None,
        arrived: None,
        handled: None,
        feedback: None,
        checked: None,
        closed: None,
        deadline: None,
        queued_at: 0,
    }
}
