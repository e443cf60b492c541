//! Free crews on shift, indexed by place, so a dispatch finds the nearest one without
//! scanning every crew of the department (a megacity has thousands).
//!
//! A uniform bucket grid over the city in local metres; the search walks rings of
//! buckets outward and stops once no unvisited bucket can hold a nearer crew. Ties in
//! distance go to the lowest crew index, exactly as a linear scan in crew order would.
//!
//! ```
//! use gridtwin_sim::free_crews::FreeCrews;
//! let mut idx = FreeCrews::new([0.0, 0.0, 1000.0, 1000.0], 4, 10);
//! idx.insert(3, (900.0, 900.0));
//! idx.insert(7, (100.0, 120.0));
//! assert_eq!(idx.nearest((0.0, 0.0)), Some((7, 100.0f64.hypot(120.0))));
//! idx.remove(7);
//! assert_eq!(idx.nearest((0.0, 0.0)).map(|x| x.0), Some(3));
//! ```

/// Index of free crews by position (local metres).
pub struct FreeCrews {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    buckets: Vec<Vec<(u32, f64, f64)>>,
    /// Bucket of each crew in the index (`u32::MAX`: not in it).
    bucket_of: Vec<u32>,
    len: usize,
    /// Every crew in the index, in no order, and each one's place in this list: when
    /// few crews are free (a busy day's peak, a night), the rings would search most
    /// of the city to find one, and scanning the few is quicker.
    all: Vec<(u32, f64, f64)>,
    place_in_all: Vec<u32>,
}

impl FreeCrews {
    /// An empty index over `bbox` = [min x, min y, max x, max y] for crews
    /// `0..n_crews`, with buckets sized for about `expected` crews (two per bucket).
    pub fn new(bbox: [f64; 4], expected: usize, n_crews: usize) -> Self {
        let w = (bbox[2] - bbox[0]).max(1.0);
        let h = (bbox[3] - bbox[1]).max(1.0);
        let buckets_wanted = (expected / 2).max(1) as f64;
        let cell = (w * h / buckets_wanted).sqrt().max(1.0);
        let nx = ((w / cell).ceil() as usize).clamp(1, 4096);
        let ny = ((h / cell).ceil() as usize).clamp(1, 4096);
        FreeCrews {
            x0: bbox[0],
            y0: bbox[1],
            cell,
            nx,
            ny,
            buckets: vec![Vec::new(); nx * ny],
            bucket_of: vec![u32::MAX; n_crews],
            len: 0,
            all: Vec::new(),
            place_in_all: vec![u32::MAX; n_crews],
        }
    }

    fn cell_of(&self, p: (f64, f64)) -> (usize, usize) {
        let cx = ((p.0 - self.x0) / self.cell).floor();
        let cy = ((p.1 - self.y0) / self.cell).floor();
        (
            (cx.max(0.0) as usize).min(self.nx - 1),
            (cy.max(0.0) as usize).min(self.ny - 1),
        )
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, crew: u32) -> bool {
        self.bucket_of[crew as usize] != u32::MAX
    }

    /// Adds a crew at `p` (no-op if it is already in).
    pub fn insert(&mut self, crew: u32, p: (f64, f64)) {
        if self.contains(crew) {
            return;
        }
        let (cx, cy) = self.cell_of(p);
        let b = cy * self.nx + cx;
        self.buckets[b].push((crew, p.0, p.1));
        self.bucket_of[crew as usize] = b as u32;
        self.place_in_all[crew as usize] = self.all.len() as u32;
        self.all.push((crew, p.0, p.1));
        self.len += 1;
    }

    /// Removes a crew (no-op if it is not in).
    pub fn remove(&mut self, crew: u32) {
        let b = self.bucket_of[crew as usize];
        if b == u32::MAX {
            return;
        }
        let v = &mut self.buckets[b as usize];
        if let Some(i) = v.iter().position(|e| e.0 == crew) {
            v.swap_remove(i);
        }
        self.bucket_of[crew as usize] = u32::MAX;
        let i = std::mem::replace(&mut self.place_in_all[crew as usize], u32::MAX) as usize;
        self.all.swap_remove(i);
        if let Some(moved) = self.all.get(i) {
            self.place_in_all[moved.0 as usize] = i as u32;
        }
        self.len -= 1;
    }

