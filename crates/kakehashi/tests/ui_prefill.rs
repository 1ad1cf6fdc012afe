//! Pre-fill in headless Chromium against a real demo network (whose sites allow pre-fill for
//! both registries): the Berlin steward enrols a patient of its store who had an inpatient
//! stay; the data manager opens the subject's presentation form, asks the site for values
//! (no JavaScript: a form post), and after the site's next poll the page lists each proposal
//! with its source and shows it next to its field. The sex is accepted as proposed, the age
//! edited before accepting; the field history gives "pre-filled from site data: …" and
//! "…, edited (the site proposed …)". The page is axe-checked.

#[allow(dead_code)] // the Japanese glyph check is not used here
#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use std::time::{Duration, Instant};

const STUDY: &str = "vhf-registry";
const FORM: &str = "initial_assessment_arm_1/presentation/1";

/// A patient of the site with a birth date and an inpatient stay (from the site's own SQL):
/// the last by id, so not one the demo enrolled and filled already (it takes the first ones).
fn inpatient(site: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["sql", "--site-dir"])
        .arg(site)
        .args([
            "--format",
            "csv",
            "SELECT p.id FROM patient p JOIN encounter e ON e.patient_id = p.id WHERE e.class_code = 'IMP' AND e.part_of_id IS NULL AND p.birth_date IS NOT NULL AND p.gender IN ('male', 'female') ORDER BY p.id DESC LIMIT 1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().nth(1).expect("an inpatient").trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_proposal_is_accepted_and_another_edited_in_the_browser() {
    let mut axe = a11y::Axe::load();
    let (dir, _demo, _driver, b, url) = start_with(60).await;
    sign_in(&b, &url, "datamanager").await;
    set_language(&b, "en").await;

    let site = dir.path().join("sites").join("de-berlin");
    let patient = inpatient(&site);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["site", "enrol", "--site-dir"])
        .arg(&site)
        .args(["--study", STUDY, "--patient", &patient])
        .output()
        .unwrap();
    assert!(out.status.success());
    let record = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let form = format!("{url}/studies/{STUDY}/subjects/{record}/{FORM}");
    let t = Instant::now();
    loop {
        b.go(&form).await;
        if b.exists("#prefill-request").await {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the enrolment did not arrive: {}",
            b.source().await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    b.submit("#prefill-request").await;
    assert!(
        b.source().await.contains("The site has been asked"),
        "{}",
        b.source().await
    );
    // the site answers after its next poll (the demo polls every 20 s)
    let t = Instant::now();
    loop {
        b.go(&form).await;
        if b.exists("#accept-demog_sex").await {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "no proposal: {}",
            b.source().await
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let src = b.source().await;
    assert!(src.contains("Patient gender = "), "the source: {src}");
    assert!(b.exists("#ps-demog_sex").await);
    if let Some(axe) = axe.as_mut() {
        axe.check(&b, "prefill-proposed-en").await;
    }
    b.screenshot(&screenshots_dir().join("study-prefill-en.png"))
        .await;

    // accept the sex as proposed
    b.submit("#accept-demog_sex").await;
    assert!(
        b.source().await.contains("Saved from the site"),
        "{}",
        b.source().await
    );
    assert!(b.exists("#accepted-demog_sex").await);
    // edit the age, then accept
    let proposed_age = {
        let v = b
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(serde_json::json!({"script": "return document.querySelector('#pv-demog_age').value;", "args": []})),
            )
            .await;
        v.as_str().unwrap().to_owned()
    };
    let edited = (proposed_age.parse::<u32>().unwrap() + 1).to_string();
    b.set_value("#pv-demog_age", &edited).await;
    b.submit("#accept-demog_age").await;
    let src = b.source().await;
    let history = &src[src.find("id=\"history\"").unwrap_or(0)..];
    assert!(
        history.contains("pre-filled from site data: Patient gender = "),
        "history: {history}"
    );
    assert!(
        src.contains(&format!(
            "pre-filled from site data, edited (the site proposed {proposed_age})"
        )),
        "history: {history}"
    );
    assert!(
        !b.exists("#accepted-demog_age").await,
        "edited, not as proposed"
    );
    if let Some(axe) = &axe {
        axe.assert_clean();
    }
}
