//! Errors of the traffic models.

/// What can go wrong in sim-traffic. Messages name the item and the problem; the caller adds
/// the file or scenario field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    /// A value that cannot be used (a negative capacity, a node out of range).
    #[error("{0}")]
    Invalid(String),
    /// A TNTP or CSV text that cannot be parsed: line number (1-based) and problem.
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
    /// A parameter outside its range: name, value, expected.
    #[error("{name} = {value}: {expected}")]
    Param {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}
