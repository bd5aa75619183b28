//! The city model every simulation reads: buildings, terrain, roads, land cover, flood
//! barriers and named points, all in one projected metric CRS.

use crate::geom::{BBox2, P2, P3, Polygon};
use crate::raster::Raster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole city (or district, or tile) in one projected CRS.
#[derive(Debug, Clone, Default)]
pub struct City {
    /// Human-readable name ("demo", a file stem, ...).
    pub name: String,
    /// Horizontal CRS of every coordinate, as an EPSG code (0 when unknown).
    pub epsg: u32,
    /// Vertical datum of z values when known (e.g. "DHHN2016", "NAP").
    pub vertical_datum: Option<String>,
    pub buildings: Vec<Building>,
    pub terrain: Terrain,
    pub roads: RoadGraph,
    pub landcover: Vec<LandCoverZone>,
    pub barriers: Vec<Barrier>,
    pub points: Vec<NamedPoint>,
    /// Where the content came from (file names, generator and seed), for provenance.
    pub sources: Vec<String>,
}

impl City {
    /// An empty city in the given CRS.
    pub fn new(name: impl Into<String>, epsg: u32) -> Self {
        City {
            name: name.into(),
            epsg,
            ..Default::default()
        }
    }

    /// Number of building parts over all buildings.
    pub fn building_part_count(&self) -> usize {
        self.buildings.iter().map(|b| b.parts.len()).sum()
    }

    /// Extent of everything in the city (buildings, terrain, roads, zones, barriers, points).
    pub fn bbox(&self) -> BBox2 {
        let mut b = BBox2::EMPTY;
        for bl in &self.buildings {
            b = b.union(&bl.bbox());
        }
        if let Some(dem) = &self.terrain.dem {
            b = b.union(&dem.spec.bbox());
        }
        if let Some(tin) = &self.terrain.tin {
            for p in &tin.positions {
                b.add([p[0], p[1]]);
            }
        }
        for n in &self.roads.nodes {
            b.add([n.x, n.y]);
        }
        for z in &self.landcover {
            b = b.union(&z.polygon.bbox());
        }
        for br in &self.barriers {
            for p in &br.line {
                b.add(*p);
            }
        }
        for p in &self.points {
            b.add([p.x, p.y]);
        }
        b
    }

    /// (min, max) of building ground and roof heights, if any building has them.
    pub fn building_height_range(&self) -> Option<(f64, f64)> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for b in &self.buildings {
            if let Some(h) = b.height_m() {
                lo = lo.min(h);
                hi = hi.max(h);
            }
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// Append another city's content. Both must be in the same CRS (or one of them has none).
    /// Road node indices of `other` are shifted; a building id present in both is an error.
    pub fn merge(&mut self, other: City) -> crate::Result<()> {
        if self.epsg != 0 && other.epsg != 0 && self.epsg != other.epsg {
            return Err(crate::Error::Invalid(format!(
                "cannot merge `{}` in EPSG:{} into a city in EPSG:{}",
                other.name, other.epsg, self.epsg
            )));
        }
        if self.epsg == 0 {
            self.epsg = other.epsg;
        }
        if self.vertical_datum.is_none() {
            self.vertical_datum = other.vertical_datum;
        }
        let ids: std::collections::HashSet<&str> =
            self.buildings.iter().map(|b| b.id.as_str()).collect();
        if let Some(dup) = other.buildings.iter().find(|b| ids.contains(b.id.as_str())) {
            return Err(crate::Error::Invalid(format!(
                "building id `{}` occurs in both `{}` and `{}`",
                dup.id, self.name, other.name
            )));
        }
        self.buildings.extend(other.buildings);
        let base = self.roads.nodes.len() as u32;
        self.roads.nodes.extend(other.roads.nodes);
        self.roads
            .links
            .extend(other.roads.links.into_iter().map(|mut l| {
                l.from += base;
                l.to += base;
                l
            }));
        if self.terrain.dem.is_none() {
            self.terrain.dem = other.terrain.dem;
        }
        match (&mut self.terrain.tin, other.terrain.tin) {
            (Some(a), Some(b)) => a.append(&b),
            (a @ None, b) => *a = b,
            _ => {}
        }
        self.landcover.extend(other.landcover);
        self.barriers.extend(other.barriers);
        self.points.extend(other.points);
        self.sources.extend(other.sources);
        Ok(())
    }

    /// Index of a building by id.
    pub fn building_index(&self, id: &str) -> Option<usize> {
        self.buildings.iter().position(|b| b.id == id)
    }
}

/// What a building is used for, condensed from the source's function codes or tags.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum BuildingUse {
    Residential,
    Commercial,
    Office,
    Industrial,
    School,
    Hospital,
    Public,
    Garage,
    #[default]
    Other,
}

