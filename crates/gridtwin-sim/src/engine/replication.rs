//! What one replication produced, and its timeline, crew and contention records.

use super::*;

/// What one replication produced.
pub struct Replication<'w> {
    pub(super) world: &'w World,
    /// Incidents the arrival processes generated (counted there, to check that the
    /// timeline holds every one of them).
    pub arrivals: usize,
    /// The timeline, in case order (compact; see [`Replication::record`]).
    pub cases: Vec<SimCase<'w>>,
    pub crews: Vec<CrewRecord>,
    pub events: u64,
    /// Signal-priority decisions, in the order they were taken.
    pub contention: Vec<ContentionRecord>,
    /// Grid workers' patrol visits: (grid index, when the worker left it); empty
    /// without grid workers.
    pub patrol_visits: Vec<(u32, i64)>,
}

impl Replication<'_> {
    /// The timeline record of case `i`.
    pub fn record(&self, i: usize) -> CaseRecord {
        self.row(i).to_record()
    }

    /// The timeline row of case `i`, borrowed from the case and the world's shared
    /// texts (what the Parquet timeline is built from: no string made per case).
    pub fn row(&self, i: usize) -> CaseRow<'_> {
        let world = self.world;
        let c = &self.cases[i];
        let tx = &world.texts;
        let cat = &world.categories[c.category as usize];
        let codes = c.grid.map(|g| &world.grids[g.ix()].codes);
        let code = |i: usize| codes.map_or(&tx.empty, |g| &g[i]);

        CaseRow {
            case_id: CaseName::Number(i),
            kind: &cat.kind_text,
            category: &cat.class_text,
            department: &cat.department_text,
            grid_code: code(0),
            community_code: code(1),
            street_code: code(2),
            district_code: code(3),
            lon: c.at.0,
            lat: c.at.1,
            occurred_at: c.occurred,
            intake_at: secs(c.intake),
            source: &tx.sources[c.source as usize],
            verified_at: secs(c.verified),
            ladder: &cat.ladder_text[c.ladder as usize],
            dispatched_at: secs(c.dispatched),
            crew: c.crew.map_or(&tx.empty, |k| &world.crews[k.ix()].id),
            assigned_at: secs(c.assigned),
            arrived_at: secs(c.arrived),
            handled_at: secs(c.handled),
            feedback_at: secs(c.feedback),
            checked_at: secs(c.checked),
            closed_at: secs(c.closed),
            closed_by: if c.declined {
                &tx.not_registered
            } else if let (Some(stage), Some(_)) = (c.complied, c.closed) {
                &cat.compliance_text[stage as usize]
            } else if c.closed.is_some() {
                &tx.crew_closed
            } else {
                &tx.empty
            },
            deadline: secs(c.deadline),
            time_basis: &tx.basis[(cat.time_basis == gridtwin_core::TimeBasis::Natural) as usize],
            amber_at: secs(c.amber_at),
            verify_due: secs(c.verify_due),
            dispatch_due: secs(c.dispatch_due),
            handle_due: secs(c.handle_due),
            check_due: secs(c.check_due),
            call_at: secs(c.call_at),
            call_answered_at: secs(c.call_answered),
            call_hung_up_at: secs(c.call_hung_up),
            extended: c.extended,
            recurrence_of: c.recurrence_of.map(|r| CaseName::Number(r.ix())),
            forwarded: c.forwarded,
            returns: c.returns as u32,
            dispute_s: c.dispute,
            rework: c.rework as u32,
            first_arrived_at: secs(c.first_arrived),
            passes: c.passes as u32,
            queue_wait_s: Some(c.queue_wait),
            priority: c.arrival_priority,
            escalated: c.escalated,
            preempted: c.preempted as u32,
            signal_delay_s: c.signal_delay,
            cut_off_s: c.cut_off,
            satisfaction: None,
        }
    }

    /// All timeline records, in case order.
    pub fn records(&self) -> Vec<CaseRecord> {
        (0..self.cases.len()).map(|i| self.record(i)).collect()
    }

    /// The timeline as CSV bytes (the same as [`crate::timeline::write_csv`] of
    /// [`Replication::records`]), made in parallel blocks of records so the whole
    /// text timeline never sits in memory.
    pub fn timeline_csv(&self) -> Result<Vec<u8>, csv::Error> {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 16;
        let n = self.cases.len();
        if n == 0 {
            let mut v = Vec::new();
            crate::timeline::write_csv::<CaseRecord, _>(&[], &mut v)?;
            return Ok(v);
        }
        let blocks: Vec<Vec<u8>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let rows: Vec<CaseRecord> = (b * BLOCK..((b + 1) * BLOCK).min(n))
                    .map(|i| self.record(i))
                    .collect();
                let mut out = csv::WriterBuilder::new()
                    .has_headers(b == 0)
                    .from_writer(Vec::with_capacity(rows.len() * 200));
                // times in the city's own zone (each block on its own rayon thread)
                crate::local_time::with_offset(self.world.utc_offset_s, || {
                    for r in &rows {
                        out.serialize(r)?;
                    }
                    Ok::<(), csv::Error>(())
                })?;
                out.into_inner().map_err(|e| e.into_error().into())
            })
            .collect::<Result<_, csv::Error>>()?;
        Ok(blocks.concat())
    }

    /// The timeline as Parquet bytes (the records of [`Replication::records`], a row
    /// group per block of [`crate::timeline::PARQUET_ROWS`]); blocks are turned into
    /// Arrow batches in parallel, a few at a time, so the whole timeline never sits in
    /// memory twice.
    pub fn timeline_parquet(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.write_timeline_parquet(&mut out)?;
        Ok(out)
    }

    /// [`Replication::timeline_parquet`] written to `w` as it is encoded (a megacity
    /// timeline is hundreds of megabytes: not held in memory whole).
    pub fn write_timeline_parquet<W: std::io::Write + Send>(&self, w: W) -> Result<(), String> {
        use crate::timeline::{case_batch, case_fields, write_parquet_batches, PARQUET_ROWS};
        use rayon::prelude::*;
        let fields = case_fields(self.world.utc_offset_s)?;
        let schema = std::sync::Arc::new(arrow_schema::Schema::new(fields.to_vec()));
        // (a row borrowed for a timeline is about 550 bytes)
        const ROWS_IN_CACHE: usize = 1024;
        let n = self.cases.len();
        let blocks = n.div_ceil(PARQUET_ROWS);
        // two blocks per thread at a time: parallel formatting, bounded memory
        let wave = rayon::current_num_threads().max(1) * 2;
        // (lazy: each wave is made when the writer asks for it)
        let batches = (0..blocks).step_by(wave).flat_map(|first| {
            (first..(first + wave).min(blocks))
                .into_par_iter()
                .map(|b| {
                    // A row group's rows are made and turned into columns a few hundred
                    // kilobytes at a time, then joined: a column is read from every
                    // row, and a whole group's rows (tens of megabytes) were read from
                    // memory once per column, fifty times over.
                    let end = ((b + 1) * PARQUET_ROWS).min(n);
                    let parts = (b * PARQUET_ROWS..end)
                        .step_by(ROWS_IN_CACHE)
                        .map(|from| {
                            let rows: Vec<CaseRow> = (from..(from + ROWS_IN_CACHE).min(end))
                                .map(|i| self.row(i))
                                .collect();
                            case_batch(&fields, &rows, self.world.utc_offset_s)
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    arrow_select::concat::concat_batches(&schema, &parts)
                        .map_err(|e| format!("timeline to Arrow: {e}"))
                })
                .collect::<Vec<_>>()
        });
        // The batches are made on this thread (in the caller's rayon pool) while
        // another encodes and compresses the previous ones (the writer is sequential
        // and needs no pool).
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            let fields = &fields;
            let writer = s.spawn(move || write_parquet_batches(fields, rx, w));
            for b in batches {
                if tx.send(b).is_err() {
                    break; // the writer stopped: its error is below
                }
            }
            drop(tx);
            writer
                .join()
                .unwrap_or_else(|_| Err("the timeline writer failed".to_string()))
        })
    }
}
