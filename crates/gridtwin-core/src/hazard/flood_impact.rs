//! What a flood touches: components, buildings and road segments standing in water
//! over a threshold, counted per unit grid and every level above.
//!
//! Rules (documented because they decide counts):
//! - a component is affected when the water depth of the DEM cell at its location is
//!   at least the threshold;
//! - a building when the deepest water over its footprint's vertices and centroid is
//!   at least the threshold (ground-floor entry points sit at the walls);
//! - a road segment is closed when the deepest water sampled along it (every half
//!   cell) is at least the threshold;
//! - each is counted in the unit grid holding its location / centroid / midpoint
//!   (the locator's half-open boundary rule), and in that grid's community, street and
//!   district by code.
//!
//! The DEM must be in the city's coordinates (WGS-84 lon/lat).

use std::collections::BTreeMap;

use geo::{Centroid, Coord};

use crate::dem::Dem;
use crate::locate::{GridLocator, LocatorOptions};
use crate::{City, Level};

/// One affected thing: its index in the city's list, the depth (m) and its grid
/// (index into the city's unit grids sorted by code), if inside one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affected {
    pub index: usize,
    pub depth_m: f64,
    pub grid: Option<usize>,
}

/// Counts for one area.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AreaCounts {
    pub components: usize,
    pub buildings: usize,
    pub roads: usize,
}

/// The impact inventory of one flood state.
#[derive(Debug, Clone, Default)]
pub struct Impact {
    pub threshold_m: f64,
    pub components: Vec<Affected>,
    pub buildings: Vec<Affected>,
    pub roads: Vec<Affected>,
    /// (level, area code) → counts; every level from grid to district.
    pub by_area: BTreeMap<(Level, String), AreaCounts>,
    /// Cells at or over the threshold, and their area in m².
    pub flooded_cells: usize,
    pub flooded_area_m2: f64,
}

/// Mean area of a cell of a lon/lat DEM on the WGS-84 ellipsoid, m²: the raster's
/// whole area (exact, between its north and south edges) over its cell count. Cells
/// of one raster differ by latitude (by 0.06 % over 2 km at 60° N); the mean keeps the
/// raster's total volume exact, so rain, stored and drained m³ balance as in metres.
///
/// ```
/// use gridtwin_core::dem::Dem;
/// use gridtwin_core::flood_impact::lon_lat_cell_area_m2;
/// // one cell of 1° × 1° on the equator: 12,308.5 km² on WGS-84
/// // (a sphere of the mean radius gives 12,364 km²)
/// let dem = Dem::new(1, 1, 0.0, 1.0, 1.0, vec![0.0]);
/// assert!((lon_lat_cell_area_m2(&dem) / 1e6 - 12_308.46).abs() < 0.01);
/// ```
pub fn lon_lat_cell_area_m2(dem: &Dem) -> f64 {
    let (_, north) = dem.origin();
    let south = north - dem.rows() as f64 * dem.cell_size();
    let width = dem.cols() as f64 * dem.cell_size();
    wgs84_band_area_m2(south, north, width) / (dem.cols() * dem.rows()) as f64
}

/// WGS-84 semi-major axis (m) and flattening.
const WGS84_A: f64 = 6_378_137.0;
const WGS84_F: f64 = 1.0 / 298.257_223_563;

/// Area on the WGS-84 ellipsoid between latitudes `south` and `north` (degrees) over
/// `width` degrees of longitude, m²: Δλ · b²/2 · [q(φ)] from south to north, with
/// q(φ) = sin φ / (1 − e² sin² φ) + atanh(e sin φ) / e (the authalic-latitude integral).
pub fn wgs84_band_area_m2(south: f64, north: f64, width: f64) -> f64 {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let e = e2.sqrt();
    let b = WGS84_A * (1.0 - WGS84_F);
    let q = |lat: f64| {
        let s = lat.clamp(-90.0, 90.0).to_radians().sin();
        s / (1.0 - e2 * s * s) + (e * s).atanh() / e
    };
    width.to_radians() * b * b / 2.0 * (q(north) - q(south))
}

