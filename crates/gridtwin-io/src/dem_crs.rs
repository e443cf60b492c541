//! A DEM read in its own coordinate system, and how the city's lon/lat reach it.
//!
//! The DEM is never resampled: a projected DEM (UTM, a national grid, in metres) is
//! flooded on its own cells, whose area is exact (cell²), and the city's lon/lat
//! layers are projected onto it. The system comes from `--dem-crs` (`EPSG:NNNN`, WKT or
//! a PROJ string), else the `.prj` beside the file, else a GeoTIFF's own (read through
//! GDAL, the `gdal` feature; no pure-Rust TIFF reader here), else it is unstated — and
//! then the numbers are taken as lon/lat only where they cannot be metres.
//!
//! Projections are pure Rust: `proj4rs` with the EPSG table of `crs-definitions`, and
//! `proj4wkt` for a `.prj`'s WKT.

use std::path::Path;

use gridtwin_core::dem::{Dem, DemCrs};
use gridtwin_core::flood_impact::lon_lat_cell_area_m2;
use proj4rs::Proj;

use crate::IoError;

/// The `.prj` (WKT) of WGS-84 lon/lat, written beside lon/lat rasters.
pub const WGS84_PRJ: &str = "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";

/// The largest `.prj` read (one line of WKT is a few hundred bytes).
const MAX_PRJ_BYTES: u64 = 64 * 1024;

/// A coordinate system as stated, resolved.
pub struct Crs {
    /// What it is called in messages (`EPSG:32617`, the WKT's name).
    pub name: String,
    /// WKT to write beside rasters in this system.
    pub wkt: String,
    /// WGS-84 lon/lat and the projection; `None` for lon/lat.
    proj: Option<(Proj, Proj)>,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crs").field("name", &self.name).finish()
    }
}

impl Crs {
    /// Reads `EPSG:NNNN`, `OGC:CRS84`, WKT (a `.prj`'s text) or a PROJ string.
    pub fn parse(text: &str) -> Result<Crs, String> {
        let t = text.trim();
        let upper = t.to_ascii_uppercase();
        if upper.ends_with("CRS84") {
            return Ok(Crs::lon_lat("OGC:CRS84"));
        }
        let code = upper
            .strip_prefix("EPSG::")
            .or_else(|| upper.strip_prefix("EPSG:"))
            .unwrap_or(&upper);
        if let Ok(n) = code.parse::<u16>() {
            let def = crs_definitions::from_code(n)
                .ok_or_else(|| format!("EPSG:{n} is not in the EPSG table"))?;
            return Crs::from_proj(&format!("EPSG:{n}"), def.proj4, def.wkt.to_string());
        }
        if t.starts_with('+') {
            return Crs::from_proj(t, t, String::new());
        }
        if upper.starts_with("GEOGCS[") || upper.starts_with("GEOGCRS[") {
            return Ok(Crs::lon_lat(wkt_name(t)));
        }
        if upper.starts_with("PROJCS[") || upper.starts_with("PROJCRS[") {
            // the system's own EPSG code, where the WKT carries one (its last AUTHORITY)
            if let Some(n) = last_epsg(t) {
                if let Some(def) = crs_definitions::from_code(n) {
                    return Crs::from_proj(wkt_name(t), def.proj4, t.to_string());
                }
            }
            let proj = proj4wkt::wkt_to_projstring(t)
                .map_err(|e| format!("cannot read the WKT of `{}`: {e}", wkt_name(t)))?;
            return Crs::from_proj(wkt_name(t), &proj, t.to_string());
        }
        let shown: String = t.chars().take(40).collect();
        Err(format!(
            "cannot read the coordinate system `{shown}` (give EPSG:NNNN, WKT or a PROJ string)"
        ))
    }

    fn lon_lat(name: &str) -> Crs {
        Crs {
            name: name.to_string(),
            wkt: WGS84_PRJ.to_string(),
            proj: None,
        }
    }

