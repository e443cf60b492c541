//! `gridtwin report`: one self-contained HTML page (tables and inline SVG charts) plus
//! PNG charts, readable by a planner without the tool. Only aggregates are shown:
//! no case ids, crews or reporters.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use gridtwin_core::CodeRule;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::load::format_time;
use gridtwin_sim::kpi::{compute, KpiSettings};
use gridtwin_sim::timeline::{read_csv, CaseRecord, CrewRecord};
use gridtwin_sim::vitals::{load_thresholds, vitals, warnings, AreaLevel, INDICATORS};
use plotters::prelude::*;

#[derive(Args)]
pub struct ReportArgs {
    /// A case timeline (`rep_NNN/timeline.csv` of `simulate`, or a history file).
    timeline: PathBuf,
    /// Output directory (DIR: report.html, backlog.png, inflow.png).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn backlog_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    series: &[(i64, u32)],
    t0: i64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let max_x = series
        .last()
        .map(|p| (p.0 - t0) as f64 / 3600.0)
        .unwrap_or(1.0)
        .max(1.0);
    let max_y = series.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut c = ChartBuilder::on(&root)
        .caption("Open cases (backlog) over time", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..max_x, 0f64..max_y)
        .map_err(e)?;
    c.configure_mesh()
        .x_desc("hours from start")
        .y_desc("open cases")
        .draw()
        .map_err(e)?;
    c.draw_series(LineSeries::new(
        series
            .iter()
            .map(|p| ((p.0 - t0) as f64 / 3600.0, p.1 as f64)),
        RGBColor(31, 119, 180).stroke_width(2),
    ))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

fn inflow_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    days: &[(String, f64)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let max_y = days.iter().map(|d| d.1).fold(1.0, f64::max) * 1.1;
    let n = days.len().max(1);
    let mut c = ChartBuilder::on(&root)
        .caption("Cases taken in per day", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n as f64, 0f64..max_y)
        .map_err(e)?;
    c.configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            days.get(*x as usize)
                .map(|d| d.0.clone())
                .unwrap_or_default()
        })
        .y_desc("cases")
        .draw()
        .map_err(e)?;
    c.draw_series(days.iter().enumerate().map(|(i, d)| {
        Rectangle::new(
            [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, d.1)],
            RGBColor(214, 39, 40).filled(),
        )
    }))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

