//! The presenter's camera: an orbit around a focus point on the ground, bookmarks as
//! orbit poses, flights between poses and the tour through the scene's bookmarks.
//! Plain math (no ECS), so poses and tours are tested without a GPU.

use crate::scene::{parse_at, Bookmark, CityScene, TourSpec};

/// Vertical field of view of the viewer's cameras (the window's and the stills'):
/// framing, picking and the scale bar all assume it.
pub const FOV_Y: f32 = std::f32::consts::FRAC_PI_4;

/// The picture a pose is made for: its aspect (width / height) and the fraction of
/// its width on the left that a side panel covers (the city is framed beside it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub aspect: f32,
    pub panel: f32,
}

/// Margin kept free around a fitted city, as a fraction of the half-picture.
const FIT_MARGIN: f32 = 0.04;

impl View {
    /// A whole picture of `width` × `height` pixels, no panel.
    pub fn new(width: f32, height: f32) -> View {
        View {
            aspect: (width / height.max(1.0)).max(1e-3),
            panel: 0.0,
        }
    }

    /// The region (x0, x1, y0, y1, normalised device coordinates) a fitted view fills.
    fn target(&self) -> [f32; 4] {
        let left = -1.0 + 2.0 * self.panel.clamp(0.0, 0.6);
        [
            left + FIT_MARGIN,
            1.0 - FIT_MARGIN,
            -1.0 + FIT_MARGIN,
            1.0 - FIT_MARGIN,
        ]
    }
}

/// Metres on the ground per image pixel at `distance` from a perspective camera
/// with vertical field of view `fov_y` (radians) and an image `height_px` tall:
/// the visible height there is `2 · distance · tan(fov_y / 2)`.
///
/// ```
/// use gridtwin_viewer::camera::metres_per_px;
/// // 90° vertical field of view at 500 m: 1000 m across 1000 px
/// assert!((metres_per_px(500.0, std::f32::consts::FRAC_PI_2, 1000.0) - 1.0).abs() < 1e-5);
/// ```
pub fn metres_per_px(distance: f32, fov_y: f32, height_px: f32) -> f32 {
    2.0 * distance * (fov_y / 2.0).tan() / height_px.max(1.0)
}

/// Camera pose: looking at `focus` from `distance` metres, `yaw` radians clockwise
/// from north, `pitch` radians above the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orbit {
    pub focus: [f32; 3],
    pub distance: f32,
    pub yaw: f32,
    pub pitch: f32,
}

impl Orbit {
    /// The overview of a scene: the whole city from the south-east, 37° up, as large
    /// as the free part of the picture allows (the city's box, up to its tallest
    /// building, fitted to the image's aspect and the camera's field of view).
    pub fn overview(scene: &CityScene, view: View) -> Orbit {
        let (hx, hz) = (scene.half_extent.0.max(25.0), scene.half_extent.1.max(25.0));
        let top = scene.top_m.max(0.0);
        let mut corners = Vec::with_capacity(8);
        for y in [0.0, top] {
            for (x, z) in [(-hx, -hz), (hx, -hz), (hx, hz), (-hx, hz)] {
                corners.push([x, y, z]);
            }
        }
        Orbit::fit(&corners, (-31f32).to_radians(), 37f32.to_radians(), view)
    }

    /// The pose looking from `yaw`, `pitch` whose picture holds every point of
    /// `points` and fills the free part of `view` in at least one direction (less a
    /// small margin), centred in it. Solved by a few rounds of zoom and pan, since
    /// perspective makes near points grow faster than far ones.
    pub fn fit(points: &[[f32; 3]], yaw: f32, pitch: f32, view: View) -> Orbit {
        let n = points.len().max(1) as f32;
        let mut focus = [0.0f32; 3];
        for p in points {
            focus[0] += p[0] / n;
            focus[2] += p[2] / n;
        }
        let radius = points
            .iter()
            .map(|p| {
                let (dx, dy, dz) = (p[0] - focus[0], p[1], p[2] - focus[2]);
                (dx * dx + dy * dy + dz * dz).sqrt()
            })
            .fold(1.0, f32::max);
        let mut o = Orbit {
            focus,
            distance: radius * 3.0,
            yaw,
            pitch: pitch.clamp(3f32.to_radians(), 89f32.to_radians()),
        };
        let [x0, x1, y0, y1] = view.target();
        let t = (FOV_Y / 2.0).tan();
        let (sy, cy) = o.yaw.sin_cos();
        for _ in 0..200 {
            let Some([bx0, bx1, by0, by1]) = o.bounds(points, view.aspect) else {
                // a point behind the camera: step back and try again
                o.distance *= 2.0;
                continue;
            };
            let s = ((bx1 - bx0) / (x1 - x0)).max((by1 - by0) / (y1 - y0));
            let dx = (bx0 + bx1 - x0 - x1) / 2.0;
            let dy = (by0 + by1 - y0 - y1) / 2.0;
            if (s - 1.0).abs() < 1e-4 && dx.abs() < 1e-4 && dy.abs() < 1e-4 {
                break;
            }
            // pan: right on the ground for x, forward on the ground for y (a step
            // forward moves the focus up the picture by sin(pitch) of it)
            let right = dx * o.distance * t * view.aspect;
            let forward = dy * o.distance * t / o.pitch.sin();
            o.focus[0] += right * cy + forward * sy;
            o.focus[2] += right * sy - forward * cy;
            if s.is_finite() && s > 0.0 {
                o.distance *= s;
            }
        }
        o
    }

