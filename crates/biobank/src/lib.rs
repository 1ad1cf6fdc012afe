//! Repository research without I/O: what a biobank catalogue says, what a researcher asks of a
//! site's specimens, and how an access request moves from submission to samples made
//! available. The hub stores these values and routes to them; the site's engine computes the
//! locator's counts; the UI renders them.
//!
//! - [`vocab`]: the MIABIS Core 3 value sets (material types, storage temperatures, …) and the
//!   material type of a FHIR `Specimen.type` coding.
//! - [`icd10`]: ICD-10 codes, categories and blocks as a catalogue names diseases.
//! - [`catalogue`]: biobanks and collections (MIABIS Core 3), read from a site's TOML or JSON
//!   file and checked; every problem names the entry, its line, the field and the attribute.
//! - [`export`]: the catalogue as MIABIS JSON.
//! - [`criteria`]: the locator's specimen criteria.
//! - [`request`]: access requests, their two state machines and who may fire what.
//! - [`network`]: every site's catalogue at the hub: search, the merged export, id clashes.

pub mod catalogue;
pub mod criteria;
pub mod export;
pub mod icd10;
pub mod network;
pub mod request;
pub mod vocab;

pub use catalogue::{Catalogue, CatalogueError, parse_catalogue};
pub use criteria::SpecimenCriteria;
pub use request::{AccessRequest, Actor, RequestError};
