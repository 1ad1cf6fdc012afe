//! A hand-made site (NDJSON ingested into a real store) and the dataset it gives, value by
//! value.

use super::*;
use kakehashi_stats::dataset::{IndexStay, VariableWire};

const META: &str = r#""meta":{"lastUpdated":"2026-01-02T03:04:05Z"}"#;
const GM: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";

fn patient(id: &str, gender: &str, birth: &str, country: &str, deceased: Option<&str>) -> String {
    let d = deceased
        .map(|d| format!(r#","deceasedDateTime":"{d}""#))
        .unwrap_or_default();
    format!(
        r#"{{"resourceType":"Patient","id":"{id}",{META},"gender":"{gender}","birthDate":"{birth}","address":[{{"country":"{country}"}}]{d}}}"#
    )
}

fn encounter(id: &str, p: &str, class: &str, start: &str, end: &str, extra: &str) -> String {
    format!(
        r#"{{"resourceType":"Encounter","id":"{id}",{META},"status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"{class}"}},"subject":{{"reference":"Patient/{p}"}},"period":{{"start":"{start}","end":"{end}"}}{extra}}}"#
    )
}

fn condition(id: &str, p: &str, code: &str, onset: &str, enc: Option<&str>) -> String {
    let e = enc
        .map(|e| format!(r#","encounter":{{"reference":"Encounter/{e}"}}"#))
        .unwrap_or_default();
    format!(
        r#"{{"resourceType":"Condition","id":"{id}",{META},"code":{{"coding":[{{"system":"{GM}","code":"{code}"}}]}},"subject":{{"reference":"Patient/{p}"}},"onsetDateTime":"{onset}"{e}}}"#
    )
}

fn crp(id: &str, p: &str, at: &str, value: f64, unit: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"{id}",{META},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"1988-5"}}]}},"subject":{{"reference":"Patient/{p}"}},"effectiveDateTime":"{at}","valueQuantity":{{"value":{value},"unit":"{unit}","system":"http://unitsofmeasure.org","code":"{unit}"}}}}"#
    )
}

fn site() -> (tempfile::TempDir, Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        // p1: SARI stay with an ICU stay inside, died (disposition 07), diabetes years before
        patient(
            "p1",
            "female",
            "1950-06-15",
            "DE",
            Some("2025-03-05T11:00:00Z"),
        ),
        encounter(
            "e1",
            "p1",
            "IMP",
            "2025-03-01T08:00:00Z",
            "2025-03-05T12:00:00Z",
            r#","hospitalization":{"dischargeDisposition":{"coding":[{"code":"07"}]}}"#,
        ),
        encounter(
            "e1w",
            "p1",
            "IMP",
            "2025-03-01T08:00:00Z",
            "2025-03-05T12:00:00Z",
            r#","partOf":{"reference":"Encounter/e1"}"#,
        ),
        encounter(
            "e1i",
            "p1",
            "IMP",
            "2025-03-02T08:00:00Z",
            "2025-03-04T12:00:00Z",
            r#","type":[{"coding":[{"system":"http://fhir.de/CodeSystem/kontaktart-de","code":"intensivstationaer"}]}],"partOf":{"reference":"Encounter/e1w"}"#,
        ),
        condition("c1", "p1", "J18.9", "2025-03-01T08:00:00Z", Some("e1")),
        condition("c2", "p1", "E11.9", "2020-01-01T00:00:00Z", None),
        crp("o1", "p1", "2025-03-01T09:00:00Z", 120.0, "mg/L"),
        crp("o2", "p1", "2025-03-02T09:00:00Z", 80.0, "mg/L"),
        crp("o3", "p1", "2025-03-03T09:00:00Z", 3.0, "mg/dL"),
        crp("o4", "p1", "2025-03-03T10:00:00Z", 3.0, "mmol/L"),
        crp("o5", "p1", "2025-03-20T10:00:00Z", 999.0, "mg/L"),
        // p2: an outpatient visit first, then the SARI stay (diagnosis by onset, no link)
        patient("p2", "male", "1990-01-01", "JP", None),
        encounter(
            "e2",
            "p2",
            "AMB",
            "2025-01-01T00:00:00Z",
            "2025-01-01T01:00:00Z",
            "",
        ),
        encounter(
            "e3",
            "p2",
            "IMP",
            "2025-02-01T00:00:00Z",
            "2025-02-03T00:00:00Z",
            "",
        ),
        condition("c3", "p2", "J10.1", "2025-02-01T06:00:00Z", None),
        // p3: in the cohort (J18 at an outpatient visit), but no inpatient SARI stay
        patient("p3", "female", "2010-05-05", "DE", None),
        encounter(
            "e5",
            "p3",
            "AMB",
            "2025-02-01T00:00:00Z",
            "2025-02-01T01:00:00Z",
            "",
        ),
        encounter(
            "e6",
            "p3",
            "IMP",
            "2025-04-01T00:00:00Z",
            "2025-04-03T00:00:00Z",
            "",
        ),
        condition("c5", "p3", "J18.0", "2025-02-01T00:00:00Z", Some("e5")),
        // p4: not in the cohort
        patient("p4", "male", "1980-01-01", "DE", None),
        encounter(
            "e7",
            "p4",
            "IMP",
            "2025-02-01T00:00:00Z",
            "2025-02-03T00:00:00Z",
            "",
        ),
    ];
    let file = dir.path().join("site.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let store_dir = dir.path().join("store");
    kakehashi_ingest::ingest(
        &store_dir,
        &[file],
        &kakehashi_ingest::IngestOptions::default(),
        &|_| {},
    )
    .unwrap();
    let snap = kakehashi_store::Store::open(&store_dir).current().unwrap();
    (dir, snap)
}

