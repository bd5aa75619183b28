//! ESRI ASCII grid (`.asc`) reader and writer.
//!
//! Header keys are case-insensitive: `ncols`, `nrows`, `xllcorner` or `xllcenter`,
//! `yllcorner` or `yllcenter`, `cellsize` (or `dx` and `dy` for rectangular cells, as GDAL
//! writes them) and the optional `NODATA_value`. Values are written with Rust's shortest
//! round-trip formatting, so a written grid reads back bit for bit.
//!
//! The CRS lives in a `.prj` sidecar: an EPSG authority (`AUTHORITY["EPSG","25832"]` or
//! `ID["EPSG",25832]`) or one of the ESRI WKT definitions this module writes (EPSG 25832,
//! 25833 and 4326) sets [`GridSpec::epsg`].

use super::{GridSpec, Raster};
use crate::error::{Error, Result};
use crate::fsio::write_atomic;
use std::fmt::Write as _;
use std::path::Path;

/// ESRI WKT (as GDAL and ArcGIS write it) of the CRSs that get a `.prj` sidecar.
const ESRI_WKT: [(u32, &str); 3] = [
    (
        25832,
        "PROJCS[\"ETRS_1989_UTM_Zone_32N\",GEOGCS[\"GCS_ETRS_1989\",DATUM[\"D_ETRS_1989\",\
         SPHEROID[\"GRS_1980\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],\
         UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],\
         PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],\
         PARAMETER[\"Central_Meridian\",9.0],PARAMETER[\"Scale_Factor\",0.9996],\
         PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]",
    ),
    (
        25833,
        "PROJCS[\"ETRS_1989_UTM_Zone_33N\",GEOGCS[\"GCS_ETRS_1989\",DATUM[\"D_ETRS_1989\",\
         SPHEROID[\"GRS_1980\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],\
         UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],\
         PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],\
         PARAMETER[\"Central_Meridian\",15.0],PARAMETER[\"Scale_Factor\",0.9996],\
         PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]",
    ),
    (
        4326,
        "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,\
         298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]",
    ),
];

/// The first double-quoted string of a WKT text (the CRS name).
fn wkt_name(wkt: &str) -> Option<&str> {
    wkt.split('"').nth(1)
}

/// EPSG code of a `.prj` text: the last (outermost) EPSG authority, or a known ESRI name.
fn epsg_from_prj(wkt: &str) -> Option<u32> {
    let compact: String = wkt.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = compact.to_ascii_uppercase();
    let mut found = None;
    for pat in ["AUTHORITY[\"EPSG\",", "ID[\"EPSG\","] {
        if let Some(at) = upper.rfind(pat) {
            let rest = upper.get(at + pat.len()..).unwrap_or("");
            let digits: String = rest
                .trim_start_matches('"')
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(code) = digits.parse() {
                found = found.max(Some((at, code)));
            }
        }
    }
    found.map(|(_, code)| code).or_else(|| {
        let name = wkt_name(&compact)?;
        ESRI_WKT
            .iter()
            .find(|(_, w)| wkt_name(w) == Some(name))
            .map(|&(code, _)| code)
    })
}

/// Read an ASCII grid, with the CRS from a `.prj` sidecar if there is one.
pub fn read_asc(path: &Path) -> Result<Raster<f32>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut r = parse_asc(&text, path)?;
    let prj = path.with_extension("prj");
    if prj.is_file() {
        let wkt = std::fs::read_to_string(&prj).map_err(|e| Error::io(&prj, e))?;
        r.spec.epsg = epsg_from_prj(&wkt);
    }
    Ok(r)
}

