//! Streaming CityGML 1.0 / 2.0 building importer.
//!
//! The file is read as a stream of XML events ([`quick_xml::NsReader`]); only the building
//! being read is held in memory, so memory grows with the buildings kept, not with the size
//! of the XML text. Elements are matched on their local name and resolved namespace
//! (CityGML 1.0 or 2.0, GML 3.1.1, xAL 2.0), so any prefix works, including the default
//! namespace (`<CityModel xmlns="http://www.opengis.net/citygml/1.0">`).
//!
//! What is read per `bldg:Building` and `bldg:BuildingPart`:
//! - `gml:id`, `measuredHeight` (with `uom`), `storeysAboveGround`, `function`
//!   (raw code and [`BuildingUse::from_alkis`]), `roofType` ([`RoofType::from_adv`]),
//!   `yearOfConstruction`, generic attributes (`gen:stringAttribute`, `intAttribute`,
//!   `doubleAttribute`, `measureAttribute`, ... with their `gen:value`), and the first xAL
//!   address (`ThoroughfareName`, `ThoroughfareNumber`, `PostalCodeNumber`, `LocalityName`,
//!   `CountryName`).
//! - Geometry of `lodXSolid`, `lodXMultiSurface`, `lodXGeometry` and of the `boundedBy`
//!   surfaces (Roof/Wall/Ground/Closure/OuterCeiling/OuterFloor): `gml:Polygon`,
//!   `gml:Triangle`, `gml:PolygonPatch` with `LinearRing` exterior/interior rings given as
//!   `gml:posList`, `gml:pos` or `gml:coordinates`. A polygon is stored once, where it is
//!   defined; `xlink:href` references (with or without `#`) only lend it the semantic class
//!   of a `boundedBy` surface that references it. Only the highest LoD found is kept. When a
//!   building has semantic surfaces at that LoD, unreferenced polygons without semantics
//!   (an inline copy of the same shell in the solid) are dropped so nothing is counted twice.
//!   Geometry of building installations, openings and rooms is skipped.
//! - `lod1/lod2TerrainIntersection` curves (their lowest z) and `lod0FootPrint` polygons.
//!
//! Derived values:
//! - `ground_z`: lowest z of the GroundSurfaces, else of the terrain intersection, else of
//!   the geometry; `roof_z`: highest z of the surfaces.
//! - Footprint (exteriors counter-clockwise, holes clockwise), first of: the 2D projections
//!   of the GroundSurface polygons; the `lod0FootPrint` polygons; the 2D projections of the
//!   lowest horizontal faces of the geometry (the bottom of a LoD1/LoD2 solid without
//!   semantics; faces within 5 cm of the lowest one, not unioned, as they tile the bottom);
//!   the convex hull of the geometry's vertices.
//! - BuildingParts: each becomes a [`BuildingPart`] with its own heights and footprint; its
//!   triangles and footprint polygons are merged into the parent, whose ground/roof heights
//!   and LoD cover all parts. A parent without `function` or address takes its first part's.
//!
//! CRS: the first `srsName` (the CityModel's `gml:Envelope`, else a geometry element) gives
//! `City::epsg` and `City::vertical_datum` through [`Crs::parse`]; an unknown name or a
//! second, different horizontal CRS is an error; no `srsName` at all gives EPSG 0 and a note
//! in `City::sources`. Coordinates must be 3D (`srsDimension` 3): 2D building geometry is an
//! error. Bad input (not XML, not a CityModel, truncated or ill-formed XML, non-numeric or
//! non-finite coordinates, a `posList` whose length is not a multiple of its dimension, ...)
//! gives [`Error::Format`] with the file, the line and byte, the building and the element.

use crate::crs::{Crs, Transformer};
use crate::error::{Error, Result};
use crate::geom::{P2, P3, Polygon, newell_normal, open_ring, ring_area};
use crate::import::ImportOptions;
use crate::model::{
    Address, Building, BuildingPart, BuildingUse, City, RoofType, SurfaceKind, TriMesh,
};
use quick_xml::NsReader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

/// Read a CityGML file (`.gml`/`.xml`, or gzip-compressed, detected by its magic bytes).
pub fn read_path(path: &Path, opts: &ImportOptions) -> Result<City> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    let gzip = input
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    if gzip {
        let gz = flate2::bufread::MultiGzDecoder::new(input);
        read(BufReader::with_capacity(1 << 16, gz), path, opts)
    } else {
        read(input, path, opts)
    }
}

/// Read CityGML from any buffered reader (a file, a decompressor, or a `&[u8]`).
/// `path_for_errors` names the source in errors and provenance and gives the city's name.
pub fn read<R: BufRead>(reader: R, path_for_errors: &Path, opts: &ImportOptions) -> Result<City> {
    let mut xml = NsReader::from_reader(LineCounter {
        inner: reader,
        newlines: 0,
    });
    let cfg = xml.config_mut();
    cfg.expand_empty_elements = true;
    cfg.check_end_names = true;
    let mut p = Parser::new(path_for_errors, opts);
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        buf.clear();
        let (ns, event) = match xml.read_resolved_event_into(&mut buf) {
            Ok((res, ev)) => (Ns::of(&res), ev),
            Err(e) => return Err(p.xml_error(e, xml.error_position(), xml.get_ref().line())),
        };
        let line = xml.get_ref().line();
        match event {
            Event::Start(e) => p.start(ns, &e, line)?,
            Event::End(_) => p.end(line)?,
            Event::Text(t) => p.text(&t, line)?,
            Event::CData(t) => p.text(&t, line)?,
            Event::GeneralRef(r) => p.general_ref(&r, line)?,
            Event::Decl(d) => p.decl(&d, line)?,
            Event::Eof => break,
            _ => {}
        }
    }
    let line = xml.get_ref().line();
    p.into_city(line)
}

/// A `BufRead` adapter that counts the newlines consumed, for error line numbers.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R> LineCounter<R> {
    /// 1-based line of the next unread byte.
    fn line(&self) -> u64 {
        self.newlines + 1
    }
}

fn count_newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.newlines += count_newlines(&out[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            // The buffer was just filled by the caller; this returns it without reading.
            if let Ok(b) = self.inner.fill_buf() {
                self.newlines += count_newlines(&b[..amt.min(b.len())]);
            }
        }
        self.inner.consume(amt);
    }
}

/// The namespaces the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Gml,
    /// CityGML core, with its version ("1.0" or "2.0").
    Core(&'static str),
    Bldg,
    Gen,
    Xal,
    Other,
}

impl Ns {
    fn of(r: &ResolveResult) -> Ns {
        let ResolveResult::Bound(ns) = r else {
            return Ns::Other;
        };
        match ns.0 {
            b"http://www.opengis.net/gml" => Ns::Gml,
            b"urn:oasis:names:tc:ciq:xsdschema:xAL:2.0" => Ns::Xal,
            b"http://www.opengis.net/citygml/1.0" => Ns::Core("1.0"),
            b"http://www.opengis.net/citygml/2.0" => Ns::Core("2.0"),
            b"http://www.opengis.net/citygml/building/1.0"
            | b"http://www.opengis.net/citygml/building/2.0" => Ns::Bldg,
            b"http://www.opengis.net/citygml/generics/1.0"
            | b"http://www.opengis.net/citygml/generics/2.0" => Ns::Gen,
            _ => Ns::Other,
        }
    }
}

/// What a geometry property (`bldg:lodX...`) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Surface,
    Footprint,
    Terrain,
    Ignore,
}

#[derive(Debug, Clone, Copy)]
struct GeomCtx {
    depth: usize,
    lod: u8,
    role: Role,
}

/// One polygon of a feature, as read (rings open).
#[derive(Debug)]
struct Poly {
    id: Option<String>,
    /// Semantic class of the enclosing `boundedBy` surface, if any.
    kind: Option<SurfaceKind>,
    lod: u8,
    /// From `lod0FootPrint` (not a surface).
    footprint_only: bool,
    exterior: Vec<P3>,
    interiors: Vec<Vec<P3>>,
}

/// A polygon being read.
#[derive(Debug)]
struct PolyBuild {
    depth: usize,
    id: Option<String>,
    exterior: Option<Vec<P3>>,
    interiors: Vec<Vec<P3>>,
    /// (depth, is interior) of the open `gml:exterior`/`gml:interior`.
    boundary: Option<(usize, bool)>,
}

/// Accumulated geometry and attributes of finished BuildingParts of a building.
#[derive(Debug, Default)]
struct PartsAcc {
    parts: Vec<BuildingPart>,
    footprint: Vec<Polygon>,
    mesh: TriMesh,
    ground_z: Option<f64>,
    roof_z: Option<f64>,
    lod: u8,
    function: Option<String>,
    address: Option<Address>,
}

