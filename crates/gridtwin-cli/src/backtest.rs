//! `gridtwin backtest`: fit on the history before T, start from its state at T,
//! simulate the next N days R times, and score the forecast against what happened.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_sim::engine::World;
use gridtwin_sim::local_time;
use gridtwin_sim::timeline::CaseRecord;
use plotters::prelude::*;

use crate::calibrate::HistoryCity;

#[derive(Args)]
pub struct BacktestArgs {
    /// The case history (as `gridtwin calibrate` reads it).
    history: PathBuf,
    /// The city directory.
    #[arg(long, value_name = "DIR")]
    city: PathBuf,
    /// Fit on the cases taken in before this time, and start the forecast at it
    /// (ISO 8601).
    #[arg(long, value_name = "TIME")]
    train_until: String,
    /// Days to forecast after T.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Simulated futures to draw the band from.
    #[arg(long, default_value_t = 20)]
    replications: u64,
    /// Seed of the first replication.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (DIR: fitted.toml, backtest.csv, verdicts.csv, report.html,
    /// inflow.png, backlog.png).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// One indicator's score.
struct Verdict {
    indicator: &'static str,
    measure: &'static str,
    value: f64,
    verdict: &'static str,
}

/// Per-day series: actual, and the simulated 2.5 %, mean and 97.5 %.
struct Band {
    actual: Vec<f64>,
    lo: Vec<f64>,
    mean: Vec<f64>,
    hi: Vec<f64>,
}

impl Band {
    fn coverage(&self) -> f64 {
        let inside = (0..self.actual.len())
            .filter(|&i| self.lo[i] <= self.actual[i] && self.actual[i] <= self.hi[i])
            .count();
        inside as f64 / self.actual.len().max(1) as f64
    }
}

pub fn run(data: &Path, a: BacktestArgs) -> Result<ExitCode> {
    if a.days == 0 || a.replications < 2 {
        bail!("--days must be at least 1 and --replications at least 2");
    }
    let t0 =
        local_time::parse(&a.train_until).map_err(|e| anyhow::anyhow!("--train-until: {e}"))?;
    let h = HistoryCity::load(data, &a.city, &a.history)?;
    let end = t0 + a.days as i64 * 86_400;
    let last = h
        .cases
        .iter()
        .filter_map(|c| c.intake_at)
        .max()
        .unwrap_or(0);
    if last < end - 86_400 {
        bail!(
            "{}: the history ends at {}, before the forecast's last day (from {})",
            a.history.display(),
            local_time::format(last, h.offset),
            local_time::format(end - 86_400, h.offset)
        );
    }
    // fit on whole days before T
    let fitted = h.fit(None, Some(t0))?;
    std::fs::create_dir_all(&a.out)?;
    let scenario_path = a.out.join("fitted.toml");
    h.write_scenario(
        &fitted,
        &scenario_path,
        &local_time::format(t0, h.offset),
        a.days as f64,
    )?;
    let loaded = gridtwin_sim::scenario::Scenario::load_with(
        &scenario_path,
        gridtwin_sim::scenario::PathPolicy::Anywhere,
    )?;
    let calendar = gridtwin_sim::WorkingCalendar::load(&loaded.scenario.calendar)?;
    let mut world = World::new(loaded.scenario.clone(), &h.city, &h.table, calendar)?;
    let st = world.start_from(&h.cases);
    let open_at_t0 =
        st.awaiting_verification + st.awaiting_dispatch + st.with_department + st.awaiting_check;
    println!(
        "fitted on {:.1} days before {}; {open_at_t0} cases open at T; {} futures of {} days",
        fitted.days,
        local_time::format(t0, h.offset),
        a.replications,
        a.days
    );
    let reps = gridtwin_sim::study::replicate(&world, a.seed, a.replications, &|| {});
    let sims: Vec<Vec<CaseRecord>> = reps.iter().map(|(r, _)| r.records()).collect();
    drop(reps);

    let days: Vec<i64> = (0..a.days as i64).map(|d| t0 + d * 86_400).collect();
    let inflow = |cs: &[CaseRecord]| -> Vec<f64> {
        days.iter()
            .map(|&d| {
                cs.iter()
                    .filter(|c| c.intake_at.is_some_and(|t| t >= d && t < d + 86_400))
                    .count() as f64
            })
            .collect()
    };
    let backlog = |cs: &[CaseRecord]| -> Vec<f64> {
        days.iter()
            .map(|&d| {
                let at = d + 86_400;
                cs.iter()
                    .filter(|c| {
                        c.intake_at.is_some_and(|t| t < at) && c.closed_at.is_none_or(|t| t >= at)
                    })
                    .count() as f64
            })
            .collect()
    };
    let band_of = |f: &dyn Fn(&[CaseRecord]) -> Vec<f64>| -> Band {
        let actual = f(&h.cases);
        let per: Vec<Vec<f64>> = sims.iter().map(|s| f(s)).collect();
        let n = actual.len();
        let q = |i: usize, p: f64| {
            let mut v: Vec<f64> = per.iter().map(|s| s[i]).collect();
            v.sort_by(f64::total_cmp);
            quantile(&v, p)
        };
        Band {
            lo: (0..n).map(|i| q(i, 0.025)).collect(),
            hi: (0..n).map(|i| q(i, 0.975)).collect(),
            mean: (0..n)
                .map(|i| per.iter().map(|s| s[i]).sum::<f64>() / per.len() as f64)
                .collect(),
            actual,
        }
    };
    let inflow_band = band_of(&inflow);
    let backlog_band = band_of(&backlog);

    // distributions of response and close times of the cases taken in after T
    let minutes = |cs: &[CaseRecord], to: fn(&CaseRecord) -> Option<i64>| -> Vec<f64> {
        let mut v: Vec<f64> = cs
            .iter()
            .filter(|c| c.intake_at.is_some_and(|t| t >= t0 && t < end))
            .filter_map(|c| Some((to(c)? - c.intake_at?) as f64 / 60.0))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let pooled = |to: fn(&CaseRecord) -> Option<i64>| -> Vec<f64> {
        let mut v: Vec<f64> = sims.iter().flat_map(|s| minutes(s, to)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let arrived: fn(&CaseRecord) -> Option<i64> = |c| c.first_arrived_at.or(c.arrived_at);
    let closed: fn(&CaseRecord) -> Option<i64> = |c| c.closed_at;
    let ks_response = ks_two_sample(&minutes(&h.cases, arrived), &pooled(arrived));
    let ks_close = ks_two_sample(&minutes(&h.cases, closed), &pooled(closed));

    // inflow in the ten busiest grids — busiest before T: picking them by what
    // happened after T would pick grids that were lucky, above any band
    let grid_counts = |cs: &[CaseRecord], from: i64, to: i64| -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        for c in cs {
            if c.intake_at.is_some_and(|t| t >= from && t < to) && !c.grid_code.is_empty() {
                *m.entry(c.grid_code.to_string()).or_insert(0.0) += 1.0;
            }
        }
        m
    };
    let actual_grids = grid_counts(&h.cases, t0, end);
    let training = grid_counts(&h.cases, i64::MIN, t0);
    let mut top: Vec<(&String, &f64)> = training.iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    top.truncate(10);
    let sim_grids: Vec<BTreeMap<String, f64>> =
        sims.iter().map(|s| grid_counts(s, t0, end)).collect();
    let mut grid_rows = Vec::new();
    for (g, _) in &top {
        let n = actual_grids.get(*g).copied().unwrap_or(0.0);
        let mut v: Vec<f64> = sim_grids
            .iter()
            .map(|m| m.get(*g).copied().unwrap_or(0.0))
            .collect();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = (quantile(&v, 0.025), quantile(&v, 0.975));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        grid_rows.push(((*g).clone(), n, lo, mean, hi));
    }
    let grid_cov = grid_rows
        .iter()
        .filter(|r| r.2 <= r.1 && r.1 <= r.4)
        .count() as f64
        / grid_rows.len().max(1) as f64;

    let by_coverage = |c: f64| {
        if c >= 0.8 {
            "good"
        } else if c >= 0.5 {
            "fair"
        } else {
            "poor"
        }
    };
    let by_ks = |d: f64| {
        if d < 0.1 {
            "good"
        } else if d < 0.2 {
            "fair"
        } else {
            "poor"
        }
    };
    let verdicts = [
        Verdict {
            indicator: "daily inflow",
            measure: "coverage of the 95 % band",
            value: inflow_band.coverage(),
            verdict: by_coverage(inflow_band.coverage()),
        },
        Verdict {
            indicator: "backlog at day end",
            measure: "coverage of the 95 % band",
            value: backlog_band.coverage(),
            verdict: by_coverage(backlog_band.coverage()),
        },
        Verdict {
            indicator: "response time",
            measure: "KS distance, actual vs simulated",
            value: ks_response,
            verdict: by_ks(ks_response),
        },
        Verdict {
            indicator: "close time",
            measure: "KS distance, actual vs simulated",
            value: ks_close,
            verdict: by_ks(ks_close),
        },
        Verdict {
            indicator: "inflow of the 10 busiest grids",
            measure: "coverage of the 95 % band",
            value: grid_cov,
            verdict: by_coverage(grid_cov),
        },
    ];

    // backtest.csv: every compared value; verdicts.csv: one row per indicator
    let mut csv = String::from("indicator,key,actual,sim_lo_95,sim_mean,sim_hi_95,inside\n");
    for (name, b) in [("inflow", &inflow_band), ("backlog", &backlog_band)] {
        for (i, &d) in days.iter().enumerate() {
            csv.push_str(&format!(
                "{name},{},{},{:.3},{:.3},{:.3},{}\n",
                local_time::format(d, h.offset),
                b.actual[i],
                b.lo[i],
                b.mean[i],
                b.hi[i],
                b.lo[i] <= b.actual[i] && b.actual[i] <= b.hi[i]
            ));
        }
    }
    for (g, n, lo, mean, hi) in &grid_rows {
        csv.push_str(&format!(
            "grid_inflow,{g},{n},{lo:.3},{mean:.3},{hi:.3},{}\n",
            *lo <= *n && *n <= *hi
        ));
    }
    write_bytes_atomic(&a.out.join("backtest.csv"), csv.as_bytes())?;
    // (measures hold commas: written through the csv writer, quoted)
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["indicator", "measure", "value", "verdict"])?;
    for v in &verdicts {
        w.write_record([
            v.indicator,
            v.measure,
            &format!("{:.4}", v.value),
            v.verdict,
        ])?;
    }
    let vcsv = w.into_inner()?;
    write_bytes_atomic(&a.out.join("verdicts.csv"), &vcsv)?;
    crate::charts::register_font(data)?;
    let label = |d: i64| crate::charts::day_label(d, h.offset);
    draw_band(
        &a.out.join("inflow.png"),
        "Cases taken in per day",
        "cases",
        &days,
        &inflow_band,
        &label,
    )?;
    draw_band(
        &a.out.join("backlog.png"),
        "Open cases at the end of each day",
        "open cases",
        &days,
        &backlog_band,
        &label,
    )?;
    let mut html = format!(
        "<!doctype html><meta charset=utf-8><title>Backtest</title><style>body{{font-family:sans-serif;max-width:960px;margin:auto}}td,th{{padding:4px 10px;text-align:left}}</style>\
         <h1>Backtest</h1><p>Fitted on <code>{}</code> before {}, started from its {} open cases, {} futures of {} days, scored against what happened.</p>\
         <table><tr><th>indicator</th><th>measure</th><th>value</th><th>verdict</th></tr>",
        esc(&a.history.display().to_string()),
        local_time::format(t0, h.offset),
        open_at_t0,
        a.replications,
        a.days
    );
    for v in &verdicts {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
            v.indicator, v.measure, v.value, v.verdict
        ));
    }
    html.push_str("</table><p><img src=inflow.png width=900><p><img src=backlog.png width=900>");
    html.push_str("<p>Coverage: the share of days (or grids) whose actual value lies inside the simulated 95 % band (good ≥ 0.8, fair ≥ 0.5). KS: the largest gap between the actual and simulated distribution functions (good &lt; 0.1, fair &lt; 0.2).</p>");
    write_bytes_atomic(&a.out.join("report.html"), html.as_bytes())?;
    for v in &verdicts {
        println!(
            "  {:<32} {:<34} {:>6.3}  {}",
            v.indicator, v.measure, v.value, v.verdict
        );
    }
    println!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The p-quantile of sorted values (linear between order statistics).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let x = p * (sorted.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x - x.floor());
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] * (1.0 - f) + sorted[j] * f
}

