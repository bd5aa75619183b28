//! glTF export (in progress).