    /// The box (x0, x1, y0, y1) in normalised device coordinates that `points` take
    /// in the picture, or `None` when one is behind the camera.
    pub fn bounds(&self, points: &[[f32; 3]], aspect: f32) -> Option<[f32; 4]> {
        let mut b = [f32::MAX, f32::MIN, f32::MAX, f32::MIN];
        for p in points {
            let [x, y] = self.project(*p, aspect)?;
            b = [b[0].min(x), b[1].max(x), b[2].min(y), b[3].max(y)];
        }
        Some(b)
    }

    /// Where a point appears in the picture, in normalised device coordinates
    /// (x right, y up, -1..1 across the image), with the perspective the viewer's
    /// camera uses (vertical field of view [`FOV_Y`], `aspect` = width / height);
    /// `None` behind the camera.
    ///
    /// ```
    /// use gridtwin_viewer::camera::Orbit;
    /// let o = Orbit { focus: [0.0; 3], distance: 100.0, yaw: 0.0, pitch: 0.5 };
    /// let [x, y] = o.project([0.0, 0.0, 0.0], 1.5).unwrap();
    /// assert!(x.abs() < 1e-5 && y.abs() < 1e-5); // the focus is in the middle
    /// ```
    pub fn project(&self, p: [f32; 3], aspect: f32) -> Option<[f32; 2]> {
        let (right, up, forward) = self.basis();
        let e = self.eye();
        let v = [p[0] - e[0], p[1] - e[1], p[2] - e[2]];
        let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let depth = dot(v, forward);
        if depth <= 1e-3 {
            return None;
        }
        let t = (FOV_Y / 2.0).tan();
        Some([
            dot(v, right) / (depth * t * aspect),
            dot(v, up) / (depth * t),
        ])
    }

    /// The camera's right, up and forward unit vectors (world axes).
    fn basis(&self) -> ([f32; 3], [f32; 3], [f32; 3]) {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        // forward points from the eye to the focus: north-ish along the yaw, down by pitch
        let forward = [cp * sy, -sp, -cp * cy];
        let right = [cy, 0.0, sy];
        let up = [sp * sy, cp, -sp * cy];
        (right, up, forward)
    }

    /// Metres on the ground per pixel at the focus, for an image `height_px` tall.
    pub fn metres_per_px(&self, height_px: f32) -> f32 {
        metres_per_px(self.distance, FOV_Y, height_px)
    }

    /// The same view moved sideways so that its focus sits in the middle of the
    /// free part of `view` (beside a still's side panel) rather than behind the panel.
    pub fn centred_in(mut self, view: View) -> Orbit {
        let [x0, x1, _, _] = view.target();
        let shift = (x0 + x1) / 2.0 * self.distance * (FOV_Y / 2.0).tan() * view.aspect;
        // the focus moves left on the picture as the camera moves left
        self.pan(-shift, 0.0);
        self
    }

    pub fn from_bookmark(b: &Bookmark, scene: &CityScene) -> Orbit {
        Orbit {
            focus: scene.local(b.center[0], b.center[1], 0.0),
            distance: b.distance_m,
            yaw: b.yaw_deg.to_radians(),
            pitch: b.pitch_deg.to_radians(),
        }
    }

    /// Where the camera is. Yaw 0 looks north (the camera stands south of the focus).
    ///
    /// ```
    /// use gridtwin_viewer::camera::Orbit;
    /// let o = Orbit { focus: [0.0; 3], distance: 100.0, yaw: 0.0, pitch: 0.0 };
    /// let e = o.eye();
    /// assert!((e[2] - 100.0).abs() < 1e-4 && e[0].abs() < 1e-4); // south is +z
    /// ```
    pub fn eye(&self) -> [f32; 3] {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        [
            self.focus[0] - self.distance * cp * sy,
            self.focus[1] + self.distance * sp,
            self.focus[2] + self.distance * cp * cy,
        ]
    }

