//! `gridtwin._gridtwin`: the Rust side of the Python package `gridtwin`.
//!
//! - `stream`: Arrow C stream interface, in (any `__arrow_c_stream__` producer) and out
//!   ([`stream::ArrowStream`]);
//! - `grids`: unit grids loaded and indexed once ([`grids::Grids`]) and the batch
//!   assignment of Arrow points to them, with the CLI's accounting;
//! - `city`: a city directory's layers as Arrow tables, with its quality report;
//! - `cli`: any `gridtwin` command line run in this process (simulate, compare,
//!   vitals…), so the package and the binary share one implementation.
//!
//! The Python layer (`python/gridtwin/`) turns these into pandas and GeoPandas objects.

mod city;
mod cli;
mod grids;
mod stream;

use pyo3::prelude::*;

pyo3::create_exception!(
    _gridtwin,
    GridtwinError,
    pyo3::exceptions::PyException,
    "An input gridtwin refused (file, record, reason) or an output it could not write; \
     the message is the command line's."
);

/// The message of any displayable error as a `GridtwinError`.
pub(crate) fn error(e: impl std::fmt::Display) -> PyErr {
    GridtwinError::new_err(e.to_string())
}

#[pymodule]
fn _gridtwin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("GridtwinError", m.py().get_type::<GridtwinError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<stream::ArrowStream>()?;
    m.add_class::<grids::Grids>()?;
    m.add_function(wrap_pyfunction!(grids::assign_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(city::city_layers, m)?)?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(cli::data_dir, m)?)?;
    Ok(())
}
