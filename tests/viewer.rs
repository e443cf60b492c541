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
    render_with(out, hide, &[])
}

fn render_with(out: &Path, hide: &[&str], extra: &[&str]) -> image::RgbaImage {
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
    args.extend(extra);
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

fn changed(a: &image::RgbaImage, b: &image::RgbaImage) -> usize {
    a.pixels().zip(b.pixels()).filter(|(x, y)| x != y).count()
}

/// Screenshots at two playback times differ, and only through the time-dependent
/// layers: with incidents and heat hidden the two times render the same picture.
#[test]
fn playback_times_differ_where_incidents_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let at = |name: &str, t: &str, hide: &[&str]| {
        render_with(
            &tmp.path().join(name),
            hide,
            &["--at", t, "--bookmark", "overview"],
        )
    };
    let night = at("night.png", "03:00", &[]);
    let noon = at("noon.png", "13:00", &[]);
    let n = changed(&night, &noon);
    assert!(n > 300, "03:00 and 13:00 differ in only {n} pixels");
    let hidden = ["incidents", "heat"];
    let night_bare = at("night_bare.png", "03:00", &hidden);
    let noon_bare = at("noon_bare.png", "13:00", &hidden);
    let bare = changed(&night_bare, &noon_bare);
    assert!(
        bare < 50,
        "without incidents and heat {bare} pixels still differ"
    );
    // and the incidents are what the noon picture adds
    assert!(changed(&noon, &noon_bare) > 300);
}

#[test]
fn bad_arguments_are_clear_errors() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gridtwin-viewer"))
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap()
    };
    let o = run(&[
        "--scene",
        "scenes/demo.toml",
        "--bookmark",
        "nowhere",
        "--screenshot",
        "x.png",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--bookmark `nowhere`") && err.contains("market-square"),
        "{err}"
    );
    let o = run(&[
        "--scene",
        "scenes/demo.toml",
        "--at",
        "9:75",
        "--screenshot",
        "x.png",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("9:75"));
    let o = run(&["--scene", "scenes/missing.toml", "--screenshot", "x.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scenes/missing.toml"));
}
