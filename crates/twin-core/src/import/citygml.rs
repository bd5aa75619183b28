//! citygml importer (in progress).
