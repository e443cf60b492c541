//! Loading the built city: buildings with their heights (tagged, from levels or the
//! default) and roads with their speeds (tagged, or the class's).

use gridtwin_core::{
    Building, HeightSource, QualityReport, RejectReason, Rejection, Road, SpeedSource,
};

use super::{parse_measure, Check, Loader, Repair};
use crate::record::Record;

impl Loader<'_> {
    /// Loads buildings: optional `id`, `height` (m) or `levels`, and a polygon.
    pub fn buildings(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Building> {
        self.run("buildings", file, records, quality, |r| {
            let footprint = self.polygons(r)?;
            if let Some((problem, given, fixed)) = self.pending_repair.take() {
                self.repairs.borrow_mut().push(Repair {
                    file: file.to_string(),
                    record: r.number,
                    id: r.text(&["id"]).unwrap_or_default(),
                    problem,
                    area_given_m2: given,
                    area_repaired_m2: fixed,
                });
            }
            let (height_m, mut height_source) = self.height(
                r.text(&["height", "height_m"]).as_deref(),
                r.text(&["levels", "building:levels"]).as_deref(),
            )?;
            // A city directory records where each height came from; keep it.
            height_source = match r.text(&["height_source"]).as_deref() {
                Some("levels") => HeightSource::Levels,
                Some("default") => HeightSource::Default,
                _ => height_source,
            };
            Ok(Building {
                id: r
                    .text(&["id"])
                    .unwrap_or_else(|| format!("{file}#{}", r.number)),
                footprint,
                height_m,
                height_source,
            })
        })
    }

    /// Height from a `height` value, else `levels` × metres per level, else the default.
    pub fn height(&self, height: Option<&str>, levels: Option<&str>) -> Check<(f64, HeightSource)> {
        if let Some(h) = height {
            let v = parse_measure(h).ok_or((
                RejectReason::BadValue,
                format!("height `{h}` is not a length in metres"),
            ))?;
            return Ok((v, HeightSource::Tagged));
        }
        if let Some(l) = levels {
            let v = parse_measure(l).ok_or((
                RejectReason::BadValue,
                format!("levels `{l}` is not a number"),
            ))?;
            return Ok((v * self.metres_per_level, HeightSource::Levels));
        }
        Ok((self.default_height_m, HeightSource::Default))
    }

    /// Loads roads: optional `id`, `class`, `speed_kmh` (else the class's speed from
    /// the road-speed table), `oneway`, and a line.
    pub fn roads(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Road> {
        self.run("roads", file, records, quality, |r| {
            let line = self.line(r)?;
            let class = r.text(&["class", "highway"]);
            let by_class = class
                .as_deref()
                .and_then(|c| self.road_speeds.and_then(|s| s.get(c)));
            let (speed_kmh, from_class) = match (r.text(&["speed_kmh", "speed", "maxspeed"]), by_class) {
                (Some(speed), _) => (
                    parse_measure(&speed).ok_or((
                        RejectReason::BadValue,
                        format!("speed `{speed}` is not a positive number"),
                    ))?,
                    false,
                ),
                (None, Some(v)) => (v, true),
                (None, None) => {
                    return Err((
                        RejectReason::MissingField,
                        match class {
                            Some(c) => format!(
                                "`speed_kmh` is missing and class `{c}` is not in road_speeds.csv"
                            ),
                            None => "`speed_kmh` is missing, and no `class` to take a speed from (road_speeds.csv)".into(),
                        },
                    ))
                }
            };
            Ok(Road {
                id: r
                    .text(&["id"])
                    .unwrap_or_else(|| format!("{file}#{}", r.number)),
                line,
                class: r
                    .text(&["class", "highway"])
                    .unwrap_or_else(|| "road".into()),
                speed_kmh,
                speed_source: match r.text(&["speed_source"]).as_deref() {
                    _ if from_class => SpeedSource::Class,
                    Some("class") => SpeedSource::Class,
                    _ => SpeedSource::Tagged,
                },
                oneway: matches!(r.text(&["oneway"]).as_deref(), Some("true" | "yes" | "1")),
            })
        })
    }
}
