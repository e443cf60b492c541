//! GDAL's formats with the `gdal` feature (a GeoPackage reprojected to WGS-84, real
//! GeoTIFF DEMs), and the default build's own GeoPackage reader on a file GDAL wrote.

mod common;
#[cfg(feature = "gdal")]
use common::{data, load_components};

use std::path::Path;

#[cfg(feature = "gdal")]
use gridtwin_core::coord::{haversine_m, LonLatSystem};

#[cfg(feature = "gdal")]
#[test]
fn gdal_reads_a_geopackage_and_reprojects_to_wgs84() {
    use gdal::spatial_ref::SpatialRef;
    use gdal::vector::{FieldValue, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grids.gpkg");
    {
        let mut ds = DriverManager::get_driver_by_name("GPKG")
            .unwrap()
            .create_vector_only(&path)
            .unwrap();
        let srs = SpatialRef::from_epsg(3857).unwrap();
        let layer = ds
            .create_layer(LayerOptions {
                name: "components",
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbPoint,
                options: None,
            })
            .unwrap();
        layer
            .create_defn_fields(&[("code", OGRFieldType::OFTString)])
            .unwrap();
        // Web Mercator of lon 121.4737, lat 31.2304
        let g = gdal::vector::Geometry::from_wkt("POINT (13522390.4288 3662707.2571)").unwrap();
        let mut feature = gdal::vector::Feature::new(layer.defn()).unwrap();
        feature.set_geometry(g).unwrap();
        feature
            .set_field(0, &FieldValue::StringValue("3101010101000001".into()))
            .unwrap();
        feature.create(&layer).unwrap();
    }
    let t = data();
    let (loaded, q) = load_components(&t, &path, LonLatSystem::Wgs84);
    assert_eq!(q.totals(), (1, 1, 0), "{q}");
    let p = loaded[0].location;
    assert!(haversine_m(121.4737, 31.2304, p.x(), p.y()) < 1.0, "{p:?}");
}

/// A real DEM shipped in a Debian package (r-cran-terra's `ex/elev.tif`, Luxembourg,
/// 95 × 90 cells); `.ci/test` extracts it and sets GRIDTWIN_ELEV_TIF.
#[cfg(feature = "gdal")]
#[test]
fn a_real_geotiff_dem_floods_with_volume_conserved_and_water_at_rest() {
    let path = std::env::var("GRIDTWIN_ELEV_TIF").expect(
        "GRIDTWIN_ELEV_TIF must name terra's elev.tif (.ci/test extracts it from r-cran-terra)",
    );
    let dem = gridtwin_io::read_dem(std::path::Path::new(&path)).unwrap();
    assert_eq!((dem.cols(), dem.rows()), (95, 90));
    let z = dem.elevations();
    assert!(
        z.iter().any(|v| v.is_nan()),
        "Luxembourg's outline leaves no-data cells"
    );
    let area = gridtwin_core::flood_impact::lon_lat_cell_area_m2(&dem);
    let n = dem.cols() * dem.rows();
    for rain in [0.05, 1.0, 20.0] {
        let f = gridtwin_core::flood::fill_spill_merge(&dem, &vec![rain; n], area);
        assert!(
            (f.stored_m3 + f.outflow_m3 - f.rain_m3).abs() <= 1e-9 * f.rain_m3,
            "{f:?}"
        );
        // at rest: no wet cell stands above a neighbour's surface
        for i in 0..n {
            if f.depth[i] < 1e-9 || z[i].is_nan() {
                continue;
            }
            let s = z[i] + f.depth[i];
            for k in dem.neighbours(i) {
                if !z[k].is_nan() {
                    assert!(z[k] + f.depth[k] >= s - 1e-9, "rain {rain}: {i} above {k}");
                }
            }
        }
    }
}

/// A GeoTIFF in UTM (EPSG:32617) is read in its own system (issue 15): projected,
/// cells of cell² m², the city's lon/lat projected onto it.
#[cfg(feature = "gdal")]
#[test]
fn a_utm_geotiff_is_read_in_its_own_system() {
    use gdal::raster::Buffer;
    use gdal::spatial_ref::SpatialRef;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utm.tif");
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<f64, _>(&path, 4, 3, 1)
            .unwrap();
        ds.set_geo_transform(&[209_000.0, 30.0, 0.0, 4_055_600.0, 0.0, -30.0])
            .unwrap();
        ds.set_spatial_ref(&SpatialRef::from_epsg(32617).unwrap())
            .unwrap();
        let mut band = ds.rasterband(1).unwrap();
        let mut buf = Buffer::new(
            (4, 3),
            vec![5.0, 5.0, 5.0, 5.0, 5.0, 1.0, 2.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        );
        band.write((0, 0), (4, 3), &mut buf).unwrap();
    }
    let placed = gridtwin_io::read_placed_dem(&path, None).unwrap();
    assert!(placed.is_projected(), "{}", placed.crs.name);
    assert_eq!(placed.crs.name, "EPSG:32617");
    assert_eq!(placed.cell_area_m2, 900.0);
    assert_eq!((placed.dem.cols(), placed.dem.rows()), (4, 3));
    // a point of the raster, given in lon/lat, lands in its cell
    let (lon, lat) = placed.crs.to_lon_lat(209_045.0, 4_055_555.0).unwrap();
    let (x, y) = placed.to_dem(lon, lat).unwrap();
    assert_eq!(placed.dem.cell_at(x, y), Some((1, 1)));
}

/// Writes `tests/gpkg/gdal_wards.gpkg` with GDAL (run once by hand:
/// `GRIDTWIN_WRITE_GPKG_FIXTURE=1 cargo test -p gridtwin-io --features gdal --test readers_gdal
/// write_gdal_gpkg_fixture`): the default build's own GeoPackage reader is then tested
/// on a file an independent writer made.
#[cfg(feature = "gdal")]
#[test]
fn write_gdal_gpkg_fixture() {
    if std::env::var("GRIDTWIN_WRITE_GPKG_FIXTURE").is_err() {
        return;
    }
    use gdal::spatial_ref::SpatialRef;
    use gdal::vector::{FieldValue, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/gpkg/gdal_wards.gpkg");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut ds = DriverManager::get_driver_by_name("GPKG")
        .unwrap()
        .create_vector_only(&path)
        .unwrap();
    let srs = SpatialRef::from_epsg(32635).unwrap();
    let layer = ds
        .create_layer(LayerOptions {
            name: "wards",
            srs: Some(&srs),
            ty: gdal::vector::OGRwkbGeometryType::wkbMultiPolygon,
            options: None,
        })
        .unwrap();
    layer
        .create_defn_fields(&[
            ("GEOCODE", OGRFieldType::OFTString),
            ("pop", OGRFieldType::OFTInteger),
        ])
        .unwrap();
    // two squares of 1 km in UTM 35N (Helsinki), a hole in the second
    for (i, (x, y)) in [(385_000.0, 6_670_000.0), (386_000.0, 6_670_000.0)]
        .iter()
        .enumerate()
    {
        let hole = if i == 1 {
            format!(
                ", ({} {}, {} {}, {} {}, {} {}, {} {})",
                x + 400.0,
                y + 400.0,
                x + 600.0,
                y + 400.0,
                x + 600.0,
                y + 600.0,
                x + 400.0,
                y + 600.0,
                x + 400.0,
                y + 400.0
            )
        } else {
            String::new()
        };
        let wkt = format!(
            "MULTIPOLYGON ((({x} {y}, {} {y}, {} {}, {x} {}, {x} {y}){hole}))",
            x + 1000.0,
            x + 1000.0,
            y + 1000.0,
            y + 1000.0
        );
        let g = gdal::vector::Geometry::from_wkt(&wkt).unwrap();
        let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
        f.set_geometry(g).unwrap();
        f.set_field(
            0,
            &FieldValue::StringValue(format!("99010100100{:03}", i + 1)),
        )
        .unwrap();
        f.set_field(1, &FieldValue::IntegerValue(1000 * (i as i32 + 1)))
            .unwrap();
        f.create(&layer).unwrap();
    }
}

/// A GeoPackage GDAL wrote (`tests/gpkg/gdal_wards.gpkg`, see `write_gdal_gpkg_fixture`:
/// two 1 km squares in UTM 35N, the second with a hole) read by the default build's own
/// reader: its metadata tables, GDAL's geometry blobs (with envelopes) and its system.
#[cfg(not(feature = "gdal"))]
#[test]
fn a_geopackage_written_by_gdal_reads_in_the_default_build() {
    use geo::{Area, BoundingRect};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/gpkg/gdal_wards.gpkg");
    let recs: Vec<_> = gridtwin_io::read_records(&path).unwrap().collect();
    assert_eq!(recs.len(), 2);
    let utm = gridtwin_io::dem_crs::Crs::parse("EPSG:32635").unwrap();
    for (i, r) in recs.iter().enumerate() {
        let r = r.as_ref().unwrap();
        let code = r.fields.iter().find(|f| f.0 == "GEOCODE").unwrap();
        assert_eq!(
            code.1,
            gridtwin_io::Value::Text(format!("99010100100{:03}", i + 1))
        );
        let g = r.geometry.as_ref().unwrap();
        // the first corner, as GDAL stored it in metres, comes back in lon/lat
        let first = geo::CoordsIter::coords_iter(g).next().unwrap();
        let (lon, lat) = utm
            .to_lon_lat(385_000.0 + 1000.0 * i as f64, 6_670_000.0)
            .unwrap();
        assert!(
            (first.x - lon).abs() < 1e-9 && (first.y - lat).abs() < 1e-9,
            "{first:?}"
        );
        assert!(g.bounding_rect().unwrap().width() < 0.02);
        // in lon/lat now: a square km in square degrees at 60°N; the hole takes 4 %
        // of the second
        let a = g.unsigned_area();
        let want = if i == 0 { 1.0 } else { 0.96 };
        let km2 = 1e6 / (111_320.0 * 111_320.0 * 60.155f64.to_radians().cos());
        assert!((a / km2 - want).abs() < 0.02, "{a} vs {km2}");
    }
}
