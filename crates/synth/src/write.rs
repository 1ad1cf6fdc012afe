//! FHIR R4 JSON written by hand, in the shapes of `docs/fhir-conventions.md` (MII core data set
//! in Germany, JP Core in Japan). All text comes from this crate or from profile fields that
//! were checked to need no JSON escaping. By hand rather than through serde types, so that
//! writing millions of resources builds no intermediate value per resource.

use crate::profile::{Codes, Organism, Profile, Site};
use chrono::{NaiveDate, NaiveDateTime};
use std::fmt::Write as _;

/// `meta.lastUpdated` of every generated resource (fixed, for byte-identical output).
const LAST_UPDATED: &str = "2026-07-01T00:00:00Z";
const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
const JLAC10: &str = "urn:oid:1.2.392.200119.4.504";

/// Output of a block of patients: one buffer per resource file, counts, WHONET rows.
#[derive(Default)]
pub(crate) struct Out {
    pub files: [Vec<u8>; crate::FILES.len()],
    pub counts: [u64; crate::FILES.len()],
    pub whonet: Vec<u8>,
    pub whonet_rows: u64,
}

impl Out {
    pub(crate) fn line(&mut self, file: usize, s: &str) {
        self.files[file].extend_from_slice(s.as_bytes());
        self.files[file].push(b'\n');
        self.counts[file] += 1;
    }

    pub fn append(&mut self, other: Out) {
        for k in 0..crate::FILES.len() {
            self.files[k].extend_from_slice(&other.files[k]);
            self.counts[k] += other.counts[k];
        }
        self.whonet.extend_from_slice(&other.whonet);
        self.whonet_rows += other.whonet_rows;
    }

    #[allow(clippy::too_many_arguments)]
    pub fn whonet_row(
        &mut self,
        site: &str,
        patient: &str,
        female: bool,
        age: i32,
        specimen: &str,
        kind: &str,
        date: NaiveDate,
        org: &Organism,
        results: &[(String, String, f64, Option<&str>, &str)],
        p: &Profile,
    ) {
        // WHONET-style: one row per isolate, one column per drug (MIC as the lab reported it),
        // drug columns named CODE_NM (MIC), as WHONET exports name them
        let mut row = format!(
            "{site},{patient},{},{age},{specimen},{},{},{}",
            if female { "f" } else { "m" },
            if kind == "blood" { "bl" } else { "ur" },
            date.format("%Y-%m-%d"),
            org.name
        );
        for d in WHONET_DRUGS {
            row.push(',');
            if let Some((_, _, mic, cmp, _)) = results.iter().find(|r| r.1 == d) {
                let _ = write!(row, "{}{}", cmp.unwrap_or(""), fmt_num(*mic));
            }
        }
        let _ = write!(row, ",{}", p.amr.guideline);
        self.whonet.extend_from_slice(row.as_bytes());
        self.whonet.push(b'\n');
        self.whonet_rows += 1;
    }
}

const WHONET_DRUGS: [&str; 10] = [
    "AMP", "TZP", "CTX", "CAZ", "MEM", "CIP", "GEN", "TOB", "OXA", "VAN",
];

/// Header of the WHONET-style isolate CSV.
pub(crate) const WHONET_HEADER: &str = "LABORATORY,PATIENT_ID,SEX,AGE,SPEC_NUM,SPEC_TYPE,SPEC_DATE,ORGANISM,AMP_NM,TZP_NM,CTX_NM,CAZ_NM,MEM_NM,CIP_NM,GEN_NM,TOB_NM,OXA_NM,VAN_NM,GUIDELINE\n";

const PATIENT: usize = 0;
const ENCOUNTER: usize = 1;
const CONDITION: usize = 2;
const OBSERVATION: usize = 3;
const SPECIMEN: usize = 4;
const CONSENT: usize = 5;
pub(crate) const PROCEDURE: usize = 6;
pub(crate) const MEDICATION: usize = 7;
pub(crate) const MEDICATION_ADMINISTRATION: usize = 8;
pub(crate) const MEDICATION_REQUEST: usize = 9;
pub(crate) const MEDICATION_STATEMENT: usize = 10;