impl BuildingUse {
    pub const ALL: [BuildingUse; 9] = [
        BuildingUse::Residential,
        BuildingUse::Commercial,
        BuildingUse::Office,
        BuildingUse::Industrial,
        BuildingUse::School,
        BuildingUse::Hospital,
        BuildingUse::Public,
        BuildingUse::Garage,
        BuildingUse::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            BuildingUse::Residential => "residential",
            BuildingUse::Commercial => "commercial",
            BuildingUse::Office => "office",
            BuildingUse::Industrial => "industrial",
            BuildingUse::School => "school",
            BuildingUse::Hospital => "hospital",
            BuildingUse::Public => "public",
            BuildingUse::Garage => "garage",
            BuildingUse::Other => "other",
        }
    }
    /// Parse the snake_case name used in GeoJSON and scenario files.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == s)
    }
    /// Map an ALKIS/AdV building function code (`31001_1000` etc., CityGML `bldg:function`)
    /// to a use class. Unknown codes give `Other`.
    pub fn from_alkis(code: &str) -> Self {
        let c = code.trim();
        let num: String = c.chars().filter(|ch| ch.is_ascii_digit()).collect();
        // Codes come as "31001_1010" (AdV) or "1010" (Gebäudefunktion only).
        let f = if num.len() >= 9 { &num[5..] } else { &num[..] };
        let f: u32 = f.parse().unwrap_or(0);
        match f {
            1000..=1999 => BuildingUse::Residential,
            2020 => BuildingUse::Office,
            2460..=2469 => BuildingUse::Garage,
            2000..=2099 => BuildingUse::Commercial,
            2100..=2799 => BuildingUse::Industrial,
            3020..=3029 => BuildingUse::School,
            3050..=3059 => BuildingUse::Hospital,
            3000..=3999 => BuildingUse::Public,
            _ => BuildingUse::Other,
        }
    }
}

/// Roof shape (from CityGML `roofType`, CityJSON `roofType`, or the generator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoofType {
    Flat,
    Gable,
    Hip,
    Shed,
    Mansard,
    #[default]
    Unknown,
}

impl RoofType {
    /// AdV/ALKIS roof type code (`bldg:roofType`), e.g. 1000 flat, 2100 shed, 3100 gable, 3200 hip.
    pub fn from_adv(code: &str) -> Self {
        match code.trim().parse::<u32>().unwrap_or(0) {
            1000 => RoofType::Flat,
            2100 | 2200 => RoofType::Shed,
            3100 => RoofType::Gable,
            3200 | 3300 => RoofType::Hip,
            3400 => RoofType::Mansard,
            _ => RoofType::Unknown,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RoofType::Flat => "flat",
            RoofType::Gable => "gable",
            RoofType::Hip => "hip",
            RoofType::Shed => "shed",
            RoofType::Mansard => "mansard",
            RoofType::Unknown => "unknown",
        }
    }
}

/// Postal address of a building (xAL in CityGML).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// Semantic class of a surface triangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurfaceKind {
    Roof,
    Wall,
    Ground,
    /// Closure, outer ceiling/floor, or anything without semantics.
    Other,
}

/// A triangle mesh with one semantic tag per triangle (structure of arrays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriMesh {
    pub positions: Vec<P3>,
    pub triangles: Vec<[u32; 3]>,
    /// One entry per triangle.
    pub kinds: Vec<SurfaceKind>,
}

