//! An access request through the pages in headless Chromium against a real demo network: the
//! researcher locates sera of an SFTS cohort on the feasibility page's samples tab (a table and
//! a chart per material type), finds a collection in the catalogue, opens a request for it and a second site's
//! collection with a cohort in CCDL (a form without a collection is refused with the reason),
//! is offered no submit button until the ethics approval and the protocol are attached as
//! files, and submits; the network office reviews, approves and
//! contacts the German collection; its steward (who has no button for the Japanese one) checks
//! availability and states access conditions; the researcher accepts them; the steward makes the
//! samples available. Every page of the path in English, German and Japanese, axe-checked,
//! with screenshots in `screenshots/`.

#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use std::path::Path;
use std::time::{Duration, Instant};

const DE: &str = "de-berlin-vhf";
const JP: &str = "jp-tokyo-vhf";

/// Presses the request's button for `event` (on the collection `collection`, if given).
async fn press(b: &Browser, event: &str, collection: Option<&str>) {
    let css = match collection {
        Some(c) => {
            format!("form:has(input[name='collection'][value='{c}']) button[value='{event}']")
        }
        None => format!("form.actions button[value='{event}']"),
    };
    assert!(
        b.wait_for(&css).await,
        "no button {css}: {}",
        b.source().await
    );
    // the page comes back with the new state (or the reason it was refused)
    b.submit(&css).await;
}