    fn from_proj(name: &str, proj: &str, wkt: String) -> Result<Crs, String> {
        let p = Proj::from_proj_string(proj).map_err(|e| format!("{name}: {e}"))?;
        if p.is_latlong() {
            return Ok(Crs::lon_lat(name));
        }
        if p.units() != "m" {
            return Err(format!(
                "{name} is in `{}`, not metres: a DEM in metres is needed (cell areas and \
                 depths are in m)",
                p.units()
            ));
        }
        let lon_lat = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(|e| format!("WGS-84: {e}"))?;
        Ok(Crs {
            name: name.to_string(),
            wkt,
            proj: Some((lon_lat, p)),
        })
    }

    /// Whether the system is geographic lon/lat.
    pub fn is_lon_lat(&self) -> bool {
        self.proj.is_none()
    }

    /// A WGS-84 lon/lat point in this system (`None` where it cannot be projected).
    pub fn from_lon_lat(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let Some((from, to)) = &self.proj else {
            return Some((lon, lat));
        };
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(from, to, &mut p).ok()?;
        (p.0.is_finite() && p.1.is_finite()).then_some((p.0, p.1))
    }

    /// A point of this system in WGS-84 lon/lat.
    pub fn to_lon_lat(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let Some((lon_lat, this)) = &self.proj else {
            return Some((x, y));
        };
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(this, lon_lat, &mut p).ok()?;
        (p.0.is_finite() && p.1.is_finite()).then_some((p.0.to_degrees(), p.1.to_degrees()))
    }
}

fn wkt_name(wkt: &str) -> &str {
    wkt.split('"').nth(1).unwrap_or("a projected system")
}

/// The code of the last `AUTHORITY["EPSG","n"]` in a WKT (the system's own in WKT1).
fn last_epsg(wkt: &str) -> Option<u16> {
    let upper = wkt.to_ascii_uppercase();
    let at = upper.rfind("AUTHORITY[\"EPSG\"")?;
    // only the outermost node's authority names the system: it closes the WKT
    let rest = &wkt[at..];
    let code = rest.split('"').nth(3)?;
    let tail = rest.split(']').nth(1)?;
    (tail.trim_start_matches(']').trim().is_empty() || tail.trim() == "]")
        .then(|| code.parse().ok())
        .flatten()
}

/// A DEM in its own system, and how the city's lon/lat reach its cells.
pub struct PlacedDem {
    pub dem: Dem,
    /// The system the DEM's numbers are in (lon/lat when unstated).
    pub crs: Crs,
    /// Area of one cell, m²: cell² on a projected DEM; on a lon/lat DEM the mean cell
    /// on the WGS-84 ellipsoid.
    pub cell_area_m2: f64,
}

impl PlacedDem {
    /// A lon/lat point in the DEM's coordinates (`None` where it cannot be projected).
    pub fn to_dem(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        self.crs.from_lon_lat(lon, lat)
    }

    /// Whether the DEM is projected (not lon/lat).
    pub fn is_projected(&self) -> bool {
        !self.crs.is_lon_lat()
    }
}

