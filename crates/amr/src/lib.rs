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
pub use isolate::{FirstIsolateRule, FirstIsolateRuleError, Isolate, Test};
pub use reference::{AbId, MoId, Reference};
pub use value::{Mic, ValueError, Zone};

/// Errors of the AMR crate.
#[derive(Debug, thiserror::Error)]
pub enum AmrError {
    /// The reference tables could not be loaded, or do not fit each other.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A guideline name or version is unknown.
    #[error("guideline {0}")]
    Guideline(#[from] GuidelineError),
    /// A field of an antibiogram specification cannot be used.
    #[error("{field}: {problem}")]
    Field {
        /// The field's path in the spec, e.g. `organisms[2]` or `max_isolates_per_patient`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The interpreter reads another guideline than the spec asks for.
    #[error("interpreter reads {interpreter} but the spec asks for {spec}")]
    GuidelineMismatch {
        /// The interpreter's guideline.
        interpreter: Guideline,
        /// The spec's guideline.
        spec: Guideline,
    },
    /// An infection site that is not unspecified, meningitis or uti.
    #[error("unknown infection site {text:?} (expected unspecified, meningitis or uti)")]
    InfectionSite {
        /// The text read.
        text: String,
    },
    /// Bad input read from a file (a WHONET export): where, and what.
    #[error("{file}{}{}: {problem}", line.map(|l| format!(" line {l}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Input {
        /// The file (or stream) read.
        file: String,
        /// The line (1-based; the header is line 1), when the problem is in a record.
        line: Option<usize>,
        /// The column's header, when the problem is in a cell.
        column: Option<String>,
        /// What is wrong.
        problem: String,
    },
}

impl AmrError {
    /// An [`AmrError::Input`] at a place in a file.
    pub(crate) fn input(
        source: &str,
        line: Option<usize>,
        column: Option<&str>,
        problem: impl Into<String>,
    ) -> Self {
        AmrError::Input {
            file: source.to_owned(),
            line,
            column: column.map(str::to_owned),
            problem: problem.into(),
        }
    }
}

impl From<per_patient::MaxIsolatesError> for AmrError {
    fn from(e: per_patient::MaxIsolatesError) -> Self {
        AmrError::Field {
            field: per_patient::FIELD.to_owned(),
            problem: e.problem(),
        }
    }
}

/// A guideline that is not `EUCAST YEAR` or `CLSI YEAR`, or whose breakpoints are not here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuidelineError {
    /// The body is neither EUCAST nor CLSI.
    #[error("{text:?}: expected \"EUCAST YEAR\" or \"CLSI YEAR\", e.g. \"EUCAST 2025\"")]
    Body {
        /// The text read.
        text: String,
    },
    /// No year, or more than a year, after the body.
    #[error("{text:?}: expected a year after {body}, e.g. \"{body} 2025\"")]
    Year {
        /// The text read.
        text: String,
        /// The body named.
        body: &'static str,
    },
    /// CLSI asked for where its tables are not installed.
    #[error(
        "{guideline}: the CLSI breakpoints are not installed here ({} is absent; CLSI's terms for redistributing them are not stated, see LICENSES.md)",
        path.display()
    )]
    ClsiAbsent {
        /// The guideline asked for.
        guideline: Guideline,
        /// The CLSI table looked for.
        path: std::path::PathBuf,
    },
    /// A version the tables do not have.
    #[error("no breakpoints for {guideline}; available: {}", list(available))]
    NotAvailable {
        /// The guideline asked for.
        guideline: Guideline,
        /// The guidelines the tables hold.
        available: Vec<Guideline>,
    },
}

fn list(gs: &[Guideline]) -> String {
    gs.iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
