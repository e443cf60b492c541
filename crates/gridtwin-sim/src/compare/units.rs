//! How an indicator is shown: which way is better, its unit, and numbers as people
//! read them (`6,000`, `98.2 %`, `27.7 min`).

/// Which way an indicator is better (`data/indicators.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// A demand or a trade-off: a change is neither better nor worse.
    Neither,
}

impl Better {
    pub fn as_str(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
            Better::Neither => "neither",
        }
    }
}

/// What an indicator's value is, for showing it: counts as integers, shares as
/// percentages, durations with their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Share,
    Minutes,
    Hours,
    PerHour,
    Index,
    Score,
}

impl Unit {
    pub(super) const ALL: [(&'static str, Unit); 7] = [
        ("count", Unit::Count),
        ("share", Unit::Share),
        ("min", Unit::Minutes),
        ("h", Unit::Hours),
        ("per_h", Unit::PerHour),
        ("index", Unit::Index),
        ("score", Unit::Score),
    ];

    /// The unit as a column header shows it (`min`, `%`), None for plain numbers.
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            Unit::Share => Some("%"),
            Unit::Minutes => Some("min"),
            Unit::Hours => Some("h"),
            Unit::PerHour => Some("per h"),
            Unit::Count | Unit::Index | Unit::Score => None,
        }
    }

    /// [`Unit::format`] without the unit, for a column whose header carries it.
    pub fn format_bare(self, v: f64) -> String {
        let s = self.format(v);
        match self.suffix() {
            Some(u) => s
                .strip_suffix(u)
                .map_or(s.clone(), |n| n.trim_end().to_string()),
            None => s,
        }
    }

    /// The value as a person reads it: `642`, `98.2 %`, `27.7 min`, `3.51 h`; `–` when
    /// it has none (NaN: nothing was due).
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "–".into();
        }
        match self {
            // a count from one timeline is whole; a mean over replications keeps a decimal
            Unit::Count if v.fract() == 0.0 => thousands(v as i64),
            Unit::Count => format!("{v:.1}"),
            Unit::Share => format!("{:.1} %", v * 100.0),
            Unit::Minutes if v.abs() >= 100.0 => format!("{} min", thousands(v.round() as i64)),
            Unit::Minutes => format!("{v:.1} min"),
            Unit::Hours if v.abs() >= 10.0 => format!("{v:.1} h"),
            Unit::Hours => format!("{v:.2} h"),
            Unit::PerHour => format!("{v:.2} per h"),
            Unit::Index => format!("{v:.3}"),
            Unit::Score => format!("{v:.2}"),
        }
    }
}

/// An integer with thousands separators: `6,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