    /// Turns by mouse motion: `dx`, `dy` in radians.
    pub fn rotate(&mut self, dx: f32, dy: f32) {
        self.yaw += dx;
        self.pitch = (self.pitch + dy).clamp(3f32.to_radians(), 89f32.to_radians());
    }

    /// Moves the focus on the ground by screen-relative metres (right, forward).
    pub fn pan(&mut self, right: f32, forward: f32) {
        let (sy, cy) = self.yaw.sin_cos();
        // forward is the view direction projected on the ground: (sin yaw, -cos yaw) in (x, z)
        self.focus[0] += right * cy + forward * sy;
        self.focus[2] += right * sy - forward * cy;
    }

    /// Zooms by a factor (< 1 closer), kept within sensible bounds.
    pub fn zoom(&mut self, factor: f32) {
        self.distance = (self.distance * factor).clamp(20.0, 200_000.0);
    }

    /// The pose a fraction `f` (0..1) of the way from `a` to `b`, eased in and out;
    /// yaw turns the short way round.
    pub fn lerp(a: &Orbit, b: &Orbit, f: f32) -> Orbit {
        let f = f.clamp(0.0, 1.0);
        let s = f * f * (3.0 - 2.0 * f);
        let mut dyaw = (b.yaw - a.yaw) % std::f32::consts::TAU;
        if dyaw > std::f32::consts::PI {
            dyaw -= std::f32::consts::TAU;
        } else if dyaw < -std::f32::consts::PI {
            dyaw += std::f32::consts::TAU;
        }
        let l = |x: f32, y: f32| x + (y - x) * s;
        Orbit {
            focus: [
                l(a.focus[0], b.focus[0]),
                l(a.focus[1], b.focus[1]),
                l(a.focus[2], b.focus[2]),
            ],
            // zoom geometrically, so a flight does not dive then climb
            distance: a.distance * (b.distance / a.distance).powf(s),
            yaw: a.yaw + dyaw * s,
            pitch: l(a.pitch, b.pitch),
        }
    }
}

/// A flight from one pose to another over `secs`.
#[derive(Debug, Clone, Copy)]
pub struct Flight {
    pub from: Orbit,
    pub to: Orbit,
    pub secs: f32,
    pub elapsed: f32,
}

impl Flight {
    /// Advances by `dt` seconds; returns the pose and whether the flight is over.
    pub fn step(&mut self, dt: f32) -> (Orbit, bool) {
        self.elapsed += dt;
        let f = if self.secs > 0.0 {
            self.elapsed / self.secs
        } else {
            1.0
        };
        (Orbit::lerp(&self.from, &self.to, f), f >= 1.0)
    }
}