pub fn run(data: &Path, a: ReportArgs) -> Result<ExitCode> {
    crate::charts::register_font(data)?;
    let cases: Vec<CaseRecord> = read_csv(&a.timeline).map_err(anyhow::Error::msg)?;
    if cases.is_empty() {
        bail!("{}: no cases", a.timeline.display());
    }
    let crews_path = a.timeline.with_file_name("crews.csv");
    let crews: Vec<CrewRecord> = if crews_path.exists() {
        read_csv(&crews_path).map_err(anyhow::Error::msg)?
    } else {
        Vec::new()
    };
    let rule = CodeRule::load(&data.join("code_rule.toml"))?;
    // cases that cannot enter (no intake, times out of range, no area code) are
    // counted out with their reason, not dropped unseen
    let read = cases.len();
    let street_level = AreaLevel::CodePrefix(rule.width(gridtwin_core::Level::Street));
    let (cases, rejected) = gridtwin_sim::vitals::screen(cases, street_level);
    if !rejected.is_empty() {
        eprintln!(
            "{} of {read} cases left out of the report; first: record {}: {}",
            rejected.len(),
            rejected[0].0,
            rejected[0].2
        );
    }
    if cases.is_empty() {
        bail!(
            "{}: none of its {read} cases can be reported",
            a.timeline.display()
        );
    }
    let (start, end) = gridtwin_sim::vitals::span(&cases, 3600, 0);
    if (end - start) / 3600 > 24 * 366 * 5 {
        bail!(
            "{}: the cases span more than five years of hours; report a shorter history",
            a.timeline.display()
        );
    }
    let k = compute(
        &cases,
        &crews,
        KpiSettings {
            start,
            end,
            sample_secs: 3600,
            repeat_radius_m: 50.0,
            repeat_window_secs: 72 * 3600,
        },
    );
    let off = gridtwin_sim::WorkingCalendar::load(&data.join("calendar.toml"))?.utc_offset_s();
    let day0 = (start + off).div_euclid(86_400) * 86_400 - off;
    let street = vitals(
        &cases,
        AreaLevel::CodePrefix(rule.width(gridtwin_core::Level::Street)),
        day0,
        end,
        86_400,
        50.0,
        72 * 3600,
        gridtwin_sim::vitals::MIN_GROUP,
    );
    let thresholds =
        load_thresholds(&data.join("vitals_thresholds.csv")).map_err(anyhow::Error::msg)?;
    let community = vitals(
        &cases,
        AreaLevel::CodePrefix(rule.width(gridtwin_core::Level::Community)),
        start,
        end,
        3600,
        50.0,
        72 * 3600,
        gridtwin_sim::vitals::MIN_GROUP,
    );
    let mut warns = warnings(&street, "street", &thresholds);
    warns.extend(warnings(&community, "community", &thresholds));

    // inflow per local day (the calendar's time zone)
    let mut days: Vec<(String, f64)> = Vec::new();
    let mut t = (start + off).div_euclid(86_400) * 86_400 - off;
    while t < end {
        let n = cases
            .iter()
            .filter(|c| c.intake_at.is_some_and(|i| i >= t && i < t + 86_400))
            .count();
        days.push((format_time(t + off)[5..10].to_string(), n as f64));
        t += 86_400;
    }
    std::fs::create_dir_all(&a.out)?;
    let size = (900, 420);
    let mut backlog_svg = String::new();
    backlog_chart(
        SVGBackend::with_string(&mut backlog_svg, size).into_drawing_area(),
        &k.backlog,
        start,
    )?;
    let mut inflow_svg = String::new();
    inflow_chart(
        SVGBackend::with_string(&mut inflow_svg, size).into_drawing_area(),
        &days,
    )?;
    for (name, which) in [("backlog.png", 0), ("inflow.png", 1)] {
        let tmp = a
            .out
            .join(format!(".{name}.tmp-{}.png", std::process::id()));
        {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            if which == 0 {
                backlog_chart(root, &k.backlog, start)?
            } else {
                inflow_chart(root, &days)?
            }
        }
        std::fs::rename(&tmp, a.out.join(name))?;
    }

    let mut h = String::new();
    h.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>gridtwin report</title><style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.red{color:#b00}.amber{color:#b60}</style></head><body>");
    h.push_str(&format!("<h1>City vital signs</h1><p>Timeline: <code>{}</code><br>{} cases, {} to {}. Every figure below is computed from the case timeline.</p>", esc(&a.timeline.display().to_string()), cases.len(), format_time(start), format_time(end)));
    h.push_str("<h2>Indicators</h2><table><tr><th>indicator</th><th>value</th></tr>");
    for (n, v) in &k.values {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(n),
            if v.is_finite() {
                format!("{v:.3}")
            } else {
                "–".into()
            }
        ));
    }
    h.push_str("</table>");
    h.push_str(&backlog_svg);
    h.push_str(&inflow_svg);
    h.push_str(&format!("<h2>Early warnings ({})</h2><table><tr><th>area</th><th>from</th><th>indicator</th><th>value</th><th>threshold</th><th>severity</th></tr>", warns.len()));
    for w in warns.iter().take(100) {
        h.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{} {}</td><td class=\"{}\">{}</td></tr>", esc(&w.area), format_time(w.bucket), esc(&w.indicator), w.value, esc(&w.op), w.threshold, esc(&w.severity), esc(&w.severity)));
    }
    h.push_str("</table><h2>Streets, per day</h2><table><tr><th>street</th><th>local day</th>");
    for n in INDICATORS {
        h.push_str(&format!("<th>{}</th>", n.replace('_', " ")));
    }
    h.push_str("</tr>");
    for r in &street {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>",
            esc(&r.area),
            &format_time(r.bucket + off)[..10]
        ));
        for v in r.values {
            h.push_str(&format!(
                "<td>{}</td>",
                if v.is_finite() {
                    format!("{:.2}", v)
                } else {
                    "–".into()
                }
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p>Formulas: see <code>gridtwin_sim::vitals</code> (inflow, closed, backlog at bucket end, overdue = open past deadline at bucket end, on-time rate = closed by deadline / closed, medians of response and handling time, repeats = same category within 50 m and 72 h).</p></body></html>\n");
    write_bytes_atomic(&a.out.join("report.html"), h.as_bytes())?;
    println!(
        "wrote {} ({} warnings), backlog.png, inflow.png",
        a.out.join("report.html").display(),
        warns.len()
    );
    Ok(ExitCode::SUCCESS)
}
