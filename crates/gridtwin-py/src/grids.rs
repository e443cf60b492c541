//! Unit grids indexed once, and the assignment of Arrow points to them with the
//! command line's rules: the same locator (half-open boundary rule), the same
//! rejections (missing, non-finite or out-of-range coordinates), the same nearest
//! search and the same report, every input row accounted for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int8Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    Int8Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use gridtwin_core::assign::Assigner;
use gridtwin_core::causes::with_causes;
use gridtwin_core::coord::{check_lon_lat, LonLatProblem, LonLatSystem};
use gridtwin_core::locate::{Location, LocatorOptions};
use gridtwin_core::{Level, RejectReason};
use gridtwin_io::batch::{AssignReport, BOUNDARY_RULE};
use gridtwin_io::city_dir::DataTables;
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::stream::ArrowStream;

/// Outcomes, in the order of the `outcome` dictionary.
const OUTCOMES: [&str; 4] = ["assigned", "nearest", "unassigned", "rejected"];
const ASSIGNED: i8 = 0;
const NEAREST: i8 = 1;
const UNASSIGNED: i8 = 2;
const REJECTED: i8 = 3;

/// Points located per task: enough to batch the cell look-ups, small enough to share
/// the work between cores.
const TASK_POINTS: usize = 1 << 16;

/// Unit grids loaded, validated and indexed once, ready to assign any number of
/// point tables to (and cheap to share between threads).
#[pyclass(frozen, module = "gridtwin._gridtwin")]
pub struct Grids {
    assigner: Assigner,
    /// Per level (grid, community, street, district): its distinct codes, and each
    /// grid's index among them. Output columns are dictionary-encoded on these, so a
    /// code is stored once however many points carry it.
    levels: [(ArrayRef, Vec<i32>); 4],
    source: String,
    quality: String,
}

impl Grids {
    fn new(assigner: Assigner, source: String, quality: String) -> Self {
        let level = |pick: fn(&gridtwin_core::assign::GridCodes) -> &str| {
            let mut index: HashMap<&str, i32> = HashMap::new();
            let mut values: Vec<&str> = Vec::new();
            let keys = (0..assigner.grids() as u32)
                .map(|g| {
                    let code = pick(assigner.codes(g));
                    *index.entry(code).or_insert_with(|| {
                        values.push(code);
                        values.len() as i32 - 1
                    })
                })
                .collect();
            (Arc::new(StringArray::from(values)) as ArrayRef, keys)
        };
        let levels = [
            level(|c| &c.grid),
            level(|c| &c.community),
            level(|c| &c.street),
            level(|c| &c.district),
        ];
        Grids {
            assigner,
            levels,
            source,
            quality,
        }
    }
}

#[pymethods]
impl Grids {
    /// Reads unit grids from a layer file (GeoJSON, FlatGeobuf, GeoParquet, CSV,
    /// GeoPackage, Shapefile) or a city directory, every record validated as
    /// `gridtwin assign --grids` does, with the data tables in `data` (default: the
    /// command line's). With `make_valid`, self-intersecting grids are repaired
    /// instead of rejected.
    #[staticmethod]
    #[pyo3(signature = (path, data=None, make_valid=false))]
    fn load(
        py: Python<'_>,
        path: String,
        data: Option<String>,
        make_valid: bool,
    ) -> PyResult<Self> {
        py.detach(move || {
            let data = match data {
                Some(d) => PathBuf::from(d),
                None => gridtwin_cli::tables::resolve(None).map_err(|e| format!("{e:#}"))?,
            };
            let tables = DataTables::load(&data).map_err(|e| with_causes(&e))?;
            let (areas, quality, _repairs) =
                gridtwin_io::city_dir::load_grids(Path::new(&path), &tables, make_valid)
                    .map_err(|e| with_causes(&e))?;
            let assigner = Assigner::new(&areas, &tables.rule, LocatorOptions::default());
            if assigner.grids() == 0 {
                return Err(format!(
                    "{path}: no unit grids (codes of {} digits) to assign to",
                    tables.rule.width(Level::Grid)
                ));
            }
            Ok(Grids::new(assigner, path, quality.to_json()))
        })
        .map_err(crate::error)
    }

    /// Number of unit grids indexed.
    #[getter]
    fn count(&self) -> usize {
        self.assigner.grids()
    }

    /// Where the grids were read from.
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    /// The grid layer's quality report as JSON: records read, loaded, rejected (file,
    /// record, reason).
    #[getter]
    fn quality(&self) -> &str {
        &self.quality
    }

