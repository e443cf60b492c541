//! The columnar path of a batch assignment: a GeoParquet record batch is cut into
//! slices handled in parallel, each row's point read straight from its WKB (or its
//! lon/lat columns) and its fields formatted as text straight from the Arrow arrays —
//! no record, string or geometry object per row — then written as CSV lines or as the
//! Arrow columns of a GeoParquet output. The rows, their order, their text and every
//! rejection are those of the record path
//! ([`crate::parquet_io::ParquetRecords::next_batch`]), which other outputs still take.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, LargeBinaryArray,
    LargeStringArray, RecordBatch, StringArray,
};
use geo::{Geometry, Point};
use geozero::{wkb::Wkb, ToGeo};
use gridtwin_core::assign::Assigner;
use gridtwin_core::locate::Location;
use gridtwin_core::RejectReason;

use super::fast::Part;
use super::parse::{RowParser, RowResult};
use crate::isolate::isolate;
use crate::parquet_io::{cell, plain_point, wkb_fits};

/// Rows per parallel slice.
const SLICE: usize = 8192;

/// A column of the batch, typed once per batch rather than once per cell.
enum Column<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Int64(&'a Int64Array),
    Float64(&'a Float64Array),
    Boolean(&'a BooleanArray),
    /// Anything else the reader accepts (narrower integers, timestamps…): the record
    /// path's own cell conversion.
    Other(&'a ArrayRef),
}

impl<'a> Column<'a> {
    fn of(array: &'a ArrayRef) -> Self {
        let a = array.as_any();
        if let Some(x) = a.downcast_ref::<StringArray>() {
            Column::Utf8(x)
        } else if let Some(x) = a.downcast_ref::<LargeStringArray>() {
            Column::LargeUtf8(x)
        } else if let Some(x) = a.downcast_ref::<Int64Array>() {
            Column::Int64(x)
        } else if let Some(x) = a.downcast_ref::<Float64Array>() {
            Column::Float64(x)
        } else if let Some(x) = a.downcast_ref::<BooleanArray>() {
            Column::Boolean(x)
        } else {
            Column::Other(array)
        }
    }

    /// Appends the text of `row` as the record path writes it
    /// ([`crate::record::Value::as_text`]: null and blank text are empty, text is
    /// trimmed, numbers in Rust's shortest round-trip form).
    fn push_text(&self, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
        use std::io::Write;
        match self {
            Column::Utf8(a) if !a.is_null(row) => {
                out.extend_from_slice(a.value(row).trim().as_bytes())
            }
            Column::LargeUtf8(a) if !a.is_null(row) => {
                out.extend_from_slice(a.value(row).trim().as_bytes())
            }
            Column::Int64(a) if !a.is_null(row) => {
                let _ = write!(out, "{}", a.value(row));
            }
            Column::Float64(a) if !a.is_null(row) => push_f64(out, a.value(row)),
            Column::Boolean(a) if !a.is_null(row) => {
                let _ = write!(out, "{}", a.value(row));
            }
            Column::Other(a) => {
                if let Some(t) = cell(a, row)?.as_text() {
                    out.extend_from_slice(t.as_bytes());
                }
            }
            _ => {} // null
        }
        Ok(())
    }
}

/// The point of a WKB geometry, or why the row is rejected. A plain 2-D or 3-D point
/// (ISO or EWKB, either byte order) is read in place; anything else goes through the
/// checked, isolated decoder as on the record path.
fn wkb_point(bytes: &[u8]) -> Result<Point<f64>, (RejectReason, String)> {
    if let Some(p) = plain_point(bytes) {
        return Ok(p);
    }
    let decoded = wkb_fits(bytes)
        .and_then(|()| isolate(|| Wkb(bytes).to_geo()))
        .and_then(|g| g.map_err(|e| e.to_string()));
    match decoded {
        Ok(Geometry::Point(p)) => Ok(p),
        Ok(Geometry::MultiPoint(mp)) if mp.0.len() == 1 => Ok(mp.0[0]),
        Ok(_) => Err((
            RejectReason::WrongGeometryType,
            "wrong geometry type: expected a point".into(),
        )),
        Err(e) => Err((RejectReason::InvalidGeometry, format!("WKB: {e}"))),
    }
}

/// Appends `v` as Rust's `Display` writes it (the shortest digits that read back as
/// `v`, never an exponent), with ryu's faster digits wherever its form is the same.
pub(crate) fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        // ryu writes `1e21`, `1e-7` and `3.0` where Display writes the digits out and
        // `3`. Otherwise both write the shortest digits that read back as `v`, the
        // closest of them to `v`; they differ only on a tie (`v` exactly halfway
        // between two such, e.g. …804.125 to two decimals: ryu rounds to even,
        // Display up), which needs `v`'s exact decimal expansion to end one digit
        // after the shortest form's.
        let decimals = s.find('.').map_or(0, |i| s.len() - i - 1);
        if !s.contains('e') && !s.ends_with(".0") && exact_decimals(v) > decimals + 1 {
            out.extend_from_slice(s.as_bytes());
            return;
        }
    }
    use std::io::Write;
    let _ = write!(out, "{v}");
}

/// How many decimals `v`'s exact value has (a binary fraction with k bits after the
/// point has exactly k decimals).
fn exact_decimals(v: f64) -> usize {
    let bits = v.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent - 1075)
    };
    if mantissa == 0 {
        return 0;
    }
    let power = power + mantissa.trailing_zeros() as i64;
    (-power).max(0) as usize
}

