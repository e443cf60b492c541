//! Unit tests of the vitals: hand-computed indicators, the minimum group, cases set
//! aside with their reason, warnings at the threshold, the normal tail.

use super::*;

fn case(
    id: &str,
    grid: &str,
    intake: i64,
    arrived: Option<i64>,
    handled: Option<i64>,
    closed: Option<i64>,
    deadline: i64,
) -> CaseRecord {
    CaseRecord {
        case_id: id.into(),
        category: "0501".into(),
        grid_code: grid.into(),
        occurred_at: intake,
        intake_at: Some(intake),
        arrived_at: arrived,
        handled_at: handled,
        closed_at: closed,
        deadline: Some(deadline),
        lon: 24.94,
        lat: 60.17,
        ..Default::default()
    }
}

const G1: &str = "99010100100101";
const G2: &str = "99010100100102";
const H: i64 = 3600;

#[test]
fn hand_computed_indicators() {
    // Two hours, one-hour buckets, two grids of one community.
    let cases = vec![
        case("a", G1, 0, Some(600), Some(1800), Some(1800), 3600), // on time, bucket 0
        case("b", G1, 1200, Some(2400), Some(4000), Some(4200), 3600), // closed late in bucket 1
        case("c", G1, 3000, None, None, None, 5000),               // open, overdue by 7200
        case("d", G2, 4000, Some(4600), Some(5000), Some(5000), 9000), // bucket 1, on time
    ];
    let mut cases = cases;
    cases[0].satisfaction = Some(0.8);
    cases[1].satisfaction = Some(0.4);
    let rows = vitals(
        &cases,
        AreaLevel::CodePrefix(14),
        0,
        2 * H,
        H,
        50.0,
        3600,
        1,
    );
    let get = |area: &str, b: i64, ind: &str| {
        let r = rows
            .iter()
            .find(|r| r.area == area && r.bucket == b * H)
            .unwrap();
        r.values[INDICATORS.iter().position(|n| *n == ind).unwrap()]
    };
    assert_eq!(get(G1, 0, "inflow"), 3.0);
    assert_eq!(get(G1, 0, "closed"), 1.0);
    assert_eq!(get(G1, 0, "backlog"), 2.0); // b and c open at 3600
    assert_eq!(get(G1, 0, "overdue"), 0.0); // b's deadline 3600 is not before 3600
                                            // due basis: nothing fell due in bucket 0 (a's and b's deadlines are 3600)
    assert!(get(G1, 0, "on_time_rate").is_nan());
    assert_eq!(get(G1, 0, "median_response_min"), 15.0); // a: 10 min, b: 20 min, c none: median 15
    assert_eq!(get(G1, 1, "inflow"), 0.0);
    assert_eq!(get(G1, 1, "closed"), 1.0);
    // a on time, b late, c open past its deadline: 1/3 (closed cases only: 1/2)
    assert_eq!(get(G1, 1, "on_time_rate"), 1.0 / 3.0);
    assert_eq!(get(G1, 1, "backlog"), 1.0); // c
    assert_eq!(get(G1, 1, "overdue"), 1.0); // c's deadline 5000 < 7200
    assert_eq!(get(G1, 1, "overdue_rate"), 1.0);
    assert_eq!(get(G1, 1, "median_handling_min"), 1600.0 / 60.0); // b: 4000 − 2400
    assert_eq!(get(G1, 0, "repeats"), 2.0); // b and c repeat a (same place, within an hour)
    assert_eq!(get(G1, 0, "satisfaction_mean"), 0.8); // a closed in bucket 0
    assert_eq!(get(G1, 1, "satisfaction_mean"), 0.4); // b closed in bucket 1
    assert!(get(G2, 1, "satisfaction_mean").is_nan()); // d not rated
    assert_eq!(get(G2, 1, "inflow"), 1.0);
    assert_eq!(get(G2, 1, "median_response_min"), 10.0);
    // community level sums the two grids
    let comm = vitals(
        &cases,
        AreaLevel::CodePrefix(12),
        0,
        2 * H,
        H,
        50.0,
        3600,
        1,
    );
    assert_eq!(comm.len(), 2);
    assert_eq!(comm[1].values[0], 1.0);
}

#[test]
fn a_satisfaction_mean_of_fewer_answers_than_the_minimum_group_is_withheld() {
    // issue 14: 630 of 636 grid-hour means came from one case, one person's answer
    let mut cases: Vec<CaseRecord> = (0..7)
        .map(|i| {
            case(
                &format!("s{i}"),
                if i < 5 { G1 } else { G2 },
                100,
                Some(200),
                Some(300),
                Some(400),
                9000,
            )
        })
        .collect();
    for (i, c) in cases.iter_mut().enumerate() {
        c.satisfaction = Some(0.1 * i as f64);
    }
    let rows = vitals(
        &cases,
        AreaLevel::CodePrefix(14),
        0,
        H,
        H,
        50.0,
        3600,
        MIN_GROUP,
    );
    let at = |g: &str| rows.iter().find(|r| r.area == g).unwrap();
    // five answers in G1: shown (mean of 0, .1, .2, .3, .4); two in G2: withheld
    assert!((at(G1).values[9] - 0.2).abs() < 1e-12 && !at(G1).suppressed);
    assert!(at(G2).values[9].is_nan() && at(G2).suppressed);
}

