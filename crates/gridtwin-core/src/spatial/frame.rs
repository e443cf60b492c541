//! A local metric frame: lon/lat ↔ metres east/north of an origin.
//!
//! An equirectangular projection about the origin: exact enough (≪ 0.1 %) for the
//! kilometre scales of a district, cheap, and linear in each axis — so a rectangle in
//! metres is a rectangle in lon/lat, and shared edges stay shared after conversion.
//! The viewer uses the same frame to render f64 source coordinates as f32 offsets.
//!
//! ```
//! use gridtwin_core::frame::LocalFrame;
//! let f = LocalFrame::new(24.94, 60.17);
//! let (x, y) = f.to_local(24.95, 60.17);
//! assert!((x - 553.6).abs() < 1.0 && y.abs() < 1e-9); // 0.01° of lon at 60°N ≈ 554 m
//! let (lon, lat) = f.to_lon_lat(x, y);
//! assert!((lon - 24.95).abs() < 1e-12 && (lat - 60.17).abs() < 1e-12);
//! ```

use geo::{Coord, MapCoords, MultiPolygon, Polygon};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// An equirectangular frame centred on an origin lon/lat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl LocalFrame {
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        LocalFrame {
            lon0,
            lat0,
            m_per_deg_lon: m_per_deg_lat * lat0.to_radians().cos(),
            m_per_deg_lat,
        }
    }

    pub fn origin(&self) -> (f64, f64) {
        (self.lon0, self.lat0)
    }

    /// lon/lat → metres east, north of the origin.
    pub fn to_local(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.m_per_deg_lon,
            (lat - self.lat0) * self.m_per_deg_lat,
        )
    }

    /// metres east, north → lon/lat.
    pub fn to_lon_lat(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.lon0 + x / self.m_per_deg_lon,
            self.lat0 + y / self.m_per_deg_lat,
        )
    }

    pub fn to_local_polygon(&self, p: &Polygon<f64>) -> Polygon<f64> {
        p.map_coords(|c| {
            let (x, y) = self.to_local(c.x, c.y);
            Coord { x, y }
        })
    }

    pub fn to_local_multipolygon(&self, p: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon(p.iter().map(|q| self.to_local_polygon(q)).collect())
    }

    /// Metres back to lon/lat, for a whole multipolygon.
    pub fn to_lon_lat_multipolygon(&self, p: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        p.map_coords(|c| {
            let (x, y) = self.to_lon_lat(c.x, c.y);
            Coord { x, y }
        })
    }
}