pub(crate) fn dt(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

pub(crate) fn meta(profile: &str) -> String {
    format!(r#""meta":{{"lastUpdated":"{LAST_UPDATED}","profile":["{profile}"]}}"#)
}

pub(crate) fn patient(
    out: &mut Out,
    id: &str,
    female: bool,
    birth: NaiveDate,
    deceased: Option<NaiveDateTime>,
    site: &Site,
) {
    let (profile, birth_text) = if site.country == "DE" {
        // MII Person: birth date may be shortened to year-month
        (
            "https://www.medizininformatik-initiative.de/fhir/core/modul-person/StructureDefinition/Patient",
            birth.format("%Y-%m-%d").to_string(),
        )
    } else {
        (
            "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient",
            birth.format("%Y-%m-%d").to_string(),
        )
    };
    let mut s = format!(
        r#"{{"resourceType":"Patient","id":"{id}",{},"gender":"{}","birthDate":"{birth_text}""#,
        meta(profile),
        if female { "female" } else { "male" }
    );
    if let Some(d) = deceased {
        let _ = write!(s, r#","deceasedDateTime":"{}""#, dt(d));
    }
    let _ = write!(
        s,
        r#","address":[{{"country":"{}","state":"{}"}}]}}"#,
        site.country, site.region
    );
    out.line(PATIENT, &s);
}

/// An encounter to write: class, MII contact level and kind, department, period, outcome.
pub(crate) struct Stay<'a> {
    /// v3 ActCode class (`IMP`, `AMB`).
    pub class: &'a str,
    /// MII contact level (`einrichtungskontakt`, `abteilungskontakt`, `versorgungsstellenkontakt`).
    pub level: Option<&'a str>,
    /// Kind of contact (kontaktart-de: `normalstationaer`, `intensivstationaer`, `operation`).
    pub kontaktart: Option<&'a str>,
    /// Department (Fachabteilungsschlüssel).
    pub dept: Option<&'a str>,
    /// Period.
    pub start: NaiveDateTime,
    /// Period end.
    pub end: NaiveDateTime,
    /// Discharged dead.
    pub died: bool,
    /// The encounter this one is part of.
    pub part_of: Option<&'a str>,
}

pub(crate) fn encounter(out: &mut Out, patient: &str, id: &str, e: &Stay<'_>, country: &str) {
    let mut s = format!(
        r#"{{"resourceType":"Encounter","id":"{id}",{},"status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"{}"}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/core/modul-fall/StructureDefinition/KontaktGesundheitseinrichtung"
        ),
        e.class
    );
    let mut types = Vec::new();
    if let Some(l) = e.level {
        types.push(format!(
            r#"{{"coding":[{{"system":"http://fhir.de/CodeSystem/Kontaktebene","code":"{l}"}}]}}"#
        ));
    }
    if let Some(k) = e.kontaktart {
        types.push(format!(
            r#"{{"coding":[{{"system":"http://fhir.de/CodeSystem/kontaktart-de","code":"{k}"}}]}}"#
        ));
    }
    if !types.is_empty() {
        let _ = write!(s, r#","type":[{}]"#, types.join(","));
    }
    if let Some(d) = e.dept {
        let _ = write!(
            s,
            r#","serviceType":{{"coding":[{{"system":"http://fhir.de/CodeSystem/dkgev/Fachabteilungsschluessel","code":"{d}"}}]}}"#
        );
    }
    let _ = write!(
        s,
        r#","subject":{{"reference":"Patient/{patient}"}},"period":{{"start":"{}","end":"{}"}}"#,
        dt(e.start),
        dt(e.end)
    );
    if e.died {
        let code = if country == "DE" { "07" } else { "deceased" };
        let _ = write!(
            s,
            r#","hospitalization":{{"dischargeDisposition":{{"coding":[{{"code":"{code}"}}]}}}}"#
        );
    }
    if let Some(p) = e.part_of {
        let _ = write!(s, r#","partOf":{{"reference":"Encounter/{p}"}}"#);
    }
    s.push('}');
    out.line(ENCOUNTER, &s);
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn condition(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: Option<&str>,
    codes: &Codes,
    code: &str,
    display: &str,
    onset: NaiveDate,
    recorded: NaiveDateTime,
) {
    let version = codes
        .icd10_version
        .as_deref()
        .map(|v| format!(r#","version":"{v}""#))
        .unwrap_or_default();
    let mut s = format!(
        r#"{{"resourceType":"Condition","id":"{id}",{},"clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},"verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}}]}},"code":{{"coding":[{{"system":"{}"{version},"code":"{code}","display":"{display}"}}]}},"subject":{{"reference":"Patient/{patient}"}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/core/modul-diagnose/StructureDefinition/Diagnose"
        ),
        codes.icd10_system
    );
    if let Some(e) = encounter {
        let _ = write!(s, r#","encounter":{{"reference":"Encounter/{e}"}}"#);
    }
    let _ = write!(
        s,
        r#","onsetDateTime":"{}","recordedDate":"{}"}}"#,
        onset.format("%Y-%m-%d"),
        dt(recorded)
    );
    out.line(CONDITION, &s);
}

/// SNOMED CT's URI.
pub(crate) const SNOMED_URI: &str = "http://snomed.info/sct";
/// The MIABIS detailed sample type system (as the MII module Biobank spells it).
pub(crate) const MIABIS_DETAILED: &str =
    "https://fhir.bbmri-eric.eu/fhir/CodeSystem/miabis-detailed-samply-type-cs";
const MII_BB: &str =
    "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/";

/// A banked specimen as the MII module Biobank writes one: managing organisation, aliquot
/// count, a storage step at room temperature then the long-term one, a tube.
pub(crate) fn banked_specimen(out: &mut Out, b: &crate::biobank::Banked<'_>) {
    let volume = crate::biobank::volume(b.id, b.kind.1);
    let mut s = format!(
        r#"{{"resourceType":"Specimen","id":"{}",{}"#,
        b.id,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Specimen"
        )
    );
    let _ = write!(
        s,
        r#","extension":[{{"url":"{MII_BB}VerwaltendeOrganisation","valueReference":{{"reference":"Organization/{}"}}}}"#,
        b.collection
    );
    if let Some(c) = b.diagnosis {
        let _ = write!(
            s,
            r#",{{"url":"{MII_BB}Diagnose","valueReference":{{"reference":"Condition/{c}"}}}}"#
        );
    }
    if let Some(n) = b.aliquots {
        let _ = write!(
            s,
            r#",{{"url":"{MII_BB}AnzahlAliqouts","valueInteger":{n}}}"#
        );
    }
    s.push(']');
    let _ = write!(
        s,
        r#","status":"available","type":{{"coding":[{{"system":"{}","code":"{}","display":"{}"}}]}},"subject":{{"reference":"Patient/{}"}}"#,
        b.kind.0, b.kind.1, b.kind.2, b.patient
    );
    if let Some(parent) = b.parent {
        let _ = write!(s, r#","parent":[{{"reference":"Specimen/{parent}"}}]"#);
    }
    let step = |low: f64, high: f64, start: NaiveDateTime| {
        format!(
            r#"{{"extension":[{{"url":"{MII_BB}Temperaturbedingungen","valueRange":{{"low":{{"value":{},"unit":"°C","system":"http://unitsofmeasure.org","code":"Cel"}},"high":{{"value":{},"unit":"°C","system":"http://unitsofmeasure.org","code":"Cel"}}}}}}],"procedure":{{"coding":[{{"system":"{SNOMED_URI}","code":"1186936003","display":"Storage of specimen (procedure)"}}]}},"timePeriod":{{"start":"{}"}}}}"#,
            fmt_num(low),
            fmt_num(high),
            dt(start)
        )
    };
    let _ = write!(
        s,
        r#","collection":{{"collectedDateTime":"{}"}},"processing":[{},{}],"container":[{{"type":{{"coding":[{{"system":"{SNOMED_URI}","code":"83059008","display":"Tube, device (physical object)"}}]}},"specimenQuantity":{{"value":{},"unit":"{}","system":"http://unitsofmeasure.org","code":"{}"}}}}]}}"#,
        dt(b.at),
        step(15.0, 25.0, b.at + chrono::Duration::minutes(30)),
        step(
            b.storage.0,
            b.storage.1,
            b.at + chrono::Duration::minutes(90)
        ),
        fmt_num(volume.0),
        volume.1,
        volume.1,
    );
    out.line(SPECIMEN, &s);
}

pub(crate) fn specimen(
    out: &mut Out,
    patient: &str,
    id: &str,
    kind: (&str, &str),
    at: NaiveDateTime,
    diagnosis: Option<&str>,
) {
    let mut s = format!(
        r#"{{"resourceType":"Specimen","id":"{id}",{}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Specimen"
        )
    );
    if let Some(c) = diagnosis {
        let _ = write!(
            s,
            r#","extension":[{{"url":"https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Diagnose","valueReference":{{"reference":"Condition/{c}"}}}}]"#
        );
    }
    let _ = write!(
        s,
        r#","status":"available","type":{{"coding":[{{"system":"{SNOMED}","code":"{}","display":"{}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"collection":{{"collectedDateTime":"{}"}}}}"#,
        kind.0,
        kind.1,
        dt(at)
    );
    out.line(SPECIMEN, &s);
}

/// (LOINC, LOINC display, unit) of the labs written.
fn lab(key: &str) -> (&'static str, &'static str, &'static str) {
    match key {
        "platelets" => (
            "777-3",
            "Platelets [#/volume] in Blood by Automated count",
            "10*3/uL",
        ),
        "wbc" => (
            "6690-2",
            "Leukocytes [#/volume] in Blood by Automated count",
            "10*3/uL",
        ),
        "crp" => (
            "1988-5",
            "C reactive protein [Mass/volume] in Serum or Plasma",
            "mg/L",
        ),
        "influenza" => (
            "92142-9",
            "Influenza virus A RNA [Presence] in Respiratory system specimen by NAA with probe detection",
            "",
        ),
        "rsv" => (
            "92131-2",
            "Respiratory syncytial virus RNA [Presence] in Respiratory system specimen by NAA with probe detection",
            "",
        ),
        _ => (
            "94500-6",
            "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory system specimen by NAA with probe detection",
            "",
        ),
    }
}

/// The JLAC10 code a Japanese lab writes for a LOINC-coded test, from the JLAC10 table the
/// terminology crate reads (`crates/terminology/data/jlac10-loinc.tsv`): a code found whole in
/// its cited source (`verified = yes`) before one composed from published parts.
pub(crate) fn jlac10_for(loinc: &str) -> Option<&'static str> {
    let m = kakehashi_terminology::jlac10_map();
    kakehashi_terminology::lab::loinc_to_jlac10(loinc)
        .iter()
        .max_by_key(|c| {
            m.get(c.as_str())
                .is_some_and(|r| m.cell(r, "verified") == Some("yes"))
        })
        .map(String::as_str)
}

fn lab_coding(key: &str, codes: &Codes) -> String {
    let (loinc, display, _) = lab(key);
    match jlac10_for(loinc).filter(|_| codes.lab_system == "jlac10") {
        // JP Core: the JLAC10 code first, LOINC as a second coding where the lab maps it
        Some(jlac) => format!(
            r#"[{{"system":"{JLAC10}","code":"{jlac}"}},{{"system":"{LOINC}","code":"{loinc}","display":"{display}"}}]"#
        ),
        None => format!(r#"[{{"system":"{LOINC}","code":"{loinc}","display":"{display}"}}]"#),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn pcr(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: &str,
    specimen: &str,
    key: &str,
    positive: bool,
    at: NaiveDateTime,
    codes: &Codes,
) {
    let (code, display) = if positive {
        ("260373001", "Detected")
    } else {
        ("260415000", "Not detected")
    };
    let s = format!(
        r#"{{"resourceType":"Observation","id":"{id}",{},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":{}}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"effectiveDateTime":"{}","valueCodeableConcept":{{"coding":[{{"system":"{SNOMED}","code":"{code}","display":"{display}"}}]}},"specimen":{{"reference":"Specimen/{specimen}"}}}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/core/modul-labor/StructureDefinition/ObservationLab"
        ),
        lab_coding(key, codes),
        dt(at)
    );
    out.line(OBSERVATION, &s);
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn lab_value(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: &str,
    at: NaiveDateTime,
    key: &str,
    value: f64,
    codes: &Codes,
) {
    let unit = lab(key).2;
    let s = format!(
        r#"{{"resourceType":"Observation","id":"{id}",{},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":{}}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"effectiveDateTime":"{}","valueQuantity":{{"value":{},"unit":"{unit}","system":"{UCUM}","code":"{unit}"}}}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/core/modul-labor/StructureDefinition/ObservationLab"
        ),
        lab_coding(key, codes),
        dt(at),
        fmt_num(value)
    );
    out.line(OBSERVATION, &s);
}

pub(crate) fn vital_temperature(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: &str,
    at: NaiveDateTime,
    celsius: f64,
) {
    let s = format!(
        r#"{{"resourceType":"Observation","id":"{id}",{},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}}]}}],"code":{{"coding":[{{"system":"{LOINC}","code":"8310-5","display":"Body temperature"}}]}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"effectiveDateTime":"{}","valueQuantity":{{"value":{},"unit":"Cel","system":"{UCUM}","code":"Cel"}}}}"#,
        meta("http://hl7.org/fhir/StructureDefinition/bodytemp"),
        dt(at),
        fmt_num(celsius)
    );
    out.line(OBSERVATION, &s);
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn isolate(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: &str,
    specimen: &str,
    at: NaiveDateTime,
    kind: &str,
    org: &Organism,
    members: &[String],
) {
    let (code, display) = if kind == "blood" {
        ("600-7", "Bacteria identified in Blood by Culture")
    } else {
        ("630-4", "Bacteria identified in Urine by Culture")
    };
    let mut has = String::new();
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            has.push(',');
        }
        let _ = write!(has, r#"{{"reference":"Observation/{m}"}}"#);
    }
    let s = format!(
        r#"{{"resourceType":"Observation","id":"{id}",{},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}},{{"system":"{LOINC}","code":"18725-2","display":"Microbiology studies (set)"}}]}}],"code":{{"coding":[{{"system":"{LOINC}","code":"{code}","display":"{display}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"effectiveDateTime":"{}","valueCodeableConcept":{{"coding":[{{"system":"{SNOMED}","code":"{}","display":"{}"}}]}},"specimen":{{"reference":"Specimen/{specimen}"}},"hasMember":[{has}]}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/ext/modul-mikrobio/StructureDefinition/mii-pr-mikrobio-kultur-ergebnisse"
        ),
        dt(at),
        org.snomed,
        org.name
    );
    out.line(OBSERVATION, &s);
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn susceptibility(
    out: &mut Out,
    patient: &str,
    id: &str,
    encounter: &str,
    isolate: &str,
    at: NaiveDateTime,
    drug: &crate::profile::Drug,
    mic: f64,
    cmp: Option<&str>,
    sir: &str,
    guideline: &str,
) {
    let comparator = cmp
        .map(|c| format!(r#""comparator":"{c}","#))
        .unwrap_or_default();
    let s = format!(
        r#"{{"resourceType":"Observation","id":"{id}",{},"extension":[{{"url":"https://kakehashi.example/fhir/StructureDefinition/breakpoint-guideline","valueString":"{guideline}"}}],"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}},{{"system":"{LOINC}","code":"18725-2","display":"Microbiology studies (set)"}}]}}],"code":{{"coding":[{{"system":"{LOINC}","code":"{}","display":"{}"}},{{"system":"http://www.whocc.no/atc","code":"{}","display":"{}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"encounter":{{"reference":"Encounter/{encounter}"}},"effectiveDateTime":"{}","valueQuantity":{{{comparator}"value":{},"unit":"mg/L","system":"{UCUM}","code":"mg/L"}},"interpretation":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"{sir}"}}]}}],"method":{{"coding":[{{"system":"{SNOMED}","code":"702659008","display":"Minimum inhibitory concentration"}}]}},"derivedFrom":[{{"reference":"Observation/{isolate}"}}]}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/ext/modul-mikrobio/StructureDefinition/mii-pr-mikrobio-empfindlichkeit-mhk"
        ),
        drug.loinc,
        drug.loinc_display,
        drug.atc,
        drug.name,
        dt(at),
        fmt_num(mic)
    );
    out.line(OBSERVATION, &s);
}

pub(crate) fn consent(out: &mut Out, patient: &str, id: &str, date: NaiveDate) {
    // MII broad consent: permit provisions for the core modules (codes of the MII consent
    // policy code system, urn:oid:2.16.840.1.113883.3.1937.777.24.5.3), five years
    let end = date.with_year_offset(5);
    let mut provisions = String::new();
    for (i, code) in [
        "2.16.840.1.113883.3.1937.777.24.5.3.8",
        "2.16.840.1.113883.3.1937.777.24.5.3.7",
        "2.16.840.1.113883.3.1937.777.24.5.3.5",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            provisions.push(',');
        }
        let _ = write!(
            provisions,
            r#"{{"type":"permit","period":{{"start":"{}","end":"{}"}},"code":[{{"coding":[{{"system":"urn:oid:2.16.840.1.113883.3.1937.777.24.5.3","code":"{code}"}}]}}]}}"#,
            date.format("%Y-%m-%d"),
            end.format("%Y-%m-%d")
        );
    }
    let s = format!(
        r#"{{"resourceType":"Consent","id":"{id}",{},"status":"active","scope":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"research"}}]}},"category":[{{"coding":[{{"system":"{LOINC}","code":"57016-8"}}]}}],"patient":{{"reference":"Patient/{patient}"}},"dateTime":"{}T10:00:00Z","policy":[{{"uri":"urn:oid:2.16.840.1.113883.3.1937.777.24.2.1790"}}],"provision":{{"type":"deny","provision":[{provisions}]}}}}"#,
        meta(
            "https://www.medizininformatik-initiative.de/fhir/modul-consent/StructureDefinition/mii-pr-consent-einwilligung"
        ),
        date.format("%Y-%m-%d")
    );
    out.line(CONSENT, &s);
}

trait YearOffset {
    fn with_year_offset(self, years: i32) -> NaiveDate;
}

impl YearOffset for NaiveDate {
    fn with_year_offset(self, years: i32) -> NaiveDate {
        use chrono::Datelike;
        self.with_year(self.year() + years)
            .unwrap_or(self + chrono::Duration::days(365 * years as i64))
    }
}