impl TriMesh {
    pub fn is_empty(&self) -> bool {
        self.triangles.is_empty()
    }
    /// Append a polygon (outer ring + holes, open rings), triangulated, with a tag.
    /// Returns the number of triangles added (0 for degenerate polygons).
    pub fn add_polygon(&mut self, outer: &[P3], holes: &[Vec<P3>], kind: SurfaceKind) -> usize {
        let tris = crate::geom::triangulate_3d(outer, holes);
        if tris.is_empty() {
            return 0;
        }
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(outer);
        for h in holes {
            if h.len() >= 3 {
                self.positions.extend_from_slice(h);
            }
        }
        let n = tris.len();
        self.triangles.extend(
            tris.into_iter()
                .map(|t| [t[0] + base, t[1] + base, t[2] + base]),
        );
        self.kinds.extend(std::iter::repeat_n(kind, n));
        n
    }
    /// Append another mesh.
    pub fn append(&mut self, other: &TriMesh) {
        let base = self.positions.len() as u32;
        self.positions.extend_from_slice(&other.positions);
        self.triangles.extend(
            other
                .triangles
                .iter()
                .map(|t| [t[0] + base, t[1] + base, t[2] + base]),
        );
        self.kinds.extend_from_slice(&other.kinds);
    }
    /// (min z, max z) over the vertices.
    pub fn z_range(&self) -> Option<(f64, f64)> {
        let mut it = self.positions.iter().map(|p| p[2]);
        let f = it.next()?;
        Some(it.fold((f, f), |(a, b), z| (a.min(z), b.max(z))))
    }
    /// Summed area of triangles of one kind (m²).
    pub fn area_of(&self, kind: SurfaceKind) -> f64 {
        self.triangles
            .iter()
            .zip(&self.kinds)
            .filter(|(_, k)| **k == kind)
            .map(|(t, _)| {
                let [a, b, c] = t.map(|i| self.positions[i as usize]);
                let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
                let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
                let n = [
                    u[1] * v[2] - u[2] * v[1],
                    u[2] * v[0] - u[0] * v[2],
                    u[0] * v[1] - u[1] * v[0],
                ];
                0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
            })
            .sum()
    }
}

/// One part of a building (CityGML `BuildingPart`, CityJSON `BuildingPart`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildingPart {
    pub id: String,
    pub footprint: Vec<Polygon>,
    pub ground_z: Option<f64>,
    pub roof_z: Option<f64>,
    pub measured_height_m: Option<f64>,
    pub storeys: Option<u32>,
    pub roof_type: RoofType,
}

/// A building. Geometry of all its parts is merged into `footprint` and `surfaces`;
/// `parts` keeps each part's id and heights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Building {
    /// Stable id: the source id (ALKIS `gml:id`, CityJSON object key, OSM id, generator id).
    pub id: String,
    /// Footprint as a multi-polygon (one polygon per part or per ground surface).
    pub footprint: Vec<Polygon>,
    /// Terrain height at the building's foot (lowest ground surface, terrain intersection,
    /// or source attribute), in the vertical datum.
    pub ground_z: Option<f64>,
    /// Highest point of the roof, in the vertical datum.
    pub roof_z: Option<f64>,
    /// Height above ground as measured by the source (`measuredHeight`).
    pub measured_height_m: Option<f64>,
    pub storeys: Option<u32>,
    /// Raw function code or tag of the source (e.g. `31001_1000`), if any.
    pub function: Option<String>,
    pub usage: BuildingUse,
    pub roof_type: RoofType,
    pub address: Option<Address>,
    /// Generic attributes (CityGML `gen:*`, CityJSON attributes, GeoJSON properties).
    pub attributes: BTreeMap<String, String>,
    /// Highest level of detail of the geometry read (0 = footprint only, 1 = block, 2 = roofs).
    pub lod: u8,
    /// LoD1/LoD2 surfaces as tagged triangles; empty when only a footprint is known.
    pub surfaces: TriMesh,
    pub parts: Vec<BuildingPart>,
}

