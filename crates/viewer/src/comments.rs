//! Located comments from citizens at a participation table.
//!
//! Every comment is saved the moment it is added: the whole store is written as a GeoJSON
//! FeatureCollection to a temporary file beside the target, which is then renamed over it
//! ([`twin_core::fsio::write_atomic`]). A crash or power cut therefore loses nothing that
//! was confirmed, and never leaves a half-written file. If saving fails the comment is not
//! added, so what the table shows is always what is on disk.
//!
//! The file is plain GeoJSON (RFC 7946) that any GIS opens: one Point feature per comment,
//! coordinates `[lon, lat]` in WGS84 degrees with 7 decimals (about 1 cm), and the
//! properties `title`, `text`, `category` (an id from [`CATEGORIES`]), `lat`, `lon` and
//! `created` (RFC 3339 UTC, whole seconds).
//!
//! At the end of a session the moderator calls [`CommentStore::reset`], which moves the
//! file aside to a time-stamped archive and starts an empty store.

use crate::error::{Result, ViewError};
use serde::Serialize;
use sim_shadow::time::{TimeZone, UtcTime};
use std::path::{Path, PathBuf};

/// The comment categories: `(id stored in the file, label shown at the table)`.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("idea", "Idea"),
    ("concern", "Concern"),
    ("question", "Question"),
    ("praise", "I like this"),
    ("traffic", "Traffic"),
    ("green", "Green & trees"),
    ("safety", "Safety"),
    ("other", "Something else"),
];

/// Longest title, characters (after trimming spaces).
pub const MAX_TITLE_CHARS: usize = 80;
/// Longest text, characters (after trimming spaces).
pub const MAX_TEXT_CHARS: usize = 1000;
/// Decimal places of the stored coordinates (1e-7° is about 1 cm).
const COORD_SCALE: f64 = 1e7;
/// Most archives with the same time stamp [`CommentStore::reset`] tries.
const MAX_ARCHIVE_TRIES: u32 = 10_000;

/// The label of a category id, `None` for an unknown id.
pub fn category_label(id: &str) -> Option<&'static str> {
    CATEGORIES.iter().find(|c| c.0 == id).map(|c| c.1)
}

/// Pin colour (sRGB) of a category: the colour-blind-safe Okabe-Ito palette, grey for
/// "other" and for an unknown id.
pub fn category_color(id: &str) -> [u8; 3] {
    match id {
        "idea" => [240, 228, 66],
        "concern" => [213, 94, 0],
        "question" => [86, 180, 233],
        "praise" => [204, 121, 167],
        "traffic" => [230, 159, 0],
        "green" => [0, 158, 115],
        "safety" => [0, 114, 178],
        _ => [150, 150, 150],
    }
}

/// Seconds since the Unix epoch now (0 if the system clock is before 1970).
fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The current time as RFC 3339 UTC with whole seconds, e.g. `2026-12-06T14:30:05Z`.
pub fn now_rfc3339() -> String {
    UtcTime(now_s() as f64).to_rfc3339(&TimeZone::Utc)
}

/// A compact UTC time stamp for file names, `YYYYMMDDTHHMMSSZ`.
fn file_stamp(epoch_s: u64) -> String {
    let (y, mo, d, h, mi, s) = UtcTime(epoch_s as f64).to_civil();
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{:02}Z", s.round() as u32)
}

fn round_coord(v: f64) -> f64 {
    (v * COORD_SCALE).round() / COORD_SCALE
}

/// One located comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Short title, 1..=[`MAX_TITLE_CHARS`] characters, one line.
    pub title: String,
    /// The comment itself, up to [`MAX_TEXT_CHARS`] characters (may be empty).
    pub text: String,
    /// A category id from [`CATEGORIES`].
    pub category: String,
    /// Latitude, WGS84 degrees, [-90, 90].
    pub lat: f64,
    /// Longitude, WGS84 degrees, [-180, 180].
    pub lon: f64,
    /// When it was made, RFC 3339 UTC with whole seconds (`2026-12-06T14:30:05Z`).
    pub created: String,
}

