//! The road network crews travel on: shortest travel times by speed, cached.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use gridtwin_core::coord::haversine_m;
use gridtwin_core::Road;
use rstar::{primitives::GeomWithData, RTree};

/// Speed assumed off the network (a crew walking/driving the straight line from the
/// nearest node), km/h.
pub const OFF_NETWORK_KMH: f64 = 20.0;

/// A directed road graph.
pub struct RoadNetwork {
    nodes: Vec<(f64, f64)>,
    /// Fastest speed on the network, m/s: straight-line distance at this speed never
    /// overestimates a travel time, so A* with it finds the shortest path.
    max_speed: f64,
    /// Node positions in metres on a local frame, for the A* estimate.
    local: Vec<(f64, f64)>,
    /// Adjacency: (to, seconds, road index) per node, CSR.
    start: Vec<u32>,
    adj: Vec<(u32, f64, u32)>,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    /// Shortest times by (closure state, from, to).
    cache: Mutex<HashMap<(u32, u32, u32), f64>>,
}

/// Which roads are closed: a numbered state (the same number must always mean the
/// same set, as results are cached by it) and a flag per road of the city.
#[derive(Debug, Clone, Copy)]
pub struct Closed<'a> {
    pub state: u32,
    pub roads: &'a [bool],
}

impl Closed<'_> {
    /// Every road open.
    pub const NONE: Closed<'static> = Closed {
        state: 0,
        roads: &[],
    };

    fn is_closed(&self, road: u32) -> bool {
        self.roads.get(road as usize).copied().unwrap_or(false)
    }
}

