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
    // a window with no display is an error that says what to do, not a panic
    let o = Command::new(env!("CARGO_BIN_EXE_gridtwin-viewer"))
        .args(["--scene", "scenes/demo.toml"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--screenshot"));
    let o = run(&["--scene", "scenes/missing.toml", "--screenshot", "x.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scenes/missing.toml"));
    // issue 16: a still named .jpg printed "wrote" and left an empty file
    let o = run(&["--scene", "scenes/demo.toml", "--screenshot", "still.jpg"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".png"));
    assert!(!repo().join("still.jpg").exists());
}

/// The interactive window under a virtual X display (Xvfb), driven by xdotool as a
/// presenter would: P saves a screenshot, B hides the buildings, a click picks and
/// opens the info panel, Esc quits. `.ci/test` installs xvfb and xdotool.
#[test]
fn window_answers_keys_and_clicks() {
    let have = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    assert!(
        have("Xvfb") && have("xdotool"),
        "this test needs Xvfb and xdotool (Debian xvfb, xdotool; .ci/test installs them)"
    );
    let display = format!(":{}", 50 + std::process::id() % 400);
    let mut xvfb = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "800x600x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let tmp = tempfile::tempdir().unwrap();
    let scene = repo().join("scenes/demo.toml");
    let mut viewer = Command::new(env!("CARGO_BIN_EXE_gridtwin-viewer"))
        .args([
            "--scene",
            scene.to_str().unwrap(),
            "--size",
            "640x400",
            "--at",
            "10:00",
        ])
        .env("DISPLAY", &display)
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let xdo = |args: &[&str]| {
        Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &display)
            .output()
            .unwrap()
    };
    let wait_for = |what: &dyn Fn() -> bool, secs: u64| {
        let t = std::time::Instant::now();
        while t.elapsed().as_secs() < secs {
            if what() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        false
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut window = String::new();
        assert!(
            wait_for(
                &|| !xdo(&["search", "--name", "gridtwin"]).stdout.is_empty(),
                120
            ),
            "no viewer window appeared"
        );
        window.push_str(
            String::from_utf8_lossy(&xdo(&["search", "--name", "gridtwin"]).stdout)
                .lines()
                .next()
                .unwrap(),
        );
        xdo(&["windowfocus", "--sync", &window]);
        let shot = |n: u32| {
            let f = tmp.path().join(format!("gridtwin-view-{n:03}.png"));
            xdo(&["key", "p"]);
            assert!(
                wait_for(&|| f.exists() && image::open(&f).is_ok(), 120),
                "screenshot {n} was not written"
            );
            image::open(&f).unwrap().to_rgba8()
        };
        // let the first frames (shader compilation) pass
        std::thread::sleep(std::time::Duration::from_secs(3));
        let first = shot(1);
        assert_eq!((first.width(), first.height()), (640, 400));
        assert!(variance(&first) > 50.0);
        xdo(&["key", "b"]);
        std::thread::sleep(std::time::Duration::from_secs(2));
        let no_buildings = shot(2);
        assert!(
            changed(&first, &no_buildings) > 500,
            "B did not hide the buildings"
        );
        // a click in the middle picks something; the info panel opens top right
        xdo(&["mousemove", "--window", &window, "320", "230"]);
        std::thread::sleep(std::time::Duration::from_secs(1));
        xdo(&["click", "1"]);
        std::thread::sleep(std::time::Duration::from_secs(2));
        let picked = shot(3);
        let corner = |img: &image::RgbaImage| -> Vec<[u8; 4]> {
            (0..60)
                .flat_map(|y| (480..640).map(move |x| (x, y)))
                .map(|(x, y)| img.get_pixel(x, y).0)
                .collect()
        };
        let panel_changed = corner(&no_buildings)
            .iter()
            .zip(corner(&picked))
            .filter(|(a, b)| **a != *b)
            .count();
        assert!(
            panel_changed > 300,
            "no info panel after a click ({panel_changed} px)"
        );
        xdo(&["key", "Escape"]);
        let t = std::time::Instant::now();
        let exited = loop {
            if let Ok(Some(s)) = viewer.try_wait() {
                break s.success();
            }
            if t.elapsed().as_secs() > 60 {
                break false;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        };
        assert!(exited, "Esc did not close the viewer cleanly");
    }));
    let _ = viewer.kill();
    let _ = viewer.wait();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
