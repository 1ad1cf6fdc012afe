//! The demo registries' subjects, enrolled the way a real site enrols them: at the German
//! site de-berlin and the Japanese site jp-tokyo, the demo (playing each site's steward)
//! takes synthetic patients from the site's own store, enrols them in its enrolment mapping
//! (`kakehashi_site::enrolment`: the site mints the pseudonym), and the running site agents
//! send the pseudonyms to the hub after their next poll. Once the hub lists them, the demo
//! data manager fills the admission form of two in three through the REDCap-compatible API:
//! the age in years and the sex from the synthetic patient (the birth date stays at the site,
//! as docs/privacy.md decides) and the enrolment date.

use anyhow::Context;
use arrow::array::{Array, Date32Array, StringArray};
use chrono::{Datelike, NaiveDate};
use kakehashi_model::View;
use kakehashi_site::enrolment::Enrolments;
use kakehashi_store::Store;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// The sites that enrol, and how many patients each enrols per registry.
const ENROL_AT: [&str; 2] = ["de-berlin", "jp-tokyo"];
const PER_SITE: usize = 24;

/// A subject the demo enrolled, with what its admission form gets.
#[derive(Debug, Clone)]
pub struct DemoSubject {
    /// The study.
    pub study: String,
    /// The pseudonym.
    pub record: String,
    /// Age in whole years (none without a birth date).
    pub age: Option<i32>,
    /// ARC's `demog_sex` code.
    pub sex: &'static str,
}

struct Patient {
    id: String,
    gender: String,
    birth: Option<NaiveDate>,
}

/// The first `n` patients of a site's store by id.
fn patients(site_dir: &Path, n: usize) -> anyhow::Result<Vec<Patient>> {
    let snap = Store::open(site_dir)
        .current()
        .with_context(|| format!("{}: the site store", site_dir.display()))?;
    let mut out = Vec::new();
    for b in snap.scan(View::Patient, Some(&["id", "gender", "birth_date"])) {
        let b = b?;
        let col = |name: &str| {
            b.column_by_name(name)
                .context("a Patient column is missing")
        };
        let id = col("id")?
            .as_any()
            .downcast_ref::<StringArray>()
            .context("Patient.id")?;
        let g = col("gender")?
            .as_any()
            .downcast_ref::<StringArray>()
            .context("Patient.gender")?;
        let bd = col("birth_date")?
            .as_any()
            .downcast_ref::<Date32Array>()
            .context("Patient.birth_date")?;
        for i in 0..b.num_rows() {
            out.push(Patient {
                id: id.value(i).to_owned(),
                gender: if g.is_null(i) {
                    String::new()
                } else {
                    g.value(i).to_owned()
                },
                birth: if bd.is_null(i) {
                    None
                } else {
                    bd.value_as_date(i)
                },
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.truncate(n);
    Ok(out)
}

fn sex_code(gender: &str) -> &'static str {
    match gender {
        "male" => "1",
        "female" => "2",
        "other" => "88",
        _ => "99",
    }
}

/// Enrols the demo subjects in the site mappings (again on a later run: the same
/// pseudonyms, nothing new).
pub fn enrol(dir: &Path, studies: &[String]) -> anyhow::Result<Vec<DemoSubject>> {
    let today = chrono::Utc::now().date_naive();
    let mut out = Vec::new();
    for site in ENROL_AT {
        let site_dir = dir.join("sites").join(site);
        let ps = patients(&site_dir, PER_SITE * studies.len())?;
        let map = Enrolments::open(&site_dir)?;
        for (k, study) in studies.iter().enumerate() {
            for p in ps.iter().skip(k * PER_SITE).take(PER_SITE) {
                let e = map.enrol(study, &p.id)?;
                let age = p.birth.map(|b| {
                    let mut a = today.year() - b.year();
                    if (today.month(), today.day()) < (b.month(), b.day()) {
                        a -= 1;
                    }
                    a
                });
                out.push(DemoSubject {
                    study: study.clone(),
                    record: e.record,
                    age,
                    sex: sex_code(&p.gender),
                });
            }
        }
    }
    Ok(out)
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Waits until the hub lists the enrolled subjects, then fills the admission form of two in
/// three through the REDCap API with the data manager's token (age, sex, admission and onset
/// dates, a few onsets typed after the admission); how many forms were sent.
pub async fn fill(
    http: &reqwest::Client,
    url: &str,
    hub_dir: &Path,
    subjects: &[DemoSubject],
) -> anyhow::Result<usize> {
    let login: Value = http
        .post(format!("{url}/api/login"))
        .json(&json!({"name": super::demo_studies::DATA_MANAGER, "password": "kakehashi-demo"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let session = login["session"].as_str().context("no session")?.to_owned();
    let today = chrono::Utc::now().date_naive();

    let mut sent = 0;
    let mut studies: Vec<&str> = subjects.iter().map(|s| s.study.as_str()).collect();
    studies.dedup();
    for study in studies {
        let mine: Vec<&DemoSubject> = subjects.iter().filter(|s| s.study == study).collect();
        let t = Instant::now();
        loop {
            let have: Vec<Value> = http
                .get(format!("{url}/api/studies/{study}/subjects"))
                .bearer_auth(&session)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let arrived = mine
                .iter()
                .filter(|s| have.iter().any(|h| h["record"] == s.record.as_str()))
                .count();
            if arrived == mine.len() {
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(180),
                "{study}: only {arrived} of {} enrolled subjects reached the hub",
                mine.len()
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let rows: Vec<Value> = mine
            .iter()
            .enumerate()
            .filter(|(i, s)| i % 3 != 2 && s.age.is_some())
            .map(|(i, s)| {
                // admitted in the last weeks, the first symptom three days before; every
                // seventh with the onset typed after the admission, for the data-quality
                // checks to find (the registries' rule `onset_after_admission`)
                let admitted = today - chrono::Days::new(2 + (i as u64 * 7) % 45);
                let onset = if i % 7 == 0 {
                    admitted + chrono::Days::new(2)
                } else {
                    admitted - chrono::Days::new(3)
                };
                json!({
                    "subjid": s.record,
                    "redcap_event_name": "initial_assessment_arm_1",
                    "pres_enrolmentdate": admitted.format("%Y-%m-%d").to_string(),
                    "pres_date": admitted.format("%Y-%m-%d").to_string(),
                    "pres_onsetdate": onset.format("%Y-%m-%d").to_string(),
                    "demog_birthknow": "0",
                    "demog_age": s.age.unwrap_or_default().to_string(),
                    "demog_age_units": "1",
                    "demog_sex": s.sex,
                    "presentation_complete": "1",
                })
            })
            .collect();
        let token = std::fs::read_to_string(super::demo_studies::token_file(hub_dir, study))?;
        let data = serde_json::to_string(&rows)?;
        let body = form_encode(&[
            ("token", token.trim()),
            ("content", "record"),
            ("format", "json"),
            ("data", &data),
            ("overwriteBehavior", "normal"),
            ("returnContent", "count"),
        ]);
        let r = http
            .post(format!("{url}/redcap/api/"))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        anyhow::ensure!(
            status.is_success(),
            "{study}: filling the admission forms: HTTP {status}: {text}"
        );
        sent += rows.len();
    }
    Ok(sent)
}
