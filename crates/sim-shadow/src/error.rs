//! Errors of the shadow engine.

/// Why a sun, shadow or solar computation cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    /// A parameter outside its valid range (`what` names it, e.g. `latitude_deg`).
    #[error("{what}: {message}")]
    Parameter { what: String, message: String },
    /// A time that cannot be read or does not exist (e.g. in a daylight-saving gap).
    #[error("time {text:?}: {message}")]
    Time { text: String, message: String },
    /// Input rasters or geometry that do not fit together or cannot be used.
    #[error("{what}: {message}")]
    Input { what: String, message: String },
}

impl ShadowError {
    pub(crate) fn param(what: impl Into<String>, message: impl Into<String>) -> Self {
        ShadowError::Parameter {
            what: what.into(),
            message: message.into(),
        }
    }
    pub(crate) fn time(text: impl Into<String>, message: impl Into<String>) -> Self {
        ShadowError::Time {
            text: text.into(),
            message: message.into(),
        }
    }
    pub(crate) fn input(what: impl Into<String>, message: impl Into<String>) -> Self {
        ShadowError::Input {
            what: what.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = ShadowError> = std::result::Result<T, E>;
