//! The one error type of `twin-core`. Every variant that comes from a file names the file;
//! importer errors also name where in the file (line, element, byte offset or JSON path).

use std::path::PathBuf;

/// Errors of the core library. Never a panic on bad input: importers and readers return these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at the OS level.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file's content is malformed or unsupported. `location` says where
    /// (for example `line 12`, `element <bldg:Building gml:id="x">`, `byte 1024`, `CityObjects.b1`).
    #[error("{path}: {location}: {message}")]
    Format {
        path: PathBuf,
        location: String,
        message: String,
    },
    /// A CRS name or EPSG code that the engine cannot handle.
    #[error("unknown or unsupported CRS: {0}")]
    UnknownCrs(String),
    /// A parameter or value outside its valid domain (not tied to a file).
    #[error("{0}")]
    Invalid(String),
}

/// Result with the core error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for a [`Error::Format`].
    pub fn format(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.into(),
            location: location.into(),
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
