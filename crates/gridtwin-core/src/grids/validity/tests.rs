//! Agreement with GEOS on its own validity cases, and the two rules this module adds.

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::{check_area, InvalidKind};

/// A minimal WKT reader for POLYGON and MULTIPOLYGON (what the fixture holds).
fn wkt(text: &str) -> MultiPolygon<f64> {
    let t = text.trim();
    let (multi, body) = if let Some(b) = t.strip_prefix("MULTIPOLYGON") {
        (true, b)
    } else {
        (
            false,
            t.strip_prefix("POLYGON").expect("POLYGON or MULTIPOLYGON"),
        )
    };
    // nested lists of rings: count the depth of parentheses
    let mut polys: Vec<Vec<Vec<Coord<f64>>>> = Vec::new();
    let mut depth = 0;
    let ring_depth = if multi { 3 } else { 2 };
    let mut number = String::new();
    let mut coord: Vec<f64> = Vec::new();
    let flush = |number: &mut String, coord: &mut Vec<f64>| {
        if !number.is_empty() {
            coord.push(number.parse().expect("a number"));
            number.clear();
        }
    };
    if !multi {
        polys.push(Vec::new());
    }
    for ch in body.chars() {
        match ch {
            '(' => {
                depth += 1;
                if multi && depth == 2 {
                    polys.push(Vec::new());
                }
                if depth == ring_depth {
                    polys.last_mut().unwrap().push(Vec::new());
                }
            }
            ')' | ',' => {
                flush(&mut number, &mut coord);
                if depth == ring_depth && !coord.is_empty() {
                    assert_eq!(coord.len(), 2, "{text}");
                    let ring = polys.last_mut().unwrap().last_mut().unwrap();
                    ring.push(Coord {
                        x: coord[0],
                        y: coord[1],
                    });
                    coord.clear();
                }
                if ch == ')' {
                    depth -= 1;
                }
            }
            ' ' => flush(&mut number, &mut coord),
            c => number.push(c),
        }
    }
    MultiPolygon(
        polys
            .into_iter()
            .map(|rings| {
                let mut rings = rings.into_iter().map(LineString::new);
                let shell = rings.next().expect("a shell");
                Polygon::new(shell, rings.collect())
            })
            .collect(),
    )
}

