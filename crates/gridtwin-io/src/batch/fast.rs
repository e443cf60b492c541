//! The CSV fast path of a batch assignment: a block of whole, quote-free lines is cut
//! into slices located in parallel, each line passed through byte for byte with the
//! codes appended, so no row is re-quoted or rebuilt.

use gridtwin_core::assign::{Assigner, GridCodes};
use gridtwin_core::locate::Location;
use gridtwin_core::RejectReason;

use super::parse::RowResult;

/// One slice of a fast-path block, processed on one thread.
#[derive(Default)]
pub(super) struct Part {
    /// CSV lines, where the output is CSV.
    pub(super) out: Vec<u8>,
    /// The output's columns for these rows, where the output is GeoParquet (the
    /// columnar path only).
    pub(super) columns: Option<Vec<arrow_array::ArrayRef>>,
    pub(super) rejections: Vec<(u64, RejectReason, String)>,
    pub(super) assigned: u64,
    pub(super) nearest: u64,
    pub(super) unassigned: u64,
}

impl Part {
    /// Counts a located row's outcome: its grid's codes (none when unassigned), the
    /// outcome's name and the distance to a nearest grid.
    pub(super) fn count<'a>(
        &mut self,
        assigner: &'a Assigner,
        loc: Location,
    ) -> (Option<&'a GridCodes>, &'static str, Option<f64>) {
        match loc {
            Location::Inside(g) => {
                self.assigned += 1;
                (Some(assigner.codes(g)), "assigned", None)
            }
            Location::Nearest(g, d) => {
                self.nearest += 1;
                (Some(assigner.codes(g)), "nearest", Some(d))
            }
            Location::Outside => {
                self.unassigned += 1;
                (None, "unassigned", None)
            }
        }
    }
}

/// Locates the `lines` of `block` (the first numbered `first_number`), each parsed by
/// `parse_row` from its comma-separated fields, `width` of them in a well-formed line.
pub(super) fn locate_lines(
    assigner: &Assigner,
    nearest_m: Option<f64>,
    parse_row: impl Fn(&[&[u8]]) -> RowResult + Sync,
    width: usize,
    block: &[u8],
    lines: &[(u32, u32)],
    first_number: u64,
) -> Vec<Part> {
    use rayon::prelude::*;
    const SLICE: usize = 8192;
    lines
        .par_chunks(SLICE)
        .enumerate()
        .map(|(ci, slice)| {
            let mut part = Part {
                out: Vec::with_capacity(slice.len() * 96),
                ..Default::default()
            };
            let mut fields: Vec<&[u8]> = Vec::with_capacity(width);
            // Parse every line, locate all points together, then format.
            let mut ok: Vec<(usize, (f64, f64))> = Vec::with_capacity(slice.len());
            for (k, &(a, b)) in slice.iter().enumerate() {
                let line = &block[a as usize..b as usize];
                fields.clear();
                fields.extend(line.split(|&c| c == b','));
                match parse_row(&fields) {
                    Err((reason, detail)) => {
                        let number = first_number + (ci * SLICE + k) as u64;
                        part.rejections.push((number, reason, detail));
                    }
                    Ok(p) => ok.push((k, p)),
                }
            }
            let points: Vec<(f64, f64)> = ok.iter().map(|&(_, p)| p).collect();
            let located = assigner.assign_many(&points, nearest_m);
            for (&(k, _), loc) in ok.iter().zip(located) {
                let (a, b) = slice[k];
                part.out.extend_from_slice(&block[a as usize..b as usize]);
                match part.count(assigner, loc) {
                    (Some(codes), outcome, distance) => {
                        push_codes(&mut part.out, codes, outcome, distance)
                    }
                    (None, _, _) => part.out.extend_from_slice(b",,,,,unassigned,\n"),
                }
            }
            part
        })
        .collect()
}

/// Appends `,grid,community,street,district,outcome,distance` and a newline.
fn push_codes(out: &mut Vec<u8>, c: &GridCodes, outcome: &str, distance: Option<f64>) {
    for code in [&c.grid, &c.community, &c.street, &c.district] {
        out.push(b',');
        out.extend_from_slice(code.as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(outcome.as_bytes());
    out.push(b',');
    if let Some(d) = distance {
        out.extend_from_slice(format!("{d:.3}").as_bytes());
    }
    out.push(b'\n');
}
