//! The scenario's categories and arrival sources, checked against the category
//! table: each category's routing, ladder, limits and laws; its arrivals' rates and
//! profiles; and the keys of per-category tables.

use super::*;

/// Departments by first appearance: their numbers in the world.
#[derive(Default)]
pub(super) struct Departments(pub(super) Vec<String>);

impl Departments {
    /// The number of `name`, given on first sight.
    pub(super) fn index(&mut self, name: &str) -> usize {
        if let Some(i) = self.0.iter().position(|d| d == name) {
            i
        } else {
            self.0.push(name.to_string());
            self.0.len() - 1
        }
    }
}

/// Adds a category of the scenario (its table entry, routing, ladder and laws);
/// returns its number.
pub(super) fn add_category(
    scenario: &Scenario,
    table: &CategoryTable,
    class: &str,
    kind: CategoryKind,
    categories: &mut Vec<SimCategory>,
    departments: &mut Departments,
) -> Result<usize, WorldError> {
    let c = table
        .find(kind, class)
        .ok_or_else(|| WorldError::UnknownCategory {
            kind: kind.name(),
            class: class.to_string(),
        })?;
    let routing = match by_category(&scenario.dispatch.routing, kind, class) {
        Some(r) => r
            .parse()
            .map_err(|e: gridtwin_core::ParseEnumError| WorldError::BadValue(e.to_string()))?,
        None => c.routing,
    };
    let ladder: Vec<LadderStage> = by_category(&scenario.escalation, kind, class)
        .cloned()
        .unwrap_or_default();
    let mut ladder_text: Vec<Text> = vec!["".into()];
    let mut compliance_text = Vec::new();
    for (i, st) in ladder.iter().enumerate() {
        let prev = ladder_text[i].clone();
        ladder_text.push(if i == 0 {
            st.action.as_str().into()
        } else {
            format!("{prev}>{}", st.action).into()
        });
        compliance_text.push(format!("compliance:{}", st.action).into());
    }
    categories.push(SimCategory {
        class: class.to_string(),
        class_text: class.into(),
        kind_text: kind.name().into(),
        department_text: c.department.as_str().into(),
        ladder_text,
        compliance_text,
        department: departments.index(&c.department),
        routing,
        time_limit_hours: c.time_limit_hours,
        time_basis: c.time_basis,
        stage_limits: c.stage_limits,
        street_capable: match &scenario.dispatch.street_capable {
            None => true,
            Some(list) => list
                .iter()
                .any(|k| k == class || *k == format!("{}:{class}", kind.name())),
        },
        check_failure: scenario
            .steps
            .check_failure_by_department
            .get(&c.department)
            .copied()
            .unwrap_or(scenario.steps.check_failure),
        handle: by_category(&scenario.steps.handle_by_category, kind, class)
            .copied()
            .unwrap_or(scenario.steps.handle),
        trip: scenario
            .travel
            .time_by_department
            .get(&c.department)
            .or(scenario.travel.time.as_ref())
            .copied(),
        ladder,
    });
    Ok(categories.len() - 1)
}

/// The event category a hazard raises cases of (added if no arrivals name it).
pub(super) fn hazard_category(
    scenario: &Scenario,
    table: &CategoryTable,
    class: &str,
    categories: &mut Vec<SimCategory>,
    departments: &mut Departments,
) -> Result<usize, WorldError> {
    match categories
        .iter()
        .position(|c| c.class == class && &*c.kind_text == CategoryKind::Event.name())
    {
        Some(i) => Ok(i),
        None => add_category(
            scenario,
            table,
            class,
            CategoryKind::Event,
            categories,
            departments,
        ),
    }
}

/// The arrival sources: events at their rate and profiles, component failures at
/// the components (each in its grid, found once by the locator's boundary rule).
pub(super) fn arrival_sources(
    scenario: &Scenario,
    table: &CategoryTable,
    city: &City,
    locator: &mut Locator,
    categories: &mut Vec<SimCategory>,
    departments: &mut Departments,
) -> Result<Vec<ArrivalSource>, WorldError> {
    let mut sources = Vec::new();
    for (class, a) in &scenario.arrivals.events {
        let i = add_category(
            scenario,
            table,
            class,
            CategoryKind::Event,
            categories,
            departments,
        )?;
        let hour: [f64; 24] = weights(&a.hour_weights);
        let weekday: [f64; 7] = weights(&a.weekday_weights);
        // Peak rate: the mean rate scaled by the profile's peak over its mean.
        let mean_h = hour.iter().sum::<f64>() / 24.0;
        let mean_w = weekday.iter().sum::<f64>() / 7.0;
        let per_sec = a.per_day / 86_400.0 / (mean_h * mean_w);
        sources.push(ArrivalSource {
            category: i,
            stream: text_id(&format!("event:{class}")),
            priority: a.priority,
            per_sec,
            hour,
            weekday,
            at: None,
        });
    }
    // The failure classes' categories first (in the scenario's order, as before),
    // then one pass over the components, on all threads, gathering each class's
    // points in component order (a megacity has 12 M components: a pass per class
    // on one thread took seconds).
    let mut failures = Vec::new();
    for (class, f) in &scenario.arrivals.failures {
        let i = add_category(
            scenario,
            table,
            class,
            CategoryKind::Component,
            categories,
            departments,
        )?;
        let key = table
            .find(CategoryKind::Component, class)
            .expect("checked")
            .key;
        failures.push((class, f, i, key));
    }
    let keys: Vec<_> = failures.iter().map(|f| f.3).collect();
    let mut points_by_class = points_of_classes(&city.components, &keys).into_iter();
    for (class, f, i, _) in failures {
        let points = points_by_class.next().expect("a list per class");
        // The grid of each component, once (the locator's half-open boundary rule).
        let loc = locator.get();
        let mut found = Vec::new();
        loc.locate_many(&points, &mut found);
        let at: Vec<Site> = points
            .into_iter()
            .zip(found)
            .map(|(at, g)| Site {
                at,
                grid: g.map(|g| GridIx::new(g as usize)),
            })
            .collect();
        let per_sec = at.len() as f64 * f.per_component_per_year / (365.0 * 86_400.0);
        sources.push(ArrivalSource {
            category: i,
            stream: text_id(&format!("component:{class}")),
            priority: 0,
            per_sec,
            hour: [1.0; 24],
            weekday: [1.0; 7],
            at: Some(at),
        });
    }
    Ok(sources)
}

