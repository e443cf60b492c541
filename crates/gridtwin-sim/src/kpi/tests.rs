//! Unit tests of the indicators: hand-computed timelines, quantiles by selection,
//! repeats against a brute-force search, the composite and estimates.

use super::*;
use crate::timeline::CaseRecord;
use gridtwin_core::coord::haversine_m;

fn case(id: &str, occurred: i64, intake: i64, closed: Option<i64>, deadline: i64) -> CaseRecord {
    CaseRecord {
        case_id: id.into(),
        category: "0501".into(),
        occurred_at: occurred,
        intake_at: Some(intake),
        dispatched_at: Some(intake + 600),
        assigned_at: Some(intake + 900),
        arrived_at: Some(intake + 1200),
        closed_at: closed,
        deadline: Some(deadline),
        lon: 24.94,
        lat: 60.17,
        ..Default::default()
    }
}

#[test]
fn quantiles_by_selection_equal_quantiles_of_sorted_values() {
    let mut s = 7u64;
    for n in [0usize, 1, 2, 3, 10, 101, 1000] {
        let v: Vec<f64> = (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((s >> 40) % 50) as f64 // many ties
            })
            .collect();
        let mut sorted = v.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let qs = [0.1, 0.5, 0.5, 0.9, 1.0];
        let want: Vec<f64> = qs.iter().map(|&q| quantile(&sorted, q)).collect();
        let got = quantiles(&mut v.clone(), &qs);
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "n = {n}");
    }
}

#[test]
fn repeats_equal_a_brute_force_search() {
    // Clustered cases at a high latitude (narrow lon cells), three categories, many
    // equal times: the bucketed search counts exactly what an all-pairs one does.
    let (cases, radius, window) = clustered_cases(99, 3000, 60.17, 60.0, 1800);
    let brute = repeats_by_all_pairs(&cases, radius, window);
    assert!(brute > 50, "the fixture should have repeats: {brute}");
    assert_eq!(repeats(&cases, radius, window), brute);
}

#[test]
fn repeats_equal_a_brute_force_search_over_seeded_cities() {
    // 2,000 seeded clusters at latitudes from −75° to 75°, radii from 5 m to 2 km and
    // windows from a minute to two days, cases on cell edges included (coarse places):
    // the four nearest cells always hold every repeat the all-pairs search finds.
    for seed in 0..2000u64 {
        let lat = -75.0 + (seed % 31) as f64 * 5.0;
        let radius = [5.0, 37.5, 60.0, 250.0, 2000.0][(seed % 5) as usize];
        let window = [60, 1800, 172_800][(seed % 3) as usize];
        let (cases, radius, window) = clustered_cases(seed, 120, lat, radius, window);
        assert_eq!(
            repeats(&cases, radius, window),
            repeats_by_all_pairs(&cases, radius, window),
            "seed {seed}, latitude {lat}, radius {radius} m, window {window} s"
        );
    }
}

/// `n` cases of three categories in a patch of about `radius_m` × 10 at `lat`, on
/// whole minutes of 200 (many equal times), some on a coarse lattice of places.
fn clustered_cases(
    seed: u64,
    n: usize,
    lat: f64,
    radius_m: f64,
    window: i64,
) -> (Vec<CaseRecord>, f64, i64) {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(99);
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let span = radius_m * 10.0 / 111_000.0;
    let lon_span = span / lat.to_radians().cos();
    let cases = (0..n)
        .map(|i| {
            let (mut x, mut y) = (rnd(), rnd());
            if i % 4 == 0 {
                // places on a lattice a half radius apart: on cell edges and at
                // exactly equal distances
                x = (x * 20.0).floor() / 20.0;
                y = (y * 20.0).floor() / 20.0;
            }
            CaseRecord {
                case_id: format!("C{i:05}"),
                category: ["a", "b", "c"][(rnd() * 3.0) as usize].into(),
                occurred_at: (rnd() * 200.0).floor() as i64 * 60,
                lon: 24.94 + x * lon_span,
                lat: lat + y * span,
                ..Default::default()
            }
        })
        .collect();
    (cases, radius_m, window)
}

