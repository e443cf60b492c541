//! A city on disk: one directory holding every layer in open formats, the code rule and
//! category table it was checked against, and the data-quality report of its import.
//!
//! ```text
//! city.toml          name of the city
//! code_rule.toml     the code rule
//! categories.csv     the category table
//! areas.geojson      city, districts, streets, communities, unit grids (code, level, name, parent,
//!                    and source_id where `import --autocode` numbered them)
//! components.csv     code, category, department, status, source_id, lon, lat
//! incidents.csv      id, category, time, source, step times, lon, lat
//! buildings.geojson  id, height_m, height_source
//! roads.geojson      id, class, speed_kmh, speed_source, oneway
//! quality.json       what the import loaded and rejected, with reasons
//! basemap.geojson    (optional, from an OSM import) water and parks (polygons) and place
//!                    names (points): kind, name, source_id — the viewer's backdrop
//! ```

use std::path::{Path, PathBuf};

use geo::{Geometry, Rect};
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::partition::{partition, PartitionPlan};
use gridtwin_core::{CaseStep, CategoryTable, City, CodeRule, Level, QualityReport};
use serde::{Deserialize, Serialize};

use crate::atomic::write_bytes_atomic;
pub use crate::error::CityDirError;
use crate::error::IoError;
use crate::format::{read_records, write_table, Format};
use crate::load::{format_time, Loader};
use crate::osm::{code_components, read_osm, BasemapFeature, OsmTagMap, RoadSpeeds};
use crate::record::{FieldType, Table, Value};

/// The data tables a city is read with: code rule, categories, OSM tag map, road speeds.
pub struct DataTables {
    pub rule: CodeRule,
    pub table: CategoryTable,
    pub categories_path: PathBuf,
    pub tags: OsmTagMap,
    pub speeds: RoadSpeeds,
}

impl DataTables {
    /// Loads `code_rule.toml`, `categories.csv`, `osm_components.csv` and
    /// `road_speeds.csv` from a data directory (the repository's `data/`).
    pub fn load(data: &Path) -> Result<Self, CityDirError> {
        let rule = CodeRule::load(&data.join("code_rule.toml"))?;
        let categories_path = data.join("categories.csv");
        let table = CategoryTable::load(&categories_path, &rule)?;
        let tags = OsmTagMap::load(&data.join("osm_components.csv"), &table)?;
        let speeds = RoadSpeeds::load(&data.join("road_speeds.csv"))?;
        Ok(DataTables {
            rule,
            table,
            categories_path,
            tags,
            speeds,
        })
    }
}

/// Settings of an OSM city import (e.g. `data/helsinki/city.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsmImportConfig {
    pub name: String,
    pub osm: PathBuf,
    pub district_code: String,
    pub district_name: String,
    pub streets: (u32, u32),
    pub communities: (u32, u32),
    pub target_grid_m2: f64,
    pub extent_round_deg: f64,
    pub default_height_m: f64,
    pub metres_per_level: f64,
}

