//! End-to-end tests of the web UI in headless Chromium against a real demo network
//! (`kakehashi demo`: hub and four site agents as processes on loopback).
//!
//! Chromium is driven through chromedriver's W3C WebDriver HTTP API (a handful of JSON calls,
//! made here with reqwest). Screenshots of every page in English, German and Japanese are
//! written to `screenshots/` at the workspace root. Every page is checked with axe-core for
//! accessibility, and the Japanese pages for real glyphs (a CJK font), see `a11y/mod.rs`.

#[path = "a11y/mod.rs"]
mod a11y;
#[path = "a11y/console.rs"]
mod console;

#[allow(dead_code)]
mod common;

use common::browser::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The season the surveillance page should show for a country today: the current one on its
/// calendar, else the latest with cases or tests at its sites (computed from their stores).
fn expected_season(demo: &Path, sites: &[&str]) -> (i32, bool) {
    let mut cmd = Command::new(EXE);
    cmd.args([
        "surveillance",
        "series",
        "--definition",
        "sari-icosari",
        "--by",
        "",
        "--format",
        "json",
    ]);
    for s in sites {
        cmd.arg("--site-dir").arg(demo.join("sites").join(s));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let country: kakehashi_model::Country =
        serde_json::from_value(v["sites"][0]["country"].clone()).unwrap();
    let conv = kakehashi_surveillance::ReportingConvention::of(country);
    let mut with_data: Vec<i32> = v["series"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["cases"].as_u64() > Some(0)
                || r["positivity"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["tests"].as_u64() > Some(0))
        })
        .map(|r| {
            kakehashi_surveillance::pooled::chart_season(
                &conv,
                r["week"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    with_data.sort_unstable();
    with_data.dedup();
    kakehashi_surveillance::pooled::shown_season(
        &conv,
        conv.local_date(chrono::Utc::now()),
        None,
        &with_data,
    )
}

/// Runs axe-core on the current page when it is installed (see `a11y::Axe::load`).
async fn audit(axe: &mut Option<a11y::Axe>, b: &Browser, name: &str) {
    if let Some(axe) = axe {
        axe.check(b, name).await;
    }
}

/// Sign in, run a feasibility query against the demo network, see the per-site results,
/// switch language; every page in all three languages has no untranslated key, no serious or
/// critical axe-core violation, and (in Japanese) real glyphs; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn researcher_runs_a_query_and_every_page_renders_in_three_languages() {
    let mut axe = a11y::Axe::load();
    let (dir, _demo, _driver, b, url) = start().await;
    // Bad input is rejected next to the field.
    b.go(&format!("{url}/login")).await;
    audit(&mut axe, &b, "login").await;
    b.type_into("#username", "researcher").await;
    b.click("button.primary").await;
    assert!(
        b.wait_for("#password-error").await,
        "empty password gets a message next to the field"
    );
    audit(&mut axe, &b, "login-errors").await;
    b.type_into("#password", "wrong-password").await;
    b.click("button.primary").await;
    assert!(
        b.wait_for("#form-error").await,
        "wrong credentials are reported"
    );
    audit(&mut axe, &b, "login-wrong-password").await;
    sign_in(&b, &url, "researcher").await;

    // Feasibility: search a criterion, add it, run.
    b.go(&format!("{url}/feasibility")).await;
    b.click("button.primary").await;
    assert!(
        b.wait_for("#ccdl-error").await,
        "running without criteria is refused next to the query field"
    );
    audit(&mut axe, &b, "feasibility-errors").await;
    b.type_into("#search", "J18").await;
    b.click("button[value='search']").await;
    assert!(
        b.wait_for("button[name='add'][value*='J18']").await,
        "search finds J18 and offers to add it"
    );
    audit(&mut axe, &b, "feasibility-search").await;
    // encounters by class: found by name and added as an MII `Fall` criterion
    b.set_value("#search", "inpatient").await;
    b.click("button[value='search']").await;
    assert!(
        b.wait_for("button[name='add'][value*='IMP']").await,
        "search finds the inpatient encounter class"
    );
    b.click("button[name='add'][value*='IMP']").await;
    let t = Instant::now();
    while !b.source().await.contains("\"Fall\"") {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the encounter criterion is added to the query: {}",
            b.source().await.chars().take(3000).collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.type_into("#age_min", "abc").await;
    b.click("button[value='add-patient']").await;
    assert!(
        b.wait_for("#age_min-error").await,
        "a non-number age is refused next to its field"
    );
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();
    b.set_value("#ccdl", &ccdl).await;
    b.click("button[value='run']").await;
    assert!(
        b.wait_for("#project-error").await,
        "running without a project is refused next to the project field"
    );
    b.set_value("#project", "demo").await;
    b.set_value("#ccdl", &ccdl).await;
    b.click("button[value='run']").await;
    let t = Instant::now();
    while !b.url().await.contains("/feasibility/") {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the query did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = b.source().await;
    for site in ["Berlin", "Frankfurt", "Tokyo", "Osaka"] {
        assert!(page.contains(site), "result lists {site}");
    }
    let answered = page.matches("<td class=\"status-answered\">").count();
    assert_eq!(
        answered,
        4,
        "all four sites answered: {}",
        page.split("<tbody>")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take(3000)
            .collect::<String>()
    );
    let feasibility_result = b.url().await.trim_start_matches(&url).to_owned();

    // Resistance: an unknown organism is refused next to its field; the default panel runs at
    // every site and shows one heat-map per country and the comparison.
    b.go(&format!("{url}/amr")).await;
    b.set_value("#organisms", "Escherichia coli, Unobtainium")
        .await;
    b.click("button[name='run']").await;
    assert!(
        b.wait_for("#organisms-error").await,
        "an unknown organism is refused next to its field"
    );
    audit(&mut axe, &b, "amr-errors").await;
    assert!(b.source().await.contains("Unobtainium"));
    b.go(&format!("{url}/amr")).await;
    b.click("button[name='run']").await;
    let t = Instant::now();
    while !b.url().await.contains("/amr?task=") {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the run (a POST) redirects to its result"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    while !(b.exists("svg[aria-labelledby^='de-title']").await
        && b.exists("svg[aria-labelledby^='jp-title']").await)
    {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "a heat-map per country: {}",
            {
                // the page's main part, where the sites' states and reasons are
                let src = b.source().await;
                let from = src.find("<main").unwrap_or(0);
                src[from..].chars().take(4000).collect::<String>()
            }
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = b.source().await;
    assert_eq!(
        page.matches("<td class=\"status-answered\">").count(),
        4,
        "all four sites answered the antibiogram"
    );
    assert!(
        page.contains("Escherichia coli") && page.contains("Meropenem"),
        "the panel's rows and columns"
    );
    let amr_run = b.url().await.trim_start_matches(&url).to_owned();
    // Year by year: the same panel with the box ticked gives a column per year, a row per
    // pair and country, and the test for trend, instead of the whole-period heat-maps.
    b.click("#by_year").await;
    b.click("button[name='run']").await;
    let t = Instant::now();
    while !b.exists("#trends").await {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the by-year table: {}",
            b.source().await.chars().take(3000).collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = b.source().await;
    assert!(
        b.url().await.contains("/amr?task=") && b.exists("#by_year:checked").await,
        "the run redirects to its result, and the box is part of the question"
    );
    let table = &page[page.find("<table id=\"trends\">").unwrap_or(0)..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    assert!(
        table.matches("<th scope=\"col\" class=\"num\">20").count() >= 2,
        "a column per year: {table}"
    );
    // (the test network's Japanese sites are small: their counts per year are all withheld, so
    // the table may have no Japanese row, while the German sites release some)
    assert!(
        table.contains("<tr><td><i>Escherichia coli</i></td><td>Meropenem</td><td>Germany</td>"),
        "{table}"
    );
    assert!(
        !b.exists("svg[aria-labelledby^='de-title']").await,
        "no whole-period heat-map"
    );
    let amr_by_year = b.url().await.trim_start_matches(&url).to_owned();

    // Surveillance: a GET asks nothing; the first visit shows the newest stored run of the
    // researcher's projects (the demo asks one at start), with its date and who asked it,
    // beside the button that asks again; without parameters (no "Apply"): the current season
    // on each country's calendar, or the latest season with data when the sites have none for
    // it yet, with a curve and a positivity chart per country.
    let token = std::fs::read_to_string(dir.path().join("hub").join("researcher.token")).unwrap();
    let surveillance_tasks = || async {
        let tasks: Vec<Value> = b
            .http
            .get(format!("{url}/api/tasks"))
            .bearer_auth(token.trim())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tasks
            .iter()
            .filter(|t| t["spec"]["type"] == "surveillance_series")
            .count()
    };
    let before = surveillance_tasks().await;
    assert_eq!(before, 1, "the demo asked one surveillance run at start");
    b.go(&format!("{url}/surveillance")).await;
    assert!(
        !b.exists("#surv-not-run").await,
        "the first visit shows the demo's run, not an empty page"
    );
    let src = b.source().await;
    let run_of = src
        .find("id=\"surv-run-of\"")
        .map(|i| &src[i..i + src[i..].find("</p>").unwrap_or(0)])
        .unwrap_or_else(|| panic!("the run shown is said: {}", &src[..src.len().min(3000)]));
    assert!(
        run_of.contains("researcher") && run_of.contains("demo"),
        "the run shown is dated and named: {run_of}"
    );
    assert!(b.exists("#surv-run").await, "a button asks again");
    let t = Instant::now();
    while !(b
        .exists("svg[aria-labelledby^='positivity-de-title']")
        .await
        && b.exists("svg[aria-labelledby^='positivity-jp-title']")
            .await)
    {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "a positivity chart per country on the first visit: {}",
            b.source().await.chars().take(3000).collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.go(&format!("{url}/surveillance")).await;
    }
    assert_eq!(
        surveillance_tasks().await,
        before,
        "showing the page created no task"
    );
    let page = b.source().await;
    for (country, sites) in [
        ("Germany", ["de-berlin", "de-frankfurt"]),
        ("Japan", ["jp-tokyo", "jp-osaka"]),
    ] {
        let (season, fell_back) = expected_season(dir.path(), &sites);
        let label = kakehashi_surveillance::pooled::season_label(season);
        let want = if fell_back {
            format!("{country}: no data yet for season")
        } else {
            format!("{country}: season {label} (current season)")
        };
        let shown = &page[page
            .find("id=\"seasons-shown\"")
            .expect("the seasons shown are named")..];
        let line = shown
            .split("<li>")
            .find(|l| l.starts_with(country))
            .unwrap_or_default();
        assert!(
            line.starts_with(&want) && line.contains(&label),
            "{country}: expected {want} ({label}), page says {line}"
        );
        assert!(
            page.contains(&format!("{country} · sari-icosari · {label}")),
            "the {country} curve shows season {label}"
        );
    }
    assert!(
        page.contains("class=\"band\""),
        "positivity with its interval band"
    );
    assert!(
        page.contains("class=\"y2-tick\""),
        "rates per 100,000 beside the counts"
    );
    for svg in page
        .split("<svg")
        .skip(1)
        .filter(|s| s.contains("class=\"x-tick\""))
    {
        let labels = kakehashi_web::share_chart::x_tick_labels(svg);
        assert!(
            labels.len() >= 4 && kakehashi_web::share_chart::labels_apart(&labels),
            "week labels apart: {labels:?}"
        );
    }

    // An access request for two demo collections, so that its page is among those checked.
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sfts.json"),
    )
    .unwrap();
    let request: Value = reqwest::Client::new()
        .post(format!("{url}/api/requests"))
        .bearer_auth(token.trim())
        .json(
            &json!({"title": "SFTS sera", "description": "Neutralising antibodies",
            "query": {"ccdl": ccdl, "specimen": {"material_types": ["Serum"]}},
            "collections": ["jp-tokyo-vhf", "de-berlin-vhf"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let request_page = format!("/requests/{}", request["id"].as_str().expect("a request"));

    // Every page in every language, no untranslated key, with a screenshot.
    let shots = screenshots_dir();
    let pages = [
        ("home", "/"),
        ("network", "/network"),
        ("feasibility", "/feasibility"),
        ("feasibility-result", feasibility_result.as_str()),
        ("amr-form", "/amr"),
        ("amr", amr_run.as_str()),
        ("amr-by-year", amr_by_year.as_str()),
        ("surveillance", "/surveillance"),
        (
            "surveillance-icosari",
            "/surveillance?definition=sari-icosari",
        ),
        ("office", "/office"),
        (
            "office-diff",
            "/office/documents/proto-sari/diff?from=1&to=2",
        ),
        ("office-report", "/office/report"),
        (
            "office-certificate",
            "/office/courses/course-genomic-amr-2026/certificate/researcher",
        ),
        ("notifications", "/notifications"),
        ("catalogue", "/catalogue"),
        ("catalogue-dna-jp", "/catalogue?material=DNA&country=JP"),
        ("catalogue-errors", "/catalogue?q=sera&disease=X1"),
        ("requests", "/requests"),
        ("request", request_page.as_str()),
        ("error-not-found", "/feasibility/no-such-task"),
        ("error-forbidden", "/steward"),
    ];
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        for (name, path) in pages {
            b.go(&format!("{url}{path}")).await;
            let src = b.source().await;
            assert!(
                src.contains(&format!("<html lang=\"{lang}\"")),
                "{name} in {lang}"
            );
            assert!(
                !src.contains('⟦'),
                "{name} in {lang} has an untranslated key: {}",
                &src[src.find('⟦').unwrap()..][..80]
            );
            b.screenshot(&shots.join(format!("{name}-{lang}.png")))
                .await;
            audit(&mut axe, &b, &format!("{name}-{lang}")).await;
            if lang == "ja" {
                a11y::assert_japanese_glyphs(&b, &format!("{name}-{lang}")).await;
            }
        }
    }
    // The language choice is remembered for the user (a new session starts in Japanese).
    b.go(&format!("{url}/login")).await;
    sign_in(&b, &url, "researcher").await;
    assert!(
        b.source().await.contains("<html lang=\"ja\""),
        "the user's language is remembered"
    );
    set_language(&b, "en").await;

    // The steward's page, in all three languages.
    b.click("header form[action='/logout'] button").await;
    sign_in(&b, &url, "steward-de-berlin").await;
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        b.go(&format!("{url}/steward")).await;
        let src = b.source().await;
        assert!(
            !src.contains('⟦'),
            "steward page in {lang} has an untranslated key"
        );
        assert!(src.contains("Berlin"), "steward sees their site");
        b.screenshot(&shots.join(format!("steward-{lang}.png")))
            .await;
        audit(&mut axe, &b, &format!("steward-{lang}")).await;
    }
    b.go(&format!("{url}/login")).await;
    b.screenshot(&shots.join("login-ja.png")).await;
    audit(&mut axe, &b, "login-ja").await;
    a11y::assert_japanese_glyphs(&b, "login-ja").await;

    // The network office's user administration, in all three languages.
    b.go(&format!("{url}/steward")).await;
    b.click("header form[action='/logout'] button").await;
    sign_in_with(&b, &url, "admin", "kakehashi-admin").await;
    for lang in ["en", "de", "ja"] {
        set_language(&b, lang).await;
        b.go(&format!("{url}/admin/users")).await;
        let src = b.source().await;
        assert!(
            src.contains(&format!("<html lang=\"{lang}\"")) && !src.contains('⟦'),
            "admin users page in {lang}"
        );
        assert!(src.contains("steward-jp-osaka"), "the users are listed");
        b.screenshot(&shots.join(format!("admin-users-{lang}.png")))
            .await;
        audit(&mut axe, &b, &format!("admin-users-{lang}")).await;
        if lang == "ja" {
            a11y::assert_japanese_glyphs(&b, &format!("admin-users-{lang}")).await;
        }
    }

    // A site steward's console (served by the site's agent, not the hub), every page in all
    // three languages.
    let (_console_agent, console) = console::start(dir.path(), &url).await;
    b.go(&format!("{console}/login?lang=en")).await;
    audit(&mut axe, &b, "console-login-en").await;
    sign_in_with(&b, &console, "steward", console::PASSWORD).await;
    for lang in ["en", "de", "ja"] {
        for (name, path) in [
            ("console-tasks", "/tasks"),
            ("console-policy", "/policy"),
            ("console-ledger", "/ledger"),
            ("console-released", "/released"),
            ("console-enrol", "/enrol"),
        ] {
            b.go(&format!("{console}{path}?lang={lang}")).await;
            let src = b.source().await;
            assert!(
                src.contains(&format!("<html lang=\"{lang}\"")) && !src.contains('⟦'),
                "{name} in {lang}: {}",
                src.chars().take(600).collect::<String>()
            );
            b.screenshot(&shots.join(format!("{name}-{lang}.png")))
                .await;
            audit(&mut axe, &b, &format!("{name}-{lang}")).await;
            if lang == "ja" {
                a11y::assert_japanese_glyphs(&b, &format!("{name}-{lang}")).await;
            }
        }
    }
    if let Some(axe) = &axe {
        axe.assert_clean();
    }
}