/// Repeats by the definition: every earlier case of the category (by time, then by
/// place in the list) checked against every later one.
fn repeats_by_all_pairs(cases: &[CaseRecord], radius: f64, window: i64) -> usize {
    let mut order: Vec<&CaseRecord> = cases.iter().collect();
    order.sort_by_key(|c| c.occurred_at);
    (0..order.len())
        .filter(|&i| {
            let c = order[i];
            order[..i].iter().any(|e| {
                e.category == c.category
                    && c.occurred_at - e.occurred_at <= window
                    && haversine_m(e.lon, e.lat, c.lon, c.lat) <= radius
            })
        })
        .count()
}

#[test]
fn hand_computed_timeline() {
    // three cases over a 4-hour window; one closes late, one stays open
    let s = KpiSettings {
        start: 0,
        end: 4 * 3600,
        sample_secs: 3600,
        repeat_radius_m: 50.0,
        repeat_window_secs: 3600,
    };
    let cases = vec![
        case("a", 0, 600, Some(3600), 7200),
        case("b", 1800, 1800, Some(3 * 3600), 7200),
        case("c", 7200, 7800, None, 9000),
    ];
    let crews = vec![CrewRecord {
        crew: "x".into(),
        department: "d".into(),
        on_shift_secs: 4 * 3600,
        busy_secs: 3600,
        overtime_secs: 0,
    }];
    let k = compute(&cases, &crews, s);
    let v = |n: &str| k.values[n];
    assert_eq!(v("cases_taken_in"), 3.0);
    assert_eq!(v("cases_closed"), 2.0);
    // due basis (应结案): all three fell due inside the window; only a closed on
    // time — b closed late, c is still open past its deadline and counts against
    // the rate (on closed cases only it would read 1/2)
    assert_eq!(v("cases_due"), 3.0);
    assert_eq!(v("on_time_closure_rate"), 1.0 / 3.0);
    assert_eq!(v("overdue"), 2.0); // b closed late, c open past its deadline
    assert_eq!(v("open_overdue_at_end"), 1.0);
    assert_eq!(v("cases_open_at_end"), 1.0);
    assert_eq!(v("discovery_delay_mean_min"), (10.0 + 0.0 + 10.0) / 3.0);
    assert_eq!(v("crew_wait_mean_min"), 5.0);
    assert_eq!(v("response_p50_min"), 20.0);
    assert_eq!(v("crew_utilisation"), 0.25);
    // backlog at 0h: none (a taken at 600); 1h: b (a closed at 3600); 2h: b; 3h: c
    assert_eq!(k.backlog, vec![(0, 0), (3600, 1), (7200, 1), (10800, 1)]);
    // a and b: same category within 50 m; b occurred 1800 s after a → a repeat
    assert_eq!(v("repeat_incidents"), 1.0);
    // L = λW exactly on the integral: (3000 + 9000 + 6600) s / 4 h
    let l = v("arrival_rate_per_h") * v("time_in_system_mean_h");
    assert!((l - (3000.0 + 9000.0 + 6600.0) / 14400.0).abs() < 1e-12);
}

#[test]
fn response_within_target_counts_the_unreached_as_misses() {
    // target 30 min for priority 2; window 0–4 h
    let mk = |id: &str, intake: i64, arrived: Option<i64>, ladder: &str| CaseRecord {
        case_id: id.into(),
        priority: 2,
        intake_at: Some(intake),
        arrived_at: arrived,
        ladder: ladder.into(),
        ..Default::default()
    };
    let cases = vec![
        mk("a", 0, Some(1200), ""),    // in time
        mk("b", 600, Some(3000), ""),  // late
        mk("c", 3600, None, ""),       // never reached: a miss, due at 5400
        mk("d", 3600, None, "notify"), // laddered: not a response
        mk("e", 4 * 3600, None, ""),   // due after the window
    ];
    let t = BTreeMap::from([(2u8, 30.0), (0u8, 10.0)]);
    let r = response_within_target(&cases, 0, 4 * 3600, &t);
    assert!(r[0].1.is_nan()); // no priority-0 case
    assert_eq!(r[1], (2, 1.0 / 3.0));
}

#[test]
fn composite_by_hand() {
    let v = BTreeMap::from([
        ("on_time_closure_rate".to_string(), 0.8),
        ("rework_rate".to_string(), 0.1),
        ("check_on_time_rate".to_string(), f64::NAN),
    ]);
    let w = BTreeMap::from([
        ("on_time_closure_rate".to_string(), 3.0),
        ("rework_rate".to_string(), 1.0),
        ("check_on_time_rate".to_string(), 5.0),
    ]);
    // (3 × 0.8 + 1 × (1 − 0.1)) / 4; the rate with nothing due drops out
    assert!((composite(&v, &w) - 3.3 / 4.0).abs() < 1e-12);
    assert!(composite(&v, &BTreeMap::new()).is_nan());
}

