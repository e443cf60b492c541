//! H3 cells as polygons.

use geo::{Coord, MultiPolygon};
use h3o::CellIndex;

/// The cell's boundary as a lon/lat polygon.
///
/// ```
/// use geo::Contains;
/// let c = h3o::LatLng::new(60.17, 24.94).unwrap().to_cell(h3o::Resolution::Ten);
/// let hex = gridtwin_core::hexcell::hexagon(c);
/// assert!(hex.contains(&geo::Point::new(24.94, 60.17)));
/// ```
pub fn hexagon(cell: CellIndex) -> MultiPolygon<f64> {
    let ring: Vec<Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| Coord {
            x: ll.lng(),
            y: ll.lat(),
        })
        .collect();
    MultiPolygon(vec![geo::Polygon::new(geo::LineString::from(ring), vec![])])
}