impl Building {
    /// Height above ground: measured height if given, else roof minus ground.
    pub fn height_m(&self) -> Option<f64> {
        self.measured_height_m
            .or(match (self.ground_z, self.roof_z) {
                (Some(g), Some(r)) => Some(r - g),
                _ => None,
            })
    }
    /// Bounding box of footprint and surfaces.
    pub fn bbox(&self) -> BBox2 {
        let mut b = BBox2::EMPTY;
        for p in &self.footprint {
            b = b.union(&p.bbox());
        }
        for p in &self.surfaces.positions {
            b.add([p[0], p[1]]);
        }
        b
    }
    /// Footprint area in m².
    pub fn footprint_area(&self) -> f64 {
        self.footprint.iter().map(Polygon::area).sum()
    }
    /// Representative point (centroid of the largest footprint polygon).
    pub fn centroid(&self) -> Option<P2> {
        self.footprint
            .iter()
            .max_by(|a, b| a.area().total_cmp(&b.area()))
            .map(Polygon::centroid)
    }
    /// Make a LoD1 block (flat roof, walls, ground) from the footprint, ground_z and height.
    /// Replaces `surfaces`; does nothing when heights are missing.
    pub fn extrude_lod1(&mut self) {
        let (Some(g), Some(h)) = (self.ground_z, self.height_m()) else {
            return;
        };
        let top = g + h;
        let mut mesh = TriMesh::default();
        for poly in &self.footprint {
            let ring3 =
                |r: &[P2], z: f64| -> Vec<P3> { r.iter().map(|p| [p[0], p[1], z]).collect() };
            // Orient the exterior counter-clockwise so roofs face up.
            let mut ext = poly.exterior.clone();
            if crate::geom::ring_area(&ext) < 0.0 {
                ext.reverse();
            }
            let holes: Vec<Vec<P2>> = poly
                .interiors
                .iter()
                .map(|h| {
                    let mut h = h.clone();
                    if crate::geom::ring_area(&h) > 0.0 {
                        h.reverse();
                    }
                    h
                })
                .collect();
            let roof_holes: Vec<Vec<P3>> = holes.iter().map(|h| ring3(h, top)).collect();
            mesh.add_polygon(&ring3(&ext, top), &roof_holes, SurfaceKind::Roof);
            let mut ground: Vec<P3> = ring3(&ext, g);
            ground.reverse();
            let ground_holes: Vec<Vec<P3>> = holes
                .iter()
                .map(|h| {
                    let mut r = ring3(h, g);
                    r.reverse();
                    r
                })
                .collect();
            mesh.add_polygon(&ground, &ground_holes, SurfaceKind::Ground);
            for ring in std::iter::once(&ext).chain(holes.iter()) {
                let n = ring.len();
                for i in 0..n {
                    let a = ring[i];
                    let b = ring[(i + 1) % n];
                    let base = mesh.positions.len() as u32;
                    mesh.positions.extend_from_slice(&[
                        [a[0], a[1], g],
                        [b[0], b[1], g],
                        [b[0], b[1], top],
                        [a[0], a[1], top],
                    ]);
                    mesh.triangles.push([base, base + 1, base + 2]);
                    mesh.triangles.push([base, base + 2, base + 3]);
                    mesh.kinds.extend([SurfaceKind::Wall, SurfaceKind::Wall]);
                }
            }
        }
        self.surfaces = mesh;
        self.roof_z = Some(top);
        self.lod = self.lod.max(1);
    }
}

/// Terrain: a DEM raster and/or a TIN.
#[derive(Debug, Clone, Default)]
pub struct Terrain {
    /// Digital elevation model (heights in the vertical datum, metres).
    pub dem: Option<Raster<f32>>,
    /// Triangulated terrain (CityJSON `TINRelief`, CityGML `TINRelief`).
    pub tin: Option<TriMesh>,
}

/// OSM `highway` class of a road link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HighwayClass {
    Motorway,
    Trunk,
    Primary,
    Secondary,
    Tertiary,
    Unclassified,
    Residential,
    Service,
    LivingStreet,
    Track,
    Path,
}

