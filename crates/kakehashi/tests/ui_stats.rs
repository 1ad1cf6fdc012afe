//! The analysis page in headless Chromium against a real demo network (four sites): a
//! researcher runs the README's GLM (`died ~ age_band + sex + country`, binomial, the shipped
//! SARI dataset) and a meta-analysis of the sites' own fits from the plain form, and reads each
//! site's part, the coefficients with CIs, the forest plot, and the CSV, R and Python copies
//! built from the released aggregates. In English, German and Japanese, with screenshots in
//! `screenshots/`.

#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Submits the analysis form and waits for the page that comes back (the first run waits
/// for every site to compile its dataset).
async fn run(b: &Browser) {
    b.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "window.__khOld = true;", "args": []})),
    )
    .await;
    b.click("form[action='/analysis'] button[type='submit']")
        .await;
    let t = Instant::now();
    loop {
        let v = b
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": "return window.__khOld === true || document.readyState !== 'complete';", "args": []})),
            )
            .await;
        if v == json!(false) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(300), "no result page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Brings the result into the screenshot's view.
async fn show_result(b: &Browser) {
    b.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "document.getElementById('result').scrollIntoView();", "args": []})),
    )
    .await;
}

async fn open_details(b: &Browser) {
    b.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(json!({"script": "document.querySelectorAll('details').forEach(d => d.open = true);", "args": []})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analysis_page_runs_a_glm_and_a_meta_analysis_in_three_languages() {
    let mut axe = a11y::Axe::load();
    let (_dir, _demo, _driver, b, url) = start_with(300).await;
    let shots = screenshots_dir();
    sign_in(&b, &url, "researcher").await;
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        b.go(&format!("{url}/analysis")).await;
        assert!(b.exists("a[href='/analysis'][aria-current='page']").await);
        // the form comes filled with the README's model on the shipped dataset
        let src = b.source().await;
        assert!(
            src.contains("value=\"died ~ age_band + sex + country\""),
            "{src}"
        );
        b.set_value("#project", "demo").await;
        run(&b).await;
        let src = b.source().await;
        assert!(b.exists("#result #sites").await, "{src}");
        assert!(!src.contains('⟦'), "untranslated key in {lang}");
        assert!(
            b.exists("#estimates").await,
            "the GLM has a result in {lang}: {}",
            b.find("#result").await.len()
        );
        let table = b.source().await;
        for term in ["(Intercept)", "age_band[80+]", "sex[male]", "country[JP]"] {
            assert!(table.contains(&format!("<td>{term}</td>")), "{term}");
        }
        assert!(b.exists("#forest svg title").await);
        assert!(table.contains("beta &lt;- c(") || table.contains("beta <- c("));
        assert!(table.contains("term,estimate,std_error,z,p,ci_low,ci_high"));
        open_details(&b).await;
        if let Some(axe) = axe.as_mut() {
            axe.check(&b, &format!("analysis-glm-{lang}")).await;
        }
        if lang == "ja" {
            a11y::assert_japanese_glyphs(&b, "analysis-glm-ja").await;
        }
        show_result(&b).await;
        b.screenshot(&shots.join(format!("analysis-glm-{lang}.png")))
            .await;

        // the meta-analysis of the sites' own fits: each site and the pooled diamonds
        b.set_value("#model", "meta").await;
        b.set_value("#formula", "died ~ age + sex").await;
        run(&b).await;
        let src = b.source().await;
        assert!(b.exists("#estimates").await, "meta in {lang}: {src}");
        assert!(src.contains("pooled (reml)"), "{lang}");
        assert!(src.contains("library(metafor)"));
        assert_eq!(
            b.call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": "return [document.querySelectorAll('#forest svg rect').length, document.querySelectorAll('#forest svg polygon').length];", "args": []})),
            )
            .await,
            json!([4, 3]),
            "four sites and three pooled estimates in the forest plot"
        );
        open_details(&b).await;
        if let Some(axe) = axe.as_mut() {
            axe.check(&b, &format!("analysis-meta-{lang}")).await;
        }
        show_result(&b).await;
        b.screenshot(&shots.join(format!("analysis-meta-{lang}.png")))
            .await;
    }
    if let Some(axe) = &axe {
        axe.assert_clean();
    }
}
