//! Digital elevation models: a north-up raster of elevations in metres.
//!
//! The built-in file format is the ESRI ASCII grid (`.asc`): a six-line header
//! (`ncols`, `nrows`, `xllcorner`/`xllcenter`, `yllcorner`/`yllcenter`, `cellsize`,
//! optional `NODATA_value`) followed by rows from north to south. It is plain text,
//! readable by GDAL and QGIS, and easy to write by hand for tests. GeoTIFF DEMs are
//! read through GDAL (the `gdal` feature of `gridtwin-io`).
//!
//! ```
//! use gridtwin_core::dem::Dem;
//! let text = "ncols 3\nnrows 2\nxllcorner 24.0\nyllcorner 60.0\ncellsize 0.5\nNODATA_value -9999\n\
//!             1 2 3\n4 -9999 6\n";
//! let dem = Dem::from_asc(text, "t.asc").unwrap();
//! assert_eq!((dem.cols(), dem.rows()), (3, 2));
//! assert_eq!(dem.get(0, 0), Some(1.0)); // row 0 is the northern row
//! assert_eq!(dem.get(1, 1), None); // no data
//! // the centre of the south-west cell
//! assert_eq!(dem.cell_centre(1, 0), (24.25, 60.25));
//! ```

/// Why a DEM could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: {message}")]
pub struct DemError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// (row, column) steps to the 8 cells around a cell, row by row.
pub const NEIGHBOURS_8: [(isize, isize); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// The largest elevation taken, in either direction (m): 100 km is far beyond any
/// surface on Earth (-11 km to 9 km), and leaves room for DEMs in centimetres.
pub const MAX_ABS_ELEVATION: f64 = 100_000.0;

/// The most cells a DEM may hold (2^31, the flood's limit).
pub const MAX_DEM_CELLS: usize = 1 << 31;

/// A north-up elevation raster; `NaN` marks cells without data.
#[derive(Debug, Clone, PartialEq)]
pub struct Dem {
    cols: usize,
    rows: usize,
    /// West edge x and north edge y of the raster, in the raster's coordinates.
    west: f64,
    north: f64,
    cell: f64,
    z: Vec<f64>,
}

impl Dem {
    /// A DEM from elevations in row-major order, north row first.
    pub fn new(cols: usize, rows: usize, west: f64, north: f64, cell: f64, z: Vec<f64>) -> Self {
        assert_eq!(z.len(), cols * rows, "elevations must fill the raster");
        Dem {
            cols,
            rows,
            west,
            north,
            cell,
            z,
        }
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cell_size(&self) -> f64 {
        self.cell
    }

    /// West and north edges.
    pub fn origin(&self) -> (f64, f64) {
        (self.west, self.north)
    }

    /// Elevations, row-major, north row first (`NaN`: no data).
    pub fn elevations(&self) -> &[f64] {
        &self.z
    }

    /// The cells around cell `i` (row-major) that lie on the raster, in the fixed
    /// order of [`NEIGHBOURS_8`].
    ///
    /// ```
    /// let dem = gridtwin_core::dem::Dem::new(3, 2, 0.0, 2.0, 1.0, vec![0.0; 6]);
    /// assert_eq!(dem.neighbours(0).collect::<Vec<_>>(), vec![1, 3, 4]);
    /// assert_eq!(dem.neighbours(4).count(), 5);
    /// ```
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let (r, c) = ((i / self.cols) as isize, (i % self.cols) as isize);
        NEIGHBOURS_8.into_iter().filter_map(move |(dr, dc)| {
            let (r2, c2) = (r + dr, c + dc);
            (r2 >= 0 && c2 >= 0 && r2 < self.rows as isize && c2 < self.cols as isize)
                .then(|| r2 as usize * self.cols + c2 as usize)
        })
    }

    /// Elevation at (row, col), `None` outside or without data.
    pub fn get(&self, row: usize, col: usize) -> Option<f64> {
        if row >= self.rows || col >= self.cols {
            return None;
        }
        let z = self.z[row * self.cols + col];
        (!z.is_nan()).then_some(z)
    }

    /// Centre of cell (row, col).
    pub fn cell_centre(&self, row: usize, col: usize) -> (f64, f64) {
        (
            self.west + (col as f64 + 0.5) * self.cell,
            self.north - (row as f64 + 0.5) * self.cell,
        )
    }

    /// The cell holding (x, y), if inside the raster.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let c = ((x - self.west) / self.cell).floor();
        let r = ((self.north - y) / self.cell).floor();
        (c >= 0.0 && r >= 0.0 && (c as usize) < self.cols && (r as usize) < self.rows)
            .then_some((r as usize, c as usize))
    }

    /// Parses an ESRI ASCII grid; `file` names the source in errors.
    pub fn from_asc(text: &str, file: &str) -> Result<Dem, DemError> {
        let err = |line: usize, message: String| DemError {
            file: file.to_string(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().peekable();
        let mut header = std::collections::BTreeMap::new();
        while let Some(&(i, l)) = lines.peek() {
            let mut parts = l.split_whitespace();
            let Some(key) = parts.next() else {
                lines.next();
                continue;
            };
            if !key.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                break;
            }
            let value: f64 = parts
                .next()
                .ok_or_else(|| err(i + 1, format!("`{key}` has no value")))?
                .parse()
                .map_err(|_| err(i + 1, format!("`{key}`: not a number")))?;
            header.insert(key.to_ascii_lowercase(), (value, i + 1));
            lines.next();
        }
        let get = |k: &str| -> Result<f64, DemError> {
            header
                .get(k)
                .map(|v| v.0)
                .ok_or_else(|| err(1, format!("header has no `{k}`")))
        };
        let cols = get("ncols")?;
        let rows = get("nrows")?;
        let cell = get("cellsize")?;
        if !(cols >= 1.0 && rows >= 1.0 && cols.fract() == 0.0 && rows.fract() == 0.0) {
            return Err(err(1, "ncols and nrows must be positive integers".into()));
        }
        // (checked in floating point, before any cast or allocation: a header may
        // claim 10^300 cells or a product that wraps)
        if cols * rows > MAX_DEM_CELLS as f64 {
            return Err(err(
                1,
                format!("{cols} × {rows} cells: more than the {MAX_DEM_CELLS} a DEM may hold"),
            ));
        }
        // each value takes at least two bytes ("0 "): a header claiming more cells than
        // the text can hold is cut short, found before reserving room for it
        if cols * rows > (text.len() / 2 + 1) as f64 {
            return Err(err(
                1,
                format!(
                    "{cols} × {rows} cells declared, but the file ({} bytes) cannot hold them: \
                     truncated?",
                    text.len()
                ),
            ));
        }
        if !(cell.is_finite() && cell > 0.0) {
            return Err(err(1, format!("cellsize must be positive, not {cell}")));
        }
        let (cols, rows) = (cols as usize, rows as usize);
        let centre = header.contains_key("xllcenter");
        let (x, y) = if centre {
            (
                get("xllcenter")? - cell / 2.0,
                get("yllcenter")? - cell / 2.0,
            )
        } else {
            (get("xllcorner")?, get("yllcorner")?)
        };
        let nodata = header.get("nodata_value").map(|v| v.0);
        let mut z = Vec::with_capacity(cols * rows);
        let mut last_line = 0;
        for (i, l) in lines {
            last_line = i + 1;
            for tok in l.split_whitespace() {
                let v: f64 = tok
                    .parse()
                    .map_err(|_| err(i + 1, format!("`{tok}` is not an elevation")))?;
                if z.len() == cols * rows {
                    return Err(err(i + 1, format!("more than {} values", cols * rows)));
                }
                if Some(v) != nodata && v.is_finite() && v.abs() > MAX_ABS_ELEVATION {
                    // (found by the fuzz suite: a cell at -9.2e18 next to cells of a
                    // few metres makes every volume below it round to thousands of m³)
                    return Err(err(
                        i + 1,
                        format!(
                            "elevation {v} is not one (beyond ±{MAX_ABS_ELEVATION}); \
                             a no-data marker? declare it as NODATA_value"
                        ),
                    ));
                }
                z.push(if Some(v) == nodata || !v.is_finite() {
                    f64::NAN
                } else {
                    v
                });
            }
        }
        if z.len() != cols * rows {
            return Err(err(
                last_line,
                format!("{} values for {cols} × {rows} cells", z.len()),
            ));
        }
        Ok(Dem::new(cols, rows, x, y + rows as f64 * cell, cell, z))
    }

    /// Writes the DEM as an ESRI ASCII grid.
    pub fn to_asc(&self) -> String {
        let mut s = format!(
            "ncols {}\nnrows {}\nxllcorner {}\nyllcorner {}\ncellsize {}\nNODATA_value -9999\n",
            self.cols,
            self.rows,
            self.west,
            self.north - self.rows as f64 * self.cell,
            self.cell
        );
        for r in 0..self.rows {
            let row: Vec<String> = (0..self.cols)
                .map(|c| match self.get(r, c) {
                    Some(z) => format!("{z}"),
                    None => "-9999".into(),
                })
                .collect();
            s.push_str(&row.join(" "));
            s.push('\n');
        }
        s
    }
}

/// A synthetic coastal DEM over a lon/lat `extent` [min lon, min lat, max lon, max lat]
/// with square cells of `cell_m` metres (north–south): land rising 18 m from the
/// southern shore to the north, gentle 1.5 m swells, and six hollows 2–4 m deep and
/// 60–140 m across at seeded places — where rain will pond. For cities without a
/// real DEM (the demo city's extract has none); deterministic by seed.
pub fn synthetic_coastal(extent: [f64; 4], cell_m: f64, seed: u64) -> Dem {
    let m_per_deg = crate::frame::EARTH_RADIUS_M.to_radians();
    let cell = cell_m / m_per_deg;
    let cols = (((extent[2] - extent[0]) / cell).ceil() as usize).max(1);
    let rows = (((extent[3] - extent[1]) / cell).ceil() as usize).max(1);
    let lat0 = (extent[1] + extent[3]) / 2.0;
    let kx = m_per_deg * lat0.to_radians().cos();
    let mut st = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd3e;
    let mut rnd = || {
        st = st
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (st >> 11) as f64 / (1u64 << 53) as f64
    };
    let hollows: Vec<(f64, f64, f64, f64)> = (0..6)
        .map(|_| {
            (
                (0.15 + 0.7 * rnd()) * (extent[2] - extent[0]) * kx,
                (0.15 + 0.7 * rnd()) * (extent[3] - extent[1]) * m_per_deg,
                30.0 + 40.0 * rnd(),
                2.0 + 2.0 * rnd(),
            )
        })
        .collect();
    let height = (extent[3] - extent[1]) * m_per_deg;
    let mut z = Vec::with_capacity(cols * rows);
    for r in 0..rows {
        for c in 0..cols {
            let x = (c as f64 + 0.5) * cell * kx;
            let y = (extent[3] - extent[1]) * m_per_deg - (r as f64 + 0.5) * cell * m_per_deg;
            let mut h = 1.0
                + 18.0 * (y / height).clamp(0.0, 1.0)
                + 1.5 * (x / 150.0).sin() * (y / 200.0).cos();
            for &(hx, hy, rad, depth) in &hollows {
                let d2 = ((x - hx).powi(2) + (y - hy).powi(2)) / (rad * rad);
                h -= depth * (-d2).exp();
            }
            z.push((h * 100.0).round() / 100.0);
        }
    }
    Dem::new(
        cols,
        rows,
        extent[0],
        extent[1] + rows as f64 * cell,
        cell,
        z,
    )
}

/// The coordinate system a DEM's numbers are stated to be in (by a `.prj` beside it,
/// a GeoTIFF's own, or a flag), as far as the checks here need it.
#[derive(Debug, Clone, PartialEq)]
pub enum DemCrs {
    /// Geographic lon/lat degrees.
    LonLat,
    /// A projected system in metres (UTM, a national grid), named as stated.
    Projected(String),
}

/// Why a DEM's numbers do not fit the coordinate system they are taken in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemCrsError {
    #[error(
        "a cell of {cell} m is implausible for a flood DEM in {crs} (from {min} to {max} m); \
         is it in degrees? state its coordinate system"
    )]
    ImplausibleMetricCell {
        crs: String,
        cell: f64,
        min: f64,
        max: f64,
    },
    #[error(
        "cannot tell whether the DEM's numbers are degrees or metres (origin {west}, {north}, \
         cell {cell}): state its coordinate system with a .prj file beside it or --dem-crs \
         (EPSG:4326 for lon/lat, EPSG:326NN for UTM zone NN north, …)"
    )]
    Ambiguous { west: f64, north: f64, cell: f64 },
    #[error(
        "a cell of {cell}° is implausible for a flood DEM in lon/lat (from 1e-7° to {max}°, \
         about 1 cm to {km:.0} km); is it in metres? state its coordinate system"
    )]
    ImplausibleCell { cell: f64, max: f64, km: f64 },
    #[error("the DEM reaches outside lon/lat range (west {west}, east {east}, south {south}, north {north})")]
    OutOfRange {
        west: f64,
        east: f64,
        south: f64,
        north: f64,
    },
}

