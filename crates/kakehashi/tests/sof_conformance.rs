//! Every case of the SQL-on-FHIR v2 conformance suite through the real binary:
//! `kakehashi sof run --view V.json --format json INPUT.ndjson`. Prints one line per case and a
//! closing `N passed, N failed` line; fails if any shareable case fails. Experimental cases are
//! run and reported, not hidden.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            _ => a == b,
        },
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

/// Rows compared as a multiset: the spec does not order rows.
fn rows_match(got: &[Value], want: &[Value]) -> bool {
    let mut used = vec![false; got.len()];
    got.len() == want.len()
        && want.iter().all(
            |w| match (0..got.len()).find(|&i| !used[i] && value_eq(&got[i], w)) {
                Some(i) => {
                    used[i] = true;
                    true
                }
                None => false,
            },
        )
}

#[test]
fn sql_on_fhir_v2_conformance_through_sof_run() {
    let suite_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fhir/tests/sql-on-fhir-v2");
    let mut files: Vec<_> = std::fs::read_dir(&suite_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 22, "the suite has 22 files");
    let tmp = tempfile::tempdir().unwrap();
    let (mut pass, mut fail, mut exp_pass, mut exp_fail) = (0, 0, 0, 0);
    let mut failed = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let input = tmp.path().join(format!("input-{fi}.ndjson"));
        let lines: Vec<String> = suite["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        std::fs::write(&input, lines.join("\n") + "\n").unwrap();
        for (ti, t) in suite["tests"].as_array().unwrap().iter().enumerate() {
            let name = format!(
                "{}/{}",
                f.file_name().unwrap().to_string_lossy(),
                t["title"].as_str().unwrap_or("?")
            );
            let experimental = t["tags"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "experimental"));
            let view = tmp.path().join(format!("view-{fi}-{ti}.json"));
            std::fs::write(&view, t["view"].to_string()).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
                .args(["sof", "run", "--format", "json", "--view"])
                .arg(&view)
                .arg(&input)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let (ok, why) = if t.get("expectError").and_then(Value::as_bool) == Some(true) {
                // an invalid view must fail and say which element is wrong
                let names_element = stderr.contains("ViewDefinition")
                    || stderr.contains("column")
                    || stderr.contains("where");
                (
                    !out.status.success() && names_element,
                    format!("exit {:?}, stderr: {stderr}", out.status.code()),
                )
            } else {
                match serde_json::from_slice::<Vec<Value>>(&out.stdout) {
                    Ok(got) => match t.get("expect").and_then(Value::as_array) {
                        Some(want) => (
                            out.status.success() && rows_match(&got, want),
                            format!("got {}", serde_json::to_string(&got).unwrap()),
                        ),
                        None => (out.status.success(), stderr.to_string()),
                    },
                    Err(e) => (false, format!("output is not JSON ({e}); stderr: {stderr}")),
                }
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
                println!("{tag}FAIL {name}: {why}");
                if experimental {
                    exp_fail += 1
                } else {
                    fail += 1;
                    failed.push(name);
                }
            }
        }
    }
    println!("experimental: {exp_pass} passed, {exp_fail} failed");
    println!("{pass} passed, {fail} failed");
    assert!(failed.is_empty(), "shareable cases failed: {failed:#?}");
    assert_eq!(pass, 123, "every shareable case ran");
}
