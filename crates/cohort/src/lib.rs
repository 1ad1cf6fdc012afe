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

/// An evaluation date a site does not compute: later than tomorrow (UTC), where no patient's
/// age is known yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} is in the future (latest allowed: {latest}); ages are computed as of this day")]
pub struct FutureDate {
    /// The date asked for.
    pub date: chrono::NaiveDate,
    /// The latest date allowed (today + 1 day, for time zones ahead of UTC).
    pub latest: chrono::NaiveDate,
}

/// Checks a cohort task's evaluation date against `today` (UTC): at most one day ahead.
pub fn check_evaluation_date(
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<(), FutureDate> {
    let latest = today.succ_opt().unwrap_or(today);
    if date > latest {
        return Err(FutureDate { date, latest });
    }
    Ok(())
}
