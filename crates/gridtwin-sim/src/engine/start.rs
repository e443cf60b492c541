//! A warm start: the cases open in a history at the run's start, entered at the
//! step each had reached.

use super::*;

impl World {
    /// Starts the run from a history's state: every case of `history` open at the
    /// run's start (taken in before it, not closed by it) enters at the step it had
    /// reached; its remaining step time is drawn conditionally on the time already
    /// spent, and its deadline is the history's (else its category's, from intake);
    /// a case on the escalation ladder stays on it (at the stage its time since
    /// verification reaches on the stages' mean delays). A case with a crew at the start goes back to its department's queue (the
    /// history does not say where the crew is). Only cases in the scenario's
    /// categories and grids can enter; the rest are counted in `left_out`.
    pub fn start_from(&mut self, history: &[CaseRecord]) -> StartState {
        let t0 = self.start;
        // (the history is the warm-up: nothing is simulated before the start)
        self.run_start = self.start;
        let mut state = StartState::default();
        let grid_of: std::collections::HashMap<&str, usize> = self
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (&*g.codes[0], i))
            .collect();
        let mut open = Vec::new();
        for c in history {
            let Some(intake) = c.intake_at.filter(|&t| t < t0) else {
                continue;
            };
            if c.closed_at.is_some_and(|t| t <= t0) {
                continue;
            }
            let mut leave = |why: &str| *state.left_out.entry(why.to_string()).or_default() += 1;
            let Some(category) = self
                .categories
                .iter()
                .position(|k| *k.kind_text == *c.kind && k.class == *c.category)
            else {
                leave("category not in the scenario");
                continue;
            };
            let Some(&grid) = grid_of.get(&*c.grid_code) else {
                leave("grid not in the city");
                continue;
            };
            let by = |t: Option<i64>| t.filter(|&t| t <= t0);
            let (verified, dispatched, handled) =
                (by(c.verified_at), by(c.dispatched_at), by(c.handled_at));
            let feedback = by(c.feedback_at);
            if handled.is_some() {
                state.awaiting_check += 1;
            } else if dispatched.is_some() {
                state.with_department += 1;
            } else if verified.is_some() {
                state.awaiting_dispatch += 1;
            } else {
                state.awaiting_verification += 1;
            }
            let source = match &*c.source {
                "patrol" => IntakeSource::Patrol,
                "hotline" => IntakeSource::Hotline,
                _ => IntakeSource::Sensor,
            };
            let at = if c.lon.is_finite() && c.lat.is_finite() {
                (c.lon, c.lat)
            } else {
                let b = self.grids[grid].bbox;
                ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
            };
            open.push(OpenCase {
                category,
                grid: GridIx::new(grid),
                at,
                occurred: c.occurred_at.min(intake),
                intake,
                verified,
                dispatched,
                handled,
                feedback,
                deadline: c.deadline,
                source,
            });
        }
        self.open_at_start = open;
        state
    }
}

/// A warm start: the cases open at the start enter at the step each had reached,
/// their remaining step time drawn on the time already spent.
pub(super) fn enter_open_cases<'w>(
    world: &'w World,
    seed: u64,
    rep: u64,
    cases: &mut Vec<SimCase<'w>>,
    queue: &mut EventQueue<Ev>,
) {
    let sc = &world.scenario;
    for (i, o) in world.open_at_start.iter().enumerate() {
        let id = CaseId::new(cases.len());
        let key = incident_key(START_STREAM, i as u64);
        let arrival = Arrival {
            t: o.occurred,
            category: o.category,
            grid: Some(o.grid),
            at: o.at,
            priority: 0,
            key,
        };
        let mut c = new_case(world, &arrival, o.source);
        let cat = &world.categories[o.category];
        c.intake = at(o.intake);
        let deadline = o.deadline.unwrap_or_else(|| {
            world
                .calendar
                .add_hours(cat.time_basis, o.intake, cat.time_limit_hours)
        });
        c.deadline = at(deadline);
        c.amber_at = at(world.calendar.add_hours(
            cat.time_basis,
            o.intake,
            cat.time_limit_hours * sc.amber_fraction,
        ));
        c.verified = o.verified.map(Moment::at);
        c.dispatched = o.dispatched.map(Moment::at);
        c.handled = o.handled.map(Moment::at);
        c.feedback = o.feedback.map(Moment::at);
        let t0 = world.start;
        let u = |purpose: u64| uniform(seed, rep, key, purpose, 0);
        let (when, ev) = if let Some(handled) = o.handled {
            let from = o.feedback.unwrap_or(handled);
            (
                t0 + draw_after(&sc.steps.check, t0 - from, u(P_CHECK)),
                Ev::Checked(id),
            )
        } else if o.dispatched.is_some() {
            (t0, Ev::Dispatch(id))
        } else if let Some((k, spent)) = ladder_stage(cat, o.verified, t0) {
            // on the escalation ladder at the start: a history records the stages a
            // case passed, not when, so it re-enters at the stage its time since
            // verification reaches on the stages' mean delays, the rest of that
            // stage's delay drawn on the time already in it
            c.ladder = k;
            (
                t0 + draw_after(&cat.ladder[k as usize].delay, spent, u(P_LADDER)),
                Ev::Ladder(id, k),
            )
        } else if let Some(verified) = o.verified {
            let d = match cat.routing {
                Routing::Owner => &sc.dispatch.owner_delay,
                Routing::Territory => &sc.dispatch.territory_delay,
                Routing::Negotiated => &sc.dispatch.negotiated_delay,
                Routing::Designated => &sc.dispatch.designated_delay,
            };
            (
                t0 + draw_after(d, t0 - verified, u(P_DISPATCH)),
                Ev::Dispatch(id),
            )
        } else {
            (
                t0 + draw_after(&sc.steps.verify, t0 - o.intake, u(P_VERIFY)),
                Ev::Verified(id),
            )
        };
        queue.schedule(deadline.max(t0), Ev::Deadline(id));
        queue.schedule(when, ev);
        cases.push(c);
    }
}

/// The ladder stage a case verified at `verified` is in at `t0` (by the stages' mean
/// delays; one slower than them all is in the last), and the seconds already spent
/// in it; `None` for a category without a ladder or a case not verified.
fn ladder_stage(cat: &SimCategory, verified: Option<i64>, t0: i64) -> Option<(u8, i64)> {
    let verified = verified.filter(|_| !cat.ladder.is_empty())?;
    let last = cat.ladder.len() - 1;
    let mut since = t0 - verified;
    for (k, stage) in cat.ladder.iter().enumerate() {
        let mean = (stage.delay.mean_minutes() * 60.0).round() as i64;
        if since < mean || k == last {
            return Some((k as u8, since));
        }
        since -= mean;
    }
    None
}
