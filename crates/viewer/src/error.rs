//! The viewer's error type: every failure names the file (or argument) and the problem.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its content is wrong (`line` is 1-based, 0 when not known).
    #[error("{}{}: {message}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A command-line argument or parameter is invalid.
    #[error("{what}: {message}")]
    Arg { what: String, message: String },
    /// An error from twin-core (raster, CRS, scenario, ...), which names its file itself.
    #[error(transparent)]
    Core(#[from] twin_core::Error),
    /// An error from the scenario runner (building the city, applying edits).
    #[error(transparent)]
    Run(#[from] urban_twin::RunError),
}

impl ViewError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ViewError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn format(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        ViewError::Format {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
    pub fn arg(what: impl Into<String>, message: impl Into<String>) -> Self {
        ViewError::Arg {
            what: what.into(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ViewError>;