/// Reads a DEM in its own coordinate system: `crs` (a flag), else the `.prj` beside
/// the file, else a GeoTIFF's own, else unstated (see the module doc). The numbers are
/// checked against the system ([`Dem::check_crs`]).
pub fn read_placed_dem(path: &Path, crs: Option<&str>) -> Result<PlacedDem, IoError> {
    let file = path.display().to_string();
    let prj = path.with_extension("prj");
    let stated: Option<Crs> = match crs {
        Some(c) => {
            Some(Crs::parse(c).map_err(|e| IoError::read(&file, format!("--dem-crs: {e}")))?)
        }
        None if prj.is_file() => {
            let prj_file = prj.display().to_string();
            let len = std::fs::metadata(&prj)
                .map_err(|e| IoError::read(&prj_file, e))?
                .len();
            if len > MAX_PRJ_BYTES {
                return Err(IoError::read(&prj_file, "not a .prj (over 64 KiB)"));
            }
            let text = std::fs::read_to_string(&prj).map_err(|e| IoError::read(&prj_file, e))?;
            Some(Crs::parse(&text).map_err(|e| IoError::read(&prj_file, e))?)
        }
        None => None,
    };
    let (dem, own) = crate::read_dem_stated(path)?;
    // a GeoTIFF's own system, where no flag or .prj states one
    let stated = match (stated, own) {
        (Some(c), _) => Some(c),
        (None, Some(own)) => Some(Crs::parse(&own).map_err(|e| IoError::read(&file, e))?),
        (None, None) => None,
    };
    let as_checked = match &stated {
        Some(c) if c.is_lon_lat() => Some(DemCrs::LonLat),
        Some(c) => Some(DemCrs::Projected(c.name.clone())),
        None => None,
    };
    dem.check_crs(as_checked.as_ref())
        .map_err(|e| IoError::read(&file, e))?;
    let crs = stated.unwrap_or_else(|| Crs::lon_lat("EPSG:4326"));
    let cell_area_m2 = if crs.is_lon_lat() {
        lon_lat_cell_area_m2(&dem)
    } else {
        dem.cell_size() * dem.cell_size()
    };
    Ok(PlacedDem {
        dem,
        crs,
        cell_area_m2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_from_codes_wkt_and_proj_strings() {
        assert!(Crs::parse("EPSG:4326").unwrap().is_lon_lat());
        assert!(Crs::parse("4490").unwrap().is_lon_lat()); // CGCS2000
        assert!(Crs::parse("OGC:CRS84").unwrap().is_lon_lat());
        let utm = Crs::parse("EPSG:32617").unwrap();
        assert!(!utm.is_lon_lat());
        assert!(utm.wkt.starts_with("PROJCS["));
        // an ESRI .prj without an authority, read through proj4wkt
        let esri = r#"PROJCS["WGS_1984_UTM_Zone_17N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-81.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let e = Crs::parse(esri).unwrap();
        assert_eq!(e.name, "WGS_1984_UTM_Zone_17N");
        // a system in feet is refused (areas and depths are in metres)
        let ft = Crs::parse("EPSG:2263").err().unwrap();
        assert!(ft.contains("us-ft"), "{ft}");
        assert!(Crs::parse("metres, probably").is_err());
        assert_eq!(last_epsg(&utm.wkt), Some(32617));
        assert_eq!(last_epsg(esri), None);
    }

    #[test]
    fn the_city_reaches_a_utm_dem_where_utm_says() {
        // a UTM 17N DEM around (-84.25, 36.6): the projected point, and back
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("utm.asc");
        let mut text =
            String::from("ncols 3\nnrows 3\nxllcorner 209000\nyllcorner 4055000\ncellsize 90\n");
        text.push_str("1 1 1\n1 0 1\n1 1 1\n");
        std::fs::write(&p, text).unwrap();
        let placed = read_placed_dem(&p, Some("EPSG:32617")).unwrap();
        assert!(placed.is_projected());
        assert_eq!(placed.cell_area_m2, 8100.0);
        let (x, y) = placed.to_dem(-84.25, 36.6).unwrap();
        // (independently: PROJ 9.5.1 through pyproj, EPSG:4326 → EPSG:32617, gives
        // 209274.655, 4055419.746 for this point)
        assert!((x - 209_274.655).abs() < 0.01 && (y - 4_055_419.746).abs() < 0.01);
        let (lon, lat) = placed.crs.to_lon_lat(x, y).unwrap();
        assert!((lon + 84.25).abs() < 1e-9 && (lat - 36.6).abs() < 1e-9);
        // a .prj beside the file states it as well
        std::fs::write(
            dir.path().join("utm.prj"),
            Crs::parse("EPSG:32617").unwrap().wkt,
        )
        .unwrap();
        assert!(read_placed_dem(&p, None).unwrap().is_projected());
    }
}
