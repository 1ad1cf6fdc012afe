//! Synthetic German and Japanese hospital sites as FHIR R4 NDJSON and WHONET-style CSV.
