//! Codings and the canonical URIs of the code systems kakehashi meets.

use serde::{Deserialize, Serialize};

/// A code from a code system, as FHIR's `Coding` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Coding {
    /// Canonical URI of the code system, e.g. [`systems::LOINC`].
    pub system: String,
    /// The code within the system.
    pub code: String,
    /// Human-readable text, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding without display text.
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            code: code.into(),
            display: None,
        }
    }
}

/// Canonical code system URIs. Each constant is the URI FHIR data carries in `Coding.system`.
pub mod systems {
    /// ICD-10-GM, the German modification (BfArM), as the MII core data set codes diagnoses.
    pub const ICD10_GM: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
    /// WHO ICD-10 as used in Japan (JP Core).
    pub const ICD10_JP: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10";
    /// WHO ICD-10 (international edition).
    pub const ICD10_WHO: &str = "http://hl7.org/fhir/sid/icd-10";
    /// LOINC.
    pub const LOINC: &str = "http://loinc.org";
    /// JLAC10, the Japanese clinical laboratory code (JP Core).
    pub const JLAC10: &str = "urn:oid:1.2.392.200119.4.504";
    /// SNOMED CT.
    pub const SNOMED: &str = "http://snomed.info/sct";
    /// WHO ATC classification as used in FHIR.
    pub const ATC: &str = "http://www.whocc.no/atc";
    /// UCUM units.
    pub const UCUM: &str = "http://unitsofmeasure.org";
    /// HL7 v3 ObservationInterpretation (S, I, R, SDD, ...).
    pub const OBSERVATION_INTERPRETATION: &str =
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    /// HL7 observation category (laboratory, vital-signs, ...).
    pub const OBSERVATION_CATEGORY: &str =
        "http://terminology.hl7.org/CodeSystem/observation-category";
    /// HL7 v3 ActCode (encounter class: IMP, AMB, EMER, ...).
    pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// German encounter kind (Kontaktart: normalstationaer, intensivstationaer, ...).
    pub const KONTAKTART_DE: &str = "http://fhir.de/CodeSystem/kontaktart-de";
}