#[test]
fn estimates() {
    let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(e.mean, 2.5);
    // sd = 1.29099, t(3) = 3.182 → 3.182 × 1.29099 / 2
    assert!((e.half_width - 3.182 * 1.290_994_448_7 / 2.0).abs() < 1e-9);
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), 5.0);
}

/// The one-pass indicators against the pass-by-pass code they replaced, over 300
/// seeded timelines of random cases: times present or not, in or out of the window
/// (a warm-up before it, cases running past it), registered or declined, laddered,
/// natural-time, called in, per department, reworked, with and without recorded queue
/// waits. Every value is compared bit for bit (NaN included), and the backlog.
#[test]
fn one_pass_indicators_equal_the_indicators_by_passes() {
    struct Draw(u64);
    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }
    let mut d = Draw(0x2545_F491_4F6C_DD1D);
    let day = 86_400i64;
    let s = KpiSettings {
        start: 10 * day,
        end: 40 * day,
        sample_secs: 3_600,
        repeat_radius_m: 50.0,
        repeat_window_secs: 7 * day,
    };
    let (mut values, mut nan) = (0usize, 0usize);
    for seed in 0..300u64 {
        let n = 1 + d.below(40 + seed * 2) as usize;
        let cases: Vec<CaseRecord> = (0..n)
            .map(|i| {
                let occurred = d.below(50 * day as u64) as i64;
                // a time after it, with probability p / 10
                let later = |d: &mut Draw, p: u64| -> Option<i64> {
                    (d.below(10) < p).then(|| occurred + d.below(12 * day as u64) as i64)
                };
                let pick = |k: u64, of: &[&str]| of[(k % of.len() as u64) as usize].into();
                let c = CaseRecord {
                    case_id: format!("c{i}"),
                    occurred_at: occurred,
                    intake_at: later(&mut d, 9),
                    verified_at: later(&mut d, 7),
                    dispatched_at: later(&mut d, 7),
                    assigned_at: later(&mut d, 6),
                    arrived_at: later(&mut d, 6),
                    first_arrived_at: later(&mut d, 3),
                    handled_at: later(&mut d, 6),
                    checked_at: later(&mut d, 5),
                    closed_at: later(&mut d, 7),
                    deadline: later(&mut d, 8),
                    amber_at: later(&mut d, 5),
                    verify_due: later(&mut d, 6),
                    dispatch_due: later(&mut d, 6),
                    handle_due: later(&mut d, 6),
                    check_due: later(&mut d, 6),
                    call_at: later(&mut d, 3),
                    call_answered_at: later(&mut d, 5),
                    call_hung_up_at: later(&mut d, 2),
                    extended: d.below(5) == 0,
                    rework: d.below(3) as u32,
                    preempted: d.below(2) as u32,
                    passes: d.below(3) as u32,
                    queue_wait_s: (d.below(3) > 0).then(|| d.below(7_200) as i64),
                    signal_delay_s: d.below(300) as i64,
                    cut_off_s: d.below(600) as i64,
                    ..Default::default()
                };
                CaseRecord {
                    closed_by: pick(
                        d.below(5),
                        &["", "crew", "not_registered", "compliance:1", "crew"],
                    ),
                    department: pick(d.below(4), &["", "Roads", "Water", "Roads"]),
                    time_basis: pick(d.below(3), &["working", "natural", "working"]),
                    ladder: pick(d.below(3), &["", "notify", ""]),
                    ..c
                }
            })
            .collect();
        let crews: Vec<crate::timeline::CrewRecord> = Vec::new();
        let ours = indicators::indicators(&cases, &crews, s);
        let oracle = indicators::indicators_by_passes(&cases, &crews, s);
        assert_eq!(ours.backlog, oracle.backlog, "seed {seed}");
        let bits = |k: &Kpis| -> Vec<(String, u64)> {
            k.values
                .iter()
                .map(|(n, v)| (n.clone(), v.to_bits()))
                .collect()
        };
        assert_eq!(bits(&ours), bits(&oracle), "seed {seed}");
        values += ours.values.len();
        nan += ours.values.values().filter(|v| v.is_nan()).count();
    }
    // the draws reach the per-department and hotline indicators, and leave some NaN
    assert!(values > 300 * 35 && nan > 0, "{values} {nan}");
}
