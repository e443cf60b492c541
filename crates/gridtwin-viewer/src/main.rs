//! `gridtwin-viewer`: render the city of a scene file.
//!
//! `gridtwin-viewer --scene scenes/demo.toml --screenshot out/demo.png [--size 1280x720] [--hide buildings]`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;
use gridtwin_viewer::render::{render_png, Layers};
use gridtwin_viewer::scene::{build, SceneFile};

#[derive(Parser)]
#[command(
    name = "gridtwin-viewer",
    version,
    about = "3D view of a gridtwin city"
)]
struct Args {
    /// Scene file (TOML): the city directory and styles.
    #[arg(long, default_value = "scenes/demo.toml")]
    scene: PathBuf,
    /// Render to this PNG and exit (headless: no window or display needed).
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Image size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    size: String,
    /// Layers to leave out: buildings, grids, components. Repeatable.
    #[arg(long)]
    hide: Vec<String>,
}

fn run() -> Result<()> {
    let a = Args::parse();
    let scene_file = SceneFile::load(&a.scene).map_err(anyhow::Error::msg)?;
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
    let mut layers = Layers::default();
    for l in &a.hide {
        match l.as_str() {
            "buildings" => layers.buildings = false,
            "grids" => layers.grids = false,
            "components" => layers.components = false,
            o => bail!("--hide `{o}`: expected buildings, grids or components"),
        }
    }
    let (city, _, _) =
        gridtwin_io::city_dir::load_city(&scene_file.city).map_err(anyhow::Error::msg)?;
    let scene = build(&city, &scene_file.style);
    let Some(out) = a.screenshot else {
        bail!("the interactive window is not built yet (issue 7); render a still with --screenshot FILE.png");
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    render_png(&scene, &scene_file.style, layers, size, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
