//! The code of one component: district, major class, minor class and serial, packed
//! into one integer under the rule's layout.

use std::fmt;

use serde::Serialize;

use super::{AreaCode, CodeRule, ComponentLayout, Level};

/// A component code: district + major class + minor class + serial.
///
/// Packed to 12 bytes (align 4): a component then takes 72 bytes, not 80 — 96 MB
/// less for a megacity's 12 M (issue 19). Fields are read by copy, never borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, packed(4))]
pub struct ComponentCode {
    pub(super) value: u64,
    pub(super) layout: ComponentLayout,
}

impl ComponentCode {
    /// The code's digits from the `skip`-th last, `take` of them (powers of ten from a
    /// table: a megacity reads 12 M codes' classes several times over).
    fn digits(&self, skip: u8, take: u8) -> u64 {
        const POW10: [u64; 20] = {
            let mut t = [1u64; 20];
            let mut i = 1;
            while i < 20 {
                t[i] = t[i - 1] * 10;
                i += 1;
            }
            t
        };
        let rest = POW10.get(skip as usize).map_or(0, |p| self.value / p);
        match POW10.get(take as usize) {
            Some(p) => rest % p,
            None => rest,
        }
    }

    pub(super) fn district_value(&self) -> u64 {
        let l = self.layout;
        self.digits(l.serial + l.minor + l.major, u8::MAX)
    }

    /// The district code this component belongs to.
    pub fn district(&self, rule: &CodeRule) -> AreaCode {
        AreaCode {
            level: Level::District,
            digits: rule.width(Level::District) as u8,
            value: self.district_value(),
        }
    }

    /// Major class number.
    pub fn major(&self) -> u32 {
        let l = self.layout;
        self.digits(l.serial + l.minor, l.major) as u32
    }

    /// Minor class number.
    pub fn minor(&self) -> u32 {
        let l = self.layout;
        self.digits(l.serial, l.minor) as u32
    }

    /// The code without its serial (its district and class digits) with its layout:
    /// codes of equal prefixes are of one district and class. One division, where
    /// [`ComponentCode::major`] and [`ComponentCode::minor`] take four: what a count
    /// over a megacity's 12 M components keys by (then reads each prefix's class once).
    pub fn class_prefix(&self) -> (u64, ComponentLayout) {
        (self.digits(self.layout.serial, u8::MAX), self.layout)
    }

    /// Serial within district and class.
    pub fn serial(&self) -> u64 {
        self.digits(0, self.layout.serial)
    }

    /// The code as an integer.
    pub fn value(&self) -> u64 {
        self.value
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value;
        write!(f, "{:0width$}", value, width = self.layout.width())
    }
}

impl Serialize for ComponentCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_serial_are_the_codes_digit_fields() {
        // oracle: the zero-padded code cut into its fields as text
        let mut z = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            let layout = ComponentLayout {
                district: 1 + (z % 7) as u8,
                major: 1 + (z >> 8) as u8 % 3,
                minor: 1 + (z >> 16) as u8 % 3,
                serial: 1 + (z >> 24) as u8 % 6,
            };
            let width = layout.width();
            let value = (z >> 3) % 10u64.pow(width as u32);
            let code = ComponentCode { value, layout };
            let text = format!("{value:0width$}");
            let (d, rest) = text.split_at(layout.district as usize);
            let (ma, rest) = rest.split_at(layout.major as usize);
            let (mi, se) = rest.split_at(layout.minor as usize);
            assert_eq!(code.district_value(), d.parse::<u64>().unwrap(), "{text}");
            assert_eq!(code.major(), ma.parse::<u32>().unwrap(), "{text}");
            assert_eq!(code.minor(), mi.parse::<u32>().unwrap(), "{text}");
            assert_eq!(code.serial(), se.parse::<u64>().unwrap(), "{text}");
        }
    }
}
