//! The synthetic sites' biobanks: which specimens are banked, in which collection, how they
//! are stored and split into aliquots (as the MII module Biobank writes it: storage steps with
//! `Temperaturbedingungen`, aliquot groups with `AnzahlAliqouts`, the managing organisation
//! `VerwaltendeOrganisation` naming the collection), and the site's MIABIS catalogue.
//!
//! Nothing here draws from the patients' random streams: the number of aliquots follows from
//! the specimen's id, so banking specimens changes no other table of a site.

use crate::profile::Profile;
use crate::write::{self, Out};
use chrono::{Duration, NaiveDateTime};

/// The collections of a site, by purpose.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Collection {
    /// Sera and plasma of SARI admissions; PBMC and DNA of some.
    Sari,
    /// Acute and convalescent sera of VHF and SFTS patients.
    Vhf,
    /// Bacterial isolates of the microbiology laboratory.
    Isolates,
}

impl Collection {
    /// The collection's id at a site.
    pub(crate) fn id(self, p: &Profile) -> String {
        let s = match self {
            Collection::Sari => "sari",
            Collection::Vhf => "vhf",
            Collection::Isolates => "isolates",
        };
        format!("{}-{s}", p.site.code)
    }
}

/// A long-term storage range (°C).
pub(crate) const DEEP_FREEZER: (f64, f64) = (-85.0, -75.0);
/// Liquid nitrogen, vapour phase.
pub(crate) const NITROGEN: (f64, f64) = (-196.0, -150.0);

/// Aliquots of a group, 2 to 6, from its id.
pub(crate) fn aliquots(id: &str) -> u32 {
    2 + id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 5
}

/// The volume per aliquot of a banked specimen (value, UCUM unit), from its id (no draw): DNA
/// in microlitres, the rest 0.25 to 1.8 mL, so that a minimum volume selects some of them.
pub(crate) fn volume(id: &str, kind_code: &str) -> (f64, &'static str) {
    let h = id
        .bytes()
        .fold(11u32, |h, b| h.wrapping_mul(33).wrapping_add(u32::from(b)));
    if kind_code == "258566005" {
        return ([20.0, 50.0, 100.0][(h % 3) as usize], "uL");
    }
    ([0.25, 0.5, 1.0, 1.8][(h % 4) as usize], "mL")
}

/// Whether a SARI sample also gives PBMC and DNA (one in three, from its id).
pub(crate) fn with_cells(id: &str) -> bool {
    id.bytes().map(u32::from).sum::<u32>() % 3 == 0
}

/// One banked specimen.
pub(crate) struct Banked<'a> {
    pub id: &'a str,
    pub patient: &'a str,
    /// (system, code, display) of its type.
    pub kind: (&'a str, &'a str, &'a str),
    pub at: NaiveDateTime,
    pub diagnosis: Option<&'a str>,
    pub collection: String,
    pub storage: (f64, f64),
    pub aliquots: Option<u32>,
    pub parent: Option<&'a str>,
}

/// Writes a banked specimen.
pub(crate) fn bank(out: &mut Out, b: &Banked<'_>) {
    write::banked_specimen(out, b);
}

/// The SARI sample (serum or plasma, as drawn) and, for some, PBMC and DNA from the same day.
pub(crate) fn sari_sample(
    p: &Profile,
    out: &mut Out,
    patient: &str,
    id: &str,
    kind: (&str, &str),
    at: NaiveDateTime,
    diagnosis: &str,
) {
    let collection = Collection::Sari.id(p);
    bank(
        out,
        &Banked {
            id,
            patient,
            kind: (write::SNOMED_URI, kind.0, kind.1),
            at,
            diagnosis: Some(diagnosis),
            collection: collection.clone(),
            storage: DEEP_FREEZER,
            aliquots: Some(aliquots(id)),
            parent: None,
        },
    );
    if with_cells(id) {
        let pbmc = format!("{id}-pbmc");
        bank(
            out,
            &Banked {
                id: &pbmc,
                patient,
                kind: (
                    write::MIABIS_DETAILED,
                    "PBMC",
                    "Peripheral blood mononuclear cells",
                ),
                at,
                diagnosis: Some(diagnosis),
                collection: collection.clone(),
                storage: NITROGEN,
                aliquots: Some(aliquots(&pbmc)),
                parent: None,
            },
        );
        let dna = format!("{id}-dna");
        bank(
            out,
            &Banked {
                id: &dna,
                patient,
                kind: (
                    write::SNOMED_URI,
                    "258566005",
                    "Deoxyribonucleic acid sample",
                ),
                at,
                diagnosis: Some(diagnosis),
                collection,
                storage: DEEP_FREEZER,
                aliquots: Some(aliquots(&dna)),
                parent: None,
            },
        );
    }
}

/// Acute serum (`acute` after admission) and convalescent serum (four weeks later) of a VHF
/// or SFTS patient.
pub(crate) fn outbreak_sera(
    p: &Profile,
    out: &mut Out,
    patient: &str,
    id: &str,
    acute: NaiveDateTime,
    diagnosis: &str,
) {
    let collection = Collection::Vhf.id(p);
    for (sid, at) in [
        (id.to_owned(), acute),
        (format!("{id}-conv"), acute + Duration::days(28)),
    ] {
        bank(
            out,
            &Banked {
                id: &sid,
                patient,
                kind: (write::SNOMED_URI, "119364003", "Serum specimen"),
                at,
                diagnosis: Some(diagnosis),
                collection: collection.clone(),
                storage: DEEP_FREEZER,
                aliquots: Some(aliquots(&sid)),
                parent: None,
            },
        );
    }
}

