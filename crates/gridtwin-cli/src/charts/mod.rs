//! Charts of a comparison, as PNG and SVG (plotters): backlog over time with 95 %
//! bands across replications, and the distribution (CDF) of response times.
//! PNG text uses the font shipped in `data/fonts/`, so no system fonts are needed.
//!
//! The charts go on slides: series are named by their scenario, time axes read in the
//! city's local clock, every axis says its unit, counts tick at whole numbers, and the
//! legend sits in a strip of its own below the plot so it never covers the data.
//!
//! One concern per file: what a chart reads from a run (`runs`), the axes (`axes`),
//! font sizes and the legend strip (`legend`), and drawing each chart (`draw`).

mod axes;
mod draw;
mod legend;
mod runs;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

pub use axes::{count_label, count_ticks, day_label, offset_label, Ticked, TimeAxis};
pub use legend::{draw_legend, frame, legend_height, DESC, LABEL};
pub use runs::run_names;

use draw::{draw_backlog, draw_cdf, Run, A, B};
use runs::{backlog_bands, responses};

/// Registers the bundled font once per process.
pub fn register_font(data: &Path) -> Result<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let r = DONE.get_or_init(|| {
        let path = data.join("fonts/DejaVuSans.ttf");
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{}: not a usable font", path.display()))
    });
    r.clone().map_err(anyhow::Error::msg)
}

/// Writes backlog.{png,svg} and response.{png,svg} comparing runs `a` and `b`; times
/// are shown at `offset_s` east of UTC (the calendar's).
pub fn write_charts(data: &Path, a: &Path, b: &Path, out: &Path, offset_s: i64) -> Result<()> {
    register_font(data)?;
    let (name_a, name_b) = run_names(a, b);
    let ((ba, reps_a), (bb, reps_b)) = (backlog_bands(a)?, backlog_bands(b)?);
    let (ra, rb) = (responses(a)?, responses(b)?);
    let backlog = [
        Run {
            name: &name_a,
            color: A,
            data: &ba,
        },
        Run {
            name: &name_b,
            color: B,
            data: &bb,
        },
    ];
    let response = [
        Run {
            name: &name_a,
            color: A,
            data: &ra,
        },
        Run {
            name: &name_b,
            color: B,
            data: &rb,
        },
    ];
    // (the comparison pairs replications: both runs have the same count in practice)
    let replications = reps_a.min(reps_b);
    let size = (960, 540);
    // Each chart is drawn to a temporary file and renamed: outputs are atomic.
    let tmp = |name: &str| out.join(format!(".{name}.tmp-{}", std::process::id()));
    for (name, svg) in [
        ("backlog", true),
        ("backlog", false),
        ("response", true),
        ("response", false),
    ] {
        let file = format!("{name}.{}", if svg { "svg" } else { "png" });
        let t = tmp(&file).with_extension(if svg { "svg" } else { "png" });
        {
            if svg {
                let root = SVGBackend::new(&t, size).into_drawing_area();
                if name == "backlog" {
                    draw_backlog(&root, &backlog, replications, offset_s)?
                } else {
                    draw_cdf(&root, &response)?
                }
            } else {
                let root = BitMapBackend::new(&t, size).into_drawing_area();
                if name == "backlog" {
                    draw_backlog(&root, &backlog, replications, offset_s)?
                } else {
                    draw_cdf(&root, &response)?
                }
            }
        }
        std::fs::rename(&t, out.join(&file))
            .with_context(|| out.join(&file).display().to_string())?;
    }
    Ok(())
}
