//! References within a Bundle, end to end through `kakehashi ingest`, `sql`, `cohort count` and
//! `sof run`: transaction Bundles whose entries name each other by `urn:uuid:` (as Synthea and
//! many hospital exporters write them), by absolute `fullUrl`s and `urn:oid:`, forward or not,
//! load with every reference key resolved; a reference that names no entry is counted and
//! reported with its location, never silently empty.

mod common;

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn kh(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ingest(site: &Path, inputs: &[&Path], extra: &[&str]) -> Output {
    let mut args = vec!["ingest", "--site-dir", site.to_str().unwrap()];
    args.extend(extra);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    kh(&args)
}

fn ingest_json(site: &Path, input: &Path) -> (Option<i32>, Value) {
    let out = ingest(site, &[input], &["--json"]);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("ingest --json: {}", text(&out)));
    (out.status.code(), v)
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
    assert!(out.status.success(), "sql failed: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

const VIEWS: [&str; 14] = [
    "patient",
    "encounter",
    "condition",
    "observation",
    "observation_component",
    "specimen",
    "medication",
    "medication_request",
    "medication_administration",
    "medication_statement",
    "procedure",
    "microbiology_isolate",
    "microbiology_susceptibility",
    "consent",
];

/// A deterministic uuid for a resource `Type/id`, the same in every Bundle (as uuid v5 would be).
fn uuid_of(key: &str) -> String {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        (salt, key).hash(&mut h);
        h.finish()
    };
    let hex = format!("{:016x}{:016x}", half(1), half(2));
    format!(
        "{}-{}-5{}-a{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Every `reference` string in a JSON value, rewritten by `f` (None: kept).
fn rewrite_references(v: &mut Value, f: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "reference"
                    && let Some(new) = x.as_str().and_then(f)
                {
                    *x = Value::String(new);
                } else {
                    rewrite_references(x, f);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_references(x, f)),
        _ => {}
    }
}

/// Writes the MII Bundles into `out` rewritten as a POST transaction exporter writes them: each
/// entry's fullUrl becomes `urn:uuid:…`, every `Type/id` reference to an entry of the same Bundle
/// becomes that urn, the entries come in reverse order (so references that pointed back now
/// point forward), and half the resources (chosen by their key, the same in every Bundle) lose
/// their id, as in a POST, so they are named by their uuid; references to such a resource from
/// another Bundle then use its uuid as a server would. Returns the new id of each renamed id.
fn convert_mii(files: &[PathBuf], out: &Path) -> HashMap<String, String> {
    let bundles: Vec<Value> = files
        .iter()
        .map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap())
        .collect();
    let key = |r: &Value| {
        format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        )
    };
    let dropped = |k: &str| uuid_of(k).as_bytes()[0].is_multiple_of(2);
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut everywhere = HashSet::new();
    for b in &bundles {
        for e in b["entry"].as_array().unwrap() {
            let k = key(&e["resource"]);
            if dropped(&k) {
                let id = e["resource"]["id"].as_str().unwrap().to_owned();
                let old = renamed.insert(id.clone(), uuid_of(&k));
                assert!(
                    old.is_none_or(|o| o == uuid_of(&k)),
                    "{id} names resources of two types: renaming by id would be ambiguous"
                );
            }
            everywhere.insert(k);
        }
    }
    std::fs::create_dir_all(out).unwrap();
    for (f, mut b) in files.iter().zip(bundles) {
        let here: HashSet<String> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| key(&e["resource"]))
            .collect();
        let entries = b["entry"].as_array_mut().unwrap();
        for e in entries.iter_mut() {
            let k = key(&e["resource"]);
            e["fullUrl"] = json!(format!("urn:uuid:{}", uuid_of(&k)));
            rewrite_references(&mut e["resource"], &|r| {
                if here.contains(r) {
                    Some(format!("urn:uuid:{}", uuid_of(r)))
                } else if everywhere.contains(r) && dropped(r) {
                    Some(format!("{}/{}", r.split('/').next().unwrap(), uuid_of(r)))
                } else {
                    None
                }
            });
            if dropped(&k) {
                e["resource"].as_object_mut().unwrap().remove("id");
                e["request"] = json!({"method": "POST", "url": e["resource"]["resourceType"]});
            }
        }
        entries.reverse();
        std::fs::write(
            out.join(f.file_name().unwrap()),
            serde_json::to_vec_pretty(&b).unwrap(),
        )
        .unwrap();
    }
    renamed
}

/// A view's rows as sorted JSON texts, each string value renamed by `renamed`.
fn rows(site: &Path, view: &str, renamed: &HashMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = sql(site, &format!("SELECT * FROM {view}"))
        .into_iter()
        .map(|mut r| {
            for v in r.as_object_mut().unwrap().values_mut() {
                if let Some(new) = v.as_str().and_then(|s| renamed.get(s)) {
                    *v = Value::String(new.clone());
                }
            }
            r.to_string()
        })
        .collect();
    out.sort();
    out
}

