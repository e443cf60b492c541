//! Unit and property tests of codes and the code rule.

use std::path::Path;

use super::*;
use proptest::prelude::*;

#[test]
fn national_widths() {
    let r = CodeRule::national();
    assert_eq!(r.width(Level::City), 4);
    assert_eq!(r.width(Level::District), 6);
    assert_eq!(r.width(Level::Street), 9);
    assert_eq!(r.width(Level::Community), 12);
    assert_eq!(r.width(Level::Grid), 14);
    assert_eq!(r.component().width(), 16);
}

#[test]
fn fifteen_digit_rule_from_toml() {
    let text = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=3\n\
                [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
    let r = CodeRule::from_toml_str(text, "rule.toml").unwrap();
    assert_eq!(r.width(Level::Grid), 15);
    let g = r.parse_area(Level::Grid, "310101002003123").unwrap();
    assert_eq!(g.serial(&r), 123);
    assert!(r.parse_area(Level::Grid, "31010100200312").is_err());
    // round trip of the rule itself
    assert_eq!(CodeRule::from_toml_str(&r.to_toml(), "x").unwrap(), r);
}

#[test]
fn rule_file_errors_name_file_and_key() {
    let unknown = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=2\nblock=2\n\
                   [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
    let e = CodeRule::from_toml_str(unknown, "rule.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("rule.toml") && e.contains("block"), "{e}");
    let bad_district = "[area]\ncity=4\ndistrict=2\nstreet=3\ncommunity=3\ngrid=2\n\
                   [component]\ndistrict=5\nmajor=2\nminor=2\nserial=6\n";
    let e = CodeRule::from_toml_str(bad_district, "rule.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("district width 5"), "{e}");
    let zero = "[area]\ncity=4\ndistrict=2\nstreet=0\ncommunity=3\ngrid=2\n\
                   [component]\ndistrict=6\nmajor=2\nminor=2\nserial=6\n";
    assert!(CodeRule::from_toml_str(zero, "r").is_err());
}

#[test]
fn shipped_rule_is_national() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/code_rule.toml");
    assert_eq!(CodeRule::load(&path).unwrap(), CodeRule::national());
}

#[test]
fn parent_child_rule() {
    let r = CodeRule::national();
    let city = r.city("3101").unwrap();
    let district = r.child(&city, 1).unwrap();
    assert_eq!(district.to_string(), "310101");
    let street = r.child(&district, 2).unwrap();
    let community = r.child(&street, 3).unwrap();
    let grid = r.child(&community, 99).unwrap();
    assert_eq!(grid.to_string(), "31010100200399");
    assert!(grid.extends(&community) && grid.extends(&street) && grid.extends(&city));
    assert!(!community.extends(&grid));
    assert!(!grid.extends(&grid));
    assert_eq!(grid.ancestor(&r, Level::District), Some(district));
    let other = r.parse_area(Level::Community, "310101002004").unwrap();
    assert!(!grid.extends(&other));
    // the 2-digit serial overflows at 100: an error, not a wrap
    assert!(matches!(
        r.child(&community, 100),
        Err(CodeError::SerialOverflow { max: 99, .. })
    ));
    assert!(r.child(&community, 0).is_err());
    assert!(r.child(&grid, 1).is_err());
}

#[test]
fn malformed_codes_rejected() {
    let r = CodeRule::national();
    for bad in [
        "",
        "3101010020030a",
        "310101002003",
        "31010100200300",
        "0000010020031",
    ] {
        assert!(r.parse_area(Level::Grid, bad).is_err(), "{bad}");
    }
    assert!(matches!(
        r.parse_area(Level::Grid, "31010100000301"),
        Err(CodeError::ZeroSegment { part: "street", .. })
    ));
    assert!(r.parse_component("3101010101000000").is_err()); // zero serial
    assert!(r.parse_component("310101010100001").is_err()); // 15 digits
    let c = r.parse_component("3101010302000042").unwrap();
    assert_eq!((c.major(), c.minor(), c.serial()), (3, 2, 42));
    assert_eq!(c.district(&r).to_string(), "310101");
}

fn grid_code() -> impl Strategy<Value = (u64, u64, u64, u64, u64)> {
    (1u64..=9999, 1u64..=99, 1u64..=999, 1u64..=999, 1u64..=99)
}

proptest! {
    #[test]
    fn area_codes_round_trip((c, d, s, m, g) in grid_code()) {
        let r = CodeRule::national();
        let text = format!("{c:04}{d:02}{s:03}{m:03}{g:02}");
        let code = r.parse_area(Level::Grid, &text).unwrap();
        prop_assert_eq!(code.to_string(), text.clone());
        prop_assert_eq!(r.parse_area_any(&text).unwrap(), code);
        // built child by child gives the same code
        let built = [d, s, m, g].iter().fold(r.city(&format!("{c:04}")).unwrap(), |p, &n| r.child(&p, n).unwrap());
        prop_assert_eq!(built, code);
        let mut up = code;
        while let Some(p) = up.parent(&r) {
            prop_assert!(code.extends(&p));
            prop_assert!(text.starts_with(&p.to_string()));
            up = p;
        }
    }

    #[test]
    fn component_codes_round_trip(d in 1u64..=999_999, maj in 1u32..=99, min in 1u32..=99, ser in 1u64..=999_999) {
        let r = CodeRule::national();
        let text = format!("{d:06}{maj:02}{min:02}{ser:06}");
        let c = r.parse_component(&text).unwrap();
        prop_assert_eq!(c.to_string(), text);
        prop_assert_eq!((c.major(), c.minor(), c.serial()), (maj, min, ser));
        if d % 100 != 0 && d / 100 != 0 {
            let dc = r.parse_area(Level::District, &format!("{d:06}")).unwrap();
            prop_assert_eq!(r.component_code(&dc, maj, min, ser).unwrap(), c);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,20}") {
        let r = CodeRule::national();
        let _ = r.parse_area_any(&s);
        let _ = r.parse_component(&s);
    }

    #[test]
    fn wrong_length_digit_strings_rejected(s in "[0-9]{1,18}") {
        let r = CodeRule::national();
        if s.len() != 14 {
            prop_assert!(r.parse_area(Level::Grid, &s).is_err());
        }
        if s.len() != 16 {
            prop_assert!(r.parse_component(&s).is_err());
        }
    }
}
