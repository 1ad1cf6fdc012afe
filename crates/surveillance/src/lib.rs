//! ISO weeks, case definitions, weekly series and the Moving Epidemic Method.
//!
//! Pure domain code: values in, values out. The engine reads a site's tables into
//! [`series::SiteRows`]; this crate finds the cases of a [`definition::CaseDefinition`], counts
//! them by [`week::IsoWeek`] per stratum ([`series::weekly_series`]), and fits MEM thresholds to
//! past seasons ([`mem::mem_model`]) to judge the current one week by week.
//!
//! A released series counts patients per week, each patient in at most `k` weeks
//! ([`per_patient`]), so one patient changes it by a bounded amount.
//!
//! Entry points for a federated task (hub side): a site answers with a [`series::Series`]
//! (after its disclosure gate); the hub merges the sites of a country with
//! [`series::Series::merge`], turns a stratum into seasons with [`series::Series::mem_input`]
//! and fits [`mem::mem_model`]. Released counts (noisy, rounded or withheld) are pooled with their
//! bounds and turned into positivity shares and rates by [`pooled`].

pub mod definition;
pub mod mem;
pub mod per_patient;
pub mod pooled;
pub mod request;
pub mod series;
pub mod week;

pub use definition::CaseDefinition;
pub use mem::{MemInput, MemModel, MemParams, Thresholds};
pub use series::{AgeBands, PathogenPanel, Series, SeriesSpec, SiteRows, Stratum};
pub use week::{IsoWeek, ReportingConvention};