/// Cell sizes (m) taken in a projected flood DEM: from 1 cm (LiDAR is 0.25–1 m) to 5 km.
pub const METRIC_CELL_M: (f64, f64) = (0.01, 5000.0);
/// The smallest cell (degrees) taken as a lon/lat DEM: 1e-7° is about a centimetre
/// (a cell of 1e-300 made every road a billion samples).
pub const MIN_LON_LAT_CELL_DEG: f64 = 1e-7;
/// The largest cell (degrees) taken as a lon/lat flood DEM: 0.02° is about 2 km.
pub const MAX_LON_LAT_CELL_DEG: f64 = 0.02;
/// Below this cell size (0.01) unstated numbers can only be degrees: no metric DEM has
/// centimetre cells over a city.
const UNSTATED_MAX_CELL: f64 = 0.01;

impl Dem {
    /// Checks that the DEM's numbers fit the system they are stated in (`stated`):
    /// projected, a cell size plausible in metres; lon/lat (stated, or unstated and
    /// unambiguous: cells under 0.01, which in metres no city DEM has), a cell size
    /// plausible for degrees and an extent inside lon/lat range.
    ///
    /// ```
    /// use gridtwin_core::dem::{Dem, DemCrs, DemCrsError};
    /// // 1 m cells at origin 0, 0: degrees or metres? (as degrees, 10 mm of rain
    /// // would be a billion m³)
    /// let dem = Dem::new(10, 10, 0.0, 10.0, 1.0, vec![0.0; 100]);
    /// assert!(matches!(dem.check_crs(None), Err(DemCrsError::Ambiguous { .. })));
    /// assert!(matches!(
    ///     dem.check_crs(Some(&DemCrs::LonLat)),
    ///     Err(DemCrsError::ImplausibleCell { .. })
    /// ));
    /// assert_eq!(dem.check_crs(Some(&DemCrs::Projected("EPSG:32617".into()))), Ok(()));
    /// let dem = Dem::new(10, 10, 24.9, 60.2, 0.0001, vec![0.0; 100]);
    /// assert_eq!(dem.check_crs(None), Ok(()));
    /// ```
    pub fn check_crs(&self, stated: Option<&DemCrs>) -> Result<(), DemCrsError> {
        let (west, north) = (self.west, self.north);
        let cell = self.cell;
        match stated {
            Some(DemCrs::Projected(name)) => {
                let (min, max) = METRIC_CELL_M;
                if !(min..=max).contains(&cell) {
                    return Err(DemCrsError::ImplausibleMetricCell {
                        crs: name.clone(),
                        cell,
                        min,
                        max,
                    });
                }
                return Ok(());
            }
            Some(DemCrs::LonLat) | None if cell < MIN_LON_LAT_CELL_DEG => {
                return Err(DemCrsError::ImplausibleCell {
                    cell,
                    max: MAX_LON_LAT_CELL_DEG,
                    km: MAX_LON_LAT_CELL_DEG * 111.32,
                });
            }
            Some(DemCrs::LonLat) => {
                if cell > MAX_LON_LAT_CELL_DEG {
                    return Err(DemCrsError::ImplausibleCell {
                        cell,
                        max: MAX_LON_LAT_CELL_DEG,
                        km: MAX_LON_LAT_CELL_DEG * 111.32,
                    });
                }
            }
            None => {
                if cell > UNSTATED_MAX_CELL {
                    return Err(DemCrsError::Ambiguous { west, north, cell });
                }
            }
        }
        let east = west + self.cols as f64 * cell;
        let south = north - self.rows as f64 * cell;
        let slack = 1e-9;
        if west < -180.0 - slack
            || east > 180.0 + slack
            || south < -90.0 - slack
            || north > 90.0 + slack
        {
            return Err(DemCrsError::OutOfRange {
                west,
                east,
                south,
                north,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_name_the_line() {
        let e = Dem::from_asc(
            "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 x\n",
            "a",
        )
        .unwrap_err();
        assert_eq!((e.line, e.file.as_str()), (6, "a"));
        assert!(e.message.contains("`x`"));
        let e = Dem::from_asc(
            "ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n",
            "a",
        )
        .unwrap_err();
        assert!(e.message.contains("2 values for 2 × 2"), "{e}");
        let e = Dem::from_asc("nrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n", "a").unwrap_err();
        assert!(e.message.contains("ncols"), "{e}");
        let e = Dem::from_asc(
            "ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize -1\n1\n",
            "a",
        )
        .unwrap_err();
        assert!(e.message.contains("cellsize"), "{e}");
    }

    #[test]
    fn asc_round_trip_and_centre_header() {
        let d = Dem::new(2, 2, 10.0, 20.0, 0.5, vec![1.0, 2.5, f64::NAN, 4.0]);
        let back = Dem::from_asc(&d.to_asc(), "x").unwrap();
        assert_eq!(back.to_asc(), d.to_asc());
        let c = Dem::from_asc(
            "ncols 1\nnrows 1\nxllcenter 10.25\nyllcenter 19.25\ncellsize 0.5\n7\n",
            "c",
        )
        .unwrap();
        assert_eq!(c.origin(), (10.0, 19.5));
        assert_eq!(c.cell_at(10.1, 19.4), Some((0, 0)));
        assert_eq!(c.cell_at(9.9, 19.4), None);
    }

    #[test]
    fn a_header_claiming_more_cells_than_possible_is_an_error_not_a_panic() {
        // issue 14: 1.8e19 cells wrapped to 1; 1e300 columns; 10^5 × 10^5 reserved
        // 80 GB before reading a value
        for (c, r) in [
            ("4294967296", "4294967296"),
            ("1e300", "1"),
            ("100000", "100000"),
            ("3", "1e300"),
        ] {
            let text =
                format!("ncols {c}\nnrows {r}\nxllcorner 0\nyllcorner 0\ncellsize 0.001\n1 2 3\n");
            let e = Dem::from_asc(&text, "big.asc").unwrap_err();
            assert_eq!(e.line, 1, "{e}");
        }
    }

    #[test]
    fn an_elevation_no_surface_has_is_an_error_naming_its_line() {
        let text = "ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 0.001\n\
                    1 2\n3 -9223372036854775808\n";
        let e = Dem::from_asc(text, "x.asc").unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("NODATA_value"), "{e}");
        // declared as no data, the same number is a hole
        let text = "ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 0.001\n\
                    NODATA_value -9223372036854775808\n1 2\n3 -9223372036854775808\n";
        assert_eq!(Dem::from_asc(text, "x.asc").unwrap().get(1, 1), None);
    }

    #[test]
    fn a_cell_of_1e_300_degrees_is_refused() {
        // issue 14: a cell of 1e-300 made every road a billion samples
        let d = Dem::new(3, 3, 24.9, 60.2, 1e-300, vec![0.0; 9]);
        assert!(matches!(
            d.check_crs(None),
            Err(DemCrsError::ImplausibleCell { .. })
        ));
        assert!(matches!(
            d.check_crs(Some(&DemCrs::LonLat)),
            Err(DemCrsError::ImplausibleCell { .. })
        ));
    }
}
