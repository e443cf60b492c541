//! `gridtwin calibrate`: a scenario fitted to a city's case history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridtwin_core::assign::Assigner;
use gridtwin_core::locate::LocatorOptions;
use gridtwin_core::Level;
use gridtwin_io::atomic::write_bytes_atomic;
use gridtwin_io::city_dir::load_city;
use gridtwin_sim::calibrate::{calibrate, duration, CalibrateInput, Calibration};
use gridtwin_sim::local_time;

#[derive(Args)]
pub struct CalibrateArgs {
    /// The case history: a `simulate` timeline, or any CSV/Parquet/GeoJSON with a case
    /// id (`case_id` or `id`), `category`, the intake time (`intake_at`, `time` or
    /// `reported_at`), and whatever else it has: `kind`, `grid_code` (else located
    /// from lon/lat in --city), `source`, `department`, `crew` and the step times
    /// (`verified_at`, `dispatched_at`, `assigned_at`, `arrived_at`, `handled_at`,
    /// `feedback_at`, `checked_at`, `closed_at`: ISO 8601, Unix seconds, or a local
    /// `YYYY-MM-DD HH:MM[:SS]` in the city's zone). Categories by code or name.
    history: PathBuf,
    /// The city directory (its grids and components; written into the scenario).
    #[arg(long, value_name = "DIR")]
    city: PathBuf,
    /// Fit only cases with intake at or after this time (ISO 8601).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Fit only cases with intake before this time (ISO 8601).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// The fitted scenario (FILE, TOML), runnable by `gridtwin simulate`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the fit report here (DIR: fits.csv, rates.csv, report.txt).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

pub fn run(data: &Path, a: CalibrateArgs) -> Result<ExitCode> {
    let when = |flag: &str, s: &Option<String>| -> Result<Option<i64>> {
        s.as_deref()
            .map(|t| local_time::parse(t).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
            .transpose()
    };
    let (from, to) = (when("from", &a.from)?, when("to", &a.to)?);
    let mut h = HistoryCity::open_areas(data, &a.city, &a.history)?;
    let fitted = h.fit_streamed(from, to)?;
    let start = local_time::format(fitted.to, h.offset);
    h.write_scenario(&fitted, &a.out, &start, 7.0)?;
    let unreadable = &h.unreadable;
    print_summary(&fitted, unreadable);
    if let Some(dir) = &a.report {
        write_report(dir, &fitted, unreadable)?;
        println!(
            "wrote {} and the fit report in {}",
            a.out.display(),
            dir.display()
        );
    } else {
        println!("wrote {}", a.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A history read against its city: what calibrate and backtest share.
pub(crate) struct HistoryCity {
    pub city: gridtwin_core::City,
    pub table: gridtwin_core::CategoryTable,
    pub city_dir: PathBuf,
    pub history: PathBuf,
    pub calendar_path: PathBuf,
    pub offset: i64,
    pub cases: Vec<gridtwin_sim::timeline::CaseRecord>,
    pub unreadable: BTreeMap<String, u64>,
    /// Components per class code (`MMmm`), for failure rates per component; `None`:
    /// counted from the city directory while fitting.
    pub components_per_class: Option<BTreeMap<String, u64>>,
}

impl HistoryCity {
    /// The city and the history, read whole (for a warm start or a backtest).
    pub fn load(data: &Path, city_dir: &Path, history: &Path) -> Result<Self> {
        let mut h = HistoryCity::open(data, city_dir, history)?;
        let assigner = h.assigner()?;
        let reading = crate::history::Reading {
            assigner: &assigner,
            table: &h.table,
            utc_offset_s: h.offset,
            whole: true,
        };
        let (cases, unreadable) = crate::history::read_history(history, &reading)?;
        h.cases = cases;
        h.unreadable = unreadable;
        Ok(h)
    }

    fn assigner(&self) -> Result<Assigner> {
        let grids: Vec<gridtwin_core::Area> = self.city.areas_at(Level::Grid).cloned().collect();
        if grids.is_empty() {
            bail!("{}: the city has no unit grids", self.city_dir.display());
        }
        Ok(Assigner::new(
            &grids,
            &self.city.rule,
            LocatorOptions::default(),
        ))
    }

    /// Fits the history streamed from its file, case by case (bounded memory).
    pub fn fit_streamed(&mut self, from: Option<i64>, to: Option<i64>) -> Result<Calibration> {
        let assigner = self.assigner()?;
        let input = self.input(from, to, &[]);
        let mut acc = gridtwin_sim::calibrate::Calibrator::new(&input);
        let reading = crate::history::Reading {
            assigner: &assigner,
            table: &self.table,
            utc_offset_s: self.offset,
            whole: false,
        };
        // the components are counted by class while the history streams (they are
        // needed only for the failure rates written at the end)
        let (streamed, counted) = std::thread::scope(|scope| {
            let counting = self.components_per_class.is_none().then(|| {
                scope.spawn(|| {
                    gridtwin_io::city_dir::components_per_class(&self.city_dir, &self.city.rule)
                })
            });
            let streamed =
                crate::history::stream_history(&self.history, &reading, &mut |c| acc.add(&c));
            (streamed, counting.map(|h| h.join()))
        });
        let unreadable = streamed?;
        let mut fitted = acc
            .finish()
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.history.display()))?;
        fitted.components_per_class = match counted {
            None => self.components_per_class.clone().unwrap_or_default(),
            Some(Ok(counts)) => counts?.0,
            Some(Err(_)) => bail!("counting the components failed"),
        };
        self.unreadable = unreadable;
        Ok(fitted)
    }

    /// The city without the history's cases.
    pub fn open(data: &Path, city_dir: &Path, history: &Path) -> Result<Self> {
        let (city, table, _) = load_city(city_dir)?;
        let mut per_class: BTreeMap<String, u64> = BTreeMap::new();
        for c in &city.components {
            *per_class
                .entry(format!("{:02}{:02}", c.code.major(), c.code.minor()))
                .or_default() += 1;
        }
        Self::with(data, city_dir, history, city, table, Some(per_class))
    }

    /// The city's grids and tables, and its components counted by class from their
    /// codes alone: what fitting needs (a megacity's components are not built).
    pub fn open_areas(data: &Path, city_dir: &Path, history: &Path) -> Result<Self> {
        let (city, table, _) = gridtwin_io::city_dir::load_city_areas(city_dir)?;
        Self::with(data, city_dir, history, city, table, None)
    }

    fn with(
        data: &Path,
        city_dir: &Path,
        history: &Path,
        city: gridtwin_core::City,
        table: gridtwin_core::CategoryTable,
        components_per_class: Option<BTreeMap<String, u64>>,
    ) -> Result<Self> {
        let calendar_path = data.join("calendar.toml");
        let offset = gridtwin_sim::WorkingCalendar::load(&calendar_path)?.utc_offset_s();
        Ok(HistoryCity {
            city,
            table,
            city_dir: city_dir.to_path_buf(),
            history: history.to_path_buf(),
            calendar_path,
            offset,
            cases: Vec::new(),
            unreadable: BTreeMap::new(),
            components_per_class,
        })
    }

    /// What calibration needs from the city, for `cases`.
    fn input<'c>(
        &self,
        from: Option<i64>,
        to: Option<i64>,
        cases: &'c [gridtwin_sim::timeline::CaseRecord],
    ) -> CalibrateInput<'c> {
        CalibrateInput {
            cases,
            grids: self
                .city
                .areas_at(Level::Grid)
                .map(|g| (g.code.to_string(), g.area_m2()))
                .collect(),
            components_per_class: self.components_per_class.clone().unwrap_or_default(),
            departments: self
                .table
                .iter()
                .map(|c| {
                    (
                        format!("{}:{:02}{:02}", c.key.kind.name(), c.key.major, c.key.minor),
                        c.department.clone(),
                    )
                })
                .collect(),
            routing: self
                .table
                .iter()
                .map(|c| {
                    (
                        format!("{}:{:02}{:02}", c.key.kind.name(), c.key.major, c.key.minor),
                        c.routing,
                    )
                })
                .collect(),
            from,
            to,
            utc_offset_s: self.offset,
        }
    }

    /// Fits the cases read whole, with intake in `[from, to)`.
    pub fn fit(&self, from: Option<i64>, to: Option<i64>) -> Result<Calibration> {
        calibrate(&self.input(from, to, &self.cases))
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.history.display()))
    }

    /// Writes the fitted scenario (starting at `start`, running `days`) to `out`, the
    /// calendar beside it, and checks that it loads.
    pub fn write_scenario(
        &self,
        fitted: &Calibration,
        out: &Path,
        start: &str,
        days: f64,
    ) -> Result<()> {
        // the scenario names the city relative to where it is written
        let out_dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(out_dir)?;
        let rel = |p: &Path| -> String {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            let base = std::fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
            relative(&abs, &base).display().to_string()
        };
        let name = format!(
            "fitted to {}",
            self.history
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default()
        );
        // the calendar goes beside the scenario (the built-in one lives in a cache folder)
        let calendar_copy = out_dir.join("calendar.toml");
        if std::fs::canonicalize(&self.calendar_path).ok()
            != std::fs::canonicalize(&calendar_copy).ok()
        {
            let text = std::fs::read(&self.calendar_path)
                .with_context(|| format!("reading {}", self.calendar_path.display()))?;
            write_bytes_atomic(&calendar_copy, &text)?;
        }
        let mut toml =
            fitted.scenario_toml(&name, &rel(&self.city_dir), "calendar.toml", start, days);
        if !self.unreadable.is_empty() || !fitted.unused.is_empty() {
            toml.push_str("\n# Rows of the history not used:\n");
            for (why, n) in self.unreadable.iter().chain(&fitted.unused) {
                toml.push_str(&format!("#   {why}: {n}\n"));
            }
        }
        write_bytes_atomic(out, toml.as_bytes())?;
        // the file must run as it is
        use gridtwin_sim::scenario::{PathPolicy, Scenario};
        if let Err(e) = Scenario::load_with(out, PathPolicy::Anywhere) {
            let _ = std::fs::remove_file(out);
            bail!("the fitted scenario does not load (a bug in calibrate): {e}");
        }
        if Scenario::load(out).is_err() {
            eprintln!(
                "note: the city lies outside the scenario's folders: run it with `gridtwin simulate {} --allow-outside-paths`",
                out.display()
            );
        }
        Ok(())
    }
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

