//! Unit tests of the charts' axes: local midnights with day names, whole-number
//! count ticks.

use super::*;

#[test]
fn time_axis_ticks_on_local_midnights_with_day_names() {
    // 2025-03-03 00:00 +08:00 (a Monday) for a week
    let start = 1_740_931_200;
    let axis = TimeAxis::new(start, start + 7 * 86_400, 8 * 3600);
    assert_eq!(
        axis.ticks(),
        (0..=7).map(|d| d as f64 * 24.0).collect::<Vec<_>>()
    );
    assert_eq!(axis.label(0.0), "Mon 3 Mar");
    assert_eq!(axis.label(24.0 * 6.0), "Sun 9 Mar");
    assert_eq!(axis.desc(), "local time (UTC+08:00)");
    // a day starting at 07:30 local: 3-hourly ticks from 09:00
    let axis = TimeAxis::new(start + 7 * 3600 + 1800, start + 31 * 3600, 8 * 3600);
    assert_eq!(axis.ticks()[0], 1.5);
    assert_eq!(axis.label(1.5), "Mon 09:00");
}

#[test]
fn count_ticks_are_whole_numbers() {
    assert_eq!(count_ticks(3.3, 8), (4.0, vec![0.0, 1.0, 2.0, 3.0, 4.0]));
    let (top, t) = count_ticks(31.7, 8);
    assert_eq!(top, 35.0);
    assert!(t.iter().all(|v| v.fract() == 0.0) && t.len() <= 8, "{t:?}");
    assert_eq!(count_ticks(0.0, 8).0, 1.0);
    // a corrupt huge value still gives a handful of ticks, not millions
    assert!(count_ticks(1e20, 8).1.len() <= 8);
    assert!(count_ticks(f64::INFINITY, 8).1.len() <= 8);
    assert_eq!(count_label(&6000.0), "6,000");
}
