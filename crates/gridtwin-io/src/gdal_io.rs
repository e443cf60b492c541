//! Everything GDAL reads (GeoPackage, Shapefile, KML, …), reprojected to WGS-84 lon/lat.
//!
//! Built only with `--features gdal` (needs the system libgdal). A dataset with several
//! layers is read as `FILE::LAYER`.

use std::path::Path;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use gridtwin_core::{RejectReason, Rejection};

use crate::error::IoError;
use crate::record::{Record, Value};

fn field(v: Option<FieldValue>) -> Value {
    match v {
        None => Value::Null,
        Some(FieldValue::IntegerValue(i)) => Value::Int(i as i64),
        Some(FieldValue::Integer64Value(i)) => Value::Int(i),
        Some(FieldValue::RealValue(f)) => Value::Float(f),
        Some(FieldValue::StringValue(s)) => Value::Text(s),
        Some(FieldValue::DateValue(d)) => Value::Text(d.to_string()),
        Some(FieldValue::DateTimeValue(d)) => Value::Text(d.to_string()),
        Some(other) => Value::Text(format!("{other:?}")),
    }
}

/// Reads every feature of a GDAL vector layer, reprojecting to WGS-84.
pub fn read(path: &Path) -> Result<Vec<Result<Record, Rejection>>, IoError> {
    let text = path.display().to_string();
    let (file_part, layer_name) = match text.split_once("::") {
        Some((f, l)) => (f.to_string(), Some(l.to_string())),
        None => (text.clone(), None),
    };
    let file = text.clone();
    let ds = Dataset::open(&file_part).map_err(|e| IoError::read(&file, e))?;
    let mut layer = match &layer_name {
        Some(name) => ds
            .layer_by_name(name)
            .map_err(|e| IoError::read(&file, e))?,
        None => {
            if ds.layer_count() != 1 {
                let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
                return Err(IoError::read(
                    &file,
                    format!(
                        "has {} layers ({}); name one as FILE::LAYER",
                        names.len(),
                        names.join(", ")
                    ),
                ));
            }
            ds.layer(0).map_err(|e| IoError::read(&file, e))?
        }
    };
    let mut wgs84 = SpatialRef::from_epsg(4326).map_err(|e| IoError::read(&file, e))?;
    wgs84.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let transform =
        match layer.spatial_ref() {
            Some(mut srs) => {
                srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
                Some(CoordTransform::new(&srs, &wgs84).map_err(|e| {
                    IoError::read(&file, format!("cannot reproject to WGS-84: {e}"))
                })?)
            }
            None => None,
        };
    let mut out = Vec::new();
    for (i, feature) in layer.features().enumerate() {
        let number = i as u64 + 1;
        let fields: Vec<(String, Value)> = feature.fields().map(|(n, v)| (n, field(v))).collect();
        let geometry = match feature.geometry() {
            // SAFETY: only reads whether GDAL's handle is null (a feature with no geometry).
            Some(g) if !unsafe { g.c_geometry().is_null() } => {
                let converted = (|| {
                    let mut g = match &transform {
                        Some(t) => g.transform(t)?,
                        None => g.clone(),
                    };
                    g.flatten_to_2d();
                    g.to_geo()
                })();
                match converted {
                    Ok(g) => Some(g),
                    Err(e) => {
                        out.push(Err(Rejection::new(
                            &file,
                            number,
                            RejectReason::InvalidGeometry,
                            e.to_string(),
                        )));
                        continue;
                    }
                }
            }
            _ => None,
        };
        out.push(Ok(Record {
            number,
            geometry,
            fields,
        }));
    }
    Ok(out)
}

/// Reads band 1 of a north-up GDAL raster (GeoTIFF, …) as a DEM with square cells, in
/// its own coordinate system, which comes back beside it (`EPSG:n` where it has an
/// EPSG code, else its WKT; `None` when the raster states none). No-data cells become
/// outlets.
pub fn read_dem(path: &Path) -> Result<(gridtwin_core::dem::Dem, Option<String>), IoError> {
    let file = path.display().to_string();
    let ds = Dataset::open(path).map_err(|e| IoError::read(&file, e))?;
    let gt = ds.geo_transform().map_err(|e| IoError::read(&file, e))?;
    if gt[2] != 0.0 || gt[4] != 0.0 || gt[5] >= 0.0 {
        return Err(IoError::read(&file, "not a north-up raster"));
    }
    if ((gt[1] + gt[5]) / gt[1]).abs() > 1e-6 {
        return Err(IoError::read(
            &file,
            format!("cells are not square ({} × {})", gt[1], -gt[5]),
        ));
    }
    let crs = ds.spatial_ref().ok().and_then(|srs| match srs.auth_code() {
        Ok(code) => Some(format!("EPSG:{code}")),
        Err(_) => srs.to_wkt().ok(),
    });
    let (cols, rows) = ds.raster_size();
    // (checked before reading: the band is read whole)
    if cols.saturating_mul(rows) > gridtwin_core::dem::MAX_DEM_CELLS {
        return Err(IoError::read(
            &file,
            format!(
                "{cols} × {rows} cells: more than the {} a DEM may hold",
                gridtwin_core::dem::MAX_DEM_CELLS
            ),
        ));
    }
    let band = ds.rasterband(1).map_err(|e| IoError::read(&file, e))?;
    let nodata = band.no_data_value();
    let (_, z) = band
        .read_as::<f64>((0, 0), (cols, rows), (cols, rows), None)
        .map_err(|e| IoError::read(&file, e))?
        .into_shape_and_vec();
    let z = z
        .into_iter()
        .map(|v| {
            if Some(v) == nodata || !v.is_finite() {
                Ok(f64::NAN)
            } else if v.abs() > gridtwin_core::dem::MAX_ABS_ELEVATION {
                Err(IoError::read(
                    &file,
                    format!(
                        "elevation {v} is not one; a no-data marker the raster does not declare?"
                    ),
                ))
            } else {
                Ok(v)
            }
        })
        .collect::<Result<Vec<f64>, IoError>>()?;
    Ok((
        gridtwin_core::dem::Dem::new(cols, rows, gt[0], gt[3], gt[1], z),
        crs,
    ))
}
