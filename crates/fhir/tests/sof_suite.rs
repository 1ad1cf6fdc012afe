//! The SQL-on-FHIR v2 conformance suite through the library (the binary's `sof run` is checked
//! by `crates/kakehashi/tests/sof_conformance.rs`). Prints one line per case.

use kakehashi_fhir::sof::{ViewDefinition, row_to_json};
use serde_json::Value;
use std::path::Path;

fn suite_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql-on-fhir-v2")
}

fn run_case(resources: &[Value], view: &Value) -> Result<Vec<Value>, String> {
    let vd = ViewDefinition::from_json(view).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for r in resources {
        let bytes = serde_json::to_vec(r).unwrap();
        kakehashi_fhir::json::Reader::new().read(&bytes, |tape| -> Result<(), String> {
            let mut out = Vec::new();
            vd.eval(
                kakehashi_fhir::fhirpath::Node::root(tape.map_err(|e| e.to_string())?),
                &mut out,
            )
            .map_err(|e| e.to_string())?;
            rows.extend(out.iter().map(|row| Value::Object(row_to_json(&vd, row))));
            Ok(())
        })?;
    }
    Ok(rows)
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => same_number(a, b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| value_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Compares rows as a multiset (the spec does not order rows).
fn rows_match(got: &[Value], want: &[Value]) -> bool {
    if got.len() != want.len() {
        return false;
    }
    let mut used = vec![false; got.len()];
    want.iter().all(|w| {
        if let Some(i) = (0..got.len()).find(|&i| !used[i] && value_eq(&got[i], w)) {
            used[i] = true;
            true
        } else {
            false
        }
    })
}

#[test]
fn sql_on_fhir_v2_suite_through_the_library() {
    let mut files: Vec<_> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut pass, mut fail, mut exp_pass, mut exp_fail) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in files {
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let resources = suite["resources"].as_array().cloned().unwrap_or_default();
        for t in suite["tests"].as_array().unwrap() {
            let title = t["title"].as_str().unwrap_or("?");
            let experimental = t["tags"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "experimental"));
            let name = format!("{}/{}", f.file_name().unwrap().to_string_lossy(), title);
            let result = run_case(&resources, &t["view"]);
            let ok = if t.get("expectError").and_then(Value::as_bool) == Some(true) {
                result.is_err()
            } else if let Some(want) = t.get("expect").and_then(Value::as_array) {
                matches!(&result, Ok(got) if rows_match(got, want))
            } else {
                // expectColumns-only cases: the view must at least evaluate
                result.is_ok()
            };
            let tag = if experimental { "EXPERIMENTAL-" } else { "" };
            if ok {
                println!("{tag}PASS {name}");
                if experimental {
                    exp_pass += 1
                } else {
                    pass += 1
                }
            } else {
                println!(
                    "{tag}FAIL {name}: {:?}",
                    result.as_ref().map(|r| serde_json::to_string(r).unwrap())
                );
                if experimental {
                    exp_fail += 1
                } else {
                    fail += 1;
                    failures.push(name)
                }
            }
        }
    }
    println!(
        "{pass} passed, {fail} failed (shareable); experimental: {exp_pass} passed, {exp_fail} failed"
    );
    assert!(failures.is_empty(), "shareable cases failed: {failures:#?}");
}
