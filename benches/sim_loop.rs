//! The simulation's core event loop, on one core, without routing: an M/M/c case loop
//! (Poisson arrivals, exponential handling, c crews, instantaneous other steps) over a
//! year. `cargo bench -p gridtwin-sim --bench sim_loop`
//!
//! Reports events per second (events = intake, verify, dispatch, arrive, handle,
//! check, deadline and crew-free events popped from the queue).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gridtwin_core::partition::{partition, PartitionPlan};
use gridtwin_core::{CategoryTable, City, CodeRule, Level};
use gridtwin_sim::engine::{run, World};
use gridtwin_sim::scenario::Scenario;
use gridtwin_sim::WorkingCalendar;

fn world(per_hour: f64, crews: u32) -> World {
    let rule = CodeRule::national();
    let plan = PartitionPlan {
        district: rule.parse_area(Level::District, "990101").unwrap(),
        district_name: "b".into(),
        streets: (2, 2),
        communities: (2, 2),
        target_grid_m2: 10_000.0,
    };
    let mut city = City::new("bench", rule);
    city.areas = partition(
        &rule,
        &plan,
        geo::Rect::new((24.935, 60.164), (24.954, 60.180)),
    )
    .unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let table = CategoryTable::load(&repo.join("data/categories.csv"), &rule).unwrap();
    let text = format!(
        r#"name = "loop"
city = "."
calendar = "."
start = "2025-01-06T00:00:00Z"
days = 365
[arrivals.events."0502"]
per_day = {}
[discovery]
mode = "immediate"
patrol_interval_hours = 1
patrol_detect_probability = 1
hotline_probability = 0
hotline_delay = {{ dist = "fixed", minutes = 0 }}
sensor_delay = {{ dist = "fixed", minutes = 0 }}
[steps]
verify = {{ dist = "fixed", minutes = 0 }}
handle = {{ dist = "exp", mean = 20 }}
feedback = {{ dist = "fixed", minutes = 0 }}
check = {{ dist = "fixed", minutes = 0 }}
[dispatch]
owner_delay = {{ dist = "fixed", minutes = 0 }}
territory_delay = {{ dist = "fixed", minutes = 0 }}
negotiated_delay = {{ dist = "fixed", minutes = 0 }}
designated_delay = {{ dist = "fixed", minutes = 0 }}
[crews.police]
department = "Traffic Police"
count = {crews}
[travel]
mode = "none"
"#,
        per_hour * 24.0
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    let sc = Scenario::load(&p).unwrap().scenario;
    let cal = WorkingCalendar::from_toml_str(
        "utc_offset_hours = 0\nweekdays = [\"00:00-24:00\"]\nweekend = [\"00:00-24:00\"]\n",
        "c",
    )
    .unwrap();
    World::new(sc, &city, &table, cal).unwrap()
}

fn bench(c: &mut Criterion) {
    let w = world(100.0, 40);
    let events = run(&w, 1, 0).events;
    let mut g = c.benchmark_group("case_loop_year_mmc");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("100_per_hour_40_crews", |b| b.iter(|| run(&w, 1, 0).events));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
