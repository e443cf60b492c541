//! `gridtwin import`: build a city directory from an OSM extract or from layer files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use gridtwin_core::coord::LonLatSystem;
use gridtwin_core::{City, QualityReport};
use gridtwin_io::city_dir::{
    import_osm_city, save_basemap, save_city, DataTables, OsmImportConfig,
};
use gridtwin_io::{read_records, Loader};

use crate::progress::spinner;

#[derive(Args)]
pub struct ImportArgs {
    /// An OSM city settings file (TOML naming the .osm.pbf and how to build the hierarchy).
    source: Option<PathBuf>,
    /// Output city directory (DIR).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// City name (layer import).
    #[arg(long, default_value = "city")]
    name: String,
    /// Areas of any level: unit grids, communities, streets, districts (code, name, polygon).
    #[arg(long)]
    areas: Vec<PathBuf>,
    /// Components (code, optional department/status, point).
    #[arg(long)]
    components: Vec<PathBuf>,
    /// Incidents (id, category, time, source, point, optional step times).
    #[arg(long)]
    incidents: Vec<PathBuf>,
    /// Buildings (polygon, height or levels).
    #[arg(long)]
    buildings: Vec<PathBuf>,
    /// Roads (line, class, speed_kmh).
    #[arg(long)]
    roads: Vec<PathBuf>,
    /// The layers' coordinate system, where not WGS-84 lon/lat: EPSG:NNNN, WKT or a
    /// PROJ string (default: a `.prj` beside each file, else lon/lat). Reprojected on load.
    #[arg(long, value_name = "CRS")]
    crs: Option<String>,
    /// Repair self-intersecting and bow-tie polygons (areas, buildings) instead of
    /// rejecting them; each repair, with the area as given and after, goes to
    /// repairs.csv in the output directory.
    #[arg(long)]
    make_valid: bool,
    /// The areas' code field, where not `code` (e.g. GEOCODE).
    #[arg(long, value_name = "NAME")]
    code_field: Option<String>,
    /// The areas' name field, where not `name`.
    #[arg(long, value_name = "NAME")]
    name_field: Option<String>,
    /// Number the areas under the code rule instead of reading codes: each --areas file
    /// is one level, top-down, the last being the unit grids (one file = grids; up to
    /// four = districts, streets, communities, grids). Ids come from --code-field (else
    /// `id` or `code`, else the record number) and are kept as `source_id`; children
    /// are numbered in the natural order of their ids. A child's parent is named by
    /// --parent-field, else found spatially (the area above holding its interior point).
    #[arg(long)]
    autocode: bool,
    /// With --autocode: the field holding the parent's id (its --code-field value in
    /// the file above).
    #[arg(long, value_name = "NAME", requires = "autocode")]
    parent_field: Option<String>,
    /// With --autocode: the city's code (its digits under the code rule, 4 by the
    /// national rule).
    #[arg(
        long,
        value_name = "DIGITS",
        default_value = "0001",
        requires = "autocode"
    )]
    city_code: String,
    /// Coordinate system of the input lon/lat: wgs84, gcj02 (Chinese web maps) or bd09 (Baidu).
    #[arg(long, default_value = "wgs84")]
    coords: LonLatSystem,
    /// Exit with an error if any record is rejected.
    #[arg(long)]
    strict: bool,
    /// Write every rejected record (file, record, layer… reason, detail) to this CSV;
    /// quality.json keeps the first five of each reason.
    #[arg(long)]
    rejected: Option<PathBuf>,
}

