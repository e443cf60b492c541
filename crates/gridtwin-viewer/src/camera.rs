//! The presenter's camera: an orbit around a focus point on the ground, bookmarks as
//! orbit poses, flights between poses and the tour through the scene's bookmarks.
//! Plain math (no ECS), so poses and tours are tested without a GPU.

use crate::scene::{parse_at, Bookmark, CityScene, TourSpec};

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
    /// The overview of a scene: the whole city from the south-east, 37° up.
    pub fn overview(scene: &CityScene) -> Orbit {
        let r = scene.half_extent.0.max(scene.half_extent.1).max(50.0);
        Orbit {
            focus: [0.0, 0.0, 0.0],
            distance: r * 1.8,
            yaw: (-31f32).to_radians(),
            pitch: 37f32.to_radians(),
        }
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
