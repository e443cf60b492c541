//! Time in the city: local days and hours, deadlines in working or natural hours,
//! crews' shifts.

use super::*;

impl World {
    /// When a step whose clock starts at `from` is due, on the category's basis
    /// (none where the category sets no limit for it).
    pub(super) fn due(&self, cat: &SimCategory, from: i64, hours: Option<f64>) -> Option<Moment> {
        hours.map(|h| Moment::at(self.calendar.add_hours(cat.time_basis, from, h)))
    }

    pub(super) fn local(&self, t: i64) -> (usize, usize, i64) {
        let local = t + self.utc_offset_s;
        let day = local.div_euclid(86_400);
        let sec = local.rem_euclid(86_400);
        (
            ((day + 3).rem_euclid(7)) as usize,
            (sec / 3600) as usize,
            sec,
        )
    }

    /// Seconds of `[a, b)` inside crew `k`'s shift.
    pub(super) fn shift_secs_between(&self, k: usize, a: i64, b: i64) -> i64 {
        let (s0, s1) = self.crews[k].shift;
        let (_, _, sec) = self.local(a);
        let mut midnight = a - sec;
        let mut total = 0;
        while midnight < b {
            total += ((midnight + s1).min(b) - (midnight + s0).max(a)).max(0);
            midnight += 86_400;
        }
        total
    }

    pub(super) fn on_shift(&self, crew: usize, t: i64) -> bool {
        let (a, b) = self.crews[crew].shift;
        let (_, _, sec) = self.local(t);
        a <= sec && sec < b
    }

    /// The first time after `t` (strictly) at `sec` seconds past local midnight.
    pub(super) fn next_time_of_day(&self, sec_of_day: i64, t: i64) -> i64 {
        let (_, _, sec) = self.local(t);
        let midnight = t - sec;
        if sec < sec_of_day {
            midnight + sec_of_day
        } else {
            midnight + 86_400 + sec_of_day
        }
    }
}
