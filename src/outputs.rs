//! Writing a results directory: analyses and exports are assembled in a staging folder
//! beside the target, `summary.json` last, and the folder is swapped in whole only when
//! everything succeeded.

use crate::{Progress, RunError, RunSummary};
use std::path::{Path, PathBuf};
use std::time::Instant;
use twin_core::City;
use twin_core::export::geojson::{GeoJsonOptions, Layer};
use twin_core::raster::GridSpec;
use twin_core::scenario::{Outputs, RasterFormat};

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A folder beside the results folder to assemble results in; removed on drop unless
/// committed.
pub struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn sibling(out_dir: &Path, tag: &str) -> PathBuf {
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    out_dir.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Clean up after runs of `out_dir` that were killed (their process no longer exists):
/// remove their staging folders, and their moved-aside old results, or put those back when
/// the kill came between moving them aside and moving the new ones in.
fn sweep_stale(out_dir: &Path) {
    let (Some(parent), Some(name)) = (out_dir.parent(), out_dir.file_name()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let (old, pid) = match (rest.strip_prefix("partial-"), rest.strip_prefix("old-")) {
            (Some(p), _) => (false, p),
            (_, Some(p)) => (true, p),
            _ => continue,
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let gone = pid != std::process::id()
            && Path::new("/proc/self").exists()
            && !Path::new(&format!("/proc/{pid}")).exists();
        if !gone {
            continue;
        }
        if old && !out_dir.exists() {
            // Killed between moving the old results aside and moving the new ones in:
            // the old results are the results.
            let _ = std::fs::rename(e.path(), out_dir);
        } else {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Staging {
    /// Create an empty staging folder for `out_dir` (which must not be a file).
    pub fn create(out_dir: &Path) -> Result<Staging, RunError> {
        if out_dir.is_file() {
            return Err(RunError::Io {
                path: out_dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is a file, not a results folder",
                ),
            });
        }
        if let Some(parent) = out_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        sweep_stale(out_dir);
        let dir = sibling(out_dir, "partial");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Staging {
            dir,
            committed: false,
        })
    }

    /// Where results are written until the commit.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write `summary.json` and swap the staging folder in as `out_dir`: the old results are
    /// moved aside, the new ones moved in, then the old ones removed.
    pub fn commit(mut self, out_dir: &Path, summary: &RunSummary) -> Result<(), RunError> {
        let path = self.dir.join("summary.json");
        let json = serde_json::to_vec_pretty(summary).map_err(|e| RunError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(&path, json).map_err(io(&path))?;
        let old = sibling(out_dir, "old");
        let had_old = out_dir.exists();
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(out_dir, &old).map_err(io(out_dir))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, out_dir) {
            if had_old {
                let _ = std::fs::rename(&old, out_dir);
            }
            return Err(io(out_dir)(e));
        }
        self.committed = true;
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

/// Run `f`, recording its wall time in `summary.timing_s` under `name`.
pub(crate) fn timed<T>(
    name: &str,
    summary: &mut RunSummary,
    f: impl FnOnce() -> Result<T, RunError>,
) -> Result<T, RunError> {
    let t = Instant::now();
    let v = f()?;
    summary
        .timing_s
        .push((name.to_string(), t.elapsed().as_secs_f64()));
    Ok(v)
}

/// Write the city's exports into `dir`; returns the file names written.
pub fn write_city_outputs(
    city: &City,
    outputs: &Outputs,
    dir: &Path,
    summary: &mut RunSummary,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<String>, RunError> {
    let mut files = Vec::new();
    if let Some(dem) = &city.terrain.dem {
        match outputs.dem {
            RasterFormat::Tif => {
                progress(Progress::Stage("writing dem.tif"));
                timed("dem.tif", summary, || {
                    Ok(twin_core::raster::geotiff::write_geotiff(
                        dem,
                        &dir.join("dem.tif"),
                        &Default::default(),
                    )?)
                })?;
                files.push("dem.tif".to_string());
            }
            RasterFormat::Asc => {
                progress(Progress::Stage("writing dem.asc"));
                timed("dem.asc", summary, || {
                    Ok(twin_core::raster::asc::write_asc(
                        dem,
                        &dir.join("dem.asc"),
                    )?)
                })?;
                files.push("dem.asc".to_string());
            }
            RasterFormat::None => {}
        }
    }
    if outputs.geojson {
        let opts = GeoJsonOptions::default();
        for (layer, name, present) in [
            (
                Layer::Buildings,
                "buildings.geojson",
                !city.buildings.is_empty(),
            ),
            (Layer::Roads, "roads.geojson", !city.roads.links.is_empty()),
            (
                Layer::Barriers,
                "barriers.geojson",
                !city.barriers.is_empty(),
            ),
            (Layer::Points, "points.geojson", !city.points.is_empty()),
            (
                Layer::LandCover,
                "landcover.geojson",
                !city.landcover.is_empty(),
            ),
        ] {
            if present {
                progress(Progress::Stage(&format!("writing {name}")));
                timed(name, summary, || {
                    Ok(twin_core::export::geojson::write_layer(
                        city,
                        layer,
                        dir.join(name),
                        &opts,
                    )?)
                })?;
                files.push(name.to_string());
            }
        }
    }
    if outputs.glb
        && (!city.buildings.is_empty() || city.terrain.dem.is_some() || city.terrain.tin.is_some())
    {
        progress(Progress::Stage("writing city.glb"));
        timed("city.glb", summary, || {
            Ok(twin_core::export::gltf::write_glb(
                city,
                &dir.join("city.glb"),
                &Default::default(),
            )?)
        })?;
        files.push("city.glb".to_string());
    }
    if let Some(cell) = outputs.derived_cell_m
        && !city.bbox().is_empty()
    {
        progress(Progress::Stage("rasterising derived layers"));
        let bbox = city.bbox();
        let spec = GridSpec::covering(&bbox, cell, Some(city.epsg).filter(|&e| e != 0))?;
        let gt = twin_core::raster::geotiff::GeoTiffOptions::default();
        let has_terrain = city.terrain.dem.is_some() || city.terrain.tin.is_some();
        timed("derived", summary, || {
            let mask = twin_core::derive::building_mask(city, spec);
            twin_core::raster::geotiff::write_geotiff(&mask, &dir.join("building_mask.tif"), &gt)?;
            let rough = twin_core::derive::roughness(city, spec, 0.035);
            twin_core::raster::geotiff::write_geotiff(&rough, &dir.join("roughness.tif"), &gt)?;
            if has_terrain {
                let dsm = twin_core::derive::height_model(city, spec)?;
                twin_core::raster::geotiff::write_geotiff(&dsm, &dir.join("dsm.tif"), &gt)?;
            }
            Ok(())
        })?;
        files.push("building_mask.tif".to_string());
        files.push("roughness.tif".to_string());
        if has_terrain {
            files.push("dsm.tif".to_string());
        }
    }
    if outputs.preview_png && !city.bbox().is_empty() {
        progress(Progress::Stage("drawing preview.png"));
        timed("preview.png", summary, || {
            Ok(twin_core::derive::preview_png(
                city,
                &dir.join("preview.png"),
                1600,
            )?)
        })?;
        files.push("preview.png".to_string());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Leftovers of killed runs (a process id above Linux's largest) are cleaned up: the
    /// staging folder removed, old results moved aside put back when nothing replaced them.
    #[test]
    fn stale_leftovers_of_killed_runs_are_swept() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let partial = tmp.path().join(".res.partial-4294967");
        let old = tmp.path().join(".res.old-4294967");
        let other = tmp.path().join(".other.partial-4294967");
        for d in [&partial, &old, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(old.join("summary.json"), "{}").unwrap();
        let mine = sibling(&out, "partial");
        std::fs::create_dir_all(&mine).unwrap();
        sweep_stale(&out);
        assert!(!partial.exists());
        assert!(!old.exists());
        assert!(out.join("summary.json").is_file(), "old results put back");
        assert!(other.exists(), "another output's folders are left alone");
        assert!(mine.exists(), "this process's folder is left alone");
        // With results in place, a stale moved-aside copy is removed.
        std::fs::create_dir_all(&old).unwrap();
        sweep_stale(&out);
        assert!(!old.exists());
        assert!(out.join("summary.json").is_file());
    }
}
