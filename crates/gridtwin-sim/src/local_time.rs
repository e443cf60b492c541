//! Times in files as people read them: ISO 8601 in the city's own time zone
//! (`2025-06-02T09:30:00+08:00`), read back from that, from any other offset, or from
//! Unix seconds (older files and histories).
//!
//! The offset a writer uses is set for the current thread with [`with_offset`]; a
//! writer that sets none writes UTC (`Z`). In memory a time is always Unix seconds.
//!
//! ```
//! use gridtwin_sim::local_time::{format, parse};
//! assert_eq!(format(1_748_827_800, 8 * 3600), "2025-06-02T09:30:00+08:00");
//! assert_eq!(format(1_748_827_800, 0), "2025-06-02T01:30:00Z");
//! assert_eq!(parse("2025-06-02T09:30:00+08:00"), Ok(1_748_827_800));
//! assert_eq!(parse("2025-06-02T01:30:00Z"), Ok(1_748_827_800));
//! assert_eq!(parse("1748827800"), Ok(1_748_827_800));
//! ```

use std::cell::Cell;

use serde::{Deserializer, Serializer};

thread_local! {
    static OFFSET: Cell<i64> = const { Cell::new(0) };
}

/// Runs `f` with times written at `offset_s` seconds east of UTC on this thread.
pub fn with_offset<R>(offset_s: i64, f: impl FnOnce() -> R) -> R {
    let before = OFFSET.with(|o| o.replace(offset_s));
    let r = f();
    OFFSET.with(|o| o.set(before));
    r
}

/// Unix seconds as ISO 8601 at `offset_s` east of UTC (`Z` for UTC). Times too far
/// out for a four-digit year (a sentinel, a corrupt value) are written as seconds.
pub fn format(t: i64, offset_s: i64) -> String {
    // years 0001..9999
    if !(-62_135_596_800..=253_402_300_799).contains(&t) {
        return t.to_string();
    }
    let local = t + offset_s;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if offset_s == 0 {
        out.push('Z');
    } else {
        let sign = if offset_s < 0 { '-' } else { '+' };
        let a = offset_s.abs();
        out.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60));
    }
    out
}

/// [`format`] into a buffer, without allocating (a megacity timeline writes ~100 M
/// times): returns the text, the same as `format(t, offset_s)`.
pub fn format_in(t: i64, offset_s: i64, buf: &mut [u8; 32]) -> &str {
    let plain = |buf: &mut [u8; 32]| {
        // what `format` writes (seconds, or a year or offset outside four and two digits)
        let text = format(t, offset_s);
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        n
    };
    let a = offset_s.unsigned_abs() as i64;
    if !(-62_135_596_800..=253_402_300_799).contains(&t) || a >= 100 * 3600 {
        let n = plain(buf);
        return std::str::from_utf8(&buf[..n]).unwrap_or_default();
    }
    let local = t + offset_s;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let n = plain(buf);
        return std::str::from_utf8(&buf[..n]).unwrap_or_default();
    }
    let two = |b: &mut [u8], v: i64| {
        b[0] = b'0' + (v / 10) as u8;
        b[1] = b'0' + (v % 10) as u8;
    };
    two(&mut buf[0..2], y / 100);
    two(&mut buf[2..4], y % 100);
    buf[4] = b'-';
    two(&mut buf[5..7], m as i64);
    buf[7] = b'-';
    two(&mut buf[8..10], d as i64);
    buf[10] = b'T';
    two(&mut buf[11..13], secs / 3600);
    buf[13] = b':';
    two(&mut buf[14..16], secs % 3600 / 60);
    buf[16] = b':';
    two(&mut buf[17..19], secs % 60);
    let n = if offset_s == 0 {
        buf[19] = b'Z';
        20
    } else {
        buf[19] = if offset_s < 0 { b'-' } else { b'+' };
        two(&mut buf[20..22], a / 3600);
        buf[22] = b':';
        two(&mut buf[23..25], a % 3600 / 60);
        25
    };
    std::str::from_utf8(&buf[..n]).unwrap_or_default()
}

/// Unix seconds from ISO 8601 with an offset or `Z`, or from an integer.
pub fn parse(s: &str) -> Result<i64, String> {
    let s = s.trim();
    // the form gridtwin writes, read without a general parser (a year of a megacity's
    // history holds tens of millions of times)
    if let Some(t) = parse_fixed(s.as_bytes()) {
        return Ok(t);
    }
    if let Ok(i) = s.parse::<i64>() {
        return Ok(i);
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| format!("`{s}` is not a time (ISO 8601 with an offset, or Unix seconds)"))
}

