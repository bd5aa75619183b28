//! cityjson importer (in progress).
