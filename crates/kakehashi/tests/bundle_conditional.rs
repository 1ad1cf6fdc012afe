//! Conditional references (`Organization?identifier=…`), as Synthea writes them in its
//! transaction Bundles for the receiving server to resolve, through `kakehashi ingest`: a load
//! of files cannot run the search, so each is counted and reported as unresolved with its
//! location, never read as a key and never silently empty.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sql(site: &Path, q: &str) -> Vec<Value> {
    let out = Command::new(EXE)
        .args([
            "sql",
            "--site-dir",
            site.to_str().unwrap(),
            "--format",
            "json",
            q,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn conditional_references_are_counted_and_reported_as_unresolved() {
    let tmp = tempfile::tempdir().unwrap();
    let p = "urn:uuid:5d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    let org = "Organization?identifier=https://github.com/synthetichealth/synthea|ef6ab57c-ed94-3dbe-9861-812d515918b3";
    // with a slash after the '?': never to be read as `Type/id` from its last two segments
    let by_mrn = "Patient?identifier=http://hospital.example/mrn|4711";
    let entries = [
        (
            p,
            json!({"resourceType": "Patient", "id": "5d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "gender": "female",
                   "managingOrganization": {"reference": org}}),
        ),
        (
            "urn:uuid:e1",
            json!({"resourceType": "Encounter", "id": "e1", "status": "finished", "subject": {"reference": p},
                   "class": {"code": "AMB"}, "serviceProvider": {"reference": org}}),
        ),
        (
            "urn:uuid:c1",
            json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": by_mrn}, "encounter": {"reference": "urn:uuid:e1"},
                   "code": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18.9"}]}}),
        ),
    ];
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(url, r)| json!({"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}))
        .collect();
    let f = tmp.path().join("synthea.json");
    std::fs::write(
        &f,
        json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string(),
    )
    .unwrap();
    let site = tmp.path().join("site");
    let out = Command::new(EXE)
        .args(["ingest", "--json", "--site-dir", site.to_str().unwrap()])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rejected"], 0, "{v}");
    assert_eq!(v["unresolved"], 3, "{v}");
    assert_eq!(
        v["unresolved_by_column"],
        json!({"condition.patient_id": 1, "encounter.service_provider_id": 1, "patient.managing_organization": 1}),
        "{v}"
    );
    let listed: Vec<&str> = v["unresolved_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for (entry, reference) in [("entry 1", org), ("entry 2", org), ("entry 3", by_mrn)] {
        assert!(
            listed
                .iter()
                .any(|l| l.contains(&format!("synthea.json {entry}"))
                    && l.contains(reference)
                    && l.contains("conditional reference")),
            "{entry}: {listed:#?}"
        );
    }
    // stored with those keys empty, the resolvable ones linked
    assert_eq!(
        sql(&site, "SELECT id, patient_id, encounter_id FROM condition"),
        vec![json!({"id": "c1", "encounter_id": "e1"})]
    );
    assert_eq!(
        sql(
            &site,
            "SELECT patient_id, service_provider_id FROM encounter"
        ),
        vec![json!({"patient_id": "5d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"})]
    );
}
