//! Format detection and the two entry points: read records, write a table.

use std::path::Path;

use gridtwin_core::Rejection;

use crate::atomic::write_atomic;
use crate::error::IoError;
use crate::record::{Record, Table};

/// A supported file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    FlatGeobuf,
    GeoParquet,
    Csv,
    OsmPbf,
    /// ESRI Shapefile (`.shp` with `.shx`, `.dbf`, optional `.prj`), pure Rust.
    Shapefile,
    /// GeoPackage (`.gpkg`, or `FILE.gpkg::LAYER`), SQLite compiled in.
    GeoPackage,
    /// Anything else, read through GDAL (GeoPackage, Shapefile, …) with `--features gdal`.
    Gdal,
}

impl Format {
    /// Tells the format from a file name.
    pub fn from_path(path: &Path) -> Result<Format, IoError> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        let f = if name.ends_with(".geojson") || name.ends_with(".json") {
            Format::GeoJson
        } else if name.ends_with(".fgb") {
            Format::FlatGeobuf
        } else if name.ends_with(".parquet") || name.ends_with(".geoparquet") {
            Format::GeoParquet
        } else if name.ends_with(".csv") {
            Format::Csv
        } else if name.ends_with(".osm.pbf") || name.ends_with(".pbf") {
            Format::OsmPbf
        } else if name.ends_with(".shp") {
            Format::Shapefile
        } else if cfg!(not(feature = "gdal"))
            && (name.ends_with(".gpkg") || name.contains(".gpkg::"))
        {
            Format::GeoPackage
        } else if cfg!(feature = "gdal") && path.extension().is_some() {
            Format::Gdal
        } else {
            return Err(IoError::UnknownFormat {
                file: path.display().to_string(),
            });
        };
        Ok(f)
    }
}

/// Records of one input file, each loaded or already rejected.
pub type Records = Box<dyn Iterator<Item = Result<Record, Rejection>>>;

/// Opens any supported feature file and returns its records.
pub fn read_records(path: &Path) -> Result<Records, IoError> {
    let file = path.display().to_string();
    match Format::from_path(path)? {
        Format::GeoJson => Ok(Box::new(crate::geojson_io::read(path)?.into_iter())),
        Format::FlatGeobuf => Ok(Box::new(crate::fgb_io::read(path)?.into_iter())),
        Format::GeoParquet => Ok(Box::new(crate::parquet_io::read(path)?.into_iter())),
        Format::Csv => Ok(Box::new(crate::csv_io::read(path)?)),
        Format::Shapefile => Ok(Box::new(crate::shp_io::read(path)?.into_iter())),
        #[cfg(not(feature = "gdal"))]
        Format::GeoPackage => Ok(Box::new(crate::gpkg_io::read(path)?.into_iter())),
        #[cfg(feature = "gdal")]
        Format::GeoPackage => unreachable!("GDAL reads .gpkg in a GDAL build"),
        Format::OsmPbf => Err(IoError::read(
            &file,
            "an OSM extract is a whole city: use `gridtwin import` on it",
        )),
        #[cfg(feature = "gdal")]
        Format::Gdal => Ok(Box::new(crate::gdal_io::read(path)?.into_iter())),
        #[cfg(not(feature = "gdal"))]
        Format::Gdal => Err(IoError::UnknownFormat { file }),
    }
}

/// Writes a table to `path` in the format its extension names, atomically.
pub fn write_table(path: &Path, table: &Table) -> Result<(), IoError> {
    let file = path.display().to_string();
    let layer = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "layer".into());
    let format = Format::from_path(path)?;
    if format == Format::Shapefile {
        // four files: each written under a temporary name, then renamed into place
        let tmp = path.with_file_name(format!(".{}.tmp-{}.shp", layer, std::process::id()));
        let parts = ["shp", "shx", "dbf", "prj"];
        let done = crate::shp_io::write(table, &tmp).and_then(|()| {
            for ext in parts {
                std::fs::rename(tmp.with_extension(ext), path.with_extension(ext))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        if done.is_err() {
            for ext in parts {
                let _ = std::fs::remove_file(tmp.with_extension(ext));
            }
        }
        return done.map_err(|e| IoError::write(&file, e));
    }
    #[cfg(not(feature = "gdal"))]
    if format == Format::GeoPackage {
        // an SQLite file: built under a temporary name, then renamed into place
        let tmp = path.with_file_name(format!(".{}.tmp-{}.gpkg", layer, std::process::id()));
        let done = crate::gpkg_io::write(table, &layer, &tmp)
            .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return done.map_err(|e| IoError::write(&file, e));
    }
    write_atomic(path, |w| {
        match format {
            Format::GeoJson => crate::geojson_io::write(table, w).map_err(|e| e.to_string()),
            Format::FlatGeobuf => crate::fgb_io::write(table, &layer, w),
            Format::GeoParquet => crate::parquet_io::write(table, w),
            Format::Csv => crate::csv_io::write(table, w).map_err(|e| e.to_string()),
            Format::OsmPbf => Err("gridtwin does not write OSM PBF".to_string()),
            Format::Shapefile | Format::GeoPackage => unreachable!("written above"),
            #[cfg(feature = "gdal")]
            Format::Gdal => Err("writing through GDAL is not supported; write .fgb, .parquet, .geojson or .csv, which GDAL and QGIS read".to_string()),
            #[cfg(not(feature = "gdal"))]
            Format::Gdal => Err("unknown format".to_string()),
        }
        .map_err(|e| IoError::write(&file, e))
    })
}
