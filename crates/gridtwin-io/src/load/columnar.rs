//! Loading a GeoParquet component layer a record batch at a time (issue 19: a
//! megacity's 12 M components). Rows are checked in parallel straight from the Arrow
//! arrays — code, category, status, point read in place from its WKB — with no record,
//! field name or geometry object per row; the duplicate check and the counting then
//! run in file order. A row the fast check does not take (no code, a bad code or
//! status, an unknown class, a geometry that is not a plain valid point, a field that
//! is not text) is made a record and goes through [`Loader::component`], the path
//! every other format takes, so every rejection and its reason are the same.

use std::path::Path;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, BinaryArray, DictionaryArray, Int32Array, LargeBinaryArray, LargeStringArray,
    RecordBatch, StringArray, StringViewArray,
};
use gridtwin_core::coord::{check_lon_lat, LonLatSystem};
use gridtwin_core::{Component, ComponentStatus, QualityReport, RejectReason, Rejection, SmolStr};

use super::Loader;
use crate::error::IoError;
use crate::parquet_io::plain_point;

/// A text column of a batch.
enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    /// A dictionary column's keys and its values (category, department, status: read
    /// as Parquet's dictionary and keys, see [`DICTIONARY_COLUMNS`]).
    Dictionary(&'a Int32Array, &'a StringArray),
    /// String views (a file written by Polars).
    View(&'a StringViewArray),
}

impl Text<'_> {
    /// The trimmed text of `row`, `None` when null or blank (as `Value::as_text`).
    fn get(&self, row: usize) -> Option<&str> {
        let s = match self {
            Text::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            Text::Large(a) => (!a.is_null(row)).then(|| a.value(row)),
            Text::View(a) => (!a.is_null(row)).then(|| a.value(row)),
            Text::Dictionary(keys, values) => {
                let k = usize::try_from(keys.values()[row]).ok()?;
                (!keys.is_null(row) && k < values.len() && !values.is_null(k))
                    .then(|| values.value(k))
            }
        }?;
        // (text that starts and ends with a visible ASCII character has nothing to
        // trim: the usual case, and `trim` decodes a character at each end)
        let b = s.as_bytes();
        let s = if b.first().is_some_and(u8::is_ascii_graphic)
            && b.last().is_some_and(u8::is_ascii_graphic)
        {
            s
        } else {
            s.trim()
        };
        (!s.is_empty()).then_some(s)
    }
}

/// The columns read as dictionaries: few distinct values in millions of rows.
const DICTIONARY_COLUMNS: [&str; 5] = ["category", "class", "department", "owner", "status"];

/// The columns a component is read from, found as [`crate::record::Record::text`]
/// finds them: for each name in turn, the first column of that name (any case).
struct Columns<'a> {
    code: Option<Text<'a>>,
    /// `department`, then `owner`.
    department: [Option<Text<'a>>; 2],
    status: Option<Text<'a>>,
    source_id: Option<Text<'a>>,
    wkb: Option<&'a dyn Array>,
}

impl<'a> Columns<'a> {
    /// `None` when a column the fast check reads is not text (the record path turns
    /// numbers into text; this one does not try).
    fn find(batch: &'a RecordBatch, geometry: Option<usize>) -> Option<Self> {
        let schema = batch.schema_ref();
        let text = |name: &str| -> Result<Option<Text<'a>>, ()> {
            let Some(i) = (0..batch.num_columns()).find(|&i| {
                Some(i) != geometry && schema.field(i).name().eq_ignore_ascii_case(name)
            }) else {
                return Ok(None);
            };
            let any = batch.column(i).as_any();
            if let Some(d) = any.downcast_ref::<DictionaryArray<Int32Type>>() {
                match d.values().as_any().downcast_ref::<StringArray>() {
                    Some(values) => Ok(Some(Text::Dictionary(d.keys(), values))),
                    None => Err(()),
                }
            } else if let Some(a) = any.downcast_ref::<StringViewArray>() {
                Ok(Some(Text::View(a)))
            } else if let Some(a) = any.downcast_ref::<StringArray>() {
                Ok(Some(Text::Utf8(a)))
            } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
                Ok(Some(Text::Large(a)))
            } else {
                Err(())
            }
        };
        Some(Columns {
            code: text("code").ok()?,
            department: [text("department").ok()?, text("owner").ok()?],
            status: text("status").ok()?,
            source_id: text("source_id").ok()?,
            wkb: geometry.map(|g| batch.column(g).as_ref()),
        })
    }

    fn wkb(&self, row: usize) -> Option<&[u8]> {
        let c = self.wkb?;
        if c.is_null(row) {
            return None;
        }
        let any = c.as_any();
        if let Some(b) = any.downcast_ref::<BinaryArray>() {
            Some(b.value(row))
        } else {
            any.downcast_ref::<LargeBinaryArray>().map(|b| b.value(row))
        }
    }
}