/// `YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`, every field in range; `None` for any
/// other text (which the general parser then reads or refuses).
fn parse_fixed(b: &[u8]) -> Option<i64> {
    if !(b.len() == 20 || b.len() == 25) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
        })
    };
    let sep = |i: usize, c: u8| b[i] == c;
    if !(sep(4, b'-')
        && sep(7, b'-')
        && (sep(10, b'T') || sep(10, b' '))
        && sep(13, b':')
        && sep(16, b':'))
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || d < 1
        || d > month_days[(mo - 1) as usize]
        || h > 23
        || mi > 59
        || se > 59
    {
        return None;
    }
    let offset = if b.len() == 20 {
        if b[19] != b'Z' {
            return None;
        }
        0
    } else {
        let sign = match b[19] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        if !sep(22, b':') {
            return None;
        }
        let (oh, om) = (num(20..22)?, num(23..25)?);
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh * 3600 + om * 60)
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days from 1970-01-01 of a civil date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day of a day count from 1970-01-01 (Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Serde for `i64` times (`#[serde(with = "crate::local_time::required")]`).
pub mod required {
    use super::*;

    pub fn serialize<S: Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t, OFFSET.with(|o| o.get())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(TimeVisitor)?
            .ok_or_else(|| serde::de::Error::custom("a time is required here"))
    }
}

/// A time as text (ISO 8601 or Unix seconds) or as an integer of Unix seconds (a
/// Parquet file's integer or timestamp column); empty text is none.
struct TimeVisitor;

impl<'de> serde::de::Visitor<'de> for TimeVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a time (ISO 8601 with an offset, or Unix seconds)")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim() {
            "" => Ok(None),
            t => parse(t).map(Some).map_err(E::custom),
        }
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("{v} is not a time")))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "{v} is not a time (ISO 8601 with an offset, or whole Unix seconds)"
        )))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

/// Serde for `Option<i64>` times: empty is `None`.
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(*t, OFFSET.with(|o| o.get()))),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(TimeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any time at any whole-minute offset reads back as itself, and agrees with
        /// jiff's own formatting (an independent implementation).
        #[test]
        fn round_trips_and_agrees_with_jiff(t in -2_000_000_000i64..8_000_000_000, q in -56i64..=56) {
            let off = q * 15 * 60;
            let s = format(t, off);
            prop_assert_eq!(parse(&s), Ok(t));
            let tz = jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(off as i32).unwrap());
            let z = jiff::Timestamp::from_second(t).unwrap().to_zoned(tz);
            let civil = z.datetime().strftime("%Y-%m-%dT%H:%M:%S").to_string();
            prop_assert!(s.starts_with(&civil), "{} vs {}", s, civil);
        }
    }

    proptest! {
        /// The fast reader of gridtwin's own form agrees with jiff's general parser.
        #[test]
        fn the_fixed_form_reads_as_jiff_reads_it(t in -2_000_000_000i64..8_000_000_000, q in -56i64..=56) {
            let s = format(t, q * 15 * 60);
            let by_jiff = s.parse::<jiff::Timestamp>().unwrap().as_second();
            prop_assert_eq!(parse_fixed(s.as_bytes()), Some(by_jiff));
        }
    }

    proptest! {
        /// The buffer writer writes what `format` writes, at any time and offset
        /// (sentinels, years beyond four digits and odd offsets included).
        #[test]
        fn format_in_is_format(
            t in prop_oneof![
                -2_000_000_000i64..8_000_000_000,
                -62_135_700_000i64..-62_135_500_000,
                253_402_200_000i64..253_402_400_000,
                any::<i64>(),
            ],
            off in prop_oneof![(-56i64..=56).prop_map(|q| q * 15 * 60), -400_000i64..400_000],
        ) {
            let mut buf = [0u8; 32];
            prop_assert_eq!(format_in(t, off, &mut buf), format(t, off));
        }
    }

    #[test]
    fn malformed_fixed_forms_fall_through() {
        for bad in [
            "2025-02-30T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00+8:000",
            "2025-01-01X00:00:00Z",
        ] {
            assert_eq!(parse_fixed(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse("2024-02-29T12:00:00+08:00"), Ok(1_709_179_200));
    }

    #[test]
    fn sentinels_stay_numbers() {
        assert_eq!(format(i64::MAX, 28_800), i64::MAX.to_string());
        assert_eq!(parse(&i64::MAX.to_string()), Ok(i64::MAX));
        assert!(parse("yesterday").is_err());
    }
}