#[test]
fn cases_that_cannot_enter_are_counted_with_their_reason() {
    // issue 14: a closing time of i64::MAX wrapped to "0 areas"; an empty grid code
    // or a NaN lon dropped the case silently; lon 500 landed in a real cell; a
    // timeline without intake_at gave "2 cases, 0 areas"
    let good = case("ok", G1, 100, None, None, None, 9000);
    let mut max = good.clone();
    max.case_id = "max".into();
    max.closed_at = Some(i64::MAX);
    let mut far = good.clone();
    far.case_id = "far".into();
    far.closed_at = Some(100_000_000_000);
    let mut nocode = good.clone();
    nocode.case_id = "nocode".into();
    nocode.grid_code = "".into();
    let mut nointake = good.clone();
    nointake.case_id = "nointake".into();
    nointake.intake_at = None;
    let mut badlon = good.clone();
    badlon.case_id = "badlon".into();
    badlon.lon = 500.0;
    let mut nanlat = good.clone();
    nanlat.case_id = "nanlat".into();
    nanlat.lat = f64::NAN;
    let all = vec![good, max, far, nocode, nointake, badlon, nanlat];
    let (ok, out) = screen(all.clone(), AreaLevel::CodePrefix(14));
    assert_eq!(ok.len() + out.len(), all.len());
    let ids: Vec<&str> = out.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(ids, ["max", "far", "nocode", "nointake"]);
    assert_eq!(out[0].0, 2, "record numbers as read");
    let h3 = AreaLevel::H3(h3o::Resolution::Nine);
    let (ok, out) = screen(all.clone(), h3);
    let ids: Vec<&str> = out.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(ids, ["max", "far", "nointake", "badlon", "nanlat"]);
    assert_eq!(ok.len(), 2);
    // the span of what is left is bounded
    let (start, end) = span(&ok, H, 0);
    assert!(end - start < 10 * H);
}

#[test]
fn warnings_fire_at_the_threshold_not_before() {
    let rows = vec![
        VitalsRow {
            area: "x".into(),
            bucket: 0,
            values: [4.0, 0.0, 0.0, 0.0, f64::NAN, 0.5, 0.0, 0.0, 0.0, f64::NAN],
            suppressed: false,
        },
        VitalsRow {
            area: "y".into(),
            bucket: 0,
            values: [5.0, 0.0, 0.0, 0.0, f64::NAN, 0.8, 0.0, 0.0, 0.0, f64::NAN],
            suppressed: false,
        },
        VitalsRow {
            area: "z".into(),
            bucket: 0,
            values: [
                4.999,
                0.0,
                0.0,
                0.0,
                f64::NAN,
                0.81,
                0.0,
                0.0,
                0.0,
                f64::NAN,
            ],
            suppressed: false,
        },
    ];
    let t = vec![
        Threshold {
            indicator: "inflow".into(),
            level: "grid".into(),
            op: Op::AtLeast,
            threshold: 5.0,
            severity: "amber".into(),
        },
        Threshold {
            indicator: "on_time_rate".into(),
            level: "grid".into(),
            op: Op::AtMost,
            threshold: 0.8,
            severity: "red".into(),
        },
        Threshold {
            indicator: "overdue_rate".into(),
            level: "grid".into(),
            op: Op::AtLeast,
            threshold: 0.0,
            severity: "red".into(),
        },
    ];
    let w = warnings(&rows, "grid", &t);
    let got: Vec<(&str, &str)> = w
        .iter()
        .map(|w| (w.area.as_str(), w.indicator.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("x", "on_time_rate"),
            ("y", "inflow"),
            ("y", "on_time_rate")
        ]
    );
    assert!(warnings(&rows, "community", &t).is_empty());
}

#[test]
fn normal_tail() {
    assert!((normal_sf(1.959_963_985) - 0.025).abs() < 1e-7);
    assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
    assert!((normal_sf(-1.0) - 0.841_344_746).abs() < 1e-7);
}

#[test]
fn thresholds_read_their_operator_once_and_refuse_an_unknown_one_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thresholds.csv");
    std::fs::write(
        &path,
        "indicator,level,op,threshold,severity\n\
         inflow,grid,>=,5,amber\n\
         on_time_rate,grid, <= ,0.8,red\n",
    )
    .unwrap();
    let t = load_thresholds(&path).unwrap();
    assert_eq!(
        t.iter().map(|t| t.op).collect::<Vec<_>>(),
        [Op::AtLeast, Op::AtMost]
    );
    // written back as the table wrote it
    assert_eq!(format!("{} {}", t[0].op, t[1].op), ">= <=");
    std::fs::write(
        &path,
        "indicator,level,op,threshold,severity\n\
         inflow,grid,>=,5,amber\n\
         inflow,grid,>,5,amber\n",
    )
    .unwrap();
    assert_eq!(
        load_thresholds(&path).unwrap_err(),
        format!("{}: line 3: op must be >= or <=, not `>`", path.display())
    );
}
