//! `kakehashi ingest` and `kakehashi sql` end to end, with the real binary and real files:
//! round trip, replacement by lastUpdated, every bad-input case of the foundation issue, and a
//! load killed with SIGKILL.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn kh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(args)
        .output()
        .unwrap()
}

fn sql(site: &Path, q: &str) -> Vec<Value> {
    let out = kh(&[
        "sql",
        "--site-dir",
        site.to_str().unwrap(),
        "--format",
        "json",
        q,
    ]);
    assert!(
        out.status.success(),
        "sql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn count(site: &Path, table: &str) -> i64 {
    sql(site, &format!("SELECT count(*) AS n FROM {table}"))[0]["n"]
        .as_i64()
        .unwrap()
}

fn patient(id: &str, gender: &str, updated: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","meta":{{"lastUpdated":"{updated}"}},"gender":"{gender}","birthDate":"1960-05-01"}}"#
    )
}

fn condition(id: &str, patient: &str, code: &str, updated: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","meta":{{"lastUpdated":"{updated}"}},"subject":{{"reference":"Patient/{patient}"}},"code":{{"coding":[{{"system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","code":"{code}"}},{{"system":"http://snomed.info/sct","code":"233604007"}}]}},"recordedDate":"2024-01-15"}}"#
    )
}

fn ingest(site: &Path, inputs: &[&Path]) -> Output {
    let mut args = vec!["ingest", "--site-dir", site.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    kh(&args)
}

#[test]
fn round_trip_and_replacement_by_last_updated() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let a = tmp.path().join("a.ndjson");
    std::fs::write(
        &a,
        [
            patient("p1", "female", "2024-01-01T00:00:00Z"),
            patient("p2", "male", "2024-01-01T00:00:00Z"),
            condition("c1", "p1", "J18.9", "2024-01-01T00:00:00Z"),
        ]
        .join("\n"),
    )
    .unwrap();
    let out = ingest(&site, &[&a]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("snapshot 1"), "{text}");
    assert_eq!(count(&site, "patient"), 2);
    assert_eq!(count(&site, "condition"), 2, "one row per coding");
    // newer c1 (different code) replaces the old rows in the view; older p2 does not replace
    let b = tmp.path().join("b.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(
        gz,
        "{}",
        condition("c1", "p1", "A41.9", "2024-02-01T00:00:00Z")
    )
    .unwrap();
    writeln!(gz, "{}", patient("p2", "other", "2023-12-31T00:00:00Z")).unwrap();
    std::fs::write(&b, gz.finish().unwrap()).unwrap();
    let out = ingest(&site, &[&b]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes = sql(
        &site,
        "SELECT code FROM condition WHERE code_system LIKE '%icd-10-gm' ORDER BY 1",
    );
    assert_eq!(codes, vec![serde_json::json!({"code": "A41.9"})]);
    assert_eq!(count(&site, "condition"), 2);
    let g = sql(&site, "SELECT gender FROM patient WHERE id = 'p2'");
    assert_eq!(
        g[0]["gender"], "male",
        "an older lastUpdated does not replace"
    );
    assert_eq!(count(&site, "patient"), 2);
}

fn assert_rejected(site: &Path, file: &Path, content: &[u8], needles: &[&str]) {
    std::fs::write(file, content).unwrap();
    let before = count(site, "patient");
    let out = ingest(site, &[file]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "exit 3 when something was rejected: {text}"
    );
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(text.contains(name), "names the file {name}: {text}");
    for n in needles {
        assert!(text.contains(n), "mentions `{n}`: {text}");
    }
    assert!(
        count(site, "patient") >= before,
        "nothing already stored is lost"
    );
}

#[test]
fn each_bad_input_is_named_and_nothing_stored_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let good = tmp.path().join("good.ndjson");
    std::fs::write(&good, patient("keep", "female", "2024-01-01T00:00:00Z")).unwrap();
    assert!(ingest(&site, &[&good]).status.success());
    let p = |name: &str| tmp.path().join(name);
    let ok = patient("x1", "male", "2024-01-01T00:00:00Z");
    // a truncated line (line 2)
    assert_rejected(
        &site,
        &p("truncated.ndjson"),
        format!("{ok}\n{}", &ok[..40]).as_bytes(),
        &["truncated.ndjson:2", "invalid JSON"],
    );
    // invalid JSON
    assert_rejected(
        &site,
        &p("invalid.ndjson"),
        b"{\"resourceType\": Patient}\n",
        &["invalid.ndjson:1", "invalid JSON"],
    );
    // a JSON object that is not FHIR
    assert_rejected(
        &site,
        &p("notfhir.ndjson"),
        b"{\"name\":\"x\"}\n",
        &["notfhir.ndjson:1", "resourceType"],
    );
    // an unknown resourceType
    assert_rejected(
        &site,
        &p("unknown.ndjson"),
        b"{\"resourceType\":\"Patinet\",\"id\":\"a\"}\n",
        &["unknown.ndjson:1", "Patinet", "not a FHIR R4 resource type"],
    );
    // a reference that is not a reference
    let bad_ref = r#"{"resourceType":"Condition","id":"c9","subject":{"reference":"not a reference"},"code":{"coding":[{"code":"J18"}]}}"#;
    assert_rejected(
        &site,
        &p("badref.ndjson"),
        format!("{ok}\n{bad_ref}\n").as_bytes(),
        &["badref.ndjson:2", "not a reference"],
    );
    // a date that is not a date
    let bad_date = r#"{"resourceType":"Patient","id":"d9","birthDate":"31.12.1960"}"#;
    assert_rejected(
        &site,
        &p("baddate.ndjson"),
        bad_date.as_bytes(),
        &["baddate.ndjson:1", "birth_date", "31.12.1960"],
    );
    // a gzip file cut short: the lines before the cut are loaded, the cut is reported
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..5000 {
        writeln!(
            gz,
            "{}",
            patient(&format!("g{i}"), "female", "2024-01-01T00:00:00Z")
        )
        .unwrap();
    }
    let bytes = gz.finish().unwrap();
    assert_rejected(
        &site,
        &p("cut.ndjson.gz"),
        &bytes[..bytes.len() * 2 / 3],
        &["cut.ndjson.gz", "gzip data ends early"],
    );
    // the first good patient is still there, and the good line of the mixed files too
    let ids = sql(&site, "SELECT id FROM patient WHERE id IN ('keep', 'x1')");
    assert_eq!(ids.len(), 2, "{ids:?}");
    // --on-error fail commits nothing
    let before = count(&site, "patient");
    std::fs::write(
        p("mixed.ndjson"),
        format!(
            "{}\nnot json\n",
            patient("new1", "male", "2024-01-01T00:00:00Z")
        ),
    )
    .unwrap();
    let out = kh(&[
        "ingest",
        "--on-error",
        "fail",
        "--site-dir",
        site.to_str().unwrap(),
        p("mixed.ndjson").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mixed.ndjson:2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&site, "patient"), before);
}

