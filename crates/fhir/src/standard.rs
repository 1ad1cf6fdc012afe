//! The standard views: SQL-on-FHIR v2 ViewDefinitions shipped in `views/`, one per table of the
//! site schema (`kakehashi_model::View`).
