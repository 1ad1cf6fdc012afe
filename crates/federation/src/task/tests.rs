//! The task contract on the wire: versions, unknown fields, limits, and the round trip.

use super::*;
use serde_json::json;

fn ccdl(codes: usize) -> Value {
    let term_codes: Vec<Value> = (0..codes)
        .map(|i| json!({"code": format!("J{:02}.{}", i % 100, i / 100), "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "x"}))
        .collect();
    json!({"version": "2", "inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "D"}, "termCodes": term_codes}]]})
}

fn parse(v: Value) -> Result<TaskSpec, TaskError> {
    TaskSpec::from_json(&v.to_string(), "hub")
}

#[test]
fn every_task_type_round_trips_with_its_schema_version() {
    for v in [
        json!({"type": "cohort", "ccdl": ccdl(2)}),
        json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP"]}}),
        json!({"type": "surveillance_series", "definition": "ari-jp", "by": ["age"], "from": "2024-W40"}),
        json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Serum"], "min_aliquots": 2}}),
    ] {
        let spec = parse(v.clone()).unwrap();
        let text = serde_json::to_value(&spec).unwrap();
        assert_eq!(text["type"], v["type"]);
        assert_eq!(
            text["schema_version"],
            json!(spec.schema_version()),
            "{text}"
        );
        let back: TaskSpec = serde_json::from_value(text).unwrap();
        assert_eq!(back, spec);
    }
}

#[test]
fn an_unsupported_version_is_refused_with_both_versions() {
    let e = parse(json!({"type": "cohort", "schema_version": 2, "ccdl": ccdl(1)})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "spec.schema_version: unsupported task version 2 (this hub supports 1)"
    );
    let e = TaskSpec::from_json(
        &json!({"type": "surveillance_series", "schema_version": 0, "definition": "sari-who"})
            .to_string(),
        "site",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("unsupported task version 0 (this site supports 1)"),
        "{e}"
    );
    let e = parse(json!({"type": "meta_analysis", "schema_version": 1})).unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown task type \"meta_analysis\""),
        "{e}"
    );
    let e = parse(json!({"type": "cohort", "schema_version": "one", "ccdl": ccdl(1)})).unwrap_err();
    assert!(e.to_string().starts_with("spec.schema_version:"), "{e}");
}

#[test]
fn unknown_fields_are_refused_by_name() {
    for (v, field) in [
        (
            json!({"type": "cohort", "ccdl": ccdl(1), "evaluation": "now"}),
            "spec.evaluation:",
        ),
        (
            json!({"type": "surveillance_series", "definition": "sari-who", "colour": "red"}),
            "spec.colour:",
        ),
        (
            json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025"}, "k": 3}),
            "spec.k:",
        ),
    ] {
        let e = parse(v).unwrap_err().to_string();
        assert!(e.starts_with(field), "{e}");
    }
    let e = parse(
        json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "colour": "red"}}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn ten_thousand_codes_are_refused_at_the_limit_and_the_limit_itself_is_accepted() {
    let e = parse(json!({"type": "cohort", "ccdl": ccdl(10_000)})).unwrap_err();
    assert!(
        matches!(
            &e,
            TaskError::TooMany {
                count: 10_000,
                limit: MAX_CODES,
                ..
            }
        ),
        "{e}"
    );
    assert!(parse(json!({"type": "cohort", "ccdl": ccdl(MAX_CODES)})).is_ok());
    let many: Vec<String> = (0..10_000).map(|_| "E. coli".to_owned()).collect();
    let e = parse(
        json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": many}}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("spec.spec.organisms: 10000 entries; a task may list at most 1000"),
        "{e}"
    );
}

#[test]
fn surveillance_weeks_are_bounded_and_ordered() {
    let e =
        parse(json!({"type": "surveillance_series", "definition": "sari-who", "to": "9999-W01"}))
            .unwrap_err()
            .to_string();
    assert!(e.starts_with("spec.to: week 9999-W01 is outside"), "{e}");
    let e = parse(json!({"type": "surveillance_series", "definition": "sari-who", "from": "2024-W10", "to": "2024-W01"}))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("spec.from:"), "{e}");
    let e = parse(json!({"type": "surveillance_series", "definition": "sari-who", "by": ["site"]}))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("spec.by[0]:"), "{e}");
    let e = parse(json!({"type": "surveillance_series", "definition": "flu-xyz"}))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("spec.definition:"), "{e}");
}

#[test]
fn the_surveillance_definitions_on_offer_are_the_shipped_ones() {
    let d = surveillance::definitions();
    assert_eq!(d[0], "sari-icosari");
    assert_eq!(d.len(), kakehashi_surveillance::definition::SHIPPED.len());
    assert!(d.contains(&"ari-jp"), "{d:?}");
}

