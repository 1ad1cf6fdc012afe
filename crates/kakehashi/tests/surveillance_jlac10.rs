//! A Japanese site whose pathogen tests carry only JLAC10 codes gives the same tests and
//! positives as the same results coded in LOINC; a JLAC10 code the table does not list is
//! counted and reported as "unmapped". FHIR written here, loaded with the real `ingest` into a
//! real store, the series computed by the real `surveillance series`.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const JLAC10_OID: &str = "urn:oid:1.2.392.200119.4.504";
const JLAC10_MEDIS: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
const LOINC: &str = "http://loinc.org";

fn kakehashi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// One SARI stay in January 2025 per patient (JP Core ICD-10 J12.8) and one test each, coded
/// with (system, code), positive or not.
fn site_ndjson(tests: &[(&str, &str, bool)]) -> String {
    let mut out = String::new();
    for (i, (system, code, positive)) in tests.iter().enumerate() {
        let p = format!("p{i}");
        let day = 6 + i;
        out.push_str(&format!(
            r#"{{"resourceType":"Patient","id":"{p}","gender":"female","birthDate":"1950-03-0{}","address":[{{"country":"JP"}}]}}"#,
            1 + i % 9
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"resourceType":"Encounter","id":"e{i}","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}},"subject":{{"reference":"Patient/{p}"}},"period":{{"start":"2025-01-{day:02}T09:00:00+09:00","end":"2025-01-{:02}T09:00:00+09:00"}}}}"#,
            day + 5
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"resourceType":"Condition","id":"c{i}","subject":{{"reference":"Patient/{p}"}},"encounter":{{"reference":"Encounter/e{i}"}},"code":{{"coding":[{{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10","code":"J12.8"}}]}},"recordedDate":"2025-01-{day:02}"}}"#
        ));
        out.push('\n');
        let (v, d) = if *positive {
            ("260373001", "Detected")
        } else {
            ("260415000", "Not detected")
        };
        out.push_str(&format!(
            r#"{{"resourceType":"Observation","id":"o{i}","status":"final","code":{{"coding":[{{"system":"{system}","code":"{code}"}}]}},"subject":{{"reference":"Patient/{p}"}},"encounter":{{"reference":"Encounter/e{i}"}},"effectiveDateTime":"2025-01-{day:02}T10:00:00+09:00","valueCodeableConcept":{{"coding":[{{"system":"http://snomed.info/sct","code":"{v}","display":"{d}"}}]}}}}"#
        ));
        out.push('\n');
    }
    out
}

/// Loads the site and returns the series JSON (one series over the site, no breakdown).
fn series(dir: &Path, name: &str, tests: &[(&str, &str, bool)]) -> Value {
    let input = dir.join(format!("{name}.ndjson"));
    std::fs::write(&input, site_ndjson(tests)).unwrap();
    let site = dir.join(name);
    let out = kakehashi(&[
        "ingest",
        "--site-dir",
        site.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kakehashi(&[
        "surveillance",
        "series",
        "--site-dir",
        site.to_str().unwrap(),
        "--definition",
        "sari-icosari",
        "--by",
        "",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "series: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (tests, positives) per pathogen, summed over the weeks.
fn totals(v: &Value) -> Vec<(String, u64, u64)> {
    let names: Vec<String> = v["series"]["pathogens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let mut t = vec![(0u64, 0u64); names.len()];
    for row in v["series"]["rows"].as_array().unwrap() {
        for (i, p) in row["positivity"].as_array().unwrap().iter().enumerate() {
            t[i].0 += p["tests"].as_u64().unwrap();
            t[i].1 += p["positives"].as_u64().unwrap();
        }
    }
    names
        .into_iter()
        .zip(t)
        .map(|(n, (a, b))| (n, a, b))
        .collect()
}

fn notes(v: &Value) -> Vec<String> {
    v["series"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn jlac10_only_results_count_as_their_loinc_twins_and_unknown_codes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    // The same six results, coded in JLAC10 only (published codes, under JP Core's MEDIS URI or
    // the OID) and in LOINC only.
    let jlac10 = [
        (JLAC10_MEDIS, "5F625145006387511", false), // SARS-CoV-2 RNA, RT-PCR
        (JLAC10_OID, "5F625145006387511", true),
        (JLAC10_MEDIS, "5F625141006319011", true), // SARS-CoV-2 antigen
        (JLAC10_OID, "5F625141006319011", false),
        (JLAC10_MEDIS, "5F399141009919011", true), // influenza A/B antigen
        (JLAC10_OID, "5F399141009919011", false),
    ];
    let loinc = [
        (LOINC, "94500-6", false),
        (LOINC, "94500-6", true),
        (LOINC, "94558-4", true),
        (LOINC, "94558-4", false),
        (LOINC, "80382-5", true),
        (LOINC, "80382-5", false),
    ];
    let j = series(dir.path(), "jp-jlac10", &jlac10);
    let l = series(dir.path(), "jp-loinc", &loinc);
    assert_eq!(j["sites"][0]["country"], "JP");
    let tj = totals(&j);
    assert_eq!(tj, totals(&l));
    assert_eq!(
        tj.iter().find(|t| t.0 == "sars-cov-2").map(|t| (t.1, t.2)),
        Some((4, 2))
    );
    assert_eq!(
        tj.iter().find(|t| t.0 == "influenza").map(|t| (t.1, t.2)),
        Some((2, 1))
    );
    assert!(
        !notes(&j).iter().any(|n| n.starts_with("unmapped")),
        "{:?}",
        notes(&j)
    );

    // An RSV nucleic-acid result under a JLAC10 code the table does not list (analyte 5F430,
    // identification 1450, material 099 "other"; the table lists the swab code 5F430145006387511):
    // counted, and reported as unmapped; an RSV antibody code (1430) is
    // not a test for infection and is not counted.
    let mut more = jlac10.to_vec();
    more.push((JLAC10_OID, "5F430145009987511", true));
    more.push((JLAC10_OID, "5F430143002314101", true));
    let u = series(dir.path(), "jp-unmapped", &more);
    let tu = totals(&u);
    assert_eq!(
        tu.iter().find(|t| t.0 == "rsv").map(|t| (t.1, t.2)),
        Some((1, 1))
    );
    assert_eq!(u["sites"][0]["tests"], 7);
    let n = notes(&u);
    assert!(
        n.iter().any(|n| n.starts_with("unmapped: 1 test results")),
        "{n:?}"
    );
}

/// Every lab result whose JLAC10 code the JLAC10 → LOINC map does not list is counted per code
/// by `kakehashi ingest` and reported, whatever the test: a pathogen test's (which surveillance
/// also counts as unmapped), an antibody's and a non-infection lab's alike. Known codes and
/// LOINC-coded results are not counted.
#[test]
fn ingest_counts_and_reports_every_jlac10_code_not_in_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let tests = [
        (JLAC10_MEDIS, "5F625145006387511", true), // in the map: SARS-CoV-2 RNA
        (JLAC10_OID, "5F625145006387511", false),
        (JLAC10_OID, "5F430145009987511", true), // RSV NAA, material "other": not in the map
        (JLAC10_OID, "5F430143002314101", true), // RSV antibody: not in the map
        (JLAC10_MEDIS, "3D046000002227101", false), // a non-infection lab: not in the map
        (JLAC10_OID, "3D046000002227101", false),
        (LOINC, "94500-6", true), // LOINC: not a JLAC10 code at all
    ];
    let input = dir.path().join("jp.ndjson");
    std::fs::write(&input, site_ndjson(&tests)).unwrap();
    let site = dir.path().join("jp");
    let out = kakehashi(&[
        "ingest",
        "--json",
        "--site-dir",
        site.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["jlac10_unmapped"],
        serde_json::json!({"results": 4, "by_code": {"3D046000002227101": 2, "5F430143002314101": 1, "5F430145009987511": 1}}),
        "{v}"
    );
    // and in words, on a second load of the same site
    let out = kakehashi(&[
        "ingest",
        "--site-dir",
        site.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("lab results with a JLAC10 code not in the JLAC10 → LOINC map: 4 (3 codes")
            && text.contains("3D046000002227101")
            && text.contains("5F430145009987511"),
        "{text}"
    );
}
