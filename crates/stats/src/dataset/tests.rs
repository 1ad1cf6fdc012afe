use super::*;

fn wire(json: &str) -> Vec<VariableWire> {
    serde_json::from_str(json).unwrap()
}

#[test]
fn reads_the_sari_variables() {
    let s = DatasetSpec::new(
        IndexStay {
            classes: vec!["IMP".into()],
            diagnosis: vec!["J09-J22".into()],
        },
        wire(
            r#"[{"name": "died", "kind": "in_hospital_death"},
                {"name": "age_band", "kind": "age_band", "breaks": [18, 40, 60, 80]},
                {"name": "sex", "kind": "sex"},
                {"name": "country", "kind": "country", "levels": ["DE", "JP"]},
                {"name": "crp", "kind": "lab", "codes": ["http://loinc.org|1988-5"], "pick": "max", "unit": "mg/L", "days_after": 2},
                {"name": "log_crp", "kind": "log", "of": "crp"}]"#,
        ),
    )
    .unwrap();
    let l = s.levels();
    assert_eq!(l["age_band"], ["<18", "18-39", "40-59", "60-79", "80+"]);
    assert_eq!(l["sex"], ["female", "male"]);
    assert_eq!(l["country"], ["DE", "JP"]);
    assert!(s.index_patterns[0].matches("J18"));
    assert!(!s.index_patterns[0].matches("J23"));
    assert_eq!(
        age_band_of(&[18, 40, 60, 80], 39.99).as_deref(),
        Some("18-39")
    );
    assert_eq!(age_band_of(&[18, 40, 60, 80], 80.0).as_deref(), Some("80+"));
    assert_eq!(age_band_of(&[18, 40, 60, 80], 3.0).as_deref(), Some("<18"));
}

#[test]
fn errors_name_the_field() {
    let e = |json: &str| {
        DatasetSpec::new(IndexStay::default(), wire(json))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        e(r#"[{"name": "x", "kind": "sex", "breaks": [1]}]"#),
        "variables[0].breaks: not used by a variable of kind sex"
    );
    assert!(
        e(r#"[{"name": "x", "kind": "age_band", "breaks": [40, 18]}]"#)
            .starts_with("variables[0].breaks: give ascending")
    );
    assert!(
        e(r#"[{"name": "x", "kind": "country"}]"#)
            .starts_with("variables[0].levels: declare the countries")
    );
    assert!(
        e(r#"[{"name": "x", "kind": "condition", "codes": ["J9-J22"]}]"#)
            .starts_with("variables[0].codes[0]:")
    );
    assert!(
        e(r#"[{"name": "x", "kind": "lab", "codes": ["1988-5"], "pick": "max", "unit": "mg/L"}]"#)
            .starts_with("variables[0].codes[0]: \"1988-5\" is not system|code")
    );
    assert!(
        e(r#"[{"name": "x", "kind": "lab", "codes": ["a|b"], "unit": "mg/L"}]"#)
            .starts_with("variables[0].pick:")
    );
    assert!(e(r#"[{"name": "x", "kind": "log", "of": "y"}]"#).starts_with("variables[0].of:"));
    assert!(
        e(r#"[{"name": "x", "kind": "weight"}]"#)
            .starts_with("variables[0].kind: unknown kind \"weight\"")
    );
    assert!(
        e(r#"[{"name": "x", "kind": "sex"}, {"name": "x", "kind": "site"}]"#)
            .contains("declared twice")
    );
    assert!(e(r#"[{"name": "2x", "kind": "sex"}]"#).starts_with("variables[0].name:"));
    assert!(e("[]").starts_with("variables: declare"));
}
