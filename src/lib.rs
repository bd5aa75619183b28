//! urban-twin runner
