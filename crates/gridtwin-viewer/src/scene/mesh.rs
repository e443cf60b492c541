//! Vertex data of one mesh, independent of any GPU, and the shapes the layers are
//! built from: quads, lines, boxes and prisms.

/// Vertex data of one mesh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub colors: Vec<[f32; 4]>,
    pub indices: Vec<u32>,
}

impl MeshData {
    pub(super) fn push_quad(&mut self, p: [[f32; 3]; 4], n: [f32; 3], c: [f32; 4]) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&p);
        self.normals.extend_from_slice(&[n; 4]);
        self.colors.extend_from_slice(&[c; 4]);
        self.indices
            .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    pub(super) fn push_line(&mut self, a: [f32; 3], b: [f32; 3], c: [f32; 4]) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&[a, b]);
        self.normals.extend_from_slice(&[[0.0, 1.0, 0.0]; 2]);
        self.colors.extend_from_slice(&[c; 2]);
        self.indices.extend_from_slice(&[base, base + 1]);
    }

    /// An axis-aligned box of half-size `half` around `c`: five visible faces (no bottom).
    pub fn push_box(&mut self, c: [f32; 3], half: [f32; 3], color: [f32; 4]) {
        let v = |dx: f32, dy: f32, dz: f32| {
            [
                c[0] + dx * half[0],
                c[1] + dy * half[1],
                c[2] + dz * half[2],
            ]
        };
        let faces: [([[f32; 3]; 4], [f32; 3]); 5] = [
            (
                [
                    v(-1., 1., 1.),
                    v(1., 1., 1.),
                    v(1., 1., -1.),
                    v(-1., 1., -1.),
                ],
                [0., 1., 0.],
            ),
            (
                [
                    v(-1., -1., 1.),
                    v(1., -1., 1.),
                    v(1., 1., 1.),
                    v(-1., 1., 1.),
                ],
                [0., 0., 1.],
            ),
            (
                [
                    v(1., -1., -1.),
                    v(-1., -1., -1.),
                    v(-1., 1., -1.),
                    v(1., 1., -1.),
                ],
                [0., 0., -1.],
            ),
            (
                [
                    v(1., -1., 1.),
                    v(1., -1., -1.),
                    v(1., 1., -1.),
                    v(1., 1., 1.),
                ],
                [1., 0., 0.],
            ),
            (
                [
                    v(-1., -1., -1.),
                    v(-1., -1., 1.),
                    v(-1., 1., 1.),
                    v(-1., 1., -1.),
                ],
                [-1., 0., 0.],
            ),
        ];
        for (q, n) in faces {
            self.push_quad(q, n, color);
        }
    }

    /// A vertical prism over the polygon `ring` (x, z pairs, any orientation) from the
    /// ground to `h`: a fan-triangulated top (the ring must be convex) and walls.
    pub fn push_prism(&mut self, ring: &[[f32; 2]], h: f32, color: [f32; 4]) {
        if ring.len() < 3 {
            return;
        }
        let area2: f32 = (0..ring.len())
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        // Seen from above (y up, z south) a ring is counter-clockwise when area2 < 0.
        let ccw = area2 < 0.0;
        let base = self.positions.len() as u32;
        for p in ring {
            self.positions.push([p[0], h, p[1]]);
            self.normals.push([0.0, 1.0, 0.0]);
            self.colors.push(color);
        }
        for i in 1..ring.len() as u32 - 1 {
            if ccw {
                self.indices
                    .extend_from_slice(&[base, base + i, base + i + 1]);
            } else {
                self.indices
                    .extend_from_slice(&[base, base + i + 1, base + i]);
            }
        }
        for i in 0..ring.len() {
            let (a, b) = if ccw {
                (ring[i], ring[(i + 1) % ring.len()])
            } else {
                (ring[(i + 1) % ring.len()], ring[i])
            };
            let (dx, dz) = (b[0] - a[0], b[1] - a[1]);
            let len = (dx * dx + dz * dz).sqrt().max(1e-6);
            self.push_quad(
                [
                    [a[0], 0.0, a[1]],
                    [b[0], 0.0, b[1]],
                    [b[0], h, b[1]],
                    [a[0], h, a[1]],
                ],
                [-dz / len, 0.0, dx / len],
                color,
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}
