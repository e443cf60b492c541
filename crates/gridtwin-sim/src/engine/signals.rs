//! Signalised intersections: the road node nearest each traffic signal.

use super::*;

/// The node nearest each traffic signal (component 0202), within 30 m: node → the
/// signal's code.
pub(super) fn signal_nodes(
    scenario: &Scenario,
    table: &CategoryTable,
    city: &City,
    network: Option<&RoadNetwork>,
) -> Result<std::collections::HashMap<u32, String>, WorldError> {
    // Signalised intersections: the node nearest each traffic signal, within 30 m.
    let mut signal_at = std::collections::HashMap::new();
    if scenario.signals.is_some() {
        let net = network.ok_or(WorldError::SignalsNeedRoads)?;
        let key = table.find(CategoryKind::Component, "0202").map(|c| c.key);
        for c in city.components.iter().filter(|c| Some(c.category()) == key) {
            let (x, y) = (c.location.x(), c.location.y());
            if let Some(n) = net.nearest(x, y) {
                let p = net.node(n);
                if gridtwin_core::coord::haversine_m(x, y, p.0, p.1) <= 30.0 {
                    signal_at.entry(n).or_insert_with(|| c.code.to_string());
                }
            }
        }
    }
    Ok(signal_at)
}

/// An emergency trip leaving `from` at `t` for case `id` requests priority at each
/// signal on its path; conflicts within the window are decided by (priority, earlier
/// departure, lower case number), the loser waiting (its arrival and its later
/// requests move). Returns this trip's own wait.
#[allow(clippy::too_many_arguments)]
pub(super) fn request_signals(
    world: &World,
    cases: &mut [SimCase],
    queue: &mut EventQueue<Ev>,
    book: &mut SignalBook,
    contention: &mut Vec<ContentionRecord>,
    (id, from, t): (CaseId, Place, i64),
) -> i64 {
    let signals = world.scenario.signals.as_ref();
    let mut own_delay = 0i64;
    let c = &cases[id.ix()];
    if let (Some(g), Some(_)) = (signals, &world.network) {
        if c.priority >= g.priority_from && !world.signal_at.is_empty() {
            let delay = g.delay_s.round() as i64;
            let window = g.window_s.round() as i64;
            let path = world.signal_times_from(t, (from.at, from.node), c.node);
            let me = (c.priority, t, id);
            let path_nodes: Vec<u32> = path.iter().map(|&(n, _)| n).collect();
            let mut later_shifts: Vec<(CaseId, i64, i64)> = Vec::new();
            for (node, reach) in path {
                let code = &world.signal_at[&node];
                let at = reach + own_delay;
                let list = book.requests.entry(node).or_default();
                for &(ot, op, odep, oid) in list.iter() {
                    if oid == id || (ot - at).abs() > window {
                        continue;
                    }
                    let other = (op, odep, oid);
                    // higher priority, then earlier departure, then lower case
                    let i_win = (std::cmp::Reverse(me.0), me.1, me.2)
                        < (std::cmp::Reverse(other.0), other.1, other.2);
                    let (w, l) = if i_win { (me, other) } else { (other, me) };
                    // the delay imposed (none when the loser already arrived)
                    let mut imposed = delay;
                    if i_win {
                        // the other vehicle waits: its arrival moves if still due,
                        // and so do its requests at the signals after this one
                        let o = &mut cases[oid.ix()];
                        let due = o.eta.map(Moment::secs).filter(|&e| e > t);
                        if let (Some(eta), None) = (due, o.arrived) {
                            o.gen = o.gen.wrapping_add(1);
                            o.eta = Some(Moment::at(eta + delay));
                            o.signal_delay += delay;
                            queue.schedule(eta + delay, Ev::Arrive(oid, o.gen));
                            later_shifts.push((oid, ot, delay));
                        } else {
                            imposed = 0;
                        }
                    } else {
                        own_delay += delay;
                    }
                    let (winner_at, loser_at) = if i_win { (at, ot) } else { (ot, at) };
                    contention.push(ContentionRecord {
                        at,
                        node,
                        signal: code.clone(),
                        winner_case: format!("C{:07}", w.2.get() + 1),
                        winner_priority: w.0,
                        winner_departed: w.1,
                        loser_case: format!("C{:07}", l.2.get() + 1),
                        loser_priority: l.0,
                        loser_departed: l.1,
                        delay_s: imposed,
                        winner_at,
                        loser_at,
                    });
                }
                list.push((at, me.0, t, id));
                // the losers' requests after the signal where they lost, shifted
                // by their wait (on their own path: node by node, later times)
                for (oid, from_time, d) in later_shifts.drain(..) {
                    for &n2 in book.trips.get(&oid).into_iter().flatten() {
                        for r in book.requests.get_mut(&n2).into_iter().flatten() {
                            if r.3 == oid && r.0 > from_time {
                                r.0 += d;
                            }
                        }
                    }
                }
            }
            book.trips.insert(id, path_nodes);
        }
    }
    own_delay
}
