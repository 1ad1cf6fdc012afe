//! FHIR R4 reading (NDJSON, gzip, Bundles), a FHIRPath subset, SQL-on-FHIR v2 views into Arrow.
