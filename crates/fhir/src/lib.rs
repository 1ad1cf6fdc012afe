//! FHIR R4 input and the SQL-on-FHIR v2 flattening.
//!
//! - [`bundle`]: references between the entries of a Bundle (`fullUrl` → type and id);
//! - [`read`]: streaming NDJSON / gzip / Bundle / folder input in chunks with file and line;
//! - [`resource`]: one record to a checked resource, problems with file, line and element;
//! - [`json`]: one JSON record to a flat tape (strings borrowed from the record);
//! - [`tape`]: a parsed resource, read from its tape;
//! - [`fhirpath`]: the FHIRPath subset views use;
//! - [`sof`]: ViewDefinitions, their evaluation, Arrow batches;
//! - [`plan`]: views compiled for ingest (same results as [`sof`], typed, faster);
//! - [`ingest`]: what the site loader (`kakehashi-ingest`) uses, in one place;
//! - [`standard`]: the 14 standard views of the site store, shipped as JSON files;
//! - [`datetime`]: FHIR date and dateTime text to typed values.

pub mod bundle;
pub mod datetime;
pub mod fhirpath;
pub mod ingest;
pub mod json;
pub mod plan;
pub mod read;
pub mod resource;
mod reuse;
pub mod sof;
pub mod standard;
pub mod tape;
