use super::*;

const SARI: &str = include_str!("../../../../../docs/examples/sari-mortality.json");

#[test]
fn the_shipped_sari_mortality_dataset_reads() {
    let d = Dataset::from_json(SARI).unwrap();
    assert_eq!(d.name(), "sari-mortality");
    let names: Vec<&str> = d.spec().variables.iter().map(|v| v.name.as_str()).collect();
    for v in ["died", "age_band", "sex", "country"] {
        assert!(names.contains(&v), "{v} missing from {names:?}");
    }
    assert_eq!(d.spec().levels()["country"], ["DE", "JP"]);
    // the wire form reads back to the same dataset
    let again = Dataset::from_wire(
        serde_json::from_str(&serde_json::to_string(&d.to_wire()).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(again, d);
}

#[test]
fn errors_name_the_field() {
    let mut v: Value = serde_json::from_str(SARI).unwrap();
    v["variables"][1]["breaks"] = serde_json::json!([60, 18]);
    let e = Dataset::from_json(&v.to_string()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("spec.variables[1].breaks: give ascending"),
        "{e}"
    );
    let mut v: Value = serde_json::from_str(SARI).unwrap();
    v["cohort"]["inclusionCriteria"] = serde_json::json!("no");
    let e = Dataset::from_json(&v.to_string()).unwrap_err();
    assert!(e.to_string().starts_with("spec.cohort"), "{e}");
    let mut v: Value = serde_json::from_str(SARI).unwrap();
    v["sql"] = serde_json::json!("select *");
    let e = Dataset::from_json(&v.to_string()).unwrap_err();
    assert!(e.to_string().starts_with("spec.sql: unknown field"), "{e}");
}

#[test]
fn a_statistics_task_reads_back_and_names_what_it_does_not_declare() {
    let spec = |analysis: Value| {
        serde_json::json!({"type": "statistics", "schema_version": 1,
            "dataset": serde_json::from_str::<Value>(SARI).unwrap(), "analysis": analysis})
        .to_string()
    };
    let glm = serde_json::json!({"kind": "glm_round", "formula": "died ~ age_band + sex",
        "family": "binomial", "round": {"iteration": 0, "beta": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "null_beta": [0.0]}});
    let t = crate::TaskSpec::from_json(&spec(glm), "hub").unwrap();
    assert_eq!(t.kind(), "statistics");
    let back = crate::TaskSpec::from_json(&serde_json::to_string(&t).unwrap(), "site").unwrap();
    assert_eq!(back, t);
    let e = crate::TaskSpec::from_json(
        &spec(serde_json::json!({"kind": "summary", "variable": "weight"})),
        "hub",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("spec.analysis.variable: \"weight\" is not a variable of the dataset"),
        "{e}"
    );
    let e = crate::TaskSpec::from_json(
        &spec(serde_json::json!({"kind": "table", "variables": ["sex"], "sql": "x"})),
        "hub",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sql"), "{e}");
}
