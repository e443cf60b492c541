//! File-level errors: the whole file cannot be read (records never reached).
//! Record-level problems are [`gridtwin_core::Rejection`]s instead. A city directory
//! that cannot be read is a [`CityDirError`], naming the file or layer at fault.

use std::path::PathBuf;

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

/// Why a city directory, its data tables or an OSM city's settings could not be read:
/// each names the file or layer at fault. A reader's own error is its source, so the
/// CLI prints it through the cause chain (`{:#}`) and [`CityDirError::with_causes`]
/// gives the same text as one string.
#[derive(Debug, Error)]
pub enum CityDirError {
    /// A code rule that cannot be read (its own message names the file).
    #[error(transparent)]
    CodeRule(#[from] gridtwin_core::code::CodeRuleError),
    /// A category table that cannot be read (its own message names the file).
    #[error(transparent)]
    Categories(#[from] gridtwin_core::category::CategoryTableError),
    /// A layer or table that cannot be read (its own message names the file).
    #[error(transparent)]
    Io(#[from] IoError),
    /// A code the code rule refuses (a component's, or one cut for the area hierarchy).
    #[error(transparent)]
    Code(#[from] gridtwin_core::code::CodeError),
    /// No `city.toml`: the directory is not a city directory. (The hint follows the
    /// reader's message, so the message is kept here rather than as a source.)
    #[error("{}: {error} (is this a city directory?)", path.display())]
    NoManifest {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}", path.display())]
    BadManifest {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{}: no {layer} layer (.geojson, .fgb, .parquet or .csv)", dir.display())]
    NoLayer { dir: PathBuf, layer: &'static str },
    /// An OSM city's settings (`city.toml` of an import) that cannot be read.
    #[error("{}", path.display())]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", path.display())]
    BadConfig {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{}: `{key}` must be a positive number, not {value}", path.display())]
    NotPositive {
        path: PathBuf,
        key: &'static str,
        value: f64,
    },
    #[error("{}: `streets` and `communities` need at least 1×1", path.display())]
    EmptyPlan { path: PathBuf },
    /// Checked before any area is cut (100000 × 100000 streets made 10^10 rectangles).
    #[error("{}: `{key}` makes {count} areas under one parent: at most {most}", path.display())]
    TooManyAreas {
        path: PathBuf,
        key: &'static str,
        count: u64,
        most: u64,
    },
    #[error("district_code")]
    DistrictCode(#[source] gridtwin_core::code::CodeError),
    #[error("the extract has no buildings or components")]
    EmptyExtract,
}

impl CityDirError {
    /// The message with its causes, `: `-joined (as `anyhow` prints `{:#}`), for a
    /// caller that shows a plain string.
    pub fn with_causes(&self) -> String {
        gridtwin_core::causes::with_causes(self)
    }
}

/// For callers that still carry errors as strings (the viewer's playback, the fuzz
/// harness): the message with its causes, as the CLI prints it.
impl From<CityDirError> for String {
    fn from(e: CityDirError) -> String {
        e.with_causes()
    }
}
