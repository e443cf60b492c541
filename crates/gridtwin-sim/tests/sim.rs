//! Correctness of the simulation's model: determinism across thread counts and
//! overlays, straight-line travel and shifts by hand, the warm-up, territorial
//! dispatch, recurrence, extensions (the queueing truths are in `sim_queues.rs`,
//! hazards in `sim_hazards.rs`, scenario files in `sim_scenarios.rs`).

mod common;
use common::*;

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
fn a_parquet_timeline_reads_back_equal_to_the_csv_and_to_the_run() {
    use gridtwin_sim::timeline::{read_records, CaseRecord};
    let (world, _) = demo();
    let r = run(&world, 1, 0);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("timeline.csv");
    let parquet = dir.path().join("timeline.parquet");
    std::fs::write(&csv, r.timeline_csv().unwrap()).unwrap();
    std::fs::write(&parquet, r.timeline_parquet().unwrap()).unwrap();
    let from_csv: Vec<CaseRecord> = read_records(&csv).unwrap();
    let from_parquet: Vec<CaseRecord> = read_records(&parquet).unwrap();
    assert!(from_csv.len() > 100, "{} cases", from_csv.len());
    assert_eq!(from_parquet, from_csv);
    assert_eq!(from_parquet, r.records());
    // the same bytes at one and two threads
    let at = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| r.timeline_parquet().unwrap())
    };
    assert_eq!(at(1), at(2));
}

#[test]
fn a_timeline_of_many_row_blocks_reads_back_equal_to_the_run() {
    // A row group is built from rows a thousand at a time and joined: a month of the
    // demo has several blocks and a part-filled last one, whose joins must lose,
    // repeat or reorder no case.
    use gridtwin_sim::timeline::{read_records, CaseRecord};
    let (_, mut sc) = demo();
    sc.days = 28.0;
    let world = world_of(sc).unwrap();
    let r = run(&world, 3, 0);
    let n = r.cases.len();
    assert!(n > 2 * 1024 && !n.is_multiple_of(1024), "{n} cases");
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("timeline.parquet");
    std::fs::write(&parquet, r.timeline_parquet().unwrap()).unwrap();
    let back: Vec<CaseRecord> = read_records(&parquet).unwrap();
    assert_eq!(back, r.records());
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
