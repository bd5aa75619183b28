//! sim-shadow (in progress).
