//! gridtwin-io: readers and writers for the city model.
//!
//! GeoJSON, FlatGeobuf, GeoParquet, CSV (lon/lat or WKT) and OpenStreetMap PBF; with
//! the `gdal` feature, everything GDAL reads (GeoPackage, Shapefile, …), reprojected to
//! WGS-84. Readers yield format-neutral [`record::Record`]s; [`load::Loader`] turns
//! them into model objects, rejecting bad ones with file, record number and reason.
//! Every output is written atomically.
//!
//! The map:
//! - formats, one module each: [`geojson_io`], [`fgb_io`], [`parquet_io`], [`csv_io`]
//!   (with [`csvt`] column types), [`shp_io`], `gpkg_io` (or `gdal_io` in a GDAL
//!   build), [`osm`] (PBF import: one `scan` of the file, multipolygons, tag tables);
//!   [`format`] picks one by extension, [`record`] is what they all yield;
//! - [`load`]: records → model (areas, components, incidents, buildings and roads),
//!   every bad record rejected with its reason; [`city_dir`]: a whole city on disk;
//! - [`batch`]: streamed file-to-file assignment (read chunks, parse rows, locate,
//!   write), [`sink`] streamed output, [`atomic`] write-then-rename;
//! - DEMs: [`read_dem`], [`dem_crs`] (a DEM in its own coordinate system);
//! - guarding untrusted input: [`isolate`] (decoders under `catch_unwind`), [`limits`];
//! - errors: [`error`] ([`IoError`] for a file, `CityDirError` for a city directory).

pub mod atomic;
pub mod batch;
pub mod city_dir;
pub mod csv_io;
pub mod csvt;
pub mod dem_crs;
pub mod error;
pub mod fgb_io;
pub mod format;
#[cfg(feature = "gdal")]
pub mod gdal_io;
pub mod geojson_io;
// GeoPackage through the compiled-in SQLite, except in a GDAL build: GDAL brings its
// own SQLite, and two SQLites in one process crashed (GDAL resolved to the bundled
// one); there GDAL reads .gpkg.
#[cfg(not(feature = "gdal"))]
pub mod gpkg_io;
pub mod isolate;
pub mod limits;
pub mod load;
pub mod osm;
pub mod parquet_io;
pub mod record;
pub mod shp_io;
pub mod sink;

pub use error::IoError;

/// Reads a DEM: an ESRI ASCII grid (`.asc`), or with the `gdal` feature any raster
/// GDAL reads (GeoTIFF, …), with the coordinate system the file itself states (a
/// GeoTIFF's; an `.asc` states none — its `.prj` is read by
/// [`dem_crs::read_placed_dem`]).
pub fn read_dem_stated(
    path: &std::path::Path,
) -> Result<(gridtwin_core::dem::Dem, Option<String>), IoError> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "asc" {
        let text = std::fs::read_to_string(path).map_err(|e| IoError::read(&file, e))?;
        return gridtwin_core::dem::Dem::from_asc(&text, &file)
            .map(|d| (d, None))
            .map_err(|e| IoError::read(&file, e.to_string()));
    }
    #[cfg(feature = "gdal")]
    {
        gdal_io::read_dem(path)
    }
    #[cfg(not(feature = "gdal"))]
    {
        Err(IoError::read(
            &file,
            "not an ESRI ASCII grid (.asc); other raster formats need the `gdal` feature",
        ))
    }
}

/// Reads a DEM's elevations (see [`read_dem_stated`]), whatever system it is in.
pub fn read_dem(path: &std::path::Path) -> Result<gridtwin_core::dem::Dem, IoError> {
    read_dem_stated(path).map(|(d, _)| d)
}
pub use dem_crs::{read_placed_dem, PlacedDem, WGS84_PRJ};
pub use format::{read_records, write_table, Format};
pub use load::Loader;
pub use record::{FieldType, Record, Table, Value};
