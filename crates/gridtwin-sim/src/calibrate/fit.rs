//! The fits: rates with exact intervals, profiles, hotspots by empirical Bayes,
//! step laws by AIC, shares, crews, hand-overs, ladder delays.

use super::*;

impl<'a> Calibrator<'a> {
    /// Fits what was taken in.
    pub fn finish(mut self) -> Result<Calibration, String> {
        for (k, a) in std::mem::take(&mut self.by_key) {
            let (kind, class) = k.split_once(':').unwrap_or(("", &k));
            self.categories
                .insert((kind.to_string(), class.to_string()), a);
        }
        let input = self.input;
        let off = input.utc_offset_s;
        if self.first > self.last {
            return Err(if self.unused.is_empty() {
                "the history has no case".into()
            } else {
                "no case has its intake inside the window (or an intake time at all)".into()
            });
        }
        let from = input
            .from
            .unwrap_or_else(|| (self.first + off).div_euclid(DAY) * DAY - off);
        let to = input
            .to
            .unwrap_or_else(|| ((self.last + off).div_euclid(DAY) + 1) * DAY - off);
        if to <= from {
            return Err(format!("the window is empty: from {from} to {to}"));
        }
        let days = (to - from) as f64 / DAY as f64;
        let n_days = (to - from).div_euclid(DAY).max(1) as usize;
        let first_day = (from + off).div_euclid(DAY);
        // exposure: how many of each weekday the window holds
        let mut weekday_days = [0.0; 7];
        for d in 0..n_days as i64 {
            weekday_days[((first_day + d + 3).rem_euclid(7)) as usize] += 1.0;
        }
        let categories: Vec<CategoryFit> = self
            .categories
            .iter()
            .map(|((kind, class), a)| {
                let (lo, hi) = poisson_interval(a.n);
                let mut weekdays = a.weekdays;
                for (w, e) in weekdays.iter_mut().zip(weekday_days) {
                    *w = if e > 0.0 { *w / e } else { 0.0 };
                }
                let daily: Vec<f64> = (0..n_days as i64)
                    .map(|d| a.daily.get(&(first_day + d)).copied().unwrap_or(0.0))
                    .collect();
                CategoryFit {
                    kind: kind.clone(),
                    class: class.clone(),
                    rate: Rate {
                        count: a.n,
                        per_day: a.n as f64 / days,
                        low: lo / days,
                        high: hi / days,
                    },
                    hour_weights: normalise(a.hours),
                    weekday_weights: normalise(weekdays),
                    trend_per_day: trend(&daily),
                    sources: a.sources.clone(),
                }
            })
            .collect();
        let per_grid: BTreeMap<&str, f64> = self
            .per_grid
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        let total_area: f64 = input.grids.iter().map(|g| g.1).sum();
        let (hotspots, hotspot_variance) = if self.events > 0.0 && total_area > 0.0 {
            eb_hotspots(&input.grids, &per_grid, self.events, total_area)
        } else {
            (BTreeMap::new(), 0.0)
        };
        // (each step's fits on its own thread: a megacity year has millions of values;
        // the results keep the steps' order)
        use rayon::prelude::*;
        let mut kept = Vec::new();
        let mut samples: Vec<(&str, Vec<f64>)> = Vec::new();
        if self.steps[5].len() < 2 && self.dispatch_to_arrival.len() >= 2 {
            kept.push((
                "travel.time".to_string(),
                "the history has no assignment times: fitted from dispatch to arrival, which includes any wait for a crew".to_string(),
            ));
            self.steps[5] = std::mem::take(&mut self.dispatch_to_arrival);
        }
        for (name, xs) in STEP_NAMES.iter().zip(std::mem::take(&mut self.steps)) {
            if xs.len() < 2 {
                kept.push((
                    format!("steps.{name}"),
                    format!(
                        "only {} case(s) show this step: the default is kept",
                        xs.len()
                    ),
                ));
            } else {
                samples.push((name, xs));
            }
        }
        let steps: Vec<StepFit> = samples
            .par_iter()
            .map(|(name, xs)| StepFit {
                step: name.to_string(),
                mean: mean_interval(xs),
                fits: fit_all(xs),
            })
            .collect();
        // a category with enough cases chooses its own family; a rare one keeps the
        // pooled shape on its own mean (waterlogging's 2-hour jobs must not become
        // the city's 40-minute ones for want of 30 cases)
        let pooled_handle = steps
            .iter()
            .find(|s| s.step == "handle")
            .map(|s| &s.fits[0]);
        let wanted: Vec<(String, &Vec<f64>)> = self
            .categories
            .iter()
            .filter(|(_, a)| a.handle.len() >= MIN_OWN_SCALE)
            .map(|((kind, class), a)| (format!("{kind}:{class}"), &a.handle))
            .collect();
        let handle_by_category: Vec<(String, Fit)> = wanted
            .par_iter()
            .filter_map(|(k, xs)| match pooled_handle {
                Some(p) if xs.len() < MIN_PER_CATEGORY => Some((k.clone(), p.rescaled_to(xs))),
                _ => fit_all(xs).into_iter().next().map(|b| (k.clone(), b)),
            })
            .collect();
        let ladders = self
            .categories
            .iter()
            .filter(|(_, a)| !a.actions.is_empty())
            .map(|((kind, class), a)| {
                let stages = a
                    .actions
                    .iter()
                    .zip(&a.reached)
                    .map(|(act, &reached)| {
                        let complied = a.complied.get(act).copied().unwrap_or(0);
                        (act.clone(), wilson(complied, reached))
                    })
                    .collect();
                (format!("{kind}:{class}"), stages)
            })
            .collect();
        let mut crews = Vec::new();
        let departments: BTreeMap<String, DepartmentAcc> =
            std::mem::take(&mut self.departments).into_iter().collect();
        for (dept, mut d) in departments {
            if !d.ids.is_empty() {
                // Crews on shift per hour (the crews that took cases in it), as pools:
                // level k of the hourly profile is one crew on the hours with at least
                // k; equal hour ranges make one pool (3 at night and 8 by day: 3 round
                // the clock and 5 by day).
                let n: Vec<usize> = d.ids_by_hour.iter().map(|s| s.len()).collect();
                let mut pools: Vec<(Option<(u32, u32)>, u32)> = Vec::new();
                for k in 1..=n.iter().copied().max().unwrap_or(0) {
                    let hours: Vec<u32> = (0..24).filter(|&h| n[h as usize] >= k).collect();
                    let shift = match (hours.first(), hours.last()) {
                        (Some(&a), Some(&b)) if hours.len() < 24 => Some((a, b + 1)),
                        _ => None,
                    };
                    match pools.iter_mut().find(|p| p.0 == shift) {
                        Some(p) => p.1 += 1,
                        None => pools.push((shift, 1)),
                    }
                }
                for (shift, count) in pools {
                    crews.push(CrewFit {
                        department: dept.clone(),
                        count,
                        from: "crew ids by hour",
                        shift,
                    });
                }
                continue;
            }
            let (count, from_what) = {
                d.edges.sort();
                let (mut now, mut most) = (0i32, 0i32);
                for (_, e) in &d.edges {
                    now += e;
                    most = most.max(now);
                }
                (most.max(1) as u32, "most at work at once")
            };
            // An hour is on shift where crews took cases in it: at least 1 % of them,
            // or on at least a fifth of the days (night hours with few cases, worked
            // every night, are still on).
            let total: u64 = d.hours.iter().sum();
            let busy: Vec<u32> = (0..24)
                .filter(|&h| {
                    d.hours[h as usize] * 100 >= total.max(1)
                        || d.days_with.get(h as usize).map_or(0, |s| s.len()) as f64
                            >= 0.2 * n_days as f64
                })
                .collect();
            let shift = match (busy.first(), busy.last()) {
                (Some(&a), Some(&b)) if busy.len() < 22 && b >= a => Some((a, b + 1)),
                _ => None,
            };
            crews.push(CrewFit {
                department: dept,
                count: count.max(1),
                from: from_what,
                shift,
            });
        }
        for ((class, given, table), n) in &self.elsewhere {
            kept.push((
                format!("department of {class}"),
                format!(
                    "the history sends {n} of its cases to {given}, the category table to {table}: the scenario follows the table (its crews are counted there)"
                ),
            ));
        }
        // departments whose cases the history has but whose crews it does not show
        for (kind, class) in self.categories.keys() {
            let Some(dept) = input.departments.get(&format!("{kind}:{class}")) else {
                continue;
            };
            if !crews.iter().any(|c| &c.department == dept) {
                kept.push((
                    format!("crews of {dept}"),
                    "the history shows none at work: 1 crew, round the clock".into(),
                ));
                crews.push(CrewFit {
                    department: dept.clone(),
                    count: 1,
                    from: "nothing in the history (kept)",
                    shift: None,
                });
            }
        }
        let dispatch_by_routing: Vec<(Routing, StepFit)> = std::mem::take(&mut self.by_routing)
            .into_iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|(_, xs)| xs.len() >= MIN_PER_CATEGORY)
            .map(|(r, xs)| {
                (
                    r,
                    StepFit {
                        step: format!("dispatch ({})", routing_name(r)),
                        mean: mean_interval(&xs),
                        fits: fit_all(&xs),
                    },
                )
            })
            .collect();
        // (a department with few trips: the pooled shape on its own mean)
        let pooled_trip = steps
            .iter()
            .find(|s| s.step == "travel")
            .map(|s| s.fits[0].clone());
        let travel_by_department: Vec<(String, StepFit)> = std::mem::take(&mut self.trips)
            .into_iter()
            .filter(|(_, xs)| xs.len() >= MIN_OWN_SCALE)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(d, xs)| {
                let fits = match &pooled_trip {
                    Some(p) if xs.len() < MIN_PER_CATEGORY => vec![p.rescaled_to(&xs)],
                    _ => fit_all(&xs),
                };
                let fit = StepFit {
                    step: format!("travel ({d})"),
                    mean: mean_interval(&xs),
                    fits,
                };
                (d, fit)
            })
            .collect();
        let hand_overs = self.hand_overs();
        // Each ladder stage's mean delay by deconvolution: a closure by compliance at
        // stage k took the stages up to k, then the check.
        let check_mean = steps.iter().find(|s| s.step == "check").map(|s| s.mean.0);
        let ladder_delays = self
            .categories
            .iter()
            .filter(|(_, a)| !a.actions.is_empty())
            .map(|((kind, class), a)| {
                let mut before = 0.0;
                let mut known = true;
                let delays = a
                    .actions
                    .iter()
                    .map(|act| {
                        let (sum, n) = a.complied_span.get(act).copied().unwrap_or((0.0, 0));
                        let d = match check_mean {
                            Some(cm) if known && n >= 5 => Some(sum / n as f64 - cm - before),
                            _ => None,
                        };
                        match d {
                            Some(d) if d > 0.0 => {
                                before += d;
                                Some((d, n))
                            }
                            _ => {
                                known = false;
                                None
                            }
                        }
                    })
                    .collect();
                (format!("{kind}:{class}"), delays)
            })
            .collect();
        let intake_delays = std::mem::take(&mut self.delays)
            .into_iter()
            .filter(|(_, v)| v.len() >= 2)
            .filter_map(|(k, v)| fit_all(&v).into_iter().next().map(|f| (k, f)))
            .collect();
        Ok(Calibration {
            from,
            to,
            days,
            categories,
            hotspots,
            hotspot_variance,
            steps,
            handle_by_category,
            not_registered: wilson(self.not_registered, self.verified),
            check_failure: wilson(self.reworks, self.checks.max(self.reworks)),
            extension: wilson(self.extended, self.dispatched),
            crews,
            unused: self.unused,
            kept,
            components_per_class: input.components_per_class.clone(),
            utc_offset_s: off,
            ladders,
            intake_delays,
            dispatch_by_routing,
            hand_overs,
            ladder_delays,
            travel_by_department,
        })
    }

    /// The hand-overs: forwarding per territorial category, returns as a truncated
    /// geometric (each send is a trial until the centre designates), a hop's time.
    pub(super) fn hand_overs(&mut self) -> HandOvers {
        let forwarded = self
            .forwarded
            .iter()
            .map(|(k, &(f, n))| (k.clone(), f, n))
            .collect();
        let most = self.returns_hist.len().saturating_sub(1) as u32;
        let designate_after = most.max(2);
        let (mut hits, mut trials) = (0u64, 0u64);
        for (r, &n) in self.returns_hist.iter().enumerate() {
            hits += r as u64 * n;
            trials += (r as u64 + (r < designate_after as usize) as u64) * n;
        }
        let return_probability = (trials > 0).then(|| wilson(hits, trials));
        let hop = if self.single_hops.len() >= MIN_PER_CATEGORY {
            Some(StepFit {
                step: "hop".into(),
                mean: mean_interval(&self.single_hops),
                fits: fit_all(&self.single_hops),
            })
        } else {
            // the mean of every hop (returns below the designation only)
            let (mut sum, mut hops) = (
                self.single_hops.iter().sum::<f64>(),
                self.single_hops.len() as f64,
            );
            for &(r, h, d) in &self.returned {
                if r < designate_after {
                    sum += d;
                    hops += h as f64;
                }
            }
            (hops > 0.0).then(|| StepFit {
                step: "hop".into(),
                mean: (sum / hops, f64::NAN, f64::NAN),
                fits: Vec::new(),
            })
        };
        let designated = hop.as_ref().and_then(|h| {
            let extra: Vec<f64> = self
                .returned
                .iter()
                .filter(|r| r.0 >= designate_after)
                .map(|&(_, hops, d)| d - hops as f64 * h.mean.0)
                .collect();
            let m = extra.iter().sum::<f64>() / extra.len().max(1) as f64;
            (!extra.is_empty() && m > 0.0).then_some((m, extra.len() as u64))
        });
        HandOvers {
            forwarded,
            return_probability,
            designate_after,
            hop,
            designated,
        }
    }
}

