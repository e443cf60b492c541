//! Third-party decoders are untrusted: a panic inside one, on one corrupt record or
//! file, becomes an error with its place instead of ending the run.
//!
//! [`isolate`] runs a decoder call under `catch_unwind` and keeps the panic's message
//! for the rejection; while it runs, the panic is not printed (a wrapper around the
//! process's panic hook stays quiet on that thread only, and passes every other panic
//! to the hook it replaced).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let text = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                MESSAGE.with(|m| *m.borrow_mut() = text);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside comes back as `Err(its message)`.
///
/// ```
/// let r: Result<u8, String> = gridtwin_io::isolate::isolate(|| panic!("corrupt length"));
/// assert_eq!(r, Err("the decoder failed: corrupt length".to_string()));
/// assert_eq!(gridtwin_io::isolate::isolate(|| 7), Ok(7));
/// ```
pub fn isolate<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let was = QUIET.with(|q| q.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    r.map_err(|_| {
        let m = MESSAGE.with(|m| std::mem::take(&mut *m.borrow_mut()));
        format!("the decoder failed: {m}")
    })
}
