//! Attacks on the exact statistics (issue 31), over real HTTP against a real hub and a site
//! agent: differencing two summaries, tables or GLMs whose datasets differ by one patient (the
//! attacker knows the target is 86 and asks "pneumonia, aged 18 to 120" and "... 18 to 75"),
//! and a saturated or over-parameterised model. Each is refused with its rule shown, and
//! nothing of the refused analysis leaves the site (the audit log has the refusal only).

mod common;

use common::net::Net;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const ICD: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
const POLICY: &str = "projects = [\"*\"]\nstatistics = [\"p1\"]\nmin_count = 3\nnoise = \"off\"\nrounding = 1\ntasks_per_minute = 1000";

/// Thirty patients aged 41 to 65 and the target (born 1940), each with one inpatient stay for
/// pneumonia (J18.9) of 3 to 12 days; six of the thirty die in hospital.
fn site_data(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    let mut patient = |p: String, gender: &str, birth: String, days: u32, died: bool| {
        lines.push(
            json!({"resourceType": "Patient", "id": p, "gender": gender, "birthDate": birth}),
        );
        let start = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        let end = start + chrono::Days::new(days.into());
        lines.push(json!({"resourceType": "Encounter", "id": format!("{p}-e"), "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": format!("Patient/{p}")},
            "period": {"start": format!("{start}T10:00:00Z"), "end": format!("{end}T10:00:00Z")},
            "hospitalization": {"dischargeDisposition": {"coding": [{"code": if died { "07" } else { "01" }}]}}}));
        lines.push(json!({"resourceType": "Condition", "id": format!("{p}-c"),
            "code": {"coding": [{"system": ICD, "code": "J18.9"}]},
            "subject": {"reference": format!("Patient/{p}")}, "encounter": {"reference": format!("Encounter/{p}-e")},
            "onsetDateTime": format!("{start}"), "recordedDate": format!("{start}")}));
    };
    for i in 0..30u32 {
        patient(
            format!("p{i:02}"),
            if i % 2 == 0 { "female" } else { "male" },
            format!("{}-03-{:02}", 1961 + i % 25, 1 + i % 28),
            3 + i % 10,
            i % 5 == 0,
        );
    }
    patient("target".into(), "female", "1940-05-20".into(), 9, false);
    std::fs::create_dir_all(dir).unwrap();
    common::ingest_lines(dir, "site.ndjson", &lines)
}

/// The analysis dataset "pneumonia stays, aged 18 to `max_age`".
fn dataset(dir: &Path, max_age: u32) -> PathBuf {
    let d = json!({"name": format!("pneumonia-{max_age}"),
        "cohort": {"version": "http://to_be_decided.com/draft-1/schema#", "display": "pneumonia by age",
            "inclusionCriteria": [
                [{"context": {"system": "fdpg.mii.cds", "code": "Diagnose", "display": "Diagnose", "version": "1.0.0"},
                  "termCodes": [{"system": ICD, "code": "J18", "display": "Pneumonia, organism unspecified"}]}],
                [{"context": {"system": "fdpg.mii.cds", "code": "Patient", "display": "Patient", "version": "1.0.0"},
                  "termCodes": [{"system": "http://snomed.info/sct", "code": "424144002", "display": "Current chronological age"}],
                  "valueFilter": {"type": "quantity-range", "minValue": 18, "maxValue": max_age, "unit": {"code": "a", "display": "a"}}}]]},
        "index": {"classes": ["IMP"], "diagnosis": ["J18"]},
        "variables": [
            {"name": "died", "kind": "in_hospital_death"},
            {"name": "sex", "kind": "sex", "levels": ["female", "male"]},
            {"name": "age", "kind": "age_at_index"},
            {"name": "age_band", "kind": "age_band", "breaks": [18, 40, 60, 80]},
            {"name": "los", "kind": "length_of_stay"}]});
    let path = dir.join(format!("pneumonia-{max_age}.json"));
    std::fs::write(&path, d.to_string()).unwrap();
    path
}

