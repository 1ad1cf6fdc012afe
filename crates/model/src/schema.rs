//! The site table schema: the standard views every site holds, one table per view.
//!
//! The views are shipped as SQL-on-FHIR v2 ViewDefinition files (in the `fhir` crate); this module
//! is their typed mirror, so that domain crates and the engine can name tables and columns without
//! knowing FHIR, and a test can hold the files to it. Conventions:
//!
//! - every table has `id`, the key of the resource a row came from (`getResourceKey()`), and all
//!   views of one resource type share that key space (a re-loaded resource replaces its rows in
//!   each of them);
//! - `patient_id` is `getReferenceKey(Patient)` of the resource's subject/patient;
//! - codings are kept whole: a view that flattens a `CodeableConcept` yields one row per coding,
//!   with `*_system`, `*_code` and `*_display` columns, so that German (ICD-10-GM, LOINC) and
//!   Japanese (ICD-10, JLAC10) codings both survive;
//! - [`ColumnType::DateTime`] columns hold FHIR `dateTime`/`instant` values as UTC instants;
//!   a partial date (`2024`, `2024-03`) becomes the start of its period.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The type of a column in a site table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ColumnType {
    /// UTF-8 text (FHIR string, code, uri, id, ...).
    String,
    /// A list of UTF-8 texts (a column with `collection: true`).
    StringList,
    /// true / false.
    Boolean,
    /// 64-bit integer.
    Integer,
    /// FHIR decimal, held as 64-bit float.
    Decimal,
    /// Calendar date without time (days since 1970-01-01).
    Date,
    /// Instant in UTC, microsecond precision.
    DateTime,
}

impl ColumnType {
    /// The FHIR type name a ViewDefinition column of this type declares.
    pub fn fhir_type(self) -> &'static str {
        match self {
            ColumnType::String | ColumnType::StringList => "string",
            ColumnType::Boolean => "boolean",
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Date => "date",
            ColumnType::DateTime => "dateTime",
        }
    }
}

/// One column of a site table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name, snake_case.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// What it holds.
    pub doc: &'static str,
}

const fn c(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column { name, ty, doc }
}

use ColumnType::{
    Boolean as B, Date as D, DateTime as T, Decimal as F, String as S, StringList as L,
};

/// A standard view: one table in every site's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Patients: demographics.
    Patient,
    /// Encounters: inpatient, outpatient, ICU stays.
    Encounter,
    /// Diagnoses.
    Condition,
    /// All observations (labs, vital signs, ...), one row per coding of `Observation.code`.
    Observation,
    /// Observation components (e.g. systolic and diastolic blood pressure).
    ObservationComponent,
    /// Specimens, including biobank aliquots (a row per type coding and processing step).
    Specimen,
    /// Medication resources (the drug a request/administration/statement references).
    Medication,
    /// Medication requests (prescriptions).
    MedicationRequest,
    /// Medication administrations.
    MedicationAdministration,
    /// Medication statements.
    MedicationStatement,
    /// Procedures.
    Procedure,
    /// Microbiology: organism identified in a specimen (an isolate).
    MicrobiologyIsolate,
    /// Microbiology: one susceptibility result of an isolate to an antimicrobial.
    MicrobiologySusceptibility,
    /// Consents (e.g. MII broad consent), one row per provision.
    Consent,
}

impl View {
    /// Every standard view, in a stable order.
    pub const ALL: [View; 14] = [
        View::Patient,
        View::Encounter,
        View::Condition,
        View::Observation,
        View::ObservationComponent,
        View::Specimen,
        View::Medication,
        View::MedicationRequest,
        View::MedicationAdministration,
        View::MedicationStatement,
        View::Procedure,
        View::MicrobiologyIsolate,
        View::MicrobiologySusceptibility,
        View::Consent,
    ];

