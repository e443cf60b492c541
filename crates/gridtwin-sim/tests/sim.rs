//! Correctness of the simulation: queueing truth (Erlang C), Little's law,
//! conservation, determinism across thread counts, and scenario-file errors.

use std::path::{Path, PathBuf};

use gridtwin_core::partition::{partition, PartitionPlan};
use gridtwin_core::{CategoryTable, City, CodeRule, Level};
use gridtwin_sim::engine::{run, World};
use gridtwin_sim::kpi::Estimate;
use gridtwin_sim::scenario::Scenario;
use gridtwin_sim::study::replicate;
use gridtwin_sim::timeline::write_csv;
use gridtwin_sim::WorkingCalendar;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn table(rule: &CodeRule) -> CategoryTable {
    CategoryTable::load(&repo().join("data/categories.csv"), rule).unwrap()
}

/// A small grid city with no roads.
fn square_city() -> City {
    let rule = CodeRule::national();
    let plan = PartitionPlan {
        district: rule.parse_area(Level::District, "990101").unwrap(),
        district_name: "t".into(),
        streets: (1, 1),
        communities: (2, 1),
        target_grid_m2: 250_000.0,
    };
    let extent = geo::Rect::new((24.93, 60.16), (24.95, 60.17));
    let mut c = City::new("t", rule);
    c.areas = partition(&rule, &plan, extent).unwrap();
    c
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::from_toml_str(
        "utc_offset_hours = 0\nweekdays = [\"00:00-24:00\"]\nweekend = [\"00:00-24:00\"]\n",
        "t",
    )
    .unwrap()
}

/// M/M/c: Poisson arrivals λ per hour, exponential handling of mean 60/μ minutes,
/// c crews, everything else instantaneous.
fn mmc(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64) -> Scenario {
    let text = mmc_text(lambda_per_h, mean_handle_min, c, days);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    Scenario::load(&p).unwrap().scenario
}

fn mmc_text(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64) -> String {
    format!(
        r#"
name = "M/M/c"
city = "."
calendar = "."
start = "2025-01-06T00:00:00Z"
days = {days}
# the loop starts empty: a discarded week brings it to its steady state
warmup_days = 7
[arrivals.events."0502"]
per_day = {per_day}
[discovery]
mode = "immediate"
patrol_interval_hours = 1
patrol_detect_probability = 1
hotline_probability = 0
hotline_delay = {{ dist = "fixed", minutes = 0 }}
sensor_delay = {{ dist = "fixed", minutes = 0 }}
[steps]
verify = {{ dist = "fixed", minutes = 0 }}
handle = {{ dist = "exp", mean = {mean_handle_min} }}
feedback = {{ dist = "fixed", minutes = 0 }}
check = {{ dist = "fixed", minutes = 0 }}
[dispatch]
owner_delay = {{ dist = "fixed", minutes = 0 }}
territory_delay = {{ dist = "fixed", minutes = 0 }}
negotiated_delay = {{ dist = "fixed", minutes = 0 }}
designated_delay = {{ dist = "fixed", minutes = 0 }}
[crews.police]
department = "Traffic Police"
count = {c}
[travel]
mode = "none"
"#,
        per_day = lambda_per_h * 24.0
    )
}

/// Erlang C: the mean wait in queue of M/M/c.
fn erlang_c_wait_min(lambda_per_h: f64, mean_handle_min: f64, c: u32) -> f64 {
    let mu = 60.0 / mean_handle_min; // per hour
    let a = lambda_per_h / mu;
    let rho = a / c as f64;
    let mut sum = 0.0;
    let mut term = 1.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    let p_wait = last / (sum + last);
    p_wait / (c as f64 * mu - lambda_per_h) * 60.0
}

#[test]
fn mean_wait_matches_erlang_c() {
    let city = square_city();
    let rule = city.rule;
    for (lambda, handle, c) in [(4.0, 30.0, 3), (5.0, 20.0, 2), (1.5, 60.0, 2)] {
        // A year per replication after a discarded week, 60 replications: the cases
        // still queued at the end are negligible against the year's waits. Checked at
        // 99.9 % (see `within`): at 95 % with seed 1, this setting missed while the
        // mean over twelve seeds was 13.33 min, Erlang C's 13.333.
        let world = World::new(
            mmc(lambda, handle, c, 365.0),
            &city,
            &table(&rule),
            calendar(),
        )
        .unwrap();
        let reps = replicate(&world, 1, 60, &|| {});
        let waits: Vec<f64> = reps
            .iter()
            .map(|(_, k)| k.values["crew_wait_mean_min"])
            .collect();
        let e = Estimate::of(&waits);
        let truth = erlang_c_wait_min(lambda, handle, c);
        assert!(
            within(&e, truth),
            "λ={lambda}/h, 1/μ={handle} min, c={c}: simulated {:.3} ± {:.3} min, Erlang C {truth:.3} min",
            e.mean,
            e.half_width
        );
    }
}

/// `truth` lies in the estimate's 99.9 % interval (3.29 standard errors where the 95 %
/// one is 1.96): the simulation tests make a dozen such assertions, and at 95 % each a
/// correct model would fail one run in two by chance; checked over many seeds
/// (12 for M/M/c, 8 for the rework fraction), the means were unbiased.
fn within(e: &Estimate, truth: f64) -> bool {
    (e.mean - truth).abs() <= e.half_width * 3.29 / 1.96
}

#[test]
fn erlang_c_formula_by_hand() {
    // c = 1 reduces to M/M/1: Wq = ρ / (μ − λ)
    let (l, m) = (1.0, 2.0); // per hour; mean handle 30 min
    assert!((erlang_c_wait_min(l, 30.0, 1) - (l / m) / (m - l) * 60.0).abs() < 1e-9);
}

fn demo() -> (World, Scenario) {
    let sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    (world_of(sc.clone()).unwrap(), sc)
}

/// The world of a scenario, with its city and calendar.
fn world_of(sc: Scenario) -> Result<World, gridtwin_sim::engine::WorldError> {
    let (city, table, _) = gridtwin_io::city_dir::load_city(&sc.city).unwrap();
    let cal = WorkingCalendar::load(&sc.calendar).unwrap();
    World::new(sc, &city, &table, cal)
}

/// The world of `scenes/NAME` with every check passing, for tests that follow each
/// crew from case to case through the timeline: a reworked case's earlier passes
/// (which crew went, from where) are not in it, only its last.
fn scene_without_rework(name: &str) -> World {
    let mut sc = Scenario::load(&repo().join("scenes").join(name))
        .unwrap()
        .scenario;
    sc.steps.check_failure = 0.0;
    sc.steps.check_failure_by_department.clear();
    world_of(sc).unwrap()
}

/// The world of `scenes/NAME`.
fn scene(name: &str) -> World {
    world_of(
        Scenario::load(&repo().join("scenes").join(name))
            .unwrap()
            .scenario,
    )
    .unwrap()
}

#[test]
fn littles_law_and_conservation_on_the_demo_city() {
    let (world, _) = demo();
    for (rep, k) in replicate(&world, 5, 3, &|| {}).iter() {
        // conservation: every generated incident is in the timeline, closed or open
        let records = rep.records();
        assert_eq!(rep.arrivals, records.len());
        for c in &records {
            let steps = [
                Some(c.occurred_at),
                c.intake_at,
                c.verified_at,
                c.dispatched_at,
                c.assigned_at,
                c.arrived_at,
                c.handled_at,
                c.feedback_at,
            ];
            let present: Vec<i64> = steps.iter().flatten().copied().collect();
            assert!(present.windows(2).all(|w| w[0] <= w[1]), "{c:?}");
            if let Some(closed) = c.closed_at {
                assert!(c.intake_at.is_some_and(|i| i <= closed) && !c.closed_by.is_empty());
            }
        }
        // Little: time-average backlog (hourly samples) = arrival rate × mean time in system
        let l = k.values["backlog_mean"];
        let lw = k.values["arrival_rate_per_h"] * k.values["time_in_system_mean_h"];
        assert!((l - lw).abs() / lw < 0.1, "L = {l}, λW = {lw}");
    }
}

