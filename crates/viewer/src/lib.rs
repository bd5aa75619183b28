//! viewer (issue 6).
