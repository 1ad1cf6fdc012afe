//! The EDC's domain without I/O: what a multicenter study is (metadata, sites as data access
//! groups, arms, events, forms, roles), how it reads and writes as a REDCap data dictionary
//! and as CDISC ODM 1.3.2 metadata, REDCap's logic language, the registry form sets built from
//! ISARIC ARC, and the rules that hold while data are entered (value validation, missing-data
//! codes, form status, field history, locks, e-signatures, the data-query workflow) and data
//! quality (checks, consistency rules, the study dashboard).
//!
//! The hub stores these values and routes to them; nothing here reads a file or a clock.

pub mod api;
pub mod arc;
pub mod dictionary;
pub mod entry;
pub mod fhir_qr;
pub mod flat;
pub mod logic;
pub mod odm;
pub mod odm_clinical;
pub mod prefill;
pub mod quality;
pub mod report;
pub mod study;

pub use dictionary::{DictionaryErrors, Field, FieldType};
pub use study::{Study, StudyError, StudyStatus};
