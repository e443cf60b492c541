//! Headless rendering of the demo scene (software Vulkan is enough: CI installs
//! Mesa's lavapipe). Checks the image is not blank, and that hiding a layer changes
//! pixels where that layer is drawn.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn render(out: &Path, hide: &[&str]) -> image::RgbaImage {
    let mut args = vec![
        "--scene",
        "scenes/demo.toml",
        "--screenshot",
        out.to_str().unwrap(),
        "--size",
        "320x180",
    ];
    for h in hide {
        args.extend(["--hide", h]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin-viewer"))
        .args(&args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    image::open(out).unwrap().to_rgba8()
}

fn variance(img: &image::RgbaImage) -> f64 {
    let n = (img.width() * img.height()) as f64;
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect();
    let m = lum.iter().sum::<f64>() / n;
    lum.iter().map(|l| (l - m).powi(2)).sum::<f64>() / n
}

#[test]
fn demo_scene_renders_and_layers_toggle() {
    let tmp = tempfile::tempdir().unwrap();
    let full = render(&tmp.path().join("full.png"), &[]);
    assert_eq!((full.width(), full.height()), (320, 180));
    assert!(
        variance(&full) > 50.0,
        "image looks blank: variance {}",
        variance(&full)
    );
    let no_buildings = render(&tmp.path().join("nob.png"), &["buildings"]);
    let changed = full
        .pixels()
        .zip(no_buildings.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 500,
        "hiding buildings changed only {changed} pixels"
    );
    // the same render twice is the same picture
    let again = render(&tmp.path().join("again.png"), &[]);
    let diff = full
        .pixels()
        .zip(again.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        diff < 50,
        "{diff} pixels differ between two identical renders"
    );
}