fn timeline_bytes(world: &World, threads: usize) -> Vec<Vec<u8>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        replicate(world, 3, 4, &|| {})
            .into_iter()
            .map(|(r, _)| {
                let mut v = Vec::new();
                gridtwin_sim::local_time::with_offset(world.utc_offset_s(), || {
                    write_csv(&r.records(), &mut v).unwrap()
                });
                // the parallel block writer gives the same bytes
                assert_eq!(r.timeline_csv().unwrap(), v);
                v
            })
            .collect()
    })
}

#[test]
fn same_timeline_bytes_at_one_and_two_threads_and_a_no_op_overlay_changes_nothing() {
    let (world, _) = demo();
    let one = timeline_bytes(&world, 1);
    assert_eq!(one, timeline_bytes(&world, 2));
    // an overlay that only renames the scenario
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("same.toml");
    std::fs::write(
        &overlay,
        format!(
            "base = \"{}\"\nname = \"renamed\"\n",
            repo().join("scenes/baseline.toml").display()
        ),
    )
    .unwrap();
    // (a temporary overlay over the repository's baseline: allowed explicitly)
    let sc = Scenario::load_with(&overlay, gridtwin_sim::scenario::PathPolicy::Anywhere)
        .unwrap()
        .scenario;
    let (city, table, _) = gridtwin_io::city_dir::load_city(&sc.city).unwrap();
    let w2 = World::new(
        sc.clone(),
        &city,
        &table,
        WorkingCalendar::load(&sc.calendar).unwrap(),
    )
    .unwrap();
    assert_eq!(one, timeline_bytes(&w2, 2));
    // and a real what-if changes results but not the arriving incidents
    let sc = Scenario::load(&repo().join("scenes/whatif_double_patrol.toml"))
        .unwrap()
        .scenario;
    let w3 = World::new(
        sc.clone(),
        &city,
        &table,
        WorkingCalendar::load(&sc.calendar).unwrap(),
    )
    .unwrap();
    let (a, b) = (run(&world, 3, 0), run(&w3, 3, 0));
    let occurred = |r: &gridtwin_sim::engine::Replication| {
        r.records()
            .iter()
            .map(|c| (c.occurred_at, c.category.clone(), c.grid_code.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(occurred(&a), occurred(&b));
    assert_ne!(a.records(), b.records());
}

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
fn straight_line_travel_and_shift_starts_by_hand() {
    // One crew on 08:00-12:00 UTC, straight-line travel at 10 m/s with detour 1.5.
    let text = mmc_text(1.0, 20.0, 1, 3.0)
        .replace(
            "mode = \"none\"",
            "mode = \"straight\"\nstraight_speed_kmh = 36\ndetour_factor = 1.5",
        )
        .replace("count = 1", "count = 1\nshift = \"08:00-12:00\"");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    let sc = Scenario::load(&p).unwrap().scenario;
    assert_eq!(sc.travel.mode, gridtwin_sim::scenario::TravelMode::Straight);
    let city = square_city();
    let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
    let rep = run(&world, 1, 0);
    let mut taken: Vec<_> = rep
        .records()
        .into_iter()
        .filter(|c| c.assigned_at.is_some())
        .collect();
    taken.sort_by_key(|c| c.assigned_at);
    assert!(taken.len() > 10, "{}", taken.len());
    let hour = |t: i64| t.rem_euclid(86_400) / 3600;
    // work is taken only on shift, and night arrivals wait for 08:00 exactly
    assert!(taken
        .iter()
        .all(|c| (8..12).contains(&hour(c.assigned_at.unwrap()))));
    assert!(taken
        .iter()
        .any(|c| c.assigned_at.unwrap().rem_euclid(86_400) == 8 * 3600));
    // from one case to the next the crew travels the straight line × 1.5 at 10 m/s
    for w in taken.windows(2) {
        let d = gridtwin_core::coord::haversine_m(w[0].lon, w[0].lat, w[1].lon, w[1].lat);
        let tt = w[1].arrived_at.unwrap() - w[1].assigned_at.unwrap();
        assert!(
            (tt as f64 - d * 1.5 / 10.0).abs() <= 1.0,
            "{tt} s for {d:.1} m"
        );
    }
}

#[test]
fn a_rainstorm_closes_roads_mid_run_and_crews_take_the_graph_s_detours() {
    let (storm, base) = (
        scene_without_rework("rainstorm.toml"),
        scene("baseline.toml"),
    );
    assert!(storm.closure_states() > 1, "the storm closes roads");
    assert_eq!(base.closure_states(), 1);
    let rep = run(&storm, 7, 0);
    let cases = rep.records();
    let start = storm.start();
    // crews stuck on cut-off cases work round the clock: the part past their shift is
    // overtime, and utilisation of the shift stays at most 1
    let mut overtime = 0;
    for c in &rep.crews {
        assert!(
            c.overtime_secs >= 0 && c.overtime_secs <= c.busy_secs,
            "{c:?}"
        );
        assert!(c.busy_secs - c.overtime_secs <= c.on_shift_secs, "{c:?}");
        overtime += c.overtime_secs;
    }
    assert!(overtime > 0);
    // each closure hour raises emergency waterlogging cases at that exact time
    let hazard: Vec<_> = cases
        .iter()
        .filter(|c| {
            c.category.as_ref() == "0401"
                && (c.occurred_at - start) % 3600 == 0
                && (31..=34).contains(&((c.occurred_at - start) / 3600))
        })
        .collect();
    assert!(hazard.len() > 10, "{}", hazard.len());
    // every trip a crew makes from one case to its next takes exactly the time of the
    // shortest path on the roads open when it set off
    let mut by_crew: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
    for c in cases
        .iter()
        .filter(|c| c.assigned_at.is_some() && c.arrived_at.is_some())
    {
        by_crew.entry(c.crew.as_ref()).or_default().push(c);
    }
    let (mut checked, mut rerouted, mut cut_off) = (0, 0, 0);
    for trips in by_crew.values_mut() {
        trips.sort_by_key(|c| c.assigned_at);
        for w in trips.windows(2) {
            let t = w[1].assigned_at.unwrap();
            let took = w[1].arrived_at.unwrap() - t;
            let expected = storm.travel_secs_at(t, (w[0].lon, w[0].lat), (w[1].lon, w[1].lat));
            assert_eq!(took, expected, "crew {} at {t}", w[1].crew);
            checked += 1;
            let open = base.travel_secs_at(t, (w[0].lon, w[0].lat), (w[1].lon, w[1].lat));
            if open != expected {
                assert!(t >= start + 31 * 3600, "detour before the first closure");
                rerouted += 1;
            }
            // a place cut off by closures is not reached until a road reopens: the
            // crew waits exactly until the first closure change that lets it through
            let (from, to) = ((w[0].lon, w[0].lat), (w[1].lon, w[1].lat));
            if w[1].cut_off_s > 0 {
                cut_off += 1;
                assert!(storm.cut_off_at(t, from, to) && !base.cut_off_at(t, from, to));
                let go = t + w[1].cut_off_s;
                assert!(!storm.cut_off_at(go, from, to), "{}", w[1].case_id);
                assert!(storm.cut_off_at(go - 1, from, to), "{}", w[1].case_id);
                assert_eq!(took - w[1].cut_off_s, storm.travel_secs_at(go, from, to));
            } else {
                assert!(!storm.cut_off_at(t, from, to), "{}", w[1].case_id);
            }
        }
    }
    assert!(
        checked > 100 && rerouted > 0,
        "{checked} trips, {rerouted} rerouted"
    );
    eprintln!("{cut_off} trips waited for a road to reopen");

    // a closure of a road the city does not have is an error naming it
    let mut sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    sc.closures.push(gridtwin_sim::scenario::Closure {
        at_hours: 1.0,
        until_hours: None,
        roads: vec!["way/nope".into()],
    });
    let e = world_of(sc).err().unwrap();
    assert!(
        e.to_string().contains("closures[0]: road `way/nope`"),
        "{e}"
    );
    // a reader's failure is the error's cause, the key the error's own message
    let mut sc = Scenario::load(&repo().join("scenes/rainstorm.toml"))
        .unwrap()
        .scenario;
    sc.flood.as_mut().unwrap().dem = repo().join("no/such/dem.asc");
    let e = world_of(sc).err().unwrap();
    assert!(
        matches!(e, gridtwin_sim::engine::WorldError::FloodDem(_)),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "flood.dem");
    let cause = std::error::Error::source(&e)
        .expect("the reader's error")
        .to_string();
    assert!(cause.contains("dem.asc"), "{cause}");
    assert_eq!(e.with_causes(), format!("flood.dem: {cause}"));
}

#[test]
fn a_fire_closes_roads_while_it_burns_and_raises_an_emergency_case() {
    let world = scene("fire_day.toml");
    let t0 = world.start() + 34 * 3600;
    let step = 5 * 60;
    assert_eq!(world.roads_closed_at(t0 - 1), 0);
    assert!(world.roads_closed_at(t0 + 6 * step) > 0);
    // every closure ends by the step after the fire's last
    assert_eq!(world.roads_closed_at(t0 + 38 * step), 0);
    let rep = run(&world, 3, 0);
    let fire_cases: Vec<_> = rep
        .records()
        .into_iter()
        .filter(|c| c.category.as_ref() == "0402" && c.occurred_at == t0)
        .collect();
    assert_eq!(fire_cases.len(), 1);
    // taken by a fire and rescue unit, who travelled there
    let f = &fire_cases[0];
    assert!(f.crew.starts_with("fire_rescue-"), "{f:?}");
    assert!(f.arrived_at.is_some());
    // the same fire in every replication and run
    let again = scene("fire_day.toml");
    for k in 0..40 {
        let t = t0 + k * step;
        assert_eq!(world.roads_closed_at(t), again.roads_closed_at(t));
    }
}

#[test]
fn emergencies_preempt_routine_work_when_no_crew_is_free() {
    // One traffic police crew: routine parking cases (long jobs) and traffic accidents
    // at emergency priority 3.
    let world_for = |preempt: bool| {
        let mut t = mmc_text(2.0, 120.0, 1, 20.0).replace(
            "[discovery]",
            "[arrivals.events.\"0403\"]\nper_day = 2\npriority = 3\n\n[discovery]",
        );
        if preempt {
            t = t.replace(
                "designated_delay = { dist = \"fixed\", minutes = 0 }",
                "designated_delay = { dist = \"fixed\", minutes = 0 }\npreempt_at_priority = 2",
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, t).unwrap();
        let sc = Scenario::load(&p).unwrap().scenario;
        assert_eq!(sc.dispatch.preempt_at_priority.is_some(), preempt);
        let city = square_city();
        World::new(sc, &city, &table(&city.rule), calendar()).unwrap()
    };
    let with = run(&world_for(true), 4, 0).records();
    let without = run(&world_for(false), 4, 0).records();
    let accidents = |r: &[gridtwin_sim::timeline::CaseRecord]| {
        r.iter()
            .filter(|c| c.category.as_ref() == "0403" && c.dispatched_at.is_some())
            .map(|c| c.assigned_at.map(|a| a - c.dispatched_at.unwrap()))
            .collect::<Vec<_>>()
    };
    let (aw, ao) = (accidents(&with), accidents(&without));
    assert!(aw.len() > 20, "{}", aw.len());
    // with pre-emption an accident waits only when the crew is on another accident
    let waited_with = aw.iter().filter(|w| **w != Some(0)).count();
    let waited_without = ao.iter().filter(|w| **w != Some(0)).count();
    assert!(
        waited_with * 3 < waited_without,
        "with {waited_with}, without {waited_without}"
    );
    for c in with.iter().filter(|c| c.category.as_ref() == "0403") {
        if let (Some(d), Some(a)) = (c.dispatched_at, c.assigned_at) {
            if a > d {
                // from d until a the crew was on other accidents, one after another
                let mut spans: Vec<(i64, i64)> = with
                    .iter()
                    .filter(|o| o.category.as_ref() == "0403" && o.case_id != c.case_id)
                    .filter_map(|o| Some((o.assigned_at?, o.handled_at?)))
                    .filter(|&(x, h)| x < a && h > d)
                    .collect();
                spans.sort();
                let mut covered = d;
                for (x, h) in spans {
                    assert!(
                        x <= covered,
                        "{} waited with the crew free at {covered}",
                        c.case_id
                    );
                    covered = covered.max(h);
                }
                assert!(covered >= a, "{}", c.case_id);
            }
        }
    }
    // pre-empted routine cases went back to the queue and were finished later, and
    // no case was lost
    let pre: Vec<_> = with.iter().filter(|c| c.preempted > 0).collect();
    assert!(!pre.is_empty());
    assert!(pre.iter().all(|c| c.category.as_ref() == "0502"));
    assert!(without.iter().all(|c| c.preempted == 0));
    assert_eq!(with.len(), without.len());
    for c in &with {
        if let (Some(a), Some(h)) = (c.assigned_at, c.handled_at) {
            assert!(a <= h);
        }
    }
}

#[test]
fn signal_priority_contention_is_decided_by_the_rule_logged_and_counted() {
    let world = scene_without_rework("signal_contention.toml");
    let a = run(&world, 2, 0);
    let b = run(&world, 2, 0);
    assert_eq!(a.contention, b.contention, "the log is deterministic");
    assert!(a.contention.len() > 5, "{}", a.contention.len());
    for d in &a.contention {
        let wins = (
            d.winner_priority,
            std::cmp::Reverse(d.winner_departed),
            std::cmp::Reverse(&d.winner_case),
        ) > (
            d.loser_priority,
            std::cmp::Reverse(d.loser_departed),
            std::cmp::Reverse(&d.loser_case),
        );
        assert!(wins, "{d:?}");
        assert!(d.delay_s == 25 || d.delay_s == 0);
    }
    let cases = a.records();
    // the two-ambulance case: ambulances (medical emergencies, 0406) meeting at a
    // signal tie on priority, so the one that set off first goes
    let case_of: std::collections::BTreeMap<&str, _> =
        cases.iter().map(|c| (c.case_id.as_str(), c)).collect();
    let ambulances: Vec<_> = a
        .contention
        .iter()
        .filter(|d| {
            [&d.winner_case, &d.loser_case]
                .iter()
                .all(|id| case_of[id.as_str()].category.as_ref() == "0406")
        })
        .collect();
    assert!(!ambulances.is_empty(), "no two ambulances met at a signal");
    for d in ambulances {
        for id in [&d.winner_case, &d.loser_case] {
            assert!(case_of[id.as_str()].crew.starts_with("ambulance"), "{d:?}");
        }
        assert_eq!(d.winner_priority, d.loser_priority);
        assert!(
            (d.winner_departed, &d.winner_case) < (d.loser_departed, &d.loser_case),
            "{d:?}"
        );
    }
    // every trip's time at a signal is its path's time there plus the waits it had at
    // the signals before on its path — whether it lost as the later trip or (issue 15)
    // as the earlier one, whose later requests then move with it
    let mut by_crew: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
    for c in cases.iter().filter(|c| c.assigned_at.is_some()) {
        by_crew.entry(c.crew.as_ref()).or_default().push(c);
    }
    let mut trip_of: std::collections::BTreeMap<&str, ((f64, f64), i64)> = Default::default();
    for trips in by_crew.values_mut() {
        if trips.iter().any(|c| c.preempted > 0) {
            continue; // a crew taken off a trip stands somewhere between two places
        }
        trips.sort_by_key(|c| c.assigned_at);
        for w in trips.windows(2) {
            let go = w[1].assigned_at.unwrap() + w[1].cut_off_s;
            trip_of.insert(w[1].case_id.as_str(), ((w[0].lon, w[0].lat), go));
        }
    }
    let (mut seen, mut shifted_earlier) = (0, 0);
    for (i, d) in a.contention.iter().enumerate() {
        for (id, at) in [(&d.winner_case, d.winner_at), (&d.loser_case, d.loser_at)] {
            let Some(&(from, go)) = trip_of.get(id.as_str()) else {
                continue;
            };
            let to = (case_of[id.as_str()].lon, case_of[id.as_str()].lat);
            let path = world.signal_times(go, from, to);
            let base = path.iter().find(|p| p.0 == d.node).expect("on its path").1;
            // the waits decided before this decision (the log is in decision order;
            // a wait decided later, at an earlier signal, moves the trip after this
            // decision was taken: the first-order rule does not revisit it)
            let waited: i64 = a.contention[..i]
                .iter()
                .filter(|e| &e.loser_case == id && e.delay_s > 0)
                .filter(|e| path.iter().any(|p| p.0 == e.node && p.1 < base))
                .map(|e| e.delay_s)
                .sum();
            assert_eq!(at, base + waited, "{id} at signal {} ({d:?})", d.node);
            seen += 1;
            shifted_earlier += a.contention.iter().any(|e| {
                &e.loser_case == id
                    && e.delay_s > 0
                    && e.at != e.loser_at
                    && path.iter().any(|p| p.0 == e.node && p.1 < base)
            }) as usize;
        }
    }
    assert!(seen > 5, "{seen}");
    eprintln!("{seen} signal times checked, {shifted_earlier} after a wait as the earlier trip");
    // the timeline carries exactly the logged delays, and the KPI sums them
    let mut logged: std::collections::BTreeMap<&str, i64> = Default::default();
    for d in &a.contention {
        *logged.entry(d.loser_case.as_str()).or_default() += d.delay_s;
    }
    for c in &cases {
        assert_eq!(
            c.signal_delay_s,
            logged.get(c.case_id.as_str()).copied().unwrap_or(0)
        );
    }
    // the KPI sums the cases taken in inside the window (after the warm-up)
    let total: i64 = cases
        .iter()
        .filter(|c| c.intake_at.is_some_and(|i| i >= world.start()))
        .map(|c| logged.get(c.case_id.as_str()).copied().unwrap_or(0))
        .sum();
    assert!(total > 0);
    let s = &world.scenario;
    let k = gridtwin_sim::kpi::compute(
        &a.cases,
        &a.crews,
        gridtwin_sim::kpi::KpiSettings {
            start: world.start(),
            end: world.end(),
            sample_secs: 3600,
            repeat_radius_m: s.repeat_radius_m,
            repeat_window_secs: 3600,
        },
    );
    assert_eq!(k.values["signal_delay_total_min"], total as f64 / 60.0);
    // and each trip took the graph's time plus its signal delay
    let mut by_crew: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
    for c in cases
        .iter()
        .filter(|c| c.assigned_at.is_some() && c.arrived_at.is_some())
    {
        by_crew.entry(c.crew.as_ref()).or_default().push(c);
    }
    for trips in by_crew.values_mut() {
        trips.sort_by_key(|c| c.assigned_at);
        for w in trips.windows(2) {
            let t = w[1].assigned_at.unwrap();
            let took = w[1].arrived_at.unwrap() - t;
            let graph = world.travel_secs_at(t, (w[0].lon, w[0].lat), (w[1].lon, w[1].lat));
            assert_eq!(took, graph + w[1].signal_delay_s, "{}", w[1].case_id);
        }
    }
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
fn a_place_cut_off_by_closures_waits_for_the_reopening_and_the_wait_is_counted() {
    // Issue 15: every road within 250 m of a point in the demo city closes from hour
    // 30 to hour 40. Cases there are unreachable meanwhile (not reached by a straight
    // line): the crew waits for the reopening, the timeline carries the wait as
    // cut_off_s and the KPI cut_off_total_min sums it.
    use geo::{Distance, Haversine};
    let mut sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    // every crew's trips in the timeline (see scene_without_rework)
    sc.steps.check_failure = 0.0;
    let (city, _, _) = gridtwin_io::city_dir::load_city(&sc.city).unwrap();
    let centre = geo::Point::new(24.944, 60.172);
    let roads: Vec<String> = city
        .roads
        .iter()
        .filter(|r| {
            r.line
                .points()
                .any(|p| Haversine.distance(p, centre) < 250.0)
        })
        .map(|r| r.id.clone())
        .collect();
    assert!(roads.len() > 10, "{}", roads.len());
    sc.closures.push(gridtwin_sim::scenario::Closure {
        at_hours: 30.0,
        until_hours: Some(40.0),
        roads,
    });
    let world = world_of(sc).unwrap();
    let (t_close, t_open) = (world.start() + 30 * 3600, world.start() + 40 * 3600);
    let rep = run(&world, 3, 0);
    let cases = rep.records();
    let mut by_crew: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
    for c in cases.iter().filter(|c| c.assigned_at.is_some()) {
        by_crew.entry(c.crew.as_ref()).or_default().push(c);
    }
    let mut waited = 0;
    for trips in by_crew.values_mut() {
        trips.sort_by_key(|c| c.assigned_at);
        for w in trips.windows(2) {
            let (t, from, to) = (
                w[1].assigned_at.unwrap(),
                (w[0].lon, w[0].lat),
                (w[1].lon, w[1].lat),
            );
            if w[1].cut_off_s > 0 {
                waited += 1;
                // cut off when the crew took it, and exactly until the reopening
                assert!((t_close..t_open).contains(&t), "{}", w[1].case_id);
                assert!(world.cut_off_at(t, from, to));
                assert_eq!(t + w[1].cut_off_s, t_open, "{}", w[1].case_id);
                if let Some(arrived) = w[1].arrived_at {
                    assert_eq!(arrived, t_open + world.travel_secs_at(t_open, from, to));
                }
            } else if (t_close..t_open).contains(&t) {
                assert!(!world.cut_off_at(t, from, to), "{}", w[1].case_id);
            }
        }
    }
    assert!(
        waited > 0,
        "no case lay in the cut-off area while it was closed"
    );
    let total: i64 = cases.iter().map(|c| c.cut_off_s).sum();
    let s = &world.scenario;
    let k = gridtwin_sim::kpi::compute(
        &rep.cases,
        &rep.crews,
        gridtwin_sim::kpi::KpiSettings {
            start: world.start(),
            end: world.end(),
            sample_secs: 3600,
            repeat_radius_m: s.repeat_radius_m,
            repeat_window_secs: 3600,
        },
    );
    assert_eq!(k.values["cut_off_total_min"], total as f64 / 60.0);
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
fn every_non_hazard_incident_draws_the_same_in_baseline_and_rainstorm() {
    // Common random numbers keyed by incident identity (source, number in the source),
    // not by place in the arrival list: the storm's waterlogging cases must not shift
    // any other incident's discovery, verification, ladder or handling draws.
    let (storm, base) = (scene("rainstorm.toml"), scene("baseline.toml"));
    let (a, b) = (run(&base, 3, 0).records(), run(&storm, 3, 0).records());
    type Key = (i64, String, String, u64, u64);
    let key = |c: &gridtwin_sim::timeline::CaseRecord| -> Key {
        (
            c.occurred_at,
            c.kind.to_string(),
            c.category.to_string(),
            c.lon.to_bits(),
            c.lat.to_bits(),
        )
    };
    let in_storm: std::collections::HashMap<Key, &gridtwin_sim::timeline::CaseRecord> =
        b.iter().map(|c| (key(c), c)).collect();
    assert!(b.len() > a.len() + 10, "the storm adds cases");
    let span = |x: Option<i64>, y: Option<i64>| Some(y? - x?);
    let (mut handled, mut matched) = (0, 0);
    for c in &a {
        let s = in_storm
            .get(&key(c))
            .unwrap_or_else(|| panic!("{} of the baseline is not in the storm", c.case_id));
        matched += 1;
        assert_eq!(
            (c.intake_at, &c.source),
            (s.intake_at, &s.source),
            "discovery"
        );
        assert_eq!(
            span(c.intake_at, c.verified_at),
            span(s.intake_at, s.verified_at),
            "verification of {}",
            c.case_id
        );
        assert_eq!(c.ladder, s.ladder, "ladder of {}", c.case_id);
        if c.closed_by.starts_with("compliance") || s.closed_by.starts_with("compliance") {
            assert_eq!(c.closed_by, s.closed_by);
        }
        if c.preempted == 0 && s.preempted == 0 && c.handled_at.is_some() && s.handled_at.is_some()
        {
            assert_eq!(
                span(c.arrived_at, c.handled_at),
                span(s.arrived_at, s.handled_at),
                "handling of {}",
                c.case_id
            );
            handled += 1;
        }
    }
    assert_eq!(matched, a.len());
    // (the storm leaves many cases pre-empted or still open at the end)
    assert!(handled > a.len() / 3, "{handled} of {}", a.len());
}

/// M/M/c whose checks fail with probability `r` (the case goes back to the queue).
fn mmc_rework(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64, r: f64) -> Scenario {
    let text = mmc_text(lambda_per_h, mean_handle_min, c, days).replace(
        "check = { dist = \"fixed\", minutes = 0 }",
        &format!("check = {{ dist = \"fixed\", minutes = 0 }}\ncheck_failure = {r}"),
    );
    assert!(text.contains("check_failure"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    Scenario::load(&p).unwrap().scenario
}

#[test]
fn failed_checks_send_cases_back_and_the_queue_is_erlang_c_at_the_fed_back_rate() {
    // Check failure r: a case is handled a geometric number of times, mean 1/(1−r);
    // the queue sees λ/(1−r) (Jackson) and waits as M/M/c at that rate.
    let city = square_city();
    let rule = city.rule;
    for (lambda, handle, c, r) in [(2.0, 30.0, 3, 0.25), (3.0, 20.0, 2, 0.1)] {
        let world = World::new(
            mmc_rework(lambda, handle, c, 365.0, r),
            &city,
            &table(&rule),
            calendar(),
        )
        .unwrap();
        let reps = replicate(&world, 5, 20, &|| {});
        let mut passes = Vec::new();
        let mut rates = Vec::new();
        let mut waits = Vec::new();
        for (rep, k) in &reps {
            let recs = rep.records();
            // cases taken in over the first 300 days: all closed by the year's end, so
            // the count is not censored towards cases with fewer passes
            let cut = world.start() + 300 * 86_400;
            let closed: Vec<_> = recs
                .iter()
                .filter(|c| c.intake_at.is_some_and(|i| i >= world.start() && i < cut))
                .inspect(|c| assert!(c.closed_at.is_some(), "{}", c.case_id))
                .collect();
            let p = closed.iter().map(|c| 1.0 + c.rework as f64).sum::<f64>() / closed.len() as f64;
            passes.push(p);
            rates.push(k.values["rework_rate"]);
            waits.push(k.values["crew_wait_mean_min"]);
        }
        let (p, rr, w) = (
            Estimate::of(&passes),
            Estimate::of(&rates),
            Estimate::of(&waits),
        );
        let want_passes = 1.0 / (1.0 - r);
        assert!(
            within(&p, want_passes),
            "r={r}: {:.4} ± {:.4} passes, 1/(1−r) = {want_passes:.4}",
            p.mean,
            p.half_width
        );
        assert!(
            within(&rr, r),
            "r={r}: rework rate {:.4} ± {:.4}",
            rr.mean,
            rr.half_width
        );
        let truth = erlang_c_wait_min(lambda / (1.0 - r), handle, c);
        assert!(
            within(&w, truth),
            "λ={lambda}/h, r={r}: wait {:.3} ± {:.3} min, Erlang C at λ/(1−r) {truth:.3} min",
            w.mean,
            w.half_width
        );
        // and not at λ: the feedback matters
        assert!(!within(&w, erlang_c_wait_min(lambda, handle, c)));
    }
}

/// Day-by-day mean backlog over replications: (day 0, the later days' values).
fn daily_backlog(world: &World) -> (f64, Vec<f64>) {
    let reps = replicate(world, 1, 10, &|| {});
    let days = ((world.end() - world.start()) / 86_400) as usize;
    let mut per_day = vec![0.0; days];
    for (_, k) in &reps {
        for &(t, n) in &k.backlog {
            let d = ((t - world.start()) / 86_400) as usize;
            per_day[d] += n as f64 / 24.0 / reps.len() as f64;
        }
    }
    (per_day[0], per_day[1..].to_vec())
}

#[test]
fn with_the_warm_up_discarded_day_0_looks_like_the_later_days() {
    // The loop starts empty: without a warm-up day 0's backlog is well below the later
    // days'; with the baseline's two discarded days it lies inside their 95 % interval.
    let (day0, later) = daily_backlog(&scene("baseline.toml"));
    let e = Estimate::of(&later);
    assert!(
        e.lo() <= day0 && day0 <= e.hi(),
        "day 0: {day0:.2}, later days {:.2} ± {:.2}",
        e.mean,
        e.half_width
    );
    let mut sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    assert!(sc.warmup_days > 0.0);
    sc.warmup_days = 0.0;
    let (cold, later) = daily_backlog(&world_of(sc).unwrap());
    let e = Estimate::of(&later);
    assert!(
        cold < e.lo(),
        "from empty, day 0: {cold:.2}, later days {:.2} ± {:.2}",
        e.mean,
        e.half_width
    );
}

#[test]
fn returns_follow_a_truncated_geometric_distribution() {
    // Duty-list cases returned (退单) with probability p, designated after k returns:
    // P(R = j) = p^j (1 − p) for j < k, P(R = k) = p^k.
    let (p, k) = (0.4f64, 3u32);
    let text = mmc_text(3.0, 20.0, 4, 60.0).replace(
        "designated_delay = { dist = \"fixed\", minutes = 0 }",
        &format!(
            "designated_delay = {{ dist = \"fixed\", minutes = 0 }}\nreturn_probability = {p}\ndesignate_after = {k}\nhop_delay = {{ dist = \"fixed\", minutes = 10 }}\n[dispatch.routing]\n\"0502\" = \"owner\""
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let sc = Scenario::load(&path).unwrap().scenario;
    let city = square_city();
    let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
    let cases: Vec<_> = replicate(&world, 2, 4, &|| {})
        .into_iter()
        .flat_map(|(r, _)| r.records())
        .filter(|c| c.dispatched_at.is_some())
        .collect();
    let n = cases.len() as f64;
    assert!(n > 10_000.0, "{n}");
    for j in 0..=k {
        let want = if j < k {
            p.powi(j as i32) * (1.0 - p)
        } else {
            p.powi(k as i32)
        };
        let got = cases.iter().filter(|c| c.returns == j).count() as f64 / n;
        let sd = (want * (1.0 - want) / n).sqrt();
        assert!(
            (got - want).abs() < 4.0 * sd,
            "P(R = {j}): {got:.4}, truncated geometric {want:.4}"
        );
        // each return is two hand-overs of 10 min (back, and sent again)
        for c in cases.iter().filter(|c| c.returns == j) {
            assert_eq!(c.dispute_s, 2 * 600 * j as i64, "{}", c.case_id);
        }
    }
    assert!(cases.iter().all(|c| c.returns <= k && !c.forwarded));
}

/// Mean minutes from verification to dispatch of street-lamp failures.
fn lamp_dispatch_min(world: &World) -> f64 {
    let v: Vec<f64> = replicate(world, 1, 5, &|| {})
        .into_iter()
        .flat_map(|(r, _)| r.records())
        .filter(|c| c.kind.as_ref() == "component" && c.category.as_ref() == "0107")
        .filter_map(|c| Some((c.dispatched_at? - c.verified_at?) as f64 / 60.0))
        .collect();
    assert!(v.len() > 20, "{}", v.len());
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn territorial_lamps_are_slower_where_streets_cannot_handle_lamps() {
    // The what-if routes lamp failures by territory. Streets of the baseline cannot
    // handle lamps: the street forwards each one to the lighting office (转派), which may
    // return it — slower than the duty list, not the input's halved delay. Where streets
    // can handle lamps, the territorial route is the faster one.
    let base = lamp_dispatch_min(&scene_without_rework("baseline.toml"));
    let what_if = lamp_dispatch_min(&scene_without_rework("whatif_territorial_lamps.toml"));
    assert!(
        what_if > base,
        "territorial {what_if:.1} min, duty list {base:.1} min"
    );
    let mut sc = Scenario::load(&repo().join("scenes/whatif_territorial_lamps.toml"))
        .unwrap()
        .scenario;
    sc.dispatch
        .street_capable
        .as_mut()
        .unwrap()
        .push("component:0107".into());
    let capable = lamp_dispatch_min(&world_of(sc).unwrap());
    assert!(
        capable < base,
        "capable street {capable:.1} min, duty list {base:.1} min"
    );
}

/// Erlang-A (M/M/c+M) by its birth–death chain, truncated far out: the probability a
/// caller hangs up, and the mean wait of every caller (until answered or hung up).
fn erlang_a(lambda: f64, mu: f64, c: u32, theta: f64) -> (f64, f64) {
    let n_max = c as usize + 5_000;
    let mut p = vec![1.0f64; n_max + 1];
    for n in 1..=n_max {
        let death = (n.min(c as usize)) as f64 * mu + (n.saturating_sub(c as usize)) as f64 * theta;
        p[n] = p[n - 1] * lambda / death;
    }
    let z: f64 = p.iter().sum();
    let lq: f64 = p
        .iter()
        .enumerate()
        .map(|(n, x)| n.saturating_sub(c as usize) as f64 * x / z)
        .sum();
    // abandonments happen at rate θ·Lq; Little: Wq = Lq / λ
    (theta * lq / lambda, lq / lambda)
}

#[test]
fn the_hotline_call_centre_waits_and_loses_callers_as_erlang_a() {
    // Calls only (patrols see nothing): Poisson calls λ/h, c agents, exponential call
    // handling and patience.
    let city = square_city();
    for (lambda_h, c, handle_min, patience_min) in [
        (12.0, 2, 8.0, 5.0),
        (30.0, 4, 6.0, 2.0),
        (20.0, 3, 10.0, 15.0),
    ] {
        let text = mmc_text(lambda_h, 10.0, 5, 30.0)
            .replace("mode = \"immediate\"", "mode = \"channels\"")
            .replace("patrol_interval_hours = 1", "patrol_interval_hours = 8760")
            .replace(
                "patrol_detect_probability = 1",
                "patrol_detect_probability = 0.000001",
            )
            .replace("hotline_probability = 0\n", "hotline_probability = 1\n")
            .replace(
                "[steps]",
                &format!(
                    "[discovery.call_centre]\nagents = {c}\nhandle = {{ dist = \"exp\", mean = {handle_min} }}\npatience = {{ dist = \"exp\", mean = {patience_min} }}\n[steps]"
                ),
            );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, &text).unwrap();
        let sc = Scenario::load(&path)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .scenario;
        let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
        let reps = replicate(&world, 3, 20, &|| {});
        let ab: Vec<f64> = reps
            .iter()
            .map(|(_, k)| k.values["hotline_abandon_rate"])
            .collect();
        let wq: Vec<f64> = reps
            .iter()
            .map(|(_, k)| k.values["hotline_wait_mean_min"])
            .collect();
        let (ab, wq) = (Estimate::of(&ab), Estimate::of(&wq));
        let (p_ab, w) = erlang_a(lambda_h / 60.0, 1.0 / handle_min, c, 1.0 / patience_min);
        assert!(
            within(&ab, p_ab),
            "λ={lambda_h}/h c={c}: abandon {:.4} ± {:.4}, Erlang-A {p_ab:.4}",
            ab.mean,
            ab.half_width
        );
        assert!(
            within(&wq, w),
            "λ={lambda_h}/h c={c}: wait {:.3} ± {:.3} min, Erlang-A {w:.3}",
            wq.mean,
            wq.half_width
        );
        // every call answered was registered then (or was a duplicate): none is lost
        // but those whose caller hung up
        for (r, _) in &reps {
            for c in r.records().iter().filter(|c| c.call_at.is_some()) {
                if let Some(a) = c.call_answered_at {
                    assert!(c.call_hung_up_at.is_none());
                    assert!(c.intake_at.is_none_or(|i| i >= a), "{}", c.case_id);
                }
            }
        }
    }
    assert!((erlang_a(1.0, 2.0, 1, 1e-9).1 - 0.5 / (2.0 - 1.0)).abs() < 1e-6); // M/M/1
}

#[test]
fn problems_closed_by_compliance_come_back_at_the_recurrence_rate() {
    // ρ = 0.5, back 1–48 h after the closure at the same place: of the compliance
    // closures early enough for their return to fall inside the run, about half come
    // back; every return is a repeat (same category and place within 72 h), so the
    // repeats grow by the returns (paired: the other incidents are the same).
    let rho = 0.5;
    let mut sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    let off = world_of(sc.clone()).unwrap();
    sc.recurrence = Some(gridtwin_sim::scenario::Recurrence {
        after_compliance: rho,
        delay: gridtwin_sim::scenario::Duration::Uniform {
            min: 60.0,
            max: 2880.0,
        },
    });
    let on = world_of(sc).unwrap();
    let (a, b) = (
        replicate(&off, 4, 10, &|| {}),
        replicate(&on, 4, 10, &|| {}),
    );
    let (mut share, mut excess_gap) = (Vec::new(), Vec::new());
    for ((_, ka), (rb, kb)) in a.iter().zip(&b) {
        let recs = rb.records();
        assert!(recs
            .iter()
            .all(|c| c.recurrence_of.is_empty() || c.occurred_at > 0));
        let by_id: std::collections::HashMap<&str, &gridtwin_sim::timeline::CaseRecord> =
            recs.iter().map(|c| (c.case_id.as_str(), c)).collect();
        let eligible: Vec<&str> = recs
            .iter()
            .filter(|c| c.closed_by.starts_with("compliance"))
            .filter(|c| c.closed_at.is_some_and(|x| x + 48 * 3600 < on.end()))
            .map(|c| c.case_id.as_str())
            .collect();
        let came_back = recs
            .iter()
            .filter(|c| eligible.contains(&c.recurrence_of.as_str()))
            .count();
        for c in recs.iter().filter(|c| !c.recurrence_of.is_empty()) {
            let parent = by_id[c.recurrence_of.as_str()];
            assert!(parent.closed_by.starts_with("compliance"));
            assert_eq!(
                (c.lon, c.lat, &c.category),
                (parent.lon, parent.lat, &parent.category)
            );
            let gap = c.occurred_at - parent.closed_at.unwrap();
            assert!((3600..=48 * 3600).contains(&gap), "{gap}");
        }
        share.push(came_back as f64 / eligible.len() as f64);
        let returns = recs.iter().filter(|c| !c.recurrence_of.is_empty()).count() as f64;
        excess_gap.push(kb.values["repeat_incidents"] - ka.values["repeat_incidents"] - returns);
    }
    let s = Estimate::of(&share);
    assert!(within(&s, rho), "share {:.3} ± {:.3}", s.mean, s.half_width);
    // the returns are the excess (a few more: a return can itself be repeated)
    let g = Estimate::of(&excess_gap);
    assert!(
        g.mean.abs() <= 2.0 + g.half_width,
        "excess − returns {:.2} ± {:.2}",
        g.mean,
        g.half_width
    );
}

/// M/M/c over the square city, discovered by one grid worker walking every grid
/// `minutes_per_grid`, seeing an incident with probability `p`; verification and check
/// visits take `visit_min`.
fn walking(per_day: f64, p: f64, minutes_per_grid: f64, visit_min: f64) -> World {
    let text = mmc_text(per_day / 24.0, 10.0, 5, 60.0)
        .replace("mode = \"immediate\"", "mode = \"channels\"")
        .replace(
            "patrol_detect_probability = 1",
            &format!("patrol_detect_probability = {p}"),
        )
        .replace(
            "[steps]",
            &format!(
                "[discovery.grid_workers]\ncount = 1\nminutes_per_grid = {minutes_per_grid}\nverify_visit = {{ dist = \"fixed\", minutes = {visit_min} }}\ncheck_visit = {{ dist = \"fixed\", minutes = {visit_min} }}\n[steps]"
            ),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let sc = Scenario::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .scenario;
    let city = square_city();
    World::new(sc, &city, &table(&city.rule), calendar()).unwrap()
}

/// Intervals between a worker's visits to each grid.
fn revisits(visits: &[(u32, i64)]) -> Vec<i64> {
    let mut last: std::collections::HashMap<u32, i64> = Default::default();
    let mut out = Vec::new();
    for &(g, t) in visits {
        if let Some(prev) = last.insert(g, t) {
            out.push(t - prev);
        }
    }
    out
}

#[test]
fn grid_workers_revisit_every_route_time_and_find_incidents_as_the_formula_says() {
    // No incidents, no tasks: every grid is revisited exactly every route time T.
    let world = walking(0.0, 0.5, 15.0, 0.0);
    let r = run(&world, 1, 0);
    let grids: std::collections::BTreeSet<u32> = r.patrol_visits.iter().map(|v| v.0).collect();
    let route_s = grids.len() as i64 * 15 * 60;
    let iv = revisits(&r.patrol_visits);
    assert!(grids.len() >= 2 && iv.len() > 1000, "{} grids", grids.len());
    assert!(iv.iter().all(|&d| d == route_s), "route {route_s} s");

    // Incidents only the worker finds (tasks take no time): mean discovery delay
    // T/2 + T(1 − p)/p — half a round to the next pass, then (1 − p)/p missed rounds.
    let p = 0.5;
    let world = walking(48.0, p, 15.0, 0.0);
    let reps = replicate(&world, 2, 10, &|| {});
    let d: Vec<f64> = reps
        .iter()
        .map(|(_, k)| k.values["discovery_delay_mean_min"])
        .collect();
    let e = Estimate::of(&d);
    let t_min = route_s as f64 / 60.0;
    let want = t_min / 2.0 + t_min * (1.0 - p) / p;
    assert!(
        within(&e, want),
        "discovery {:.2} ± {:.2} min, T/2 + T(1−p)/p = {want:.2} min",
        e.mean,
        e.half_width
    );
    for (r, _) in &reps {
        assert!(revisits(&r.patrol_visits).iter().all(|&x| x == route_s));
        assert!(r
            .records()
            .iter()
            .all(|c| c.intake_at.is_none() || c.source.as_ref() == "patrol"));
    }

    // Checks take the worker 30 minutes: they come before its next grid, so the
    // route slows down and discovery with it.
    let busy = walking(48.0, p, 15.0, 30.0);
    let reps = replicate(&busy, 2, 10, &|| {});
    let iv: Vec<i64> = reps
        .iter()
        .flat_map(|(r, _)| revisits(&r.patrol_visits))
        .collect();
    let mean_iv = iv.iter().sum::<i64>() as f64 / iv.len() as f64;
    assert!(
        iv.iter().all(|&x| x >= route_s) && mean_iv > route_s as f64 * 1.2,
        "{mean_iv}"
    );
    let slower = Estimate::of(
        &reps
            .iter()
            .map(|(_, k)| k.values["discovery_delay_mean_min"])
            .collect::<Vec<_>>(),
    );
    assert!(slower.mean > want * 1.2, "{} vs {want}", slower.mean);
}

#[test]
fn centre_operators_are_queues_that_wait_as_erlang_c() {
    // Intake operators register and dispatchers dispatch, each an M/M/c (the
    // dispatchers see the registrations' departures: Poisson again, by Burke's
    // theorem). Time in each = Erlang C wait + service.
    let (lambda, c0, reg, c1, dis) = (6.0, 2, 15.0, 1, 6.0);
    let text = mmc_text(lambda, 10.0, 5, 120.0).replace(
        "[crews.police]",
        &format!(
            "[centre]\nintake_staff = {c0}\nregistration = {{ dist = \"exp\", mean = {reg} }}\ndispatchers = {c1}\ndispatching = {{ dist = \"exp\", mean = {dis} }}\n[crews.police]"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let sc = Scenario::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .scenario;
    let city = square_city();
    let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
    let reps = replicate(&world, 6, 20, &|| {});
    let (mut registering, mut dispatching) = (Vec::new(), Vec::new());
    for (r, _) in &reps {
        let recs: Vec<_> = r
            .records()
            .into_iter()
            .filter(|c| c.intake_at.is_some_and(|i| i >= world.start()))
            .collect();
        let m = |f: &dyn Fn(&gridtwin_sim::timeline::CaseRecord) -> Option<i64>| {
            let v: Vec<f64> = recs.iter().filter_map(f).map(|x| x as f64 / 60.0).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        registering.push(m(&|c| Some(c.verified_at? - c.intake_at?)));
        dispatching.push(m(&|c| Some(c.dispatched_at? - c.verified_at?)));
    }
    let (a, b) = (Estimate::of(&registering), Estimate::of(&dispatching));
    let want_a = erlang_c_wait_min(lambda, reg, c0) + reg;
    let want_b = erlang_c_wait_min(lambda, dis, c1) + dis;
    assert!(
        within(&a, want_a),
        "registration {:.3} ± {:.3}, Erlang C {want_a:.3}",
        a.mean,
        a.half_width
    );
    assert!(
        within(&b, want_b),
        "dispatching {:.3} ± {:.3}, Erlang C {want_b:.3}",
        b.mean,
        b.half_width
    );
}

#[test]
fn extensions_move_deadlines_and_are_counted() {
    // 延期 with probability q, 6 more hours (a round-the-clock calendar: deadline =
    // intake + 4 h limit of 0502 + 6 h).
    let q = 0.2;
    let text = mmc_text(3.0, 20.0, 3, 30.0).replace(
        "check = { dist = \"fixed\", minutes = 0 }",
        &format!(
            "check = {{ dist = \"fixed\", minutes = 0 }}\nextension = {q}\nextension_hours = 6"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let sc = Scenario::load(&path).unwrap().scenario;
    let city = square_city();
    let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
    let reps = replicate(&world, 9, 10, &|| {});
    let rates: Vec<f64> = reps
        .iter()
        .map(|(_, k)| k.values["extension_rate"])
        .collect();
    let e = Estimate::of(&rates);
    assert!(
        within(&e, q),
        "extension rate {:.4} ± {:.4}",
        e.mean,
        e.half_width
    );
    for (r, _) in &reps {
        for c in r.records().iter().filter(|c| c.dispatched_at.is_some()) {
            let base = c.intake_at.unwrap() + 4 * 3600;
            let want = if c.extended { base + 6 * 3600 } else { base };
            assert_eq!(c.deadline, Some(want), "{}", c.case_id);
            // an extended case is overdue only past its new deadline
            if c.extended && c.escalated {
                assert!(c.closed_at.is_none_or(|x| x > want));
            }
        }
    }
}

#[test]
fn without_recurrence_repeats_are_the_spatial_poisson_expectation() {
    // One event category spread uniformly over the square city: a case repeats when
    // an earlier one of its category lies within r and the window before it. By
    // Slivnyak–Mecke, E[repeats] = E Σᵢ (1 − exp(−Λᵢ)), Λᵢ = rate density × area of the
    // disk around case i inside the city × the part of the window after the start.
    // (20 a day: about a third of the cases repeat — far from none and from all)
    let per_day = 20.0;
    let text =
        mmc_text(per_day / 24.0, 10.0, 5, 60.0).replace("warmup_days = 7", "warmup_days = 0");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let sc = Scenario::load(&path).unwrap().scenario;
    let (r_m, w_s) = (sc.repeat_radius_m, (sc.repeat_window_hours * 3600.0) as i64);
    let city = square_city();
    let world = World::new(sc, &city, &table(&city.rule), calendar()).unwrap();
    // local metres on the sphere the repeat search uses
    let (lon0, lat0, lon1, lat1) = (24.93, 60.16, 24.95, 60.17);
    let m_lat = 6_371_008.8 * std::f64::consts::PI / 180.0;
    let m_lon = m_lat * ((lat0 + lat1) / 2.0f64).to_radians().cos();
    let (w, h) = ((lon1 - lon0) * m_lon, (lat1 - lat0) * m_lat);
    let density = per_day / 86_400.0 / (w * h); // per m² per s
    let disk_inside = |x: f64, y: f64| -> f64 {
        // midpoint rule over the disk's bounding square
        let n = 40;
        let cell = 2.0 * r_m / n as f64;
        let mut a = 0.0;
        for i in 0..n {
            for j in 0..n {
                let (dx, dy) = (
                    -r_m + (i as f64 + 0.5) * cell,
                    -r_m + (j as f64 + 0.5) * cell,
                );
                let (px, py) = (x + dx, y + dy);
                if dx * dx + dy * dy <= r_m * r_m
                    && (0.0..w).contains(&px)
                    && (0.0..h).contains(&py)
                {
                    a += cell * cell;
                }
            }
        }
        a
    };
    let (mut gap, mut share) = (Vec::new(), Vec::new());
    for (rep, k) in replicate(&world, 8, 12, &|| {}) {
        let mut expected = 0.0;
        for c in rep.records() {
            let (x, y) = ((c.lon - lon0) * m_lon, (c.lat - lat0) * m_lat);
            assert!((0.0..=w).contains(&x) && (0.0..=h).contains(&y));
            let span = (c.occurred_at - world.run_start()).min(w_s) as f64;
            expected += 1.0 - (-density * disk_inside(x, y) * span).exp();
        }
        gap.push(k.values["repeat_incidents"] - expected);
        share.push(expected / rep.cases.len() as f64);
    }
    let s = Estimate::of(&share);
    assert!(
        (0.2..0.6).contains(&s.mean),
        "expected share of repeats {:.3}",
        s.mean
    );
    let g = Estimate::of(&gap);
    assert!(
        within(&g, 0.0),
        "repeats − Poisson expectation: {:.2} ± {:.2}",
        g.mean,
        g.half_width
    );
}

#[test]
fn the_rainstorm_cut_at_thursday_noon_reports_on_the_due_basis() {
    // Mid-week, with the storm's backlog open: on the due basis about 0.7 of the cases
    // due were closed in time; on closed cases only the rate would flatter.
    let world = scene("rainstorm_thursday_noon.toml");
    let reps = replicate(&world, 1, 4, &|| {});
    let due_basis = Estimate::of(
        &reps
            .iter()
            .map(|(_, k)| k.values["on_time_closure_rate"])
            .collect::<Vec<_>>(),
    );
    let open_overdue = Estimate::of(
        &reps
            .iter()
            .map(|(_, k)| k.values["open_overdue_at_end"])
            .collect::<Vec<_>>(),
    );
    let closed_only: Vec<f64> = reps
        .iter()
        .map(|(r, _)| {
            let recs = r.records();
            let closed: Vec<_> = recs
                .iter()
                .filter(|c| c.closed_at.is_some() && c.closed_by.as_ref() != "not_registered")
                .filter(|c| {
                    c.deadline
                        .is_some_and(|d| d >= world.start() && d < world.end())
                })
                .collect();
            closed.iter().filter(|c| c.closed_at <= c.deadline).count() as f64 / closed.len() as f64
        })
        .collect();
    let closed_only = Estimate::of(&closed_only);
    assert!(
        (0.55..0.8).contains(&due_basis.mean),
        "due basis {:.3}",
        due_basis.mean
    );
    assert!(
        open_overdue.mean > 50.0,
        "{:.1} open and overdue",
        open_overdue.mean
    );
    assert!(
        closed_only.mean > due_basis.mean + 0.1,
        "closed only {:.3}, due basis {:.3}",
        closed_only.mean,
        due_basis.mean
    );
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
