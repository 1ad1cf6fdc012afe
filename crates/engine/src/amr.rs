//! AMR over a site snapshot: reads the microbiology tables for the amr crate.