/// Whether a field holds a comma, a quote or a line break: eight bytes at a time (a
/// byte equal to `b` makes `x = word ^ b…b` hold a zero byte, which
/// `(x − 0x01…01) & !x & 0x80…80` detects exactly).
fn needs_quotes(field: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let holds = |word: u64, b: u8| {
        let x = word ^ (ONES * b as u64);
        x.wrapping_sub(ONES) & !x & HIGH != 0
    };
    let mut words = field.chunks_exact(8);
    for w in &mut words {
        let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        if holds(word, b',') || holds(word, b'"') || holds(word, b'\n') || holds(word, b'\r') {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// Appends one CSV field, quoted where the csv crate's writer quotes it (a comma, a
/// quote or a line break inside; quotes doubled).
fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if needs_quotes(field) {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// What the columnar path writes.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// CSV lines: the non-geometry columns, then lon/lat where `add_lonlat`, then the
    /// codes, outcome and distance.
    Csv { add_lonlat: bool },
    /// The columns of the GeoParquet output ([`crate::sink::TableSink`]'s schema): the
    /// non-geometry columns as text (null where blank), the four codes (null where
    /// none), outcome, distance rounded to the millimetre, and the point as WKB —
    /// the values the record path writes.
    Arrow,
}

/// Locates the rows of `batch` (the first numbered `first_number`) and writes each in
/// `shape`. `geometry` is the WKB column, if any.
pub(super) fn locate_batch(
    assigner: &Assigner,
    nearest_m: Option<f64>,
    parser: &RowParser<'_>,
    batch: &RecordBatch,
    geometry: Option<usize>,
    shape: Shape,
    first_number: u64,
) -> Vec<Part> {
    use rayon::prelude::*;
    // (column index, name, column) of every column but the geometry
    let fields: Vec<(usize, &str, Column)> = batch
        .schema_ref()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
        .filter(|(i, _)| Some(*i) != geometry)
        .map(|(i, (f, c))| (i, f.name().as_str(), Column::of(c)))
        .collect();
    let wkb = geometry.map(|g| batch.column(g));
    let binary = wkb.and_then(|c| c.as_any().downcast_ref::<BinaryArray>());
    let large = wkb.and_then(|c| c.as_any().downcast_ref::<LargeBinaryArray>());
    let starts: Vec<usize> = (0..batch.num_rows()).step_by(SLICE).collect();
    starts
        .par_iter()
        .map(|&start| {
            let end = (start + SLICE).min(batch.num_rows());
            let mut part = Part::default();
            let mut text: Vec<u8> = Vec::with_capacity((end - start) * 64);
            let mut ends: Vec<usize> = Vec::with_capacity((end - start) * fields.len());
            // Parse every row, locate all points together, then format.
            let mut ok: Vec<(usize, (f64, f64))> = Vec::with_capacity(end - start);
            let mut first_field = Vec::with_capacity(end - start);
            for row in start..end {
                let number = first_number + row as u64;
                first_field.push(ends.len());
                // A row's problem is, as on the record path, that of the last column
                // in file order that has one; a point of the wrong type only counts
                // when no column has a problem.
                let mut problem: Option<(usize, (RejectReason, String))> = None;
                for (i, name, col) in &fields {
                    if let Err(e) = col.push_text(row, &mut text) {
                        problem = Some((*i, (RejectReason::BadValue, format!("{name}: {e}"))));
                    }
                    ends.push(text.len());
                }
                let mut wrong_type = None;
                let point = match (geometry, wkb) {
                    (Some(g), Some(c)) if !c.is_null(row) => {
                        let bytes: &[u8] = match (binary, large) {
                            (Some(b), _) => b.value(row),
                            (_, Some(b)) => b.value(row),
                            _ => &[],
                        };
                        match wkb_point(bytes) {
                            Ok(p) => Some(p),
                            Err(e) if e.0 == RejectReason::WrongGeometryType => {
                                wrong_type = Some(e);
                                None
                            }
                            Err(e) => {
                                if problem.as_ref().is_none_or(|(i, _)| *i < g) {
                                    problem = Some((g, e));
                                }
                                None
                            }
                        }
                    }
                    _ => None,
                };
                let problem = problem.map(|(_, p)| p).or(wrong_type);
                if let Some((reason, detail)) = problem {
                    part.rejections.push((number, reason, detail));
                    continue;
                }
                let at = first_field[row - start];
                let mut from = if at == 0 { 0 } else { ends[at - 1] };
                let row_fields: Vec<&[u8]> = ends[at..at + fields.len()]
                    .iter()
                    .map(|&e| {
                        let f = &text[from..e];
                        from = e;
                        f
                    })
                    .collect();
                let parsed: RowResult = parser.row(&row_fields, point);
                match parsed {
                    Err((reason, detail)) => part.rejections.push((number, reason, detail)),
                    Ok(p) => ok.push((row, p)),
                }
            }
            let points: Vec<(f64, f64)> = ok.iter().map(|&(_, p)| p).collect();
            let located = assigner.assign_many(&points, nearest_m);
            let add_lonlat = match shape {
                Shape::Csv { add_lonlat } => add_lonlat,
                Shape::Arrow => {
                    let rows = Rows {
                        text: &text,
                        ends: &ends,
                        first_field: &first_field,
                        start,
                        width: fields.len(),
                    };
                    part.columns = Some(arrow_columns(assigner, &rows, &ok, &located, &mut part));
                    return part;
                }
            };
            // Lines are formatted straight into the part's buffer, each field quoted
            // by the csv crate's rule (`QuoteStyle::Necessary`: a field holding a
            // comma, a quote or a line break), so the bytes are the record path's.
            part.out.reserve(text.len() + ok.len() * 64);
            for (&(row, (x, y)), loc) in ok.iter().zip(located) {
                let (codes, outcome, distance) = part.count(assigner, loc);
                let out = &mut part.out;
                let at = first_field[row - start];
                let mut from = if at == 0 { 0 } else { ends[at - 1] };
                for (k, &e) in ends[at..at + fields.len()].iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    push_field(out, &text[from..e]);
                    from = e;
                }
                let mut sep = !fields.is_empty();
                let mut comma = |out: &mut Vec<u8>| {
                    if sep {
                        out.push(b',');
                    }
                    sep = true;
                };
                if add_lonlat {
                    comma(out);
                    push_f64(out, x);
                    comma(out);
                    push_f64(out, y);
                }
                match codes {
                    Some(c) => {
                        for code in [&c.grid, &c.community, &c.street, &c.district] {
                            comma(out);
                            push_field(out, code.as_bytes());
                        }
                    }
                    None => (0..4).for_each(|_| comma(out)),
                }
                comma(out);
                out.extend_from_slice(outcome.as_bytes());
                comma(out);
                if let Some(d) = distance {
                    use std::io::Write;
                    let _ = write!(out, "{d:.3}");
                }
                out.push(b'\n');
            }
            part
        })
        .collect()
}

/// The text of a slice's fields: field `k` of row `row` is
/// `text[ends[i - 1]..ends[i]]` with `i = first_field[row - start] + k`.
struct Rows<'a> {
    text: &'a [u8],
    ends: &'a [usize],
    first_field: &'a [usize],
    start: usize,
    width: usize,
}

impl Rows<'_> {
    fn field(&self, row: usize, k: usize) -> &[u8] {
        let i = self.first_field[row - self.start] + k;
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[from..self.ends[i]]
    }
}

