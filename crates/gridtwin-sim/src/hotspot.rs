//! Getis–Ord Gi* hotspots over a study area, with the spatial weights PySAL offers.
//!
//! Every area of the study area enters the weights, those with no cases included:
//! a cluster only stands out against the quiet around it, and a map of the cells
//! that had cases has no quiet cells (on a real disease-cluster point set at H3 res 11,
//! the cells with cases alone gave no significant hotspot; with the study area's
//! zero-count cells, esda found seven hot cells around the source).
//!
//! Weights are binary and include the area itself (the "star"):
//! - **distance band**: areas whose centres are within a distance (esda's
//!   `DistanceBand(binary=True)`, here on great-circle distances);
//! - **queen / rook contiguity** for polygons: areas sharing a vertex (queen) or an
//!   edge (rook), as libpysal's `Queen`/`Rook.from_dataframe` judge them (exact shared
//!   coordinates);
//! - **k-ring** for H3 cells: cells within `k` steps on the H3 grid.

use geo::MultiPolygon;
use gridtwin_core::coord::haversine_m;
use gridtwin_core::frame::LocalFrame;
use rstar::{primitives::GeomWithData, RTree};

use crate::vitals::normal_sf;

/// Gi* of one area.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    pub z: f64,
    /// Two-sided p value.
    pub p: f64,
    /// `hot`, `cold` or `not significant` after the Benjamini–Hochberg false-discovery
    /// correction at `alpha`.
    pub class: String,
}

/// Each area's neighbours (indices, itself included), as binary weights.
pub type Neighbours = Vec<Vec<usize>>;

/// Areas whose centres (lon/lat) lie within `distance_m` of each other (great-circle),
/// found through an R-tree on a local metric frame (so a study area of many cells is
/// not compared pair by pair).
pub fn distance_band(centres: &[(f64, f64)], distance_m: f64) -> Neighbours {
    if centres.is_empty() {
        return Vec::new();
    }
    let n = centres.len() as f64;
    let (lon0, lat0) = centres
        .iter()
        .fold((0.0, 0.0), |(a, b), c| (a + c.0 / n, b + c.1 / n));
    let frame = LocalFrame::new(lon0, lat0);
    let local: Vec<[f64; 2]> = centres
        .iter()
        .map(|&(x, y)| {
            let (a, b) = frame.to_local(x, y);
            [a, b]
        })
        .collect();
    let tree = RTree::bulk_load(
        local
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new(*p, i))
            .collect(),
    );
    // the local frame's distances differ from great-circle ones by well under 1 % over
    // a city: a wider search, then the exact test
    let reach = distance_m * 1.02 + 1.0;
    (0..centres.len())
        .map(|i| {
            let mut near: Vec<usize> = tree
                .locate_within_distance(local[i], reach * reach)
                .map(|p| p.data)
                .filter(|&j| {
                    j == i
                        || haversine_m(centres[i].0, centres[i].1, centres[j].0, centres[j].1)
                            <= distance_m
                })
                .collect();
            near.sort_unstable();
            near
        })
        .collect()
}

/// Queen (`rook = false`: a shared vertex) or rook (`rook = true`: a shared edge)
/// contiguity between polygons, by exact shared coordinates as libpysal judges it.
pub fn contiguity(areas: &[MultiPolygon<f64>], rook: bool) -> Neighbours {
    use std::collections::HashMap;
    /// A coordinate by its exact bits.
    type Vertex = (u64, u64);
    let key = |c: geo::Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    // vertex (or edge, as its two ends in order) → the areas that have it
    let mut owners: HashMap<(Vertex, Vertex), Vec<usize>> = HashMap::new();
    for (i, a) in areas.iter().enumerate() {
        for p in a {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                if rook {
                    for l in ring.lines() {
                        let (s, e) = (key(l.start), key(l.end));
                        if s != e {
                            owners.entry((s.min(e), s.max(e))).or_default().push(i);
                        }
                    }
                } else {
                    for c in ring.coords() {
                        owners.entry((key(*c), (0, 0))).or_default().push(i);
                    }
                }
            }
        }
    }
    let mut out: Neighbours = (0..areas.len()).map(|i| vec![i]).collect();
    for list in owners.values() {
        for &a in list {
            for &b in list {
                if a != b {
                    out[a].push(b);
                }
            }
        }
    }
    for l in &mut out {
        l.sort_unstable();
        l.dedup();
    }
    out
}

