//! Demo city (in progress).