    /// The nearest crew to `p` and its distance; ties go to the lowest crew index.
    pub fn nearest(&self, p: (f64, f64)) -> Option<(u32, f64)> {
        if self.len == 0 {
            return None;
        }
        // The rings visit about (buckets / crews) buckets before the first crew: past
        // the square root of the bucket count, the crews themselves are fewer.
        if self.len * self.len <= self.buckets.len() {
            return self
                .all
                .iter()
                .map(|&(k, ex, ey)| ((ex - p.0).powi(2) + (ey - p.1).powi(2), k))
                // (total order: a place that is not a number never panics)
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(d2, k)| (k, d2.sqrt()));
        }
        let (cx, cy) = self.cell_of(p);
        // How far `p` lies outside its (clamped) bucket: ring bounds shrink by it.
        let bx0 = self.x0 + cx as f64 * self.cell;
        let by0 = self.y0 + cy as f64 * self.cell;
        let dx = (bx0 - p.0).max(p.0 - (bx0 + self.cell)).max(0.0);
        let dy = (by0 - p.1).max(p.1 - (by0 + self.cell)).max(0.0);
        let out = dx.hypot(dy);
        let mut best: Option<(f64, u32)> = None;
        let max_r = self.nx.max(self.ny);
        for r in 0..=max_r {
            if let Some((d2, _)) = best {
                // Every bucket of ring r is at least (r − 1) cells from p's bucket,
                // so at least (r − 1)·cell − out from p.
                let bound = ((r as f64 - 1.0) * self.cell - out).max(0.0);
                if d2 < bound * bound {
                    break;
                }
            }
            let (r_i, cx_i, cy_i) = (r as isize, cx as isize, cy as isize);
            for y in (cy_i - r_i)..=(cy_i + r_i) {
                if y < 0 || y >= self.ny as isize {
                    continue;
                }
                let on_edge_row = y == cy_i - r_i || y == cy_i + r_i;
                let step = if on_edge_row { 1 } else { (2 * r_i).max(1) };
                let mut x = cx_i - r_i;
                while x <= cx_i + r_i {
                    if x >= 0 && x < self.nx as isize {
                        for &(k, ex, ey) in &self.buckets[y as usize * self.nx + x as usize] {
                            let d2 = (ex - p.0).powi(2) + (ey - p.1).powi(2);
                            if best.is_none_or(|(bd, bk)| (d2, k) < (bd, bk)) {
                                best = Some((d2, k));
                            }
                        }
                    }
                    x += step;
                }
            }
        }
        best.map(|(d2, k)| (k, d2.sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_equals_a_linear_scan() {
        // the rings (most crews free) and the scan of the few
        nearest_equals_a_linear_scan_with(300);
        nearest_equals_a_linear_scan_with(12);
    }

    #[test]
    fn a_place_that_is_not_a_number_gets_an_answer_not_a_panic() {
        for n in [3u32, 300] {
            let mut idx = FreeCrews::new([0.0, 0.0, 5000.0, 3000.0], 300, 300);
            for k in 0..n {
                idx.insert(k, (k as f64 * 10.0, 5.0));
            }
            assert!(idx.nearest((f64::NAN, 0.0)).is_some(), "{n} crews");
        }
    }

    /// `n` crews in an index sized for 300.
    fn nearest_equals_a_linear_scan_with(n: usize) {
        // Crews on a coarse lattice (many equal distances) and random places.
        let mut idx = FreeCrews::new([0.0, 0.0, 5000.0, 3000.0], 300, 300);
        let mut pos = vec![None; 300];
        let mut s = 12345u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for step in 0..20_000 {
            let k = (rnd() * n as f64) as u32;
            if rnd() < 0.5 {
                let p = (
                    (rnd() * 50.0).floor() * 100.0,
                    (rnd() * 30.0).floor() * 100.0,
                );
                if pos[k as usize].is_none() {
                    idx.insert(k, p);
                    pos[k as usize] = Some(p);
                }
            } else {
                idx.remove(k);
                pos[k as usize] = None;
            }
            // queries also outside the box
            let q = (rnd() * 6000.0 - 500.0, rnd() * 4000.0 - 500.0);
            let linear = pos
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    p.map(|p| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2), k as u32))
                })
                .min_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(
                idx.nearest(q).map(|x| x.0),
                linear.map(|x| x.1),
                "step {step}"
            );
        }
    }
}
