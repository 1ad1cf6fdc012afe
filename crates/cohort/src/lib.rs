//! MII CCDL model, validation and compilation to a cohort plan over the site schema.
//!
//! [`Query::parse`] reads a query (CCDL v2 or the structured-query form) with errors that name
//! the offending element; [`plan::compile`] turns it into a [`plan::Plan`]: for every criterion
//! the view, the codes it expands to (ICD-10 children, ICD-10-GM ↔ Japanese ICD-10, LOINC ↔
//! JLAC10, ATC and OPS classes), and its value, time and attribute conditions, refusing what
//! cannot be evaluated. MII broad-consent combined codes expand to the provisions they stand
//! for ([`consent`]); medication criteria read the codes of the referenced `Medication`.
//! The engine crate evaluates plans over a site's store.

pub mod canonical;
pub mod ccdl;
pub mod codes;
pub mod consent;
pub mod plan;

pub use ccdl::{CcdlError, Criterion, Query};
pub use plan::{Plan, PlanError, compile};

/// The reference data a cohort count depends on, by file name with its text (compiled in):
/// the context mapping, the combined consent table and the terminology maps. For the repeat
/// key's reference versions.
pub fn reference_data() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("mapping.toml", plan::MAPPING_TOML),
        ("consent_combined.toml", consent::CONSENT_TOML),
    ];
    v.extend(kakehashi_terminology::shipped_tables());
    v
}
