//! Antimicrobial resistance: organisms, antimicrobials, breakpoints, S/I/R, first isolates,
//! cumulative antibiograms, MDRO classes, and the pooling of antibiogram counts across sites.
//!
//! Domain code (no Arrow, no network). The reference tables are GPL-2 data derived from the AMR
//! R package, so they are not compiled in: [`data`] finds the data folder (`data/amr/` of the
//! source tree, provenance and licence beside them) and [`Reference::shared`] reads it once per
//! process; that is the crate's only file I/O.
//!
//! - [`data`]: where the tables are (flag, `KAKEHASHI_DATA_DIR`, beside the executable, source
//!   tree), [`ReferenceError`] naming file and line.
//! - [`value`]: MIC and zone parsing, the doubling-dilution scale.
//! - [`table`]: organism and antimicrobial indexes, guidelines, breakpoint rows (plain data).
//! - [`breakpoints`]: [`Interpreter`] (S, I, R, SDD, NI) over the breakpoint rows.
//! - [`isolate`]: isolate records and first-isolate selection (CLSI M39, episodes).
//! - [`mdro`]: Magiorakos MDR/XDR/PDR, KRINKO 3MRGN/4MRGN, MRSA, VRE, 3GC-R, carbapenem-R.
//! - [`per_patient`]: privacy per person: at most `k` first isolates per patient, the table's
//!   per-patient sensitivity.
//! - [`antibiogram`]: the federated question ([`AntibiogramSpec`]) and a site's answer
//!   ([`AntibiogramCounts`]: integer counts only).
//! - [`pool`]: hub side: pooled counts (possibly noised or suppressed) → %R / %S with 95 %
//!   Wilson intervals, the ≥30-isolate rule, per country, DE vs JP, trends by year.
//! - [`whonet`]: WHONET-style CSV input and the long `organism, antimicrobial, mic|disk` CSV.

pub mod antibiogram;
pub mod breakpoints;
pub mod data;
pub mod isolate;
pub mod mdro;
pub mod per_patient;
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
pub use data::ReferenceError;
pub use isolate::{FirstIsolateRule, Isolate, Test};
pub use reference::{AbId, MoId, Reference};
pub use value::{Mic, Zone};

/// Errors of the AMR crate.
#[derive(Debug, thiserror::Error)]
pub enum AmrError {
    /// The reference tables could not be loaded, or do not fit each other.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A guideline name or version is unknown.
    #[error("guideline {0}")]
    Guideline(String),
    /// Bad input (value, code, specification field), with where.
    #[error("{0}")]
    Input(String),
}