impl Comment {
    /// A comment at WGS84 `lat`/`lon`, created now. Not validated until
    /// [`CommentStore::add`] (or [`Comment::validate`]).
    pub fn new(
        title: impl Into<String>,
        text: impl Into<String>,
        category: impl Into<String>,
        lat: f64,
        lon: f64,
    ) -> Comment {
        Comment {
            title: title.into(),
            text: text.into(),
            category: category.into(),
            lat,
            lon,
            created: now_rfc3339(),
        }
    }

    /// A comment at city-frame position `x`, `y` (metres in `crs`), converted to WGS84 with
    /// [`twin_core::crs::Crs::to_wgs84`], created now. Fails if the position cannot be
    /// converted (non-finite, or far outside the CRS's area of use).
    pub fn at(
        x: f64,
        y: f64,
        crs: &twin_core::crs::Crs,
        title: impl Into<String>,
        text: impl Into<String>,
        category: impl Into<String>,
    ) -> Result<Comment> {
        let [lon, lat] = crs.to_wgs84(x, y)?;
        Ok(Comment::new(title, text, category, lat, lon))
    }

    /// Check the comment as [`CommentStore::add`] does (on the trimmed title and text):
    /// title 1..=80 characters without line breaks or control characters, text at most
    /// 1000 characters, a known category, finite coordinates in range, and an RFC 3339
    /// `created`.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(ViewError::arg("comment", m));
        let title = self.title.trim();
        let n = title.chars().count();
        if n == 0 {
            return err("the title is empty".into());
        }
        if n > MAX_TITLE_CHARS {
            return err(format!(
                "the title has {n} characters, at most {MAX_TITLE_CHARS} are allowed"
            ));
        }
        if title.chars().any(char::is_control) {
            return err("the title must be a single line without control characters".into());
        }
        let n = self.text.trim().chars().count();
        if n > MAX_TEXT_CHARS {
            return err(format!(
                "the text has {n} characters, at most {MAX_TEXT_CHARS} are allowed"
            ));
        }
        if category_label(&self.category).is_none() {
            let ids: Vec<&str> = CATEGORIES.iter().map(|c| c.0).collect();
            return err(format!(
                "unknown category '{}' (known: {})",
                self.category,
                ids.join(", ")
            ));
        }
        check_position(self.lat, self.lon).or_else(err)?;
        UtcTime::parse_rfc3339(&self.created)
            .map_err(|e| ViewError::arg("comment", format!("created: {e}")))?;
        Ok(())
    }

    /// The comment as stored: title and text trimmed, coordinates rounded to 7 decimals.
    fn normalized(mut self) -> Comment {
        self.title = self.title.trim().to_string();
        self.text = self.text.trim().to_string();
        self.lat = round_coord(self.lat);
        self.lon = round_coord(self.lon);
        self
    }
}

/// `Ok` for a finite WGS84 position in range, else the problem.
fn check_position(lat: f64, lon: f64) -> std::result::Result<(), String> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(format!("latitude {lat} outside [-90, 90] degrees"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(format!("longitude {lon} outside [-180, 180] degrees"));
    }
    Ok(())
}

#[derive(Serialize)]
struct CollectionOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<FeatureOut<'a>>,
}

#[derive(Serialize)]
struct FeatureOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: PointOut,
    properties: PropertiesOut<'a>,
}

#[derive(Serialize)]
struct PointOut {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

#[derive(Serialize)]
struct PropertiesOut<'a> {
    title: &'a str,
    text: &'a str,
    category: &'a str,
    lat: f64,
    lon: f64,
    created: &'a str,
}

