//! The query engine over a site's store: the only crate that knows DataFusion.
//!
//! Domain crates (cohort, amr, surveillance) describe what to compute in their own types; this
//! crate reads the site's current snapshot and computes it, with DataFusion SQL for general
//! questions and purpose-built fast paths where a plain plan is not fast enough.

pub mod amr;
pub mod cohort;
pub mod dataset;
pub mod lab_codes;
pub mod prefill;
pub mod remote;
pub mod samples;
pub mod snapshot;
pub mod sql;
pub mod surveillance;