fn sari_cohort() -> Query {
    let codes: Vec<String> = [
        "J09", "J10", "J11", "J12", "J13", "J14", "J15", "J16", "J17", "J18", "J20", "J21", "J22",
    ]
    .iter()
    .map(|c| format!(r#"{{"system":"{GM}","code":"{c}"}}"#))
    .collect();
    Query::parse(&format!(
        r#"{{"version":"http://to_be_decided.com/draft-1/schema#","inclusionCriteria":[[{{"context":{{"system":"fdpg.mii.cds","code":"Diagnose","display":"Diagnose","version":"1.0.0"}},"termCodes":[{}]}}]]}}"#,
        codes.join(",")
    ))
    .unwrap()
}

fn spec() -> DatasetSpec {
    let vars: Vec<VariableWire> = serde_json::from_str(
        r#"[{"name": "died", "kind": "in_hospital_death"},
            {"name": "age", "kind": "age_at_index"},
            {"name": "age_band", "kind": "age_band", "breaks": [18, 40, 60, 80]},
            {"name": "sex", "kind": "sex"},
            {"name": "country", "kind": "country", "levels": ["DE", "JP"]},
            {"name": "site", "kind": "site"},
            {"name": "icu", "kind": "icu_stay"},
            {"name": "los", "kind": "length_of_stay"},
            {"name": "diabetes", "kind": "condition", "codes": ["E10-E14"], "days_before": 3650, "days_after": 0},
            {"name": "crp_max", "kind": "lab", "codes": ["http://loinc.org|1988-5"], "pick": "max", "unit": "mg/L", "days_before": 1, "days_after": 3},
            {"name": "crp_last", "kind": "lab", "codes": ["http://loinc.org|1988-5"], "pick": "last", "unit": "mg/L", "days_after": 3},
            {"name": "log_crp", "kind": "log", "of": "crp_max"}]"#,
    )
    .unwrap();
    DatasetSpec::new(
        IndexStay {
            classes: vec!["IMP".into()],
            diagnosis: vec!["J09-J22".into()],
        },
        vars,
    )
    .unwrap()
}

fn num(f: &Frame, name: &str) -> Vec<Option<f64>> {
    match f.get(name).unwrap() {
        Column::Numeric(v) => v.clone(),
        Column::Factor(_) => panic!("{name} is a factor"),
    }
}

fn fac(f: &Frame, name: &str) -> Vec<Option<String>> {
    match f.get(name).unwrap() {
        Column::Factor(v) => v.clone(),
        Column::Numeric(_) => panic!("{name} is numeric"),
    }
}

fn s(x: &str) -> Option<String> {
    Some(x.to_owned())
}

#[test]
fn builds_one_row_per_patient_with_an_index_stay() {
    let (_dir, snap) = site();
    let d = build(
        &snap,
        &sari_cohort(),
        &spec(),
        "berlin",
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    )
    .unwrap();
    assert_eq!((d.cohort_patients, d.without_index_stay), (3, 1));
    let f = &d.frame;
    assert_eq!(f.rows(), 2);
    assert_eq!(num(f, "died"), [Some(1.0), Some(0.0)]);
    assert_eq!(num(f, "age"), [Some(74.0), Some(35.0)]);
    assert_eq!(fac(f, "age_band"), [s("60-79"), s("18-39")]);
    assert_eq!(fac(f, "sex"), [s("female"), s("male")]);
    assert_eq!(fac(f, "country"), [s("DE"), s("JP")]);
    assert_eq!(fac(f, "site"), [s("berlin"), s("berlin")]);
    assert_eq!(num(f, "icu"), [Some(1.0), Some(0.0)]);
    let los = num(f, "los");
    assert!(
        (los[0].unwrap() - (4.0 + 4.0 / 24.0)).abs() < 1e-12,
        "{los:?}"
    );
    assert_eq!(los[1], Some(2.0));
    assert_eq!(num(f, "diabetes"), [Some(1.0), Some(0.0)]);
    // 120 and 80 mg/L and 3 mg/dL = 30 mg/L in the window; mmol/L does not convert; day 19 is out
    assert_eq!(num(f, "crp_max"), [Some(120.0), None]);
    let last = num(f, "crp_last")[0].unwrap();
    assert!((last - 30.0).abs() < 1e-9, "{last}");
    assert_eq!(d.unit_mismatches, 2);
    assert_eq!(num(f, "log_crp"), [Some(120f64.ln()), None]);
}
