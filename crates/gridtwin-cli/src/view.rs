//! `gridtwin view`: opens the 3D viewer. The viewer is its own crate (Bevy builds
//! slowly and the rest of the CLI should not wait for it), so this runs the
//! `gridtwin-viewer` binary beside this one, building it first when it is missing.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::Args;

#[derive(Args)]
pub struct ViewArgs {
    /// Arguments for the viewer: --scene, --screenshot, --at, --bookmark, --size, --hide
    /// (see `gridtwin view --help-viewer`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// Print the viewer's own help.
    #[arg(long)]
    help_viewer: bool,
}

fn viewer_path() -> Result<PathBuf> {
    let me = std::env::current_exe().context("where is this program")?;
    Ok(me.with_file_name(format!("gridtwin-viewer{}", std::env::consts::EXE_SUFFIX)))
}

pub fn run(a: ViewArgs) -> Result<ExitCode> {
    let viewer = viewer_path()?;
    if !viewer.exists() {
        // Built from this workspace: build the viewer with the same profile.
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        if !workspace.join("Cargo.toml").exists() {
            bail!(
                "{} is missing; build it with `cargo build --release -p gridtwin-viewer`",
                viewer.display()
            );
        }
        let release = viewer
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n == "release");
        eprintln!("building the viewer once (Bevy; a few minutes) ...");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(&workspace)
            .args(["build", "-p", "gridtwin-viewer"]);
        if release {
            cargo.arg("--release");
        }
        let status = cargo
            .status()
            .context("running cargo to build the viewer")?;
        if !status.success() || !viewer.exists() {
            bail!("building the viewer failed; try `cargo build --release -p gridtwin-viewer`");
        }
    }
    let mut args = a.args;
    if a.help_viewer {
        args = vec!["--help".into()];
    }
    let status = Command::new(&viewer)
        .args(&args)
        .status()
        .with_context(|| format!("running {}", viewer.display()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(c.clamp(1, 255) as u8),
        None => ExitCode::from(2),
    })
}
