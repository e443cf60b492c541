//! The basemap under the city: water and parks drawn flat on the ground, and place
//! names, from the city directory's optional `basemap.geojson` (a FeatureCollection
//! in lon/lat; each feature's `kind` is `water` or `park` for a Polygon or
//! MultiPolygon, or `place` for a Point with a `name`). Other kinds are left out, so
//! the importer can add kinds before the viewer draws them. No file, no basemap; a
//! file that cannot be read is an error naming it.

use std::path::Path;

use geo::{
    BooleanOps, Coord, LineString, MapCoords, MultiPolygon, Polygon, Rect, TriangulateEarcut,
};
use geojson::{GeoJson, GeometryValue, Position};

use crate::scene::{CityScene, MeshData};

/// The basemap file's name in a city directory.
pub const FILE: &str = "basemap.geojson";

/// Height of the water and park surfaces: above the ground plane (at -0.1 m), under
/// roads (0.15 m) and grid lines (0.3 m).
const WATER_Y: f32 = 0.0;
const PARK_Y: f32 = 0.05;

/// A basemap as read, in lon/lat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Basemap {
    pub water: Vec<Polygon<f64>>,
    pub parks: Vec<Polygon<f64>>,
    pub places: Vec<Place>,
}

/// A named place (district, square, island) to label on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

/// The basemap in the scene's local frame, cut to the city's ground.
#[derive(Debug, Clone, Default)]
pub struct BasemapScene {
    pub water: MeshData,
    pub parks: MeshData,
    /// Place names and where they stand (local coordinates, on the ground).
    pub places: Vec<(String, [f32; 3])>,
}

impl Basemap {
    /// Reads `city_dir/basemap.geojson`; `Ok(None)` when the city has none.
    pub fn load(city_dir: &Path) -> Result<Option<Basemap>, String> {
        let path = city_dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Basemap::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a basemap file.
    pub fn parse(text: &str) -> Result<Basemap, String> {
        let gj: GeoJson = text.parse().map_err(|e| format!("not GeoJSON: {e}"))?;
        let GeoJson::FeatureCollection(fc) = gj else {
            return Err("expected a FeatureCollection".into());
        };
        let mut map = Basemap::default();
        for (i, f) in fc.features.iter().enumerate() {
            let n = i + 1;
            let kind = f
                .property("kind")
                .and_then(|k| k.as_str())
                .ok_or_else(|| format!("feature {n}: no `kind` property (water, park or place)"))?;
            let target = match kind {
                "water" => &mut map.water,
                "park" => &mut map.parks,
                "place" => {
                    let name = f
                        .property("name")
                        .and_then(|k| k.as_str())
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| format!("feature {n}: a place needs a `name`"))?;
                    let (lon, lat) = match f.geometry.as_ref().map(|g| &g.value) {
                        Some(GeometryValue::Point { coordinates }) => {
                            lonlat(coordinates).map_err(|e| format!("feature {n}: {e}"))?
                        }
                        other => {
                            return Err(format!(
                                "feature {n}: a place is a Point, found {}",
                                type_name(other)
                            ))
                        }
                    };
                    map.places.push(Place {
                        name: name.to_string(),
                        lon,
                        lat,
                    });
                    continue;
                }
                _ => continue,
            };
            let polys = match f.geometry.as_ref().map(|g| &g.value) {
                Some(GeometryValue::Polygon { coordinates }) => vec![polygon(coordinates)],
                Some(GeometryValue::MultiPolygon { coordinates }) => {
                    coordinates.iter().map(|p| polygon(p)).collect()
                }
                other => {
                    return Err(format!(
                        "feature {n}: {kind} is a Polygon or MultiPolygon, found {}",
                        type_name(other)
                    ))
                }
            };
            for p in polys {
                target.push(p.map_err(|e| format!("feature {n} ({kind}): {e}"))?);
            }
        }
        Ok(map)
    }

    /// Places the basemap in the scene: polygons cut to the city's ground and
    /// triangulated flat, places outside the ground left out.
    pub fn build(&self, scene: &CityScene, water: [f32; 3], park: [f32; 3]) -> BasemapScene {
        let (hx, hz) = scene.half_extent;
        // local metres, x east and y north (the scene's z is south)
        let ground = Rect::new((-hx as f64, -hz as f64), (hx as f64, hz as f64)).to_polygon();
        let to_local = |p: &Polygon<f64>| -> Polygon<f64> {
            p.map_coords(|c| {
                let l = scene.local(c.x, c.y, 0.0);
                Coord {
                    x: l[0] as f64,
                    y: -l[2] as f64,
                }
            })
        };
        let surface = |polys: &[Polygon<f64>], y: f32, color: [f32; 3]| {
            let mut m = MeshData::default();
            let c = [color[0], color[1], color[2], 1.0];
            for p in polys {
                let clipped: MultiPolygon<f64> = to_local(p).intersection(&ground);
                for part in &clipped {
                    for t in part.earcut_triangles_iter() {
                        let k = m.positions.len() as u32;
                        let pts = [t.v1(), t.v2(), t.v3()].map(|v| [v.x as f32, y, -v.y as f32]);
                        // face up: counter-clockwise seen from above
                        let cross = (pts[1][0] - pts[0][0]) * (pts[2][2] - pts[0][2])
                            - (pts[1][2] - pts[0][2]) * (pts[2][0] - pts[0][0]);
                        let order = if cross < 0.0 { [0, 1, 2] } else { [0, 2, 1] };
                        for i in order {
                            m.positions.push(pts[i]);
                            m.normals.push([0.0, 1.0, 0.0]);
                            m.colors.push(c);
                        }
                        m.indices.extend_from_slice(&[k, k + 1, k + 2]);
                    }
                }
            }
            m
        };
        let places = self
            .places
            .iter()
            .map(|p| (p.name.clone(), scene.local(p.lon, p.lat, 0.0)))
            .filter(|(_, l)| l[0].abs() <= hx && l[2].abs() <= hz)
            .collect();
        BasemapScene {
            water: surface(&self.water, WATER_Y, water),
            parks: surface(&self.parks, PARK_Y, park),
            places,
        }
    }
}