impl OsmImportConfig {
    pub fn load(path: &Path) -> Result<Self, CityDirError> {
        let text = std::fs::read_to_string(path).map_err(|source| CityDirError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg: OsmImportConfig =
            toml::from_str(&text).map_err(|source| CityDirError::BadConfig {
                path: path.to_path_buf(),
                source,
            })?;
        if let Some(dir) = path.parent() {
            cfg.osm = dir.join(&cfg.osm);
        }
        let positive = [
            ("target_grid_m2", cfg.target_grid_m2),
            ("extent_round_deg", cfg.extent_round_deg),
            ("default_height_m", cfg.default_height_m),
            ("metres_per_level", cfg.metres_per_level),
        ];
        if let Some((k, v)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(CityDirError::NotPositive {
                path: path.to_path_buf(),
                key: k,
                value: *v,
            });
        }
        let (streets, communities) = (
            cfg.streets.0 as u64 * cfg.streets.1 as u64,
            cfg.communities.0 as u64 * cfg.communities.1 as u64,
        );
        if streets == 0 || communities == 0 {
            return Err(CityDirError::EmptyPlan {
                path: path.to_path_buf(),
            });
        }
        // (checked before any area is cut: 100000 × 100000 streets made 10^10
        // rectangles; the code rule then refuses serials beyond its digits)
        const MOST: u64 = 1_000_000;
        for (key, n) in [("streets", streets), ("communities", communities)] {
            if n > MOST {
                return Err(CityDirError::TooManyAreas {
                    path: path.to_path_buf(),
                    key,
                    count: n,
                    most: MOST,
                });
            }
        }
        Ok(cfg)
    }
}

/// Imports a city from an OSM extract: buildings, roads, components, and a generated
/// area hierarchy over the data's extent; and its basemap (water, parks, place names).
pub fn import_osm_city(
    cfg: &OsmImportConfig,
    data: &DataTables,
) -> Result<(City, QualityReport, Vec<BasemapFeature>), CityDirError> {
    let mut loader = Loader::new(&data.rule, &data.table);
    loader.default_height_m = cfg.default_height_m;
    loader.metres_per_level = cfg.metres_per_level;
    let osm = read_osm(&cfg.osm, &data.tags, &data.speeds, &loader)?;
    let district = data
        .rule
        .parse_area(Level::District, &cfg.district_code)
        .map_err(CityDirError::DistrictCode)?;
    let mut city = City::new(cfg.name.clone(), data.rule);
    city.buildings = osm.buildings;
    city.roads = osm.roads;
    city.components = code_components(&data.rule, &data.table, &district, &osm.components)?;
    let extent = {
        let mut c = City::new("", data.rule);
        c.buildings = city.buildings.clone();
        c.components = city.components.clone();
        c.extent().ok_or(CityDirError::EmptyExtract)?
    };
    // k / per_deg with integer k is correctly rounded: 24.935, not 24.935000000000002.
    let per_deg = (1.0 / cfg.extent_round_deg).round();
    let extent = Rect::new(
        (
            (extent.min().x * per_deg).floor() / per_deg,
            (extent.min().y * per_deg).floor() / per_deg,
        ),
        (
            (extent.max().x * per_deg).ceil() / per_deg,
            (extent.max().y * per_deg).ceil() / per_deg,
        ),
    );
    let plan = PartitionPlan {
        district,
        district_name: cfg.district_name.clone(),
        streets: cfg.streets,
        communities: cfg.communities,
        target_grid_m2: cfg.target_grid_m2,
    };
    city.areas = partition(&data.rule, &plan, extent)?;
    Ok((city, osm.quality, osm.basemap))
}

/// Writes `basemap.geojson` (kind, name, source_id; lon/lat) beside a city's layers:
/// the backdrop the viewer draws under the data. No basemap, no file.
pub fn save_basemap(dir: &Path, basemap: &[BasemapFeature]) -> Result<(), IoError> {
    let path = dir.join("basemap.geojson");
    if basemap.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    let mut t = Table::new(&[
        ("kind", FieldType::Text),
        ("name", FieldType::Text),
        ("source_id", FieldType::Text),
    ]);
    for f in basemap {
        t.push(
            Some(f.geometry.clone()),
            vec![
                Value::Text(f.kind.to_string()),
                if f.name.is_empty() {
                    Value::Null
                } else {
                    Value::Text(f.name.clone())
                },
                Value::Text(f.source_id.clone()),
            ],
        );
    }
    write_table(&path, &t)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
}

/// The formats a city directory's layers may be in, in the order they are looked for.
pub const LAYER_FORMATS: [&str; 4] = ["geojson", "fgb", "parquet", "csv"];

/// The file of a city directory's `layer` (`areas`, `components`, …): the first of
/// [`LAYER_FORMATS`] that exists.
pub fn find_layer(dir: &Path, layer: &str) -> Option<PathBuf> {
    LAYER_FORMATS
        .iter()
        .map(|ext| dir.join(format!("{layer}.{ext}")))
        .find(|p| p.exists())
}

/// Unit grids (and any other areas) from a layer file or a city directory's areas
/// layer, each record validated; with `make_valid`, invalid polygons are repaired and
/// the repairs returned.
pub fn load_grids(
    path: &Path,
    tables: &DataTables,
    make_valid: bool,
) -> Result<
    (
        Vec<gridtwin_core::Area>,
        QualityReport,
        Vec<crate::load::Repair>,
    ),
    IoError,
> {
    let file = if path.is_dir() {
        find_layer(path, "areas").ok_or_else(|| {
            IoError::read(
                &path.display().to_string(),
                "no areas layer in this directory (areas.geojson, .fgb, .parquet or .csv)",
            )
        })?
    } else {
        path.to_path_buf()
    };
    let mut loader = Loader::new(&tables.rule, &tables.table);
    loader.make_valid = make_valid;
    let mut q = QualityReport::new();
    let areas = loader.areas(&file.display().to_string(), read_records(&file)?, &mut q);
    let repairs = loader.repairs.take();
    Ok((areas, q, repairs))
}

/// Tables of a city's layers, as written to its directory.
pub fn area_table(city: &City) -> Table {
    // (`source_id` only where gridtwin numbered the areas: a city coded at the
    // source keeps the file it always had)
    let with_source = city.areas.iter().any(|a| !a.source_id.is_empty());
    let mut fields = vec![
        ("code", FieldType::Text),
        ("level", FieldType::Text),
        ("name", FieldType::Text),
        ("parent", FieldType::Text),
    ];
    if with_source {
        fields.push(("source_id", FieldType::Text));
    }
    let mut t = Table::new(&fields);
    let mut areas: Vec<_> = city.areas.iter().collect();
    areas.sort_by_key(|a| a.code);
    for a in areas {
        let mut values = vec![
            Value::Text(a.code.to_string()),
            Value::Text(a.level().name().into()),
            Value::Text(a.name.clone()),
            a.code
                .parent(&city.rule)
                .map(|p| Value::Text(p.to_string()))
                .unwrap_or(Value::Null),
        ];
        if with_source {
            values.push(Value::Text(a.source_id.clone()));
        }
        t.push(Some(Geometry::MultiPolygon(a.boundary.clone())), values);
    }
    t
}

pub fn component_table(city: &City) -> Table {
    let mut t = Table::new(&[
        ("code", FieldType::Text),
        ("category", FieldType::Text),
        ("department", FieldType::Text),
        ("status", FieldType::Text),
        ("source_id", FieldType::Text),
    ]);
    for c in &city.components {
        t.push(
            Some(Geometry::Point(c.location)),
            vec![
                Value::Text(c.code.to_string()),
                Value::Text(c.category().class_code(&city.rule)),
                Value::Text(c.department.to_string()),
                Value::Text(c.status.name().into()),
                Value::Text(c.source_id.to_string()),
            ],
        );
    }
    t
}

pub fn incident_table(city: &City) -> Table {
    let mut schema = vec![
        ("id", FieldType::Text),
        ("category", FieldType::Text),
        ("time", FieldType::Text),
        ("source", FieldType::Text),
    ];
    schema.extend(CaseStep::ALL.iter().map(|s| (s.column(), FieldType::Text)));
    let mut t = Table::new(&schema);
    for i in &city.incidents {
        let mut v = vec![
            Value::Text(i.id.clone()),
            Value::Text(i.category.class_code(&city.rule)),
            Value::Text(format_time(i.time)),
            Value::Text(i.source.name().into()),
        ];
        for s in CaseStep::ALL {
            v.push(match i.timeline.as_ref().and_then(|tl| tl.at(s)) {
                Some(t) => Value::Text(format_time(t)),
                None => Value::Null,
            });
        }
        t.push(Some(Geometry::Point(i.location)), v);
    }
    t
}

pub fn building_table(city: &City) -> Table {
    let mut t = Table::new(&[
        ("id", FieldType::Text),
        ("height_m", FieldType::Float),
        ("height_source", FieldType::Text),
    ]);
    for b in &city.buildings {
        t.push(
            Some(Geometry::MultiPolygon(b.footprint.clone())),
            vec![
                Value::Text(b.id.clone()),
                Value::Float(b.height_m),
                Value::Text(b.height_source.name().into()),
            ],
        );
    }
    t
}

pub fn road_table(city: &City) -> Table {
    let mut t = Table::new(&[
        ("id", FieldType::Text),
        ("class", FieldType::Text),
        ("speed_kmh", FieldType::Float),
        ("speed_source", FieldType::Text),
        ("oneway", FieldType::Bool),
    ]);
    for r in &city.roads {
        t.push(
            Some(Geometry::LineString(r.line.clone())),
            vec![
                Value::Text(r.id.clone()),
                Value::Text(r.class.clone()),
                Value::Float(r.speed_kmh),
                Value::Text(r.speed_source.name().into()),
                Value::Bool(r.oneway),
            ],
        );
    }
    t
}

/// Writes a city directory (each file atomically).
pub fn save_city(
    dir: &Path,
    city: &City,
    categories_csv: &Path,
    quality: &QualityReport,
) -> Result<(), IoError> {
    std::fs::create_dir_all(dir).map_err(|e| IoError::write(&dir.display().to_string(), e))?;
    let manifest = toml::to_string(&Manifest {
        name: city.name.clone(),
    })
    .expect("manifest serialises");
    write_bytes_atomic(&dir.join("city.toml"), manifest.as_bytes())?;
    write_bytes_atomic(&dir.join("code_rule.toml"), city.rule.to_toml().as_bytes())?;
    let cats = std::fs::read(categories_csv)
        .map_err(|e| IoError::read(&categories_csv.display().to_string(), e))?;
    write_bytes_atomic(&dir.join("categories.csv"), &cats)?;
    write_table(&dir.join("areas.geojson"), &area_table(city))?;
    write_table(&dir.join("components.csv"), &component_table(city))?;
    write_table(&dir.join("incidents.csv"), &incident_table(city))?;
    write_table(&dir.join("buildings.geojson"), &building_table(city))?;
    write_table(&dir.join("roads.geojson"), &road_table(city))?;
    write_bytes_atomic(
        &dir.join("quality.json"),
        (quality.to_json() + "\n").as_bytes(),
    )?;
    Ok(())
}

/// No `layer` in the city directory `dir`, in any of [`LAYER_FORMATS`].
fn no_layer(dir: &Path, layer: &'static str) -> CityDirError {
    CityDirError::NoLayer {
        dir: dir.to_path_buf(),
        layer,
    }
}

/// A city directory's manifest, code rule and category table: an empty city named
/// by its manifest, and the table its layers are read against.
fn open_city_dir(dir: &Path) -> Result<(City, CategoryTable), CityDirError> {
    let manifest_path = dir.join("city.toml");
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(error) => {
            return Err(CityDirError::NoManifest {
                path: manifest_path,
                error,
            })
        }
    };
    let manifest: Manifest = toml::from_str(&text).map_err(|source| CityDirError::BadManifest {
        path: manifest_path.clone(),
        source,
    })?;
    let rule = CodeRule::load(&dir.join("code_rule.toml"))?;
    let table = CategoryTable::load(&dir.join("categories.csv"), &rule)?;
    Ok((City::new(manifest.name, rule), table))
}