#[test]
fn agrees_with_geos_on_every_polygonal_case_of_its_validity_suite() {
    // GEOS's tests/xmltester/tests/general/TestValid.xml, polygonal cases without
    // NaN or EMPTY (LGPL-2.1 test data; see the fixture's header)
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/geos/testvalid_polygons.txt");
    let text = std::fs::read_to_string(&path).expect("the GEOS fixture");
    let mut cases = 0;
    let mut disagree = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "{line}");
        let want_valid = f[0] == "valid";
        // scaled by 1/8 (exact in binary) into lon/lat range, as a grid file holds them
        let mut area = wkt(f[2]);
        for p in area.0.iter_mut() {
            use geo::MapCoordsInPlace;
            p.map_coords_in_place(|c| Coord {
                x: c.x / 8.0,
                y: c.y / 8.0,
            });
        }
        let got = check_area(&area);
        cases += 1;
        if got.is_ok() != want_valid {
            disagree.push(format!(
                "{} ({:?}): {}",
                f[1],
                got.err().map(|e| e.kind),
                f[2]
            ));
        }
    }
    assert_eq!(cases, 64);
    assert!(
        disagree.is_empty(),
        "{} disagree:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}

#[test]
fn the_kinds_and_places_reported() {
    // zero area: all points on one line
    let e = check_area(&wkt("POLYGON ((0 0, 10 0, 20 0, 0 0, 0 0))")).unwrap_err();
    assert_eq!(e.kind, InvalidKind::DegenerateRing);
    assert_eq!(e.location, Some((0.0, 0.0)));
    // a hole touching the shell at two points: the cut closes at the second touch
    let e = check_area(&wkt(
        "POLYGON ((0 60, 0 0, 60 0, 60 60, 0 60), (0 40, 20 20, 60 20, 0 40))",
    ))
    .unwrap_err();
    assert_eq!(e.kind, InvalidKind::DisconnectedInterior);
    assert_eq!(e.location, Some((60.0, 20.0)));
    // four holes meeting at one point leave the interior in one piece
    let ok = "POLYGON ((10 90, 90 90, 90 10, 10 10, 10 90), (40 80, 60 80, 50 50, 40 80), \
              (20 60, 20 40, 50 50, 20 60), (40 20, 60 20, 50 50, 40 20), \
              (80 60, 80 40, 50 50, 80 60))";
    assert_eq!(check_area(&wkt(ok)), Ok(()));
    // a chain of holes from one side of the shell to the other splits it
    let e = check_area(&wkt(
        "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (0 5, 5 4, 5 6, 0 5), (5 4, 10 5, 5 6, 5 4))",
    ));
    // (the two holes share the edge 5 4 – 5 6: geo calls that rings meeting on a line)
    assert!(e.is_err());
    let e = check_area(&wkt(
        "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (0 5, 4 4, 5 5, 4 6, 0 5), (5 5, 6 4, 10 5, 6 6, 5 5))",
    ))
    .unwrap_err();
    assert_eq!(e.kind, InvalidKind::DisconnectedInterior);
    // an empty area
    assert_eq!(
        check_area(&MultiPolygon(vec![])).unwrap_err().kind,
        InvalidKind::Empty
    );
}

/// The convex shortcut never passes an area the full check rejects: thousands of
/// seeded rings — convex hulls (on a coarse lattice, so with collinear and repeated
/// points, and at lon/lat magnitudes), angle-sorted stars, shuffled vertex orders,
/// star polygons that wind more than once, hulls with a repeated or a straight
/// vertex — each judged both ways. The shortcut must also be taken, mostly by the
/// hulls.
#[test]
fn the_convex_shortcut_agrees_with_the_full_check() {
    use geo::ConvexHull;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    let (mut shortcut, mut hulls) = (0, 0);
    for case in 0..6_000u32 {
        let n = rng.random_range(3..12usize);
        let lattice = case % 2 == 0;
        let (scale, origin) = if case % 3 == 0 {
            (1e-3, (121.4, 31.2))
        } else {
            (1.0, (0.0, 0.0))
        };
        let point = |rng: &mut rand_chacha::ChaCha8Rng| {
            let (x, y): (f64, f64) = if lattice {
                (rng.random_range(0..8) as f64, rng.random_range(0..8) as f64)
            } else {
                (rng.random_range(-10.0..10.0), rng.random_range(-10.0..10.0))
            };
            Coord {
                x: origin.0 + x * scale,
                y: origin.1 + y * scale,
            }
        };
        let pts: Vec<Coord<f64>> = (0..n).map(|_| point(&mut rng)).collect();
        let mut ring: Vec<Coord<f64>> = match case % 6 {
            // a convex hull
            0 | 1 => {
                let hull =
                    geo::MultiPoint::from(pts.iter().map(|&c| geo::Point(c)).collect::<Vec<_>>())
                        .convex_hull();
                let mut r = hull.exterior().0.clone();
                r.pop();
                r
            }
            // sorted by angle about the centre: simple, often not convex
            2 => {
                let (cx, cy) = (
                    pts.iter().map(|c| c.x).sum::<f64>() / n as f64,
                    pts.iter().map(|c| c.y).sum::<f64>() / n as f64,
                );
                let mut p = pts.clone();
                p.sort_by(|a, b| {
                    (a.y - cy)
                        .atan2(a.x - cx)
                        .total_cmp(&(b.y - cy).atan2(b.x - cx))
                });
                p
            }
            // in drawn order: often crossing itself
            3 => pts.clone(),
            // a star polygon {m/k}: turns one way throughout, winds k times
            4 => {
                let m = rng.random_range(5..12usize);
                let k = rng.random_range(1..m.div_ceil(2));
                (0..m)
                    .map(|i| {
                        let a = std::f64::consts::TAU * (i * k % m) as f64 / m as f64;
                        Coord {
                            x: origin.0 + 5.0 * scale * a.cos(),
                            y: origin.1 + 5.0 * scale * a.sin(),
                        }
                    })
                    .collect()
            }
            // a hull with a vertex repeated or a point inserted mid-edge
            _ => {
                let hull =
                    geo::MultiPoint::from(pts.iter().map(|&c| geo::Point(c)).collect::<Vec<_>>())
                        .convex_hull();
                let mut r = hull.exterior().0.clone();
                r.pop();
                if r.len() >= 3 {
                    let i = rng.random_range(0..r.len());
                    let (a, b) = (r[i], r[(i + 1) % r.len()]);
                    let extra = if rng.random_bool(0.5) {
                        a
                    } else {
                        Coord {
                            x: (a.x + b.x) / 2.0,
                            y: (a.y + b.y) / 2.0,
                        }
                    };
                    r.insert(i + 1, extra);
                }
                r
            }
        };
        if rng.random_bool(0.5) {
            ring.reverse();
        }
        if ring.is_empty() {
            continue;
        }
        ring.push(ring[0]);
        let area = MultiPolygon(vec![Polygon::new(LineString(ring.clone()), vec![])]);
        let fast = super::strictly_convex(&LineString(ring));
        let full = super::check_area_fully(&area);
        if fast {
            shortcut += 1;
            assert!(
                full.is_ok(),
                "case {case}: shortcut passed {area:?}: {full:?}"
            );
        }
        // (a hull may keep a straight vertex, exactly or by rounding at lon/lat
        // magnitudes: the shortcut declines those, rightly)
        if case % 6 <= 1 && fast {
            hulls += 1;
        }
        assert_eq!(check_area(&area), full, "case {case}");
    }
    assert!(shortcut > 1_000 && hulls > 1_000, "{shortcut} {hulls}");
}
