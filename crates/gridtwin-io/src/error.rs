//! File-level errors: the whole file cannot be read (records never reached).
//! Record-level problems are [`gridtwin_core::Rejection`]s instead.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IoError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: cannot write: {message}")]
    Write { file: String, message: String },
    #[error("{file}: coordinates are in {crs}, not WGS-84 lon/lat; `gridtwin import --crs EPSG:NNNN` reprojects them (or a .prj beside the file)")]
    ForeignCrs { file: String, crs: String },
    #[error("{file}: unsupported format (known: .geojson/.json, .fgb, .parquet/.geoparquet, .csv, .shp, .gpkg, .osm.pbf{})", if cfg!(feature = "gdal") { ", and other GDAL formats" } else { "; other formats need --features gdal" })]
    UnknownFormat { file: String },
}

impl IoError {
    pub fn read(file: &str, message: impl std::fmt::Display) -> Self {
        IoError::Read {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
    pub fn write(file: &str, message: impl std::fmt::Display) -> Self {
        IoError::Write {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
}
