//! gridtwin-io: readers and writers for the city model.
//!
//! GeoJSON, FlatGeobuf, GeoParquet, CSV (lon/lat or WKT) and OpenStreetMap PBF; with
//! the `gdal` feature, everything GDAL reads (GeoPackage, Shapefile, …), reprojected to
//! WGS-84. Readers yield format-neutral [`record::Record`]s; [`load::Loader`] turns
//! them into model objects, rejecting bad ones with file, record number and reason.
//! Every output is written atomically.

pub mod atomic;
pub mod batch;
pub mod city_dir;
pub mod csv_io;
pub mod error;
pub mod fgb_io;
pub mod format;
#[cfg(feature = "gdal")]
pub mod gdal_io;
pub mod geojson_io;
pub mod load;
pub mod osm;
pub mod parquet_io;
pub mod record;
pub mod sink;

pub use error::IoError;
pub use format::{read_records, write_table, Format};
pub use load::Loader;
pub use record::{FieldType, Record, Table, Value};