impl Loader<'_> {
    /// Loads the components of a (Geo)Parquet layer (see the module comment);
    /// the result, rejections and counts are those of [`Loader::components`] on the
    /// file's records.
    pub fn components_parquet(
        &self,
        path: &Path,
        quality: &mut QualityReport,
    ) -> Result<Vec<Component>, IoError> {
        use rayon::prelude::*;
        let file = path.display().to_string();
        let stream = crate::parquet_io::open_as_dictionaries(path, |name| {
            DICTIONARY_COLUMNS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(name))
        })?;
        crate::limits::check_rows(&file, stream.rows)?;
        let geometry = stream.geometry_index();
        // The fast check reads WGS-84 lon/lat points; a layer to reproject or convert
        // takes the record path whole.
        let plain_coords = self.coords == LonLatSystem::Wgs84
            && self.source_crs.as_deref().is_none_or(|c| c.is_lon_lat());
        let (rule, table) = (self.rule, self.table);
        let mut out: Vec<Component> = Vec::new();
        // (the declared count is within the in-memory limit checked above)
        let _ = out.try_reserve_exact(stream.rows as usize);
        let mut guard = self.seen.borrow_mut();
        let seen = &mut guard.components;
        let mut uncoded = self.uncoded.borrow_mut();
        let departments: rustc_hash::FxHashMap<gridtwin_core::CategoryKey, std::sync::Arc<str>> =
            table
                .iter()
                .map(|c| (c.key, self.department(&c.department)))
                .collect();
        let classes = Classes::new(rule, table, &departments);
        let rows = stream.row_reader();
        // The rows of a batch checked on all threads, straight from its arrays.
        let check = |batch: &RecordBatch| -> Vec<Option<Checked>> {
            let columns = Columns::find(batch, geometry).filter(|_| plain_coords);
            match &columns {
                None => Vec::new(),
                Some(c) => (0..batch.num_rows())
                    .into_par_iter()
                    .with_min_len(4096)
                    .map(|row| {
                        let (code, major, minor) = rule
                            .parse_component_classes(c.code.as_ref()?.get(row)?)
                            .ok()?;
                        let (_, own) = classes.get(major, minor)?;
                        let status = match c.status.as_ref().and_then(|s| s.get(row)) {
                            None => ComponentStatus::InService,
                            Some(s) => s.parse().ok()?,
                        };
                        let location = plain_point(c.wkb(row)?)?;
                        check_lon_lat(location.x(), location.y()).ok()?;
                        // the category's own department, shared (the usual case); a
                        // row naming another is interned in the ordered pass below
                        let other = c
                            .department
                            .iter()
                            .find_map(|d| d.as_ref().and_then(|d| d.get(row)))
                            .is_some_and(|d| d != &**own);
                        Some(Checked {
                            code,
                            location,
                            own,
                            status,
                            source_id: c
                                .source_id
                                .as_ref()
                                .and_then(|s| s.get(row))
                                .map(SmolStr::new)
                                .unwrap_or_default(),
                            other_department: other,
                        })
                    })
                    .collect(),
            }
        };
        // The ordered pass over a checked batch: duplicates, the record path for the
        // rows the check did not take, the counts.
        let mut ordered = |batch: RecordBatch, first: u64, fast: Vec<Option<Checked>>| {
            let columns = Columns::find(&batch, geometry).filter(|_| plain_coords);
            let mut fast = fast.into_iter();
            let mut loaded = 0u64;
            for row in 0..batch.num_rows() {
                let number = first + row as u64;
                let checked = match fast.next().flatten() {
                    Some(checked) => {
                        // (the shared department is cloned here, on one thread: its
                        // counter bounced between the cores when the workers did)
                        let mut component = Component {
                            code: checked.code,
                            location: checked.location,
                            department: checked.own.clone(),
                            status: checked.status,
                            source_id: checked.source_id,
                        };
                        if checked.other_department {
                            let name = columns
                                .as_ref()
                                .and_then(|c| {
                                    c.department
                                        .iter()
                                        .find_map(|d| d.as_ref().and_then(|d| d.get(row)))
                                })
                                .unwrap_or_default();
                            component.department = self.department(name);
                        }
                        if seen.insert(component.code.value()) {
                            loaded += 1;
                            out.push(component);
                            continue;
                        }
                        let text = columns
                            .as_ref()
                            .and_then(|c| c.code.as_ref()?.get(row))
                            .unwrap_or_default();
                        Err((
                            RejectReason::DuplicateId,
                            format!(
                                "code `{text}` appeared earlier (in this file or an earlier one)"
                            ),
                        ))
                    }
                    None => match rows.record_of(&batch, row, number) {
                        Err(rejection) => {
                            quality.rejected("components", rejection);
                            continue;
                        }
                        Ok(r) => self.component(&file, &r, seen, &mut uncoded),
                    },
                };
                match checked {
                    Ok(Some(component)) => {
                        loaded += 1;
                        out.push(component);
                    }
                    Ok(None) => loaded += 1,
                    Err((reason, detail)) => quality
                        .rejected("components", Rejection::new(&file, number, reason, detail)),
                }
            }
            quality.loaded_many(&file, "components", loaded);
        };
        // Batch n's ordered pass (on this thread) runs beside batch n + 1's check (on
        // the pool), while the reader thread decodes batch n + 2: the ordered pass
        // alone left both cores but one idle.
        let mut pending: Option<(RecordBatch, u64, Vec<Option<Checked>>)> = None;
        let mut batches = stream.decode_on_thread();
        loop {
            let next = batches.next().transpose()?;
            let checked = std::thread::scope(|scope| {
                let checking = next.as_ref().map(|(batch, _)| scope.spawn(|| check(batch)));
                if let Some((batch, first, fast)) = pending.take() {
                    ordered(batch, first, fast);
                }
                checking.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            });
            match (next, checked) {
                (Some((batch, first)), Some(fast)) => pending = Some((batch, first, fast)),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// A row the fast check took: the component's parts, its category's department
/// (shared), and whether the row names another department.
struct Checked<'a> {
    code: gridtwin_core::ComponentCode,
    location: geo::Point<f64>,
    own: &'a std::sync::Arc<str>,
    status: ComponentStatus,
    source_id: SmolStr,
    other_department: bool,
}

/// The component categories and their departments by class numbers: a table indexed
/// by `major × 10^minor width + minor` where the layout's class widths make it small
/// (the usual 2 + 2 digits: 10,000 entries), the category table's hash otherwise.
struct Classes<'a> {
    table: &'a gridtwin_core::CategoryTable,
    departments: &'a rustc_hash::FxHashMap<gridtwin_core::CategoryKey, std::sync::Arc<str>>,
    /// `10^minor width`, and the direct table (empty when too large).
    minor_span: u64,
    direct: Vec<Option<(&'a gridtwin_core::Category, &'a std::sync::Arc<str>)>>,
}

