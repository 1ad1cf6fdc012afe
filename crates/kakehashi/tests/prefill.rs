//! Pre-fill of case report forms from a site's own data, through a real hub and real site
//! agents on loopback. The German site is built from the MII core data set's test bundles
//! (data we did not write: LOINC-coded labs, `/nL` units); the Japanese one from a bundle
//! written here with JLAC10-coded labs and a coded PCR result. The steward enrols patients
//! (`kakehashi site enrol`); a data manager asks for values on a form; the agents answer
//! after their polls:
//! - policy on (automatic): age, sex, admission date and lab values with their sources, the
//!   MII values read under LOINC and converted to the field's unit; an item without data
//!   says why;
//! - JLAC10-coded labs found through the declaration's JLAC10 codes and through the shipped
//!   JLAC10 → LOINC map (platelets 2A050000001930901 ↔ 777-3); a PCR result;
//! - manual approval: the request waits until the steward approves it with
//!   `kakehashi site prefill`;
//! - policy off for a study: refused with the reason, no value leaves the site (the site's
//!   audit log records the refusal; the hub stores no proposal);
//! - accepting a proposal saves it through the normal save path with the reason
//!   "pre-filled from site data: <source>"; an edited one says so.

mod common;

use common::net::Net;
use kakehashi_edc::StudyStatus;
use kakehashi_edc::arc::registry;
use kakehashi_edc::prefill::{PcrSource, PrefillItem, Source};
use kakehashi_edc::study::{EthicsApproval, Site};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn run(args: &[&str], dirs: &[&Path]) -> String {
    let mut c = Command::new(EXE);
    c.args(args);
    for d in dirs {
        c.arg(d);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn enrol(site_dir: &Path, study: &str, patient: &str) -> String {
    let out = Command::new(EXE)
        .args(["site", "enrol", "--site-dir"])
        .arg(site_dir)
        .args(["--study", study, "--patient", patient])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn kds_bundles() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fhir-samples/mii-kds-testdata/resources");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("Bundle-mii-exa-test-data-bundle-pat-"))
        })
        .collect();
    v.sort();
    assert!(v.len() >= 10, "{} bundles", v.len());
    v
}

/// A Japanese patient with JLAC10-coded labs and a coded nucleic-acid test result.
fn jp_bundle() -> Value {
    let jlac10 = "urn:oid:1.2.392.200119.4.504";
    let obs = |id: &str, code: &str, at: &str, value: Value| {
        let mut o = json!({
            "resourceType": "Observation", "id": id, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
            "code": {"coding": [{"system": jlac10, "code": code}]},
            "subject": {"reference": "Patient/JP-0001"},
            "effectiveDateTime": at
        });
        for (k, v) in value.as_object().unwrap() {
            o[k] = v.clone();
        }
        json!({"resource": o, "request": {"method": "PUT", "url": format!("Observation/{id}")}})
    };
    let qty = |v: f64, unit: &str| json!({"valueQuantity": {"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}});
    json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "JP-0001", "gender": "female", "birthDate": "1950-03-01",
                "address": [{"country": "JP"}]},
             "request": {"method": "PUT", "url": "Patient/JP-0001"}},
            {"resource": {"resourceType": "Encounter", "id": "JP-0001-e1", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                "subject": {"reference": "Patient/JP-0001"},
                "period": {"start": "2026-05-10T09:00:00+09:00", "end": "2026-05-24T10:00:00+09:00"}},
             "request": {"method": "PUT", "url": "Encounter/JP-0001-e1"}},
            // platelets: JLAC10 only, found through the shipped map to LOINC 777-3
            obs("jp-plt-1", "2A050000001930901", "2026-05-10T11:00:00+09:00", qty(42.0, "10*3/uL")),
            obs("jp-plt-2", "2A050000001930901", "2026-05-11T07:00:00+09:00", qty(31.0, "10*3/uL")),
            // AST, ALT, CK, LDH: JLAC10 codes of the declaration (JP-CLINS CoreLabo)
            obs("jp-ast", "3B035000002327201", "2026-05-10T11:00:00+09:00", qty(320.0, "U/L")),
            obs("jp-alt", "3B045000002327201", "2026-05-10T11:00:00+09:00", qty(118.0, "U/L")),
            obs("jp-ck", "3B010000002327201", "2026-05-11T07:00:00+09:00", qty(1450.0, "U/L")),
            // a day-5 LDH: outside the declaration's days 0 to 2
            obs("jp-ldh", "3B050000002327201", "2026-05-15T07:00:00+09:00", qty(890.0, "U/L")),
            // a nucleic-acid test with a coded result (SNOMED CT 260373001 Detected)
            obs("jp-pcr", "5F625145006387511", "2026-05-10T15:00:00+09:00",
                json!({"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260373001"}]}})),
        ]
    })
}