    fn __repr__(&self) -> String {
        format!("Grids({} unit grids from {})", self.count(), self.source)
    }
}

/// The number columns of a batch as optional f64 (nulls kept as `None`).
fn floats(column: &ArrayRef, name: &str) -> Result<Vec<Option<f64>>, String> {
    let any = column.as_any();
    macro_rules! take {
        ($t:ty) => {
            if let Some(a) = any.downcast_ref::<$t>() {
                return Ok(a.iter().map(|v| v.map(|v| v as f64)).collect());
            }
        };
    }
    take!(Float64Array);
    take!(Float32Array);
    take!(Int64Array);
    take!(Int32Array);
    Err(format!(
        "column `{name}` holds {}, not numbers",
        column.data_type()
    ))
}

/// Reasons the caller already found to reject rows (a GeoDataFrame row without a
/// geometry, or with a line where a point was due), by the reasons' names.
fn rejections(column: &ArrayRef) -> Result<Vec<Option<RejectReason>>, String> {
    let names = column
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("the rejection column must hold text")?;
    names
        .iter()
        .map(|n| {
            n.map(|n| RejectReason::from_name(n).ok_or(format!("no rejection reason `{n}`")))
                .transpose()
        })
        .collect()
}

/// One row's point, or why it is rejected (the CSV reader's rules).
fn point(x: Option<f64>, y: Option<f64>, coords: LonLatSystem) -> Result<(f64, f64), RejectReason> {
    let (Some(x), Some(y)) = (x, y) else {
        return Err(RejectReason::MissingCoordinate);
    };
    match check_lon_lat(x, y) {
        Ok(()) => Ok(coords.to_wgs84(x, y)),
        Err(LonLatProblem::NotFinite) => Err(RejectReason::BadCoordinate),
        Err(LonLatProblem::OutOfRange) => Err(RejectReason::OutOfRange),
    }
}

fn output_schema() -> Arc<Schema> {
    let code = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("grid_code", code.clone(), true),
        Field::new("community_code", code.clone(), true),
        Field::new("street_code", code.clone(), true),
        Field::new("district_code", code, true),
        Field::new(
            "outcome",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("reason", DataType::Utf8, true),
        Field::new("distance_m", DataType::Float64, true),
    ]))
}

/// How rows are judged, the same for every batch of a call.
struct Rules<'a> {
    nearest_m: Option<f64>,
    coords: LonLatSystem,
    unassigned_why: &'a str,
}

/// One batch's coordinates, and reasons the caller already found to reject rows
/// (`pre`, empty when none).
struct Rows<'a> {
    lon: &'a [Option<f64>],
    lat: &'a [Option<f64>],
    pre: &'a [Option<RejectReason>],
}

