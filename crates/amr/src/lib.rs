//! Antimicrobial resistance: organisms, antimicrobials, breakpoints, S/I/R, first isolates,
//! cumulative antibiograms, MDRO classes, and the pooling of antibiogram counts across sites.
//!
//! Pure domain code (no Arrow, no I/O beyond parsing text it is given). The reference tables are
//! shipped as data files (`data/`, provenance in `data/SOURCES.md`) and parsed once
//! ([`Reference::shipped`]).
//!
//! - [`value`]: MIC and zone parsing, the doubling-dilution scale.
//! - [`table`]: organism and antimicrobial indexes, guidelines, breakpoint rows (plain data).
//! - [`breakpoints`]: [`Interpreter`] (S, I, R, SDD, NI) over the breakpoint rows.
//! - [`isolate`]: isolate records and first-isolate selection (CLSI M39, episodes).
//! - [`mdro`]: Magiorakos MDR/XDR/PDR, KRINKO 3MRGN/4MRGN, MRSA, VRE, 3GC-R, carbapenem-R.
//! - [`antibiogram`]: the federated question ([`AntibiogramSpec`]) and a site's answer
//!   ([`AntibiogramCounts`]: integer counts only).
//! - [`pool`]: hub side: pooled counts (possibly noised or suppressed) → %R / %S with 95 %
//!   Wilson intervals, the ≥30-isolate rule, per country, DE vs JP, trends by year.
//! - [`whonet`]: WHONET-style CSV input and the long `organism, antimicrobial, mic|disk` CSV.

pub mod antibiogram;
pub mod breakpoints;
pub mod isolate;
pub mod mdro;
pub mod pool;
pub mod reference;
pub mod stats;
pub mod table;
pub mod value;
pub mod whonet;

pub use antibiogram::{AntibiogramCounts, AntibiogramSpec, CellCounts, MdroCounts, Period};
pub use breakpoints::{
    Body, Guideline, InfectionSite, Interpretation, Interpreter, Measurement, Method, Options,
    Resolution, Sir,
};
pub use isolate::{FirstIsolateRule, Isolate, Test};
pub use reference::{AbId, MoId, Reference};
pub use value::{Mic, Zone};

/// Errors of the AMR crate.
#[derive(Debug, thiserror::Error)]
pub enum AmrError {
    /// A shipped or supplied reference table is malformed.
    #[error("reference table: {0}")]
    Reference(String),
    /// A guideline name or version is unknown.
    #[error("guideline {0}")]
    Guideline(String),
    /// Bad input (value, code, specification field), with where.
    #[error("{0}")]
    Input(String),
}