fn study(mut s: kakehashi_edc::Study) -> kakehashi_edc::Study {
    s.status = StudyStatus::Active;
    s.ethics = ["DE", "JP"]
        .map(|c| EthicsApproval {
            country: c.into(),
            committee: format!("Committee {c}"),
            reference: format!("EC-{c}"),
            approved_on: "2026-01-15".into(),
        })
        .to_vec();
    s.sites = [("de_a", "DE"), ("jp_b", "JP")]
        .map(|(d, c)| Site {
            dag: d.into(),
            name: d.into(),
            country: c.into(),
        })
        .to_vec();
    s
}

fn form_url(net: &Net, study: &str, record: &str, event: &str, form: &str) -> String {
    format!(
        "{}/api/studies/{study}/subjects/{record}/forms/{event}/{form}/1",
        net.url
    )
}

async fn ask(net: &Net, url: &str) -> Value {
    let r = net
        .http
        .post(format!("{url}/prefill"))
        .bearer_auth(&net.tokens["alice"])
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "pending", "{v}");
    v
}

/// The latest request once the site answered it (or `pending` after `wait`).
async fn answered(net: &Net, url: &str, wait: Duration) -> Value {
    let t = Instant::now();
    loop {
        let v: Value = net
            .http
            .get(format!("{url}/prefill"))
            .bearer_auth(&net.tokens["alice"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["status"] != "pending" || t.elapsed() > wait {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn proposal<'a>(v: &'a Value, field: &str) -> &'a Value {
    v["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == field)
        .unwrap_or_else(|| panic!("no proposal for {field}: {v}"))
}

async fn wait_subjects(net: &Net, study: &str, n: usize) {
    let t = Instant::now();
    loop {
        let v: Vec<Value> = net
            .http
            .get(format!("{}/api/studies/{study}/subjects", net.url))
            .bearer_auth(&net.tokens["alice"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v.len() >= n {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{study}: {} subjects",
            v.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_propose_values_from_their_data_under_their_stewards_policy() {
    let mut net = Net::start(&[]).await;
    let vhf = study(registry::vhf_study().unwrap());
    let mut sfts = study(registry::sfts_study().unwrap());
    // the test's SFTS study declares the site's coded nucleic-acid test for its PCR item
    // (no public SFTSV code exists; a study whose sites code one declares it the same way)
    sfts.prefill.push(PrefillItem {
        field: "sfts_rtpcr".into(),
        source: Source::Pcr(PcrSource {
            loinc: vec![],
            jlac10: vec!["5F625145006387511".into()],
            positive: "1".into(),
            negative: "0".into(),
            window_days: [-14, 28],
        }),
    });
    for s in [&vhf, &sfts] {
        let r = net
            .http
            .post(format!("{}/api/studies", net.url))
            .bearer_auth(&net.admin)
            .header("content-type", "application/json")
            .body(s.to_json())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        net.admin_post(
            &format!("/api/studies/{}/members", s.id),
            json!({"user": "alice", "role": "data_manager", "dag": null}),
        )
        .await;
    }

    let de = net.dir.path().join("site-de");
    let jp = net.dir.path().join("site-jp");
    let bundles = kds_bundles();
    let mut args: Vec<&Path> = vec![&de];
    args.extend(bundles.iter().map(PathBuf::as_path));
    run(&["ingest", "--site-dir"], &args);
    let jp_file = net.dir.path().join("jp-bundle.json");
    std::fs::write(&jp_file, jp_bundle().to_string()).unwrap();
    run(&["ingest", "--site-dir"], &[&jp, &jp_file]);

    let p1 = enrol(&de, "vhf-registry", "mii-exa-test-data-patient-1");
    let p6 = enrol(&de, "vhf-registry", "mii-exa-test-data-patient-6");
    let p8 = enrol(&de, "vhf-registry", "mii-exa-test-data-patient-8");
    let de_sfts = enrol(&de, "sfts-registry", "mii-exa-test-data-patient-2");
    let j1 = enrol(&jp, "sfts-registry", "JP-0001");

    // de-a allows pre-fill for the VHF registry only (automatic); jp-b for the SFTS registry,
    // each request approved by the steward
    net.start_site_at(
        "de-a",
        &de,
        "min_count = 5\n\n[prefill]\n[[prefill.studies]]\nstudy = \"vhf-registry\"\napproval = \"auto\"\n",
    )
    .await;
    net.start_site_at(
        "jp-b",
        &jp,
        "min_count = 5\n\n[[prefill.studies]]\nstudy = \"sfts-registry\"\napproval = \"manual\"\n",
    )
    .await;
    net.wait_online(2).await;
    wait_subjects(&net, "vhf-registry", 3).await;
    wait_subjects(&net, "sfts-registry", 2).await;
    let wait = Duration::from_secs(40);

    // --- MII data (LOINC), automatic approval -------------------------------------------
    let pres = form_url(
        &net,
        "vhf-registry",
        &p1,
        "initial_assessment_arm_1",
        "presentation",
    );
    let asked = ask(&net, &pres).await;
    assert_eq!(
        asked["fields"],
        json!(["demog_age", "demog_sex", "pres_date"])
    );
    let v = answered(&net, &pres, wait).await;
    assert_eq!(v["status"], "proposed", "{v}");
    // patient 1: male, born 1977-05-24, admitted 2024-02-14
    assert_eq!(proposal(&v, "demog_age")["value"], "46");
    // the birth date is identifying: only the age leaves the site
    assert_eq!(proposal(&v, "demog_age")["source"]["original"], "46");
    assert!(!v.to_string().contains("1977"), "{v}");
    assert_eq!(proposal(&v, "demog_sex")["value"], "1");
    assert_eq!(proposal(&v, "demog_sex")["source"]["original"], "male");
    assert_eq!(proposal(&v, "pres_date")["value"], "2024-02-14");
    assert_eq!(proposal(&v, "pres_date")["source"]["resource"], "Encounter");

    let daily = |r: &str| form_url(&net, "vhf-registry", r, "initial_assessment_arm_1", "daily");
    let d1 = daily(&p1);
    ask(&net, &d1).await;
    let v = answered(&net, &d1, wait).await;
    let plt = proposal(&v, "labs_platelets_109l");
    assert_eq!(plt["value"], "355", "{v}");
    assert_eq!(plt["source"]["code"], "http://loinc.org|26515-7");
    assert_eq!(plt["source"]["unit"], "/nL");
    assert_eq!(plt["source"]["original"], "355");
    assert!(
        plt["source"]["at"]
            .as_str()
            .unwrap()
            .starts_with("2024-02-15T11:00")
    );
    let ldh = proposal(&v, "labs_ldh");
    assert!(ldh["value"].is_null());
    assert!(
        ldh["note"]
            .as_str()
            .unwrap()
            .contains("no value in days 0 to 2"),
        "{ldh}"
    );
    let d6 = daily(&p6);
    ask(&net, &d6).await;
    let v = answered(&net, &d6, wait).await;
    assert_eq!(proposal(&v, "labs_altsgpt")["value"], "45", "{v}");
    assert_eq!(proposal(&v, "labs_astsgot")["value"], "38");
    assert_eq!(
        proposal(&v, "labs_astsgot")["source"]["code"],
        "http://loinc.org|1920-8"
    );
    let d8 = daily(&p8);
    ask(&net, &d8).await;
    let v = answered(&net, &d8, wait).await;
    assert_eq!(proposal(&v, "labs_creatineki")["value"], "85", "{v}");

    // --- policy off for the study: refused, nothing sent --------------------------------
    let off = form_url(
        &net,
        "sfts-registry",
        &de_sfts,
        "initial_assessment_arm_1",
        "presentation",
    );
    let req = ask(&net, &off).await;
    let v = answered(&net, &off, wait).await;
    assert_eq!(v["status"], "refused", "{v}");
    assert!(
        v["refused"]
            .as_str()
            .unwrap()
            .contains("does not allow pre-fill for the study sfts-registry"),
        "{v}"
    );
    assert_eq!(v["proposals"], json!([]));
    let de_audit =
        std::fs::read_to_string(net.dir.path().join("agents/de-a/state/audit/audit.log")).unwrap();
    let id = req["id"].as_str().unwrap();
    let lines: Vec<&str> = de_audit.lines().filter(|l| l.contains(id)).collect();
    assert!(
        lines.iter().all(|l| !l.contains("prefill_sent"))
            && lines.iter().any(|l| l.contains("prefill_refused")),
        "{lines:?}"
    );
    assert!(
        de_audit.contains("prefill_sent"),
        "the allowed answers are audited"
    );
    // patient 2's data (born 2000-06-30, platelets 120) never reached the hub
    let mut hub_bytes = Vec::new();
    for e in walk(&net.dir.path().join("hub")) {
        hub_bytes.extend(std::fs::read(e).unwrap_or_default());
    }
    let hay = String::from_utf8_lossy(&hub_bytes);
    assert!(!hay.contains("2000-06-30"), "a refused request leaked data");
    assert!(
        !hay.contains("mii-exa-test-data-patient"),
        "a local id reached the hub"
    );

    // --- JLAC10 data, manual approval --------------------------------------------------
    let jd = form_url(
        &net,
        "sfts-registry",
        &j1,
        "initial_assessment_arm_1",
        "daily",
    );
    let req = ask(&net, &jd).await;
    let id = req["id"].as_str().unwrap().to_owned();
    let v = answered(&net, &jd, Duration::from_secs(6)).await;
    assert_eq!(v["status"], "pending", "held for the steward: {v}");
    let state = net.dir.path().join("agents/jp-b/state");
    let t = Instant::now();
    loop {
        let list = run(
            &["site", "prefill", "--state-dir"],
            &[&state, Path::new("list")],
        );
        if list.contains(&id) {
            assert!(list.contains("Waiting"), "{list}");
            break;
        }
        assert!(t.elapsed() < wait, "never held: {list}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let out = Command::new(EXE)
        .args(["site", "prefill", "--state-dir"])
        .arg(&state)
        .args(["approve", &id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = answered(&net, &jd, wait).await;
    assert_eq!(v["status"], "proposed", "{v}");
    let plt = proposal(&v, "labs_platelets_109l");
    assert_eq!(plt["value"], "42", "first value of the stay: {v}");
    assert_eq!(
        plt["source"]["code"],
        "urn:oid:1.2.392.200119.4.504|2A050000001930901"
    );
    assert_eq!(plt["source"]["unit"], "10*3/uL");
    assert_eq!(proposal(&v, "labs_astsgot")["value"], "320");
    assert_eq!(proposal(&v, "labs_altsgpt")["value"], "118");
    assert_eq!(proposal(&v, "labs_creatineki")["value"], "1450");
    assert!(
        proposal(&v, "labs_ldh")["value"].is_null(),
        "day 5 is outside"
    );
    let jp_pt = form_url(
        &net,
        "sfts-registry",
        &j1,
        "summary_medication_arm_1",
        "pathogen_testing",
    );
    let req = ask(&net, &jp_pt).await;
    let pid = req["id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    while !run(
        &["site", "prefill", "--state-dir"],
        &[&state, Path::new("list")],
    )
    .contains(&pid)
    {
        assert!(t.elapsed() < wait, "never held");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    run(
        &["site", "prefill", "--state-dir"],
        &[&state, Path::new("approve"), Path::new(&pid)],
    );
    let v = answered(&net, &jp_pt, wait).await;
    assert_eq!(proposal(&v, "sfts_rtpcr")["value"], "1", "{v}");
    assert!(
        proposal(&v, "sfts_rtpcr")["source"]["original"]
            .as_str()
            .unwrap()
            .contains("260373001"),
        "{v}"
    );
    // the steward refuses one: the hub is told why, nothing is sent
    let jp_pres = form_url(
        &net,
        "sfts-registry",
        &j1,
        "initial_assessment_arm_1",
        "presentation",
    );
    let req = ask(&net, &jp_pres).await;
    let rid = req["id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    while !run(
        &["site", "prefill", "--state-dir"],
        &[&state, Path::new("list")],
    )
    .contains(&rid)
    {
        assert!(t.elapsed() < wait, "never held");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let out = Command::new(EXE)
        .args(["site", "prefill", "--state-dir"])
        .arg(&state)
        .args([
            "refuse",
            &rid,
            "--comment",
            "consent withdrawn for record linkage",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = answered(&net, &jp_pres, wait).await;
    assert_eq!(v["status"], "refused");
    assert!(
        v["refused"].as_str().unwrap().contains("consent withdrawn"),
        "{v}"
    );

    // --- accepting and editing proposals ------------------------------------------------
    let r = net
        .http
        .post(format!("{pres}/prefill/accept"))
        .bearer_auth(&net.tokens["alice"])
        .json(&json!({"field": "demog_sex", "value": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = net
        .http
        .post(format!("{pres}/prefill/accept"))
        .bearer_auth(&net.tokens["alice"])
        .json(&json!({"field": "pres_date", "value": "2024-02-15"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let form: Value = r.json().await.unwrap();
    assert_eq!(form["data"]["values"]["demog_sex"], "1");
    assert_eq!(form["data"]["values"]["pres_date"], "2024-02-15");
    let history = form["data"]["history"].as_array().unwrap();
    let reason = |f: &str| {
        history.iter().find(|h| h["field"] == f).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        reason("demog_sex"),
        "pre-filled from site data: Patient gender = male"
    );
    assert!(
        reason("pres_date").starts_with(
            "pre-filled from site data, edited (the site proposed 2024-02-14): Encounter period.start"
        ),
        "{}",
        reason("pres_date")
    );
    // a field the site proposed nothing for is refused, naming it
    let r = net
        .http
        .post(format!("{d1}/prefill/accept"))
        .bearer_auth(&net.tokens["alice"])
        .json(&json!({"field": "labs_ldh", "value": "300"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("labs_ldh"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
