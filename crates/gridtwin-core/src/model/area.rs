//! Areas of the hierarchy: a coded, named boundary at one level.

use geo::{Area as _, BoundingRect, MultiPolygon, Rect};

use crate::code::{AreaCode, Level};

/// One area of the hierarchy (a district, a street, a community or a unit grid).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
    /// The area's own id in the layer it came from (`GEOCODE`, a ward name…) when
    /// gridtwin numbered it (`import --autocode`); empty otherwise.
    pub source_id: String,
    /// Boundary in WGS-84 lon/lat.
    pub boundary: MultiPolygon<f64>,
}

impl Area {
    /// A grid gridtwin made (generated, redrawn, synthesised): no source id, named
    /// after its code.
    pub fn made_grid(code: AreaCode, boundary: MultiPolygon<f64>) -> Area {
        Area {
            source_id: String::new(),
            code,
            name: format!("Grid {code}"),
            boundary,
        }
    }

    pub fn level(&self) -> Level {
        self.code.level()
    }

    /// Bounding box in lon/lat, if the boundary has any points.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.boundary.bounding_rect()
    }

    /// Area in square metres (on a local equirectangular frame at the area's centre,
    /// good to well under 0.1 % at the size of a district).
    pub fn area_m2(&self) -> f64 {
        let Some(bb) = self.bbox() else { return 0.0 };
        let frame = crate::frame::LocalFrame::new(bb.center().x, bb.center().y);
        frame.to_local_multipolygon(&self.boundary).unsigned_area()
    }
}