/// Parse the text of an ASCII grid; `path_for_errors` names it in errors. The CRS is left
/// unknown (it lives in the `.prj` sidecar, see [`read_asc`]).
pub fn parse_asc(text: &str, path_for_errors: &Path) -> Result<Raster<f32>> {
    let err =
        |line: usize, msg: String| Error::format(path_for_errors, format!("line {line}"), msg);
    let mut header: Vec<(String, f64, usize)> = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
    while let Some(&(no, line)) = lines.peek() {
        let mut tok = line.split_whitespace();
        let Some(key) = tok.next() else {
            lines.next();
            continue;
        };
        if !key.starts_with(|c: char| c.is_ascii_alphabetic()) || key.parse::<f32>().is_ok() {
            break; // first data line ("nan"/"inf" are values, not keys)
        }
        let key = key.to_ascii_lowercase();
        let value = match (tok.next(), tok.next()) {
            (Some(v), None) => v
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(no, format!("header value of {key} is not a number: {v:?}")))?,
            _ => {
                return Err(err(
                    no,
                    format!("header line {key:?} needs exactly one value"),
                ));
            }
        };
        if header.iter().any(|(k, ..)| *k == key) {
            return Err(err(no, format!("duplicate header key {key}")));
        }
        header.push((key, value, no));
        lines.next();
    }
    let data_line = lines.peek().map_or(text.lines().count() + 1, |&(no, _)| no);
    let get = |keys: &[&str]| header.iter().find(|(k, ..)| keys.contains(&k.as_str()));
    let need = |keys: &[&str]| {
        get(keys).ok_or_else(|| {
            err(
                data_line,
                format!("missing header key {} before the data", keys.join(" or ")),
            )
        })
    };
    let count = |key: &str| -> Result<usize> {
        let &(_, v, no) = need(&[key])?;
        if v < 1.0 || v.fract() != 0.0 || v > 1e9 {
            return Err(err(
                no,
                format!("{key} must be a positive integer, got {v}"),
            ));
        }
        Ok(v as usize)
    };
    let (width, height) = (count("ncols")?, count("nrows")?);
    let (cell_x, cell_y) = match (get(&["cellsize"]), get(&["dx"]), get(&["dy"])) {
        (Some(&(_, c, no)), None, None) => ((c, no), (c, no)),
        (None, Some(&(_, x, nx)), Some(&(_, y, ny))) => ((x, nx), (y, ny)),
        _ => {
            return Err(err(
                data_line,
                "the header needs either cellsize or both dx and dy".into(),
            ));
        }
    };
    for (c, no) in [cell_x, cell_y] {
        if c <= 0.0 {
            return Err(err(no, format!("cell size must be positive, got {c}")));
        }
    }
    let (cell_x, cell_y) = (cell_x.0, cell_y.0);
    let corner = |keys: [&str; 2], cell: f64| -> Result<f64> {
        let (k, v, _) = need(&keys)?;
        Ok(if k.ends_with("center") {
            *v - cell / 2.0
        } else {
            *v
        })
    };
    let origin_x = corner(["xllcorner", "xllcenter"], cell_x)?;
    let origin_y = corner(["yllcorner", "yllcenter"], cell_y)? + height as f64 * cell_y;
    let nodata = match get(&["nodata_value"]) {
        Some(&(_, v, no)) => {
            let nd = v as f32;
            if !nd.is_finite() {
                return Err(err(no, format!("NODATA_value {v} does not fit an f32")));
            }
            Some(nd)
        }
        None => None,
    };
    let want = width * height;
    let mut data = Vec::with_capacity(want.min(text.len() / 2 + 1));
    for (no, line) in lines {
        for tok in line.split_whitespace() {
            if data.len() == want {
                return Err(err(no, format!("more than ncols x nrows = {want} values")));
            }
            let v = tok
                .parse::<f32>()
                .map_err(|_| err(no, format!("not a number: {tok:?}")))?;
            data.push(v);
        }
    }
    if data.len() != want {
        let last = text.lines().count();
        return Err(err(
            last,
            format!(
                "found {} values, ncols x nrows = {width} x {height} needs {want}",
                data.len()
            ),
        ));
    }
    let spec = GridSpec {
        origin_x,
        origin_y,
        cell_x,
        cell_y,
        width,
        height,
        epsg: None,
    };
    spec.validate().map_err(|e| err(data_line, e.to_string()))?;
    Ok(Raster { spec, nodata, data })
}