/// The places of the components of each class in `keys` (a list per key, in
/// component order), from one pass over the components on all threads.
fn points_of_classes(
    components: &[gridtwin_core::Component],
    keys: &[gridtwin_core::CategoryKey],
) -> Vec<Vec<(f64, f64)>> {
    use rayon::prelude::*;
    if keys.is_empty() {
        return Vec::new();
    }
    // chunks gathered on all threads, then joined in order
    let chunks: Vec<Vec<Vec<(f64, f64)>>> = components
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut lists = vec![Vec::new(); keys.len()];
            for c in chunk {
                let key = c.category();
                if let Some(j) = keys.iter().position(|k| *k == key) {
                    lists[j].push((c.location.x(), c.location.y()));
                }
            }
            lists
        })
        .collect();
    // (a class named twice — by code and by name — has its points twice: `position`
    // gathered them under its first index)
    (0..keys.len())
        .map(|j| {
            let first = keys.iter().position(|k| *k == keys[j]).unwrap_or(j);
            chunks
                .iter()
                .flat_map(|lists| lists[first].iter().copied())
                .collect()
        })
        .collect()
}

/// Keys of per-category tables name one category of the scenario.
pub(super) fn check_category_keys(
    scenario: &Scenario,
    categories: &[SimCategory],
) -> Result<(), WorldError> {
    let bad = |table: &'static str, key: &str, why: String| WorldError::CategoryKey {
        table,
        key: key.to_string(),
        why,
    };
    // Keys of per-category tables name one category of the scenario: `event:0101`,
    // `component:0101`, or a bare code where only one kind has it (component 0101,
    // a water manhole cover, and event 0101, exposed garbage, share a code).
    let present: Vec<(&str, &str)> = categories
        .iter()
        .map(|c| (&*c.kind_text, c.class.as_str()))
        .collect();
    for (table, keys) in [
        ("escalation", scenario.escalation.keys().collect::<Vec<_>>()),
        (
            "dispatch.routing",
            scenario.dispatch.routing.keys().collect(),
        ),
        (
            "steps.handle_by_category",
            scenario.steps.handle_by_category.keys().collect(),
        ),
    ] {
        for key in keys {
            let kinds: Vec<&str> = match key.split_once(':') {
                Some((kind, class)) => {
                    if kind != "event" && kind != "component" {
                        return Err(bad(
                            table,
                            key,
                            format!("`{kind}` is not a kind (event or component)"),
                        ));
                    }
                    present
                        .iter()
                        .filter(|p| **p == (kind, class))
                        .map(|p| p.0)
                        .collect()
                }
                None => present.iter().filter(|p| p.1 == key).map(|p| p.0).collect(),
            };
            match kinds.len() {
                0 => {
                    return Err(bad(
                        table,
                        key,
                        "no arrivals of that category in the scenario".into(),
                    ))
                }
                1 => {}
                _ => {
                    return Err(bad(table, key, format!(
                        "both event {key} and component {key} arrive in this scenario; write \"event:{key}\" or \"component:{key}\""
                    )))
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use gridtwin_core::code::{CodeRule, Level};
    use gridtwin_core::{CategoryKey, CategoryKind, Component, ComponentStatus};

    /// The one pass gives each class the points a filter per class gives, in
    /// component order, over several chunks, with a class asked twice and one absent.
    #[test]
    fn points_of_classes_equal_a_filter_per_class() {
        let rule = CodeRule::national();
        let district = rule.parse_area(Level::District, "310101").unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let components: Vec<Component> = (0..200_000u64)
            .map(|i| {
                let (major, minor) = (1 + next(3) as u32, 1 + next(3) as u32);
                Component {
                    code: rule.component_code(&district, major, minor, 1 + i).unwrap(),
                    location: geo::Point::new(i as f64, next(1000) as f64),
                    department: "Roads".into(),
                    status: ComponentStatus::InService,
                    source_id: Default::default(),
                }
            })
            .collect();
        let key = |major, minor| CategoryKey {
            kind: CategoryKind::Component,
            major,
            minor,
        };
        let keys = [key(1, 1), key(2, 3), key(1, 1), key(9, 9), key(3, 2)];
        let got = super::points_of_classes(&components, &keys);
        assert_eq!(got.len(), keys.len());
        for (k, points) in keys.iter().zip(&got) {
            let want: Vec<(f64, f64)> = components
                .iter()
                .filter(|c| c.category() == *k)
                .map(|c| (c.location.x(), c.location.y()))
                .collect();
            assert_eq!(points, &want, "{k:?}");
        }
        assert!(got[0].len() > 10_000 && got[3].is_empty());
    }
}
