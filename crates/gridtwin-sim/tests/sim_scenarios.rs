//! Scenario files: errors naming file, line and key; overlays; path and size
//! limits; every shipped scene loads, builds and runs.

mod common;
use common::*;

#[test]
fn scenario_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo().join("scenes/baseline.toml").display().to_string();
    let bad_key = dir.path().join("bad_key.toml");
    std::fs::write(
        &bad_key,
        format!("base = \"{base}\"\n\n[discovery]\npatrol_intervall_hours = 2\n"),
    )
    .unwrap();
    let e = Scenario::load_with(&bad_key, gridtwin_sim::scenario::PathPolicy::Anywhere)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_key.toml") && e.contains("line 4") && e.contains("patrol_intervall_hours"),
        "{e}"
    );
    let bad_value = dir.path().join("bad_value.toml");
    std::fs::write(
        &bad_value,
        format!("base = \"{base}\"\n[discovery]\nhotline_probability = 1.5\n"),
    )
    .unwrap();
    let e = Scenario::load_with(&bad_value, gridtwin_sim::scenario::PathPolicy::Anywhere)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad_value.toml")
            && e.contains("discovery.hotline_probability")
            && e.contains("probability"),
        "{e}"
    );
    let bad_type = dir.path().join("bad_type.toml");
    std::fs::write(&bad_type, format!("base = \"{base}\"\ndays = \"seven\"\n")).unwrap();
    let e = Scenario::load_with(&bad_type, gridtwin_sim::scenario::PathPolicy::Anywhere)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad_type.toml") && e.contains("line 2"), "{e}");
}

#[test]
fn a_patrol_interval_under_a_second_is_an_error_naming_the_key() {
    // issue 14: 0.0001 h truncated to 0 s and divided by zero in the engine
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    for bad in ["0.0001", "1e9"] {
        let text = mmc_text(2.0, 30.0, 2, 1.0).replace(
            "patrol_interval_hours = 1",
            &format!("patrol_interval_hours = {bad}"),
        );
        std::fs::write(&p, text).unwrap();
        let Err(e) = Scenario::load(&p) else {
            panic!("{bad}: accepted");
        };
        let e = e.to_string();
        assert!(e.contains("discovery.patrol_interval_hours"), "{bad}: {e}");
    }
}

#[test]
fn an_overlay_s_distribution_replaces_the_base_s_whole() {
    // issue 14: `handle = {dist = "fixed", minutes = 30}` over the baseline's exp was
    // merged key by key and failed with "unknown field `mean`"
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fixed.toml");
    std::fs::write(
        &p,
        format!(
            "base = {:?}\nname = \"fixed handling\"\n[steps]\nhandle = {{ dist = \"fixed\", minutes = 30 }}\n",
            repo().join("scenes/baseline.toml").display().to_string()
        ),
    )
    .unwrap();
    let sc = Scenario::load_with(&p, gridtwin_sim::scenario::PathPolicy::Anywhere)
        .unwrap()
        .scenario;
    assert_eq!(
        sc.steps.handle,
        gridtwin_sim::scenario::Duration::Fixed { minutes: 30.0 }
    );
}

#[test]
fn a_scenario_may_not_name_files_far_from_it_nor_echo_them() {
    // issue 14: `base`, `calendar` and `flood.dem` reached anywhere on disk; errors
    // echoed the file's first line; base = "/dev/zero" read until memory ran out
    use gridtwin_sim::scenario::PathPolicy;
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "root:x:0:0:the first line\n").unwrap();
    let p = deep.join("s.toml");
    for (text, want) in [
        ("base = \"/etc/passwd\"\n", "outside"),
        ("base = \"../../secret.txt\"\n", "outside"),
        ("base = \"/dev/zero\"\n", "outside"),
        ("name = \"x\"\ncalendar = \"/etc/hostname\"\n", "outside"),
        (
            "name = \"x\"\n[flood]\ndem = \"../../../../../../../etc/hosts\"\n",
            "outside",
        ),
    ] {
        std::fs::write(&p, text).unwrap();
        let Err(e) = Scenario::load(&p) else {
            panic!("{text}: accepted");
        };
        let e = e.to_string();
        assert!(
            e.contains(want) && e.contains("--allow-outside-paths"),
            "{text}: {e}"
        );
    }
    // allowed: the file is read, bounded, and not echoed when it is not TOML
    std::fs::write(&p, "base = \"../../secret.txt\"\n").unwrap();
    let Err(e) = Scenario::load_with(&p, PathPolicy::Anywhere) else {
        panic!("accepted");
    };
    let e = e.to_string();
    assert!(e.contains("not a scenario") && !e.contains("root:x"), "{e}");
    std::fs::write(&p, "base = \"/dev/zero\"\n").unwrap();
    let Err(e) = Scenario::load_with(&p, PathPolicy::Anywhere) else {
        panic!("accepted");
    };
    assert!(e.to_string().contains("not a regular file"), "{e}");
    // the repository's own scenes name ../data: the folder above is allowed
    Scenario::load(&repo().join("scenes/rainstorm.toml")).unwrap();
}

#[test]
fn a_scenario_too_large_to_run_is_refused_naming_the_key_and_the_limit() {
    // issue 14: days = 1e9, per_day = 1e12, crews.count = 1e9, sample_minutes = 1e-9,
    // flood.hours = 4e9 ran out of memory or time
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    let base = mmc_text(2.0, 30.0, 2, 1.0);
    for (from, to, key) in [
        ("days = 1", "days = 1e9", "days"),
        ("per_day = 48", "per_day = 1e12", "arrivals.events"),
        ("count = 2", "count = 1000000000", "crews"),
        (
            "days = 1",
            "days = 1\nsample_minutes = 1e-9",
            "sample_minutes",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        std::fs::write(&p, base.replacen(from, to, 1)).unwrap();
        let Err(e) = Scenario::load(&p) else {
            panic!("{to}: accepted");
        };
        let e = e.to_string();
        assert!(e.contains(key) && e.contains("at "), "{to}: {e}");
    }
}

#[test]
fn every_shipped_scene_loads_builds_and_runs_a_day() {
    // (the megacity scenes need `gridtwin synth` output: loaded only)
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("scenes")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        // simulation scenarios (not the viewer's or `gridtwin fire`'s scenes)
        let table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        if !table.contains_key("base") && !table.contains_key("arrivals") {
            continue;
        }
        let mut sc = Scenario::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .scenario;
        n += 1;
        if !sc.city.join("code_rule.toml").exists() {
            continue;
        }
        sc.days = 1.0;
        sc.warmup_days = sc.warmup_days.min(0.5);
        let world = world_of(sc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = run(&world, 1, 0);
        assert_eq!(r.arrivals, r.cases.len(), "{}", path.display());
    }
    assert!(n >= 10, "{n} scenes");
}
