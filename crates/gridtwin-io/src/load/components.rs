//! Loading components: coded by the national rule, or read without a code and coded
//! once the areas are known, as the OSM import codes them.

use geo::Point;
use gridtwin_core::{
    Area, CategoryKind, Component, ComponentStatus, Level, QualityReport, RejectReason, Rejection,
};

use super::{Loader, UncodedComponent};
use crate::record::Record;

impl Loader<'_> {
    /// Loads components: `code` (16 digits by the national rule), optional
    /// `department` (default: the category's) and `status`, and a point.
    pub fn components(
        &self,
        file: &str,
        records: impl Iterator<Item = Result<Record, Rejection>>,
        quality: &mut QualityReport,
    ) -> Vec<Component> {
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.components;
        let mut uncoded = self.uncoded.borrow_mut();
        let rows = self.run("components", file, records, quality, |r| {
            self.component(file, r, seen, &mut uncoded)
        });
        rows.into_iter().flatten().collect()
    }

    /// One component record checked: the component, or `None` when it has no code and
    /// waits in `uncoded` to be coded by its place; `seen` holds the codes so far.
    pub(super) fn component(
        &self,
        file: &str,
        r: &Record,
        seen: &mut super::code_set::CodeSet,
        uncoded: &mut Vec<UncodedComponent>,
    ) -> super::Check<Option<Component>> {
        {
            let Some(text) = r.text(&["code"]) else {
                // No code: coded later, as the OSM import codes its own, once the
                // district of its place is known (`code_uncoded`).
                let Some(cat) = r.text(&["category", "class"]) else {
                    return Err((
                        RejectReason::MissingField,
                        "`code` is missing or empty, and there is no `category` to code it by"
                            .into(),
                    ));
                };
                let category = self
                    .table
                    .find(CategoryKind::Component, &cat)
                    .ok_or_else(|| {
                        (
                            RejectReason::UnknownCategory,
                            format!("component category `{cat}` is not in the category table"),
                        )
                    })?;
                let status = status(r)?;
                let location = self.point(r)?;
                uncoded.push(UncodedComponent {
                    file: file.to_string(),
                    record: r.number,
                    key: category.key,
                    location,
                    department: self.department(
                        &r.text(&["department", "owner"])
                            .unwrap_or_else(|| category.department.clone()),
                    ),
                    status,
                    source_id: r
                        .text(&["source_id", "id"])
                        .unwrap_or_else(|| format!("{file}:{}", r.number))
                        .into(),
                });
                return Ok(None);
            };
            let code = self
                .rule
                .parse_component(&text)
                .map_err(|e| (RejectReason::MalformedCode, e.to_string()))?;
            let component = Component {
                code,
                location: Point::new(0.0, 0.0),
                department: self.department(""),
                status: ComponentStatus::InService,
                source_id: r.text(&["source_id"]).unwrap_or_default().into(),
            };
            let category = self.table.get(&component.category()).ok_or_else(|| {
                (
                    RejectReason::UnknownCategory,
                    format!(
                        "component class {:02}{:02} of `{text}` is not in the category table",
                        code.major(),
                        code.minor()
                    ),
                )
            })?;
            let status = status(r)?;
            let location = self.point(r)?;
            if !seen.insert(code.value()) {
                return Err((
                    RejectReason::DuplicateId,
                    format!("code `{text}` appeared earlier (in this file or an earlier one)"),
                ));
            }
            Ok(Some(Component {
                location,
                department: self.department(
                    &r.text(&["department", "owner"])
                        .unwrap_or_else(|| category.department.clone()),
                ),
                status,
                ..component
            }))
        }
    }

    /// Codes the components read without a code (see [`Loader::components`]) as the
    /// OSM import does: district of their place + class + serial, the serials going on
    /// from the highest already used for that district and class, in read order. A
    /// component in no district's grids is rejected (it was counted loaded; it is
    /// counted again as rejected, not twice).
    pub fn code_uncoded(
        &self,
        areas: &[Area],
        coded: &[Component],
        quality: &mut QualityReport,
    ) -> Vec<Component> {
        use geo::{BoundingRect, Contains};
        let pending = std::mem::take(&mut *self.uncoded.borrow_mut());
        if pending.is_empty() {
            return Vec::new();
        }
        // the deepest areas hold the point most tightly; any level names its district
        let mut by_depth: Vec<&Area> = areas.iter().collect();
        by_depth.sort_by_key(|a| std::cmp::Reverse(a.level()));
        let boxes: Vec<_> = by_depth
            .iter()
            .map(|a| a.boundary.bounding_rect())
            .collect();
        let mut next: std::collections::HashMap<(u64, gridtwin_core::CategoryKey), u64> =
            std::collections::HashMap::new();
        for c in coded {
            let k = (c.code.district(self.rule).value(), c.category());
            let e = next.entry(k).or_insert(0);
            *e = (*e).max(c.code.serial());
        }
        let mut out = Vec::new();
        for u in pending {
            let p = u.location;
            let district = by_depth
                .iter()
                .zip(&boxes)
                .filter(|(_, b)| {
                    b.is_some_and(|r| {
                        r.min().x <= p.x()
                            && p.x() <= r.max().x
                            && r.min().y <= p.y()
                            && p.y() <= r.max().y
                    })
                })
                .find(|(a, _)| a.level() >= Level::District && a.boundary.contains(&p))
                .and_then(|(a, _)| a.code.ancestor(self.rule, Level::District));
            let coded = district.ok_or_else(|| {
                "it has no code and lies in no district's area, so no code can be made".to_string()
            });
            let result = coded.and_then(|d| {
                let s = next.entry((d.value(), u.key)).or_insert(0);
                *s += 1;
                self.rule
                    .component_code(&d, u.key.major, u.key.minor, *s)
                    .map_err(|e| e.to_string())
            });
            match result {
                Ok(code) => out.push(Component {
                    code,
                    location: u.location,
                    department: u.department,
                    status: u.status,
                    source_id: u.source_id,
                }),
                Err(detail) => {
                    quality.retract_loaded(&u.file, "components");
                    quality.rejected(
                        "components",
                        Rejection::new(&u.file, u.record, RejectReason::MalformedCode, detail),
                    );
                }
            }
        }
        out
    }
}

/// A record's `status` (in service when the column is absent or empty).
fn status(r: &Record) -> super::Check<ComponentStatus> {
    match r.text(&["status"]) {
        None => Ok(ComponentStatus::InService),
        Some(s) => s
            .parse()
            .map_err(|e: gridtwin_core::ParseEnumError| (RejectReason::BadValue, e.to_string())),
    }
}
