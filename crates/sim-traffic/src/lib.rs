//! sim-traffic (in progress).
