//! Crews on the roads: trips by time of day, closures that cut places off, and the
//! signals an emergency trip passes.

use super::*;

impl World {
    /// Roads closed at time `t`.
    pub(super) fn closed_at(&self, t: i64) -> Closed<'_> {
        let i = self.closure_times.partition_point(|&x| x <= t) - 1;
        Closed {
            state: i as u32,
            roads: &self.closure_states[i],
        }
    }

    /// Number of roads closed at time `t`.
    pub fn roads_closed_at(&self, t: i64) -> usize {
        self.closed_at(t).roads.iter().filter(|&&c| c).count()
    }

    /// Number of road closure states (1 when nothing ever closes).
    pub fn closure_states(&self) -> usize {
        self.closure_states.len()
    }

    /// Travel time a crew leaving at `t` needs from `from` to `to` (lon/lat), as the
    /// engine computes it: on the roads open at `t`, or as `travel.mode` says; a place
    /// cut off by closures counts the wait for the reopening that lets the crew through.
    pub fn travel_secs_at(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> i64 {
        match &self.network {
            Some(n) => {
                let (a, b) = (
                    n.nearest(from.0, from.1).unwrap_or(0),
                    n.nearest(to.0, to.1).unwrap_or(0),
                );
                let (wait, trip) = self.road_trip(t, (from, a), (to, b));
                wait + trip
            }
            None if self.scenario.travel.mode == TravelMode::Straight => {
                let (p, q) = (
                    self.frame.to_local(from.0, from.1),
                    self.frame.to_local(to.0, to.1),
                );
                let d = (p.0 - q.0).hypot(p.1 - q.1);
                (d * self.scenario.travel.detour_factor
                    / (self.scenario.travel.straight_speed_kmh / 3.6))
                    .round() as i64
            }
            None => match (&self.scenario.travel.time, self.scenario.travel.mode) {
                // (no case to key a draw: the median trip)
                (Some(d), TravelMode::Drawn) => draw(d, 0.5),
                _ => 0,
            },
        }
    }

    /// The signalised nodes on the path of a trip leaving `from` (lon/lat) at `t` for
    /// `to` on the roads open at `t`, each with the time the trip reaches it before any
    /// wait at a signal (as the engine asks for signal priority).
    pub fn signal_times(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> Vec<(u32, i64)> {
        let Some(n) = &self.network else {
            return Vec::new();
        };
        let (a, b) = (
            n.nearest(from.0, from.1).unwrap_or(0),
            n.nearest(to.0, to.1).unwrap_or(0),
        );
        self.signal_times_from(t, (from, a), b)
    }

    pub(super) fn signal_times_from(
        &self,
        t: i64,
        from: ((f64, f64), u32),
        to_node: u32,
    ) -> Vec<(u32, i64)> {
        let Some(n) = &self.network else {
            return Vec::new();
        };
        let access = n.access_secs(from.0, from.1);
        n.path_with(from.1, to_node, self.closed_at(t))
            .unwrap_or_default()
            .into_iter()
            .filter(|(node, _)| self.signal_at.contains_key(node))
            .map(|(node, secs)| (node, t + (access + secs).round() as i64))
            .collect()
    }

    /// Whether closures at `t` cut `to` off from `from` (lon/lat) on a road network
    /// that reaches it when every road is open.
    pub fn cut_off_at(&self, t: i64, from: (f64, f64), to: (f64, f64)) -> bool {
        let Some(n) = &self.network else {
            return false;
        };
        let (a, b) = (
            n.nearest(from.0, from.1).unwrap_or(0),
            n.nearest(to.0, to.1).unwrap_or(0),
        );
        n.travel_between_unless_cut(from, a, to, b, self.closed_at(t))
            .is_none()
    }

    /// A road trip leaving `from` at `t` for `to` (each a lon/lat and its nearest
    /// node): the seconds the place stays cut off by closures first (the crew waits
    /// for the first reopening that lets it through; past the run's end if none
    /// does), and the trip's seconds then.
    pub(super) fn road_trip(
        &self,
        t: i64,
        from: ((f64, f64), u32),
        to: ((f64, f64), u32),
    ) -> (i64, i64) {
        let Some(n) = &self.network else {
            return (0, 0);
        };
        let trip = |t: i64| {
            n.travel_between_unless_cut(from.0, from.1, to.0, to.1, self.closed_at(t))
                .map(|s| s.round() as i64)
        };
        if let Some(s) = trip(t) {
            return (0, s);
        }
        let later = self.closure_times.partition_point(|&x| x <= t);
        for &t2 in &self.closure_times[later..] {
            if let Some(s) = trip(t2) {
                return (t2 - t, s);
            }
        }
        (self.end - t + 1, 0)
    }
}

/// A crew leaving `from` at `t` for case `c`: how long the place stays cut off by
/// closures first (the crew waits for the first reopening that lets it through;
/// past the run's end if none does), and the trip then.
pub(super) fn trip(
    world: &World,
    (seed, rep): (u64, u64),
    from: Place,
    c: &SimCase,
    t: i64,
) -> (i64, i64) {
    let sc = &world.scenario;
    let speed_ms = sc.travel.straight_speed_kmh / 3.6;
    match &world.network {
        Some(_) => world.road_trip(t, (from.at, from.node), (c.at, c.node)),
        None if sc.travel.mode == TravelMode::Straight => {
            let d = (from.xy.0 - c.xy.0).hypot(from.xy.1 - c.xy.1);
            (0, (d * sc.travel.detour_factor / speed_ms).round() as i64)
        }
        // a trip's own draw: each pass and each restart after a pre-emption
        None => match (&world.categories[c.category as usize].trip, sc.travel.mode) {
            (Some(d), TravelMode::Drawn) => {
                let trip = c.passes as u64 * PASS + c.preempted as u64;
                (0, draw(d, uniform(seed, rep, c.key, P_TRAVEL, trip)))
            }
            _ => (0, 0),
        },
    }
}
