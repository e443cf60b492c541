//! The Arrow C stream interface across the Python boundary (the PyCapsule protocol,
//! `__arrow_c_stream__`): batches move by pointer, never row by row.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::Schema;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";

/// Every batch of an Arrow stream from any object that exports one
/// (`pyarrow.Table`, `RecordBatchReader`, polars, DuckDB results…).
pub fn import(obj: &Bound<'_, PyAny>) -> PyResult<(Arc<Schema>, Vec<RecordBatch>)> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "expected an Arrow table or stream (an object with __arrow_c_stream__), got {}",
            obj.get_type().name()?
        )));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let ptr = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule named `arrow_array_stream` holds an FFI_ArrowArrayStream
    // (the protocol's contract); from_raw moves it out and leaves a released one
    // behind, so the capsule's destructor does not release it twice.
    let reader =
        unsafe { RecordBatchStreamReader::from_raw(ptr.as_ptr() as *mut FFI_ArrowArrayStream) }
            .map_err(crate::error)?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(crate::error)?;
    Ok((schema, batches))
}

/// Record batches held in Rust, exported on demand as an Arrow C stream: pass it to
/// `pyarrow.table(...)` or `pyarrow.RecordBatchReader.from_stream(...)`.
#[pyclass(frozen, module = "gridtwin._gridtwin")]
pub struct ArrowStream {
    schema: Arc<Schema>,
    batches: Vec<RecordBatch>,
}

impl ArrowStream {
    pub fn new(schema: Arc<Schema>, batches: Vec<RecordBatch>) -> Self {
        ArrowStream { schema, batches }
    }
}

#[pymethods]
impl ArrowStream {
    /// The PyCapsule protocol: a fresh stream over the same batches (Arrow buffers
    /// are shared, not copied), so the object may be read more than once.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // A requested schema is a hint the producer may ignore (the protocol says so);
        // the consumer casts if it must.
        let _ = requested_schema;
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// Rows over all batches.
    fn __len__(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}