/// State of the Building or BuildingPart being read.
#[derive(Debug, Default)]
struct Feature {
    is_part: bool,
    depth: usize,
    id: String,
    measured_height: Option<f64>,
    storeys: Option<u32>,
    function: Option<String>,
    roof_type: RoofType,
    address: Option<Address>,
    attributes: BTreeMap<String, String>,
    polys: Vec<Poly>,
    /// Ids of geometry aggregates (MultiSurface, CompositeSurface, ...) and their polygons.
    groups: Vec<(String, Range<usize>)>,
    /// `xlink:href` targets inside `boundedBy` surfaces, with the surface's class.
    refs: Vec<(String, SurfaceKind)>,
    terrain_min_z: Option<f64>,
    acc: PartsAcc,
}

/// Which text is being collected, and for what.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Capture {
    /// `gml:posList` (dimension, optional `count`), `gml:pos`, `gml:coordinates`.
    PosList(usize, Option<usize>),
    Pos,
    Coordinates,
    MeasuredHeight(f64),
    Storeys,
    Function,
    RoofType,
    YearOfConstruction,
    GenValue,
    Street,
    HouseNumber,
    Postcode,
    Locality,
    Country,
}

impl Capture {
    fn element(self) -> &'static str {
        match self {
            Capture::PosList(..) => "gml:posList",
            Capture::Pos => "gml:pos",
            Capture::Coordinates => "gml:coordinates",
            Capture::MeasuredHeight(_) => "bldg:measuredHeight",
            Capture::Storeys => "bldg:storeysAboveGround",
            Capture::Function => "bldg:function",
            Capture::RoofType => "bldg:roofType",
            Capture::YearOfConstruction => "bldg:yearOfConstruction",
            Capture::GenValue => "gen:value",
            Capture::Street => "xAL:ThoroughfareName",
            Capture::HouseNumber => "xAL:ThoroughfareNumber",
            Capture::Postcode => "xAL:PostalCodeNumber",
            Capture::Locality => "xAL:LocalityName",
            Capture::Country => "xAL:CountryName",
        }
    }
}

/// Attributes of a start tag the importer looks at.
#[derive(Default)]
struct Attrs<'a> {
    id: Option<Cow<'a, [u8]>>,
    href: Option<Cow<'a, [u8]>>,
    srs_name: Option<Cow<'a, [u8]>>,
    srs_dimension: Option<Cow<'a, [u8]>>,
    count: Option<Cow<'a, [u8]>>,
    name: Option<Cow<'a, [u8]>>,
    uom: Option<Cow<'a, [u8]>>,
}

struct Parser<'a> {
    path: &'a Path,
    opts: &'a ImportOptions,
    city: City,
    /// CityGML version from the root namespace.
    version: &'static str,
    /// First `srsName` seen and its CRS.
    crs: Option<(Vec<u8>, Crs)>,
    /// Declared encoding is ISO-8859-1/Windows-1252 rather than UTF-8.
    latin1: bool,
    depth: usize,
    building_count: usize,
    features: Vec<Feature>,
    /// Depth of a skipped subtree (installations, openings, rooms, unknown nesting).
    skip: Option<usize>,
    geom: Option<GeomCtx>,
    /// Open semantic surface (depth, class).
    surface: Option<(usize, SurfaceKind)>,
    poly: Option<PolyBuild>,
    /// Depth of the open ring or terrain `LineString`; points go to `ring`.
    ring_depth: Option<usize>,
    line_depth: Option<usize>,
    ring: Vec<P3>,
    /// `srsDimension` scopes inside geometry (depth, dimension).
    dims: Vec<(usize, usize)>,
    /// Open geometry aggregates with a `gml:id` (depth, id, first polygon index).
    groups_open: Vec<(usize, String, usize)>,
    /// Open generic attribute (depth, name).
    gen_attr: Option<(usize, String)>,
    /// Depth of the open `bldg:address` being read.
    address_depth: Option<usize>,
    capture: Option<(usize, Capture, u64)>,
    text: Vec<u8>,
    numbers: Vec<f64>,
    transformer: Option<Transformer>,
}

impl<'a> Parser<'a> {
    fn new(path: &'a Path, opts: &'a ImportOptions) -> Self {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = file_name.strip_suffix(".gz").unwrap_or(&file_name);
        let stem = Path::new(stem)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Parser {
            path,
            opts,
            city: City::new(stem, 0),
            version: "",
            crs: None,
            latin1: false,
            depth: 0,
            building_count: 0,
            features: Vec::new(),
            skip: None,
            geom: None,
            surface: None,
            poly: None,
            ring_depth: None,
            line_depth: None,
            ring: Vec::new(),
            dims: Vec::new(),
            groups_open: Vec::new(),
            gen_attr: None,
            address_depth: None,
            capture: None,
            text: Vec::new(),
            numbers: Vec::new(),
            transformer: None,
        }
    }

    /// A format error at `line`, naming the building being read and the element.
    fn err(&self, line: u64, element: &str, message: impl Into<String>) -> Error {
        let mut loc = format!("line {line}");
        if let Some(f) = self.features.last() {
            if f.is_part {
                loc += &format!(", bldg:BuildingPart gml:id=\"{}\"", f.id);
            }
            if let Some(b) = self.features.first() {
                loc += &format!(", bldg:Building gml:id=\"{}\"", b.id);
            }
        }
        if !element.is_empty() {
            loc += &format!(", <{element}>");
        }
        Error::format(self.path, loc, message)
    }

    fn xml_error(&self, e: quick_xml::Error, byte: u64, line: u64) -> Error {
        if let quick_xml::Error::Io(io) = &e {
            return Error::io(self.path, std::io::Error::new(io.kind(), io.to_string()));
        }
        let mut err = self.err(line, "", format!("malformed XML: {e}"));
        if let Error::Format { location, .. } = &mut err {
            *location += &format!(" (byte {byte})");
        }
        err
    }

    fn string(&self, bytes: &[u8]) -> String {
        if self.latin1 {
            bytes.iter().map(|&b| b as char).collect()
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        }
    }

    /// An attribute value as a string, with entity references resolved.
    fn attr_string(&self, raw: &[u8], line: u64) -> Result<String> {
        let s = self.string(raw);
        if !s.contains('&') {
            return Ok(s);
        }
        quick_xml::escape::unescape(&s)
            .map(Cow::into_owned)
            .map_err(|e| self.err(line, "", format!("bad attribute value {s:?}: {e}")))
    }