    /// The table name (also the ViewDefinition's `name` and its file stem).
    pub fn name(self) -> &'static str {
        match self {
            View::Patient => "patient",
            View::Encounter => "encounter",
            View::Condition => "condition",
            View::Observation => "observation",
            View::ObservationComponent => "observation_component",
            View::Specimen => "specimen",
            View::Medication => "medication",
            View::MedicationRequest => "medication_request",
            View::MedicationAdministration => "medication_administration",
            View::MedicationStatement => "medication_statement",
            View::Procedure => "procedure",
            View::MicrobiologyIsolate => "microbiology_isolate",
            View::MicrobiologySusceptibility => "microbiology_susceptibility",
            View::Consent => "consent",
        }
    }

    /// Looks a view up by table name.
    pub fn from_name(name: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The FHIR resource type the view reads.
    pub fn resource(self) -> &'static str {
        match self {
            View::Patient => "Patient",
            View::Encounter => "Encounter",
            View::Condition => "Condition",
            View::Observation
            | View::ObservationComponent
            | View::MicrobiologyIsolate
            | View::MicrobiologySusceptibility => "Observation",
            View::Specimen => "Specimen",
            View::Medication => "Medication",
            View::MedicationRequest => "MedicationRequest",
            View::MedicationAdministration => "MedicationAdministration",
            View::MedicationStatement => "MedicationStatement",
            View::Procedure => "Procedure",
            View::Consent => "Consent",
        }
    }

    /// The view's columns, in table order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            View::Patient => PATIENT,
            View::Encounter => ENCOUNTER,
            View::Condition => CONDITION,
            View::Observation => OBSERVATION,
            View::ObservationComponent => OBSERVATION_COMPONENT,
            View::Specimen => SPECIMEN,
            View::Medication => MEDICATION,
            View::MedicationRequest => MEDICATION_REQUEST,
            View::MedicationAdministration => MEDICATION_ADMINISTRATION,
            View::MedicationStatement => MEDICATION_STATEMENT,
            View::Procedure => PROCEDURE,
            View::MicrobiologyIsolate => MICROBIOLOGY_ISOLATE,
            View::MicrobiologySusceptibility => MICROBIOLOGY_SUSCEPTIBILITY,
            View::Consent => CONSENT,
        }
    }

    /// The column of that name, if the view has one.
    pub fn column(self, name: &str) -> Option<&'static Column> {
        self.columns().iter().find(|c| c.name == name)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const ID: Column = c(
    "id",
    S,
    "key of the resource the row came from (getResourceKey())",
);
const PATIENT_ID: Column = c(
    "patient_id",
    S,
    "key of the patient (getReferenceKey(Patient))",
);
const ENCOUNTER_ID: Column = c("encounter_id", S, "key of the encounter, if referenced");

static PATIENT: &[Column] = &[
    ID,
    c(
        "gender",
        S,
        "administrative gender: male, female, other, unknown",
    ),
    c("birth_date", D, "date of birth"),
    c(
        "deceased",
        B,
        "deceasedBoolean, or true when deceasedDateTime is present",
    ),
    c("deceased_date_time", T, "deceasedDateTime"),
    c("address_country", S, "country of the first address"),
    c(
        "address_state",
        S,
        "state / prefecture (Bundesland, 都道府県) of the first address",
    ),
    c("address_postal_code", S, "postal code of the first address"),
    c(
        "managing_organization",
        S,
        "key of the managing organization",
    ),
];

static ENCOUNTER: &[Column] = &[
    ID,
    PATIENT_ID,
    c("status", S, "planned, in-progress, finished, ..."),
    c(
        "class_code",
        S,
        "v3 ActCode class: IMP (inpatient), AMB, EMER, ...",
    ),
    c(
        "type_codes",
        L,
        "every code of Encounter.type (e.g. kontaktart-de intensivstationaer)",
    ),
    c(
        "service_type_code",
        S,
        "first code of serviceType (e.g. Fachabteilungsschluessel)",
    ),
    c("period_start", T, "period.start"),
    c("period_end", T, "period.end"),
    c("admit_source_code", S, "hospitalization.admitSource code"),
    c(
        "discharge_disposition_code",
        S,
        "hospitalization.dischargeDisposition code",
    ),
    c("part_of_id", S, "key of the encounter this one is part of"),
    c(
        "service_provider_id",
        S,
        "key of the service provider organization",
    ),
];

static CONDITION: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("code_system", S, "system of one coding of Condition.code"),
    c("code", S, "code of that coding"),
    c("display", S, "display of that coding"),
    c("clinical_status", S, "clinicalStatus code"),
    c("verification_status", S, "verificationStatus code"),
    c("onset_date_time", T, "onsetDateTime, or onsetPeriod.start"),
    c(
        "abatement_date_time",
        T,
        "abatementDateTime, or abatementPeriod.end",
    ),
    c("recorded_date", T, "recordedDate"),
];

