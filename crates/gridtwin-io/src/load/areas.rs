//! Loading areas (grids, communities, streets, districts): by their codes, or by
//! their own ids for numbering (`--autocode`).

use gridtwin_core::{Area, Level, QualityReport, RejectReason, Rejection};

use super::geometry::PendingRepair;
use super::{required, Check, Loader, Repair};
use crate::record::Record;

impl Loader<'_> {
    /// Loads areas of any level: `code` (level told by its length, or by `level`),
    /// optional `name` and `parent` (which the code must extend), and a polygon.
    pub fn areas(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Area> {
        // The polygons, the costly part (OGC validity), are checked side by side a
        // chunk of records at a time; codes, duplicates and counts go in file order.
        const CHUNK: usize = 1024;
        let rules = self.geometry_rules();
        let mut records = records.peekable();
        let mut out = Vec::new();
        while records.peek().is_some() {
            let chunk: Vec<_> = records.by_ref().take(CHUNK).collect();
            let shapes: Vec<_> = {
                use rayon::prelude::*;
                chunk
                    .par_iter()
                    .filter_map(|r| r.as_ref().ok())
                    .map(|r| rules.polygons(r))
                    .collect()
            };
            out.extend(self.areas_in_order(file, chunk.into_iter(), shapes, quality));
        }
        out
    }

    /// The areas of `records` in file order, each Ok record's polygons (and repair)
    /// given in `shapes`.
    fn areas_in_order(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        shapes: Vec<(Check<geo::MultiPolygon<f64>>, Option<PendingRepair>)>,
        quality: &mut QualityReport,
    ) -> Vec<Area> {
        let mut shapes = shapes.into_iter();
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.areas;
        let code_field = self.code_field.as_deref().unwrap_or("code");
        let name_field = self.name_field.as_deref().unwrap_or("name");
        self.run("areas", file, records, quality, |r| {
            // (taken first: one shape per record that reaches here, in order)
            let (boundary, repair) = shapes.next().expect("a shape per record");
            let text = required(r, &[code_field])?;
            let code = match r.text(&["level"]) {
                Some(l) => {
                    let level: Level = l.parse().map_err(|e: gridtwin_core::code::CodeError| {
                        (RejectReason::BadValue, e.to_string())
                    })?;
                    self.rule.parse_area(level, &text)
                }
                None => self.rule.parse_area_any(&text),
            }
            .map_err(|e| (RejectReason::MalformedCode, e.to_string()))?;
            if let Some(parent) = r.text(&["parent"]) {
                let p = self
                    .rule
                    .parse_area_any(&parent)
                    .map_err(|e| (RejectReason::MalformedCode, format!("parent: {e}")))?;
                if !code.extends(&p) || code.parent(self.rule) != Some(p) {
                    return Err((
                        RejectReason::CodeNotExtendingParent,
                        format!("code `{code}` does not extend its parent's code `{p}`"),
                    ));
                }
            }
            let boundary = boundary?;
            if !seen.insert(code) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("code `{code}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            if let Some((problem, given, fixed)) = repair {
                self.repairs.borrow_mut().push(Repair {
                    file: file.to_string(),
                    record: r.number,
                    id: code.to_string(),
                    problem,
                    area_given_m2: given,
                    area_repaired_m2: fixed,
                });
            }
            Ok(Area {
                code,
                name: r.text(&[name_field]).unwrap_or_default(),
                source_id: r.text(&["source_id"]).unwrap_or_default(),
                boundary,
            })
        })
    }

    /// Reads areas that carry their own ids instead of codes, for numbering
    /// (`--autocode`): the id field (`--code-field`, else `id` or `code`, else the
    /// record number), the name, the parent field's value if `parent_field` is given,
    /// and the polygon. Nothing is counted as loaded here: the records count once they
    /// are placed (or are rejected) by [`gridtwin_core::autocode::autocode`].
    pub fn source_areas(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        parent_field: Option<&str>,
        quality: &mut QualityReport,
    ) -> Vec<gridtwin_core::autocode::SourceArea> {
        let id_fields: Vec<&str> = match self.code_field.as_deref() {
            Some(f) => vec![f],
            None => vec!["id", "code"],
        };
        let name_field = self.name_field.as_deref().unwrap_or("name");
        let mut out = Vec::new();
        for rec in records {
            let r = match rec {
                Ok(r) => r,
                Err(rejection) => {
                    quality.rejected("areas", rejection);
                    continue;
                }
            };
            let read = (|| {
                let source_id = match r.text(&id_fields) {
                    Some(id) => id,
                    None if self.code_field.is_some() => required(&r, &id_fields)?,
                    None => r.number.to_string(),
                };
                let parent_ref = match parent_field {
                    Some(f) => Some(required(&r, &[f])?),
                    None => None,
                };
                let boundary = self.polygons(&r)?;
                if let Some((problem, given, fixed)) = self.pending_repair.take() {
                    self.repairs.borrow_mut().push(Repair {
                        file: file.to_string(),
                        record: r.number,
                        id: source_id.clone(),
                        problem,
                        area_given_m2: given,
                        area_repaired_m2: fixed,
                    });
                }
                Ok(gridtwin_core::autocode::SourceArea {
                    source_id,
                    name: r.text(&[name_field]).unwrap_or_default(),
                    parent_ref,
                    boundary,
                    file: file.to_string(),
                    record: r.number,
                })
            })();
            match read {
                Ok(a) => out.push(a),
                Err((reason, detail)) => {
                    quality.rejected("areas", Rejection::new(file, r.number, reason, detail))
                }
            }
        }
        out
    }
}
