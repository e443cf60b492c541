//! A city directory's layers as Arrow tables.

use std::path::Path;

use gridtwin_io::city_dir;
use gridtwin_io::parquet_io::record_batches;
use pyo3::prelude::*;

use crate::stream::ArrowStream;

/// A city's layers by name.
type Layers = Vec<(String, ArrowStream)>;

/// Reads the city directory at `path` (every record validated as `gridtwin info`
/// does) and returns its layers (`areas`, `components`, `incidents`, `buildings`,
/// `roads`) as Arrow streams with a WKB `geometry` column, and its quality report as
/// JSON (records read, loaded, and rejected with file, record and reason).
#[pyfunction]
pub fn city_layers(py: Python<'_>, path: String) -> PyResult<(String, Layers, String)> {
    let (name, layers, quality) = py
        .detach(move || {
            let (city, _table, quality) = city_dir::load_city(Path::new(&path))
                .map_err(|e| gridtwin_core::causes::with_causes(&e))?;
            let tables = [
                ("areas", city_dir::area_table(&city)),
                ("components", city_dir::component_table(&city)),
                ("incidents", city_dir::incident_table(&city)),
                ("buildings", city_dir::building_table(&city)),
                ("roads", city_dir::road_table(&city)),
            ];
            let mut layers = Vec::new();
            for (layer, table) in tables {
                let (schema, batches) = record_batches(&table)?;
                layers.push((layer.to_string(), ArrowStream::new(schema, batches)));
            }
            Ok::<_, String>((city.name.clone(), layers, quality.to_json()))
        })
        .map_err(crate::error)?;
    Ok((name, layers, quality))
}
