//! A warm start: the cases open in a history at the run's start, entered at the
//! step each had reached.

use super::*;

impl World {
    /// Starts the run from a history's state: every case of `history` open at the
    /// run's start (taken in before it, not closed by it) enters at the step it had
    /// reached; its remaining step time is drawn conditionally on the time already
    /// spent, and its deadline is the history's (else its category's, from intake).
    /// A case with a crew at the start goes back to its department's queue (the
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
            let by = |t: Option<i64>| t.filter(|&t| t <= t0).unwrap_or(NONE);
            let (verified, dispatched, handled) =
                (by(c.verified_at), by(c.dispatched_at), by(c.handled_at));
            let feedback = by(c.feedback_at);
            if handled != NONE {
                state.awaiting_check += 1;
            } else if dispatched != NONE {
                state.with_department += 1;
            } else if verified != NONE {
                state.awaiting_dispatch += 1;
            } else {
                state.awaiting_verification += 1;
            }
            let source = match &*c.source {
                "patrol" => 0,
                "hotline" => 1,
                _ => 2,
            };
            let at = if c.lon.is_finite() && c.lat.is_finite() {
                (c.lon, c.lat)
            } else {
                let b = self.grids[grid].bbox;
                ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
            };
            open.push(OpenCase {
                category,
                grid,
                at,
                occurred: c.occurred_at.min(intake),
                intake,
                verified,
                dispatched,
                handled,
                feedback,
                deadline: c.deadline.unwrap_or(NONE),
                source,
            });
        }
        self.open_at_start = open;
        state
    }
}
