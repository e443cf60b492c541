//! Assignment of points to unit grids and every level above.
//!
//! An [`Assigner`] holds the [`GridLocator`] and, per grid, the codes of its community,
//! street and district (prefixes of its code under the code rule). Batches are located
//! in parallel; results come back in input order, so output is the same at any thread
//! count.

use rayon::prelude::*;

use crate::area::Area;
use crate::code::{CodeRule, Level};
use crate::locate::{GridLocator, Location, LocatorOptions};

/// Codes of a grid and the areas above it, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridCodes {
    pub grid: String,
    pub community: String,
    pub street: String,
    pub district: String,
}

/// Assigns points to grids.
pub struct Assigner {
    locator: GridLocator,
    codes: Vec<GridCodes>,
}

impl Assigner {
    /// Builds an assigner over the unit grids among `areas` (other levels are ignored),
    /// sorted by code so that boundary ties go to the lowest code.
    pub fn new(areas: &[Area], rule: &CodeRule, options: LocatorOptions) -> Self {
        let mut grids: Vec<Area> = areas
            .iter()
            .filter(|a| a.level() == Level::Grid)
            .cloned()
            .collect();
        grids.sort_by_key(|a| a.code);
        let codes = grids
            .iter()
            .map(|g| {
                let at = |l: Level| {
                    g.code
                        .ancestor(rule, l)
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                };
                GridCodes {
                    grid: g.code.to_string(),
                    community: at(Level::Community),
                    street: at(Level::Street),
                    district: at(Level::District),
                }
            })
            .collect();
        Assigner {
            locator: GridLocator::new(&grids, options),
            codes,
        }
    }

    /// Number of grids.
    pub fn grids(&self) -> usize {
        self.codes.len()
    }

    /// Codes of grid `i`.
    pub fn codes(&self, i: u32) -> &GridCodes {
        &self.codes[i as usize]
    }

    /// The locator (for its cache statistics).
    pub fn locator(&self) -> &GridLocator {
        &self.locator
    }

    /// Locates one point.
    pub fn assign(&self, lon: f64, lat: f64, nearest_m: Option<f64>) -> Location {
        self.locator.locate_or_nearest(lon, lat, nearest_m)
    }

    /// Locates a slice of points on this thread, cell lookups batched (see
    /// [`GridLocator::locate_many`]); nearest grids are searched for those outside.
    pub fn assign_many(&self, points: &[(f64, f64)], nearest_m: Option<f64>) -> Vec<Location> {
        let mut found = Vec::with_capacity(points.len());
        self.locator.locate_many(points, &mut found);
        points
            .iter()
            .zip(found)
            .map(|(&(x, y), f)| match f {
                Some(g) => Location::Inside(g),
                None => self.locator.locate_or_nearest(x, y, nearest_m),
            })
            .collect()
    }

    /// Locates a batch in parallel; `None` entries (rejected rows) stay `None`.
    pub fn assign_batch(
        &self,
        points: &[Option<(f64, f64)>],
        nearest_m: Option<f64>,
    ) -> Vec<Option<Location>> {
        points
            .par_iter()
            .with_min_len(4096)
            .map(|p| p.map(|(x, y)| self.assign(x, y, nearest_m)))
            .collect()
    }
}