/// The GeoJSON FeatureCollection of `comments` (pretty-printed, with a final newline).
pub fn to_geojson(comments: &[Comment]) -> Vec<u8> {
    let fc = CollectionOut {
        kind: "FeatureCollection",
        features: comments
            .iter()
            .map(|c| FeatureOut {
                kind: "Feature",
                geometry: PointOut {
                    kind: "Point",
                    coordinates: [round_coord(c.lon), round_coord(c.lat)],
                },
                properties: PropertiesOut {
                    title: &c.title,
                    text: &c.text,
                    category: &c.category,
                    lat: round_coord(c.lat),
                    lon: round_coord(c.lon),
                    created: &c.created,
                },
            })
            .collect(),
    };
    // Serializing plain strings and finite numbers cannot fail; non-finite numbers (never
    // stored, see `validate`) would become null.
    let mut bytes = serde_json::to_vec_pretty(&fc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Read the comments of a GeoJSON FeatureCollection; errors name `path` and the feature.
fn parse_geojson(path: &Path, bytes: &[u8]) -> Result<Vec<Comment>> {
    use serde_json::Value;
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ViewError::format(path, e.line(), format!("not valid JSON: {e}")))?;
    let fail = |m: String| ViewError::format(path, 0, m);
    if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(fail(
            "not a GeoJSON FeatureCollection (\"type\": \"FeatureCollection\" missing)".into(),
        ));
    }
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("\"features\" is missing or not an array".into()))?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let ferr = |m: &str| fail(format!("features[{i}]: {m}"));
        if f.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(ferr("not a Feature"));
        }
        let g = f
            .get("geometry")
            .filter(|g| g.get("type").and_then(Value::as_str) == Some("Point"))
            .ok_or_else(|| ferr("geometry is not a Point"))?;
        let coords = g
            .get("coordinates")
            .and_then(Value::as_array)
            .filter(|c| c.len() >= 2)
            .ok_or_else(|| ferr("Point coordinates must be [lon, lat]"))?;
        let (Some(lon), Some(lat)) = (coords[0].as_f64(), coords[1].as_f64()) else {
            return Err(ferr("Point coordinates must be numbers [lon, lat]"));
        };
        check_position(lat, lon).map_err(|m| ferr(&m))?;
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| ferr("properties missing"))?;
        let text_prop = |key: &str, required: bool| -> Result<String> {
            match props.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                None | Some(Value::Null) if !required => Ok(String::new()),
                None => Err(ferr(&format!("property \"{key}\" missing"))),
                Some(_) => Err(ferr(&format!("property \"{key}\" is not a string"))),
            }
        };
        let title = text_prop("title", true)?;
        if title.trim().is_empty() {
            return Err(ferr("the title is empty"));
        }
        let created = text_prop("created", true)?;
        UtcTime::parse_rfc3339(&created).map_err(|e| ferr(&format!("created: {e}")))?;
        out.push(Comment {
            title,
            text: text_prop("text", false)?,
            category: text_prop("category", true)?,
            lat,
            lon,
            created,
        });
    }
    Ok(out)
}

/// The comments of one table session, kept in memory and in a GeoJSON file.
#[derive(Debug, Clone)]
pub struct CommentStore {
    path: PathBuf,
    comments: Vec<Comment>,
}

