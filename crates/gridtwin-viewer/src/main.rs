//! `gridtwin-viewer`: the presenter's 3D view of a scene (also run as `gridtwin view`).
//!
//! `gridtwin-viewer --scene scenes/demo.toml` opens the window;
//! `gridtwin-viewer --scene scenes/demo.toml --screenshot out/demo.png [--at 09:30]
//! [--bookmark NAME] [--size 1280x720] [--hide buildings] [--no-overlay]` renders a
//! still (with title, clock, legend and scale bar unless `--no-overlay`) and exits.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Parser;
use gridtwin_viewer::camera::Orbit;
use gridtwin_viewer::overlay::{framed_view, window_view, Caption, STILL_UI_HEIGHT};
use gridtwin_viewer::render::{render_png, Layer, Layers, Still, ViewerData, ViewerModel};
use gridtwin_viewer::scene::{parse_at, SceneFile};

#[derive(Parser)]
#[command(
    name = "gridtwin-viewer",
    version,
    about = "3D view of a gridtwin city and a simulated day"
)]
struct Args {
    /// Scene file (TOML): city, styles, playback, bookmarks.
    #[arg(long, default_value = "scenes/demo.toml")]
    scene: PathBuf,
    /// Render to this PNG and exit (headless: no window or display needed).
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Image (or window) size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    size: String,
    /// Playback time: HH:MM (hours may pass 24) or hours since the start.
    #[arg(long)]
    at: Option<String>,
    /// Start at this bookmark of the scene (and at its time, unless --at is given).
    #[arg(long)]
    bookmark: Option<String>,
    /// Layers to leave out: buildings, grids, roads, components, incidents, heat. Repeatable.
    #[arg(long)]
    hide: Vec<String>,
    /// A bare still: the scene only, no title, clock, legend, scale bar or place names.
    #[arg(long)]
    no_overlay: bool,
    /// Measure: render this many headless frames and print frame times (no PNG).
    #[arg(long)]
    bench_frames: Option<usize>,
}

/// The Vulkan loader and window system ask for `XDG_RUNTIME_DIR`; on a server or in
/// CI it is often unset and they print `error: XDG_RUNTIME_DIR is invalid…` on a run
/// that then succeeds. A private folder under the temporary directory stands in.
fn quiet_runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
        let dir = std::env::temp_dir().join(format!("gridtwin-runtime-{user}"));
        if std::fs::create_dir_all(&dir).is_ok()
            && std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_ok()
        {
            // (called first thing in main, before any thread exists)
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}

fn run() -> Result<()> {
    let a = Args::parse();
    let file = SceneFile::load(&a.scene).map_err(anyhow::Error::msg)?;
    let (w, h) = a
        .size
        .split_once('x')
        .context("--size must be WIDTHxHEIGHT")?;
    let size: (u32, u32) = (
        w.parse().context("--size width")?,
        h.parse().context("--size height")?,
    );
    if size.0 == 0 || size.1 == 0 || size.0 > 8192 || size.1 > 8192 {
        bail!("--size {}x{} is out of range 1..8192", size.0, size.1);
    }
    // (a still named x.jpg logged an error, printed "wrote" and left 0 bytes: the
    // still is a PNG, and a name that says otherwise is refused before rendering)
    if let Some(out) = &a.screenshot {
        if !out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
        {
            bail!(
                "--screenshot {}: stills are written as PNG; name it .png",
                out.display()
            );
        }
    }
    let mut layers = Layers::default();
    for l in &a.hide {
        let Some(layer) = Layer::parse(l) else {
            bail!("--hide `{l}`: expected buildings, grids, roads, components, incidents or heat");
        };
        layers.set(layer, false);
    }
    let bookmark = match &a.bookmark {
        Some(name) => Some(
            file.bookmarks
                .iter()
                .find(|b| &b.name == name)
                .with_context(|| {
                    let names: Vec<&str> = file.bookmarks.iter().map(|b| b.name.as_str()).collect();
                    format!("--bookmark `{name}`: the scene has {}", names.join(", "))
                })?
                .clone(),
        ),
        None => None,
    };
    let at_text =
        a.at.clone()
            .or_else(|| bookmark.as_ref().and_then(|b| b.at.clone()));
    let offset = at_text
        .as_deref()
        .map(parse_at)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let model = ViewerModel::load(&file)?;
    eprintln!(
        "scene loaded in {:.1} s: {} buildings, {} components, {} cases",
        started.elapsed().as_secs_f64(),
        model.city.buildings.len(),
        model.city.components.len(),
        model.playback.as_ref().map_or(0, |p| p.cases.len())
    );
    if offset.is_some() && model.playback.is_none() {
        bail!("--at needs a scene with a [playback] section");
    }
    let at = model
        .playback
        .as_ref()
        .map(|pb| pb.start + offset.unwrap_or(pb.duration() / 2).min(pb.duration()));
    let (w, h) = (size.0 as f32, size.1 as f32);
    // a still's panel scales with its height; the window's UI is not scaled
    let view = match &a.screenshot {
        Some(_) => framed_view(w, h, !a.no_overlay, h / STILL_UI_HEIGHT),
        None => window_view(w, h),
    };
    let pose = match &bookmark {
        Some(b) => Orbit::from_bookmark(b, &model.scene).centred_in(view),
        None => Orbit::overview(&model.scene, view),
    };
    // frame times measure the scene, comparable with earlier runs: no overlay there
    let caption = (!a.no_overlay && a.bench_frames.is_none())
        .then(|| Caption::new(&model, &file, bookmark.as_ref().map(|b| &*b.name)));
    let data = ViewerData(Arc::new(model));
    let still = Still {
        layers,
        at,
        pose,
        size,
        caption,
    };
    if let Some(n) = a.bench_frames {
        let times = gridtwin_viewer::render::frame_times(data, &still, n)?;
        let ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let mut sorted = ms.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "frames {}  mean {:.1} ms  median {:.1} ms  min {:.1} ms  max {:.1} ms",
            ms.len(),
            ms.iter().sum::<f64>() / ms.len().max(1) as f64,
            sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
            sorted.first().copied().unwrap_or(0.0),
            sorted.last().copied().unwrap_or(0.0)
        );
        return Ok(());
    }
    if let Some(out) = a.screenshot {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        render_png(data, &still, &out)?;
        // "wrote" only for a file that holds an image
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if bytes == 0 {
            bail!("{}: the renderer wrote nothing", out.display());
        }
        println!("wrote {}", out.display());
        return Ok(());
    }
    gridtwin_viewer::app::run(data, file, still)
}

fn main() -> ExitCode {
    quiet_runtime_dir();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
