//! Loading areas (grids, communities, streets, districts): by their codes, or by
//! their own ids for numbering (`--autocode`).

use gridtwin_core::{Area, Level, QualityReport, RejectReason, Rejection};

use super::{required, Loader, Repair};
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
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.areas;
        let code_field = self.code_field.as_deref().unwrap_or("code");
        let name_field = self.name_field.as_deref().unwrap_or("name");
        self.run("areas", file, records, quality, |r| {
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
            let boundary = self.polygons(r)?;
            if !seen.insert(code) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("code `{code}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            if let Some((problem, given, fixed)) = self.pending_repair.take() {
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
