//! The import's tables: which OSM tags make which component category, and the
//! default speed of each road class.

use std::collections::HashMap;
use std::path::Path;

use gridtwin_core::{CategoryKey, CategoryKind, CategoryTable};
use serde::Deserialize;

use crate::error::IoError;

/// OSM tag → component category rows, tried in order.
#[derive(Debug, Clone)]
pub struct OsmTagMap {
    rows: Vec<(String, String, CategoryKey)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagRow {
    key: String,
    value: String,
    category: String,
}

impl OsmTagMap {
    /// Loads the map, checking every category exists in the table.
    pub fn load(path: &Path, table: &CategoryTable) -> Result<Self, IoError> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| IoError::read(&file, e))?;
        let mut rows = Vec::new();
        for (i, row) in reader.deserialize::<TagRow>().enumerate() {
            let row = row.map_err(|e| IoError::read(&file, format!("row {}: {e}", i + 1)))?;
            let cat = table
                .find(CategoryKind::Component, &row.category)
                .ok_or_else(|| {
                    IoError::read(
                        &file,
                        format!(
                            "row {}: component category `{}` is not in the category table",
                            i + 1,
                            row.category
                        ),
                    )
                })?;
            rows.push((row.key, row.value, cat.key));
        }
        Ok(OsmTagMap { rows })
    }

    pub(super) fn category<'t>(
        &self,
        tags: impl Iterator<Item = (&'t str, &'t str)> + Clone,
    ) -> Option<CategoryKey> {
        self.rows
            .iter()
            .find(|(k, v, _)| tags.clone().any(|(tk, tv)| tk == k && tv == v))
            .map(|(_, _, c)| *c)
    }
}

/// Default speeds per road class.
#[derive(Debug, Clone)]
pub struct RoadSpeeds(pub(super) HashMap<String, f64>);

impl RoadSpeeds {
    pub fn load(path: &Path) -> Result<Self, IoError> {
        let file = path.display().to_string();
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Row {
            class: String,
            speed_kmh: f64,
        }
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| IoError::read(&file, e))?;
        let mut map = HashMap::new();
        for (i, row) in reader.deserialize::<Row>().enumerate() {
            let row = row.map_err(|e| IoError::read(&file, format!("row {}: {e}", i + 1)))?;
            if !(row.speed_kmh.is_finite() && row.speed_kmh > 0.0) {
                return Err(IoError::read(
                    &file,
                    format!("row {}: speed must be positive", i + 1),
                ));
            }
            if map.insert(row.class.clone(), row.speed_kmh).is_some() {
                return Err(IoError::read(
                    &file,
                    format!("row {}: class `{}` listed twice", i + 1, row.class),
                ));
            }
        }
        Ok(RoadSpeeds(map))
    }

    /// The speed of a road class (km/h), if the table has it.
    pub fn get(&self, class: &str) -> Option<f64> {
        self.0.get(class).copied()
    }
}
