//! Errors of the flood engine.

/// Why a flood model cannot be built or run.
#[derive(Debug, thiserror::Error)]
pub enum FloodError {
    /// A parameter outside its valid range (`what` names it, e.g. `params.theta`).
    #[error("{what}: {message}")]
    Parameter { what: String, message: String },
    /// Input rasters or geometry that do not fit together or cannot be used.
    #[error("{what}: {message}")]
    Input { what: String, message: String },
    /// The solver became unstable or produced a non-finite value.
    #[error(
        "the flood solver stopped at t = {t_s:.3} s: {message} (cell column {col}, row {row}, x {x:.2}, y {y:.2})"
    )]
    Unstable {
        t_s: f64,
        message: String,
        col: usize,
        row: usize,
        x: f64,
        y: f64,
    },
}

impl FloodError {
    pub(crate) fn param(what: impl Into<String>, message: impl Into<String>) -> Self {
        FloodError::Parameter {
            what: what.into(),
            message: message.into(),
        }
    }
    pub(crate) fn input(what: impl Into<String>, message: impl Into<String>) -> Self {
        FloodError::Input {
            what: what.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = FloodError> = std::result::Result<T, E>;
