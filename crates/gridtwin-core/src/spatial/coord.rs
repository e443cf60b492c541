//! Coordinates: checking WGS-84 lon/lat and converting the offset systems of Chinese
//! web maps (GCJ-02 "Mars coordinates", BD-09 of Baidu) to WGS-84.
//!
//! gridtwin works in WGS-84 lon/lat internally. GCJ-02 and BD-09 are converted only
//! on an explicit flag: the offsets (up to several hundred metres) are otherwise
//! invisible in the data and silently misplace every point.
//!
//! ```
//! use gridtwin_core::coord::{gcj02_to_wgs84, wgs84_to_gcj02};
//! let (lon, lat) = (121.4737, 31.2304); // Shanghai, WGS-84
//! let (glon, glat) = wgs84_to_gcj02(lon, lat);
//! assert!((glon - lon).abs() > 1e-3); // hundreds of metres of offset
//! let (blon, blat) = gcj02_to_wgs84(glon, glat);
//! assert!((blon - lon).abs() < 1e-7 && (blat - lat).abs() < 1e-7);
//! ```

use std::f64::consts::PI;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::parse::ParseEnumError;

/// The coordinate system an input file's lon/lat are given in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LonLatSystem {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

impl FromStr for LonLatSystem {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, ParseEnumError> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "epsg4326" => Ok(LonLatSystem::Wgs84),
            "gcj02" => Ok(LonLatSystem::Gcj02),
            "bd09" => Ok(LonLatSystem::Bd09),
            _ => Err(ParseEnumError::new(
                "coordinate system",
                s,
                "wgs84, gcj02 or bd09",
            )),
        }
    }
}

impl LonLatSystem {
    /// Converts a lon/lat in this system to WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            LonLatSystem::Wgs84 => (lon, lat),
            LonLatSystem::Gcj02 => gcj02_to_wgs84(lon, lat),
            LonLatSystem::Bd09 => {
                let (g, t) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(g, t)
            }
        }
    }
}

/// Checks that a lon/lat pair is finite and within WGS-84 range.
pub fn check_lon_lat(lon: f64, lat: f64) -> Result<(), LonLatProblem> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(LonLatProblem::NotFinite);
    }
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(LonLatProblem::OutOfRange);
    }
    Ok(())
}

/// What is wrong with a lon/lat pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LonLatProblem {
    NotFinite,
    OutOfRange,
}

// Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02 (the published forward algorithm). Outside China there is no offset.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS-84, inverting the forward offset by fixed-point iteration to below
/// 1e-9 degrees (about 0.1 mm), not the common one-step approximation (errors of metres).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (dlon, dlat) = (glon - lon, glat - lat);
        wlon -= dlon;
        wlat -= dlat;
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, refined by iteration on the forward formula.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    let (mut glon, mut glat) = (z * theta.cos(), z * theta.sin());
    for _ in 0..10 {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        glon -= blon - lon;
        glat -= blat - lat;
    }
    (glon, glat)
}

/// Great-circle distance in metres (haversine on a sphere of radius 6,371,008.8 m).
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_offset_in_beijing() {
        // Tiananmen, WGS-84 → GCJ-02: the published algorithm moves it by about
        // +0.0062° lon and +0.0014° lat (a few hundred metres).
        let (lon, lat) = wgs84_to_gcj02(116.391_28, 39.907_32);
        let d = haversine_m(116.391_28, 39.907_32, lon, lat);
        assert!((400.0..700.0).contains(&d), "offset {d} m");
        assert!(lon > 116.391_28 && lat > 39.907_32);
    }

    #[test]
    fn outside_china_unchanged() {
        assert_eq!(wgs84_to_gcj02(24.94, 60.17), (24.94, 60.17));
        assert_eq!(LonLatSystem::Gcj02.to_wgs84(24.94, 60.17), (24.94, 60.17));
    }

    #[test]
    fn range_checks() {
        assert!(check_lon_lat(121.0, 31.0).is_ok());
        assert_eq!(check_lon_lat(f64::NAN, 31.0), Err(LonLatProblem::NotFinite));
        assert_eq!(check_lon_lat(181.0, 31.0), Err(LonLatProblem::OutOfRange));
        assert_eq!(check_lon_lat(1.0, -90.5), Err(LonLatProblem::OutOfRange));
        assert_eq!("GCJ-02".parse::<LonLatSystem>(), Ok(LonLatSystem::Gcj02));
        assert!("utm".parse::<LonLatSystem>().is_err());
    }

    proptest! {
        #[test]
        fn gcj02_round_trip_within_1m(lon in 73.0f64..135.0, lat in 18.0f64..53.0) {
            let (g, t) = wgs84_to_gcj02(lon, lat);
            let (l2, t2) = gcj02_to_wgs84(g, t);
            prop_assert!(haversine_m(lon, lat, l2, t2) < 1.0);
            // and the other way round
            let (w, v) = gcj02_to_wgs84(lon, lat);
            let (g2, v2) = wgs84_to_gcj02(w, v);
            prop_assert!(haversine_m(lon, lat, g2, v2) < 1.0);
        }

        #[test]
        fn bd09_round_trip_within_1m(lon in 73.0f64..135.0, lat in 18.0f64..53.0) {
            let (g, t) = wgs84_to_gcj02(lon, lat);
            let (b, d) = gcj02_to_bd09(g, t);
            let (l2, t2) = LonLatSystem::Bd09.to_wgs84(b, d);
            prop_assert!(haversine_m(lon, lat, l2, t2) < 1.0);
        }
    }
}
