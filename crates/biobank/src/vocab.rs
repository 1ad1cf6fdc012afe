//! The MIABIS Core 3 value sets (BBMRI-ERIC/miabis, `Core/V3`; material types and storage
//! temperatures also as BBMRI-cz/miabis-on-fhir codes them). Each value has a code (what a
//! catalogue file writes, stable) and the MIABIS label (what the export writes).

use serde::{Deserialize, Serialize};

/// A closed MIABIS value set.
pub trait ValueSet: Sized + Copy + PartialEq + 'static {
    /// The set's name as MIABIS writes it (for messages).
    const NAME: &'static str;
    /// Every value, in MIABIS order.
    const ALL: &'static [Self];
    /// The code a catalogue file writes.
    fn code(self) -> &'static str;
    /// The MIABIS label.
    fn label(self) -> &'static str;
    /// The value of a code or a MIABIS label (labels compared without case).
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.code() == t || v.label().eq_ignore_ascii_case(t))
    }
    /// The codes, comma-separated, for "allowed: …" messages.
    fn codes() -> String {
        Self::ALL
            .iter()
            .map(|v| v.code())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! value_set {
    ($(#[$m:meta])* $name:ident, $set:literal, { $($(#[$vm:meta])* $v:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $code)] $v,)+
        }
        impl ValueSet for $name {
            const NAME: &'static str = $set;
            const ALL: &'static [Self] = &[$($name::$v,)+];
            fn code(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }
            fn label(self) -> &'static str {
                match self { $($name::$v => $label,)+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

value_set!(
    /// MIABIS-COLLECTION-14, sample (material) type.
    MaterialType, "material type", {
        /// Whole blood, not separated.
        Blood = "Blood", "Blood";
        /// Buffy coat.
        BuffyCoat = "BuffyCoat", "Buffy coat";
        /// Cancer cell lines.
        CancerCellLines = "CancerCellLines", "Cancer cell lines";
        /// Digital sample.
        DigitalSample = "DigitalSample", "Digital sample";
        /// DNA.
        Dna = "DNA", "DNA";
        /// Entire body organ.
        EntireBodyOrgan = "EntireBodyOrgan", "Entire body organ";
        /// Faeces.
        Faeces = "Faeces", "Faeces";
        /// Embryo or fetal tissue.
        EmbryoFetalTissue = "EmbryoFetalTissue", "Embryo or fetal tissue";
        /// Immortalized cell lines.
        ImmortalizedCellLines = "ImmortalizedCellLines", "Immortalized cell lines";
        /// Isolated microbes (bacterial isolates, virus isolates).
        IsolatedMicrobes = "IsolatedMicrobes", "Isolated microbes";
        /// Other body fluid.
        OtherBodyFluid = "OtherBodyFluid", "Other body fluid";
        /// Plasma.
        Plasma = "Plasma", "Plasma";
        /// Primary cells (PBMC among them).
        PrimaryCells = "PrimaryCells", "Primary cells";
        /// Post-mortem tissue.
        PostMortemTissue = "PostMortemTissue", "Post-mortem tissue";
        /// RNA.
        Rna = "RNA", "RNA";
        /// Saliva.
        Saliva = "Saliva", "Saliva";
        /// Serum.
        Serum = "Serum", "Serum";
        /// Specimen from environment or food.
        EnvironmentOrFood = "EnvironmentOrFood", "Specimen from environment or food";
        /// Swab.
        Swab = "Swab", "Swab";
        /// Tissue, frozen.
        TissueFrozen = "TissueFrozen", "Tissue (Frozen)";
        /// Tissue, formalin-fixed paraffin-embedded.
        TissueFfpe = "TissueFFPE", "Tissue (FFPE)";
        /// Urine.
        Urine = "Urine", "Urine";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-15, long-term storage temperature (after SPREC v3).
    StorageTemperature, "storage temperature", {
        /// Room temperature.
        RoomTemperature = "RT", "RT (Room temperature)";
        /// 2 °C to 10 °C.
        Fridge = "2to10", "2 °C to 10 °C";
        /// −18 °C to −35 °C.
        Freezer = "-18to-35", "-18 °C to -35 °C";
        /// −60 °C to −85 °C.
        DeepFreezer = "-60to-85", "-60 °C to -85 °C";
        /// Below −135 °C.
        Below135 = "below-135", "<-135 °C";
        /// Liquid nitrogen, vapour phase.
        NitrogenVapour = "LNvapor", "Liquid nitrogen vapor-phase";
        /// Liquid nitrogen, liquid phase.
        NitrogenLiquid = "LNliquid", "Liquid nitrogen liquid-phase";
        /// Other.
        Other = "Other", "Other";
    }
);

impl StorageTemperature {
    /// The MIABIS range a measured temperature (°C) falls in; `None` between ranges.
    pub fn of_celsius(c: f64) -> Option<Self> {
        Some(match c {
            c if (15.0..=30.0).contains(&c) => Self::RoomTemperature,
            c if (2.0..=10.0).contains(&c) => Self::Fridge,
            c if (-35.0..=-18.0).contains(&c) => Self::Freezer,
            c if (-85.0..=-60.0).contains(&c) => Self::DeepFreezer,
            c if (-196.0..-135.0).contains(&c) => Self::Below135,
            _ => return None,
        })
    }
}

value_set!(
    /// MIABIS-COLLECTION-08, sex of the donors.
    Sex, "sex", {
        /// Male.
        Male = "Male", "Male";
        /// Female.
        Female = "Female", "Female";
        /// Unknown.
        Unknown = "Unknown", "Unknown";
        /// Undifferentiated.
        Undifferentiated = "Undifferentiated", "Undifferentiated";
        /// Not applicable.
        NotApplicable = "NotApplicable", "Not applicable";
    }
);

value_set!(
    /// MIABIS-COLLECTION-11/12, the unit of the age range.
    AgeUnit, "age unit", {
        /// Years.
        Years = "Years", "Years";
        /// Months.
        Months = "Months", "Months";
        /// Weeks.
        Weeks = "Weeks", "Weeks";
        /// Days.
        Days = "Days", "Days";
        /// Gestational weeks.
        GestationalWeeks = "GestationalWeeks", "Gestational weeks";
    }
);

value_set!(
    /// MIABIS-COLLECTION-07, where the samples come from.
    SampleSource, "sample source", {
        /// Human.
        Human = "Human", "Human";
        /// Animal.
        Animal = "Animal", "Animal";
        /// Environment.
        Environment = "Environment", "Environment";
    }
);

value_set!(
    /// MIABIS-COLLECTION-13, dataset types.
    DatasetType, "dataset type", {
        /// Lifestyle dataset.
        Lifestyle = "Lifestyle", "Lifestyle dataset";
        /// Environmental dataset.
        Environmental = "Environmental", "Environmental dataset";
        /// Physiological dataset.
        Physiological = "Physiological", "Physiological dataset";
        /// Biochemical dataset.
        Biochemical = "Biochemical", "Biochemical dataset";
        /// Clinical dataset.
        Clinical = "Clinical", "Clinical dataset";
        /// Psychological dataset.
        Psychological = "Psychological", "Psychological dataset";
        /// Genomic dataset.
        Genomic = "Genomic", "Genomic dataset";
        /// Proteomic dataset.
        Proteomic = "Proteomic", "Proteomic dataset";
        /// Metabolomic dataset.
        Metabolomic = "Metabolomic", "Metabolomic dataset";
        /// Body (radiological) image.
        BodyImage = "BodyImage", "Body (Radiological) image";
        /// Whole slide image.
        WholeSlideImage = "WholeSlideImage", "Whole slide image";
        /// Photo image.
        PhotoImage = "PhotoImage", "Photo image";
        /// Genealogical records.
        Genealogical = "Genealogical", "Genealogical records";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-17, the setting the samples were collected in.
    CollectionSetting, "sample collection setting", {
        /// Routine health care.
        RoutineHealthCare = "RoutineHealthCare", "Routine health care setting";
        /// Clinical trial.
        ClinicalTrial = "ClinicalTrial", "Clinical trial";
        /// Research study.
        ResearchStudy = "ResearchStudy", "Research study";
        /// Public health or population based study.
        PublicHealth = "PublicHealth", "Public health/population based study";
        /// Museum or archaeological collection.
        Museum = "Museum", "Museum and/or archeological collection";
        /// Environment.
        Environment = "Environment", "Environment";
        /// Unknown.
        Unknown = "Unknown", "Unknown";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-18, the collection's design (its type).
    CollectionDesign, "collection design", {
        /// Case-control.
        CaseControl = "CaseControl", "Case-control";
        /// Cross-sectional.
        CrossSectional = "CrossSectional", "Cross-sectional";
        /// Longitudinal cohort.
        LongitudinalCohort = "LongitudinalCohort", "Longitudinal cohort";
        /// Twin study.
        TwinStudy = "TwinStudy", "Twin-study";
        /// Quality control study.
        QualityControl = "QualityControl", "Quality control study";
        /// Population-based cohort.
        PopulationCohort = "PopulationCohort", "Population-based cohort";
        /// Disease-specific cohort.
        DiseaseCohort = "DiseaseCohort", "Disease-specific cohort";
        /// Birth cohort.
        BirthCohort = "BirthCohort", "Birth cohort";
        /// Microbial collection (with resistance data if applicable).
        Microbial = "Microbial", "Microbial collection";
        /// Reference collection.
        Reference = "Reference", "Reference collection";
        /// Rare disease collection.
        RareDisease = "RareDisease", "Rare disease collection";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-19, use and access conditions.
    AccessCondition, "use and access condition", {
        /// Commercial use.
        CommercialUse = "CommercialUse", "Commercial use";
        /// Collaboration required.
        Collaboration = "Collaboration", "Collaboration";
        /// Specific research use only.
        SpecificResearchUse = "SpecificResearchUse", "Specific research use";
        /// Genetic data use.
        GeneticDataUse = "GeneticDataUse", "Genetic data use";
        /// Access from outside the EU.
        OutsideEuAccess = "OutsideEUAccess", "Outside EU access";
        /// Xenograft.
        Xenograft = "Xenograft", "Xenograft";
        /// Other animal work.
        OtherAnimalWork = "OtherAnimalWork", "Other animal work";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-20, the collection's status.
    CollectionStatus, "collection status", {
        /// Still collecting.
        Active = "Active", "Active";
        /// Ended.
        Ended = "Ended", "Ended";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-COLLECTION-22, inclusion criteria.
    InclusionCriterion, "inclusion criterion", {
        /// Health status.
        HealthStatus = "HealthStatus", "Health status";
        /// Hospital patient.
        HospitalPatient = "HospitalPatient", "Hospital patient";
        /// Use of medication.
        Medication = "Medication", "Use of medication";
        /// Gravidity.
        Gravidity = "Gravidity", "Gravidity";
        /// Age group.
        AgeGroup = "AgeGroup", "Age group";
        /// Familial status.
        Familial = "Familial", "Familial status";
        /// Sex.
        Sex = "Sex", "Sex";
        /// Country of residence.
        Country = "Country", "Country of residence";
        /// Ethnic origin.
        Ethnic = "Ethnic", "Ethnic origin";
        /// Population representative sampling.
        PopulationRepresentative = "PopulationRepresentative", "Population representative sampling";
        /// Lifestyle or exposure.
        Lifestyle = "Lifestyle", "Lifestyle/Exposure";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-BIOBANK-09, infrastructural capabilities.
    InfrastructuralCapability, "infrastructural capability", {
        /// Sample storage.
        SampleStorage = "SampleStorage", "Sample storage";
        /// Data storage.
        DataStorage = "DataStorage", "Data storage";
        /// Biosafety abilities.
        Biosafety = "Biosafety", "Biosafety abilities";
    }
);

value_set!(
    /// MIABIS-BIOBANK-10, organisational capabilities.
    OrganisationalCapability, "organisational capability", {
        /// Recontact with donors.
        RecontactDonors = "RecontactDonors", "Recontact with donors";
        /// Facilitating clinical trials.
        ClinicalTrials = "ClinicalTrials", "Facilitating clinical trials";
        /// Setting up prospective collections.
        ProspectiveCollections = "ProspectiveCollections", "Setting up prospective collections";
        /// Access to omics data.
        OmicsData = "OmicsData", "Access to omics data";
        /// Access to laboratory analysis data.
        LabData = "LabData", "Access to laboratory analysis data";
        /// Access to donors' clinical data.
        ClinicalData = "ClinicalData", "Access to donors' clinical data";
        /// Access to pathology archive.
        PathologyArchive = "PathologyArchive", "Access to pathology archive";
        /// Access to radiology archive.
        RadiologyArchive = "RadiologyArchive", "Access to radiology archive";
        /// Access to national medical registries.
        Registries = "Registries", "Access to national medical registries";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-BIOBANK-11, bioprocessing and analytical capabilities.
    BioprocessingCapability, "bioprocessing and analytical capability", {
        /// Biochemical analyses.
        Biochemical = "Biochemical", "Biochemical analyses";
        /// Genomics.
        Genomics = "Genomics", "Genomics";
        /// Nucleic acid extraction.
        NucleicAcidExtraction = "NucleicAcidExtraction", "Nucleic acid extraction";
        /// Proteomics.
        Proteomics = "Proteomics", "Proteomics";
        /// Metabolomics.
        Metabolomics = "Metabolomics", "Metabolomics";
        /// Histology.
        Histology = "Histology", "Histology";
        /// Cell-lines processing.
        CellLines = "CellLines", "Cell-lines processing";
        /// Virology.
        Virology = "Virology", "Virology";
        /// Sample processing.
        SampleProcessing = "SampleProcessing", "Sample processing";
        /// Sample shipping.
        SampleShipping = "SampleShipping", "Sample shipping";
        /// Sample quality control services.
        QualityControl = "QualityControl", "Sample quality control services";
        /// Other.
        Other = "Other", "Other";
    }
);

value_set!(
    /// MIABIS-BIOBANK-12, quality management standards.
    QualityStandard, "quality management standard", {
        /// ISO 20387.
        Iso20387 = "ISO20387", "ISO 20387";
        /// ISO 9001.
        Iso9001 = "ISO9001", "ISO 9001";
        /// Other.
        Other = "Other", "Other";
    }
);

/// The material type of a FHIR `Specimen.type` coding: MIABIS codes under
/// [`MIABIS_MATERIAL_SYSTEM`], the SNOMED CT specimen types the MII KDS Bioprobe uses.
pub fn material_of_coding(system: &str, code: &str) -> Option<MaterialType> {
    match system {
        MIABIS_MATERIAL_SYSTEM => MaterialType::parse(code),
        MIABIS_DETAILED_SYSTEM => DETAILED_MATERIAL
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| *m)
            .or_else(|| MaterialType::parse(code)),
        V2_0487 => V2_MATERIAL
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| *m),
        SNOMED => SNOMED_MATERIAL
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| *m),
        _ => None,
    }
}

/// The code system of MIABIS material types (miabis-on-fhir's).
pub const MIABIS_MATERIAL_SYSTEM: &str = "https://fhir.bbmri.de/CodeSystem/miabis-material-type";
/// The MIABIS detailed sample type system as the MII biobank module writes it (its spelling).
pub const MIABIS_DETAILED_SYSTEM: &str =
    "https://fhir.bbmri-eric.eu/fhir/CodeSystem/miabis-detailed-samply-type-cs";
/// MIABIS detailed sample types (miabis-on-fhir `DetailedSampleTypeCS`) whose code is not a
/// material type code → their material type; the others share the material type's code.
pub const DETAILED_MATERIAL: &[(&str, MaterialType)] = &[
    ("WholeBlood", MaterialType::Blood),
    ("CordBlood", MaterialType::Blood),
    ("WholeBloodDried", MaterialType::Blood),
    ("PBMC", MaterialType::PrimaryCells),
    ("Fibroblast", MaterialType::PrimaryCells),
    ("StemCells", MaterialType::PrimaryCells),
    ("IsolatedMicrobe", MaterialType::IsolatedMicrobes),
    ("TissueFixed", MaterialType::TissueFfpe),
    ("TissueFreshFrozen", MaterialType::TissueFrozen),
    ("CancerCellLine", MaterialType::CancerCellLines),
    ("ImmortalizedCellLine", MaterialType::ImmortalizedCellLines),
    ("EntireOrgan", MaterialType::EntireBodyOrgan),
    ("SpecimenEnvironment", MaterialType::EnvironmentOrFood),
    ("FoodSpecimen", MaterialType::EnvironmentOrFood),
    ("Embryo", MaterialType::EmbryoFetalTissue),
    ("FetalTissue", MaterialType::EmbryoFetalTissue),
    ("CerebrospinalFluid", MaterialType::OtherBodyFluid),
    ("PleuralFluid", MaterialType::OtherBodyFluid),
    ("AscitesFluid", MaterialType::OtherBodyFluid),
    ("AmnioticFluid", MaterialType::OtherBodyFluid),
    ("BronchLavage", MaterialType::OtherBodyFluid),
    ("SynovialFluid", MaterialType::OtherBodyFluid),
    ("Sputum", MaterialType::OtherBodyFluid),
];

/// HL7 v2 table 0487 (specimen type).
pub const V2_0487: &str = "http://terminology.hl7.org/CodeSystem/v2-0487";

/// HL7 v2-0487 specimen types → MIABIS material types.
pub const V2_MATERIAL: &[(&str, MaterialType)] = &[
    ("BLD", MaterialType::Blood),
    ("SER", MaterialType::Serum),
    ("PLAS", MaterialType::Plasma),
    ("SAL", MaterialType::Saliva),
    ("UR", MaterialType::Urine),
    ("STL", MaterialType::Faeces),
    ("ISLT", MaterialType::IsolatedMicrobes),
];

/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";

/// SNOMED CT specimen types (MII KDS Bioprobe) → MIABIS material types.
pub const SNOMED_MATERIAL: &[(&str, MaterialType)] = &[
    ("119297000", MaterialType::Blood),            // Blood specimen
    ("445295009", MaterialType::Blood),            // Blood specimen with edetic acid
    ("122555007", MaterialType::Blood),            // Venous blood specimen
    ("119364003", MaterialType::Serum),            // Serum specimen
    ("119361006", MaterialType::Plasma),           // Plasma specimen
    ("258566005", MaterialType::Dna),              // Deoxyribonucleic acid sample
    ("441673008", MaterialType::Rna),              // Ribonucleic acid specimen
    ("258500001", MaterialType::Swab),             // Nasopharyngeal swab
    ("258529004", MaterialType::Swab),             // Throat swab
    ("119303007", MaterialType::IsolatedMicrobes), // Microbial isolate specimen
    ("119339001", MaterialType::Faeces),           // Stool specimen
    ("119342007", MaterialType::Saliva),           // Saliva specimen
    ("122575003", MaterialType::Urine),            // Urine specimen
    ("258587000", MaterialType::BuffyCoat),        // Buffy coat
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_parse_back() {
        for m in MaterialType::ALL {
            assert_eq!(MaterialType::parse(m.code()), Some(*m));
            assert_eq!(MaterialType::parse(&m.label().to_uppercase()), Some(*m));
        }
        assert_eq!(
            MaterialType::ALL.len(),
            23,
            "MIABIS Core 3 lists 23 sample types"
        );
        assert_eq!(MaterialType::parse("Blut"), None);
    }

    #[test]
    fn serde_uses_the_code() {
        let j = serde_json::to_string(&StorageTemperature::DeepFreezer).unwrap();
        assert_eq!(j, "\"-60to-85\"");
        let back: StorageTemperature = serde_json::from_str(&j).unwrap();
        assert_eq!(back, StorageTemperature::DeepFreezer);
    }

    #[test]
    fn celsius_falls_in_its_range() {
        assert_eq!(
            StorageTemperature::of_celsius(-80.0),
            Some(StorageTemperature::DeepFreezer)
        );
        assert_eq!(
            StorageTemperature::of_celsius(-196.0),
            Some(StorageTemperature::Below135)
        );
        assert_eq!(StorageTemperature::of_celsius(-50.0), None);
    }

    #[test]
    fn snomed_specimen_types_map() {
        assert_eq!(
            material_of_coding(SNOMED, "119364003"),
            Some(MaterialType::Serum)
        );
        assert_eq!(
            material_of_coding(MIABIS_MATERIAL_SYSTEM, "PrimaryCells"),
            Some(MaterialType::PrimaryCells)
        );
        assert_eq!(material_of_coding("urn:x", "119364003"), None);
        assert_eq!(
            material_of_coding(MIABIS_DETAILED_SYSTEM, "PBMC"),
            Some(MaterialType::PrimaryCells)
        );
        assert_eq!(
            material_of_coding(MIABIS_DETAILED_SYSTEM, "Plasma"),
            Some(MaterialType::Plasma)
        );
        assert_eq!(
            material_of_coding(V2_0487, "BLD"),
            Some(MaterialType::Blood)
        );
    }
}