async fn cli(net: &Net, args: Vec<String>) -> Output {
    let mut a = args;
    a.extend([
        "--hub".into(),
        net.url.clone(),
        "--project".into(),
        "p1".into(),
    ]);
    let token = net.tokens["alice"].clone();
    tokio::task::spawn_blocking(move || {
        Command::new(EXE)
            .args(&a)
            .env("KAKEHASHI_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(kind: &str, data: &Path, rest: &[&str]) -> Vec<String> {
    let mut a = vec![
        "stats".to_owned(),
        kind.to_owned(),
        "--dataset".to_owned(),
        data.to_str().unwrap().to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    a.extend(rest.iter().map(|s| s.to_string()));
    a
}

async fn answered(net: &Net, a: Vec<String>) -> Value {
    let out = cli(net, a.clone()).await;
    assert!(
        out.status.success(),
        "{a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A run the site refuses: exit 5 ("incomplete"), the report without a result, the reason.
async fn refused(net: &Net, a: Vec<String>) -> String {
    let out = cli(net, a.clone()).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "{a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["complete"], false, "{report}");
    assert!(report.get("result").is_none(), "nothing released: {report}");
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differencing_and_saturated_models_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let site = site_data(&dir.path().join("data"));
    let all = dataset(dir.path(), 120);
    let without_target = dataset(dir.path(), 75);
    let younger = dataset(dir.path(), 60);
    let mut net = Net::start(&[]).await;
    net.start_site_at("de-berlin", &site, POLICY).await;
    net.wait_online(1).await;

    // the attacker's first questions are answered: they are over all 31 patients
    let s = answered(&net, args("summary", &all, &["--variable", "los"])).await;
    assert_eq!(s["pooled"][0]["n"], 31, "{s}");
    let t = answered(&net, args("table", &all, &["--variables", "sex,died"])).await;
    assert_eq!(t["table"]["counts"], json!([13, 3, 12, 3]), "{t}");
    let g = answered(
        &net,
        args(
            "glm",
            &all,
            &["--formula", "los ~ age", "--family", "gaussian"],
        ),
    )
    .await;
    assert_eq!(g["n"], 31, "{g}");

    // the same over the dataset without the target: the difference would be the target's
    // stay, death and age; each is refused by the differencing rule, with the reason
    for (kind, rest) in [
        ("summary", vec!["--variable", "los"]),
        ("table", vec!["--variables", "sex,died"]),
        (
            "glm",
            vec!["--formula", "los ~ age", "--family", "gaussian"],
        ),
    ] {
        let e = refused(&net, args(kind, &without_target, &rest)).await;
        assert!(
            e.contains("site de-berlin: differencing: the rows of this analysis differ from those of an analysis this site answered before by 1 patient, fewer than the site's minimum of 3"),
            "{kind}: {e}"
        );
    }
    // a GLM that leaves the target out by a missing value is the same attack: the rows used
    // are compared, not the cohorts (here every value is present, so it is answered)
    let g2 = answered(
        &net,
        args(
            "glm",
            &all,
            &["--formula", "died ~ age", "--family", "binomial"],
        ),
    )
    .await;
    assert_eq!(g2["n"], 31);
    // a dataset differing by the minimum or more is answered (ten patients aged 61 to 65 and
    // the target are left out)
    let y = answered(&net, args("summary", &younger, &["--variable", "los"])).await;
    let n = y["pooled"][0]["n"].as_u64().unwrap();
    assert!((3..=28).contains(&(31 - n)), "{y}");

    // a saturated model (two covariate patterns, two columns: XᵀWz would give each sex's total
    // stay) and an over-parameterised one (11 coefficients for 31 rows, above 0.33 × n)
    let e = refused(
        &net,
        args(
            "glm",
            &all,
            &["--formula", "los ~ sex", "--family", "gaussian"],
        ),
    )
    .await;
    assert!(e.contains("site de-berlin: saturated model:"), "{e}");
    let e = refused(
        &net,
        args(
            "glm",
            &all,
            &[
                "--formula",
                "los ~ age_band * sex + age",
                "--family",
                "gaussian",
            ],
        ),
    )
    .await;
    assert!(
        e.contains("site de-berlin: too many parameters:")
            || e.contains("site de-berlin: too many"),
        "{e}"
    );

    // the refusals are audited with their rule, and no refused analysis's numbers were sent
    let log = std::fs::read_to_string(
        net.dir
            .path()
            .join("agents/de-berlin/state/audit/audit.log"),
    )
    .unwrap();
    let differencing: Vec<&str> = log.lines().filter(|l| l.contains("differencing")).collect();
    assert_eq!(differencing.len(), 3, "{log}");
    assert!(
        differencing
            .iter()
            .all(|l| !l.contains("xtwx") && !l.contains("\"mean\""))
    );
}