static OBSERVATION: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("specimen_id", S, "key of the specimen, if referenced"),
    c("status", S, "registered, preliminary, final, amended, ..."),
    c("category_codes", L, "every code of Observation.category"),
    c("code_system", S, "system of one coding of Observation.code"),
    c("code", S, "code of that coding (LOINC, JLAC10, ...)"),
    c("display", S, "display of that coding"),
    c(
        "effective_date_time",
        T,
        "effectiveDateTime, effectivePeriod.start or effectiveInstant",
    ),
    c("issued", T, "issued"),
    c("value_quantity", F, "valueQuantity.value"),
    c(
        "value_comparator",
        S,
        "valueQuantity.comparator (<, <=, >=, >)",
    ),
    c("value_unit", S, "valueQuantity.unit (human-readable)"),
    c(
        "value_ucum",
        S,
        "valueQuantity.code when valueQuantity.system is UCUM",
    ),
    c(
        "value_code_system",
        S,
        "system of the first coding of valueCodeableConcept",
    ),
    c(
        "value_code",
        S,
        "code of the first coding of valueCodeableConcept",
    ),
    c("value_string", S, "valueString"),
    c("value_boolean", B, "valueBoolean"),
    c("interpretation_code", S, "first code of interpretation"),
];

static OBSERVATION_COMPONENT: &[Column] = &[
    ID,
    PATIENT_ID,
    c("effective_date_time", T, "the observation's effective time"),
    c(
        "observation_code",
        S,
        "first code of the observation's code",
    ),
    c("code_system", S, "system of one coding of component.code"),
    c("code", S, "code of that coding"),
    c("value_quantity", F, "component valueQuantity.value"),
    c("value_comparator", S, "component valueQuantity.comparator"),
    c("value_unit", S, "component valueQuantity.unit"),
    c("value_ucum", S, "component valueQuantity.code when UCUM"),
    c(
        "value_code_system",
        S,
        "system of the first coding of component valueCodeableConcept",
    ),
    c(
        "value_code",
        S,
        "code of the first coding of component valueCodeableConcept",
    ),
    c("value_string", S, "component valueString"),
];

static SPECIMEN: &[Column] = &[
    ID,
    PATIENT_ID,
    c(
        "status",
        S,
        "available, unavailable, unsatisfactory, entered-in-error",
    ),
    c("type_system", S, "system of one coding of Specimen.type"),
    c(
        "type_code",
        S,
        "code of that coding (e.g. SNOMED 119364003 serum)",
    ),
    c("type_display", S, "display of that coding"),
    c(
        "collected_date_time",
        T,
        "collection.collectedDateTime or collectedPeriod.start",
    ),
    c("body_site_code", S, "first code of collection.bodySite"),
    c(
        "parent_id",
        S,
        "key of the first parent specimen (aliquots point to their parent)",
    ),
    c("quantity_value", F, "collection.quantity.value"),
    c("quantity_unit", S, "collection.quantity.unit"),
    c(
        "diagnosis_condition_id",
        S,
        "key of the Condition the MII biobank extension Diagnose links",
    ),
    c(
        "container_type_code",
        S,
        "first code of container.type (SNOMED CT)",
    ),
    c(
        "container_quantity_value",
        F,
        "container.specimenQuantity.value of the first container",
    ),
    c("container_quantity_unit", S, "its unit"),
    c(
        "aliquot_count",
        F,
        "aliquots in an aliquot group (MII extension AnzahlAliqouts)",
    ),
    c(
        "managing_organization_id",
        S,
        "key of the Organization (biobank or collection) the MII extension VerwaltendeOrganisation names",
    ),
    c(
        "storage_temperature_low",
        F,
        "°C, lower bound of one processing step's MII Temperaturbedingungen (a row per step)",
    ),
    c(
        "storage_temperature_high",
        F,
        "°C, upper bound of the same range",
    ),
    c(
        "processing_start",
        T,
        "start of that step (processing.timePeriod.start); the latest step is the current storage",
    ),
];

static MEDICATION: &[Column] = &[
    ID,
    c("code_system", S, "system of one coding of Medication.code"),
    c("code", S, "code of that coding (ATC, PZN, YJ code, ...)"),
    c("display", S, "display of that coding"),
];

const MED_ID: Column = c(
    "medication_id",
    S,
    "key of the referenced Medication, if any",
);
const MED_SYSTEM: Column = c(
    "medication_system",
    S,
    "system of one coding of medicationCodeableConcept",
);
const MED_CODE: Column = c("medication_code", S, "code of that coding (ATC, ...)");
const MED_DISPLAY: Column = c("medication_display", S, "display of that coding");

static MEDICATION_REQUEST: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("status", S, "active, completed, ..."),
    c("intent", S, "order, plan, ..."),
    MED_ID,
    MED_SYSTEM,
    MED_CODE,
    MED_DISPLAY,
    c("authored_on", T, "authoredOn"),
];

static MEDICATION_ADMINISTRATION: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("status", S, "in-progress, completed, ..."),
    MED_ID,
    MED_SYSTEM,
    MED_CODE,
    MED_DISPLAY,
    c(
        "effective_start",
        T,
        "effectiveDateTime or effectivePeriod.start",
    ),
    c("effective_end", T, "effectivePeriod.end"),
];