/// Reads a city directory, validating every record again.
pub fn load_city(dir: &Path) -> Result<(City, CategoryTable, QualityReport), CityDirError> {
    let (mut city, table) = open_city_dir(dir)?;
    let rule = city.rule;
    let mut quality = QualityReport::new();
    {
        let mut loader = Loader::new(&rule, &table);
        loader.coords = LonLatSystem::Wgs84;
        // Each layer may be in any supported format: the first that exists is read.
        let open = |layer: &'static str| -> Result<(String, crate::format::Records), CityDirError> {
            let p = find_layer(dir, layer).ok_or_else(|| no_layer(dir, layer))?;
            Ok((p.display().to_string(), read_records(&p)?))
        };
        // The areas load on a thread of their own, beside the components (a
        // megacity's 46,594 polygons are validated while its 12 M components are
        // read: each alone leaves a core idle part of the time). The area loader is
        // its own: areas share nothing with the other layers but the rule and table.
        let (areas, components) = std::thread::scope(|scope| {
            let areas = scope.spawn(|| {
                let mut loader = Loader::new(&rule, &table);
                loader.coords = LonLatSystem::Wgs84;
                let mut quality = QualityReport::new();
                let (f, r) = open("areas")?;
                let areas = loader.areas(&f, r, &mut quality);
                Ok::<_, CityDirError>((areas, quality))
            });
            // A Parquet component layer (a megacity's 12 M) is read columnar.
            let components = (|| {
                let mut quality = QualityReport::new();
                let p = find_layer(dir, "components").ok_or_else(|| no_layer(dir, "components"))?;
                let components = if Format::from_path(&p)? == Format::GeoParquet {
                    loader.components_parquet(&p, &mut quality)?
                } else {
                    let (f, r) = open("components")?;
                    loader.components(&f, r, &mut quality)
                };
                Ok::<_, CityDirError>((components, quality))
            })();
            let areas = areas
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (areas, components)
        });
        // (the areas' error first: the order the layers were read in before)
        let (areas, area_quality) = areas?;
        let (components, component_quality) = components?;
        city.areas = areas;
        quality.merge(area_quality);
        city.components = components;
        quality.merge(component_quality);
        let (f, r) = open("incidents")?;
        city.incidents = loader.incidents(&f, r, &mut quality);
        let (f, r) = open("buildings")?;
        city.buildings = loader.buildings(&f, r, &mut quality);
        let (f, r) = open("roads")?;
        city.roads = loader.roads(&f, r, &mut quality);
    }
    Ok((city, table, quality))
}