/// The two-sample Kolmogorov–Smirnov distance of two sorted samples.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// The actual line over the simulated band, the way forecasters show it.
fn draw_band(
    out: &Path,
    title: &str,
    unit: &str,
    days: &[i64],
    b: &Band,
    label: &dyn Fn(i64) -> String,
) -> Result<()> {
    let n = days.len();
    let top = b.hi.iter().chain(&b.actual).cloned().fold(1.0, f64::max) * 1.1;
    {
        let root = BitMapBackend::new(out, (900, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)?;
        chart
            .configure_mesh()
            .x_labels(n.min(14))
            .x_label_formatter(&|x| {
                let i = x.round() as i64;
                if i >= 0 && (i as usize) < n && (x - i as f64).abs() < 1e-6 {
                    label(days[i as usize])
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(unit)
            .x_desc("local day")
            .draw()?;
        let blue = RGBColor(0x1f, 0x77, 0xb4);
        let pts = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect()
        };
        let mut poly = pts(&b.hi);
        poly.extend(pts(&b.lo).into_iter().rev());
        chart
            .draw_series(std::iter::once(Polygon::new(poly, blue.mix(0.2).filled())))?
            .label("simulated 95 % band")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], blue.mix(0.2).filled())
            });
        chart
            .draw_series(LineSeries::new(pts(&b.mean), blue.stroke_width(2)))?
            .label("simulated mean")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], blue.stroke_width(2))
            });
        chart
            .draw_series(LineSeries::new(pts(&b.actual), BLACK.stroke_width(3)))?
            .label("what happened")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(3)));
        chart.draw_series(
            pts(&b.actual)
                .into_iter()
                .map(|p| Circle::new(p, 4, BLACK.filled())),
        )?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ks_two_sample_by_hand() {
        assert_eq!(super::ks_two_sample(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert_eq!(super::ks_two_sample(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        assert!((super::ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[2.5, 3.5]) - 0.5).abs() < 1e-12);
        assert_eq!(super::quantile(&[0.0, 10.0], 0.25), 2.5);
    }
}