/// Where a tour stands at `elapsed` seconds since it began: the stop it is at or
/// flying to, the fraction of the flight done (1 = arrived, dwelling), and the
/// playback time (seconds since start) that stop shows, if it names one. The tour
/// loops through the bookmarks.
///
/// ```
/// use gridtwin_viewer::camera::tour_at;
/// use gridtwin_viewer::scene::{Bookmark, TourSpec};
/// let b = |n: &str, at: &str| Bookmark { name: n.into(), center: [0.0, 0.0],
///     distance_m: 100.0, yaw_deg: 0.0, pitch_deg: 45.0, at: Some(at.into()) };
/// let stops = [b("a", "08:00"), b("b", "12:00")];
/// let spec = TourSpec { dwell_s: 6.0, flight_s: 3.0 };
/// assert_eq!(tour_at(&stops, &spec, 1.5), Some((0, 0.5, Some(8 * 3600))));
/// assert_eq!(tour_at(&stops, &spec, 10.0), Some((1, 1.0 / 3.0, Some(12 * 3600))));
/// assert_eq!(tour_at(&stops, &spec, 18.0), Some((0, 0.0, Some(8 * 3600))));
/// ```
pub fn tour_at(
    stops: &[Bookmark],
    spec: &TourSpec,
    elapsed: f32,
) -> Option<(usize, f32, Option<i64>)> {
    if stops.is_empty() {
        return None;
    }
    let leg = (spec.flight_s + spec.dwell_s).max(1e-3);
    let k = (elapsed / leg).floor().max(0.0);
    let i = (k as usize) % stops.len();
    let into = elapsed - k * leg;
    let f = if spec.flight_s > 0.0 {
        (into / spec.flight_s).min(1.0)
    } else {
        1.0
    };
    let at = stops[i].at.as_deref().and_then(|a| parse_at(a).ok());
    Some((i, f, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_ends_at_its_poses_and_turns_the_short_way() {
        let a = Orbit {
            focus: [0.0, 0.0, 0.0],
            distance: 100.0,
            yaw: 350f32.to_radians(),
            pitch: 0.5,
        };
        let b = Orbit {
            focus: [100.0, 0.0, -50.0],
            distance: 400.0,
            yaw: 10f32.to_radians(),
            pitch: 1.0,
        };
        assert_eq!(Orbit::lerp(&a, &b, 0.0), a);
        let end = Orbit::lerp(&a, &b, 1.0);
        assert!((end.distance - 400.0).abs() < 1e-3);
        assert!((end.focus[0] - 100.0).abs() < 1e-4);
        // 350° → 10° passes through 0°, not 180°
        let mid = Orbit::lerp(&a, &b, 0.5);
        let yaw = mid.yaw.to_degrees().rem_euclid(360.0);
        assert!(!(20.0..340.0).contains(&yaw), "{yaw}");
        assert!((mid.distance - 200.0).abs() < 1e-2); // geometric mean
    }

    /// The overview of the demo city fills at least 80 % of the free part of the
    /// picture in one direction and stays inside it in both, for a wide and a tall
    /// picture, with and without a side panel.
    #[test]
    fn overview_fills_the_picture() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let file = crate::scene::SceneFile::load(&repo.join("scenes/demo.toml")).unwrap();
        let (city, _, _) = gridtwin_io::city_dir::load_city(&file.city).unwrap();
        let scene = crate::scene::build(&city, &file.style);
        let (hx, hz) = scene.half_extent;
        let corners: Vec<[f32; 3]> = [(-hx, -hz), (hx, -hz), (hx, hz), (-hx, hz)]
            .into_iter()
            .flat_map(|(x, z)| [[x, 0.0, z], [x, scene.top_m, z]])
            .collect();
        for (w, h, panel) in [
            (1280.0, 720.0, 0.0),
            (1280.0, 720.0, 0.22),
            (600.0, 900.0, 0.0),
        ] {
            let view = View {
                aspect: w / h,
                panel,
            };
            let o = Orbit::overview(&scene, view);
            let [x0, x1, y0, y1] = o.bounds(&corners, view.aspect).unwrap();
            let free_x = 2.0 - 2.0 * panel;
            let (fx, fy) = ((x1 - x0) / free_x, (y1 - y0) / 2.0);
            assert!(
                fx.max(fy) >= 0.8,
                "{w}x{h} panel {panel}: fills {fx} x {fy}"
            );
            assert!(
                x0 >= -1.0 + 2.0 * panel - 1e-3 && x1 <= 1.0 + 1e-3,
                "{x0} {x1}"
            );
            assert!(y0 >= -1.0 - 1e-3 && y1 <= 1.0 + 1e-3, "{y0} {y1}");
            // still seen from the south-east, on the ground
            assert!((o.yaw + 31f32.to_radians()).abs() < 1e-6 && o.focus[1] == 0.0);
        }
    }

    #[test]
    fn scale_is_the_visible_height_over_the_image_height() {
        // 45° at 1000 m: 2 · 1000 · tan(22.5°) = 828.4 m over 720 px
        let m = metres_per_px(1000.0, FOV_Y, 720.0);
        assert!((m - 828.427 / 720.0).abs() < 1e-3, "{m}");
        // twice as far, twice the metres; twice the pixels, half
        assert!((metres_per_px(2000.0, FOV_Y, 720.0) - 2.0 * m).abs() < 1e-5);
        assert!((metres_per_px(1000.0, FOV_Y, 1440.0) - m / 2.0).abs() < 1e-5);
        // a point one pixel's worth of metres right of the focus projects one pixel over
        let o = Orbit {
            focus: [0.0; 3],
            distance: 1000.0,
            yaw: 0.3,
            pitch: 0.6,
        };
        let (right, _, _) = o.basis();
        let p = [right[0] * m * 100.0, 0.0, right[2] * m * 100.0];
        let [x, _] = o.project(p, 16.0 / 9.0).unwrap();
        let px = x * 1280.0 / 2.0;
        assert!((px - 100.0).abs() < 1e-2, "{px}");
    }

    #[test]
    fn pan_moves_along_the_view() {
        let mut o = Orbit {
            focus: [0.0; 3],
            distance: 100.0,
            yaw: 0.0,
            pitch: 0.7,
        };
        // yaw 0 looks north: forward is -z, right is +x
        o.pan(0.0, 10.0);
        assert!((o.focus[2] + 10.0).abs() < 1e-4);
        o.pan(5.0, 0.0);
        assert!((o.focus[0] - 5.0).abs() < 1e-4);
        // the eye stays south of the focus and above ground
        let e = o.eye();
        assert!(e[2] > o.focus[2] && e[1] > 0.0);
    }
}
