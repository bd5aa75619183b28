//! Derived layers (in progress).
