//! sim-flood (in progress).