/// A point as the WKB the record path writes (`geozero`'s `to_wkb` of a 2-D point:
/// little-endian, type 1, x, y).
fn point_wkb(x: f64, y: f64) -> [u8; 21] {
    let mut b = [0u8; 21];
    b[0] = 1;
    b[1..5].copy_from_slice(&1u32.to_le_bytes());
    b[5..13].copy_from_slice(&x.to_le_bytes());
    b[13..21].copy_from_slice(&y.to_le_bytes());
    b
}

/// The GeoParquet output's columns for the located rows `ok` of a slice, counting
/// their outcomes into `part`.
fn arrow_columns(
    assigner: &Assigner,
    rows: &Rows<'_>,
    ok: &[(usize, (f64, f64))],
    located: &[Location],
    part: &mut Part,
) -> Vec<ArrayRef> {
    let n = ok.len();
    let text_bytes = rows.text.len() / rows.width.max(1);
    let mut fields: Vec<StringBuilder> = (0..rows.width)
        .map(|_| StringBuilder::with_capacity(n, text_bytes))
        .collect();
    let mut codes: [StringBuilder; 4] =
        std::array::from_fn(|_| StringBuilder::with_capacity(n, n * 12));
    let mut outcome = StringBuilder::with_capacity(n, n * 8);
    let mut distance = Float64Builder::with_capacity(n);
    let mut geometry = BinaryBuilder::with_capacity(n, n * 21);
    for (&(row, (x, y)), loc) in ok.iter().zip(located) {
        for (k, column) in fields.iter_mut().enumerate() {
            match rows.field(row, k) {
                [] => column.append_null(),
                f => column.append_value(String::from_utf8_lossy(f)),
            }
        }
        let (grid_codes, what, d) = part.count(assigner, *loc);
        match grid_codes {
            Some(c) => {
                for (column, code) in
                    codes
                        .iter_mut()
                        .zip([&c.grid, &c.community, &c.street, &c.district])
                {
                    match code.as_str() {
                        "" => column.append_null(),
                        s => column.append_value(s),
                    }
                }
            }
            None => codes.iter_mut().for_each(|c| c.append_null()),
        }
        outcome.append_value(what);
        distance.append_option(d.map(|d| (d * 1000.0).round() / 1000.0));
        geometry.append_value(point_wkb(x, y));
    }
    let mut columns: Vec<ArrayRef> = fields
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.extend(codes.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(outcome.finish()));
    columns.push(Arc::new(distance.finish()));
    columns.push(Arc::new(geometry.finish()));
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_the_wkb_the_record_path_writes() {
        use geozero::{CoordDimensions, ToWkb};
        for (x, y) in [(121.5, 31.25), (-0.0, 1e-300), (f64::MAX, -7.125)] {
            let theirs = Geometry::Point(Point::new(x, y))
                .to_wkb(CoordDimensions::xy())
                .unwrap();
            assert_eq!(point_wkb(x, y).to_vec(), theirs);
        }
    }

    fn wkb(order: u8, kind: u32, coords: &[f64]) -> Vec<u8> {
        let mut b = vec![order];
        if order == 1 {
            b.extend(kind.to_le_bytes());
            coords.iter().for_each(|c| b.extend(c.to_le_bytes()));
        } else {
            b.extend(kind.to_be_bytes());
            coords.iter().for_each(|c| b.extend(c.to_be_bytes()));
        }
        b
    }

    #[test]
    fn floats_are_written_as_display_writes_them() {
        // seeded random bit patterns (every exponent) and typical coordinates
        let mut z = 1u64;
        let mut next = || {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            z
        };
        let mut values: Vec<f64> = vec![0.0, -0.0, 1.0, 3.0, 1e15, 1e16, 1e21, 1e-5, 1e-7, 0.1];
        values.extend([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN,
            f64::MAX,
        ]);
        // ties: exact values halfway between two shortest forms
        values.extend([
            181_703_637_716_804.0 + 0.125,
            0.5,
            2.5,
            1234567.125,
            9007199254740993.0,
        ]);
        for _ in 0..100_000 {
            let bits = next();
            values.push((bits >> 20) as f64 / 8.0);
            values.push((bits >> 11) as f64 / 1024.0);
            values.push(f64::from_bits(bits));
            values.push(121.0 + (bits >> 11) as f64 / (1u64 << 53) as f64);
            values.push(((bits >> 20) as f64 / 1000.0).round() / 1000.0);
        }
        for v in values {
            let mut out = Vec::new();
            push_f64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{v:e}");
        }
    }

    #[test]
    fn quoting_is_the_csv_crates() {
        let mut z = 7u64;
        for _ in 0..20_000 {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            let len = (z % 23) as usize;
            let field: Vec<u8> = (0..len)
                .map(|i| b"ab,\"\r\n x9"[((z >> (i % 50)) % 9) as usize])
                .collect();
            let mut ours = b"x,".to_vec();
            push_field(&mut ours, &field);
            ours.push(b'\n');
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([&b"x"[..], &field]).unwrap();
            assert_eq!(ours, w.into_inner().unwrap(), "{field:?}");
        }
    }

    #[test]
    fn plain_points_are_read_in_place_in_every_common_encoding() {
        for b in [
            wkb(1, 1, &[121.5, 31.2]),
            wkb(0, 1, &[121.5, 31.2]),
            wkb(1, 1001, &[121.5, 31.2, 7.0]),
            wkb(0, 0x8000_0001, &[121.5, 31.2, 7.0]),
        ] {
            assert_eq!(plain_point(&b), Some(Point::new(121.5, 31.2)), "{b:?}");
            // the decoder, where it reads the encoding at all (not big-endian EWKB
            // with Z), agrees
            if let Ok(Geometry::Point(slow)) = Wkb(&b).to_geo() {
                assert_eq!(Point::new(121.5, 31.2), slow);
            }
        }
    }

    #[test]
    fn anything_but_a_plain_finite_point_takes_the_checked_decoder() {
        // a truncated point, an empty point (NaN), a line, a point with trailing bytes
        assert!(plain_point(&wkb(1, 1, &[121.5])).is_none());
        assert!(plain_point(&wkb(1, 1, &[f64::NAN, f64::NAN])).is_none());
        assert!(plain_point(&wkb(1, 2, &[0.0, 0.0])).is_none());
        let mut long = wkb(1, 1, &[1.0, 2.0]);
        long.push(0);
        assert!(plain_point(&long).is_none());
        // and the checked decoder names what is wrong
        let line = {
            let mut b = vec![1u8];
            b.extend(2u32.to_le_bytes());
            b.extend(2u32.to_le_bytes());
            [0.0f64, 0.0, 1.0, 1.0]
                .iter()
                .for_each(|c| b.extend(c.to_le_bytes()));
            b
        };
        assert_eq!(
            wkb_point(&line).unwrap_err().0,
            RejectReason::WrongGeometryType
        );
        assert_eq!(
            wkb_point(&wkb(1, 1, &[121.5])).unwrap_err().0,
            RejectReason::InvalidGeometry
        );
    }
}
