//! Impossible values in a merged scenario, each refused with its key: probabilities
//! outside 0..1, durations no law can draw, the size limits, and values that would
//! loop or divide by zero.

use super::{limits, parse_shift, DiscoveryMode, Duration, Scenario, TravelMode};

impl Scenario {
    /// Impossible values, as (key, message).
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |k: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((k.to_string(), format!("must be positive, not {v}")))
            }
        };
        let probability = |k: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((
                    k.to_string(),
                    format!("must be a probability 0..1, not {v}"),
                ))
            }
        };
        let duration = |k: &str, d: &Duration| d.check().map_err(|m| (k.to_string(), m));
        positive("days", self.days)?;
        positive("sample_minutes", self.sample_minutes)?;
        // Limits, checked before anything is built (1e9 days, 1e12 cases a day, 1e9
        // crews or a sample every nanosecond ran out of memory or time):
        let lim = limits::get();
        if self.days > lim.days {
            return Err((
                "days".into(),
                format!(
                    "{}: at most {} (raise it with --max-days)",
                    self.days, lim.days
                ),
            ));
        }
        if self.sample_minutes < 1.0 {
            return Err((
                "sample_minutes".into(),
                format!("{}: at least one minute", self.sample_minutes),
            ));
        }
        let expected: f64 = self
            .arrivals
            .events
            .values()
            .map(|a| a.per_day)
            .sum::<f64>()
            * self.days;
        if expected > lim.cases {
            return Err((
                "arrivals.events".into(),
                format!(
                    "{expected:.3e} cases expected over the run: at most {:.0e} (raise it with --max-cases)",
                    lim.cases
                ),
            ));
        }
        let crews: u64 = self.crews.values().map(|c| c.count as u64).sum();
        if crews > lim.crews {
            return Err((
                "crews".into(),
                format!(
                    "{crews} crews: at most {} (raise it with --max-crews)",
                    lim.crews
                ),
            ));
        }
        if let Some(f) = &self.flood {
            if f.hours > lim.flood_hours {
                return Err((
                    "flood.hours".into(),
                    format!("{}: at most {} (a month)", f.hours, lim.flood_hours),
                ));
            }
        }
        positive("repeat_radius_m", self.repeat_radius_m)?;
        if !(self.warmup_days.is_finite() && self.warmup_days >= 0.0) {
            return Err((
                "warmup_days".into(),
                format!("must be zero or positive, not {}", self.warmup_days),
            ));
        }
        if self.warmup_days > lim.days {
            return Err((
                "warmup_days".into(),
                format!(
                    "{}: at most {} (raise it with --max-days)",
                    self.warmup_days, lim.days
                ),
            ));
        }
        if !(self.amber_fraction > 0.0 && self.amber_fraction < 1.0) {
            return Err((
                "amber_fraction".into(),
                format!("must lie between 0 and 1, not {}", self.amber_fraction),
            ));
        }
        for (name, w) in &self.composite {
            if !crate::kpi::COMPOSITE_RATES.iter().any(|(n, _)| n == name) {
                return Err((
                    format!("composite.{name}"),
                    format!(
                        "not a rate the composite can weigh (one of {})",
                        crate::kpi::COMPOSITE_RATES
                            .iter()
                            .map(|r| r.0)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if !(w.is_finite() && *w >= 0.0) {
                return Err((
                    format!("composite.{name}"),
                    format!("a weight must be zero or positive, not {w}"),
                ));
            }
        }
        if !self.composite.is_empty() && self.composite.values().sum::<f64>() <= 0.0 {
            return Err(("composite".into(), "the weights sum to zero".into()));
        }
        for (p, m) in &self.response_target_minutes {
            if p.parse::<u8>().is_err() {
                return Err((
                    format!("response_target_minutes.{p}"),
                    "keys are priorities 0–255".into(),
                ));
            }
            positive(&format!("response_target_minutes.{p}"), *m)?;
        }
        if let Some(c) = &self.centre {
            for (k, n) in [
                ("centre.intake_staff", c.intake_staff),
                ("centre.dispatchers", c.dispatchers),
            ] {
                if n == 0 || n > 100_000 {
                    return Err((k.into(), format!("{n}: from 1 to 100000")));
                }
            }
            duration("centre.registration", &c.registration)?;
            duration("centre.dispatching", &c.dispatching)?;
        }
        if let Some(r) = &self.recurrence {
            probability("recurrence.after_compliance", r.after_compliance)?;
            duration("recurrence.delay", &r.delay)?;
        }
        probability("steps.check_failure", self.steps.check_failure)?;
        probability("steps.not_registered", self.steps.not_registered)?;
        probability("steps.extension", self.steps.extension)?;
        if !(self.steps.extension_hours.is_finite()
            && (0.0..=8760.0).contains(&self.steps.extension_hours))
        {
            return Err((
                "steps.extension_hours".into(),
                format!("{}: from 0 to a year of hours", self.steps.extension_hours),
            ));
        }
        for (d, r) in &self.steps.check_failure_by_department {
            probability(&format!("steps.check_failure_by_department.{d}"), *r)?;
            // a check that always fails would loop forever
        }
        for (k, r) in std::iter::once(("steps.check_failure".to_string(), self.steps.check_failure))
            .chain(
                self.steps
                    .check_failure_by_department
                    .iter()
                    .map(|(d, r)| (format!("steps.check_failure_by_department.{d}"), *r)),
            )
        {
            if r >= 1.0 {
                return Err((
                    k,
                    "must be below 1: a check that always fails never closes".into(),
                ));
            }
        }
        positive("repeat_window_hours", self.repeat_window_hours)?;
        for (c, a) in &self.arrivals.events {
            if !(a.per_day.is_finite() && a.per_day >= 0.0) {
                return Err((
                    format!("arrivals.events.{c}.per_day"),
                    format!("must be zero or positive, not {}", a.per_day),
                ));
            }
            for (name, w, n) in [
                ("hour_weights", &a.hour_weights, 24),
                ("weekday_weights", &a.weekday_weights, 7),
            ] {
                if let Some(w) = w {
                    if w.len() != n
                        || w.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                        || w.iter().all(|x| *x == 0.0)
                    {
                        return Err((
                            format!("arrivals.events.{c}.{name}"),
                            format!("needs {n} non-negative weights, not all zero"),
                        ));
                    }
                }
            }
        }
        for (c, f) in &self.arrivals.failures {
            if !(f.per_component_per_year.is_finite() && f.per_component_per_year >= 0.0) {
                return Err((
                    format!("arrivals.failures.{c}.per_component_per_year"),
                    "must be zero or positive".into(),
                ));
            }
        }
        for (g, f) in &self.arrivals.hotspots {
            if !(f.is_finite() && *f >= 0.0) {
                return Err((
                    format!("arrivals.hotspots.{g}"),
                    "must be zero or positive".into(),
                ));
            }
        }
        let d = &self.discovery;
        positive("discovery.patrol_interval_hours", d.patrol_interval_hours)?;
        // the engine counts patrol rounds in whole seconds: under one second it was 0
        // and divided by zero (issue 14); over a year no patrol is a patrol
        if !(1.0 / 3600.0..=8760.0).contains(&d.patrol_interval_hours) {
            return Err((
                "discovery.patrol_interval_hours".into(),
                format!(
                    "{}: must lie between one second (1/3600) and a year (8760)",
                    d.patrol_interval_hours
                ),
            ));
        }
        probability(
            "discovery.patrol_detect_probability",
            d.patrol_detect_probability,
        )?;
        if d.patrol_detect_probability == 0.0 && d.mode == DiscoveryMode::Channels {
            return Err((
                "discovery.patrol_detect_probability".into(),
                "must be above 0, or patrols never find anything".into(),
            ));
        }
        probability("discovery.hotline_probability", d.hotline_probability)?;
        if let Some(w) = &d.grid_workers {
            if w.count == 0 || w.count > 1_000_000 {
                return Err((
                    "discovery.grid_workers.count".into(),
                    format!("{}: from 1 to 1000000", w.count),
                ));
            }
            if !(w.minutes_per_grid.is_finite() && w.minutes_per_grid >= 1.0 / 60.0)
                || w.minutes_per_grid > 1440.0
            {
                return Err((
                    "discovery.grid_workers.minutes_per_grid".into(),
                    format!("{}: from one second to a day", w.minutes_per_grid),
                ));
            }
            parse_shift(&w.shift).map_err(|m| ("discovery.grid_workers.shift".to_string(), m))?;
            duration("discovery.grid_workers.verify_visit", &w.verify_visit)?;
            duration("discovery.grid_workers.check_visit", &w.check_visit)?;
        }
        if let Some(cc) = &d.call_centre {
            if cc.agents == 0 || cc.agents > 100_000 {
                return Err((
                    "discovery.call_centre.agents".into(),
                    format!("{}: from 1 to 100000", cc.agents),
                ));
            }
            duration("discovery.call_centre.handle", &cc.handle)?;
            duration("discovery.call_centre.patience", &cc.patience)?;
        }
        duration("discovery.hotline_delay", &d.hotline_delay)?;
        duration("discovery.sensor_delay", &d.sensor_delay)?;
        let s = &self.steps;
        for (k, v) in [
            ("steps.verify", &s.verify),
            ("steps.handle", &s.handle),
            ("steps.feedback", &s.feedback),
            ("steps.check", &s.check),
        ] {
            duration(k, v)?;
        }
        for (c, v) in &s.handle_by_category {
            duration(&format!("steps.handle_by_category.{c}"), v)?;
        }
        let p = &self.dispatch;
        for (k, v) in [
            ("dispatch.owner_delay", &p.owner_delay),
            ("dispatch.territory_delay", &p.territory_delay),
            ("dispatch.negotiated_delay", &p.negotiated_delay),
            ("dispatch.designated_delay", &p.designated_delay),
            ("dispatch.hop_delay", &p.hop_delay),
        ] {
            duration(k, v)?;
        }
        probability("dispatch.return_probability", p.return_probability)?;
        if p.designate_after > 20 {
            return Err((
                "dispatch.designate_after".into(),
                format!(
                    "{}: at most 20 returns before designation",
                    p.designate_after
                ),
            ));
        }
        for (c, r) in &p.routing {
            r.parse::<gridtwin_core::Routing>()
                .map_err(|m| (format!("dispatch.routing.{c}"), m.to_string()))?;
        }
        if self.crews.is_empty() {
            return Err((
                "crews".into(),
                "a scenario needs at least one crew pool".into(),
            ));
        }
        for (name, c) in &self.crews {
            if !["centre", "spread"].contains(&c.base.as_str()) {
                return Err((
                    format!("crews.{name}.base"),
                    format!("`{}`: expected centre or spread", c.base),
                ));
            }
            parse_shift(&c.shift).map_err(|m| (format!("crews.{name}.shift"), m))?;
        }
        for (c, stages) in &self.escalation {
            for (i, st) in stages.iter().enumerate() {
                duration(&format!("escalation.{c}[{i}].delay"), &st.delay)?;
                probability(&format!("escalation.{c}[{i}].compliance"), st.compliance)?;
            }
        }
        match (&self.travel.time, self.travel.mode) {
            (Some(d), _) => duration("travel.time", d)?,
            (None, TravelMode::Drawn) => {
                return Err((
                    "travel.time".into(),
                    "travel.mode = drawn needs a travel time (e.g. { dist = \"exp\", mean = 12 })"
                        .into(),
                ))
            }
            _ => {}
        }
        for (d, t) in &self.travel.time_by_department {
            duration(&format!("travel.time_by_department.{d}"), t)?;
        }
        positive("travel.max_speed_kmh", self.travel.max_speed_kmh)?;
        for (i, c) in self.closures.iter().enumerate() {
            let k = format!("closures[{i}]");
            if !(c.at_hours.is_finite() && c.at_hours >= 0.0) {
                return Err((format!("{k}.at_hours"), "must be 0 or more".into()));
            }
            if c.until_hours
                .is_some_and(|u| !(u.is_finite() && u > c.at_hours))
            {
                return Err((
                    format!("{k}.until_hours"),
                    "must come after at_hours".into(),
                ));
            }
            if c.roads.is_empty() {
                return Err((format!("{k}.roads"), "names no road".into()));
            }
        }
        if let Some(g) = &self.signals {
            positive("signals.window_s", g.window_s)?;
            positive("signals.delay_s", g.delay_s)?;
        }
        if let Some(f) = &self.fire {
            if !(f.start_hours.is_finite() && f.start_hours >= 0.0) {
                return Err(("fire.start_hours".into(), "must be 0 or more".into()));
            }
            f.spread
                .check()
                .map_err(|(k, m)| (format!("fire.spread.{k}"), m))?;
            if f.ignitions.is_empty() {
                return Err(("fire.ignitions".into(), "names no point".into()));
            }
        }
        if let Some(f) = &self.flood {
            if !(f.start_hours.is_finite() && f.start_hours >= 0.0) {
                return Err(("flood.start_hours".into(), "must be 0 or more".into()));
            }
            if !(f.rain_mm_per_hour.is_finite() && f.rain_mm_per_hour >= 0.0) {
                return Err(("flood.rain_mm_per_hour".into(), "must be 0 or more".into()));
            }
            positive("flood.threshold_m", f.threshold_m)?;
        }
        positive("travel.straight_speed_kmh", self.travel.straight_speed_kmh)?;
        if !(self.travel.detour_factor.is_finite() && self.travel.detour_factor >= 1.0) {
            return Err((
                "travel.detour_factor".into(),
                format!("{}: must be at least 1", self.travel.detour_factor),
            ));
        }
        Ok(())
    }
}