impl<'a> Classes<'a> {
    /// Class widths up to this many entries are indexed directly.
    const MAX_DIRECT: u64 = 1 << 20;

    fn new(
        rule: &gridtwin_core::CodeRule,
        table: &'a gridtwin_core::CategoryTable,
        departments: &'a rustc_hash::FxHashMap<gridtwin_core::CategoryKey, std::sync::Arc<str>>,
    ) -> Self {
        let layout = rule.component();
        let span = |w: u8| 10u64.checked_pow(w as u32);
        let (minor_span, size) = match (span(layout.minor), span(layout.major + layout.minor)) {
            (Some(m), Some(all)) if all <= Self::MAX_DIRECT => (m, all),
            _ => (0, 0),
        };
        let mut direct = vec![None; size as usize];
        if size > 0 {
            for c in table.iter() {
                // (a class wider than the layout's no code can name: skipped, not
                // aliased onto another class's slot)
                if c.key.kind != gridtwin_core::CategoryKind::Component
                    || c.key.minor as u64 >= minor_span
                {
                    continue;
                }
                let i = c.key.major as u64 * minor_span + c.key.minor as u64;
                if let (Some(slot), Some(d)) = (direct.get_mut(i as usize), departments.get(&c.key))
                {
                    *slot = Some((c, d));
                }
            }
        }
        Classes {
            table,
            departments,
            minor_span,
            direct,
        }
    }

    /// The category of a code's classes and its department, `None` if not in the table.
    fn get(
        &self,
        major: u32,
        minor: u32,
    ) -> Option<(&'a gridtwin_core::Category, &'a std::sync::Arc<str>)> {
        if self.direct.is_empty() {
            let key = gridtwin_core::CategoryKey {
                kind: gridtwin_core::CategoryKind::Component,
                major,
                minor,
            };
            let c = self.table.get(&key)?;
            return Some((c, self.departments.get(&c.key)?));
        }
        *self
            .direct
            .get((major as u64 * self.minor_span + minor as u64) as usize)?
    }
}