    fn attrs<'e>(&self, e: &'e BytesStart, line: u64) -> Result<Attrs<'e>> {
        let mut a = Attrs::default();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                self.err(line, &name, format!("malformed attribute: {err}"))
            })?;
            let slot = match attr.key.local_name().as_ref() {
                b"id" => &mut a.id,
                b"href" => &mut a.href,
                b"srsName" => &mut a.srs_name,
                b"srsDimension" => &mut a.srs_dimension,
                b"count" => &mut a.count,
                b"name" => &mut a.name,
                b"uom" => &mut a.uom,
                _ => continue,
            };
            *slot = Some(attr.value);
        }
        Ok(a)
    }

    fn decl(&mut self, d: &quick_xml::events::BytesDecl, line: u64) -> Result<()> {
        if let Some(Ok(enc)) = d.encoding() {
            let enc = enc.to_ascii_lowercase();
            match enc.as_slice() {
                b"utf-8" | b"utf8" | b"us-ascii" | b"ascii" => {}
                b"iso-8859-1" | b"iso-8859-15" | b"latin1" | b"windows-1252" => self.latin1 = true,
                _ => {
                    return Err(self.err(
                        line,
                        "",
                        format!(
                            "unsupported XML encoding {:?} (UTF-8 or ISO-8859-1 expected)",
                            String::from_utf8_lossy(&enc)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn start(&mut self, ns: Ns, e: &BytesStart, line: u64) -> Result<()> {
        self.depth += 1;
        let depth = self.depth;
        let local = e.local_name();
        let local = local.as_ref();
        if depth == 1 {
            return self.root(ns, e, line);
        }
        if self.skip.is_some() {
            return Ok(());
        }
        match ns {
            Ns::Gml if local == b"Envelope" => {
                if let Some(srs) = self.attrs(e, line)?.srs_name {
                    self.note_srs(&srs, line, "gml:Envelope")?;
                }
            }
            Ns::Gml if self.geom.is_some() => self.gml_start(local, e, depth, line)?,
            Ns::Bldg => self.bldg_start(local, e, depth, line)?,
            Ns::Gen => self.gen_start(local, e, depth, line)?,
            Ns::Xal if self.address_depth.is_some() => {
                let cap = match local {
                    b"ThoroughfareName" => Capture::Street,
                    b"ThoroughfareNumber" => Capture::HouseNumber,
                    b"PostalCodeNumber" => Capture::Postcode,
                    b"LocalityName" => Capture::Locality,
                    b"CountryName" => Capture::Country,
                    _ => return Ok(()),
                };
                self.begin_capture(depth, cap, line);
            }
            _ => {}
        }
        Ok(())
    }

    fn root(&mut self, ns: Ns, e: &BytesStart, line: u64) -> Result<()> {
        if let Ns::Core(version) = ns
            && e.local_name().as_ref() == b"CityModel"
        {
            self.version = version;
            return Ok(());
        }
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        Err(self.err(
            line,
            &name,
            format!(
                "not a CityGML 1.0/2.0 file: the root element is <{name}>, not a \
                 CityModel in the namespace http://www.opengis.net/citygml/1.0 or /2.0"
            ),
        ))
    }

    fn begin_capture(&mut self, depth: usize, cap: Capture, line: u64) {
        self.text.clear();
        self.capture = Some((depth, cap, line));
    }

    fn bldg_start(&mut self, local: &[u8], e: &BytesStart, depth: usize, line: u64) -> Result<()> {
        let feat_depth = self.features.last().map(|f| f.depth);
        match local {
            b"Building" | b"BuildingPart" => {
                let is_part = !self.features.is_empty();
                if !is_part && local == b"BuildingPart" {
                    self.skip = Some(depth);
                    return Ok(());
                }
                let id = match self.attrs(e, line)?.id {
                    Some(id) => self.attr_string(&id, line)?,
                    None => match self.features.first() {
                        Some(b) => format!("{}-part-{}", b.id, b.acc.parts.len() + 1),
                        None => format!("building-{}", self.building_count + 1),
                    },
                };
                if !is_part {
                    self.building_count += 1;
                }
                self.features.push(Feature {
                    is_part,
                    depth,
                    id,
                    ..Default::default()
                });
                return Ok(());
            }
            b"outerBuildingInstallation"
            | b"interiorBuildingInstallation"
            | b"interiorRoom"
            | b"opening"
            | b"interiorFurniture" => {
                self.skip = Some(depth);
                return Ok(());
            }
            _ => {}
        }
        let Some(fd) = feat_depth else {
            return Ok(());
        };
        let kind = match local {
            b"RoofSurface" => Some(SurfaceKind::Roof),
            b"WallSurface" => Some(SurfaceKind::Wall),
            b"GroundSurface" => Some(SurfaceKind::Ground),
            b"ClosureSurface" | b"OuterCeilingSurface" | b"OuterFloorSurface" => {
                Some(SurfaceKind::Other)
            }
            _ => None,
        };
        if let Some(k) = kind {
            self.surface = Some((depth, k));
            return Ok(());
        }
        if let Some(rest) = local.strip_prefix(b"lod")
            && let Some((&digit, suffix)) = rest.split_first()
            && digit.is_ascii_digit()
            && self.geom.is_none()
        {
            let role = match suffix {
                b"Solid" | b"MultiSurface" | b"Geometry" => Role::Surface,
                b"FootPrint" => Role::Footprint,
                b"TerrainIntersection" => Role::Terrain,
                _ => Role::Ignore,
            };
            self.geom = Some(GeomCtx {
                depth,
                lod: digit - b'0',
                role,
            });
            if role != Role::Ignore {
                self.geometry_attrs(e, depth, line, false)?;
            }
            return Ok(());
        }
        if depth != fd + 1 {
            return Ok(());
        }
        let cap = match local {
            b"measuredHeight" => {
                let uom = self.attrs(e, line)?.uom;
                let scale = match uom.as_deref() {
                    None => 1.0,
                    Some(u) => unit_scale(u).ok_or_else(|| {
                        self.err(
                            line,
                            "bldg:measuredHeight",
                            format!("unsupported unit of measure {:?}", self.string(u)),
                        )
                    })?,
                };
                Capture::MeasuredHeight(scale)
            }
            b"storeysAboveGround" => Capture::Storeys,
            b"function" => Capture::Function,
            b"roofType" => Capture::RoofType,
            b"yearOfConstruction" => Capture::YearOfConstruction,
            b"address" => {
                if self.features.last().is_some_and(|f| f.address.is_none()) {
                    self.address_depth = Some(depth);
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.begin_capture(depth, cap, line);
        Ok(())
    }

    fn gen_start(&mut self, local: &[u8], e: &BytesStart, depth: usize, line: u64) -> Result<()> {
        let Some(fd) = self.features.last().map(|f| f.depth) else {
            return Ok(());
        };
        if depth == fd + 1 && local.ends_with(b"Attribute") {
            if let Some(name) = self.attrs(e, line)?.name {
                let name = self.attr_string(&name, line)?;
                self.gen_attr = Some((depth, name));
            }
        } else if depth == fd + 2 && local == b"value" && self.gen_attr.is_some() {
            self.begin_capture(depth, Capture::GenValue, line);
        }
        Ok(())
    }

    /// Record `srsName`, `srsDimension`, `gml:id` (of aggregates) and `xlink:href` of an
    /// element inside a geometry property. Returns the `gml:id` when `want_id`.
    fn geometry_attrs(
        &mut self,
        e: &BytesStart,
        depth: usize,
        line: u64,
        want_id: bool,
    ) -> Result<Option<String>> {
        if e.attributes_raw().iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let a = self.attrs(e, line)?;
        let elem = || String::from_utf8_lossy(e.name().as_ref()).into_owned();
        if let Some(srs) = &a.srs_name {
            self.note_srs(srs, line, &elem())?;
        }
        if let Some(d) = &a.srs_dimension
            && self.poly.is_none()
        {
            let dim = parse_dimension(d).ok_or_else(|| {
                self.err(
                    line,
                    &elem(),
                    format!("bad srsDimension {:?}", self.string(d)),
                )
            })?;
            self.dims.push((depth, dim));
        }
        if let Some(href) = &a.href
            && let Some((_, kind)) = self.surface
        {
            let target = self.attr_string(href, line)?;
            let target = target.strip_prefix('#').unwrap_or(&target).to_string();
            if let Some(f) = self.features.last_mut() {
                f.refs.push((target, kind));
            }
        }
        match (&a.id, want_id) {
            (Some(id), true) => Ok(Some(self.attr_string(id, line)?)),
            _ => Ok(None),
        }
    }

    fn gml_start(&mut self, local: &[u8], e: &BytesStart, depth: usize, line: u64) -> Result<()> {
        let Some(ctx) = self.geom else {
            return Ok(());
        };
        if ctx.role == Role::Ignore {
            return Ok(());
        }
        match local {
            b"Polygon" | b"Triangle" | b"PolygonPatch" | b"Rectangle"
                if self.poly.is_none() && ctx.role != Role::Terrain =>
            {
                let id = self.geometry_attrs(e, depth, line, true)?;
                self.poly = Some(PolyBuild {
                    depth,
                    id,
                    exterior: None,
                    interiors: Vec::new(),
                    boundary: None,
                });
            }
            b"exterior" | b"interior" if self.poly.is_some() => {
                if let Some(p) = &mut self.poly {
                    p.boundary = Some((depth, local == b"interior"));
                }
            }
            b"LinearRing" | b"Ring" if self.poly.is_some() && self.ring_depth.is_none() => {
                self.ring.clear();
                self.ring_depth = Some(depth);
            }
            b"LineString" if ctx.role == Role::Terrain && self.line_depth.is_none() => {
                self.geometry_attrs(e, depth, line, false)?;
                self.ring.clear();
                self.line_depth = Some(depth);
            }
            b"posList" | b"pos" | b"coordinates"
                if self.ring_depth.is_some() || self.line_depth.is_some() =>
            {
                let cap = match local {
                    b"posList" => {
                        let a = self.attrs(e, line)?;
                        let dim = match &a.srs_dimension {
                            Some(d) => parse_dimension(d).ok_or_else(|| {
                                self.err(
                                    line,
                                    "gml:posList",
                                    format!("bad srsDimension {:?}", self.string(d)),
                                )
                            })?,
                            None => self.dims.last().map_or(3, |d| d.1),
                        };
                        let count = match &a.count {
                            Some(c) => Some(
                                std::str::from_utf8(c)
                                    .ok()
                                    .and_then(|s| s.trim().parse::<usize>().ok())
                                    .ok_or_else(|| {
                                        self.err(
                                            line,
                                            "gml:posList",
                                            format!("bad count {:?}", self.string(c)),
                                        )
                                    })?,
                            ),
                            None => None,
                        };
                        Capture::PosList(dim, count)
                    }
                    b"pos" => Capture::Pos,
                    _ => Capture::Coordinates,
                };
                self.begin_capture(depth, cap, line);
            }
            _ if self.poly.is_none() => {
                if let Some(id) = self.geometry_attrs(e, depth, line, true)? {
                    let start = self.features.last().map_or(0, |f| f.polys.len());
                    self.groups_open.push((depth, id, start));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn note_srs(&mut self, srs: &[u8], line: u64, element: &str) -> Result<()> {
        if let Some((name, _)) = &self.crs
            && name.as_slice() == srs
        {
            return Ok(());
        }
        let name = self.string(srs);
        let crs = Crs::parse(&name).map_err(|e| self.err(line, element, e.to_string()))?;
        match &self.crs {
            None => {
                self.city.epsg = crs.epsg;
                self.city.vertical_datum = crs.vertical_datum.clone();
                self.crs = Some((srs.to_vec(), crs));
            }
            Some((first, c)) if c.epsg != crs.epsg => {
                return Err(self.err(
                    line,
                    element,
                    format!(
                        "mixed CRS: srsName {name:?} (EPSG:{}) differs from the earlier {:?} \
                         (EPSG:{}); reproject the file to one CRS first",
                        crs.epsg,
                        self.string(first),
                        c.epsg
                    ),
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn text(&mut self, t: &[u8], line: u64) -> Result<()> {
        if self.capture.is_some() {
            self.text.extend_from_slice(t);
        } else if self.depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
            return Err(self.err(line, "", "not XML: text outside the root element"));
        }
        Ok(())
    }

    fn general_ref(&mut self, r: &BytesRef, line: u64) -> Result<()> {
        if self.capture.is_none() {
            return Ok(());
        }
        let bad = |p: &Self| p.err(line, "", format!("unknown entity &{};", p.string(r)));
        let ch = r.resolve_char_ref().map_err(|_| bad(self))?;
        let mut tmp = [0u8; 4];
        let s: &str = match ch {
            Some(c) => c.encode_utf8(&mut tmp),
            None => std::str::from_utf8(r)
                .ok()
                .and_then(quick_xml::escape::resolve_predefined_entity)
                .ok_or_else(|| bad(self))?,
        };
        if self.latin1 {
            // `string()` maps bytes to chars one to one; keep that for non-ASCII.
            let c = s.chars().next().map_or(0, |c| c as u32);
            self.text.push(u8::try_from(c).unwrap_or(b'?'));
        } else {
            self.text.extend_from_slice(s.as_bytes());
        }
        Ok(())
    }

    fn end(&mut self, line: u64) -> Result<()> {
        let depth = self.depth;
        if depth == 0 {
            return Err(self.err(line, "", "unmatched end tag"));
        }
        self.depth -= 1;
        if self.skip == Some(depth) {
            self.skip = None;
            return Ok(());
        }
        if self.skip.is_some() {
            return Ok(());
        }
        if let Some((d, cap, cline)) = self.capture
            && d == depth
        {
            self.capture = None;
            self.end_capture(cap, cline)?;
            return Ok(());
        }
        if self.ring_depth == Some(depth) {
            self.ring_depth = None;
            let ring = open_ring(std::mem::take(&mut self.ring));
            if let Some(p) = &mut self.poly {
                match p.boundary {
                    Some((_, true)) => p.interiors.push(ring),
                    _ if p.exterior.is_none() => p.exterior = Some(ring),
                    _ => p.interiors.push(ring),
                }
            }
            return Ok(());
        }
        if self.line_depth == Some(depth) {
            self.line_depth = None;
            let min = self.ring.iter().map(|p| p[2]).reduce(f64::min);
            if let (Some(z), Some(f)) = (min, self.features.last_mut()) {
                f.terrain_min_z = Some(f.terrain_min_z.map_or(z, |t| t.min(z)));
            }
        }
        if let Some(p) = &mut self.poly {
            if p.boundary.is_some_and(|b| b.0 == depth) {
                p.boundary = None;
            }
            if p.depth != depth {
                return Ok(());
            }
            self.end_polygon();
        }
        if self.dims.last().is_some_and(|d| d.0 == depth) {
            self.dims.pop();
        }
        if self.groups_open.last().is_some_and(|g| g.0 == depth)
            && let Some((_, id, start)) = self.groups_open.pop()
            && let Some(f) = self.features.last_mut()
        {
            let end = f.polys.len();
            f.groups.push((id, start..end));
        }
        if self.geom.is_some_and(|g| g.depth == depth) {
            self.geom = None;
            self.dims.clear();
        } else if self.surface.is_some_and(|s| s.0 == depth) {
            self.surface = None;
        } else if self.address_depth == Some(depth) {
            self.address_depth = None;
        } else if self.gen_attr.as_ref().is_some_and(|g| g.0 == depth) {
            self.gen_attr = None;
        } else if self.features.last().is_some_and(|f| f.depth == depth) {
            self.end_feature(line)?;
        }
        Ok(())
    }

    fn end_polygon(&mut self) {
        let (Some(p), Some(ctx)) = (self.poly.take(), self.geom) else {
            return;
        };
        let Some(exterior) = p.exterior else {
            return;
        };
        if exterior.len() < 3 {
            return;
        }
        let kind = self.surface.map(|s| s.1);
        if let Some(f) = self.features.last_mut() {
            f.polys.push(Poly {
                id: p.id,
                kind,
                lod: ctx.lod,
                footprint_only: ctx.role == Role::Footprint,
                exterior,
                interiors: p.interiors,
            });
        }
    }

    fn end_capture(&mut self, cap: Capture, line: u64) -> Result<()> {
        match cap {
            Capture::PosList(..) | Capture::Pos | Capture::Coordinates => {
                return self.end_coordinates(cap, line);
            }
            _ => {}
        }
        let value = self.string(self.text.trim_ascii());
        let element = cap.element();
        let number = |p: &Self| -> Result<f64> {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| p.err(line, element, format!("not a finite number: {value:?}")))
        };
        match cap {
            Capture::MeasuredHeight(scale) => {
                let h = number(self)? * scale;
                if let Some(f) = self.features.last_mut() {
                    f.measured_height = Some(h);
                }
            }
            Capture::Storeys => {
                let n = number(self)?;
                if n < 0.0 || n.fract() != 0.0 || n > f64::from(u32::MAX) {
                    return Err(self.err(line, element, format!("not a storey count: {value:?}")));
                }
                if let Some(f) = self.features.last_mut() {
                    f.storeys = Some(n as u32);
                }
            }
            _ => {
                if value.is_empty() {
                    return Ok(());
                }
                let gen_name = self.gen_attr.as_ref().map(|g| g.1.clone());
                let Some(f) = self.features.last_mut() else {
                    return Ok(());
                };
                match cap {
                    Capture::Function => {
                        f.function.get_or_insert(value);
                    }
                    Capture::RoofType => f.roof_type = RoofType::from_adv(&value),
                    Capture::YearOfConstruction => {
                        f.attributes.insert("yearOfConstruction".into(), value);
                    }
                    Capture::GenValue => {
                        if let Some(name) = gen_name {
                            f.attributes.insert(name, value);
                        }
                    }
                    _ => {
                        let a = f.address.get_or_insert_with(Address::default);
                        let slot = match cap {
                            Capture::Street => &mut a.street,
                            Capture::HouseNumber => &mut a.house_number,
                            Capture::Postcode => &mut a.postcode,
                            Capture::Locality => &mut a.city,
                            _ => &mut a.country,
                        };
                        slot.get_or_insert(value);
                    }
                }
            }
        }
        Ok(())
    }

    fn end_coordinates(&mut self, cap: Capture, line: u64) -> Result<()> {
        let element = cap.element();
        self.numbers.clear();
        let comma = cap == Capture::Coordinates;
        parse_numbers(&self.text, comma, &mut self.numbers)
            .map_err(|m| self.err(line, element, m))?;
        let n = self.numbers.len();
        if n == 0 {
            return Ok(());
        }
        let dim = match cap {
            Capture::PosList(d, _) => d,
            Capture::Pos => n,
            _ => {
                let first = self
                    .text
                    .trim_ascii_start()
                    .split(u8::is_ascii_whitespace)
                    .next()
                    .unwrap_or_default();
                first.iter().filter(|&&b| b == b',').count() + 1
            }
        };
        if dim != 3 {
            return Err(self.err(
                line,
                element,
                format!(
                    "{dim}D coordinates: building geometry must be 3D (srsDimension 3); \
                     {n} numbers read"
                ),
            ));
        }
        if !n.is_multiple_of(3) {
            return Err(self.err(
                line,
                element,
                format!("{n} numbers is not a multiple of the dimension 3"),
            ));
        }
        if let Capture::PosList(_, Some(count)) = cap
            && count * 3 != n
        {
            return Err(self.err(
                line,
                element,
                format!("count=\"{count}\" but {} positions given", n / 3),
            ));
        }
        self.ring
            .extend(self.numbers.chunks_exact(3).map(|c| [c[0], c[1], c[2]]));
        Ok(())
    }

    fn end_feature(&mut self, line: u64) -> Result<()> {
        let Some(f) = self.features.pop() else {
            return Ok(());
        };
        let g = finish_geometry(&f, self.opts.keep_surfaces);
        if f.is_part {
            if let Some(root) = self.features.first_mut() {
                let acc = &mut root.acc;
                acc.parts.push(BuildingPart {
                    id: f.id,
                    footprint: g.footprint.clone(),
                    ground_z: g.ground_z,
                    roof_z: g.roof_z,
                    measured_height_m: f.measured_height,
                    storeys: f.storeys,
                    roof_type: f.roof_type,
                });
                acc.footprint.extend(g.footprint);
                acc.mesh.append(&g.mesh);
                acc.ground_z = min_opt(acc.ground_z, g.ground_z);
                acc.roof_z = max_opt(acc.roof_z, g.roof_z);
                acc.lod = acc.lod.max(g.lod);
                if acc.function.is_none() {
                    acc.function = f.function;
                }
                if acc.address.is_none() {
                    acc.address = f.address;
                }
            }
            return Ok(());
        }
        let acc = f.acc;
        let mut footprint = g.footprint;
        footprint.extend(acc.footprint);
        let mut surfaces = g.mesh;
        surfaces.append(&acc.mesh);
        let function = f.function.or(acc.function);
        let mut b = Building {
            id: f.id,
            footprint,
            ground_z: min_opt(g.ground_z, acc.ground_z),
            roof_z: max_opt(g.roof_z, acc.roof_z),
            measured_height_m: f.measured_height,
            storeys: f.storeys,
            usage: function
                .as_deref()
                .map_or(BuildingUse::Other, BuildingUse::from_alkis),
            function,
            roof_type: f.roof_type,
            address: f.address.or(acc.address),
            attributes: f.attributes,
            lod: g.lod.max(acc.lod),
            surfaces,
            parts: acc.parts,
        };
        self.reproject(&mut b, line)?;
        if let Some(bbox) = &self.opts.bbox {
            let c = b.centroid().or_else(|| {
                let bb = b.bbox();
                (!bb.is_empty())
                    .then(|| [(bb.min[0] + bb.max[0]) / 2.0, (bb.min[1] + bb.max[1]) / 2.0])
            });
            let inside = c.is_some_and(|c| {
                c[0] >= bbox.min[0]
                    && c[0] <= bbox.max[0]
                    && c[1] >= bbox.min[1]
                    && c[1] <= bbox.max[1]
            });
            if !inside {
                return Ok(());
            }
        }
        self.city.buildings.push(b);
        Ok(())
    }

    /// Reproject a finished building into `opts.target_epsg` when it differs from the file's.
    fn reproject(&mut self, b: &mut Building, line: u64) -> Result<()> {
        let Some(target) = self.opts.target_epsg else {
            return Ok(());
        };
        if self.transformer.is_none() {
            let Some((_, from)) = &self.crs else {
                return Err(self.err(
                    line,
                    "",
                    format!("the file names no CRS (srsName); cannot reproject to EPSG:{target}"),
                ));
            };
            let to = Crs::from_epsg(target).map_err(|e| self.err(line, "", e.to_string()))?;
            self.transformer = Some(Transformer::new(from.clone(), to));
        }
        let Some(t) = &self.transformer else {
            return Ok(());
        };
        if t.is_identity() {
            return Ok(());
        }
        let wrap = |e: Error| self.err(line, "", e.to_string());
        let xy = |p: &mut [f64]| -> Result<()> {
            let (x, y) = (p[0], p[1]);
            let [x, y] = t.transform(x, y).map_err(wrap)?;
            p[0] = x;
            p[1] = y;
            Ok(())
        };
        for p in &mut b.surfaces.positions {
            xy(p.as_mut_slice())?;
        }
        let polys = b
            .footprint
            .iter_mut()
            .chain(b.parts.iter_mut().flat_map(|p| p.footprint.iter_mut()));
        for poly in polys {
            for p in poly
                .exterior
                .iter_mut()
                .chain(poly.interiors.iter_mut().flatten())
            {
                xy(p.as_mut_slice())?;
            }
        }
        Ok(())
    }

    fn into_city(mut self, line: u64) -> Result<City> {
        if self.depth > 0 {
            return Err(self.err(
                line,
                "",
                format!(
                    "unexpected end of file with {} element(s) still open (truncated file?)",
                    self.depth
                ),
            ));
        }
        if self.version.is_empty() {
            return Err(self.err(line, "", "empty file: no XML root element"));
        }
        let path = self.path.display();
        self.city
            .sources
            .push(format!("CityGML {}: {path}", self.version));
        if self.crs.is_none() {
            self.city.sources.push(format!(
                "{path}: no srsName in the file, CRS unknown (EPSG 0)"
            ));
        }
        if let Some(t) = self.opts.target_epsg
            && self.crs.is_some()
        {
            self.city.epsg = t;
        }
        Ok(self.city)
    }
}

/// Metres per unit for a `uom` value (`m`, `urn:adv:uom:m`, `#m`, `ft`, ...).
fn unit_scale(uom: &[u8]) -> Option<f64> {
    let u = uom.trim_ascii();
    let tail = u
        .rsplit(|&b| b == b':' || b == b'#' || b == b'/')
        .next()
        .unwrap_or(u);
    match tail.to_ascii_lowercase().as_slice() {
        b"m" | b"metre" | b"meter" | b"metres" | b"meters" | b"9001" => Some(1.0),
        b"cm" => Some(0.01),
        b"mm" => Some(0.001),
        b"ft" | b"foot" | b"feet" | b"9002" => Some(0.3048),
        b"us-ft" | b"9003" => Some(1200.0 / 3937.0),
        _ => None,
    }
}

fn parse_dimension(d: &[u8]) -> Option<usize> {
    std::str::from_utf8(d).ok()?.trim().parse().ok()
}

/// Parse whitespace- (and with `comma`, comma-) separated finite numbers into `out`.
fn parse_numbers(text: &[u8], comma: bool, out: &mut Vec<f64>) -> std::result::Result<(), String> {
    let sep = |b: &u8| b.is_ascii_whitespace() || (comma && *b == b',');
    for tok in text.split(sep).filter(|t| !t.is_empty()) {
        let v = std::str::from_utf8(tok)
            .ok()
            .and_then(|s| s.parse::<f64>().ok());
        let show = || {
            let s = String::from_utf8_lossy(tok);
            s.chars().take(40).collect::<String>()
        };
        match v {
            Some(v) if v.is_finite() => out.push(v),
            Some(_) => return Err(format!("non-finite coordinate {:?}", show())),
            None => return Err(format!("coordinate {:?} is not a number", show())),
        }
    }
    Ok(())
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Geometry and heights derived from one feature's polygons.
struct Finished {
    footprint: Vec<Polygon>,
    mesh: TriMesh,
    ground_z: Option<f64>,
    roof_z: Option<f64>,
    lod: u8,
}

/// Select the surfaces to keep (see the module docs), triangulate them and derive the
/// footprint and heights.
fn finish_geometry(f: &Feature, keep_surfaces: bool) -> Finished {
    // Semantic classes lent by references from boundedBy surfaces.
    let mut lent: Vec<Option<SurfaceKind>> = vec![None; f.polys.len()];
    if !f.refs.is_empty() {
        let mut by_id: HashMap<&str, Range<usize>> = HashMap::new();
        for (i, p) in f.polys.iter().enumerate() {
            if let Some(id) = &p.id {
                by_id.insert(id, i..i + 1);
            }
        }
        for (id, r) in &f.groups {
            by_id.entry(id).or_insert_with(|| r.clone());
        }
        for (id, kind) in &f.refs {
            if let Some(r) = by_id.get(id.as_str()) {
                for i in r.clone() {
                    if let Some(l) = lent.get_mut(i) {
                        l.get_or_insert(*kind);
                    }
                }
            }
        }
    }
    let surfaces = || f.polys.iter().zip(&lent).filter(|(p, _)| !p.footprint_only);
    let max_lod = surfaces().map(|(p, _)| p.lod).max();
    let has_semantics = surfaces().any(|(p, _)| Some(p.lod) == max_lod && p.kind.is_some());
    let kept: Vec<(&Poly, SurfaceKind)> = surfaces()
        .filter(|(p, l)| {
            Some(p.lod) == max_lod && (p.kind.is_some() || l.is_some() || !has_semantics)
        })
        .map(|(p, l)| (p, p.kind.or(*l).unwrap_or(SurfaceKind::Other)))
        .collect();

    let grounds = || {
        kept.iter()
            .filter(|k| k.1 == SurfaceKind::Ground)
            .map(|k| k.0)
    };
    let ground_z = z_min(grounds())
        .or(f.terrain_min_z)
        .or_else(|| z_min(f.polys.iter()));
    let roof_z = kept.iter().flat_map(|k| z_values(k.0)).reduce(f64::max);

    let footprints = || f.polys.iter().filter(|p| p.footprint_only);
    let mut footprint: Vec<Polygon> = grounds().filter_map(project).collect();
    if footprint.is_empty() {
        footprint = footprints().filter_map(project).collect();
    }
    if footprint.is_empty() {
        footprint = lowest_horizontal(kept.iter().map(|k| k.0))
            .into_iter()
            .filter_map(project)
            .collect();
    }
    if footprint.is_empty() {
        let pts: Vec<P2> = kept
            .iter()
            .flat_map(|k| k.0.exterior.iter().map(|p| [p[0], p[1]]))
            .collect();
        footprint.extend(convex_hull(pts).map(Polygon::new));
    }

    let mut mesh = TriMesh::default();
    if keep_surfaces {
        for (p, kind) in &kept {
            mesh.add_polygon(&p.exterior, &p.interiors, *kind);
        }
    }
    let lod = match max_lod {
        Some(l) if !kept.is_empty() => l,
        _ => 0,
    };
    Finished {
        footprint,
        mesh,
        ground_z,
        roof_z,
        lod,
    }
}

fn z_values(p: &Poly) -> impl Iterator<Item = f64> + '_ {
    p.exterior
        .iter()
        .chain(p.interiors.iter().flatten())
        .map(|q| q[2])
}

fn z_min<'p>(polys: impl Iterator<Item = &'p Poly>) -> Option<f64> {
    polys.flat_map(z_values).reduce(f64::min)
}

/// 2D projection of a polygon, exterior counter-clockwise and holes clockwise; `None` when
/// the projection has no area (a vertical polygon).
fn project(p: &Poly) -> Option<Polygon> {
    let ring = |r: &[P3], ccw: bool| -> Vec<P2> {
        let mut v: Vec<P2> = r.iter().map(|q| [q[0], q[1]]).collect();
        if (ring_area(&v) > 0.0) != ccw {
            v.reverse();
        }
        v
    };
    let poly = Polygon {
        exterior: ring(&p.exterior, true),
        interiors: p.interiors.iter().map(|h| ring(h, false)).collect(),
    };
    (poly.area() > 1e-9).then_some(poly)
}

/// Horizontal faces within 5 cm of the lowest horizontal face.
fn lowest_horizontal<'p>(polys: impl Iterator<Item = &'p Poly>) -> Vec<&'p Poly> {
    let flat: Vec<(&Poly, f64)> = polys
        .filter_map(|p| {
            let n = newell_normal(&p.exterior);
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            (len > 0.0 && n[2].abs() >= 0.999 * len).then(|| {
                let z = p
                    .exterior
                    .iter()
                    .map(|q| q[2])
                    .fold(f64::INFINITY, f64::min);
                (p, z)
            })
        })
        .collect();
    let Some(low) = flat.iter().map(|x| x.1).reduce(f64::min) else {
        return Vec::new();
    };
    flat.into_iter()
        .filter(|x| x.1 <= low + 0.05)
        .map(|x| x.0)
        .collect()
}

/// Convex hull (Andrew's monotone chain), counter-clockwise; `None` for fewer than 3
/// non-collinear points.
fn convex_hull(mut pts: Vec<P2>) -> Option<Vec<P2>> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    let cross = |a: P2, b: P2, c: P2| (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    let half = |it: &mut dyn Iterator<Item = &P2>| {
        let mut h: Vec<P2> = Vec::new();
        for &p in it {
            while let [.., a, b] = h[..] {
                if cross(a, b, p) > 0.0 {
                    break;
                }
                h.pop();
            }
            h.push(p);
        }
        h.pop();
        h
    };
    let mut hull = half(&mut pts.iter());
    hull.extend(half(&mut pts.iter().rev()));
    (hull.len() >= 3).then_some(hull)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::BBox2;

    const NS: &str = r#"xmlns:core="http://www.opengis.net/citygml/1.0" xmlns:bldg="http://www.opengis.net/citygml/building/1.0" xmlns:gen="http://www.opengis.net/citygml/generics/1.0" xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xAL="urn:oasis:names:tc:ciq:xsdschema:xAL:2.0""#;

    fn model(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<core:CityModel {NS}>\n\
             <gml:boundedBy><gml:Envelope srsName=\"urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH\" \
             srsDimension=\"3\"/></gml:boundedBy>\n{body}\n</core:CityModel>\n"
        )
    }

    fn parse_with(xml: &str, opts: &ImportOptions) -> Result<City> {
        read(xml.as_bytes(), Path::new("test.gml"), opts)
    }

    fn parse(xml: &str) -> Result<City> {
        parse_with(xml, &ImportOptions::default())
    }

    fn pos_list(pts: &[P3]) -> String {
        let mut s: Vec<String> = pts
            .iter()
            .chain(pts.first())
            .map(|p| format!("{} {} {}", p[0], p[1], p[2]))
            .collect();
        s.dedup();
        s.join(" ")
    }

    fn polygon(id: &str, pts: &[P3]) -> String {
        let id = if id.is_empty() {
            String::new()
        } else {
            format!(" gml:id=\"{id}\"")
        };
        format!(
            "<gml:Polygon{id}><gml:exterior><gml:LinearRing><gml:posList srsDimension=\"3\">{}\
             </gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
            pos_list(pts)
        )
    }

    /// Faces of an axis-aligned box: (surface element, polygon).
    fn box_faces(x: f64, y: f64, z: f64, w: f64, h: f64) -> Vec<(&'static str, Vec<P3>)> {
        let (x1, y1, z1) = (x + w, y + w, z + h);
        vec![
            (
                "GroundSurface",
                vec![[x, y, z], [x, y1, z], [x1, y1, z], [x1, y, z]],
            ),
            (
                "RoofSurface",
                vec![[x, y, z1], [x1, y, z1], [x1, y1, z1], [x, y1, z1]],
            ),
            (
                "WallSurface",
                vec![[x, y, z], [x1, y, z], [x1, y, z1], [x, y, z1]],
            ),
            (
                "WallSurface",
                vec![[x1, y, z], [x1, y1, z], [x1, y1, z1], [x1, y, z1]],
            ),
            (
                "WallSurface",
                vec![[x1, y1, z], [x, y1, z], [x, y1, z1], [x1, y1, z1]],
            ),
            (
                "WallSurface",
                vec![[x, y1, z], [x, y, z], [x, y, z1], [x, y1, z1]],
            ),
        ]
    }

    /// Semantic boundedBy surfaces plus a lod2Solid referencing them (the AdV layout).
    fn semantic_box(id: &str, x: f64, h: f64) -> String {
        let faces = box_faces(x, 0.0, 0.0, 10.0, h);
        let refs: String = (0..faces.len())
            .map(|i| format!("<gml:surfaceMember xlink:href=\"#{id}_p{i}\"/>"))
            .collect();
        let bounded: String = faces
            .iter()
            .enumerate()
            .map(|(i, (k, pts))| {
                format!(
                    "<bldg:boundedBy><bldg:{k} gml:id=\"{id}_s{i}\"><bldg:lod2MultiSurface>\
                     <gml:MultiSurface><gml:surfaceMember>{}</gml:surfaceMember>\
                     </gml:MultiSurface></bldg:lod2MultiSurface></bldg:{k}></bldg:boundedBy>",
                    polygon(&format!("{id}_p{i}"), pts)
                )
            })
            .collect();
        format!(
            "<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>{refs}\
             </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>\n{bounded}"
        )
    }

    fn building(id: &str, inner: &str) -> String {
        format!(
            "<core:cityObjectMember><bldg:Building gml:id=\"{id}\">\n{inner}\n\
             </bldg:Building></core:cityObjectMember>"
        )
    }

    fn area(b: &Building, k: SurfaceKind) -> f64 {
        b.surfaces.area_of(k)
    }

    fn format_err(r: Result<City>) -> (String, String) {
        match r {
            Err(Error::Format {
                location, message, ..
            }) => (location, message),
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn referenced_semantic_surfaces_are_counted_once() {
        let city = parse(&model(&building("B1", &semantic_box("B1", 0.0, 5.0)))).unwrap();
        assert_eq!(
            (city.epsg, city.vertical_datum.as_deref()),
            (25832, Some("DHHN2016"))
        );
        assert_eq!(city.name, "test");
        let b = &city.buildings[0];
        assert_eq!(b.id, "B1");
        assert_eq!(b.lod, 2);
        assert!((area(b, SurfaceKind::Roof) - 100.0).abs() < 1e-9);
        assert!((area(b, SurfaceKind::Wall) - 200.0).abs() < 1e-9);
        assert!((area(b, SurfaceKind::Ground) - 100.0).abs() < 1e-9);
        assert_eq!(area(b, SurfaceKind::Other), 0.0);
        assert!((b.footprint_area() - 100.0).abs() < 1e-9);
        assert!(ring_area(&b.footprint[0].exterior) > 0.0, "exterior is CCW");
        assert_eq!((b.ground_z, b.roof_z), (Some(0.0), Some(5.0)));
        assert_eq!(b.height_m(), Some(5.0));
    }

    #[test]
    fn default_namespace_citygml2_and_inline_solid_copy_is_not_doubled() {
        let faces = box_faces(0.0, 0.0, 10.0, 10.0, 6.0);
        let solid: String = faces
            .iter()
            .map(|(_, p)| format!("<gml:surfaceMember>{}</gml:surfaceMember>", polygon("", p)))
            .collect();
        let bounded: String = faces
            .iter()
            .map(|(k, p)| {
                format!(
                    "<bldg:boundedBy><bldg:{k}><bldg:lod2MultiSurface><gml:MultiSurface>\
                     <gml:surfaceMember>{}</gml:surfaceMember></gml:MultiSurface>\
                     </bldg:lod2MultiSurface></bldg:{k}></bldg:boundedBy>",
                    polygon("", p)
                )
            })
            .collect();
        let xml = format!(
            r#"<CityModel xmlns="http://www.opengis.net/citygml/2.0" xmlns:b="http://www.opengis.net/citygml/building/2.0" xmlns:gml="http://www.opengis.net/gml">
<cityObjectMember><b:Building gml:id="D">
<b:lod2Solid><gml:Solid srsName="EPSG:25833"><gml:exterior><gml:CompositeSurface>{solid}</gml:CompositeSurface></gml:exterior></gml:Solid></b:lod2Solid>
{}
</b:Building></cityObjectMember></CityModel>"#,
            bounded.replace("bldg:", "b:")
        );
        let city = parse(&xml).unwrap();
        assert_eq!(city.epsg, 25833);
        assert!(city.sources[0].starts_with("CityGML 2.0"));
        let b = &city.buildings[0];
        assert!((area(b, SurfaceKind::Roof) - 100.0).abs() < 1e-9);
        assert!((area(b, SurfaceKind::Wall) - 240.0).abs() < 1e-9);
        assert_eq!(area(b, SurfaceKind::Other), 0.0);
        assert_eq!((b.ground_z, b.roof_z), (Some(10.0), Some(16.0)));
    }

    #[test]
    fn boundedby_references_lend_semantics_to_solid_polygons() {
        let faces = box_faces(0.0, 0.0, 0.0, 10.0, 3.0);
        let solid: String = faces
            .iter()
            .enumerate()
            .map(|(i, (_, p))| {
                format!(
                    "<gml:surfaceMember>{}</gml:surfaceMember>",
                    polygon(&format!("s{i}"), p)
                )
            })
            .collect();
        // Munich style: references without '#'.
        let bounded: String = faces
            .iter()
            .enumerate()
            .map(|(i, (k, _))| {
                format!(
                    "<bldg:boundedBy><bldg:{k}><bldg:lod2MultiSurface><gml:MultiSurface>\
                     <gml:surfaceMember xlink:href=\"s{i}\"/></gml:MultiSurface>\
                     </bldg:lod2MultiSurface></bldg:{k}></bldg:boundedBy>"
                )
            })
            .collect();
        let inner = format!(
            "<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>{solid}\
             </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>{bounded}"
        );
        let b = &parse(&model(&building("R", &inner))).unwrap().buildings[0];
        assert!((area(b, SurfaceKind::Roof) - 100.0).abs() < 1e-9);
        assert!((area(b, SurfaceKind::Wall) - 120.0).abs() < 1e-9);
        assert!((area(b, SurfaceKind::Ground) - 100.0).abs() < 1e-9);
        assert_eq!(b.surfaces.triangles.len(), 12);
    }

    #[test]
    fn lod1_solid_without_semantics_footprint_and_terrain_intersection() {
        let faces = box_faces(100.0, 200.0, 4.0, 8.0, 9.0);
        let solid: String = faces
            .iter()
            .map(|(_, p)| format!("<gml:surfaceMember>{}</gml:surfaceMember>", polygon("", p)))
            .collect();
        let inner = format!(
            "<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>{solid}\
             </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>\
             <bldg:lod1TerrainIntersection><gml:MultiCurve><gml:curveMember><gml:LineString>\
             <gml:posList>100 200 3.5 108 200 3.25 108 208 3.9</gml:posList></gml:LineString>\
             </gml:curveMember></gml:MultiCurve></bldg:lod1TerrainIntersection>"
        );
        let b = &parse(&model(&building("L", &inner))).unwrap().buildings[0];
        assert_eq!(b.lod, 1);
        assert!((area(b, SurfaceKind::Other) - (2.0 * 64.0 + 4.0 * 72.0)).abs() < 1e-9);
        assert_eq!(b.footprint.len(), 1, "bottom face only, not the roof");
        assert!((b.footprint_area() - 64.0).abs() < 1e-9);
        assert_eq!(
            b.ground_z,
            Some(3.25),
            "terrain intersection, no GroundSurface"
        );
        assert_eq!(b.roof_z, Some(13.0));
    }

    #[test]
    fn walls_only_fall_back_to_convex_hull() {
        let walls: String = box_faces(0.0, 0.0, 0.0, 4.0, 3.0)
            .iter()
            .filter(|f| f.0 == "WallSurface")
            .map(|(_, p)| format!("<gml:surfaceMember>{}</gml:surfaceMember>", polygon("", p)))
            .collect();
        let inner = format!(
            "<bldg:lod2MultiSurface><gml:MultiSurface>{walls}</gml:MultiSurface>\
             </bldg:lod2MultiSurface>"
        );
        let b = &parse(&model(&building("W", &inner))).unwrap().buildings[0];
        assert!((b.footprint_area() - 16.0).abs() < 1e-9);
        assert_eq!(b.ground_z, Some(0.0));
        assert_eq!(convex_hull(vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), None);
    }

    #[test]
    fn building_parts_merge_into_the_parent() {
        let part = |id: &str, x: f64, h: f64| {
            format!(
                "<bldg:consistsOfBuildingPart><bldg:BuildingPart gml:id=\"{id}\">\
                 <bldg:function>31001_2020</bldg:function>\
                 <bldg:measuredHeight uom=\"urn:adv:uom:m\">{h}</bldg:measuredHeight>\
                 <bldg:roofType>1000</bldg:roofType>{}</bldg:BuildingPart>\
                 </bldg:consistsOfBuildingPart>",
                semantic_box(id, x, h)
            )
        };
        let inner = format!("{}{}", part("P1", 0.0, 4.0), part("P2", 20.0, 12.0));
        let b = &parse(&model(&building("PB", &inner))).unwrap().buildings[0];
        assert_eq!(b.parts.len(), 2);
        assert_eq!(b.parts[0].id, "P1");
        assert_eq!(b.parts[1].roof_z, Some(12.0));
        assert_eq!(b.parts[0].measured_height_m, Some(4.0));
        assert_eq!(b.parts[0].roof_type, RoofType::Flat);
        assert!((b.parts[1].footprint[0].area() - 100.0).abs() < 1e-9);
        assert_eq!(b.footprint.len(), 2);
        assert!((b.footprint_area() - 200.0).abs() < 1e-9);
        assert_eq!((b.ground_z, b.roof_z, b.lod), (Some(0.0), Some(12.0), 2));
        assert!((area(b, SurfaceKind::Roof) - 200.0).abs() < 1e-9);
        assert_eq!(b.function.as_deref(), Some("31001_2020"));
        assert_eq!(b.usage, BuildingUse::Office);
    }

    #[test]
    fn attributes_address_and_units() {
        let inner = format!(
            r#"<gen:stringAttribute name="Gemeindeschluessel"><gen:value>02000000</gen:value></gen:stringAttribute>
<gen:doubleAttribute name="HoeheGrund"><gen:value>3.5</gen:value></gen:doubleAttribute>
<gen:intAttribute name="n"><gen:value>7</gen:value></gen:intAttribute>
<gen:measureAttribute name="m"><gen:value uom="m">1.5</gen:value></gen:measureAttribute>
<bldg:function>31001_1000</bldg:function>
<bldg:roofType>3100</bldg:roofType>
<bldg:measuredHeight uom="ft">10</bldg:measuredHeight>
<bldg:storeysAboveGround>3</bldg:storeysAboveGround>
{}
<bldg:address><core:Address><core:xalAddress><xAL:AddressDetails><xAL:Country>
<xAL:CountryName>Germany</xAL:CountryName><xAL:Locality Type="City"><xAL:LocalityName>Hamburg</xAL:LocalityName>
<xAL:Thoroughfare Type="Street"><xAL:ThoroughfareNumber>5b</xAL:ThoroughfareNumber>
<xAL:ThoroughfareName>Stra&#223;e &amp; Weg</xAL:ThoroughfareName></xAL:Thoroughfare>
<xAL:PostalCode><xAL:PostalCodeNumber>21109</xAL:PostalCodeNumber></xAL:PostalCode>
</xAL:Locality></xAL:Country></xAL:AddressDetails></core:xalAddress></core:Address></bldg:address>"#,
            semantic_box("A", 0.0, 3.0).replacen(
                "<bldg:WallSurface",
                "<bldg:WallSurface><gen:stringAttribute name=\"inner\"><gen:value>x</gen:value>\
                 </gen:stringAttribute></bldg:WallSurface><bldg:WallSurface",
                1
            )
        );
        let b = &parse(&model(&building("A", &inner))).unwrap().buildings[0];
        let attr = |k: &str| b.attributes.get(k).map(String::as_str);
        assert_eq!(attr("Gemeindeschluessel"), Some("02000000"));
        assert_eq!(attr("HoeheGrund"), Some("3.5"));
        assert_eq!(attr("n"), Some("7"));
        assert_eq!(attr("m"), Some("1.5"));
        assert_eq!(
            attr("inner"),
            None,
            "surface attributes are not the building's"
        );
        assert_eq!(b.function.as_deref(), Some("31001_1000"));
        assert_eq!(b.usage, BuildingUse::Residential);
        assert_eq!(b.roof_type, RoofType::Gable);
        assert!((b.measured_height_m.unwrap() - 3.048).abs() < 1e-12);
        assert_eq!(b.storeys, Some(3));
        let a = b.address.as_ref().unwrap();
        assert_eq!(a.street.as_deref(), Some("Straße & Weg"));
        assert_eq!(a.house_number.as_deref(), Some("5b"));
        assert_eq!(a.postcode.as_deref(), Some("21109"));
        assert_eq!(a.city.as_deref(), Some("Hamburg"));
        assert_eq!(a.country.as_deref(), Some("Germany"));
    }

    #[test]
    fn pos_coordinates_holes_and_triangles() {
        let inner = r#"<bldg:lod2MultiSurface><gml:MultiSurface>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>
<gml:pos>0 0 0</gml:pos><gml:pos>10 0 0</gml:pos><gml:pos>10 10 0</gml:pos><gml:pos>0 10 0</gml:pos><gml:pos>0 0 0</gml:pos>
</gml:LinearRing></gml:exterior><gml:interior><gml:LinearRing>
<gml:coordinates>2,2,0 4,2,0 4,4,0 2,4,0 2,2,0</gml:coordinates>
</gml:LinearRing></gml:interior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:TriangulatedSurface><gml:trianglePatches>
<gml:Triangle><gml:exterior><gml:LinearRing><gml:posList>0 0 5 10 0 5 10 10 5 0 0 5</gml:posList></gml:LinearRing></gml:exterior></gml:Triangle>
<gml:Triangle><gml:exterior><gml:LinearRing><gml:posList>0 0 5 10 10 5 0 10 5 0 0 5</gml:posList></gml:LinearRing></gml:exterior></gml:Triangle>
</gml:trianglePatches></gml:TriangulatedSurface></gml:surfaceMember>
</gml:MultiSurface></bldg:lod2MultiSurface>"#;
        let b = &parse(&model(&building("T", inner))).unwrap().buildings[0];
        assert!((area(b, SurfaceKind::Other) - (96.0 + 100.0)).abs() < 1e-9);
        assert!(
            (b.footprint_area() - 96.0).abs() < 1e-9,
            "lowest face with its hole"
        );
        assert_eq!(b.footprint[0].interiors.len(), 1);
        assert!(
            ring_area(&b.footprint[0].interiors[0]) < 0.0,
            "hole is clockwise"
        );
    }

    #[test]
    fn keep_surfaces_false_and_bbox_filter() {
        let xml = model(&format!(
            "{}{}",
            building("near", &semantic_box("near", 0.0, 5.0)),
            building("far", &semantic_box("far", 1000.0, 5.0))
        ));
        let opts = ImportOptions {
            keep_surfaces: false,
            bbox: Some(BBox2 {
                min: [-1.0, -1.0],
                max: [20.0, 20.0],
            }),
            target_epsg: Some(25832),
        };
        let city = parse_with(&xml, &opts).unwrap();
        assert_eq!(city.buildings.len(), 1);
        let b = &city.buildings[0];
        assert_eq!(b.id, "near");
        assert!(b.surfaces.is_empty());
        assert!((b.footprint_area() - 100.0).abs() < 1e-9);
        assert_eq!((b.ground_z, b.roof_z, b.lod), (Some(0.0), Some(5.0), 2));
        assert_eq!(parse(&xml).unwrap().buildings.len(), 2);
    }

    #[test]
    fn crs_missing_unknown_and_mixed() {
        let body = building("B", &semantic_box("B", 0.0, 5.0));
        let bare = format!("<core:CityModel {NS}>{body}</core:CityModel>");
        let city = parse(&bare).unwrap();
        assert_eq!((city.epsg, city.vertical_datum.clone()), (0, None));
        assert!(city.sources.iter().any(|s| s.contains("no srsName")));
        let reproject = ImportOptions {
            target_epsg: Some(4326),
            ..Default::default()
        };
        let (_, msg) = format_err(parse_with(&bare, &reproject));
        assert!(msg.contains("names no CRS"), "{msg}");

        let unknown = model(&body).replace("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH", "EPSG:99999");
        let (loc, msg) = format_err(parse(&unknown));
        assert!(msg.contains("EPSG:99999"), "{msg}");
        assert!(
            loc.contains("line 3") && loc.contains("gml:Envelope"),
            "{loc}"
        );

        let mixed = model(&body.replace("<gml:Solid>", "<gml:Solid srsName=\"EPSG:31468\">"));
        let (loc, msg) = format_err(parse(&mixed));
        assert!(
            msg.contains("mixed CRS") && loc.contains("\"B\""),
            "{loc}: {msg}"
        );
    }

    #[test]
    fn malformed_files_are_clear_errors() {
        let good = model(&building("B7", &semantic_box("B7", 0.0, 5.0)));
        let cases: Vec<(String, &str)> =
            vec![
            (String::new(), "empty file"),
            ("<?xml version=\"1.0\"?>\n".into(), "empty file"),
            ("{\"type\": \"CityJSON\"}".into(), "not XML"),
            ("<root><a/></root>".into(), "not a CityGML"),
            (
                "<CityModel xmlns=\"http://www.opengis.net/citygml/3.0\"/>".into(),
                "not a CityGML",
            ),
            (good[..good.len() / 2].to_string(), "not closed"),
            (
                good[..good.find("<bldg:boundedBy>").unwrap()].to_string(),
                "end of file",
            ),
            (
                good.replacen("</gml:LinearRing>", "</gml:Ring>", 1),
                "malformed XML",
            ),
            (good.replacen("0 0 5", "0 0 NaN", 1), "non-finite"),
            (good.replacen("0 0 5", "0 0 inf", 1), "non-finite"),
            (good.replacen("0 0 5", "0 0 5x", 1), "not a number"),
            (good.replacen("0 0 5", "0 0", 1), "not a multiple"),
            (
                good.replacen("srsDimension=\"3\">", "srsDimension=\"2\">", 2),
                "2D coordinates",
            ),
            (
                good.replacen("<gml:posList srsDimension=\"3\">", "<gml:posList count=\"9\">", 1),
                "count=\"9\"",
            ),
            (
                good.replacen(
                    "<bldg:lod2Solid>",
                    "<bldg:storeysAboveGround>2.5</bldg:storeysAboveGround><bldg:lod2Solid>",
                    1,
                ),
                "storey",
            ),
            (
                good.replacen(
                    "<bldg:lod2Solid>",
                    "<bldg:measuredHeight uom=\"parsec\">1</bldg:measuredHeight><bldg:lod2Solid>",
                    1,
                ),
                "unit of measure",
            ),
            (
                good.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\""),
                "encoding",
            ),
        ];
        for (xml, want) in cases {
            let (loc, msg) = format_err(parse(&xml));
            assert!(msg.contains(want), "{want:?} not in {loc}: {msg}");
            assert!(loc.starts_with("line "), "{loc}");
        }
        // Coordinate errors name the building, the element and the line.
        let (loc, _) = format_err(parse(&good.replacen("0 0 5", "0 0 NaN", 1)));
        let line = good
            .lines()
            .position(|l| l.contains("0 0 5"))
            .map(|i| i + 1)
            .unwrap();
        assert!(loc.contains(&format!("line {line},")), "{loc}");
        assert!(
            loc.contains("gml:id=\"B7\"") && loc.contains("<gml:posList>"),
            "{loc}"
        );
    }

    #[test]
    fn latin1_and_gzip_files() {
        let xml = model(&building("G", &semantic_box("G", 0.0, 5.0)))
            .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")
            .replace(
                "<bldg:lod2Solid>",
                "<bldg:function>F\u{fc}rth</bldg:function><bldg:lod2Solid>",
            );
        let latin1: Vec<u8> = xml.chars().map(|c| c as u32 as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tile.gml.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &latin1).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let city = read_path(&path, &ImportOptions::default()).unwrap();
        assert_eq!(city.name, "tile");
        assert_eq!(city.buildings[0].function.as_deref(), Some("Fürth"));
        let missing = read_path(&dir.path().join("nope.gml"), &ImportOptions::default());
        assert!(matches!(missing, Err(Error::Io { .. })));
    }
}