/// Counts patients with any of the conditions coded in the site, aged 0 to 150: a cohort that
/// needs every condition linked to its patient.
fn cohort_count(site: &Path, codes: &[String], dir: &Path) -> u64 {
    let term = |c: &String| json!({"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": c, "display": c});
    let q = json!({"version": "http://to_be_decided.com/draft-1/schema#", "inclusionCriteria": [
        [{"context": {"system": "fdpg.mii.cds", "code": "Diagnose", "display": "Diagnose", "version": "1.0.0"}, "termCodes": codes.iter().map(term).collect::<Vec<_>>()}],
        [{"context": {"system": "fdpg.mii.cds", "code": "Patient", "display": "Patient", "version": "1.0.0"},
          "termCodes": [{"system": "http://snomed.info/sct", "code": "424144002", "display": "Current chronological age"}],
          "valueFilter": {"type": "quantity-range", "minValue": 0, "maxValue": 150, "unit": {"code": "a", "display": "a"}}}]]});
    let f = dir.join("cohort.json");
    std::fs::write(&f, q.to_string()).unwrap();
    let out = Command::new(EXE)
        .args(["cohort", "count", "--format", "json", "--site-dir"])
        .arg(site)
        .arg("--ccdl")
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["count"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

/// The MII KDS Bundles rewritten into the urn:uuid form load exactly as the originals: every
/// row of every view equal up to the renamed ids (so every reference column links the same
/// resources), nothing unresolved, and a cohort over diagnoses and age counts the same patients.
#[test]
fn mii_bundles_in_urn_uuid_form_load_as_the_originals() {
    let tmp = tempfile::tempdir().unwrap();
    let originals = common::kds_bundles();
    let converted = tmp.path().join("urn");
    let renamed = convert_mii(&originals, &converted);
    assert!(renamed.len() > 100, "{} resources renamed", renamed.len());
    let orig_dir = tmp.path().join("orig");
    std::fs::create_dir(&orig_dir).unwrap();
    for f in &originals {
        std::fs::copy(f, orig_dir.join(f.file_name().unwrap())).unwrap();
    }
    let (a, b) = (tmp.path().join("site-orig"), tmp.path().join("site-urn"));
    let (code_a, sum_a) = ingest_json(&a, &orig_dir);
    let (code_b, sum_b) = ingest_json(&b, &converted);
    assert_eq!(code_a, code_b, "{sum_a}\n{sum_b}");
    assert_eq!(sum_a["stored"], sum_b["stored"]);
    assert_eq!(sum_a["rows"], sum_b["rows"]);
    assert_eq!(sum_a["rejected"], sum_b["rejected"]);
    assert_eq!(sum_b["unresolved"], 0, "{}", sum_b["unresolved_refs"]);
    let mut linked = 0;
    for view in VIEWS {
        let (want, got) = (rows(&a, view, &renamed), rows(&b, view, &HashMap::new()));
        assert_eq!(want.len(), got.len(), "{view}: rows");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w, g, "{view}: a row differs");
        }
        // every column some row has (the JSON output leaves nulls out)
        let columns: std::collections::BTreeSet<String> = sql(&b, &format!("SELECT * FROM {view}"))
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys().cloned())
            .collect();
        for c in columns.iter().filter(|c| c.ends_with("_id")) {
            linked += sql(&b, &format!("SELECT count({c}) AS n FROM {view}"))[0]["n"]
                .as_i64()
                .unwrap();
        }
    }
    assert!(
        linked > 500,
        "{linked} reference keys in the urn:uuid load: the comparison would not show a lost link"
    );
    let codes: Vec<String> = sql(
        &a,
        "SELECT DISTINCT code FROM condition WHERE code_system LIKE '%icd-10-gm%'",
    )
    .iter()
    .map(|r| r["code"].as_str().unwrap().to_owned())
    .collect();
    assert!(!codes.is_empty());
    let (n_a, n_b) = (
        cohort_count(&a, &codes, tmp.path()),
        cohort_count(&b, &codes, tmp.path()),
    );
    println!(
        "{} MII bundles, {} resources renamed, {linked} reference keys in the urn:uuid load; cohort {n_a} patients in both",
        originals.len(),
        renamed.len()
    );
    assert!(n_a > 0, "the cohort finds patients in the original bundles");
    assert_eq!(n_a, n_b, "the same patients in the urn:uuid form");
}

