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

/// The component parser as it was: the whole value parsed, then each part cut out of
/// it by division (the oracle of the one-pass parser).
fn parse_component_by_division(r: &CodeRule, s: &str) -> Result<ComponentCode, CodeError> {
    let c = r.component();
    let t = s.trim();
    if let Some(pos) = t.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(CodeError::NotDigits {
            code: s.to_string(),
            position: pos + 1,
        });
    }
    if t.len() != c.width() {
        return Err(CodeError::WrongLength {
            code: s.to_string(),
            expected: c.width().to_string(),
            found: t.len(),
        });
    }
    let code = ComponentCode {
        value: t.parse::<u64>().unwrap(),
        layout: c,
    };
    for (part, v) in [
        ("district", code.district_value()),
        ("major class", code.major() as u64),
        ("minor class", code.minor() as u64),
        ("serial", code.serial()),
    ] {
        if v == 0 {
            return Err(CodeError::ZeroSegment {
                code: s.to_string(),
                part,
            });
        }
    }
    Ok(code)
}

/// A layout of parts 1..=6 digits wide, at most 18 in all, and a text near it: its
/// width give or take one, digits mostly (zeros often, so parts are zero), now and
/// then a space around it or a letter inside.
fn layout_and_text() -> impl Strategy<Value = (ComponentLayout, String)> {
    (1u8..=6, 1u8..=4, 1u8..=4, 1u8..=6)
        .prop_filter("fits 18 digits", |(d, a, b, s)| d + a + b + s <= 18)
        .prop_flat_map(|(district, major, minor, serial)| {
            let layout = ComponentLayout {
                district,
                major,
                minor,
                serial,
            };
            let w = layout.width();
            let chars = prop::collection::vec(
                prop_oneof![8 => Just('0'), 8 => prop::char::range('1', '9'), 1 => Just('x')],
                w.saturating_sub(1)..=w + 1,
            );
            (Just(layout), chars, any::<bool>(), any::<bool>())
        })
        .prop_map(|(layout, chars, lead, trail)| {
            let body: String = chars.into_iter().collect();
            let text = format!(
                "{}{body}{}",
                if lead { " " } else { "" },
                if trail { "\t" } else { "" }
            );
            (layout, text)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn one_pass_component_parsing_agrees_with_division((layout, text) in layout_and_text()) {
        let district = layout.district;
        let r = CodeRule::new([district - district / 2, district / 2, 1, 1, 1], layout);
        // (a district of one digit cannot be split into city and district parts)
        prop_assume!(r.is_ok());
        let r = r.unwrap();
        let ours = r.parse_component(&text);
        let oracle = parse_component_by_division(&r, &text);
        prop_assert_eq!(ours.as_ref().map(|c| c.value()), oracle.as_ref().map(|c| c.value()));
        prop_assert_eq!(ours.map_err(|e| e.to_string()), oracle.as_ref().map_err(|e| e.to_string()).copied());
        // the classes read in the same pass are the code's
        let classes = r.parse_component_classes(&text);
        prop_assert_eq!(
            classes.map(|(c, major, minor)| (c.value(), major, minor)).ok(),
            oracle.ok().map(|c| (c.value(), c.major(), c.minor()))
        );
    }
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
