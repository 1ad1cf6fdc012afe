//! The partnership office's forms in headless Chromium against a real demo network: a member
//! uploads a new version of the case definition the surveillance page computes with and marks
//! their action done; the network office approves it (the surveillance page then says that the
//! sites compute with a different text than the one in force), records a decision, adds a
//! document, plans a workshop (its double booking named), adds an action and the minutes,
//! proposes and completes an exchange, records attendance that earns a certificate;
//! refused input (a file of unknown type, more votes than members, an action without an
//! owner) shows the hub's
//! message naming the field and changes nothing. Every page of the flow in English, German and
//! Japanese, axe-checked, with screenshots in `screenshots/`.

#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ICOSARI: &str = "def-sari-icosari";
const STEP: &str = "form[action='/office/documents/def-sari-icosari/step']";

/// Opens every `<details>` of the page, so that forms are visible to the screenshot and axe.
async fn open_details(b: &Browser) {
    b.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "document.querySelectorAll('details').forEach(d => d.open = true);", "args": []})),
    )
    .await;
}

/// The office's events as the API gives them to `token`.
async fn events(http: &reqwest::Client, url: &str, token: &str) -> Vec<Value> {
    http.get(format!("{url}/api/office/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_is_run_from_its_page_in_three_languages() {
    let mut axe = a11y::Axe::load();
    let (dir, _demo, _driver, b, url) = start_with(60).await;
    let shots = screenshots_dir();
    let token = std::fs::read_to_string(dir.path().join("hub").join("researcher.token"))
        .unwrap()
        .trim()
        .to_owned();

    // the demo seeds its office after the sites are online
    sign_in(&b, &url, "researcher").await;
    set_language(&b, "en").await;
    let t = Instant::now();
    loop {
        b.go(&format!("{url}/office")).await;
        if b.exists(&format!("#doc-{ICOSARI}")).await {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(180), "no office seeded");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // the surveillance page names the definition's document; the sites compute with its text
    b.go(&format!("{url}/surveillance?definition=sari-icosari"))
        .await;
    assert!(
        b.exists(&format!("#in-force a[href='/office#doc-{ICOSARI}']"))
            .await
    );
    assert!(!b.exists("#in-force .warn").await, "{}", b.source().await);
    assert!(b.source().await.contains("exactly this text"));
    b.go(&format!("{url}/amr")).await;
    assert!(
        b.exists("#in-force a[href='/office#doc-method-eucast']")
            .await,
        "{}",
        b.source().await
    );

    // a member uploads version 2 of the definition from the page, and submits it
    let file = dir.path().join("sari-icosari.toml");
    let shipped = kakehashi_surveillance::definition::SHIPPED
        .iter()
        .find(|(n, _)| *n == "sari-icosari")
        .unwrap()
        .1;
    std::fs::write(
        &file,
        format!("{shipped}\n# reviewed by the ARI/SARI group\n"),
    )
    .unwrap();
    b.go(&format!("{url}/office")).await;
    b.click(&format!("#upload-{ICOSARI} summary")).await;
    b.choose_file(&format!("#file-{ICOSARI}"), &file).await;
    b.type_into(&format!("#note-{ICOSARI}"), "reviewed").await;
    b.click(&format!("#upload-{ICOSARI} button[type='submit']"))
        .await;
    b.wait_url(&format!("#doc-{ICOSARI}")).await;
    assert!(
        b.wait_for(&format!("{STEP} input[name='version'][value='2']"))
            .await,
        "version 2 is a draft with its submit button"
    );
    b.click(&format!("{STEP} input[value='submit'] + button"))
        .await;
    b.wait_url("#library").await;

    // a file of unknown type is refused with the hub's message, and nothing is added
    let exe = dir.path().join("notes.exe");
    std::fs::write(&exe, b"MZ").unwrap();
    b.click(&format!("#upload-{ICOSARI} summary")).await;
    b.choose_file(&format!("#file-{ICOSARI}"), &exe).await;
    b.click(&format!("#upload-{ICOSARI} button[type='submit']"))
        .await;
    assert!(b.wait_for("#error-detail").await);
    let detail = b.source().await;
    assert!(detail.contains("notes.exe"), "{detail}");
    b.screenshot(&shots.join("office-refused-upload-en.png"))
        .await;
    b.go(&format!("{url}/office")).await;
    assert!(
        !b.exists(&format!("{STEP} input[name='version'][value='3']"))
            .await
    );

    // the member marks their own action done
    let select: Value = b
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "const li = [...document.querySelectorAll('li')].find(l => l.textContent.includes(arguments[0])); const s = li.querySelector('select'); s.value = 'done'; return s.id;", "args": ["Send the draft work plan 2027"]})),
        )
        .await;
    let select = select.as_str().unwrap().to_owned();
    b.click(&format!("#{select} ~ button")).await;
    b.wait_url("#events").await;
    let done = events(&b.http, &url, &token)
        .await
        .iter()
        .flat_map(|e| {
            e["event"]["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .any(|a| a["text"] == "Send the draft work plan 2027" && a["status"] == "done");
    assert!(done, "the action is done");

    // the network office approves version 2: the page now says the sites compute with
    // another text than the one in force
    b.call(reqwest::Method::DELETE, "/cookie", None).await;
    sign_in_with(&b, &url, "admin", "kakehashi-admin").await;
    set_language(&b, "en").await;
    b.go(&format!("{url}/office")).await;
    b.click(&format!("{STEP} input[value='approve'] + button"))
        .await;
    b.wait_url("#library").await;
    b.go(&format!("{url}/surveillance?definition=sari-icosari"))
        .await;
    assert!(b.exists("#in-force .warn").await, "{}", b.source().await);
    assert!(b.source().await.contains("version 2"));

    // a decision: more votes than members is refused; by consensus it is recorded
    let decide = |vote: &'static str| {
        let b = &b;
        let url = &url;
        async move {
            b.go(&format!("{url}/office")).await;
            b.click("#new-decision summary").await;
            b.set_value("#decision-date", "2026-12-01").await;
            b.type_into("#decision-text", "Adopt the reviewed ICOSARI definition")
                .await;
            b.click(&format!("#new-decision input[value='{vote}']"))
                .await;
            if vote == "counted" {
                b.type_into("#decision-yes", "99").await;
            }
            b.click("#new-decision button[type='submit']").await;
        }
    };
    decide("counted").await;
    assert!(b.wait_for("#error-detail").await);
    assert!(
        b.source().await.contains("99 votes"),
        "{}",
        b.source().await
    );
    decide("consensus").await;
    b.wait_url("#decisions").await;
    assert!(
        b.source()
            .await
            .contains("Adopt the reviewed ICOSARI definition")
    );

    // a new document, before its first version
    b.click("#new-document summary").await;
    b.type_into("#doc-id", "sop-bsl3").await;
    b.type_into("#doc-title", "SOP: handling VHF samples at BSL-3")
        .await;
    b.click("#doc-kind option[value='sop']").await;
    b.click("#new-document button[type='submit']").await;
    b.wait_url("#doc-sop-bsl3").await;
    assert!(b.wait_for("#doc-sop-bsl3").await);
    assert!(b.source().await.contains("No version yet"));

    // a workshop in Berlin while the delegation is in Tokyo: saved, with the double booking
    // named; an action without an owner is refused naming it; an action and the minutes
    let day = (chrono::Utc::now().date_naive() + chrono::Days::new(61)).to_string();
    b.go(&format!("{url}/office")).await;
    b.click("#new-event summary").await;
    b.type_into("#event-title", "Biobank workshop").await;
    b.click("#event-kind option[value='meeting']").await;
    b.set_value("#event-start", &format!("{day}T10:00")).await;
    b.set_value("#event-end", &format!("{day}T12:00")).await;
    b.type_into("#event-location", "Charité, Berlin").await;
    b.type_into("#event-in-person", "steward-de-berlin, admin")
        .await;
    b.click("#new-event button[type='submit']").await;
    assert!(b.wait_for("#event-saved").await, "{}", b.source().await);
    let saved = b.source().await;
    assert!(saved.contains("Saved: Biobank workshop"), "{saved}");
    assert!(
        saved.contains("steward-de-berlin is in person at “NUM delegation visit to JIHS”"),
        "{saved}"
    );
    let workshop = format!("biobank-workshop-{day}");
    let add_action = |owner: &'static str| {
        let b = &b;
        let url = &url;
        let workshop = &workshop;
        async move {
            b.go(&format!("{url}/office")).await;
            b.click(&format!("#add-action-{workshop} summary")).await;
            b.type_into(&format!("#action-text-{workshop}"), "Send the sample list")
                .await;
            b.type_into(&format!("#action-owner-{workshop}"), owner)
                .await;
            b.set_value(&format!("#action-due-{workshop}"), "2027-03-01")
                .await;
            b.click(&format!("#add-action-{workshop} button[type='submit']"))
                .await;
        }
    };
    add_action("").await;
    assert!(b.wait_for("#error-detail").await);
    assert!(
        b.source().await.contains("actions[0].owner"),
        "{}",
        b.source().await
    );
    add_action("steward-de-berlin").await;
    b.wait_url("#events").await;
    assert!(b.source().await.contains("Send the sample list"));
    b.click(&format!("#minutes-{workshop} summary")).await;
    b.type_into(&format!("#minutes-text-{workshop}"), "Sample list agreed.")
        .await;
    // the page is at #events already: wait for the next document, not for the URL
    b.submit(&format!("#minutes-{workshop} button[type='submit']"))
        .await;
    b.wait_url("#events").await;
    let ev = events(&b.http, &url, &token).await;
    let w = ev
        .iter()
        .find(|e| e["event"]["id"] == workshop.as_str())
        .expect("the workshop is in the researcher's view of the events");
    assert_eq!(w["event"]["minutes"], "Sample list agreed.");
    assert_eq!(w["event"]["actions"][0]["owner"], "steward-de-berlin");
    assert_eq!(w["event"]["sequence"], 2, "two changes after it was made");

    // an exchange: the last day before the first is refused naming `end`; then proposed,
    // and completed with its report
    let propose = |end: &'static str| {
        let b = &b;
        let url = &url;
        async move {
            b.go(&format!("{url}/office")).await;
            b.click("#new-exchange summary").await;
            b.type_into("#exchange-person", "steward-jp-osaka").await;
            b.type_into("#exchange-home", "Osaka University Hospital")
                .await;
            b.type_into("#exchange-host", "Universitätsklinikum Frankfurt")
                .await;
            b.set_value("#exchange-start", "2027-09-01").await;
            b.set_value("#exchange-end", end).await;
            b.click("#exchange-theme option[value='AMR']").await;
            b.click("#new-exchange button[type='submit']").await;
        }
    };
    propose("2027-08-01").await;
    assert!(b.wait_for("#error-detail").await);
    assert!(b.source().await.contains("end:"), "{}", b.source().await);
    propose("2027-10-31").await;
    b.wait_url("#exchanges").await;
    let x = "x-steward-jp-osaka-2027-09-01";
    b.click(&format!("#exchange-{x} summary")).await;
    b.click(&format!("#exchange-status-{x} option[value='completed']"))
        .await;
    b.type_into(&format!("#exchange-report-{x}"), "WHONET exports set up.")
        .await;
    b.submit(&format!("#exchange-{x} button[type='submit']"))
        .await;
    b.wait_url("#exchanges").await;
    assert!(b.source().await.contains("WHONET exports set up."));

    // attendance: ticking steward-de-berlin's missed sessions earns the certificate
    let course = "course-genomic-amr-2026";
    let cert = format!("{url}/office/courses/{course}/certificate/steward-de-berlin");
    b.go(&cert).await;
    assert!(
        b.source().await.contains("(409)"),
        "1 of 3 sessions: no certificate yet"
    );
    b.go(&format!("{url}/office")).await;
    b.click(&format!("#attendance-{course} summary")).await;
    let unticked: Value = b
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return [...document.querySelectorAll('input[type=checkbox][value=\"steward-de-berlin\"]')].filter(c => !c.checked).map(c => c.id);", "args": []})),
        )
        .await;
    let unticked: Vec<String> = serde_json::from_value(unticked).unwrap();
    assert_eq!(
        unticked.len(),
        2,
        "the demo's participant missed two sessions"
    );
    for id in &unticked {
        b.click(&format!("#{id}")).await;
    }
    b.click(&format!("#attendance-{course} button[type='submit']"))
        .await;
    b.wait_url("#training").await;
    b.go(&cert).await;
    assert!(
        b.source()
            .await
            .contains("Genomic surveillance of antimicrobial resistance"),
        "{}",
        b.source().await
    );
    b.screenshot(&shots.join("office-certificate-earned-en.png"))
        .await;

    // every page of the flow in three languages
    let pages = [
        ("office-forms", "/office"),
        ("office-library", "/office#library"),
        ("office-decisions", "/office#decisions"),
        ("office-exchanges", "/office#exchanges"),
        ("office-training", "/office#training"),
        (
            "surveillance-in-force",
            "/surveillance?definition=sari-icosari",
        ),
        ("amr-in-force", "/amr"),
    ];
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        for (name, path) in pages {
            b.go(&format!("{url}{path}")).await;
            open_details(&b).await;
            let src = b.source().await;
            assert!(src.contains(&format!("<html lang=\"{lang}\"")), "{name}");
            assert!(!src.contains('⟦'), "{name} in {lang}: untranslated key");
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