/// Assigns one batch's points (`pre`: reasons the caller already found to reject
/// rows, or empty); counts go into `report`.
fn assign_batch(
    grids: &Grids,
    schema: &Arc<Schema>,
    Rows { lon, lat, pre }: Rows<'_>,
    rules: &Rules<'_>,
    report: &mut AssignReport,
) -> Result<RecordBatch, String> {
    let Rules {
        nearest_m,
        coords,
        unassigned_why,
    } = *rules;
    let mut parsed: Vec<Result<(f64, f64), RejectReason>> = lon
        .par_iter()
        .zip(lat.par_iter())
        .with_min_len(4096)
        .map(|(&x, &y)| point(x, y, coords))
        .collect();
    for (p, why) in parsed.iter_mut().zip(pre) {
        if let Some(why) = why {
            *p = Err(*why);
        }
    }
    let valid: Vec<(f64, f64)> = parsed.iter().filter_map(|p| p.ok()).collect();
    let located: Vec<Location> = valid
        .par_chunks(TASK_POINTS)
        .flat_map_iter(|chunk| grids.assigner.assign_many(chunk, nearest_m))
        .collect();
    let n = parsed.len();
    let mut grid_ix: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut outcome: Vec<i8> = Vec::with_capacity(n);
    let mut reason: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut distance: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut located = located.into_iter();
    for p in &parsed {
        report.rows += 1;
        let (g, o, r, d) = match p {
            Err(why) => {
                report.rejected += 1;
                *report
                    .rejected_by_reason
                    .entry(why.name().to_string())
                    .or_default() += 1;
                (None, REJECTED, Some(why.name()), None)
            }
            Ok(_) => match located.next().ok_or("fewer locations than points")? {
                Location::Inside(g) => {
                    report.assigned += 1;
                    (Some(g), ASSIGNED, None, None)
                }
                Location::Nearest(g, d) => {
                    report.nearest += 1;
                    (Some(g), NEAREST, None, Some(d))
                }
                Location::Outside => {
                    report.unassigned += 1;
                    *report
                        .unassigned_by_reason
                        .entry(unassigned_why.to_string())
                        .or_default() += 1;
                    (None, UNASSIGNED, Some(unassigned_why), None)
                }
            },
        };
        grid_ix.push(g);
        outcome.push(o);
        reason.push(r);
        distance.push(d);
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(7);
    for (values, keys_of_grid) in &grids.levels {
        let keys: Int32Array = grid_ix
            .iter()
            .map(|g| g.map(|g| keys_of_grid[g as usize]))
            .collect();
        let dict = DictionaryArray::<Int32Type>::try_new(keys, values.clone())
            .map_err(|e| e.to_string())?;
        columns.push(Arc::new(dict));
    }
    let outcomes: ArrayRef = Arc::new(StringArray::from(OUTCOMES.to_vec()));
    columns.push(Arc::new(
        DictionaryArray::<Int8Type>::try_new(Int8Array::from(outcome), outcomes)
            .map_err(|e| e.to_string())?,
    ));
    columns.push(Arc::new(StringArray::from(reason)));
    columns.push(Arc::new(Float64Array::from(distance)));
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

/// Assigns every row of the Arrow table `points` (its `lon` and `lat` columns, any
/// number type) to `grids`. Returns, row for row in input order, the added columns
/// (`grid_code`, `community_code`, `street_code`, `district_code` dictionary-encoded;
/// `outcome`: assigned, nearest, unassigned or rejected; `reason` of a rejected or
/// unassigned row; `distance_m` to a nearest grid) as an Arrow stream, and the report
/// as JSON (the command line's `assign` report). The GIL is released while it runs.
#[pyfunction]
// the Python keyword signature, one argument per keyword
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (grids, points, lon="lon", lat="lat", nearest_m=None, coords="wgs84", reject=None))]
pub fn assign_arrow(
    py: Python<'_>,
    grids: Py<Grids>,
    points: &Bound<'_, PyAny>,
    lon: &str,
    lat: &str,
    nearest_m: Option<f64>,
    coords: &str,
    reject: Option<&str>,
) -> PyResult<(ArrowStream, String)> {
    if let Some(m) = nearest_m {
        if !(m.is_finite() && m >= 0.0) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "nearest_m must be a distance in metres, not {m}"
            )));
        }
    }
    let coords = LonLatSystem::from_str(coords)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let (in_schema, batches) = crate::stream::import(points)?;
    let column = |name: &str| {
        in_schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = in_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            crate::error(format!(
                "the points have no `{name}` column (columns: {})",
                names.join(", ")
            ))
        })
    };
    let (lon_ix, lat_ix) = (column(lon)?, column(lat)?);
    let reject_ix = reject.map(column).transpose()?;
    let (lon, lat) = (lon.to_string(), lat.to_string());
    let grids = grids.get();
    let result = py.detach(|| {
        let schema = output_schema();
        let unassigned_why = match nearest_m {
            Some(m) => format!("no grid within {m} m"),
            None => "outside every grid".to_string(),
        };
        let mut report = AssignReport {
            input: "<arrow>".into(),
            grids: grids.assigner.grids(),
            boundary_rule: BOUNDARY_RULE.into(),
            ..Default::default()
        };
        let mut out = Vec::with_capacity(batches.len());
        for batch in &batches {
            let xs = floats(batch.column(lon_ix), &lon)?;
            let ys = floats(batch.column(lat_ix), &lat)?;
            let pre = match reject_ix {
                Some(i) => rejections(batch.column(i))?,
                None => Vec::new(),
            };
            let rules = Rules {
                nearest_m,
                coords,
                unassigned_why: &unassigned_why,
            };
            out.push(assign_batch(
                grids,
                &schema,
                Rows {
                    lon: &xs,
                    lat: &ys,
                    pre: &pre,
                },
                &rules,
                &mut report,
            )?);
        }
        let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        Ok::<_, String>((ArrowStream::new(schema, out), json))
    });
    result.map_err(crate::error)
}