#[test]
fn notes_follow_from_the_question_alone() {
    let with_unit = json!({"version": "2", "inclusionCriteria": [
        [{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "D"}, "termCodes": [{"code": "J18", "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "x"}]}],
        [{"context": {"code": "Laboruntersuchung", "system": "fdpg.mii.cds", "display": "L"}, "termCodes": [{"code": "718-7", "system": "http://loinc.org", "display": "Hb"}],
          "valueFilter": {"type": "quantity-comparator", "comparator": "lt", "value": 10, "unit": {"code": "g/dL"}}}]]});
    let TaskSpec::Cohort(r) = parse(json!({"type": "cohort", "ccdl": with_unit})).unwrap() else {
        unreachable!()
    };
    assert_eq!(
        r.notes(),
        vec![Note::UnitsNotConverted { criterion_index: 1 }]
    );
    let TaskSpec::SurveillanceSeries(s) =
        parse(json!({"type": "surveillance_series", "definition": "sari-icosari"})).unwrap()
    else {
        unreachable!()
    };
    let def = s.case_definition();
    assert_eq!(
        s.notes().contains(&Note::MainDiagnosisAsAnyDiagnosis),
        def.needs_diagnosis_rank()
    );
    // every note reads back from its wire form
    let notes = vec![
        Note::UnitsNotConverted { criterion_index: 1 },
        Note::MainDiagnosisAsAnyDiagnosis,
        Note::GuidelineReread {
            guideline: "EUCAST 2025".parse().unwrap(),
        },
    ];
    let text = serde_json::to_string(&notes).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Note>>(&text).unwrap(), notes);
    // a free-text note is not a note
    assert!(serde_json::from_str::<Note>(r#""no data at this site for J18""#).is_err());
    assert!(serde_json::from_str::<Note>(r#"{"code": "free_text", "text": "J18: 3"}"#).is_err());
}

#[test]
fn samples_questions_are_checked_with_the_field_named() {
    let e = parse(json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"window": {"icd10": "A93.8", "days_before": -2, "days_after": 10}}})).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("spec.specimen.window.days_before:"),
        "{e}"
    );
    let e = parse(
        json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Blut"]}}),
    )
    .unwrap_err();
    assert!(e.to_string().contains("Blut"), "{e}");
    let e = parse(json!({"type": "samples", "ccdl": ccdl(1), "colour": 1})).unwrap_err();
    assert!(e.to_string().starts_with("spec.colour:"), "{e}");
    let e = parse(json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"window": {"icd10": "SFTS", "days_before": 0, "days_after": 1}}})).unwrap_err();
    assert!(e.to_string().contains("not an ICD-10 code"), "{e}");
}

#[test]
fn samples_canonical_form_ignores_list_order() {
    let a = parse(json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Serum", "Plasma"]}})).unwrap();
    let b = parse(json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Plasma", "Serum", "Serum"]}})).unwrap();
    let c = parse(
        json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Plasma"]}}),
    )
    .unwrap();
    let (TaskSpec::Samples(a), TaskSpec::Samples(b), TaskSpec::Samples(c)) = (a, b, c) else {
        panic!("not samples")
    };
    assert_eq!(a.canonical(), b.canonical());
    assert_ne!(a.canonical(), c.canonical());
}

#[test]
fn samples_table_declares_its_grid_and_refuses_other_keys() {
    let Ok(TaskSpec::Samples(r)) = parse(
        json!({"type": "samples", "ccdl": ccdl(1), "specimen": {"material_types": ["Serum", "DNA"]}}),
    ) else {
        panic!("not samples")
    };
    let cols = samples::catalogue_domain(["de-sera".to_string(), "".into(), "de-sera".into()]);
    assert_eq!(cols, ["de-sera"]);
    let cell = |c: &str, m: &str| samples::SampleCell {
        collection: c.into(),
        material: m.into(),
        donors: 3,
        samples: 7,
    };
    let t = samples::count_table(&r, &cols, &[cell("de-sera", "Serum")]).unwrap();
    // (de-sera, -) × (DNA, Serum): every cell present, found or not
    assert_eq!(t.len(), 4);
    assert_eq!(t.get(&["de-sera", "Serum"], "samples"), Some(7));
    assert_eq!(t.get(&["-", "DNA"], "donors"), Some(0));
    // a collection id read from data that the catalogue does not declare cannot become a key
    assert!(samples::count_table(&r, &cols, &[cell("patient-123", "Serum")]).is_err());
    assert!(samples::count_table(&r, &cols, &[cell("de-sera", "Urine")]).is_err());
}
