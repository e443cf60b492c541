//! Unit grids indexed once, and the assignment of Arrow points to them with the
//! command line's rules: the same locator (half-open boundary rule), the same
//! rejections (missing, non-finite or out-of-range coordinates), the same nearest
//! search and the same report, every input row accounted for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int8Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    Int8Array, RecordBatch, StringArray,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
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

/// A number column as f64 values and its validity: a `Float64` column is borrowed as
/// it is (no copy, whatever its length); other number types are widened.
struct Numbers<'a> {
    values: Cow<'a, [f64]>,
    nulls: Option<NullBuffer>,
}

impl Numbers<'_> {
    fn get(&self, i: usize) -> Option<f64> {
        match &self.nulls {
            Some(n) if n.is_null(i) => None,
            _ => Some(self.values[i]),
        }
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

fn floats<'a>(column: &'a ArrayRef, name: &str) -> Result<Numbers<'a>, String> {
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        return Ok(Numbers {
            values: Cow::Borrowed(a.values()),
            nulls: a.nulls().cloned(),
        });
    }
    macro_rules! widen {
        ($t:ty) => {
            if let Some(a) = any.downcast_ref::<$t>() {
                return Ok(Numbers {
                    values: Cow::Owned(a.values().iter().map(|&v| v as f64).collect()),
                    nulls: a.nulls().cloned(),
                });
            }
        };
    }
    widen!(Float32Array);
    widen!(Int64Array);
    widen!(Int32Array);
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
    lon: &'a Numbers<'a>,
    lat: &'a Numbers<'a>,
    pre: &'a [Option<RejectReason>],
}

/// What became of one row: its grid (`NO_GRID` when none), outcome, the reason it
/// was rejected, and its distance to a nearest grid (NaN when not `nearest`).
#[derive(Clone, Copy)]
struct Fate {
    grid: u32,
    outcome: i8,
    rejected: Option<RejectReason>,
    distance: f64,
}

const NO_GRID: u32 = u32::MAX;

/// The fates of rows `range` of a batch: points checked, then located together (cell
/// look-ups batched), so a task is one pass over its rows.
fn fates(
    grids: &Grids,
    rows: &Rows<'_>,
    rules: &Rules<'_>,
    range: std::ops::Range<usize>,
) -> Vec<Fate> {
    let mut out: Vec<Fate> = Vec::with_capacity(range.len());
    let mut valid: Vec<(f64, f64)> = Vec::with_capacity(range.len());
    for i in range {
        let pre = rows.pre.get(i).copied().flatten();
        let p = match pre {
            Some(why) => Err(why),
            None => point(rows.lon.get(i), rows.lat.get(i), rules.coords),
        };
        out.push(match p {
            Ok(p) => {
                valid.push(p);
                Fate {
                    grid: NO_GRID,
                    outcome: ASSIGNED,
                    rejected: None,
                    distance: f64::NAN,
                }
            }
            Err(why) => Fate {
                grid: NO_GRID,
                outcome: REJECTED,
                rejected: Some(why),
                distance: f64::NAN,
            },
        });
    }
    let mut located = grids
        .assigner
        .assign_many(&valid, rules.nearest_m)
        .into_iter();
    for f in out.iter_mut().filter(|f| f.outcome != REJECTED) {
        match located.next().unwrap_or(Location::Outside) {
            Location::Inside(g) => f.grid = g,
            Location::Nearest(g, d) => {
                f.grid = g;
                f.outcome = NEAREST;
                f.distance = d;
            }
            Location::Outside => f.outcome = UNASSIGNED,
        }
    }
    out
}

/// Assigns one batch's points; counts go into `report`.
fn assign_batch(
    grids: &Grids,
    schema: &Arc<Schema>,
    rows: Rows<'_>,
    rules: &Rules<'_>,
    report: &mut AssignReport,
) -> Result<RecordBatch, String> {
    let n = rows.lon.len();
    let tasks: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(TASK_POINTS)
        .map(|a| a..(a + TASK_POINTS).min(n))
        .collect();
    let fate: Vec<Fate> = tasks
        .into_par_iter()
        .flat_map_iter(|r| fates(grids, &rows, rules, r))
        .collect();

    // the report, row by row accounted
    let mut by_outcome = [0u64; 4];
    let mut by_reason: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for f in &fate {
        by_outcome[f.outcome as usize] += 1;
        if let Some(why) = f.rejected {
            *by_reason.entry(why.name()).or_default() += 1;
        }
    }
    report.rows += n as u64;
    report.assigned += by_outcome[ASSIGNED as usize];
    report.nearest += by_outcome[NEAREST as usize];
    report.unassigned += by_outcome[UNASSIGNED as usize];
    report.rejected += by_outcome[REJECTED as usize];
    for (why, count) in by_reason {
        *report
            .rejected_by_reason
            .entry(why.to_string())
            .or_default() += count;
    }
    if by_outcome[UNASSIGNED as usize] > 0 {
        *report
            .unassigned_by_reason
            .entry(rules.unassigned_why.to_string())
            .or_default() += by_outcome[UNASSIGNED as usize];
    }

    // the columns: one validity bitmap for the four code levels
    let has_grid = NullBuffer::from(
        fate.iter()
            .map(|f| f.grid != NO_GRID)
            .collect::<Vec<bool>>(),
    );
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(7);
    for (values, keys_of_grid) in &grids.levels {
        let keys: Vec<i32> = fate
            .par_iter()
            .with_min_len(4096)
            .map(|f| keys_of_grid.get(f.grid as usize).copied().unwrap_or(0))
            .collect();
        let keys = Int32Array::new(ScalarBuffer::from(keys), Some(has_grid.clone()));
        let dict = DictionaryArray::<Int32Type>::try_new(keys, values.clone())
            .map_err(|e| e.to_string())?;
        columns.push(Arc::new(dict));
    }
    let outcomes: ArrayRef = Arc::new(StringArray::from(OUTCOMES.to_vec()));
    let outcome = Int8Array::from(fate.iter().map(|f| f.outcome).collect::<Vec<i8>>());
    columns.push(Arc::new(
        DictionaryArray::<Int8Type>::try_new(outcome, outcomes).map_err(|e| e.to_string())?,
    ));
    let reason: StringArray = fate
        .iter()
        .map(|f| match (f.rejected, f.outcome) {
            (Some(why), _) => Some(why.name()),
            (None, UNASSIGNED) => Some(rules.unassigned_why),
            _ => None,
        })
        .collect();
    columns.push(Arc::new(reason));
    let near = NullBuffer::from(
        fate.iter()
            .map(|f| f.outcome == NEAREST)
            .collect::<Vec<bool>>(),
    );
    let distance: Vec<f64> = fate.iter().map(|f| f.distance).collect();
    columns.push(Arc::new(Float64Array::new(
        ScalarBuffer::from(distance),
        Some(near),
    )));
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
