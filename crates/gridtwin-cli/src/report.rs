//! `gridtwin report`: one self-contained HTML page (tables and inline SVG charts) plus
//! PNG charts, readable by a planner without the tool. Only aggregates are shown:
//! no case ids, crews or reporters.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use gridtwin_core::CodeRule;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_sim::compare::{thousands, Better, Indicators};
use gridtwin_sim::kpi::{compute, KpiSettings};
use gridtwin_sim::timeline::{read_records, CaseRecord, CrewRecord};
use gridtwin_sim::vitals::{load_thresholds, vitals, warnings, AreaLevel, INDICATORS};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::charts::{
    count_label, count_ticks, day_label, frame, offset_label, Ticked, TimeAxis, DESC, LABEL,
};

#[derive(Args)]
pub struct ReportArgs {
    /// A case timeline (`rep_NNN/timeline.parquet` or `.csv` of `simulate`, or a history file).
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

/// "better is" as a table shows it: an arrow and the word, a dash for neither.
fn better_cell(b: Better) -> &'static str {
    match b {
        Better::Higher => "↑ higher",
        Better::Lower => "↓ lower",
        Better::Neither => "–",
    }
}

fn backlog_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    series: &[(i64, u32)],
    offset_s: i64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let start = series.first().map_or(0, |p| p.0);
    let end = series.last().map_or(start, |p| p.0);
    let axis = TimeAxis::new(start, end, offset_s);
    let max = series.iter().map(|p| p.1).max().unwrap_or(1);
    // headroom, so the peak does not run along the frame
    let (top, yticks) = count_ticks(max as f64 * 1.05, 8);
    let mut c = frame(&root, "Open cases (backlog) over time")
        .build_cartesian_2d(
            Ticked::new(axis.range(), axis.ticks(), axis.light()),
            Ticked::new(0.0..top, yticks, Vec::new()),
        )
        .map_err(e)?;
    c.configure_mesh()
        .x_desc(axis.desc())
        .y_desc("open cases")
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(&count_label)
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", DESC))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    c.draw_series(LineSeries::new(
        series.iter().map(|p| (axis.x(p.0), p.1 as f64)),
        RGBColor(31, 119, 180).stroke_width(2),
    ))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Cases taken in per local day: (day label, count) bars, each with its count above.
fn inflow_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    days: &[(String, u64)],
    offset_s: i64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    root.fill(&WHITE).map_err(e)?;
    let max = days.iter().map(|d| d.1).max().unwrap_or(1);
    // headroom for the count printed above the tallest bar
    let (top, yticks) = count_ticks(max as f64 * 1.08, 8);
    let n = days.len().max(1);
    let mut c = frame(&root, "Cases taken in per day")
        .build_cartesian_2d(
            Ticked::new(
                0.0..n as f64,
                (0..n).map(|i| i as f64 + 0.5).collect(),
                Vec::new(),
            ),
            Ticked::new(0.0..top, yticks, Vec::new()),
        )
        .map_err(e)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| {
            days.get(x.floor() as usize)
                .map(|d| d.0.clone())
                .unwrap_or_default()
        })
        .x_desc(format!("local day ({})", offset_label(offset_s)))
        .y_desc("cases taken in")
        .y_label_formatter(&count_label)
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", DESC))
        .draw()
        .map_err(e)?;
    c.draw_series(days.iter().enumerate().map(|(i, d)| {
        Rectangle::new(
            [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, d.1 as f64)],
            RGBColor(214, 39, 40).filled(),
        )
    }))
    .map_err(e)?;
    let above = TextStyle::from(("sans-serif", LABEL).into_font())
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    c.draw_series(days.iter().enumerate().map(|(i, d)| {
        Text::new(
            thousands(d.1 as i64),
            (i as f64 + 0.5, d.1 as f64),
            above.clone(),
        )
    }))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