/// Signs out and in as `user`.
async fn become_(b: &Browser, url: &str, user: &str, password: &str) {
    b.call(reqwest::Method::DELETE, "/cookie", None).await;
    // the language cookie went with the others: the pages are in the browser's English
    sign_in_with(b, url, user, password).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_from_the_catalogue_to_samples_made_available() {
    let mut axe = a11y::Axe::load();
    let (dir, _demo, _driver, b, url) = start_with(60).await;
    let shots = screenshots_dir();

    // the samples tab: which sites hold sera of the SFTS cohort's patients
    sign_in(&b, &url, "researcher").await;
    set_language(&b, "en").await;
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sfts.json"),
    )
    .unwrap();
    b.go(&format!("{url}/feasibility")).await;
    b.click("#tab-samples").await;
    assert!(b.wait_for("#samples-criteria").await);
    b.click("#project option[value='demo']").await;
    b.set_value("#ccdl", &ccdl).await;
    b.click("input[name='material'][value='Serum']").await;
    // around the first SFTS diagnosis, at least 0.4 mL per aliquot
    b.click("#anchor option[value='diagnosis']").await;
    b.set_value("#anchor_code", "A93.8").await;
    b.set_value("#days_before", "0").await;
    b.set_value("#days_after", "60").await;
    b.set_value("#min_volume_ul", "400").await;
    b.submit("#samples-run").await;
    assert!(b.wait_for("#samples-result").await, "{}", b.source().await);
    let located = b.url().await;
    assert!(located.contains("/feasibility/"), "{located}");
    let src = b.source().await;
    assert!(src.contains("<svg"), "the chart per material type");
    // a row per site, collection and material released by each gate: only Serum was asked
    assert!(src.contains("<td>Serum</td>"), "{src}");
    assert!(!src.contains("<td>Plasma</td>"), "{src}");
    assert!(
        b.exists("input[name='material'][value='Serum']:checked")
            .await
    );
    // the question's window and volume are shown with its answer, as asked
    assert!(b.exists("#anchor option[value='diagnosis']:checked").await);
    assert!(b.exists("#anchor_code[value='A93.8']").await, "{src}");
    assert!(b.exists("#days_after[value='60']").await);
    assert!(b.exists("#min_volume_ul[value='400']").await);

    // the catalogue reaches the hub after the agents' first polls
    let t = Instant::now();
    loop {
        b.go(&format!("{url}/catalogue")).await;
        if b.exists(&format!("a[href^='/requests?collection={DE}']"))
            .await
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no catalogue at the hub"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    b.click(&format!("a[href^='/requests?collection={DE}']"))
        .await;
    assert!(b.wait_for("#rq-title").await);
    assert!(
        b.exists(&format!("input[name='collection'][value='{DE}']:checked"))
            .await,
        "the catalogue's link ticks its collection"
    );
    // a request without a collection is refused at the form, with what was entered kept
    b.click(&format!("input[name='collection'][value='{DE}']"))
        .await;
    b.type_into("#rq-title", "Nothing chosen").await;
    b.submit("form[action='/requests'] button[type='submit']")
        .await;
    assert!(
        b.wait_for("#new-request-error").await,
        "{}",
        b.source().await
    );
    assert!(b.source().await.contains("value=\"Nothing chosen\""));
    b.screenshot(&shots.join("request-refused-form-en.png"))
        .await;
    b.click(&format!("input[name='collection'][value='{DE}']"))
        .await;
    b.type_into("#rq-title", "SFTS and CCHF convalescent sera")
        .await;
    b.type_into(
        "#rq-description",
        "Neutralisation assays against SFTSV and CCHFV.",
    )
    .await;
    b.click(&format!("input[name='collection'][value='{JP}']"))
        .await;
    b.set_value("#rq-ccdl", &ccdl).await;
    b.type_into("#rq-materials", "Serum").await;
    b.submit("form[action='/requests'] button[type='submit']")
        .await;
    let t = Instant::now();
    while !b.url().await.contains("/requests/") {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{}",
            b.source().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let request = b.url().await;
    assert!(b.source().await.contains(JP));

    // a draft without its ethics approval and protocol offers no submit button (the buttons
    // are exactly what the state machine would accept from this reader)
    assert!(!b.exists("form.actions button[value='submit']").await);
    for (kind, name) in [
        ("ethics_approval", "ethics-approval.pdf"),
        ("protocol", "protocol.pdf"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, format!("%PDF-1.7 {name}")).unwrap();
        b.go(&request).await;
        b.click(&format!("#attach-kind option[value='{kind}']"))
            .await;
        b.choose_file("#attach-file", &file).await;
        b.submit("#attach-form button[type='submit']").await;
        assert!(b.wait_for("a[href*='/attachments/']").await);
        assert!(b.source().await.contains(name), "{name} attached");
    }
    press(&b, "submit", None).await;
    assert!(
        !b.source().await.contains("role=\"alert\""),
        "{}",
        b.source().await
    );

    // the network office reviews, approves, starts and contacts the German collection
    become_(&b, &url, "admin", "kakehashi-admin").await;
    b.go(&request).await;
    for e in ["start_review", "approve", "start"] {
        press(&b, e, None).await;
    }
    press(&b, "contact", Some(DE)).await;

    // the German steward answers for her collection only
    become_(&b, &url, "steward-de-berlin", "kakehashi-demo").await;
    b.go(&request).await;
    assert!(
        !b.exists(&format!("form:has(input[name='collection'][value='{JP}'])"))
            .await,
        "no button for another site's collection"
    );
    for e in [
        "check_availability",
        "mark_available",
        "indicate_conditions",
    ] {
        press(&b, e, Some(DE)).await;
    }
    become_(&b, &url, "researcher", "kakehashi-demo").await;
    b.go(&request).await;
    press(&b, "accept_conditions", Some(DE)).await;
    become_(&b, &url, "steward-de-berlin", "kakehashi-demo").await;
    b.go(&request).await;
    press(&b, "make_available", Some(DE)).await;
    let src = b.source().await;
    assert!(
        src.contains("made available") || src.contains("Made available"),
        "{src}"
    );

    // every page of the path in three languages, as the steward and as the researcher
    for (who, password) in [
        ("steward-de-berlin", "kakehashi-demo"),
        ("researcher", "kakehashi-demo"),
    ] {
        become_(&b, &url, who, password).await;
        for lang in ["en", "de", "ja"] {
            set_language(&b, lang).await;
            for (name, path) in [
                ("samples", format!("{located}#samples-result")),
                ("catalogue", format!("{url}/catalogue")),
                ("requests", format!("{url}/requests")),
                ("request", request.clone()),
            ] {
                b.go(&path).await;
                let src = b.source().await;
                assert!(src.contains(&format!("<html lang=\"{lang}\"")));
                assert!(!src.contains('⟦'), "{name} in {lang}: untranslated key");
                let shot = format!("flow-{name}-{who}-{lang}");
                if let Some(axe) = axe.as_mut() {
                    axe.check(&b, &shot).await;
                }
                if lang == "ja" {
                    a11y::assert_japanese_glyphs(&b, &shot).await;
                }
                b.screenshot(&shots.join(format!("{shot}.png"))).await;
            }
        }
    }
    if let Some(axe) = &axe {
        axe.assert_clean();
    }
}
