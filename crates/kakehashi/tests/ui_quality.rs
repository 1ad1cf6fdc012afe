//! EDC data quality in headless Chromium against a real demo network: the demo data manager
//! runs the VHF registry's rule `onset_after_admission` on the checks page; its findings are
//! exactly the records whose onset date is after their admission date in the study's own
//! CSV export; queries are opened on one selected finding, then on all (the first is not
//! opened twice); the query list shows them; one is answered and closed from its page, its
//! thread in order; a refused step (an empty message) is shown and changes nothing; the form
//! page shows the finding and the query and opens a query by hand on a field; the dashboard
//! draws enrolment per site as SVG with the totals the subject list gives. Every page in
//! English, German and Japanese, axe-checked, with screenshots in `screenshots/`.

#[path = "a11y/mod.rs"]
mod a11y;
#[allow(dead_code)]
mod common;

use common::browser::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STUDY: &str = "vhf-registry";
const CHECK: &str = "onset_after_admission";

async fn wait_url(b: &Browser, part: &str) {
    let t = Instant::now();
    while !b.url().await.contains(part) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no page {part}: at {}",
            b.url().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The records whose onset is after their admission, read from the study's flat CSV export
/// (the data manager's session), and the number of subjects per site.
async fn from_export(url: &str, session: &str) -> (Vec<String>, BTreeMap<String, usize>) {
    let http = reqwest::Client::new();
    let csv = http
        .get(format!(
            "{url}/api/studies/{STUDY}/records/export?format=csv"
        ))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| {
        h.iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("{n} in {h:?}"))
    };
    let (rec, onset, adm) = (col("subjid"), col("pres_onsetdate"), col("pres_date"));
    let mut late: Vec<String> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| !x[onset].is_empty() && !x[adm].is_empty() && x[onset] > x[adm])
        .map(|x| x[rec].to_owned())
        .collect();
    late.sort();
    late.dedup();
    let subjects: Vec<Value> = http
        .get(format!("{url}/api/studies/{STUDY}/subjects"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut per_site = BTreeMap::new();
    for s in subjects {
        *per_site
            .entry(s["site"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    (late, per_site)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_become_queries_that_are_answered_and_closed_in_three_languages() {
    let mut axe = a11y::Axe::load();
    let (_dir, _demo, _driver, b, url) = start_with(60).await;
    let shots = screenshots_dir();
    let login: Value = reqwest::Client::new()
        .post(format!("{url}/api/login"))
        .json(&serde_json::json!({"name": "datamanager", "password": "kakehashi-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = login["session"].as_str().unwrap().to_owned();
    sign_in(&b, &url, "datamanager").await;
    set_language(&b, "en").await;

    // the demo fills the admission forms once its subjects reached the hub
    let t = Instant::now();
    let (late, per_site) = loop {
        let (late, per_site) = from_export(&url, &session).await;
        if !late.is_empty() {
            break (late, per_site);
        }
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "no admission forms filled"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };

    // the checks page lists the built-in checks and the registry's rules; running the rule
    // finds exactly the records the export shows
    b.go(&format!("{url}/studies/{STUDY}")).await;
    b.click("#study-quality").await;
    wait_url(&b, "/quality").await;
    assert!(b.exists("#run-missing_required").await);
    b.click(&format!("#run-{CHECK}")).await;
    wait_url(&b, "check=").await;
    let src = b.source().await;
    let found: Vec<String> = late
        .iter()
        .filter(|r| src.contains(&format!("title=\"{r}\"")))
        .cloned()
        .collect();
    assert_eq!(found, late, "every late onset is a finding");
    let rows = src.matches("name=\"finding\"").count();
    assert_eq!(rows, late.len(), "and nothing else");
    b.screenshot(&shots.join("quality-findings-en.png")).await;

    // one selected, then all: the first is not opened twice
    b.click("#f-1").await;
    b.submit("#open-selected").await;
    wait_url(&b, "opened=1").await;
    assert!(b.exists("#opened").await);
    assert_eq!(
        b.source().await.matches("name=\"finding\"").count(),
        late.len() - 1
    );
    b.submit("#open-all").await;
    wait_url(&b, &format!("opened={}&pending=1", late.len() - 1)).await;
    assert_eq!(b.source().await.matches("name=\"finding\"").count(), 0);

    // the query list, then one query: an empty answer is refused, an answer and a close
    // are taken, the thread in order
    b.go(&format!("{url}/studies/{STUDY}/queries")).await;
    let src = b.source().await;
    assert_eq!(
        src.matches("data-status=\"open\"").count(),
        late.len(),
        "{src}"
    );
    b.screenshot(&shots.join("quality-queries-en.png")).await;
    b.click("#queries tbody tr:last-child a").await;
    wait_url(&b, "/queries/1").await;
    assert!(b.exists("#step-answer").await && b.exists("#step-close").await);
    assert!(
        !b.exists("#step-reopen").await,
        "an open query is not re-opened"
    );
    b.call(
        reqwest::Method::POST,
        "/execute/sync",
        Some(serde_json::json!({"script": "document.querySelector('#step-text').removeAttribute('required');", "args": []})),
    )
    .await;
    b.submit("#step-answer").await;
    assert!(b.exists("#step-error").await, "{}", b.source().await);
    assert!(b.source().await.contains("needs text"));
    b.type_into("#step-text", "Onset re-read from the chart: typing error")
        .await;
    b.submit("#step-answer").await;
    wait_url(&b, "/queries/1").await;
    assert!(b.exists("#step-reopen").await && !b.exists("#step-answer").await);
    b.type_into("#step-text", "Please correct the date").await;
    b.submit("#step-close").await;
    let src = b.source().await;
    let thread = &src[src.find("id=\"thread\"").expect("the thread")..];
    let order = [
        "first symptom began after",
        "typing error",
        "correct the date",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|t| thread.find(t).unwrap_or_else(|| panic!("{t} in {thread}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{thread}");
    assert!(b.source().await.contains("closed"));
    b.screenshot(&shots.join("quality-query-en.png")).await;

    // the form page shows the finding and the query, and opens one on a field by hand
    b.click("#query-form").await;
    wait_url(&b, "/presentation/1").await;
    assert!(b.exists("#form-findings").await, "{}", b.source().await);
    let src = b.source().await;
    let queries = &src[src.find("id=\"form-queries\"").expect("the form's queries")..];
    assert!(queries.contains("/queries/1\""), "{queries}");
    b.click("#open-query").await;
    wait_url(&b, "/queries/new").await;
    b.click("#open-field option[value='pres_date']").await;
    b.type_into("#open-text", "Is the admission date the first admission?")
        .await;
    b.submit("#query-new-submit").await;
    assert!(
        !b.exists("#open-error").await,
        "{}",
        b.find("#open-error").await
    );
    assert!(
        !b.exists("main h1 + p.error, .error").await,
        "{}",
        b.source().await
    );
    wait_url(&b, &format!("/queries/{}", late.len() + 1)).await;
    assert!(b.source().await.contains("pres_date"));

    // the dashboard: a line per site, the totals of the subject list
    b.go(&format!("{url}/studies/{STUDY}/dashboard")).await;
    assert!(b.exists("#enrolment-chart svg").await);
    let src = b.source().await;
    let table = &src[src.find("id=\"enrolment-table\"").expect("the table")..];
    let table = &table[..table.find("</table>").expect("its end")];
    for (site, n) in &per_site {
        let row = format!("<code>{site}</code></th><td class=\"num\">{n}</td>");
        assert!(table.contains(&row), "{row} in {table}");
    }
    assert!(b.exists("#completeness-table").await);
    b.screenshot(&shots.join("quality-dashboard-en.png")).await;

    let pages = [
        (
            "quality-checks",
            format!("/studies/{STUDY}/quality?check={CHECK}"),
        ),
        ("quality-queries", format!("/studies/{STUDY}/queries")),
        ("quality-query", format!("/studies/{STUDY}/queries/1")),
        ("quality-dashboard", format!("/studies/{STUDY}/dashboard")),
    ];
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        for (name, path) in &pages {
            b.go(&format!("{url}{path}")).await;
            let src = b.source().await;
            assert!(
                src.contains(&format!("<html lang=\"{lang}\"")),
                "{name}: {src}"
            );
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
