//! The fitted scenario as TOML, each value with the cases it rests on and its
//! interval.

use super::*;

impl Calibration {
    /// The fitted scenario as TOML, each value with its sample size and interval.
    /// `city` and `calendar` are written as given (paths relative to the file).
    pub fn scenario_toml(
        &self,
        name: &str,
        city: &str,
        calendar: &str,
        start: &str,
        days: f64,
    ) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Fitted by `gridtwin calibrate` to {} days of case history ({} to {}).\n\
             # Each value: the cases it rests on and its 95 % interval. Discovery is not\n\
             # fitted: cases start at their intake (mode = \"immediate\").",
            fmt(self.days),
            crate::local_time::format(self.from, self.utc_offset_s),
            crate::local_time::format(self.to, self.utc_offset_s)
        );
        let _ = writeln!(t, "name = {}", quote(name));
        let _ = writeln!(t, "city = {}", quote(city));
        let _ = writeln!(t, "calendar = {}", quote(calendar));
        let _ = writeln!(t, "start = {}", quote(start));
        let _ = writeln!(t, "days = {}\nwarmup_days = 0\n", fmt(days));
        for c in &self.categories {
            let r = &c.rate;
            if c.kind == "component" {
                let n = self.components_of(&c.class);
                let per_year = |d: f64| d * 365.0 / n.max(1) as f64;
                let _ = writeln!(t, "[arrivals.failures.{}]", quote(&c.class));
                let _ = writeln!(
                    t,
                    "per_component_per_year = {}   # {} failures of {} components; 95 % CI {}–{}",
                    fmt(per_year(r.per_day)),
                    r.count,
                    n,
                    fmt(per_year(r.low)),
                    fmt(per_year(r.high))
                );
                continue;
            }
            let _ = writeln!(t, "[arrivals.events.{}]", quote(&c.class));
            let _ = writeln!(
                t,
                "per_day = {}   # {} cases; 95 % CI {}–{}; trend {} per day per day (95 % CI {}–{}, not applied)",
                fmt(r.per_day),
                r.count,
                fmt(r.low),
                fmt(r.high),
                fmt(c.trend_per_day.0),
                fmt(c.trend_per_day.1),
                fmt(c.trend_per_day.2)
            );
            let _ = writeln!(t, "hour_weights = [{}]", list(&c.hour_weights));
            let _ = writeln!(t, "weekday_weights = [{}]", list(&c.weekday_weights));
        }
        if !self.hotspots.is_empty() {
            let _ = writeln!(
                t,
                "\n# Hotspot factor per grid: empirical Bayes (Poisson–gamma, between-grid variance {}), 1 where not listed",
                fmt(self.hotspot_variance)
            );
            let _ = writeln!(t, "[arrivals.hotspots]");
            for (g, f) in &self.hotspots {
                let _ = writeln!(t, "{} = {}", quote(g), fmt(*f));
            }
        }
        let _ = writeln!(
            t,
            "\n[discovery]\nmode = \"immediate\"\npatrol_interval_hours = 4\npatrol_detect_probability = 0.8\nhotline_probability = 0.3\nhotline_delay = {{ dist = \"exp\", mean = 45 }}\nsensor_delay = {{ dist = \"fixed\", minutes = 2 }}\n"
        );
        for (channel, f) in &self.intake_delays {
            let _ = writeln!(
                t,
                "# intake delay by {channel} (occurrence to intake), not applied: {} (n = {}, KS {})",
                duration(f),
                f.n,
                fmt(f.ks)
            );
        }
        let _ = writeln!(t, "[steps]");
        let step = |name: &str| self.steps.iter().find(|s| s.step == name);
        for name in ["verify", "handle", "feedback", "check"] {
            match step(name) {
                Some(s) => {
                    let _ = writeln!(t, "{name} = {}   # {}", duration(&s.fits[0]), note(s));
                }
                None => {
                    let _ = writeln!(
                        t,
                        "{name} = {{ dist = \"fixed\", minutes = 0 }}   # not in the history"
                    );
                }
            }
        }
        let share = |s: &Share| {
            format!(
                "{}   # {} of {}; 95 % CI {}–{}",
                fmt(s.value),
                s.hits,
                s.of,
                fmt(s.low),
                fmt(s.high)
            )
        };
        let _ = writeln!(t, "check_failure = {}", share(&self.check_failure));
        let _ = writeln!(t, "not_registered = {}", share(&self.not_registered));
        let _ = writeln!(t, "extension = {}", share(&self.extension));
        let _ = writeln!(t, "extension_hours = 8   # not in the history: kept");
        if !self.handle_by_category.is_empty() {
            let _ = writeln!(t, "[steps.handle_by_category]");
            for (k, f) in &self.handle_by_category {
                let _ = writeln!(
                    t,
                    "{} = {}   # n = {}, KS {}{}",
                    quote(k),
                    duration(f),
                    f.n,
                    fmt(f.ks),
                    if f.aic.is_nan() {
                        "; the city's shape on its own mean (too few for a family of its own)"
                    } else {
                        ""
                    }
                );
            }
        }
        self.write_dispatch(&mut t);
        for (cat, stages) in &self.ladders {
            let delays = self.ladder_delays.get(cat);
            for (i, (action, share)) in stages.iter().enumerate() {
                let _ = writeln!(t, "[[escalation.{}]]", quote(cat));
                let _ = writeln!(t, "action = {}", quote(action));
                match delays.and_then(|d| d.get(i).copied().flatten()) {
                    Some((mean, n)) => {
                        let _ = writeln!(
                            t,
                            "delay = {{ dist = \"exp\", mean = {} }}   # mean from {n} closures by compliance here (verification to check, less the check and the stages before); the family is not seen",
                            fmt(mean)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "delay = {{ dist = \"exp\", mean = 60 }}   # too few closures by compliance here to tell: kept"
                        );
                    }
                }
                let _ = writeln!(
                    t,
                    "compliance = {}   # {} of {} complied here; 95 % CI {}–{}",
                    fmt(share.value),
                    share.hits,
                    share.of,
                    fmt(share.low),
                    fmt(share.high)
                );
            }
        }
        if !self.ladders.is_empty() {
            let _ = writeln!(t);
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        for c in &self.crews {
            let base: String = c
                .department
                .chars()
                .map(|ch| {
                    if ch.is_alphanumeric() {
                        ch.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            // (a department with pools on several shifts: one key each)
            let mut key = base.clone();
            let mut i = 2;
            while !used.insert(key.clone()) {
                key = format!("{base}_{i}");
                i += 1;
            }
            let _ = writeln!(t, "[crews.{}]", quote(&key));
            let _ = writeln!(t, "department = {}", quote(&c.department));
            let _ = writeln!(t, "count = {}   # from {}", c.count, c.from);
            if let Some((a, b)) = c.shift {
                let _ = writeln!(
                    t,
                    "shift = \"{a:02}:00-{b:02}:00\"   # hours its crews took cases"
                );
            }
        }
        match step("travel") {
            Some(s) => {
                let _ = writeln!(
                    t,
                    "\n[travel]\nmode = \"drawn\"   # a history has trip times, not crews' positions\ntime = {}   # {}",
                    duration(&s.fits[0]),
                    note(s)
                );
                if !self.travel_by_department.is_empty() {
                    let _ = writeln!(t, "[travel.time_by_department]");
                    for (d, s) in &self.travel_by_department {
                        let _ =
                            writeln!(t, "{} = {}   # {}", quote(d), duration(&s.fits[0]), note(s));
                    }
                }
            }
            None => {
                let _ = writeln!(
                    t,
                    "\n[travel]\nmode = \"straight\"   # not in the history (no assigned and arrival times): kept\nstraight_speed_kmh = 20"
                );
            }
        }
        t
    }

    /// `[dispatch]`: the centre's delay per routing rule, and the hand-overs.
    pub(super) fn write_dispatch(&self, t: &mut String) {
        let pooled = self.steps.iter().find(|s| s.step == "dispatch");
        let by = |r: Routing| {
            self.dispatch_by_routing
                .iter()
                .find(|(x, _)| *x == r)
                .map(|(_, s)| s)
        };
        let _ = writeln!(t, "\n[dispatch]");
        for (r, default) in [
            (Routing::Owner, 20.0),
            (Routing::Territory, 10.0),
            (Routing::Negotiated, 240.0),
            (Routing::Designated, 60.0),
        ] {
            let name = routing_name(r);
            let line = match (by(r), pooled) {
                (Some(s), _) => format!("{}   # {}", duration(&s.fits[0]), note(s)),
                (None, Some(s)) if matches!(r, Routing::Owner | Routing::Territory) => format!(
                    "{}   # too few {name}-routed cases: all routes pooled, {}",
                    duration(&s.fits[0]),
                    note(s)
                ),
                _ => match (r, self.hand_overs.designated) {
                    (Routing::Designated, Some((m, n))) => format!(
                        "{{ dist = \"exp\", mean = {} }}   # mean from {n} designations after returns (their hand-overs taken off)",
                        fmt(m)
                    ),
                    _ => format!(
                        "{{ dist = \"exp\", mean = {} }}   # not in the history: kept",
                        fmt(default)
                    ),
                },
            };
            let _ = writeln!(t, "{name}_delay = {line}");
        }
        let h = &self.hand_overs;
        // (a history without forwarding — or without the column — leaves the default:
        // streets handle every territorial category)
        if h.forwarded.iter().any(|(_, f, _)| *f > 0) {
            let capable: Vec<String> = h
                .forwarded
                .iter()
                .filter(|(_, f, n)| 2 * f < *n)
                .map(|(k, _, _)| quote(k))
                .collect();
            let forwarded: Vec<String> = h
                .forwarded
                .iter()
                .map(|(k, f, n)| format!("{k} {f} of {n}"))
                .collect();
            let _ = writeln!(
                t,
                "street_capable = [{}]   # territorial categories the streets kept (forwarded: {})",
                capable.join(", "),
                forwarded.join(", ")
            );
        }
        if let Some(p) = &h.return_probability {
            let _ = writeln!(
                t,
                "return_probability = {}   # {} returns in {} sends; 95 % CI {}–{}",
                fmt(p.value),
                p.hits,
                p.of,
                fmt(p.low),
                fmt(p.high)
            );
            let _ = writeln!(
                t,
                "designate_after = {}   # the most returns a case had (at least 2)",
                h.designate_after
            );
        }
        match &h.hop {
            Some(s) if !s.fits.is_empty() => {
                let _ = writeln!(t, "hop_delay = {}   # {}", duration(&s.fits[0]), note(s));
            }
            Some(s) => {
                let _ = writeln!(
                    t,
                    "hop_delay = {{ dist = \"exp\", mean = {} }}   # mean of the hand-overs of returned cases (too few single forwards for a family)",
                    fmt(s.mean.0)
                );
            }
            None => {}
        }
        let _ = writeln!(t);
    }

    pub(super) fn components_of(&self, class: &str) -> u64 {
        self.components_per_class.get(class).copied().unwrap_or(0)
    }
}

pub(super) fn note(s: &StepFit) -> String {
    let f = &s.fits[0];
    let others: Vec<String> = s.fits[1..]
        .iter()
        .map(|o| format!("{} ΔAIC {}", o.family.name(), fmt(o.aic - f.aic)))
        .collect();
    let how = if f.aic.is_nan() {
        "the city's shape on its own mean (too few for a family of its own)".to_string()
    } else {
        others.join(", ")
    };
    format!(
        "n = {}, mean {} min (95 % CI {}–{}), KS {}; {how}",
        f.n,
        fmt(s.mean.0),
        fmt(s.mean.1),
        fmt(s.mean.2),
        fmt(f.ks),
    )
}

/// A fit as a scenario duration.
pub fn duration(f: &Fit) -> String {
    let p = &f.params;
    match f.family {
        crate::dist::Family::Fixed => format!("{{ dist = \"fixed\", minutes = {} }}", fmt(p[0])),
        crate::dist::Family::Exp => format!("{{ dist = \"exp\", mean = {} }}", fmt(p[0])),
        crate::dist::Family::Uniform => {
            format!(
                "{{ dist = \"uniform\", min = {}, max = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
        crate::dist::Family::Lognormal => {
            format!(
                "{{ dist = \"lognormal\", mu = {}, sigma = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
        crate::dist::Family::Gamma => {
            format!(
                "{{ dist = \"gamma\", shape = {}, mean = {} }}",
                fmt(p[0]),
                fmt(p[1])
            )
        }
    }
}

/// Four significant digits, no exponent for everyday numbers.
pub(super) fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "nan".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = (4 - 1 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub(super) fn list(w: &[f64]) -> String {
    w.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(", ")
}

pub(super) fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
