//! What the simulation tests share: the repository, a square test city and its
//! tables, M/M/c scenarios and formulas, the demo worlds.
#![allow(dead_code)]

pub use gridtwin_core::partition::{partition, PartitionPlan};
pub use gridtwin_core::{CategoryTable, City, CodeRule, Level};
pub use gridtwin_sim::engine::{run, World};
pub use gridtwin_sim::kpi::Estimate;
pub use gridtwin_sim::scenario::Scenario;
pub use gridtwin_sim::study::replicate;
pub use gridtwin_sim::timeline::write_csv;
pub use gridtwin_sim::WorkingCalendar;
pub use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn table(rule: &CodeRule) -> CategoryTable {
    CategoryTable::load(&repo().join("data/categories.csv"), rule).unwrap()
}

/// A small grid city with no roads.
pub fn square_city() -> City {
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

pub fn calendar() -> WorkingCalendar {
    WorkingCalendar::from_toml_str(
        "utc_offset_hours = 0\nweekdays = [\"00:00-24:00\"]\nweekend = [\"00:00-24:00\"]\n",
        "t",
    )
    .unwrap()
}

/// M/M/c: Poisson arrivals λ per hour, exponential handling of mean 60/μ minutes,
/// c crews, everything else instantaneous.
pub fn mmc(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64) -> Scenario {
    let text = mmc_text(lambda_per_h, mean_handle_min, c, days);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    Scenario::load(&p).unwrap().scenario
}

pub fn mmc_text(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64) -> String {
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
pub fn erlang_c_wait_min(lambda_per_h: f64, mean_handle_min: f64, c: u32) -> f64 {
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

/// `truth` lies in the estimate's 99.9 % interval (3.29 standard errors where the 95 %
/// one is 1.96): the simulation tests make a dozen such assertions, and at 95 % each a
/// correct model would fail one run in two by chance; checked over many seeds
/// (12 for M/M/c, 8 for the rework fraction), the means were unbiased.
pub fn within(e: &Estimate, truth: f64) -> bool {
    (e.mean - truth).abs() <= e.half_width * 3.29 / 1.96
}

pub fn demo() -> (World, Scenario) {
    let sc = Scenario::load(&repo().join("scenes/baseline.toml"))
        .unwrap()
        .scenario;
    (world_of(sc.clone()).unwrap(), sc)
}

/// The world of a scenario, with its city and calendar.
pub fn world_of(sc: Scenario) -> Result<World, gridtwin_sim::engine::WorldError> {
    let (city, table, _) = gridtwin_io::city_dir::load_city(&sc.city).unwrap();
    let cal = WorkingCalendar::load(&sc.calendar).unwrap();
    World::new(sc, &city, &table, cal)
}

/// The world of `scenes/NAME` with every check passing, for tests that follow each
/// crew from case to case through the timeline: a reworked case's earlier passes
/// (which crew went, from where) are not in it, only its last.
pub fn scene_without_rework(name: &str) -> World {
    let mut sc = Scenario::load(&repo().join("scenes").join(name))
        .unwrap()
        .scenario;
    sc.steps.check_failure = 0.0;
    sc.steps.check_failure_by_department.clear();
    world_of(sc).unwrap()
}

/// The world of `scenes/NAME`.
pub fn scene(name: &str) -> World {
    world_of(
        Scenario::load(&repo().join("scenes").join(name))
            .unwrap()
            .scenario,
    )
    .unwrap()
}

pub fn timeline_bytes(world: &World, threads: usize) -> Vec<Vec<u8>> {
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

/// M/M/c whose checks fail with probability `r` (the case goes back to the queue).
pub fn mmc_rework(lambda_per_h: f64, mean_handle_min: f64, c: u32, days: f64, r: f64) -> Scenario {
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

/// Day-by-day mean backlog over replications: (day 0, the later days' values).
pub fn daily_backlog(world: &World) -> (f64, Vec<f64>) {
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

/// Mean minutes from verification to dispatch of street-lamp failures.
pub fn lamp_dispatch_min(world: &World) -> f64 {
    let v: Vec<f64> = replicate(world, 1, 5, &|| {})
        .into_iter()
        .flat_map(|(r, _)| r.records())
        .filter(|c| c.kind.as_ref() == "component" && c.category.as_ref() == "0107")
        .filter_map(|c| Some((c.dispatched_at? - c.verified_at?) as f64 / 60.0))
        .collect();
    assert!(v.len() > 20, "{}", v.len());
    v.iter().sum::<f64>() / v.len() as f64
}

/// Erlang-A (M/M/c+M) by its birth–death chain, truncated far out: the probability a
/// caller hangs up, and the mean wait of every caller (until answered or hung up).
pub fn erlang_a(lambda: f64, mu: f64, c: u32, theta: f64) -> (f64, f64) {
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

/// M/M/c over the square city, discovered by one grid worker walking every grid
/// `minutes_per_grid`, seeing an incident with probability `p`; verification and check
/// visits take `visit_min`.
pub fn walking(per_day: f64, p: f64, minutes_per_grid: f64, visit_min: f64) -> World {
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
pub fn revisits(visits: &[(u32, i64)]) -> Vec<i64> {
    let mut last: std::collections::HashMap<u32, i64> = Default::default();
    let mut out = Vec::new();
    for &(g, t) in visits {
        if let Some(prev) = last.insert(g, t) {
            out.push(t - prev);
        }
    }
    out
}
