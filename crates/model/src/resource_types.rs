//! The resource types of FHIR R4 (4.0.1), by name and by index. The list is R4's and fixed, so an
//! index is stable: the site store keeps it in its key files instead of the name.

/// The index of a FHIR R4 resource type in [`R4_RESOURCE_TYPES`].
///
/// Called twice for every resource ingested, so it looks in a bucket by length and first letter
/// (one or two names each) instead of searching the whole list.
#[inline]
pub fn index(name: &str) -> Option<u16> {
    static BUCKETS: std::sync::LazyLock<Vec<Vec<u16>>> = std::sync::LazyLock::new(|| {
        let mut b = vec![Vec::new(); 64 * 26];
        for (i, n) in R4_RESOURCE_TYPES.iter().enumerate() {
            if let Some(k) = bucket(n) {
                b[k].push(i as u16);
            }
        }
        b
    });
    BUCKETS[bucket(name)?]
        .iter()
        .copied()
        .find(|&i| R4_RESOURCE_TYPES[i as usize] == name)
}

/// The bucket of a name: its length (under 64) and first letter (`A`–`Z`).
fn bucket(name: &str) -> Option<usize> {
    let first = name
        .as_bytes()
        .first()?
        .checked_sub(b'A')
        .filter(|f| *f < 26)?;
    (name.len() < 64).then(|| name.len() * 26 + first as usize)
}

/// The name of the resource type at `index`.
pub fn name(index: u16) -> Option<&'static str> {
    R4_RESOURCE_TYPES.get(index as usize).copied()
}

/// The resource types of FHIR R4 (4.0.1), sorted.
pub const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_found_at_its_place_and_nothing_else() {
        for (i, n) in R4_RESOURCE_TYPES.iter().enumerate() {
            assert_eq!(index(n), Some(i as u16), "{n}");
            assert_eq!(name(i as u16), Some(*n));
        }
        for bad in [
            "",
            "observation",
            "Observatio",
            "Observations",
            "ÄObservation",
            "Z",
            &"A".repeat(80),
        ] {
            assert_eq!(index(bad), None, "{bad}");
        }
    }
}
