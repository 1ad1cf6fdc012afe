//! EDC data entry in headless Chromium against a real demo network: the demo data manager
//! opens the SFTS registry; a record id that is no pseudonym is refused next to the field, what
//! was typed kept; the Berlin site enrols a patient (`kakehashi site enrol` mints the
//! pseudonym, the agent sends it) and the subject appears in the list; the data manager opens the presentation form from the
//! subject's grid, answers "tick bite: yes" and saves with an out-of-range height: the height's
//! problem is shown next to it, nothing is saved, every entry is kept, and the tick-bite date
//! the answer calls for appears (branching evaluated at the hub, no JavaScript). Fixed, the form
//! is saved complete; a later change needs a reason; the form is locked and e-signed with the
//! password re-entered (a wrong one is refused); the field history shows who changed what,
//! when, old → new and why; the grid shows the form complete, locked, signed; unlocking voids
//! the signature; a data-entry role at one site sees only that site's subjects. Every page
//! (each registry form too) in English,
//! German and Japanese, axe-checked, with screenshots in `screenshots/`.

#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use std::time::{Duration, Instant};

const STUDY: &str = "sfts-registry";
const EVENT: &str = "initial_assessment_arm_1";
const FORM: &str = "presentation";

/// The value of an input, as the browser holds it.
async fn value_of(b: &Browser, css: &str) -> String {
    let v = b
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(serde_json::json!({"script": "return document.querySelector(arguments[0]).value;", "args": [css]})),
        )
        .await;
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_is_entered_checked_completed_locked_and_signed_in_three_languages() {
    let mut axe = a11y::Axe::load();
    let (dir, _demo, _driver, b, url) = start_with(60).await;
    let shots = screenshots_dir();

    // the demo seeds its studies after the sites are online
    sign_in(&b, &url, "datamanager").await;
    set_language(&b, "en").await;
    let t = Instant::now();
    loop {
        b.go(&format!("{url}/studies")).await;
        if b.exists(&format!("a[href='/studies/{STUDY}']")).await {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(180), "no studies seeded");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(b.exists("a[href='/studies/vhf-registry']").await);
    assert!(
        b.exists("nav a[href='/studies'][aria-current='page']")
            .await
    );
    b.click(&format!("a[href='/studies/{STUDY}']")).await;
    b.wait_url(&format!("/studies/{STUDY}")).await;
    let src = b.source().await;
    assert!(
        src.contains("format=redcap") && src.contains("format=odm"),
        "export links"
    );
    assert!(src.contains("datamanager"), "members");
    b.click(&format!("a[href='/studies/{STUDY}/subjects']"))
        .await;
    b.wait_url("/subjects").await;

    // a record id that is no site-minted pseudonym is refused next to the field, kept as typed
    b.type_into("#enrol-record", "patient-42").await;
    b.submit("form[action$='/subjects'] button.primary").await;
    assert!(b.exists("#enrol-error").await, "{}", b.source().await);
    assert!(b.source().await.contains("not a site-minted pseudonym"));
    assert_eq!(value_of(&b, "#enrol-record").await, "patient-42");
    assert!(b.exists("#enrol-record[aria-invalid='true']").await);
    b.screenshot(&shots.join("study-enrol-refused-en.png"))
        .await;

    // the Berlin site mints the pseudonym (`kakehashi site enrol`); its agent sends it after
    // its next poll and the subject appears in the list, at de_berlin
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["site", "enrol", "--site-dir"])
        .arg(dir.path().join("sites").join("de-berlin"))
        .args(["--study", STUDY, "--patient", "P-0042"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(record.len(), 64, "{record}");
    let t = Instant::now();
    loop {
        b.go(&format!("{url}/studies/{STUDY}/subjects")).await;
        if b.source().await.contains(&record) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the site's enrolment did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        !b.source().await.contains("P-0042"),
        "the patient id stays at the site"
    );

    // enrolling the pseudonym from the page again (as a member who was handed it) opens the
    // same subject
    b.type_into("#enrol-record", &record).await;
    b.submit("form[action$='/subjects'] button.primary").await;
    b.wait_url(&format!("/subjects/{record}")).await;
    let cell = format!("#cell-{EVENT}-{FORM}-1");
    assert!(b.exists(&cell).await, "{}", b.source().await);
    b.click(&cell).await;
    b.wait_url(&format!("/{EVENT}/{FORM}/1")).await;

    // the tick-bite date is asked only after a tick bite
    assert!(!b.exists("#f-sfts_expo_tickbite_date").await);
    b.click("input[name='v_sfts_expo_tickbite'][value='1']")
        .await;
    b.type_into("#f-pres_onsetdate", "02-06-2026").await;
    b.type_into("#f-demog_height", "300").await;
    b.click("#form-status option[value='complete']").await;
    b.submit("#save").await;

    // refused: the problem next to the height, nothing lost, the date now asked
    assert!(b.exists("#err-demog_height").await, "{}", b.source().await);
    assert!(b.exists("#form-error").await);
    assert!(
        b.exists("#f-demog_height[aria-invalid='true'][aria-describedby~='err-demog_height']")
            .await
    );
    assert_eq!(value_of(&b, "#f-demog_height").await, "300");
    assert_eq!(value_of(&b, "#f-pres_onsetdate").await, "02-06-2026");
    assert!(
        b.exists("input[name='v_sfts_expo_tickbite'][value='1']:checked")
            .await
    );
    assert!(b.exists("#f-sfts_expo_tickbite_date").await, "branching");
    assert!(b.source().await.contains("above the maximum 250"));
    assert!(b.exists("#problems a[href='#field-demog_height']").await);
    b.click("#problems a[href='#field-demog_height']").await;
    b.screenshot(&shots.join("study-form-refused-en.png")).await;

    // fixed: saved complete
    b.type_into("#f-demog_height", "175").await;
    b.type_into("#f-sfts_expo_tickbite_date", "30-05-2026")
        .await;
    b.submit("#save").await;
    b.wait_url("done=saved").await;
    assert!(!b.exists("#form-error").await, "{}", b.source().await);
    assert!(
        b.source()
            .await
            .contains("<p class=\"notice\" role=\"status\">Saved.</p>")
    );
    assert!(
        b.exists("#form-status option[value='complete'][selected]")
            .await
    );
    // stored as 2026-06-02, shown in the field's order as typed
    assert_eq!(value_of(&b, "#f-pres_onsetdate").await, "02-06-2026");

    // a change to a complete form needs a reason
    b.type_into("#f-demog_height", "176").await;
    b.submit("#save").await;
    assert!(b.exists("#reason-error").await, "{}", b.source().await);
    assert_eq!(value_of(&b, "#f-demog_height").await, "176");
    b.type_into("#form-reason", "measured again").await;
    b.submit("#save").await;
    b.wait_url("done=saved").await;
    assert_eq!(value_of(&b, "#f-demog_height").await, "176");

    // lock, then sign with the password re-entered (a wrong one is refused)
    b.submit("#lock-button").await;
    b.wait_url("done=locked").await;
    assert!(b.exists("#lock-state").await);
    assert!(!b.exists("#save").await, "no saving while locked");
    b.click("#sign-meaning option[value='approval']").await;
    b.type_into("#sign-password", "not-my-password").await;
    b.submit("#sign").await;
    assert!(b.exists("#form-error").await, "{}", b.source().await);
    assert!(b.source().await.contains("not signed"));
    b.click("#sign-meaning option[value='approval']").await;
    b.type_into("#sign-password", "kakehashi-demo").await;
    b.submit("#sign").await;
    b.wait_url("done=signed").await;
    let src = b.source().await;
    assert!(src.contains("I approve these data"), "{src}");
    let history = &src[src.find("id=\"history\"").unwrap()..];
    assert!(
        history.contains(
            "<code>demog_height</code></td><td>175</td><td>176</td><td>measured again</td>"
        ),
        "{history}"
    );
    assert!(history.contains("<code>sfts_expo_tickbite</code></td><td>—</td><td>1</td>"));
    assert!(history.contains("datamanager"));
    b.screenshot(&shots.join("study-form-signed-en.png")).await;

    // the grid: complete, locked, signed
    b.go(&format!("{url}/studies/{STUDY}/subjects/{record}"))
        .await;
    let cell_text = b.source().await;
    assert!(
        cell_text.contains("complete, locked, signed"),
        "{cell_text}"
    );

    // unlocking voids the signature and opens the form again
    b.go(&format!(
        "{url}/studies/{STUDY}/subjects/{record}/{EVENT}/{FORM}/1"
    ))
    .await;
    b.submit("#unlock").await;
    b.wait_url("done=unlocked").await;
    let src = b.source().await;
    assert!(src.contains("Not signed."), "{src}");
    assert!(b.exists("#save").await && b.exists("#lock-button").await);

    // a data-entry role at one site sees that site's subjects only
    let admin = std::fs::read_to_string(dir.path().join("hub").join("admin.token")).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{url}/api/studies/{STUDY}/members"))
        .bearer_auth(admin.trim())
        .json(&serde_json::json!({"user": "researcher", "role": "data_entry", "dag": "jp_tokyo"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    b.call(reqwest::Method::DELETE, "/cookie", None).await;
    sign_in(&b, &url, "researcher").await;
    b.go(&format!("{url}/studies/{STUDY}/subjects")).await;
    let src = b.source().await;
    assert!(src.contains("your site jp_tokyo only"), "{src}");
    assert!(
        !src.contains(&record),
        "a de_berlin subject is not listed at jp_tokyo"
    );
    assert!(b.exists("#enrol-site option[value='jp_tokyo']").await);
    assert!(!b.exists("#enrol-site option[value='de_berlin']").await);
    b.go(&format!("{url}/studies/{STUDY}/subjects/{record}"))
        .await;
    assert!(
        !b.exists("#grid").await,
        "another site's subject is not shown"
    );
    b.screenshot(&shots.join("study-subjects-own-site-en.png"))
        .await;
    b.call(reqwest::Method::DELETE, "/cookie", None).await;
    sign_in(&b, &url, "datamanager").await;

    // every page of the flow in three languages
    let grid = format!("/studies/{STUDY}/subjects/{record}");
    let mut pages = vec![
        ("studies".to_owned(), "/studies".to_owned()),
        ("study".to_owned(), format!("/studies/{STUDY}")),
        (
            "study-subjects".to_owned(),
            format!("/studies/{STUDY}/subjects"),
        ),
        ("study-subject".to_owned(), grid.clone()),
    ];
    // each form of the registry, at the first event that collects it
    for (event, form) in [
        (EVENT, FORM),
        (EVENT, "daily"),
        ("summary_medication_arm_1", "medication"),
        ("summary_medication_arm_1", "pathogen_testing"),
        ("outcome__end_of_st_arm_1", "outcome"),
        ("follow_up_arm_1", "follow_up"),
    ] {
        pages.push((
            format!("study-form-{form}"),
            format!("{grid}/{event}/{form}/1"),
        ));
    }
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        for (name, path) in &pages {
            b.go(&format!("{url}{path}")).await;
            let src = b.source().await;
            assert!(src.contains(&format!("<html lang=\"{lang}\"")), "{name}");
            if name.starts_with("study-form") {
                assert!(src.contains("id=\"history\""), "{name}: {src}");
            }
            assert!(!src.contains('⟦'), "{name} in {lang}: untranslated key");
            if name == "study-form-presentation" && lang != "en" {
                // translated ARC items in the language, the rest English and marked
                assert!(src.contains("class=\"untranslated\""), "{name} {lang}");
                assert!(src.contains("<span lang=\"en\">"), "{name} {lang}");
            }
            if let Some(axe) = axe.as_mut() {
                axe.check(&b, &format!("{name}-{lang}")).await;
            }
            if lang == "ja" {
                a11y::assert_japanese_glyphs(&b, &format!("{name}-{lang}")).await;
            }
            b.screenshot(&shots.join(format!("{name}-{lang}.png")))
                .await;
        }
    }
    if let Some(axe) = &axe {
        axe.assert_clean();
    }
}