/// Inventories what `depth` (per DEM cell, m) reaches in `city`, on a lon/lat DEM.
pub fn inventory(city: &City, dem: &Dem, depth: &[f64], threshold_m: f64) -> Impact {
    inventory_on(
        city,
        dem,
        depth,
        threshold_m,
        &|x, y| Some((x, y)),
        lon_lat_cell_area_m2(dem),
    )
}

/// Inventories what `depth` (per DEM cell, m) reaches in `city` on a DEM in any
/// system: `to_dem` takes the city's lon/lat to the DEM's coordinates (the city is
/// projected onto the DEM, never the DEM resampled), `cell_area_m2` is a cell's area.
/// Roads are sampled every half cell along their course on the DEM.
pub fn inventory_on(
    city: &City,
    dem: &Dem,
    depth: &[f64],
    threshold_m: f64,
    to_dem: &dyn Fn(f64, f64) -> Option<(f64, f64)>,
    cell_area_m2: f64,
) -> Impact {
    // depth at a place given in the DEM's coordinates
    let on_dem = |(x, y): (f64, f64)| -> f64 {
        dem.cell_at(x, y)
            .map(|(r, c)| depth[r * dem.cols() + c])
            .unwrap_or(0.0)
    };
    let at = |x: f64, y: f64| -> f64 { to_dem(x, y).map(on_dem).unwrap_or(0.0) };
    let mut grids: Vec<_> = city.areas_at(Level::Grid).cloned().collect();
    grids.sort_by_key(|a| a.code);
    let locator = GridLocator::new(&grids, LocatorOptions::default());
    let grid_of = |x: f64, y: f64| locator.locate(x, y).map(|g| g as usize);

    let mut out = Impact {
        threshold_m,
        ..Default::default()
    };
    for (i, c) in city.components.iter().enumerate() {
        let (x, y) = (c.location.x(), c.location.y());
        let d = at(x, y);
        if d >= threshold_m {
            out.components.push(Affected {
                index: i,
                depth_m: d,
                grid: grid_of(x, y),
            });
        }
    }
    for (i, b) in city.buildings.iter().enumerate() {
        let Some(centre) = b.footprint.centroid() else {
            continue;
        };
        let d = b
            .footprint
            .iter()
            .flat_map(|p| p.exterior().coords())
            .map(|c| at(c.x, c.y))
            .fold(at(centre.x(), centre.y()), f64::max);
        if d >= threshold_m {
            out.buildings.push(Affected {
                index: i,
                depth_m: d,
                grid: grid_of(centre.x(), centre.y()),
            });
        }
    }
    let step = dem.cell_size() / 2.0;
    for (i, r) in city.roads.iter().enumerate() {
        let mut d: f64 = 0.0;
        for w in r.line.0.windows(2) {
            let (a, b): (Coord, Coord) = (w[0], w[1]);
            let (Some(a), Some(b)) = (to_dem(a.x, a.y), to_dem(b.x, b.y)) else {
                continue;
            };
            let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
            // (a short segment is straight on the DEM too; a bound on samples keeps a
            // mis-projected one from running away)
            let n = (len / step).ceil().clamp(1.0, 1e6) as usize;
            for k in 0..=n {
                let t = k as f64 / n as f64;
                d = d.max(on_dem((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)));
            }
        }
        if d >= threshold_m {
            let mid = r.line.centroid();
            out.roads.push(Affected {
                index: i,
                depth_m: d,
                grid: mid.and_then(|m| grid_of(m.x(), m.y())),
            });
        }
    }
    let rule = city.rule;
    let mut by_area: BTreeMap<(Level, String), AreaCounts> = BTreeMap::new();
    let mut count = |grid: Option<usize>, f: fn(&mut AreaCounts)| {
        let Some(g) = grid else { return };
        let code = grids[g].code;
        for level in [
            Level::Grid,
            Level::Community,
            Level::Street,
            Level::District,
        ] {
            if let Some(a) = code.ancestor(&rule, level) {
                f(by_area.entry((level, a.to_string())).or_default());
            }
        }
    };
    for a in &out.components {
        count(a.grid, |c| c.components += 1);
    }
    for a in &out.buildings {
        count(a.grid, |c| c.buildings += 1);
    }
    for a in &out.roads {
        count(a.grid, |c| c.roads += 1);
    }
    out.by_area = by_area;
    out.flooded_cells = depth.iter().filter(|&&d| d >= threshold_m).count();
    out.flooded_area_m2 = out.flooded_cells as f64 * cell_area_m2;
    out
}

