//! Applying a scenario's edits (the variant) to a city.

use serde::Serialize;
use twin_core::City;
use twin_core::model::Building;
use twin_core::scenario::{Edit, NewBuilding};

/// What the edits changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EditReport {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

/// Apply edits in order. Fails (with a message naming the building) when a removed id does not
/// exist or an added id already exists; the city is then left unchanged.
pub fn apply(city: &mut City, edits: &[Edit]) -> Result<EditReport, String> {
    let mut next = city.buildings.clone();
    let mut report = EditReport::default();
    for e in edits {
        match e {
            Edit::RemoveBuildings(ids) => {
                for id in ids {
                    let Some(i) = next.iter().position(|b| &b.id == id) else {
                        return Err(format!(
                            "remove_buildings: no building with id `{id}`{}",
                            hint(&next, id)
                        ));
                    };
                    next.remove(i);
                    report.removed.push(id.clone());
                }
            }
            Edit::AddBuilding(nb) => {
                if next.iter().any(|b| b.id == nb.id) {
                    return Err(format!(
                        "add_building: a building with id `{}` already exists",
                        nb.id
                    ));
                }
                next.push(new_building(city, nb));
                report.added.push(nb.id.clone());
            }
        }
    }
    city.buildings = next;
    Ok(report)
}

/// Suggest ids that share a prefix with a mistyped one.
fn hint(buildings: &[Building], id: &str) -> String {
    let stem: String = id.chars().take(id.len().saturating_sub(2)).collect();
    let mut close: Vec<&str> = buildings
        .iter()
        .map(|b| b.id.as_str())
        .filter(|b| !stem.is_empty() && b.starts_with(&stem))
        .take(3)
        .collect();
    close.sort_unstable();
    if close.is_empty() {
        String::new()
    } else {
        format!(" (similar ids: {})", close.join(", "))
    }
}

/// Make a LoD1 building from a scenario's `add_building`; ground defaults to the lowest terrain
/// height under the footprint (0 when the city has no DEM).
fn new_building(city: &City, nb: &NewBuilding) -> Building {
    let ground = nb.ground_z.unwrap_or_else(|| {
        city.terrain
            .dem
            .as_ref()
            .and_then(|dem| {
                let fp = &nb.footprint;
                fp.exterior
                    .iter()
                    .copied()
                    .chain(std::iter::once(fp.centroid()))
                    .filter_map(|p| dem.sample_bilinear(p[0], p[1]))
                    .map(f64::from)
                    .reduce(f64::min)
            })
            .unwrap_or(0.0)
    });
    let mut b = Building {
        id: nb.id.clone(),
        footprint: vec![nb.footprint.clone()],
        ground_z: Some(ground),
        measured_height_m: Some(nb.height_m),
        storeys: nb
            .storeys
            .or(Some((nb.height_m / 3.0).round().max(1.0) as u32)),
        usage: nb.usage,
        roof_type: nb.roof_type,
        ..Default::default()
    };
    b.attributes.insert("source".into(), "scenario".into());
    b.extrude_lod1();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::geom::Polygon;
    use twin_core::model::BuildingUse;

    fn city() -> City {
        let mut c = City::new("t", 25832);
        for i in 0..3 {
            c.buildings.push(Building {
                id: format!("B{i}"),
                ..Default::default()
            });
        }
        c
    }

    fn nb(id: &str) -> NewBuilding {
        NewBuilding {
            id: id.into(),
            footprint: Polygon::new(vec![[0., 0.], [10., 0.], [10., 10.], [0., 10.]]),
            height_m: 30.0,
            ground_z: Some(2.0),
            storeys: None,
            usage: BuildingUse::Office,
            roof_type: twin_core::model::RoofType::Flat,
        }
    }

    #[test]
    fn remove_then_add() {
        let mut c = city();
        let r = apply(
            &mut c,
            &[
                Edit::RemoveBuildings(vec!["B1".into()]),
                Edit::AddBuilding(nb("T")),
            ],
        )
        .unwrap();
        assert_eq!(r.removed, vec!["B1"]);
        assert_eq!(r.added, vec!["T"]);
        let ids: Vec<&str> = c.buildings.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["B0", "B2", "T"]);
        let t = &c.buildings[2];
        assert_eq!(t.roof_z, Some(32.0));
        assert_eq!(t.storeys, Some(10));
        assert!(!t.surfaces.is_empty());
    }

    #[test]
    fn bad_edits_leave_the_city_unchanged() {
        let mut c = city();
        let e = apply(
            &mut c,
            &[Edit::RemoveBuildings(vec!["B0".into(), "B9".into()])],
        )
        .unwrap_err();
        assert!(e.contains("no building with id `B9`"), "{e}");
        assert_eq!(c.buildings.len(), 3);
        let e = apply(&mut c, &[Edit::AddBuilding(nb("B2"))]).unwrap_err();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(c.buildings.len(), 3);
    }
}
