//! Headless rendering of the demo scene (software Vulkan is enough: CI installs
//! Mesa's lavapipe). Checks the image is not blank, that hiding a layer changes
//! pixels where that layer is drawn, that stills carry their title, legend and scale
//! bar, and that a city's basemap is drawn (and a broken one refused).

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
        // as on a server or in CI: no runtime directory, and no `error:` line on success
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("error:"),
        "{}",
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
            // the bare scene: the clock and case count of the overlay differ by design
            &["--at", t, "--bookmark", "overview", "--no-overlay"],
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

/// Dark pixels (the overlay's panels) in a region of the picture.
fn dark_in(img: &image::RgbaImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> usize {
    y.flat_map(|y| x.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = img.get_pixel(x, y);
            // the panels are near-black over the light map; the map's own darks
            // (community lines, dark markers) are thin
            (p[0] as u32 + p[1] as u32 + p[2] as u32) < 300
        })
        .count()
}

/// Issue "Not slide-ready": a still carries its title, clock and legend in a panel on
/// the left and a scale bar under it; `--no-overlay` leaves the bare scene, whose
/// left edge is background (the framing keeps the city beside the panel).
#[test]
fn stills_carry_title_legend_and_scale_bar() {
    let tmp = tempfile::tempdir().unwrap();
    let with = render_with(&tmp.path().join("with.png"), &[], &["--at", "10:30"]);
    let bare = render_with(
        &tmp.path().join("bare.png"),
        &[],
        &["--at", "10:30", "--no-overlay"],
    );
    // 320x180: the panel is 290 + 2 x 12 UI pixels at a quarter scale, about 78 px
    let legend_with = dark_in(&with, 4..70, 4..120);
    let legend_bare = dark_in(&bare, 4..70, 4..120);
    assert!(
        legend_with > 3000 && legend_bare < 100,
        "legend corner: {legend_with} dark pixels with the overlay, {legend_bare} without"
    );
    // the scale bar's dark box, bottom left
    let bar = dark_in(&with, 2..60, 165..178);
    assert!(bar > 100, "no scale bar: {bar} dark pixels");
    // the panel holds text: light pixels in the dark
    let light = (4..70)
        .flat_map(|x| (4..120).map(move |y| (x, y)))
        .filter(|&(x, y)| with.get_pixel(x, y)[0] > 160)
        .count();
    assert!(
        light > 150,
        "the panel has no legible text ({light} light pixels)"
    );
}

/// A copy of the demo city in `dir` with the scene file `scene.toml` for it (no
/// playback); `basemap` becomes its `basemap.geojson` when given.
fn city_copy(dir: &Path, basemap: Option<&str>) -> PathBuf {
    let city = dir.join("city");
    std::fs::create_dir_all(&city).unwrap();
    for e in std::fs::read_dir(repo().join("data/helsinki/city")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() && e.file_name() != "basemap.geojson" {
            std::fs::copy(e.path(), city.join(e.file_name())).unwrap();
        }
    }
    if let Some(text) = basemap {
        std::fs::write(city.join("basemap.geojson"), text).unwrap();
    }
    let scene = dir.join("scene.toml");
    std::fs::write(&scene, "city = \"city\"\n").unwrap();
    scene
}

/// Water over the south-east of the demo city and a park in its north-west.
const SURFACES: &str = r#"
  {"type": "Feature", "properties": {"kind": "water"}, "geometry": {"type": "Polygon",
   "coordinates": [[[24.945, 60.164], [24.954, 60.164], [24.954, 60.170], [24.945, 60.164]]]}},
  {"type": "Feature", "properties": {"kind": "park"}, "geometry": {"type": "MultiPolygon",
   "coordinates": [[[[24.936, 60.172], [24.942, 60.172], [24.942, 60.178], [24.936, 60.178],
   [24.936, 60.172]]]]}}"#;
/// Two place names inside the demo city.
const PLACES: &str = r#"
  {"type": "Feature", "properties": {"kind": "place", "name": "Kamppi"},
   "geometry": {"type": "Point", "coordinates": [24.9385, 60.1690]}},
  {"type": "Feature", "properties": {"kind": "place", "name": "Kluuvi"},
   "geometry": {"type": "Point", "coordinates": [24.9460, 60.1725]}}"#;

fn feature_collection(features: &[&str]) -> String {
    format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [{}]}}",
        features.join(",")
    )
}

fn render_scene(scene: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gridtwin-viewer"))
        .args(["--scene", scene.to_str().unwrap(), "--size", "320x180"])
        .args(["--screenshot", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap()
}

/// A city with `basemap.geojson` shows its water and parks under the city and its
/// place names over it; without the file nothing changes and nothing fails; a broken
/// file is an error that names it.
#[test]
fn basemap_draws_water_parks_and_place_names() {
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = city_copy(plain_dir.path(), None);
    let with_dir = tempfile::tempdir().unwrap();
    let with = city_copy(
        with_dir.path(),
        Some(&feature_collection(&[SURFACES, PLACES])),
    );
    let shot = |scene: &Path, name: &str, extra: &[&str]| {
        let out = plain_dir.path().join(name);
        ok(&render_scene(scene, &out, extra));
        image::open(&out).unwrap().to_rgba8()
    };
    // the surfaces: compared bare, so only the basemap differs
    let a = shot(&plain, "plain.png", &["--no-overlay"]);
    let b = shot(&with, "with.png", &["--no-overlay"]);
    let surfaces = changed(&a, &b);
    assert!(surfaces > 800, "water and park changed {surfaces} pixels");
    // the names: the same basemap with and without its places, both with the overlay
    let no_places_dir = tempfile::tempdir().unwrap();
    let no_places = city_copy(no_places_dir.path(), Some(&feature_collection(&[SURFACES])));
    let a = shot(&no_places, "no_places.png", &[]);
    let b = shot(&with, "with_o.png", &[]);
    let labels = changed(&a, &b);
    assert!(labels > 30, "place names changed {labels} pixels");

    // a broken basemap: a clear error naming the file, no panic, no picture
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = city_copy(
        bad_dir.path(),
        Some(
            r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "water"},
         "geometry": {"type": "LineString", "coordinates": [[24.9, 60.1], [25.0, 60.2]]}}]}"#,
        ),
    );
    let out = bad_dir.path().join("bad.png");
    let o = render_scene(&bad, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("basemap.geojson") && err.contains("feature 1"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
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
