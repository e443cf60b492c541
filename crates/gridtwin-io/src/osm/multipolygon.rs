//! Assembling an OSM multipolygon relation: member ways joined end to end into closed
//! rings, each inner ring placed in the outer ring that holds it.

use std::collections::HashMap;

use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use gridtwin_core::RejectReason;

/// Joins member ways into closed rings (outer and inner), holes into the outer that
/// contains them.
pub(super) fn assemble_multipolygon(
    members: &[(i64, bool)],
    ways: &HashMap<i64, Vec<i64>>,
    nodes: &HashMap<i64, Coord<f64>>,
) -> Result<MultiPolygon<f64>, (RejectReason, String)> {
    let rings_of = |outer: bool| -> Result<Vec<LineString<f64>>, (RejectReason, String)> {
        let mut chains: Vec<Vec<i64>> = Vec::new();
        for (way, is_outer) in members {
            if *is_outer != outer {
                continue;
            }
            let refs = ways.get(way).ok_or_else(|| {
                (
                    RejectReason::MissingCoordinate,
                    format!("member way {way} is missing from the extract"),
                )
            })?;
            chains.push(refs.clone());
        }
        let mut rings = Vec::new();
        while let Some(mut chain) = chains.pop() {
            while chain.first() != chain.last() {
                let end = *chain.last().expect("non-empty");
                let Some(pos) = chains
                    .iter()
                    .position(|c| c.first() == Some(&end) || c.last() == Some(&end))
                else {
                    return Err((
                        RejectReason::InvalidGeometry,
                        "member ways do not close into a ring".to_string(),
                    ));
                };
                let mut next = chains.remove(pos);
                if next.first() != Some(&end) {
                    next.reverse();
                }
                chain.extend_from_slice(&next[1..]);
            }
            let coords: Vec<Coord<f64>> = chain
                .iter()
                .map(|n| nodes.get(n).copied().ok_or(*n))
                .collect::<Result<_, _>>()
                .map_err(|n| {
                    (
                        RejectReason::MissingCoordinate,
                        format!("node {n} is missing from the extract"),
                    )
                })?;
            if coords.len() < 4 {
                return Err((
                    RejectReason::InvalidGeometry,
                    "a ring needs at least 3 distinct nodes".to_string(),
                ));
            }
            rings.push(LineString(coords));
        }
        Ok(rings)
    };
    let outers = rings_of(true)?;
    let inners = rings_of(false)?;
    if outers.is_empty() {
        return Err((RejectReason::InvalidGeometry, "no outer ring".to_string()));
    }
    let mut polygons: Vec<Polygon<f64>> = outers
        .into_iter()
        .map(|o| Polygon::new(o, vec![]))
        .collect();
    for inner in inners {
        let probe = Point(inner.0[0]);
        let host = polygons
            .iter_mut()
            .find(|p| p.contains(&probe))
            .ok_or_else(|| {
                (
                    RejectReason::InvalidGeometry,
                    "an inner ring lies in no outer ring".to_string(),
                )
            })?;
        host.interiors_push(inner);
    }
    Ok(MultiPolygon(polygons))
}