/// One hour of a steady storm: the rain fallen so far, the water it leaves, and what
/// that water reaches.
pub struct StormHour {
    /// Hours since the storm began (1, 2, …).
    pub hour: u32,
    /// Rain fallen so far, metres.
    pub rain_m: f64,
    pub flood: crate::flood::Flood,
    pub impact: Impact,
}

/// A storm of `rain_mm_per_hour` over `hours` on a DEM (fill–spill–merge of the rain
/// fallen by the end of each hour, then its inventory at `threshold_m`): the one loop
/// `gridtwin flood` and a scenario's `[flood]` hazard share.
pub fn storm<'a>(
    city: &'a City,
    dem: &'a Dem,
    rain_mm_per_hour: f64,
    hours: u32,
    threshold_m: f64,
    to_dem: &'a dyn Fn(f64, f64) -> Option<(f64, f64)>,
    cell_area_m2: f64,
) -> impl Iterator<Item = StormHour> + 'a {
    let n = dem.cols() * dem.rows();
    (1..=hours).map(move |hour| {
        let rain_m = rain_mm_per_hour * hour as f64 / 1000.0;
        let flood = crate::flood::fill_spill_merge(dem, &vec![rain_m; n], cell_area_m2);
        let impact = inventory_on(city, dem, &flood.depth, threshold_m, to_dem, cell_area_m2);
        StormHour {
            hour,
            rain_m,
            flood,
            impact,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::{partition, PartitionPlan};
    use crate::{Building, CodeRule, Component, ComponentStatus, HeightSource, Road, SpeedSource};
    use geo::{polygon, LineString, MultiPolygon, Point};

    #[test]
    fn hand_checked_inventory_of_a_flooded_hollow() {
        // A city of 0.01° × 0.01° partitioned into grids; a DEM of 10 × 10 cells of
        // 0.001° that is flat at 5 m except a hollow (cells rows 4-5, cols 4-5) at 0 m
        // holding 0.5 m of water.
        let rule = CodeRule::national();
        let plan = PartitionPlan {
            district: rule.parse_area(Level::District, "990101").unwrap(),
            district_name: "t".into(),
            streets: (1, 1),
            communities: (1, 1),
            target_grid_m2: 300_000.0,
        };
        let mut city = City::new("t", rule);
        city.areas = partition(&rule, &plan, geo::Rect::new((24.0, 60.0), (24.01, 60.01))).unwrap();
        let dem = Dem::new(10, 10, 24.0, 60.01, 0.001, vec![5.0; 100]);
        let mut depth = vec![0.0; 100];
        for (r, c) in [(4, 4), (4, 5), (5, 4), (5, 5)] {
            depth[r * 10 + c] = 0.5;
        }
        // (row 4 spans lat 60.005..60.006, col 4 lon 24.004..24.005)
        let comp = |lon: f64, lat: f64, serial: &str| Component {
            code: rule
                .parse_component(&format!("990101010700{serial}"))
                .unwrap(),
            location: Point::new(lon, lat),
            department: "Street Lighting Office".into(),
            status: ComponentStatus::InService,
            source_id: Default::default(),
        };
        city.components = vec![
            comp(24.0045, 60.0055, "0001"), // in the hollow
            comp(24.0015, 60.0015, "0002"), // dry corner
            comp(24.0059, 60.0041, "0003"), // in the hollow's south-east cell
        ];
        city.buildings = vec![
            Building {
                id: "wet".into(),
                // one wall corner stands in the hollow
                footprint: MultiPolygon(vec![polygon![
                    (x: 24.0055, y: 60.0045), (x: 24.0075, y: 60.0045),
                    (x: 24.0075, y: 60.0035), (x: 24.0055, y: 60.0035)
                ]]),
                height_m: 10.0,
                height_source: HeightSource::Tagged,
            },
            Building {
                id: "dry".into(),
                footprint: MultiPolygon(vec![polygon![
                    (x: 24.0005, y: 60.0095), (x: 24.0015, y: 60.0095),
                    (x: 24.0015, y: 60.0085), (x: 24.0005, y: 60.0085)
                ]]),
                height_m: 10.0,
                height_source: HeightSource::Tagged,
            },
        ];
        let road = |id: &str, pts: Vec<(f64, f64)>| Road {
            id: id.into(),
            line: LineString::from(pts),
            class: "residential".into(),
            speed_kmh: 30.0,
            speed_source: SpeedSource::Class,
            oneway: false,
        };
        city.roads = vec![
            // crosses the hollow west → east along lat 60.0052
            road("across", vec![(24.0005, 60.0052), (24.0095, 60.0052)]),
            // passes north of it
            road("north", vec![(24.0005, 60.0085), (24.0095, 60.0085)]),
        ];
        let imp = inventory(&city, &dem, &depth, 0.3);
        let idx = |v: &[Affected]| v.iter().map(|a| a.index).collect::<Vec<_>>();
        assert_eq!(idx(&imp.components), vec![0, 2]);
        assert_eq!(idx(&imp.buildings), vec![0]);
        assert_eq!(idx(&imp.roads), vec![0]);
        assert!(imp.components.iter().all(|a| a.depth_m == 0.5));
        assert_eq!(imp.flooded_cells, 4);
        // counts roll up: both components, the building and the road are in the district
        let d = imp.by_area[&(Level::District, "990101".to_string())];
        assert_eq!((d.components, d.buildings, d.roads), (2, 1, 1));
        let grids: usize = imp
            .by_area
            .iter()
            .filter(|(k, _)| k.0 == Level::Grid)
            .map(|(_, c)| c.components)
            .sum();
        assert_eq!(grids, 2);
        // over a higher threshold nothing is affected
        let none = inventory(&city, &dem, &depth, 0.6);
        assert!(none.components.is_empty() && none.roads.is_empty() && none.by_area.is_empty());
    }

    #[test]
    fn the_ellipsoid_s_whole_surface_and_a_band_at_8_south() {
        // WGS-84's surface: 510,065,621.7 km² (the authalic sphere's 4πR²)
        let globe = wgs84_band_area_m2(-90.0, 90.0, 360.0);
        assert!((globe / 1e6 - 510_065_621.7).abs() < 1.0, "{globe}");
        // symmetric about the equator, additive in latitude
        let (a, b) = (
            wgs84_band_area_m2(-8.0, -7.0, 1.0),
            wgs84_band_area_m2(7.0, 8.0, 1.0),
        );
        assert!((a - b).abs() < 1e-6 * a);
        let whole = wgs84_band_area_m2(-8.0, 8.0, 1.0);
        let parts = wgs84_band_area_m2(-8.0, 0.0, 1.0) + wgs84_band_area_m2(0.0, 8.0, 1.0);
        assert!((whole - parts).abs() < 1e-6 * whole);
        // the old spherical value (mean radius, cos of the latitude) was 0.42 % high at
        // 8° S (issue 15)
        let cell = 0.0001;
        let dem = Dem::new(6, 6, -34.9, -8.0 + 6.0 * cell, cell, vec![0.0; 36]);
        let sphere = {
            let m = crate::frame::EARTH_RADIUS_M * cell.to_radians();
            m * m * (-8.0 + 3.0 * cell).to_radians().cos()
        };
        let ratio = sphere / lon_lat_cell_area_m2(&dem);
        assert!((ratio - 1.0042).abs() < 0.0003, "{ratio}");
    }
}
