//! The standard views: SQL-on-FHIR v2 ViewDefinitions shipped in `views/`, one per table of the
//! site schema ([`kakehashi_model::View`]).
//!
//! The files are the source of truth for *how* FHIR is flattened; `kakehashi_model::schema` is
//! the typed mirror of *what* comes out, and a test holds the two together (same columns, same
//! order, same types). They are embedded at compile time so an installed binary needs no files.

use kakehashi_model::View;

/// The ViewDefinition JSON text of a standard view.
pub fn json(view: View) -> &'static str {
    match view {
        View::Patient => include_str!("../views/patient.json"),
        View::Encounter => include_str!("../views/encounter.json"),
        View::Condition => include_str!("../views/condition.json"),
        View::Observation => include_str!("../views/observation.json"),
        View::ObservationComponent => include_str!("../views/observation_component.json"),
        View::Specimen => include_str!("../views/specimen.json"),
        View::Medication => include_str!("../views/medication.json"),
        View::MedicationRequest => include_str!("../views/medication_request.json"),
        View::MedicationAdministration => include_str!("../views/medication_administration.json"),
        View::MedicationStatement => include_str!("../views/medication_statement.json"),
        View::Procedure => include_str!("../views/procedure.json"),
        View::MicrobiologyIsolate => include_str!("../views/microbiology_isolate.json"),
        View::MicrobiologySusceptibility => {
            include_str!("../views/microbiology_susceptibility.json")
        }
        View::Consent => include_str!("../views/consent.json"),
    }
}

/// The standard views that read a resource type (e.g. four for `Observation`).
pub fn views_for(resource_type: &str) -> impl Iterator<Item = View> + '_ {
    View::ALL
        .into_iter()
        .filter(move |v| v.resource() == resource_type)
}

/// The standard views, parsed once (the files are embedded, so a broken one fails every test).
pub fn compiled() -> &'static [(View, crate::sof::ViewDefinition)] {
    static VIEWS: std::sync::OnceLock<Vec<(View, crate::sof::ViewDefinition)>> =
        std::sync::OnceLock::new();
    VIEWS.get_or_init(|| {
        View::ALL
            .into_iter()
            .map(|v| {
                let vd = crate::sof::ViewDefinition::parse(json(v))
                    .unwrap_or_else(|e| panic!("standard view {v}: {e}"));
                (v, vd)
            })
            .collect()
    })
}