fn bundle(entries: Vec<(String, Value)>) -> String {
    let entries: Vec<Value> = entries.into_iter().map(|(url, r)| json!({"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}})).collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string()
}

/// A Synthea-shaped transaction Bundle: the Patient named `urn:uuid:<id>`, its Encounter,
/// Condition and Observations referring to it and to the Encounter by those urns; the Condition
/// comes before the Encounter it names (a forward reference), and the file is gzipped too.
#[test]
fn synthea_shaped_bundles_link_every_resource_to_its_patient() {
    let tmp = tempfile::tempdir().unwrap();
    let (p, e) = (
        "2f9a4c1e-3b7d-4e8a-9c1f-0d2e4b6a8c01",
        "7c3e5a9b-1d2f-4a6c-8e0b-3f5d7a9c1e22",
    );
    let urn = |u: &str| format!("urn:uuid:{u}");
    let r = |u: &str| json!({"reference": urn(u)});
    let cond = json!({"resourceType": "Condition", "id": "c3a1b2c4-0000-4000-8000-000000000001", "subject": r(p), "encounter": r(e),
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "233604007", "display": "Pneumonia"}]}, "onsetDateTime": "2024-01-10T08:00:00Z"});
    let obs = |id: &str, value: f64| {
        json!({"resourceType": "Observation", "id": id, "status": "final", "subject": r(p), "encounter": r(e),
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}, "effectiveDateTime": "2024-01-10T08:00:00Z",
        "valueQuantity": {"value": value, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"}})
    };
    let text = bundle(vec![
        (urn("c3a1b2c4-0000-4000-8000-000000000001"), cond),
        (
            urn(p),
            json!({"resourceType": "Patient", "id": p, "gender": "female", "birthDate": "1951-03-02"}),
        ),
        (
            urn(e),
            json!({"resourceType": "Encounter", "id": e, "status": "finished", "subject": r(p),
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "period": {"start": "2024-01-10T08:00:00Z", "end": "2024-01-14T08:00:00Z"}}),
        ),
        (
            urn("0b1c2d3e-0000-4000-8000-000000000002"),
            obs("0b1c2d3e-0000-4000-8000-000000000002", 38.9),
        ),
        (
            urn("0b1c2d3e-0000-4000-8000-000000000003"),
            obs("0b1c2d3e-0000-4000-8000-000000000003", 37.1),
        ),
    ]);
    let plain = tmp.path().join("synthea.json");
    std::fs::write(&plain, &text).unwrap();
    let gz = tmp.path().join("synthea-gz.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for input in [&plain, &gz] {
        let site = tmp.path().join(format!(
            "site-{}",
            input.file_name().unwrap().to_string_lossy()
        ));
        let out = ingest(&site, &[input], &[]);
        assert!(out.status.success(), "{}", self::text(&out));
        let q = "SELECT 'encounter' AS v, patient_id, NULL AS encounter_id FROM encounter UNION ALL SELECT 'condition', patient_id, encounter_id FROM condition \
                 UNION ALL SELECT 'observation', patient_id, encounter_id FROM observation ORDER BY v";
        let got: Vec<(String, String, String)> = sql(&site, q)
            .iter()
            .map(|r| {
                (
                    r["v"].as_str().unwrap().into(),
                    r["patient_id"].as_str().unwrap_or("").into(),
                    r["encounter_id"].as_str().unwrap_or("-").into(),
                )
            })
            .collect();
        let want = |v: &str, enc: &str| (v.to_owned(), p.to_owned(), enc.to_owned());
        assert_eq!(
            got,
            [
                want("condition", e),
                want("encounter", "-"),
                want("observation", e),
                want("observation", e)
            ],
            "{}",
            input.display()
        );
        let linked = sql(
            &site,
            "SELECT count(*) AS n FROM observation o JOIN patient p ON o.patient_id = p.id WHERE p.gender = 'female'",
        );
        assert_eq!(linked[0]["n"], 2);
    }
    // `sof run` resolves them the same way
    let out = Command::new(EXE)
        .args(["sof", "run", "--format", "csv", "--view"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fhir/views/condition.json"))
        .arg(&plain)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", self::text(&out));
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.contains(&format!(",{p},{e},"))),
        "{csv}"
    );
}

/// Absolute `fullUrl`s (a FHIR server's, and one that is not of the `Type/id` form) and
/// `urn:oid:` ones resolve to their entries' type and id; relative references keep working.
#[test]
fn absolute_and_oid_full_urls_resolve_to_their_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "https://kis.example-klinikum.de/fhir";
    let text = bundle(vec![
        (
            format!("{base}/Condition/c1"),
            json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "https://kis.example-klinikum.de/export/patients/4711"},
            "encounter": {"reference": "urn:oid:1.2.276.0.76.3.1.78.1.42"}, "code": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18.9"}]}}),
        ),
        (
            format!("{base}/Condition/c2"),
            json!({"resourceType": "Condition", "id": "c2", "subject": {"reference": format!("{base}/Patient/p2")},
            "encounter": {"reference": "Encounter/e2"}, "code": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "A41.9"}]}}),
        ),
        (
            "https://kis.example-klinikum.de/export/patients/4711".to_owned(),
            json!({"resourceType": "Patient", "id": "p4711", "gender": "male"}),
        ),
        (
            format!("{base}/Patient/p2"),
            json!({"resourceType": "Patient", "id": "p2", "gender": "female"}),
        ),
        (
            "urn:oid:1.2.276.0.76.3.1.78.1.42".to_owned(),
            json!({"resourceType": "Encounter", "id": "e42", "status": "finished", "subject": {"reference": "Patient/p4711"},
            "class": {"code": "IMP"}}),
        ),
    ]);
    let f = tmp.path().join("kis.json");
    std::fs::write(&f, text).unwrap();
    let site = tmp.path().join("site");
    let out = ingest(&site, &[&f], &[]);
    assert!(out.status.success(), "{}", self::text(&out));
    let got = sql(
        &site,
        "SELECT id, patient_id, encounter_id FROM condition ORDER BY id",
    );
    assert_eq!(
        got,
        vec![
            json!({"id": "c1", "patient_id": "p4711", "encounter_id": "e42"}),
            json!({"id": "c2", "patient_id": "p2", "encounter_id": "e2"})
        ]
    );
    assert_eq!(
        sql(&site, "SELECT patient_id FROM encounter"),
        vec![json!({"patient_id": "p4711"})]
    );
}