/// H3 cells within `k` grid steps of each other.
pub fn k_ring(cells: &[h3o::CellIndex], k: u32) -> Neighbours {
    use std::collections::HashMap;
    let at: HashMap<h3o::CellIndex, usize> =
        cells.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    cells
        .iter()
        .map(|c| {
            let mut near: Vec<usize> = c
                .grid_disk::<Vec<_>>(k)
                .into_iter()
                .filter_map(|d| at.get(&d).copied())
                .collect();
            near.sort_unstable();
            near.dedup();
            near
        })
        .collect()
}

/// Getis–Ord Gi* of values `x` under binary weights `neighbours` (each list holding
/// the area itself), with the Benjamini–Hochberg correction at `alpha`:
///
/// G*_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n S1_i − W_i²) / (n − 1))), with
/// W_i = Σ_j w_ij, S1_i = Σ_j w_ij², x̄ the mean and S = √(Σ x² / n − x̄²)
/// (esda's `G_Local(star=True, transform="B")`).
pub fn getis_ord_star_with(x: &[f64], neighbours: &[Vec<usize>], alpha: f64) -> Vec<Hotspot> {
    let n = x.len();
    let nf = n as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let s = (x.iter().map(|v| v * v).sum::<f64>() / nf - mean * mean)
        .max(0.0)
        .sqrt();
    let z: Vec<f64> = neighbours
        .iter()
        .map(|near| {
            let wx: f64 = near.iter().map(|&j| x[j]).sum();
            let w = near.len() as f64;
            let denom = s * ((nf * w - w * w) / (nf - 1.0)).max(0.0).sqrt();
            if denom > 0.0 {
                (wx - mean * w) / denom
            } else {
                0.0
            }
        })
        .collect();
    let p: Vec<f64> = z
        .iter()
        .map(|z| (2.0 * normal_sf(z.abs())).min(1.0))
        .collect();
    // Benjamini–Hochberg: the largest k with p_(k) <= k α / n; all p below it pass.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut cut = 0.0;
    for (k, &i) in order.iter().enumerate() {
        if p[i] <= (k + 1) as f64 * alpha / nf {
            cut = p[i];
        }
    }
    (0..n)
        .map(|i| Hotspot {
            z: z[i],
            p: p[i],
            class: if p[i] <= cut && cut > 0.0 {
                if z[i] > 0.0 {
                    "hot"
                } else {
                    "cold"
                }
            } else {
                "not significant"
            }
            .to_string(),
        })
        .collect()
}

/// Gi* with binary distance-band weights: w_ij = 1 when the centres of i and j are
/// within `distance_m` (i included). Values `x`, centres as lon/lat.
pub fn getis_ord_star(
    x: &[f64],
    centres: &[(f64, f64)],
    distance_m: f64,
    alpha: f64,
) -> Vec<Hotspot> {
    getis_ord_star_with(x, &distance_band(centres, distance_m), alpha)
}

/// The H3 cells at `resolution` whose centres lie in `area` (lon/lat): a study area's
/// cells, each to enter the weights with or without cases. Refuses, before tiling,
/// an area that would take more than `max_cells`.
pub fn study_cells(
    area: &MultiPolygon<f64>,
    resolution: h3o::Resolution,
    max_cells: usize,
) -> Result<Vec<h3o::CellIndex>, String> {
    use h3o::geom::{ContainmentMode, TilerBuilder};
    let mut tiler = TilerBuilder::new(resolution)
        .containment_mode(ContainmentMode::ContainsCentroid)
        .build();
    for p in area {
        tiler
            .add(p.clone())
            .map_err(|e| format!("study area: {e}"))?;
    }
    // (the hint is an upper estimate from the bounding boxes: a bound, not a count)
    let hint = tiler.coverage_size_hint();
    if hint > max_cells.saturating_mul(4) {
        return Err(format!(
            "the study area holds about {hint} cells at H3 resolution {resolution}, over the \
             limit of {max_cells} (raise it with --max-study-cells, or choose a coarser level)"
        ));
    }
    let mut cells: Vec<h3o::CellIndex> = tiler.into_coverage().collect();
    if cells.len() > max_cells {
        return Err(format!(
            "the study area holds {} cells at H3 resolution {resolution}, over the limit of \
             {max_cells} (raise it with --max-study-cells, or choose a coarser level)",
            cells.len()
        ));
    }
    cells.sort_unstable();
    cells.dedup();
    Ok(cells)
}

#[cfg(test)]
mod tests;