/// Write an ASCII grid atomically. With an EPSG code of 25832, 25833 or 4326 a `.prj`
/// sidecar with the ESRI WKT is written too (other codes get none).
pub fn write_asc(r: &Raster<f32>, path: &Path) -> Result<()> {
    let s = &r.spec;
    s.validate()?;
    if r.data.len() != s.len() || s.is_empty() {
        return Err(Error::Invalid(format!(
            "cannot write a {}x{} raster with {} values as ASCII grid",
            s.width,
            s.height,
            r.data.len()
        )));
    }
    let mut out = format!(
        "ncols {}\nnrows {}\nxllcorner {}\nyllcorner {}\n",
        s.width,
        s.height,
        s.origin_x,
        s.origin_y - s.height as f64 * s.cell_y
    );
    if s.cell_x == s.cell_y {
        let _ = writeln!(out, "cellsize {}", s.cell_x);
    } else {
        let _ = writeln!(out, "dx {}\ndy {}", s.cell_x, s.cell_y);
    }
    if let Some(nd) = r.nodata {
        if !nd.is_finite() {
            return Err(Error::Invalid(format!(
                "ASCII grid NODATA_value must be finite, got {nd}"
            )));
        }
        let _ = writeln!(out, "NODATA_value {nd}");
    }
    for row in 0..s.height {
        for (i, v) in r.row(row).iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{v}");
        }
        out.push('\n');
    }
    let wkt = s
        .epsg
        .and_then(|code| ESRI_WKT.iter().find(|(c, _)| *c == code));
    if let Some((_, wkt)) = wkt {
        write_atomic(&path.with_extension("prj"), wkt.as_bytes())?;
    }
    write_atomic(path, out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::geotiff::{GeoTiffOptions, read_geotiff_f32, write_geotiff};

    fn p() -> &'static Path {
        Path::new("t.asc")
    }

    #[test]
    fn parses_corner_and_center_headers() {
        let t = "NCOLS 3\nnrows 2\nxllcenter 10.5\nYLLCENTER 20.5\ncellsize 1\nnodata_value -9999\n\
                 1 2 3\n4 -9999 6.25\n";
        let r = parse_asc(t, p()).unwrap();
        assert_eq!((r.spec.origin_x, r.spec.origin_y), (10.0, 22.0));
        assert_eq!(r.data, vec![1.0, 2.0, 3.0, 4.0, -9999.0, 6.25]);
        assert_eq!(r.nodata, Some(-9999.0));
        let t = "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ndx 2\ndy 0.5\n1 2\n";
        let r = parse_asc(t, p()).unwrap();
        assert_eq!(
            (r.spec.cell_x, r.spec.cell_y, r.spec.origin_y),
            (2.0, 0.5, 0.5)
        );
        assert_eq!(r.nodata, None);
    }

    #[test]
    fn errors_name_the_line() {
        let head = "ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
        let e = |t: &str| parse_asc(t, p()).unwrap_err().to_string();
        assert!(e("").contains("missing header key ncols"));
        let m = e("ncols 2\nnrows 2\nxllcorner 0\ncellsize 1\n1 2\n3 4\n");
        assert!(
            m.contains("line 5") && m.contains("yllcorner or yllcenter"),
            "{m}"
        );
        let m = e(&format!("{head}1 2\n3 x\n"));
        assert!(m.contains("line 7") && m.contains("\"x\""), "{m}");
        let m = e(&format!("{head}1 2\n3\n"));
        assert!(m.contains("found 3 values"), "{m}");
        let m = e(&format!("{head}1 2\n3 4\n5\n"));
        assert!(m.contains("line 8") && m.contains("more than"), "{m}");
        assert!(e("ncols 2 3\n").contains("line 1"));
        assert!(e("ncols nan\n").contains("not a number"));
        assert!(e("ncols -2\nnrows 2\n").contains("positive integer"));
        let m = e("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 0\n1 2\n");
        assert!(m.contains("line 5") && m.contains("positive"), "{m}");
        assert!(e(&format!("{head}ncols 3\n")).contains("duplicate"));
    }

    #[test]
    fn prj_epsg_detection() {
        assert_eq!(
            epsg_from_prj(
                "PROJCS[\"x\",GEOGCS[\"y\",AUTHORITY[\"EPSG\",\"4258\"]],AUTHORITY[\"EPSG\",\"25832\"]]"
            ),
            Some(25832)
        );
        assert_eq!(
            epsg_from_prj("PROJCRS[\"x\",ID[\"EPSG\",25833]]"),
            Some(25833)
        );
        for (code, wkt) in ESRI_WKT {
            assert_eq!(epsg_from_prj(wkt), Some(code));
        }
        assert_eq!(epsg_from_prj("LOCAL_CS[\"foo\"]"), None);
    }

    #[test]
    fn round_trips_bit_identical_and_through_geotiff() {
        let dir = tempfile::tempdir().unwrap();
        let spec = GridSpec {
            origin_x: 565_000.25,
            origin_y: 5_930_000.0,
            cell_x: 0.5,
            cell_y: 0.5,
            width: 7,
            height: 5,
            epsg: Some(25832),
        };
        let data = (0..35)
            .map(|i| {
                if i == 4 {
                    -9999.0
                } else {
                    (i as f32).sin() * 1e3 + 0.1
                }
            })
            .collect();
        let r = Raster::from_vec(spec, data, Some(-9999.0)).unwrap();
        let asc = dir.path().join("g.asc");
        write_asc(&r, &asc).unwrap();
        assert!(dir.path().join("g.prj").is_file());
        let back = read_asc(&asc).unwrap();
        assert_eq!(back, r);
        let tif = dir.path().join("g.tif");
        write_geotiff(&back, &tif, &GeoTiffOptions::default()).unwrap();
        let t = read_geotiff_f32(&tif).unwrap();
        assert_eq!(t, r);
        let asc2 = dir.path().join("h.asc");
        write_asc(&t, &asc2).unwrap();
        assert_eq!(std::fs::read(&asc).unwrap(), std::fs::read(&asc2).unwrap());

        // Rectangular cells, no CRS: dx/dy and no .prj.
        let r2 = Raster::from_vec(
            GridSpec {
                cell_y: 2.0,
                epsg: None,
                ..spec
            },
            r.data.clone(),
            None,
        )
        .unwrap();
        let asc3 = dir.path().join("r.asc");
        write_asc(&r2, &asc3).unwrap();
        assert!(!dir.path().join("r.prj").exists());
        assert_eq!(read_asc(&asc3).unwrap(), r2);
    }
}
