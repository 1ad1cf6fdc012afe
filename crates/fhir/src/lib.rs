//! FHIR R4 reading (NDJSON, `.ndjson.gz`, Bundles, folders of these), a FHIRPath subset and a
//! SQL-on-FHIR v2 ViewDefinition evaluator producing Arrow record batches.

pub mod standard;