pub fn run(data: &Path, a: ReportArgs) -> Result<ExitCode> {
    crate::charts::register_font(data)?;
    let cases: Vec<CaseRecord> = read_records(&a.timeline).map_err(anyhow::Error::msg)?;
    if cases.is_empty() {
        bail!("{}: no cases", a.timeline.display());
    }
    let crews_path = a.timeline.with_file_name("crews.csv");
    let crews: Vec<CrewRecord> = if crews_path.exists() {
        read_records(&crews_path).map_err(anyhow::Error::msg)?
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
    let mut days: Vec<(String, u64)> = Vec::new();
    let mut t = day0;
    while t < end {
        let n = cases
            .iter()
            .filter(|c| c.intake_at.is_some_and(|i| i >= t && i < t + 86_400))
            .count();
        days.push((day_label(t, off), n as u64));
        t += 86_400;
    }
    let table = Indicators::load(&data.join("indicators.csv")).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&a.out)?;
    let size = (900, 420);
    let mut backlog_svg = String::new();
    backlog_chart(
        SVGBackend::with_string(&mut backlog_svg, size).into_drawing_area(),
        &k.backlog,
        off,
    )?;
    let mut inflow_svg = String::new();
    inflow_chart(
        SVGBackend::with_string(&mut inflow_svg, size).into_drawing_area(),
        &days,
        off,
    )?;
    for (name, which) in [("backlog.png", 0), ("inflow.png", 1)] {
        let tmp = a
            .out
            .join(format!(".{name}.tmp-{}.png", std::process::id()));
        {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            if which == 0 {
                backlog_chart(root, &k.backlog, off)?
            } else {
                inflow_chart(root, &days, off)?
            }
        }
        std::fs::rename(&tmp, a.out.join(name))?;
    }

    // Local times as a table reads them: `2025-03-03 09:00`.
    let local = |t: i64| {
        let iso = gridtwin_sim::local_time::format(t, off);
        iso.get(..16).map_or(iso.clone(), |s| s.replace('T', " "))
    };
    let zone = offset_label(off);
    let mut h = String::new();
    h.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>gridtwin report</title><style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}td.code{text-align:left;color:#777;font-family:monospace;font-size:90%}td.better{text-align:center}.red{color:#b00}.amber{color:#b60}abbr{text-decoration:none}</style></head><body>");
    h.push_str(&format!("<h1>City vital signs</h1><p>Timeline: <code>{}</code><br>{} cases, {} to {} (local time, {zone}). Every figure below is computed from the case timeline.</p>", esc(&a.timeline.display().to_string()), thousands(cases.len() as i64), local(start), local(end)));
    h.push_str("<h2>Indicators</h2><table><tr><th>indicator</th><th>value</th><th>better is</th><th>machine name</th></tr>");
    let mut unknown = Vec::new();
    // in the table's order, where related indicators sit together
    let mut rows: Vec<_> = k
        .values
        .iter()
        .map(|(n, v)| {
            let d = table.get(n).unwrap_or_else(|| {
                unknown.push(n.as_str());
                table.describe(n)
            });
            (d, n, v)
        })
        .collect();
    rows.sort_by(|a, b| a.0.rank.cmp(&b.0.rank).then(a.1.cmp(b.1)));
    for (d, n, v) in rows {
        h.push_str(&format!(
            "<tr><td title=\"{}\">{}</td><td>{}</td><td class=\"better\">{}</td><td class=\"code\">{}</td></tr>",
            esc(n),
            esc(&d.name),
            esc(&d.unit.format(*v)),
            better_cell(d.better),
            esc(n)
        ));
    }
    if !unknown.is_empty() {
        eprintln!(
            "{} indicator(s) not in {} (shown by their machine name): {}",
            unknown.len(),
            data.join("indicators.csv").display(),
            unknown.join(", ")
        );
    }
    h.push_str("</table>");
    h.push_str(&backlog_svg);
    h.push_str(&inflow_svg);
    h.push_str(&format!("<h2>Early warnings ({})</h2><table><tr><th>area</th><th>from (local)</th><th>indicator</th><th>value</th><th>threshold</th><th>severity</th></tr>", thousands(warns.len() as i64)));
    for w in warns.iter().take(100) {
        let d = table.describe(&w.indicator);
        h.push_str(&format!("<tr><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td>{} {}</td><td class=\"{}\">{}</td></tr>", esc(&w.area), local(w.bucket), esc(&w.indicator), esc(&d.name), esc(&d.unit.format(w.value)), esc(w.op.symbol()), esc(&d.unit.format(w.threshold)), esc(&w.severity), esc(&w.severity)));
    }
    h.push_str("</table><h2>Streets, per day</h2><table><tr><th>street</th><th>local day</th>");
    let columns: Vec<_> = INDICATORS.iter().map(|n| table.describe(n)).collect();
    for (n, d) in INDICATORS.iter().zip(&columns) {
        h.push_str(&format!(
            "<th title=\"{} ({} is better)\">{}{}</th>",
            esc(n),
            d.better.as_str(),
            esc(&d.name),
            d.unit.suffix().map_or(String::new(), |u| format!(" ({u})"))
        ));
    }
    h.push_str("</tr>");
    for r in &street {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>",
            esc(&r.area),
            local(r.bucket).get(..10).unwrap_or_default()
        ));
        for (v, d) in r.values.iter().zip(&columns) {
            h.push_str(&format!("<td>{}</td>", esc(&d.unit.format_bare(*v))));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p>Formulas: see <code>gridtwin_sim::vitals</code> (inflow, closed, backlog at bucket end, overdue = open past deadline at bucket end, on-time rate = closed by deadline / closed, medians of response and handling time, repeats = same category within 50 m and 72 h). Names, units and directions: <code>indicators.csv</code> of the data tables; hover a name for its machine name.</p></body></html>\n");
    write_bytes_atomic(&a.out.join("report.html"), h.as_bytes())?;
    println!(
        "wrote {} ({} warnings), backlog.png, inflow.png",
        a.out.join("report.html").display(),
        warns.len()
    );
    Ok(ExitCode::SUCCESS)
}