fn print_summary(f: &Calibration, unreadable: &BTreeMap<String, u64>) {
    println!(
        "fitted {:.1} days: {} categories, {} step durations, {} hotspot grids, {} departments' crews",
        f.days,
        f.categories.len(),
        f.steps.len(),
        f.hotspots.len(),
        f.crews.len()
    );
    for c in &f.categories {
        println!(
            "  {}:{}  {:.2}/day (95 % CI {:.2}–{:.2}, {} cases)",
            c.kind, c.class, c.rate.per_day, c.rate.low, c.rate.high, c.rate.count
        );
    }
    for s in &f.steps {
        let b = &s.fits[0];
        println!(
            "  step {:<9} {} (n = {}, KS {:.3})",
            s.step,
            duration(b),
            b.n,
            b.ks
        );
    }
    for (p, why) in &f.kept {
        println!("  kept {p}: {why}");
    }
    for (why, n) in unreadable.iter().chain(&f.unused) {
        println!("  not used: {n} rows, {why}");
    }
}

fn write_report(dir: &Path, f: &Calibration, unreadable: &BTreeMap<String, u64>) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut fits = String::from("step,family,params,n,log_likelihood,aic,delta_aic,ks,chosen\n");
    let mut rows: Vec<(String, &gridtwin_sim::dist::Fit, f64, bool)> = Vec::new();
    let grouped = f
        .steps
        .iter()
        .chain(f.dispatch_by_routing.iter().map(|(_, s)| s))
        .chain(f.travel_by_department.iter().map(|(_, s)| s))
        .chain(f.hand_overs.hop.iter().filter(|s| !s.fits.is_empty()));
    for s in grouped {
        for (i, x) in s.fits.iter().enumerate() {
            rows.push((s.step.clone(), x, x.aic - s.fits[0].aic, i == 0));
        }
    }
    for (k, x) in &f.handle_by_category {
        rows.push((format!("handle {k}"), x, 0.0, true));
    }
    // (a small group's law on the city's shape has no likelihood of its own: empty)
    let num = |v: f64, digits: usize| {
        if v.is_finite() {
            format!("{v:.digits$}")
        } else {
            String::new()
        }
    };
    for (step, x, d, chosen) in rows {
        let params: Vec<String> = x.params.iter().map(|p| format!("{p:.6}")).collect();
        fits.push_str(&format!(
            "\"{step}\",{},\"{}\",{},{},{},{},{:.5},{chosen}\n",
            x.family.name(),
            params.join(" "),
            x.n,
            num(x.log_likelihood, 3),
            num(x.aic, 3),
            num(d, 3),
            x.ks
        ));
    }
    write_bytes_atomic(&dir.join("fits.csv"), fits.as_bytes())?;
    let mut rates = String::from(
        "kind,category,cases,per_day,low_95,high_95,trend_per_day,trend_low_95,trend_high_95,sources\n",
    );
    for c in &f.categories {
        let sources: Vec<String> = c.sources.iter().map(|(k, n)| format!("{k}:{n}")).collect();
        rates.push_str(&format!(
            "{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},\"{}\"\n",
            c.kind,
            c.class,
            c.rate.count,
            c.rate.per_day,
            c.rate.low,
            c.rate.high,
            c.trend_per_day.0,
            c.trend_per_day.1,
            c.trend_per_day.2,
            sources.join(" ")
        ));
    }
    write_bytes_atomic(&dir.join("rates.csv"), rates.as_bytes())?;
    let mut text = String::new();
    for (p, why) in &f.kept {
        text.push_str(&format!("kept {p}: {why}\n"));
    }
    for (why, n) in unreadable.iter().chain(&f.unused) {
        text.push_str(&format!("not used: {n} rows, {why}\n"));
    }
    text.push_str(&format!(
        "hotspots: {} grids differ from 1 (empirical Bayes, between-grid variance {:.4})\n",
        f.hotspots.len(),
        f.hotspot_variance
    ));
    text.push_str(
        "discovery: not fitted (cases start at intake); crews: counted from crew ids where \
         present, else the most cases worked at once (a lower bound); travel: not fitted\n",
    );
    write_bytes_atomic(&dir.join("report.txt"), text.as_bytes())?;
    Ok(())
}
