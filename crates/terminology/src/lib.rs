//! Code systems, hierarchies and cross-country concept maps over shipped tables.