#[test]
fn a_load_killed_with_sigkill_leaves_the_previous_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let first = tmp.path().join("first.ndjson");
    std::fs::write(
        &first,
        (0..100)
            .map(|i| patient(&format!("a{i}"), "female", "2024-01-01T00:00:00Z"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    assert!(ingest(&site, &[&first]).status.success());
    assert_eq!(count(&site, "patient"), 100);
    // a large second load, killed mid-way
    let big = tmp.path().join("big.ndjson");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        for i in 0..400_000 {
            writeln!(
                w,
                "{}",
                condition(
                    &format!("c{i}"),
                    &format!("b{}", i % 1000),
                    "J18.9",
                    "2024-01-01T00:00:00Z"
                )
            )
            .unwrap();
            if i % 4 == 0 {
                writeln!(
                    w,
                    "{}",
                    patient(&format!("b{i}"), "male", "2024-01-01T00:00:00Z")
                )
                .unwrap();
            }
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args([
            "ingest",
            "--site-dir",
            site.to_str().unwrap(),
            big.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until the load has written part of its new segment, then kill it
    let seg = site.join("segments").join("000002");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !seg.join("condition.parquet").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the load never started writing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the load finished before it could be killed: make the input larger"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        count(&site, "patient"),
        100,
        "the previous snapshot answers"
    );
    assert_eq!(count(&site, "condition"), 0);
    // a re-run completes (the stale lock and the orphaned segment are cleaned up)
    let out = ingest(&site, &[&big]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&site, "patient"), 100 + 100_000);
    assert_eq!(count(&site, "condition"), 800_000);
}