/// A city directory's unit-grid side only: its manifest, code rule, category table
/// and areas, without components, incidents, buildings or roads (what reading a
/// case history against the city needs: a megacity's 12 M components would take
/// most of the time and memory).
pub fn load_city_areas(dir: &Path) -> Result<(City, CategoryTable, QualityReport), CityDirError> {
    let (mut city, table) = open_city_dir(dir)?;
    let rule = city.rule;
    let mut quality = QualityReport::new();
    let p = find_layer(dir, "areas").ok_or_else(|| no_layer(dir, "areas"))?;
    let mut loader = Loader::new(&rule, &table);
    loader.coords = LonLatSystem::Wgs84;
    let records = read_records(&p)?;
    city.areas = loader.areas(&p.display().to_string(), records, &mut quality);
    Ok((city, table, quality))
}

/// Components per class (`MMmm`) of a city directory, from their codes alone (a
/// Parquet layer is read by its `code` column only). Returns the counts and the
/// records whose code does not parse (left out of the counts).
pub fn components_per_class(
    dir: &Path,
    rule: &CodeRule,
) -> Result<(std::collections::BTreeMap<String, u64>, u64), CityDirError> {
    let p = find_layer(dir, "components").ok_or_else(|| no_layer(dir, "components"))?;
    let mut counts = std::collections::BTreeMap::new();
    let mut bad = 0u64;
    let mut tally = |code: Option<&str>| match code.map(|c| rule.parse_component(c.trim())) {
        Some(Ok(c)) => *counts.entry((c.major(), c.minor())).or_insert(0u64) += 1,
        _ => bad += 1,
    };
    if matches!(
        crate::format::Format::from_path(&p),
        Ok(crate::format::Format::GeoParquet)
    ) {
        crate::parquet_io::for_each_text(&p, "code", &mut tally)?;
    } else {
        for r in read_records(&p)? {
            match r {
                Ok(rec) => {
                    let code = rec
                        .fields
                        .iter()
                        .find(|(k, _)| k == "code")
                        .and_then(|(_, v)| v.as_text());
                    tally(code.as_deref());
                }
                Err(_) => tally(None),
            }
        }
    }
    let counts = counts
        .into_iter()
        .map(|((major, minor), n)| (format!("{major:02}{minor:02}"), n))
        .collect();
    Ok((counts, bad))
}
