//! The centre sends a case on: to its dispatchers, or after the routing rule's delay
//! and the hand-overs between departments.

use super::*;

impl World {
    /// The centre sends a case on: the routing rule's delay, then the hand-overs (属地
    /// forwarding to the owner department when the street cannot handle the category,
    /// 退单 returns by the department, each with probability `return_probability`, until
    /// the centre designates it after `designate_after` returns). Records the
    /// hand-overs on the case; returns the seconds until dispatch.
    pub(super) fn hand_over(&self, c: &mut SimCase, seed: u64, rep: u64) -> i64 {
        let sc = &self.scenario;
        let d = &sc.dispatch;
        let cat = &self.categories[c.category as usize];
        let key = c.key;
        let mut wait = dispatch_delay(sc, cat.routing, seed, rep, key);
        let forwarded = cat.routing == Routing::Territory && !cat.street_capable;
        let mut dispute = 0;
        let mut hop = 0u64;
        if forwarded {
            dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop));
            hop += 1;
        }
        let mut returns = 0u8;
        if forwarded || cat.routing == Routing::Owner {
            while returns < d.designate_after
                && uniform(seed, rep, key, P_RETURN, returns as u64) < d.return_probability
            {
                returns += 1;
                // back to the centre, and sent again
                dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop));
                dispute += draw(&d.hop_delay, uniform(seed, rep, key, P_HOP, hop + 1));
                hop += 2;
            }
            if returns == d.designate_after && d.designate_after > 0 && d.return_probability > 0.0 {
                // 指定: the centre designates the department
                dispute += draw(&d.designated_delay, uniform(seed, rep, key, P_DISPATCH, 1));
            }
        }
        c.forwarded = forwarded;
        c.returns = returns;
        c.dispute = dispute;
        wait += dispute;
        wait
    }
}

/// A case the centre sends on (verified, or at the end of its ladder, or after a
/// compliance that did not hold): to a dispatcher where the centre's staff are
/// modelled (station 1), else after the routing rule's delay and the hand-overs.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_on(
    world: &World,
    c: &mut SimCase,
    id: CaseId,
    t: i64,
    (seed, rep): (u64, u64),
    station_free: &mut [u32; 2],
    station_queue: &mut [std::collections::VecDeque<CaseId>; 2],
    queue: &mut EventQueue<Ev>,
) {
    match &world.scenario.centre {
        Some(cs) => {
            let st = Station::Dispatching;
            if station_free[st as usize] > 0 {
                station_free[st as usize] -= 1;
                let d = draw(
                    &cs.dispatching,
                    uniform(seed, rep, c.key, P_STATION, 1 + 2 * c.rework as u64),
                );
                queue.schedule(t + d, Ev::StationDone(st, id));
            } else {
                station_queue[st as usize].push_back(id);
            }
        }
        None => {
            let at = t + world.hand_over(c, seed, rep);
            queue.schedule(at, Ev::Dispatch(id));
        }
    }
}

/// The entry of a per-category table for a category: its `kind:class` key, else its
/// bare class code (whose ambiguity across kinds [`World::new`] refuses).
pub(super) fn by_category<'a, V>(
    table: &'a std::collections::BTreeMap<String, V>,
    kind: CategoryKind,
    class: &str,
) -> Option<&'a V> {
    table
        .get(&format!("{}:{class}", kind.name()))
        .or_else(|| table.get(class))
}

pub(super) fn dispatch_delay(
    sc: &Scenario,
    routing: Routing,
    seed: u64,
    rep: u64,
    key: u64,
) -> i64 {
    let d = match routing {
        Routing::Owner => &sc.dispatch.owner_delay,
        Routing::Territory => &sc.dispatch.territory_delay,
        Routing::Negotiated => &sc.dispatch.negotiated_delay,
        Routing::Designated => &sc.dispatch.designated_delay,
    };
    draw(d, uniform(seed, rep, key, P_DISPATCH, 0))
}
