//! Atomic output: write beside the target, then rename, so a reader never sees a
//! half-written file and a crash leaves the old file intact.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::IoError;

/// Writes a file atomically through a buffered writer handed to `f`.
pub fn write_atomic<F>(path: &Path, f: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), IoError>,
{
    let name = path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| IoError::write(&name, e))?;
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| IoError::write(&name, "not a file path"))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| IoError::write(&name, e))?;
        let mut w = BufWriter::new(file);
        f(&mut w)?;
        w.flush().map_err(|e| IoError::write(&name, e))?;
        w.get_ref()
            .sync_all()
            .map_err(|e| IoError::write(&name, e))?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| IoError::write(&name, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes bytes atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let name = path.display().to_string();
    write_atomic(path, |w| {
        w.write_all(bytes).map_err(|e| IoError::write(&name, e))
    })
}
