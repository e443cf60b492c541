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
    let err = |m: String| WorldError(m);
    // Signalised intersections: the node nearest each traffic signal, within 30 m.
    let mut signal_at = std::collections::HashMap::new();
    if scenario.signals.is_some() {
        let net = network.ok_or_else(|| err("signals need travel.mode = roads".into()))?;
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
