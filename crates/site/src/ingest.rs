//! Ingest pipeline: FHIR files → standard views → an atomic load into the site store.