pub fn run(data: &Path, a: ImportArgs) -> Result<ExitCode> {
    if a.rejected.is_some() && a.source.is_some() {
        bail!("--rejected lists the records of layer files; an OSM import reports its rejections in quality.json");
    }
    let tables = DataTables::load(data)?;
    let layers = !(a.areas.is_empty()
        && a.components.is_empty()
        && a.incidents.is_empty()
        && a.buildings.is_empty()
        && a.roads.is_empty());
    let mut basemap = Vec::new();
    let (city, quality, repairs) = match (&a.source, layers) {
        (Some(src), false) => {
            if a.coords != LonLatSystem::Wgs84 {
                bail!("--coords applies to layer files; OpenStreetMap is always WGS-84");
            }
            let cfg = OsmImportConfig::load(src)?;
            let sp = spinner("reading OSM");
            let (c, q, b) = import_osm_city(&cfg, &tables)?;
            sp.finish_and_clear();
            basemap = b;
            (c, q, Vec::new())
        }
        (None, true) => import_layers(&a, &tables)?,
        (Some(_), true) => bail!("give either an OSM city settings file or layer files (--areas, --components, …), not both"),
        (None, false) => bail!("nothing to import: give an OSM city settings file (e.g. data/helsinki/city.toml) or layer files"),
    };
    for p in city.check_hierarchy() {
        eprintln!("warning: area {}: {}", p.code, p.message);
    }
    save_city(&a.out, &city, &tables.categories_path, &quality)
        .with_context(|| format!("writing {}", a.out.display()))?;
    save_basemap(&a.out, &basemap).with_context(|| format!("writing {}", a.out.display()))?;
    if !basemap.is_empty() {
        let n = |k: &str| basemap.iter().filter(|f| f.kind == k).count();
        println!(
            "basemap: {} water, {} park and {} place features (basemap.geojson, for the viewer)",
            n("water"),
            n("park"),
            n("place")
        );
    }
    if repairs.is_empty() {
        // (an earlier run's log does not describe this one)
        let _ = std::fs::remove_file(a.out.join("repairs.csv"));
    } else {
        let path = a.out.join("repairs.csv");
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &repairs {
            w.serialize(r)?;
        }
        gridtwin_io::atomic::write_bytes_atomic(&path, &w.into_inner()?)?;
        println!(
            "repaired {} invalid polygon(s) (--make-valid); each with its area as given and after: {}",
            repairs.len(),
            path.display()
        );
    }
    println!("{}", city.summary(&tables.table));
    println!("{quality}");
    println!(
        "wrote {} (quality report: {}; it keeps the first {} examples of each reason{})",
        a.out.display(),
        a.out.join("quality.json").display(),
        gridtwin_core::quality::EXAMPLES_PER_REASON,
        if a.rejected.is_some() {
            ""
        } else {
            ": --rejected FILE lists every rejected record"
        }
    );
    if let Some(path) = &a.rejected {
        let all = quality.all.as_deref().unwrap_or(&[]);
        let mut t = gridtwin_io::record::Table::new(&[
            ("file", gridtwin_io::record::FieldType::Text),
            ("record", gridtwin_io::record::FieldType::Int),
            ("reason", gridtwin_io::record::FieldType::Text),
            ("detail", gridtwin_io::record::FieldType::Text),
        ]);
        for r in all {
            use gridtwin_io::record::Value;
            t.push(
                None,
                vec![
                    Value::Text(r.file.clone()),
                    Value::Int(r.record as i64),
                    Value::Text(r.reason.name().to_string()),
                    Value::Text(r.detail.clone()),
                ],
            );
        }
        gridtwin_io::write_table(path, &t)?;
        println!("wrote {} ({} rejected records)", path.display(), all.len());
    }
    let (_, _, rejected) = quality.totals();
    if a.strict && rejected > 0 {
        eprintln!("error: --strict: {rejected} record(s) rejected");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn import_layers(
    a: &ImportArgs,
    tables: &DataTables,
) -> Result<(City, QualityReport, Vec<gridtwin_io::load::Repair>)> {
    let mut loader = Loader::new(&tables.rule, &tables.table);
    loader.coords = a.coords;
    loader.road_speeds = Some(&tables.speeds);
    loader.code_field = a.code_field.clone();
    loader.name_field = a.name_field.clone();
    loader.make_valid = a.make_valid;
    let mut city = City::new(a.name.clone(), tables.rule);
    let mut q = if a.rejected.is_some() {
        QualityReport::keeping_all()
    } else {
        QualityReport::new()
    };
    let given = match &a.crs {
        Some(t) => {
            let c = gridtwin_io::dem_crs::Crs::parse(t)
                .map_err(|m| anyhow::anyhow!("--crs {t}: {m}"))?;
            gridtwin_io::geojson_io::set_crs_declared(true);
            Some(std::sync::Arc::new(c))
        }
        None => None,
    };
    // Each file in the system given, else its own `.prj`, else lon/lat.
    type Opened = (
        String,
        gridtwin_io::format::Records,
        Option<std::sync::Arc<gridtwin_io::dem_crs::Crs>>,
    );
    let open = |p: &PathBuf| -> Result<Opened> {
        let crs = match &given {
            Some(c) => Some(c.clone()),
            None => {
                let prj = p.with_extension("prj");
                match std::fs::read_to_string(&prj) {
                    Ok(text) => Some(std::sync::Arc::new(
                        gridtwin_io::dem_crs::Crs::parse(&text)
                            .map_err(|m| anyhow::anyhow!("{}: {m}", prj.display()))?,
                    )),
                    Err(_) => None,
                }
            }
        };
        Ok((p.display().to_string(), read_records(p)?, crs))
    };
    if a.autocode {
        let city_code = tables
            .rule
            .city(&a.city_code)
            .map_err(|e| anyhow::anyhow!("--city-code {}: {e}", a.city_code))?;
        let mut layers = Vec::new();
        for p in &a.areas {
            let (f, r, crs) = open(p)?;
            loader.source_crs = crs;
            layers.push(loader.source_areas(&f, r, a.parent_field.as_deref(), &mut q));
        }
        let coded = gridtwin_core::autocode::autocode(&tables.rule, &city_code, layers)
            .map_err(|e| anyhow::anyhow!("--autocode: {e}"))?;
        for (file, n) in &coded.placed_per_file {
            for _ in 0..*n {
                q.loaded(file, "areas");
            }
        }
        for r in coded.rejected {
            q.rejected("areas", r);
        }
        city.areas = coded.areas;
    } else {
        for p in &a.areas {
            let (f, r, crs) = open(p)?;
            loader.source_crs = crs;
            city.areas.extend(loader.areas(&f, r, &mut q));
        }
    }
    for p in &a.components {
        let (f, r, crs) = open(p)?;
        loader.source_crs = crs;
        city.components.extend(loader.components(&f, r, &mut q));
    }
    let made = loader.code_uncoded(&city.areas, &city.components, &mut q);
    if !made.is_empty() {
        println!(
            "coded {} component(s) that came without a code (district of their place + class + serial)",
            made.len()
        );
    }
    city.components.extend(made);
    for p in &a.incidents {
        let (f, r, crs) = open(p)?;
        loader.source_crs = crs;
        city.incidents.extend(loader.incidents(&f, r, &mut q));
    }
    for p in &a.buildings {
        let (f, r, crs) = open(p)?;
        loader.source_crs = crs;
        city.buildings.extend(loader.buildings(&f, r, &mut q));
    }
    for p in &a.roads {
        let (f, r, crs) = open(p)?;
        loader.source_crs = crs;
        city.roads.extend(loader.roads(&f, r, &mut q));
    }
    let repairs = loader.repairs.take();
    Ok((city, q, repairs))
}
