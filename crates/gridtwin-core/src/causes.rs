//! An error and its chain of causes as one line, for callers that show a plain
//! string (the viewer's status line, a scene's error panel) rather than `anyhow`.

use std::error::Error;

/// The message with its causes, `: `-joined, as `anyhow` prints `{:#}`.
///
/// ```
/// use gridtwin_core::causes::with_causes;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("reading the DEM")]
/// struct DemError(#[source] std::io::Error);
///
/// let e = DemError(std::io::Error::other("no such file"));
/// assert_eq!(with_causes(&e), "reading the DEM: no such file");
/// ```
pub fn with_causes(error: &(dyn Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