impl RoadNetwork {
    /// Builds the graph: a node per distinct road vertex, an edge per segment
    /// (both ways unless one-way), timed at min(road speed, `max_kmh`).
    pub fn new(roads: &[Road], max_kmh: f64) -> Self {
        let mut index: HashMap<(u64, u64), u32> = HashMap::new();
        let mut nodes = Vec::new();
        let mut edges: Vec<(u32, u32, f64, u32)> = Vec::new();
        let mut node = |x: f64, y: f64, nodes: &mut Vec<(f64, f64)>| -> u32 {
            *index.entry((x.to_bits(), y.to_bits())).or_insert_with(|| {
                nodes.push((x, y));
                (nodes.len() - 1) as u32
            })
        };
        for (ri, r) in roads.iter().enumerate() {
            let ri = ri as u32;
            let speed = r.speed_kmh.min(max_kmh).max(1.0) / 3.6;
            for l in r.line.lines() {
                let a = node(l.start.x, l.start.y, &mut nodes);
                let b = node(l.end.x, l.end.y, &mut nodes);
                if a == b {
                    continue;
                }
                let secs = haversine_m(l.start.x, l.start.y, l.end.x, l.end.y) / speed;
                edges.push((a, b, secs, ri));
                if !r.oneway {
                    edges.push((b, a, secs, ri));
                }
            }
        }
        edges.sort_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        let mut start = vec![0u32; nodes.len() + 1];
        for e in &edges {
            start[e.0 as usize + 1] += 1;
        }
        for i in 0..nodes.len() {
            start[i + 1] += start[i];
        }
        let adj = edges.iter().map(|e| (e.1, e.2, e.3)).collect();
        let tree = RTree::bulk_load(
            nodes
                .iter()
                .enumerate()
                .map(|(i, &(x, y))| GeomWithData::new([x, y], i as u32))
                .collect(),
        );
        let max_speed = roads
            .iter()
            .map(|r| r.speed_kmh.min(max_kmh).max(1.0) / 3.6)
            .fold(1.0 / 3.6, f64::max);
        let frame = nodes
            .first()
            .map(|&(x, y)| gridtwin_core::frame::LocalFrame::new(x, y));
        let local = nodes
            .iter()
            .map(|&(x, y)| frame.map(|f| f.to_local(x, y)).unwrap_or((0.0, 0.0)))
            .collect();
        RoadNetwork {
            nodes,
            local,
            max_speed,
            start,
            adj,
            tree,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node nearest a point.
    pub fn nearest(&self, x: f64, y: f64) -> Option<u32> {
        self.tree.nearest_neighbor(&[x, y]).map(|e| e.data)
    }

    pub fn node(&self, i: u32) -> (f64, f64) {
        self.nodes[i as usize]
    }

    /// Shortest travel time in seconds from node `a` to node `b` (A*, cached);
    /// `None` when `b` cannot be reached.
    pub fn travel_secs(&self, a: u32, b: u32) -> Option<f64> {
        self.travel_secs_with(a, b, Closed::NONE)
    }

    /// As [`RoadNetwork::travel_secs`], avoiding closed roads.
    pub fn travel_secs_with(&self, a: u32, b: u32, closed: Closed) -> Option<f64> {
        if a == b {
            return Some(0.0);
        }
        if let Some(&t) = self.cache.lock().expect("cache").get(&(closed.state, a, b)) {
            return t.is_finite().then_some(t);
        }
        let found = self
            .path_with(a, b, closed)
            .and_then(|p| p.last().map(|x| x.1))
            .unwrap_or(f64::INFINITY);
        self.cache
            .lock()
            .expect("cache")
            .insert((closed.state, a, b), found);
        found.is_finite().then_some(found)
    }

    /// The shortest path from `a` to `b` avoiding closed roads: each node with the
    /// time (s) it is reached (uncached; [`RoadNetwork::travel_secs_with`] caches its
    /// last time).
    ///
    /// A*: straight line at the network's top speed is an admissible, consistent
    /// estimate, so the first time `b` is popped its time is the shortest.
    /// (Local-frame distance, shrunk by 1 % so it stays below the great-circle edge
    /// lengths the times come from.)
    pub fn path_with(&self, a: u32, b: u32, closed: Closed) -> Option<Vec<(u32, f64)>> {
        if a == b {
            return Some(vec![(a, 0.0)]);
        }
        let target = self.local[b as usize];
        let inv = 0.99 / self.max_speed;
        let h = |n: u32| {
            let p = self.local[n as usize];
            ((p.0 - target.0).powi(2) + (p.1 - target.1).powi(2)).sqrt() * inv
        };
        let mut dist = vec![f64::INFINITY; self.nodes.len()];
        let mut prev = vec![u32::MAX; self.nodes.len()];
        let mut heap = BinaryHeap::new();
        dist[a as usize] = 0.0;
        heap.push(Reverse((OrdF64(h(a)), a)));
        while let Some(Reverse((OrdF64(f), u))) = heap.pop() {
            let d = dist[u as usize];
            if u == b {
                let mut path = vec![(b, d)];
                let mut x = b;
                while x != a {
                    x = prev[x as usize];
                    path.push((x, dist[x as usize]));
                }
                path.reverse();
                return Some(path);
            }
            if f > d + h(u) + 1e-9 {
                continue;
            }
            for &(v, w, road) in
                &self.adj[self.start[u as usize] as usize..self.start[u as usize + 1] as usize]
            {
                if closed.is_closed(road) {
                    continue;
                }
                let nd = d + w;
                if nd < dist[v as usize] {
                    dist[v as usize] = nd;
                    prev[v as usize] = u;
                    heap.push(Reverse((OrdF64(nd + h(v)), v)));
                }
            }
        }
        None
    }

    /// Seconds from a point to its nearest node, off the network.
    pub fn access_secs(&self, from: (f64, f64), node: u32) -> f64 {
        let n = self.node(node);
        haversine_m(from.0, from.1, n.0, n.1) / (OFF_NETWORK_KMH / 3.6)
    }

    /// Travel time between two points: to and from their nearest nodes at
    /// [`OFF_NETWORK_KMH`], the network in between; straight line when unreachable.
    pub fn travel_between(
        &self,
        from: (f64, f64),
        from_node: u32,
        to: (f64, f64),
        to_node: u32,
    ) -> f64 {
        self.travel_between_with(from, from_node, to, to_node, Closed::NONE)
    }

    /// As [`RoadNetwork::travel_between`], avoiding closed roads.
    pub fn travel_between_with(
        &self,
        from: (f64, f64),
        from_node: u32,
        to: (f64, f64),
        to_node: u32,
        closed: Closed,
    ) -> f64 {
        let off = OFF_NETWORK_KMH / 3.6;
        let (fa, tb) = (self.node(from_node), self.node(to_node));
        let access = haversine_m(from.0, from.1, fa.0, fa.1) / off
            + haversine_m(tb.0, tb.1, to.0, to.1) / off;
        match self.travel_secs_with(from_node, to_node, closed) {
            Some(t) => t + access,
            None => haversine_m(from.0, from.1, to.0, to.1) / off,
        }
    }
}

impl RoadNetwork {
    /// As [`RoadNetwork::travel_between_with`], but `None` when the closures cut off
    /// a way that the open roads give: the place is unreachable until a road reopens
    /// (a place the road network never reaches is still reached off-network).
    pub fn travel_between_unless_cut(
        &self,
        from: (f64, f64),
        from_node: u32,
        to: (f64, f64),
        to_node: u32,
        closed: Closed,
    ) -> Option<f64> {
        if closed.state != 0
            && self.travel_secs_with(from_node, to_node, closed).is_none()
            && self
                .travel_secs_with(from_node, to_node, Closed::NONE)
                .is_some()
        {
            return None;
        }
        Some(self.travel_between_with(from, from_node, to, to_node, closed))
    }
}

#[derive(Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::LineString;
    use gridtwin_core::SpeedSource;

    fn road(pts: &[(f64, f64)], kmh: f64, oneway: bool) -> Road {
        Road {
            id: String::new(),
            line: LineString::from(pts.to_vec()),
            class: "residential".into(),
            speed_kmh: kmh,
            speed_source: SpeedSource::Tagged,
            oneway,
        }
    }

    #[test]
    fn shortest_path_takes_the_faster_way_and_respects_one_way() {
        // a square: the direct east edge is slow (5 km/h), the way round is fast
        let a = (24.94, 60.17);
        let b = (24.941, 60.17);
        let c = (24.941, 60.1705);
        let d = (24.94, 60.1705);
        let roads = vec![
            road(&[a, b], 5.0, false),
            road(&[a, d, c, b], 50.0, false),
            road(&[b, (24.942, 60.17)], 30.0, true),
        ];
        let net = RoadNetwork::new(&roads, 50.0);
        let (na, nb) = (
            net.nearest(a.0, a.1).unwrap(),
            net.nearest(b.0, b.1).unwrap(),
        );
        let direct = haversine_m(a.0, a.1, b.0, b.1) / (5.0 / 3.6);
        let round = (haversine_m(a.0, a.1, d.0, d.1)
            + haversine_m(d.0, d.1, c.0, c.1)
            + haversine_m(c.0, c.1, b.0, b.1))
            / (50.0 / 3.6);
        assert!(round < direct);
        let t = net.travel_secs(na, nb).unwrap();
        assert!((t - round).abs() < 1e-9, "{t} vs {round}");
        // one-way: reachable forward, not back
        let ne = net.nearest(24.942, 60.17).unwrap();
        assert!(net.travel_secs(nb, ne).is_some());
        assert!(net.travel_secs(ne, nb).is_none());
        // closing the way round (road 1) leaves only the slow direct edge
        let closed = [false, true, false];
        let c = Closed {
            state: 1,
            roads: &closed,
        };
        let t = net.travel_secs_with(na, nb, c).unwrap();
        assert!((t - direct).abs() < 1e-9, "{t} vs {direct}");
        // paths end at the same time, through the nodes the graph says
        let p = net.path_with(na, nb, Closed::NONE).unwrap();
        assert_eq!(p.len(), 4); // a d c b
        assert!((p[3].1 - round).abs() < 1e-9 && p[0] == (na, 0.0));
        let p = net.path_with(na, nb, c).unwrap();
        assert_eq!(p.len(), 2);
        // closing both leaves b unreachable; the open state is still cached apart
        let all = [true, true, false];
        let c2 = Closed {
            state: 2,
            roads: &all,
        };
        assert!(net.travel_secs_with(na, nb, c2).is_none());
        assert!((net.travel_secs(na, nb).unwrap() - round).abs() < 1e-9);
    }
}