impl HighwayClass {
    pub const ALL: [HighwayClass; 11] = [
        HighwayClass::Motorway,
        HighwayClass::Trunk,
        HighwayClass::Primary,
        HighwayClass::Secondary,
        HighwayClass::Tertiary,
        HighwayClass::Unclassified,
        HighwayClass::Residential,
        HighwayClass::Service,
        HighwayClass::LivingStreet,
        HighwayClass::Track,
        HighwayClass::Path,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            HighwayClass::Motorway => "motorway",
            HighwayClass::Trunk => "trunk",
            HighwayClass::Primary => "primary",
            HighwayClass::Secondary => "secondary",
            HighwayClass::Tertiary => "tertiary",
            HighwayClass::Unclassified => "unclassified",
            HighwayClass::Residential => "residential",
            HighwayClass::Service => "service",
            HighwayClass::LivingStreet => "living_street",
            HighwayClass::Track => "track",
            HighwayClass::Path => "path",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
    /// Whether cars may use it (paths, footways, cycleways and tracks are not driven on).
    pub fn is_drivable(self) -> bool {
        !matches!(self, HighwayClass::Path | HighwayClass::Track)
    }
    /// Default free-flow speed (km/h) when `maxspeed` is missing (German urban defaults).
    pub fn default_speed_kmh(self) -> f64 {
        match self {
            HighwayClass::Motorway => 100.0,
            HighwayClass::Trunk => 70.0,
            HighwayClass::Primary => 50.0,
            HighwayClass::Secondary => 50.0,
            HighwayClass::Tertiary => 50.0,
            HighwayClass::Unclassified => 40.0,
            HighwayClass::Residential => 30.0,
            HighwayClass::Service => 20.0,
            HighwayClass::LivingStreet => 7.0,
            HighwayClass::Track => 20.0,
            HighwayClass::Path => 5.0,
        }
    }
    /// Default capacity per lane (vehicles per hour) when nothing better is known.
    pub fn default_capacity_per_lane(self) -> f64 {
        match self {
            HighwayClass::Motorway => 2000.0,
            HighwayClass::Trunk => 1800.0,
            HighwayClass::Primary => 1500.0,
            HighwayClass::Secondary => 1200.0,
            HighwayClass::Tertiary => 1000.0,
            HighwayClass::Unclassified => 800.0,
            HighwayClass::Residential => 600.0,
            HighwayClass::Service => 400.0,
            HighwayClass::LivingStreet => 300.0,
            HighwayClass::Track => 200.0,
            HighwayClass::Path => 0.0,
        }
    }
    /// Default number of lanes per direction.
    pub fn default_lanes(self) -> u8 {
        match self {
            HighwayClass::Motorway | HighwayClass::Trunk => 2,
            _ => 1,
        }
    }
}

/// A road graph node (an OSM node where ways meet or end).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoadNode {
    /// Source node id (OSM node id; generator index for the demo city).
    pub id: i64,
    pub x: f64,
    pub y: f64,
}

/// A directed road link between two graph nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadLink {
    /// Index into [`RoadGraph::nodes`].
    pub from: u32,
    /// Index into [`RoadGraph::nodes`].
    pub to: u32,
    /// Source way id (OSM way id).
    pub way_id: i64,
    pub class: HighwayClass,
    /// Lanes in this direction.
    pub lanes: u8,
    /// Free-flow speed in km/h (from `maxspeed` or the class default).
    pub speed_kmh: f64,
    /// Capacity in vehicles per hour (lanes times the class default).
    pub capacity_veh_h: f64,
    pub length_m: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub bridge: bool,
    pub tunnel: bool,
    /// Polyline from `from` to `to` including both ends.
    pub geometry: Vec<P2>,
}

/// A directed road graph. A two-way street is two links.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoadGraph {
    pub nodes: Vec<RoadNode>,
    pub links: Vec<RoadLink>,
}