/// The isolate a laboratory keeps of a culture, a child of the clinical specimen.
pub(crate) fn isolate(
    p: &Profile,
    out: &mut Out,
    patient: &str,
    specimen: &str,
    at: NaiveDateTime,
) {
    let id = format!("{specimen}-iso");
    bank(
        out,
        &Banked {
            id: &id,
            patient,
            kind: (write::SNOMED_URI, "119303007", "Microbial isolate specimen"),
            at: at + Duration::days(2),
            diagnosis: None,
            collection: Collection::Isolates.id(p),
            storage: DEEP_FREEZER,
            aliquots: None,
            parent: Some(specimen),
        },
    );
}

/// The site's MIABIS Core 3 catalogue (TOML, as `kakehashi catalogue validate` reads it).
pub fn catalogue_toml(p: &Profile) -> String {
    let code = &p.site.code;
    let jp = p.site.country == "JP";
    let (outbreak_name, outbreak_codes) = if jp {
        (
            "SFTS and viral haemorrhagic fever sera",
            r#"["A93.8", "A90-A99"]"#,
        )
    } else {
        ("Imported viral haemorrhagic fever sera", r#"["A90-A99"]"#)
    };
    format!(
        r#"# MIABIS Core 3 catalogue of the synthetic site {code} (kakehashi synth)

[[biobank]]
id = "{code}-biobank"
acronym = "{upper}-BB"
name = "{name} Biobank"
juristic_person = "{name}"
country = "{country}"
description = "Central biobank of {name} (synthetic): clinical samples with consent, isolates of the microbiology laboratory."
infrastructural_capabilities = ["SampleStorage", "DataStorage", "Biosafety"]
organisational_capabilities = ["ClinicalData", "LabData"]
bioprocessing_capabilities = ["NucleicAcidExtraction", "SampleProcessing", "SampleShipping"]
quality_standards = ["ISO20387"]
[biobank.contact]
first_name = "Biobank"
last_name = "Office"
email = "biobank@{code}.example.invalid"
country = "{country}"

[[collection]]
id = "{code}-sari"
biobank = "{code}-biobank"
name = "Severe acute respiratory infection samples"
description = "Serum or plasma of SARI admissions, with PBMC and DNA for a third of them."
sample_source = "Human"
sex = ["Male", "Female"]
age_low = 0
age_high = 110
age_unit = "Years"
dataset_types = ["Clinical", "Biochemical"]
material_types = ["Serum", "Plasma", "PrimaryCells", "DNA"]
storage_temperatures = ["-60to-85", "LNvapor"]
diseases = ["J09-J22", "U07.1"]
settings = ["RoutineHealthCare"]
designs = ["DiseaseCohort"]
access_conditions = ["Collaboration", "SpecificResearchUse"]
status = "Active"
[collection.contact]
email = "sari@{code}.example.invalid"

[[collection]]
id = "{code}-vhf"
biobank = "{code}-biobank"
name = "{outbreak_name}"
description = "Acute and convalescent sera (four weeks apart)."
sample_source = "Human"
sex = ["Male", "Female"]
dataset_types = ["Clinical"]
material_types = ["Serum"]
storage_temperatures = ["-60to-85"]
diseases = {outbreak_codes}
settings = ["RoutineHealthCare"]
designs = ["DiseaseCohort"]
access_conditions = ["Collaboration", "SpecificResearchUse"]
status = "Active"
[collection.contact]
email = "outbreak@{code}.example.invalid"

[[collection]]
id = "{code}-isolates"
biobank = "{code}-biobank"
name = "Bacterial isolates with resistance data"
description = "Isolates of blood and urine cultures with their susceptibility tests."
sample_source = "Human"
sex = ["Male", "Female"]
dataset_types = ["Clinical", "Biochemical"]
material_types = ["IsolatedMicrobes"]
storage_temperatures = ["-60to-85"]
settings = ["RoutineHealthCare"]
designs = ["Microbial"]
access_conditions = ["Collaboration"]
status = "Active"
[collection.contact]
email = "microbiology@{code}.example.invalid"
"#,
        upper = code.to_uppercase(),
        name = p.site.name,
        country = p.site.country,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_a_valid_catalogue() {
        for name in crate::builtin_profiles() {
            let p = Profile::load(name).unwrap();
            let text = catalogue_toml(&p);
            let c = kakehashi_biobank::parse_catalogue(&format!("{name}/catalogue.toml"), &text)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.collections.len(), 3);
            for k in [Collection::Sari, Collection::Vhf, Collection::Isolates] {
                assert!(c.collection(&k.id(&p)).is_some(), "{name}: {}", k.id(&p));
            }
        }
    }

    #[test]
    fn aliquot_counts_stay_in_range() {
        for i in 0..200 {
            let n = aliquots(&format!("s{i}"));
            assert!((2..=6).contains(&n));
        }
    }
}
