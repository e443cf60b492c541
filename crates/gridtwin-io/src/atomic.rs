//! Atomic output: write beside the target, then rename, so a reader never sees a
//! half-written file and a crash leaves the old file intact.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::IoError;

/// The temporary files this process is writing (for [`remove_staged`]).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file beside its target (`.NAME.tmp-PID`): published by a rename, and
/// removed if dropped unpublished (an error, a panic) or if the process is
/// interrupted (the command line calls [`remove_staged`] on Ctrl-C or a TERM signal).
/// Creating one removes what killed runs left beside the same target.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    published: bool,
}

impl Staged {
    /// Creates the temporary file for `path` (and its folder).
    pub fn create(path: &Path) -> Result<(Staged, File), IoError> {
        let name = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| IoError::write(&name, e))?;
        }
        let file_name = path
            .file_name()
            .ok_or_else(|| IoError::write(&name, "not a file path"))?
            .to_string_lossy()
            .to_string();
        sweep_stale(path, &file_name);
        let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| IoError::write(&name, e))?;
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tmp.clone());
        Ok((
            Staged {
                tmp,
                path: path.to_path_buf(),
                published: false,
            },
            file,
        ))
    }

    /// Puts the written file in its place.
    pub fn publish(mut self) -> Result<(), IoError> {
        let r = std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| IoError::write(&self.path.display().to_string(), e));
        self.published = r.is_ok();
        r
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.tmp);
        }
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.tmp);
    }
}

/// Removes every temporary file this process is writing (on an interruption).
pub fn remove_staged() {
    for p in LIVE.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// Removes `.NAME.tmp-PID` beside `path` left by processes that no longer run (a run
/// killed outright cannot clean up after itself). Where there is no /proc to ask, it
/// leaves them.
fn sweep_stale(path: &Path, file_name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let prefix = format!(".{file_name}.tmp-");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        let Some(pid) = n.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes a file atomically through a buffered writer handed to `f`.
pub fn write_atomic<F>(path: &Path, f: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), IoError>,
{
    let name = path.display().to_string();
    let (staged, file) = Staged::create(path)?;
    let mut w = BufWriter::new(file);
    f(&mut w)?;
    w.flush().map_err(|e| IoError::write(&name, e))?;
    w.get_ref()
        .sync_all()
        .map_err(|e| IoError::write(&name, e))?;
    drop(w);
    staged.publish()
}

/// Writes bytes atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let name = path.display().to_string();
    write_atomic(path, |w| {
        w.write_all(bytes).map_err(|e| IoError::write(&name, e))
    })
}
