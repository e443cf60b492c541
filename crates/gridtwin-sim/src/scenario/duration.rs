//! A random duration: the law every delay and step time of a scenario is drawn from.

use serde::{Deserialize, Serialize};

/// A random duration in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Duration {
    /// Always `minutes`.
    Fixed { minutes: f64 },
    /// Exponential with mean `mean` minutes.
    Exp { mean: f64 },
    /// Uniform between `min` and `max` minutes.
    Uniform { min: f64, max: f64 },
    /// Lognormal: ln(minutes) is normal with mean `mu` and standard deviation `sigma`
    /// (the median is e^mu minutes). Fitted by `gridtwin calibrate`.
    Lognormal { mu: f64, sigma: f64 },
    /// Gamma with `shape` and mean `mean` minutes.
    Gamma { shape: f64, mean: f64 },
}

impl Duration {
    /// The law's mean, minutes.
    pub fn mean_minutes(&self) -> f64 {
        match *self {
            Duration::Fixed { minutes } => minutes,
            Duration::Exp { mean } | Duration::Gamma { mean, .. } => mean,
            Duration::Uniform { min, max } => (min + max) / 2.0,
            Duration::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let ok = match *self {
            Duration::Fixed { minutes } => minutes.is_finite() && minutes >= 0.0,
            Duration::Exp { mean } => mean.is_finite() && mean > 0.0,
            Duration::Uniform { min, max } => {
                min.is_finite() && max.is_finite() && 0.0 <= min && min <= max
            }
            Duration::Lognormal { mu, sigma } => {
                mu.is_finite() && mu < 20.0 && sigma.is_finite() && sigma > 0.0 && sigma < 10.0
            }
            Duration::Gamma { shape, mean } => {
                shape.is_finite() && shape > 0.0 && mean.is_finite() && mean > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("impossible duration {self:?}"))
        }
    }
}
