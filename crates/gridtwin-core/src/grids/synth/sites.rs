//! The megacity's seeded sites, and how each level's sites nest under the nearest
//! site of the level above, numbered north→south, west→east.

use std::collections::HashMap;

use geo::Rect;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rstar::{primitives::GeomWithData, RTree};

/// `n` sites uniform over `r`, drawn in order from `rng`.
pub(super) fn random_sites(rng: &mut ChaCha8Rng, n: usize, r: Rect<f64>) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            [
                r.min().x + rng.random::<f64>() * r.width(),
                r.min().y + rng.random::<f64>() * r.height(),
            ]
        })
        .collect()
}

/// Groups `children` (site per child) under the nearest of `parents` sites.
pub(super) fn nearest_parent(children: &[[f64; 2]], parents: &[[f64; 2]]) -> Vec<usize> {
    let tree = RTree::bulk_load(
        parents
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new(*p, i))
            .collect(),
    );
    children
        .iter()
        .map(|c| tree.nearest_neighbor(c).map(|e| e.data).unwrap_or(0))
        .collect()
}

/// Serials within each parent: children ordered north→south, then west→east.
pub(super) fn serials(parent_of: &[usize], sites: &[[f64; 2]]) -> Vec<u64> {
    let mut order: Vec<usize> = (0..parent_of.len()).collect();
    order.sort_by(|&a, &b| {
        (parent_of[a], -sites[a][1], sites[a][0])
            .partial_cmp(&(parent_of[b], -sites[b][1], sites[b][0]))
            .expect("finite sites")
    });
    let mut serial = vec![0u64; parent_of.len()];
    let mut next: HashMap<usize, u64> = HashMap::new();
    for i in order {
        let s = next.entry(parent_of[i]).or_insert(0);
        *s += 1;
        serial[i] = *s;
    }
    serial
}
