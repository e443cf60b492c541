//! The simulation against queueing theory: M/M/c (Erlang C), Little's law, checks
//! that fail (Erlang C at the fed-back rate), returns, Erlang A call centres, grid
//! workers' routes, the centre's operators.

mod common;
use common::*;

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

#[test]
fn erlang_c_formula_by_hand() {
    // c = 1 reduces to M/M/1: Wq = ρ / (μ − λ)
    let (l, m) = (1.0, 2.0); // per hour; mean handle 30 min
    assert!((erlang_c_wait_min(l, 30.0, 1) - (l / m) / (m - l) * 60.0).abs() < 1e-9);
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