pub(super) fn routing_name(r: Routing) -> &'static str {
    match r {
        Routing::Owner => "owner",
        Routing::Territory => "territory",
        Routing::Negotiated => "negotiated",
        Routing::Designated => "designated",
    }
}

/// The exact (Garwood) 95 % interval of a Poisson count.
pub fn poisson_interval(n: u64) -> (f64, f64) {
    poisson_interval_at(n, 0.95)
}

/// The exact (Garwood) interval of a Poisson count at confidence `level`.
pub fn poisson_interval_at(n: u64, level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    let lo = if n == 0 {
        0.0
    } else {
        gamma_quantile(n as f64, tail)
    };
    (lo, gamma_quantile(n as f64 + 1.0, 1.0 - tail))
}

/// A share with its Wilson 95 % interval.
pub(super) fn wilson(hits: u64, of: u64) -> Share {
    if of == 0 {
        return Share {
            hits,
            of,
            value: 0.0,
            low: 0.0,
            high: 1.0,
        };
    }
    let (n, p, z) = (of as f64, hits as f64 / of as f64, 1.959_963_984_540_054);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Share {
        hits,
        of,
        value: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// Weights with mean 1 (all zeros stay zeros).
pub(super) fn normalise<const N: usize>(mut w: [f64; N]) -> [f64; N] {
    let mean = w.iter().sum::<f64>() / N as f64;
    if mean > 0.0 {
        for v in &mut w {
            *v /= mean;
        }
    }
    w
}

/// Least-squares slope of daily counts, with its 95 % interval (normal).
pub(super) fn trend(daily: &[f64]) -> (f64, f64, f64) {
    let n = daily.len() as f64;
    if daily.len() < 3 {
        return (0.0, f64::NAN, f64::NAN);
    }
    let xm = (n - 1.0) / 2.0;
    let ym = daily.iter().sum::<f64>() / n;
    let sxx: f64 = (0..daily.len()).map(|i| (i as f64 - xm).powi(2)).sum();
    let sxy: f64 = daily
        .iter()
        .enumerate()
        .map(|(i, y)| (i as f64 - xm) * (y - ym))
        .sum();
    let b = sxy / sxx;
    let resid: f64 = daily
        .iter()
        .enumerate()
        .map(|(i, y)| (y - ym - b * (i as f64 - xm)).powi(2))
        .sum();
    let se = (resid / (n - 2.0) / sxx).sqrt();
    (b, b - 1.96 * se, b + 1.96 * se)
}

/// Mean with a 95 % normal interval.
pub(super) fn mean_interval(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let h = 1.96 * sd / n.sqrt();
    (m, m - h, m + h)
}

/// Poisson–gamma empirical Bayes: counts n_g against expectations e_g (events ×
/// area share); the rate ratio's between-grid variance τ² by the method of moments;
/// each grid's factor (n_g + 1/τ²) / (e_g + 1/τ²).
pub(super) fn eb_hotspots(
    grids: &[(String, f64)],
    counts: &BTreeMap<&str, f64>,
    events: f64,
    total_area: f64,
) -> (BTreeMap<String, f64>, f64) {
    let e: Vec<f64> = grids.iter().map(|g| events * g.1 / total_area).collect();
    let g = grids.len() as f64;
    let q: f64 = grids
        .iter()
        .zip(&e)
        .filter(|(_, &e)| e > 0.0)
        .map(|(gr, &e)| (counts.get(gr.0.as_str()).copied().unwrap_or(0.0) - e).powi(2) / e)
        .sum();
    let se: f64 = e.iter().sum();
    let se2: f64 = e.iter().map(|x| x * x).sum();
    let tau2 = ((q - (g - 1.0)) / (se - se2 / se)).max(0.0);
    let mut out = BTreeMap::new();
    if tau2 > 0.0 {
        let k = 1.0 / tau2;
        for (gr, &e) in grids.iter().zip(&e) {
            let n = counts.get(gr.0.as_str()).copied().unwrap_or(0.0);
            let f = (n + k) / (e + k);
            // (two decimals: a factor within half a percent of 1 is no hotspot)
            let f = (f * 100.0).round() / 100.0;
            if f != 1.0 {
                out.insert(gr.0.clone(), f);
            }
        }
    }
    (out, tau2)
}
