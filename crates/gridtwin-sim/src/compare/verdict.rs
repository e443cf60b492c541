//! How B stands against A on one indicator, given which way is better.

use super::{Better, KpiDifference};

/// How B stands against A on one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Significantly different, in the better direction.
    Better,
    Worse,
    /// Significantly different, on an indicator with no better direction.
    Differs,
    /// Not significantly different (or not testable).
    NoDifference,
}

impl Verdict {
    /// The value in `compare.csv`'s `verdict` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "b_better",
            Verdict::Worse => "b_worse",
            Verdict::Differs => "b_differs",
            Verdict::NoDifference => "",
        }
    }
}

impl KpiDifference {
    /// B against A given which way is better; only a significant difference counts.
    pub fn verdict(&self, better: Better) -> Verdict {
        if !self.significant() || !self.diff.mean.is_finite() || self.diff.mean == 0.0 {
            return Verdict::NoDifference;
        }
        match (better, self.diff.mean > 0.0) {
            (Better::Neither, _) => Verdict::Differs,
            (Better::Higher, true) | (Better::Lower, false) => Verdict::Better,
            _ => Verdict::Worse,
        }
    }
}