impl RoadGraph {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
    /// Total length of links in km.
    pub fn total_length_km(&self) -> f64 {
        self.links.iter().map(|l| l.length_m).sum::<f64>() / 1000.0
    }
    /// Number of distinct source ways.
    pub fn way_count(&self) -> usize {
        let mut ids: Vec<i64> = self.links.iter().map(|l| l.way_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

/// Land-cover class of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandCover {
    Water,
    Park,
    Forest,
    Grass,
    Residential,
    Commercial,
    Industrial,
    Road,
    Paved,
    Farmland,
}

impl LandCover {
    pub const ALL: [LandCover; 10] = [
        LandCover::Water,
        LandCover::Park,
        LandCover::Forest,
        LandCover::Grass,
        LandCover::Residential,
        LandCover::Commercial,
        LandCover::Industrial,
        LandCover::Road,
        LandCover::Paved,
        LandCover::Farmland,
    ];

    /// Default Manning roughness n (s/m^(1/3)) per class, after common 2D flood-model tables
    /// (e.g. Chow 1959 and the values used by LISFLOOD-FP/HEC-RAS guidance).
    pub fn default_manning_n(self) -> f64 {
        match self {
            LandCover::Water => 0.030,
            LandCover::Park | LandCover::Grass => 0.035,
            LandCover::Forest => 0.100,
            LandCover::Residential => 0.080,
            LandCover::Commercial => 0.050,
            LandCover::Industrial => 0.050,
            LandCover::Road | LandCover::Paved => 0.015,
            LandCover::Farmland => 0.040,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LandCover::Water => "water",
            LandCover::Park => "park",
            LandCover::Forest => "forest",
            LandCover::Grass => "grass",
            LandCover::Residential => "residential",
            LandCover::Commercial => "commercial",
            LandCover::Industrial => "industrial",
            LandCover::Road => "road",
            LandCover::Paved => "paved",
            LandCover::Farmland => "farmland",
        }
    }
    /// The class of a snake_case name (`"park"`), as [`LandCover::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A polygon zone of one land-cover class with its Manning roughness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LandCoverZone {
    pub id: String,
    pub kind: LandCover,
    pub polygon: Polygon,
    pub manning_n: f64,
}

/// Kind of a flood barrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierKind {
    Dike,
    Wall,
    Quay,
}

/// A flood barrier (dike, flood wall, quay edge) as a polyline with a crest elevation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Barrier {
    pub id: String,
    pub kind: BarrierKind,
    pub line: Vec<P2>,
    /// Crest elevation in the vertical datum (m, e.g. m NHN).
    pub crest_z: f64,
}

/// Kind of a named point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    Gauge,
    Shelter,
    Other,
}

/// A named point of interest: a water-level gauge, an evacuation shelter, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedPoint {
    pub id: String,
    pub name: String,
    pub kind: PointKind,
    pub x: f64,
    pub y: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// Shelter capacity in persons, if it is a shelter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lod1_extrusion_is_closed_box() {
        let mut b = Building {
            id: "b".into(),
            footprint: vec![Polygon::new(vec![[0., 0.], [10., 0.], [10., 5.], [0., 5.]])],
            ground_z: Some(2.0),
            measured_height_m: Some(12.0),
            ..Default::default()
        };
        b.extrude_lod1();
        assert_eq!(b.roof_z, Some(14.0));
        assert!((b.surfaces.area_of(SurfaceKind::Roof) - 50.0).abs() < 1e-9);
        assert!((b.surfaces.area_of(SurfaceKind::Ground) - 50.0).abs() < 1e-9);
        assert!((b.surfaces.area_of(SurfaceKind::Wall) - 30.0 * 12.0).abs() < 1e-9);
        assert_eq!(b.surfaces.z_range(), Some((2.0, 14.0)));
        assert_eq!(b.height_m(), Some(12.0));
    }

    #[test]
    fn alkis_function_codes() {
        assert_eq!(
            BuildingUse::from_alkis("31001_1000"),
            BuildingUse::Residential
        );
        assert_eq!(BuildingUse::from_alkis("31001_2020"), BuildingUse::Office);
        assert_eq!(
            BuildingUse::from_alkis("31001_2050"),
            BuildingUse::Commercial
        );
        assert_eq!(BuildingUse::from_alkis("3021"), BuildingUse::School);
        assert_eq!(BuildingUse::from_alkis("garbage"), BuildingUse::Other);
        assert_eq!(RoofType::from_adv("3100"), RoofType::Gable);
    }
}
