//! The `gridtwin` command line, run in this process.

use std::process::ExitCode;

use pyo3::prelude::*;

/// Runs `gridtwin ARGS...` (without the program name) as the binary would and returns
/// its exit code: 0 done, 1 data rejected under `--strict` or a check that found
/// problems. A usage error (2) or an input/output error (3) raises `GridtwinError`
/// with the binary's message; the GIL is released while the command runs.
#[pyfunction]
pub fn run_cli(py: Python<'_>, args: Vec<String>) -> PyResult<u8> {
    let argv = std::iter::once("gridtwin".to_string()).chain(args);
    let cli = gridtwin_cli::parse(argv).map_err(usage)?;
    let code = py
        .detach(move || gridtwin_cli::execute(cli))
        .map_err(usage)?;
    Ok(if code == ExitCode::SUCCESS { 0 } else { 1 })
}

/// The data tables (code rule, categories…) the command line would read here:
/// `./data` when it holds a code rule, else the built-in ones.
#[pyfunction]
pub fn data_dir() -> PyResult<String> {
    gridtwin_cli::tables::resolve(None)
        .map(|p| p.display().to_string())
        .map_err(|e| crate::error(format!("{e:#}")))
}

fn usage(f: gridtwin_cli::Failure) -> PyErr {
    let err = crate::GridtwinError::new_err(f.message.trim_end().to_string());
    Python::attach(|py| {
        let _ = err.value(py).setattr("exit_code", f.code);
    });
    err
}