/// An `urn:uuid:` reference that names no entry of its Bundle, and one in NDJSON, leave their key
/// empty but are counted by column and listed with file, entry (or line) and element; exit code
/// 3. With `--on-error fail` such a load stores nothing.
#[test]
fn unresolved_references_are_counted_and_reported_with_their_location() {
    let tmp = tempfile::tempdir().unwrap();
    let p = "urn:uuid:11111111-2222-4333-8444-555555555555";
    let gone = "urn:uuid:99999999-0000-4000-8000-000000000000";
    let text = bundle(vec![
        (
            p.to_owned(),
            json!({"resourceType": "Patient", "gender": "male"}),
        ),
        (
            "urn:uuid:c1".to_owned(),
            json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": gone},
            "code": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18.9"}]}}),
        ),
        (
            "urn:uuid:c2".to_owned(),
            json!({"resourceType": "Condition", "id": "c2", "subject": {"reference": p},
            "code": {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "J18.9"}]}}),
        ),
    ]);
    let f = tmp.path().join("dangling.json");
    std::fs::write(&f, text).unwrap();
    let nd = tmp.path().join("Observation.ndjson");
    std::fs::write(&nd, format!("{}\n", json!({"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": p},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}}))).unwrap();
    let site = tmp.path().join("site");
    let out = ingest(&site, &[&f, &nd], &[]);
    let report = self::text(&out);
    assert_eq!(out.status.code(), Some(3), "{report}");
    assert!(report.contains("unresolved references: 2"), "{report}");
    assert!(
        report.contains("condition.patient_id") && report.contains("observation.patient_id"),
        "{report}"
    );
    assert!(
        report.contains("dangling.json entry 2: Condition → condition.patient_id")
            && report.contains(gone),
        "{report}"
    );
    assert!(
        report.contains("Observation.ndjson:1: Observation → observation.patient_id"),
        "{report}"
    );
    // stored, with the key empty; the resolved one linked
    let got = sql(&site, "SELECT id, patient_id FROM condition ORDER BY id");
    assert_eq!(
        got,
        vec![
            json!({"id": "c1"}),
            json!({"id": "c2", "patient_id": "11111111-2222-4333-8444-555555555555"})
        ]
    );
    assert_eq!(
        sql(&site, "SELECT count(*) AS n FROM observation")[0]["n"],
        1
    );
    // the JSON summary counts per column
    let (code, v) = ingest_json(&tmp.path().join("site2"), &f);
    assert_eq!(code, Some(3));
    assert_eq!(v["unresolved"], 1);
    assert_eq!(
        v["unresolved_by_column"],
        json!({"condition.patient_id": 1})
    );
    assert!(
        v["unresolved_refs"][0]
            .as_str()
            .unwrap()
            .contains("dangling.json entry 2"),
        "{v}"
    );
    // --on-error fail: nothing stored
    let strict = tmp.path().join("site3");
    let out = ingest(&strict, &[&f], &["--on-error", "fail"]);
    assert_eq!(out.status.code(), Some(1), "{}", self::text(&out));
    assert!(self::text(&out).contains(gone), "{}", self::text(&out));
    assert!(!strict.join("CURRENT").exists(), "nothing committed");
    // `sof run` says so too
    let out = Command::new(EXE)
        .args(["sof", "run", "--view"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fhir/views/condition.json"))
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unresolved: ")
            && err.contains("dangling.json entry 2")
            && err.contains("1 reference(s) unresolved"),
        "{err}"
    );
}