impl CommentStore {
    /// Open the store saved at `path`.
    ///
    /// A missing file (or an empty one) is an empty store; the file is only written by
    /// [`add`](Self::add). A file that is not a FeatureCollection of comments is an error
    /// naming the file and the feature (`features[3]: ...`). Comments read from the file
    /// are checked for their structure, position and time, not for the limits of
    /// [`Comment::validate`] (an older file with another category is still read). The folder
    /// of `path` must exist, so a wrong path fails now rather than at the first comment.
    pub fn open(path: impl Into<PathBuf>) -> Result<CommentStore> {
        let path = path.into();
        let missing_dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir());
        if let Some(dir) = missing_dir {
            return Err(ViewError::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("the folder {} does not exist", dir.display()),
                ),
            ));
        }
        let comments = match std::fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Vec::new(),
            Ok(bytes) => parse_geojson(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ViewError::io(&path, e)),
        };
        Ok(CommentStore { path, comments })
    }

    /// The file the comments are saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The comments, oldest first.
    pub fn comments(&self) -> &[Comment] {
        &self.comments
    }

    /// Number of comments.
    pub fn len(&self) -> usize {
        self.comments.len()
    }

    /// Whether there are no comments.
    pub fn is_empty(&self) -> bool {
        self.comments.is_empty()
    }

    /// Validate `comment` ([`Comment::validate`]), then save the store with it atomically.
    ///
    /// The title and text are stored trimmed and the coordinates rounded to 7 decimals. On
    /// any error (invalid comment, or the file could not be written) the store in memory
    /// and the file on disk are unchanged.
    pub fn add(&mut self, comment: Comment) -> Result<()> {
        comment.validate()?;
        self.comments.push(comment.normalized());
        let bytes = to_geojson(&self.comments);
        if let Err(e) = twin_core::fsio::write_atomic(&self.path, &bytes) {
            self.comments.pop();
            return Err(e.into());
        }
        Ok(())
    }

    /// For the moderator: move the current file aside to
    /// `<stem>-<YYYYMMDDTHHMMSSZ>.geojson` in the same folder (UTC now; `-2`, `-3`, ... is
    /// appended rather than overwriting an existing archive) and start an empty store.
    ///
    /// Returns the archive's path, or `None` when there was nothing to archive. If the file
    /// has gone but comments are in memory, they are written to the archive instead. On an
    /// error the store is unchanged.
    pub fn reset(&mut self) -> Result<Option<PathBuf>> {
        let exists = match std::fs::symlink_metadata(&self.path) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(ViewError::io(&self.path, e)),
        };
        if !exists && self.comments.is_empty() {
            return Ok(None);
        }
        let stamp = file_stamp(now_s());
        let archive = if exists {
            self.move_to_archive(&stamp)?
        } else {
            self.write_archive(&stamp)?
        };
        self.comments.clear();
        Ok(Some(archive))
    }

    /// Archive candidate number `n` (0 = without counter).
    fn archive_name(&self, stamp: &str, n: u32) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "comments".into(), |s| s.to_string_lossy().into_owned());
        let name = if n == 0 {
            format!("{stem}-{stamp}.geojson")
        } else {
            format!("{stem}-{stamp}-{}.geojson", n + 1)
        };
        self.path.with_file_name(name)
    }

    fn too_many_archives(&self, stamp: &str) -> ViewError {
        ViewError::io(
            &self.path,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{MAX_ARCHIVE_TRIES} archives named with {stamp} exist already"),
            ),
        )
    }

    /// Rename the file to a free archive name, never replacing an existing file: a hard link
    /// claims the name atomically (it fails if the name exists); where the file system has
    /// no hard links, an existence check followed by a rename is used.
    fn move_to_archive(&self, stamp: &str) -> Result<PathBuf> {
        for n in 0..MAX_ARCHIVE_TRIES {
            let target = self.archive_name(stamp, n);
            match std::fs::hard_link(&self.path, &target) {
                Ok(()) => {
                    if let Err(e) = std::fs::remove_file(&self.path) {
                        let _ = std::fs::remove_file(&target);
                        return Err(ViewError::io(&self.path, e));
                    }
                    return Ok(target);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => {
                    if std::fs::symlink_metadata(&target).is_ok() {
                        continue;
                    }
                    std::fs::rename(&self.path, &target)
                        .map_err(|e| ViewError::io(&self.path, e))?;
                    return Ok(target);
                }
            }
        }
        Err(self.too_many_archives(stamp))
    }

    /// Write the comments in memory to a new archive file (when the store's file is gone).
    fn write_archive(&self, stamp: &str) -> Result<PathBuf> {
        let bytes = to_geojson(&self.comments);
        for n in 0..MAX_ARCHIVE_TRIES {
            let target = self.archive_name(stamp, n);
            // Claim the name first so an existing archive is never replaced.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
            {
                Ok(_) => {
                    twin_core::fsio::write_atomic(&target, &bytes)?;
                    return Ok(target);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(ViewError::io(&target, e)),
            }
        }
        Err(self.too_many_archives(stamp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(title: &str) -> Comment {
        Comment {
            title: title.into(),
            text: "More trees along the street, please.".into(),
            category: "green".into(),
            lat: 52.520_008_3,
            lon: 13.404_954,
            created: "2026-12-06T14:30:05Z".into(),
        }
    }

    fn store_in(dir: &tempfile::TempDir) -> CommentStore {
        CommentStore::open(dir.path().join("comments.geojson")).unwrap()
    }

    #[test]
    fn categories_are_unique_and_labelled() {
        for (i, (id, label)) in CATEGORIES.iter().enumerate() {
            assert!(!label.is_empty());
            assert!(CATEGORIES[i + 1..].iter().all(|c| c.0 != *id));
            assert_eq!(category_label(id), Some(*label));
        }
        // Every category but "other" has its own colour.
        let mut colours: Vec<[u8; 3]> = CATEGORIES.iter().map(|c| category_color(c.0)).collect();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), CATEGORIES.len());
        assert_eq!(category_color("nope"), category_color("other"));
        assert_eq!(category_label("praise"), Some("I like this"));
        assert_eq!(category_label("nope"), None);
    }

    #[test]
    fn missing_file_is_an_empty_store_and_add_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_in(&dir);
        assert!(s.is_empty());
        assert!(!s.path().exists(), "open does not write");
        s.add(sample("  Bench at the square  ")).unwrap();
        s.add(Comment {
            category: "question".into(),
            lat: -33.868_819_75,
            lon: 151.209_295_5,
            ..sample("Why here?")
        })
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.comments()[0].title, "Bench at the square");
        assert_eq!(s.comments()[1].lat, -33.868_819_8);
        let again = CommentStore::open(s.path()).unwrap();
        assert_eq!(again.comments(), s.comments());

        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.path()).unwrap()).unwrap();
        assert_eq!(v["type"], "FeatureCollection");
        let f = &v["features"][1];
        assert_eq!(f["geometry"]["type"], "Point");
        assert_eq!(f["geometry"]["coordinates"][0], 151.209_295_5);
        assert_eq!(f["geometry"]["coordinates"][1], -33.868_819_8);
        assert_eq!(f["properties"]["category"], "question");
        assert_eq!(f["properties"]["lat"], -33.868_819_8);
        assert_eq!(f["properties"]["created"], "2026-12-06T14:30:05Z");
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unicode_text_survives() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_in(&dir);
        let title: String = "🌳".repeat(MAX_TITLE_CHARS);
        let c = Comment {
            text: "Mehr Bäume in der Straße – bitte! \"Zitat\"\nZweite Zeile\t✓ 日本語".into(),
            ..sample(&title)
        };
        s.add(c.clone()).unwrap();
        let again = CommentStore::open(s.path()).unwrap();
        assert_eq!(again.comments()[0].title, title);
        assert_eq!(again.comments()[0].text, c.text);
        let too_long = "é".repeat(MAX_TITLE_CHARS + 1);
        assert!(s.add(sample(&too_long)).is_err());
    }

    #[test]
    fn validation_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_in(&dir);
        let cases: Vec<(Comment, &str)> = vec![
            (sample("   "), "title is empty"),
            (sample(&"a".repeat(81)), "81 characters"),
            (sample("two\nlines"), "single line"),
            (
                Comment {
                    text: "x".repeat(1001),
                    ..sample("t")
                },
                "text has 1001",
            ),
            (
                Comment {
                    category: "rant".into(),
                    ..sample("t")
                },
                "unknown category 'rant'",
            ),
            (
                Comment {
                    lat: 90.5,
                    ..sample("t")
                },
                "latitude 90.5",
            ),
            (
                Comment {
                    lon: f64::NAN,
                    ..sample("t")
                },
                "longitude NaN",
            ),
            (
                Comment {
                    lon: -180.1,
                    ..sample("t")
                },
                "longitude -180.1",
            ),
            (
                Comment {
                    created: "yesterday".into(),
                    ..sample("t")
                },
                "created",
            ),
        ];
        for (c, needle) in cases {
            let e = s.add(c).unwrap_err().to_string();
            assert!(e.starts_with("comment: ") && e.contains(needle), "{e}");
        }
        assert!(s.is_empty());
        assert!(!s.path().exists());
        // Limits are inclusive; an empty text is fine.
        s.add(Comment {
            text: String::new(),
            lat: -90.0,
            lon: 180.0,
            ..sample(&"a".repeat(80))
        })
        .unwrap();
        s.add(Comment {
            text: "x".repeat(1000),
            ..sample("t")
        })
        .unwrap();
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn failed_write_keeps_old_file_and_memory() {
        let dir = tempfile::tempdir().unwrap();
        // A name so long that the temporary file beside it cannot be created
        // (file names are limited to 255 bytes), while the file itself is fine.
        let path = dir.path().join(format!("{}.geojson", "c".repeat(240)));
        let old = to_geojson(&[sample("Written earlier")]);
        std::fs::write(&path, &old).unwrap();
        let mut s = CommentStore::open(&path).unwrap();
        assert_eq!(s.len(), 1);
        let e = s.add(sample("Lost?")).unwrap_err();
        assert!(e.to_string().contains("cccc"), "{e}");
        assert_eq!(s.len(), 1);
        assert_eq!(s.comments()[0].title, "Written earlier");
        assert_eq!(std::fs::read(&path).unwrap(), old);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // The folder vanished under a running store: memory unchanged too.
        let sub = dir.path().join("table");
        std::fs::create_dir(&sub).unwrap();
        let mut s = CommentStore::open(sub.join("c.geojson")).unwrap();
        s.add(sample("first")).unwrap();
        std::fs::remove_dir_all(&sub).unwrap();
        assert!(s.add(sample("second")).is_err());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn open_requires_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let e = CommentStore::open(dir.path().join("nope/c.geojson"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn malformed_files_name_file_and_feature() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.geojson");
        let good = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[13.4,52.5]},
            "properties":{"title":"ok","text":"","category":"idea","created":"2026-12-06T14:30:05Z"}}"#;
        let cases = [
            ("{\"type\":", "bad.geojson:1: not valid JSON"),
            ("[1,2]", "not a GeoJSON FeatureCollection"),
            (r#"{"type":"FeatureCollection"}"#, "\"features\" is missing"),
            (
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{good},{{"type":"Feature"}}]}}"#
                ),
                "features[1]: geometry is not a Point",
            ),
            (
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                    good.replace("[13.4,52.5]", "[13.4,95]")
                ),
                "features[0]: latitude 95",
            ),
            (
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                    good.replace("\"title\":\"ok\",", "")
                ),
                "features[0]: property \"title\" missing",
            ),
            (
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                    good.replace("2026-12-06T14:30:05Z", "soon")
                ),
                "features[0]: created",
            ),
            (
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                    good.replace("\"category\":\"idea\"", "\"category\":7")
                ),
                "features[0]: property \"category\" is not a string",
            ),
        ];
        for (text, needle) in cases {
            std::fs::write(&path, text).unwrap();
            let e = CommentStore::open(&path).unwrap_err().to_string();
            assert!(
                e.contains("bad.geojson") && e.contains(needle),
                "{needle}: {e}"
            );
        }
        std::fs::write(&path, " \n").unwrap();
        assert!(CommentStore::open(&path).unwrap().is_empty());
    }

    #[test]
    fn reads_a_file_written_by_a_previous_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.geojson");
        // As another program (or an older version) might write it: other key order, extra
        // properties, an elevation, no text, a category no longer offered.
        std::fs::write(
            &path,
            r#"{"features":[{"properties":{"created":"2026-12-06T13:00:00+01:00","title":"Alt",
               "category":"bike","extra":1},"type":"Feature",
               "geometry":{"coordinates":[9.9937,53.5511,12.0],"type":"Point"}}],
               "type":"FeatureCollection","name":"x"}"#,
        )
        .unwrap();
        let mut s = CommentStore::open(&path).unwrap();
        assert_eq!(s.len(), 1);
        let c = &s.comments()[0];
        assert_eq!((c.title.as_str(), c.text.as_str()), ("Alt", ""));
        assert_eq!((c.lon, c.lat), (9.9937, 53.5511));
        assert_eq!(c.category, "bike");
        s.add(sample("Neu")).unwrap();
        drop(s);
        let s = CommentStore::open(&path).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.comments()[0].title, "Alt");
        assert_eq!(s.comments()[1].title, "Neu");
    }

    #[test]
    fn reset_archives_without_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_in(&dir);
        assert_eq!(s.reset().unwrap(), None, "nothing to archive");
        s.add(sample("one")).unwrap();
        let saved = std::fs::read(s.path()).unwrap();
        let a1 = s.reset().unwrap().unwrap();
        assert!(s.is_empty() && !s.path().exists());
        assert_eq!(std::fs::read(&a1).unwrap(), saved);
        let name = a1.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("comments-") && name.ends_with("Z.geojson"),
            "{name}"
        );
        let stamp = &name["comments-".len()..name.len() - ".geojson".len()];
        assert_eq!(stamp.len(), 16);
        assert_eq!(&stamp[8..9], "T");
        assert!(
            stamp[..8]
                .bytes()
                .chain(stamp[9..15].bytes())
                .all(|b| b.is_ascii_digit())
        );

        // Archives with the same stamp are not overwritten: pre-create the likely names.
        s.add(sample("two")).unwrap();
        let stamp_now = file_stamp(now_s());
        let taken = s.archive_name(&stamp_now, 0);
        let next = file_stamp(now_s() + 1);
        let taken2 = s.archive_name(&next, 0);
        for p in [&taken, &taken2] {
            if !p.exists() {
                std::fs::write(p, b"keep").unwrap();
            }
        }
        let a2 = s.reset().unwrap().unwrap();
        assert!(a2 != a1 && a2 != taken && a2 != taken2, "{}", a2.display());
        assert!(
            a2.to_string_lossy().ends_with("-2.geojson"),
            "{}",
            a2.display()
        );
        assert_eq!(CommentStore::open(&a2).unwrap().comments()[0].title, "two");
        if taken != a1 {
            assert_eq!(std::fs::read(&taken).unwrap(), b"keep");
        }
        assert_eq!(std::fs::read(&a1).unwrap(), saved);

        // The file vanished but memory has comments: they go to an archive.
        s.add(sample("three")).unwrap();
        std::fs::remove_file(s.path()).unwrap();
        let a3 = s.reset().unwrap().unwrap();
        assert!(s.is_empty());
        assert_eq!(
            CommentStore::open(&a3).unwrap().comments()[0].title,
            "three"
        );
        // The store works after a reset.
        s.add(sample("four")).unwrap();
        assert_eq!(CommentStore::open(s.path()).unwrap().len(), 1);
    }

    #[test]
    fn comment_at_converts_from_the_city_crs() {
        let crs = twin_core::crs::Crs::from_epsg(25833).unwrap();
        // Berlin, Alexanderplatz area in ETRS89 / UTM 33N.
        let c = Comment::at(392_000.0, 5_820_000.0, &crs, "Here", "", "idea").unwrap();
        assert!(
            (c.lat - 52.51).abs() < 0.05 && (c.lon - 13.41).abs() < 0.05,
            "{c:?}"
        );
        let [x, y] = crs.from_wgs84(c.lon, c.lat).unwrap();
        assert!((x - 392_000.0).abs() < 0.01 && (y - 5_820_000.0).abs() < 0.01);
        assert!(Comment::at(f64::NAN, 0.0, &crs, "t", "", "idea").is_err());
        c.validate().unwrap();
    }

    #[test]
    fn now_is_rfc3339_utc_seconds() {
        let n = now_rfc3339();
        assert_eq!(n.len(), 20, "{n}");
        assert!(n.ends_with('Z') && &n[10..11] == "T");
        assert!(UtcTime::parse_rfc3339(&n).is_ok());
        assert_eq!(file_stamp(1_796_554_800), "20261206T110000Z");
    }
}