static MEDICATION_STATEMENT: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("status", S, "active, completed, ..."),
    MED_ID,
    MED_SYSTEM,
    MED_CODE,
    MED_DISPLAY,
    c(
        "effective_start",
        T,
        "effectiveDateTime or effectivePeriod.start",
    ),
    c("effective_end", T, "effectivePeriod.end"),
    c("date_asserted", T, "dateAsserted"),
];

static PROCEDURE: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c("status", S, "preparation, in-progress, completed, ..."),
    c("code_system", S, "system of one coding of Procedure.code"),
    c("code", S, "code of that coding (OPS, SNOMED, ...)"),
    c("display", S, "display of that coding"),
    c(
        "performed_start",
        T,
        "performedDateTime or performedPeriod.start",
    ),
    c("performed_end", T, "performedPeriod.end"),
    c(
        "category_system",
        S,
        "system of the first coding of Procedure.category",
    ),
    c(
        "category_code",
        S,
        "code of that coding (e.g. SNOMED 387713003 surgical procedure)",
    ),
];

static MICROBIOLOGY_ISOLATE: &[Column] = &[
    ID,
    PATIENT_ID,
    ENCOUNTER_ID,
    c(
        "specimen_id",
        S,
        "key of the specimen the organism was found in",
    ),
    c(
        "effective_date_time",
        T,
        "when the specimen was taken (effective[x])",
    ),
    c(
        "test_code",
        S,
        "first LOINC code of Observation.code (e.g. 600-7 blood culture)",
    ),
    c(
        "organism_system",
        S,
        "system of one coding of valueCodeableConcept (SNOMED CT, ...)",
    ),
    c("organism_code", S, "code of that coding"),
    c("organism_display", S, "display of that coding"),
];

static MICROBIOLOGY_SUSCEPTIBILITY: &[Column] = &[
    ID,
    PATIENT_ID,
    c(
        "isolate_id",
        S,
        "key of the isolate observation (derivedFrom)",
    ),
    c("specimen_id", S, "key of the specimen"),
    c("effective_date_time", T, "effective[x]"),
    c("code_system", S, "system of one coding of Observation.code"),
    c(
        "code",
        S,
        "code of that coding (LOINC susceptibility code, local code, ...)",
    ),
    c("display", S, "display of that coding"),
    c("value_quantity", F, "MIC in mg/L or zone diameter in mm"),
    c(
        "value_comparator",
        S,
        "<, <=, >=, > of an MIC outside the tested range",
    ),
    c("value_unit", S, "valueQuantity.unit"),
    c("value_ucum", S, "valueQuantity.code (mg/L, mm)"),
    c(
        "interpretation_code",
        S,
        "the lab's own S, I, R, SDD, NI (first interpretation code)",
    ),
    c(
        "method_code",
        S,
        "first code of method (MIC, disk diffusion, gradient strip)",
    ),
    c(
        "guideline",
        S,
        "the breakpoint guideline the lab used, e.g. \"EUCAST 2024\" (extension)",
    ),
];

static CONSENT: &[Column] = &[
    ID,
    PATIENT_ID,
    c(
        "status",
        S,
        "draft, proposed, active, rejected, inactive, entered-in-error",
    ),
    c("date_time", T, "Consent.dateTime"),
    c("policy_uri", S, "first policy.uri"),
    c(
        "provision_type",
        S,
        "permit or deny, of one nested provision",
    ),
    c(
        "provision_code_system",
        S,
        "system of one code of that provision",
    ),
    c(
        "provision_code",
        S,
        "code of that provision (e.g. an MII broad consent module)",
    ),
    c("provision_start", T, "provision.period.start"),
    c("provision_end", T, "provision.period.end"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_round_trip_and_columns_are_unique() {
        for v in View::ALL {
            assert_eq!(View::from_name(v.name()), Some(v));
            let mut seen = HashSet::new();
            for col in v.columns() {
                assert!(seen.insert(col.name), "{v}: duplicate column {}", col.name);
            }
            assert_eq!(v.columns()[0].name, "id", "{v}: first column must be id");
            if v != View::Patient && v != View::Medication {
                assert!(v.column("patient_id").is_some(), "{v} lacks patient_id");
            }
        }
        assert_eq!(View::from_name("nope"), None);
    }

    #[test]
    fn serde_name_matches_table_name() {
        for v in View::ALL {
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                format!("\"{}\"", v.name())
            );
        }
    }
}