fn type_name(g: Option<&GeometryValue>) -> &'static str {
    match g {
        None => "no geometry",
        Some(GeometryValue::Point { .. }) => "a Point",
        Some(GeometryValue::MultiPoint { .. }) => "a MultiPoint",
        Some(GeometryValue::LineString { .. }) => "a LineString",
        Some(GeometryValue::MultiLineString { .. }) => "a MultiLineString",
        Some(GeometryValue::Polygon { .. }) => "a Polygon",
        Some(GeometryValue::MultiPolygon { .. }) => "a MultiPolygon",
        Some(GeometryValue::GeometryCollection { .. }) => "a GeometryCollection",
    }
}

/// A position as lon/lat, checked: two finite coordinates within the globe's range.
fn lonlat(p: &Position) -> Result<(f64, f64), String> {
    let s = p.as_slice();
    match s {
        [lon, lat, ..]
            if lon.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(lon)
                && (-90.0..=90.0).contains(lat) =>
        {
            Ok((*lon, *lat))
        }
        _ => Err(format!(
            "position {s:?} is not a lon/lat pair (lon -180..180, lat -90..90)"
        )),
    }
}

/// A polygon from its GeoJSON rings (the first is the outline, the rest holes).
fn polygon(rings: &[Vec<Position>]) -> Result<Polygon<f64>, String> {
    let mut lines = Vec::with_capacity(rings.len());
    for (k, ring) in rings.iter().enumerate() {
        let coords = ring
            .iter()
            .map(|p| lonlat(p).map(|(x, y)| Coord { x, y }))
            .collect::<Result<Vec<_>, _>>()?;
        if coords.len() < 3 {
            return Err(format!(
                "ring {k} has {} positions; a ring needs at least three",
                coords.len()
            ));
        }
        lines.push(LineString::new(coords));
    }
    let mut lines = lines.into_iter();
    let exterior = lines
        .next()
        .ok_or_else(|| "a polygon without rings".to_string())?;
    Ok(Polygon::new(exterior, lines.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "water"},
         "geometry": {"type": "Polygon", "coordinates":
            [[[24.94, 60.16], [24.96, 60.16], [24.96, 60.17], [24.94, 60.17], [24.94, 60.16]]]}},
        {"type": "Feature", "properties": {"kind": "park"},
         "geometry": {"type": "MultiPolygon", "coordinates":
            [[[[24.93, 60.17], [24.935, 60.17], [24.935, 60.175], [24.93, 60.17]]],
             [[[24.95, 60.17], [24.955, 60.17], [24.955, 60.175], [24.95, 60.17]]]]}},
        {"type": "Feature", "properties": {"kind": "place", "name": "Kamppi"},
         "geometry": {"type": "Point", "coordinates": [24.9385, 60.1690]}},
        {"type": "Feature", "properties": {"kind": "forest"},
         "geometry": {"type": "Point", "coordinates": [24.9, 60.1]}}
    ]}"#;

    #[test]
    fn parses_water_parks_and_places_and_skips_other_kinds() {
        let m = Basemap::parse(SAMPLE).unwrap();
        assert_eq!(m.water.len(), 1);
        assert_eq!(m.parks.len(), 2);
        assert_eq!(
            m.places,
            vec![Place {
                name: "Kamppi".into(),
                lon: 24.9385,
                lat: 60.1690
            }]
        );
    }

    #[test]
    fn malformed_basemaps_are_errors_that_say_where() {
        let cases = [
            ("{", "not GeoJSON"),
            (
                r#"{"type": "Point", "coordinates": [1, 2]}"#,
                "FeatureCollection",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {}, "geometry": null}]}"#,
                "feature 1: no `kind`",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {"kind": "water"},
                   "geometry": {"type": "Point", "coordinates": [1, 2]}}]}"#,
                "water is a Polygon or MultiPolygon, found a Point",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {"kind": "park"},
                   "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}}]}"#,
                "ring 0 has 2 positions",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {"kind": "place"},
                   "geometry": {"type": "Point", "coordinates": [1, 2]}}]}"#,
                "a place needs a `name`",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {"kind": "place", "name": "x"},
                   "geometry": {"type": "Point", "coordinates": [500, 2]}}]}"#,
                "not a lon/lat pair",
            ),
        ];
        for (text, want) in cases {
            let e = Basemap::parse(text).unwrap_err();
            assert!(e.contains(want), "{want:?} not in {e:?}");
        }
        // through `load`: the file is named; a city without one has no basemap
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Basemap::load(dir.path()), Ok(None));
        std::fs::write(dir.path().join(FILE), "{\"type\": \"FeatureCollection\"").unwrap();
        let e = Basemap::load(dir.path()).unwrap_err();
        assert!(e.contains(FILE), "{e}");
    }
}
