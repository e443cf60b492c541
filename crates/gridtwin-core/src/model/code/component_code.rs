//! The code of one component: district, major class, minor class and serial, packed
//! into one integer under the rule's layout.

use std::fmt;

use serde::Serialize;

use super::{AreaCode, CodeRule, ComponentLayout, Level};

/// A component code: district + major class + minor class + serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ComponentCode {
    pub(super) value: u64,
    pub(super) layout: ComponentLayout,
}

impl ComponentCode {
    fn split(&self) -> (u64, u32, u32, u64) {
        let l = self.layout;
        let serial = self.value % 10u64.pow(l.serial as u32);
        let rest = self.value / 10u64.pow(l.serial as u32);
        let minor = (rest % 10u64.pow(l.minor as u32)) as u32;
        let rest = rest / 10u64.pow(l.minor as u32);
        let major = (rest % 10u64.pow(l.major as u32)) as u32;
        let district = rest / 10u64.pow(l.major as u32);
        (district, major, minor, serial)
    }

    pub(super) fn district_value(&self) -> u64 {
        self.split().0
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
        self.split().1
    }

    /// Minor class number.
    pub fn minor(&self) -> u32 {
        self.split().2
    }

    /// Serial within district and class.
    pub fn serial(&self) -> u64 {
        self.split().3
    }

    /// The code as an integer.
    pub fn value(&self) -> u64 {
        self.value
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.value, width = self.layout.width())
    }
}

impl Serialize for ComponentCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
