//! The partnership office of the demo network, from the outside: `kakehashi demo` seeds it
//! through the hub's API, and `kakehashi office events` with the researcher's token (any
//! member's) shows the symposium in Berlin and the upcoming meetings in both time zones, as a
//! table, JSON and an iCalendar feed; the secret feed URL serves the same calendar without a
//! session, and the API refuses strangers and members where the office decides.

#[allow(dead_code)]
mod common;

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn office(url: &str, token: &str, args: &[&str]) -> String {
    let out = Command::new(EXE)
        .args(["office", "events", "--hub", url, "--token", token])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_office_is_seeded_and_the_cli_shows_its_events() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (_demo, url) = common::spawn_demo(dir.path(), 60, Stdio::null());
    let http = reqwest::Client::new();
    let token_file = dir.path().join("hub").join("researcher.token");
    let t = Instant::now();
    let token = loop {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "the demo did not seed its office: {}",
            std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default()
        );
        if let Ok(token) = std::fs::read_to_string(&token_file) {
            let r = http
                .get(format!("{url}/api/office/events"))
                .bearer_auth(token.trim())
                .send()
                .await;
            if let Ok(r) = r
                && let Ok(events) = r.json::<Vec<Value>>().await
                && events.len() >= 4
            {
                break token.trim().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    let table = office(&url, &token, &[]);
    assert!(
        table.contains("2026-04-15 09:00  2026-04-15 16:00"),
        "{table}"
    );
    assert!(
        table.contains("First bilateral JIHS–NUM symposium"),
        "{table}"
    );
    let json: Vec<Value> =
        serde_json::from_str(&office(&url, &token, &["--format", "json", "--mine"])).unwrap();
    let ids: Vec<&str> = json
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["symposium-2026-berlin", "steering-next", "wg-amr-next"],
        "the researcher's events, by start"
    );
    let ics = office(&url, &token, &["--format", "ics", "--body", "steering"]);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("UID:steering-next@office.kakehashi\r\n"));
    assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo"));
    assert!(!ics.contains("wg-amr-next"));

    // the MoU and its timeline; the library as seeded
    let a: Vec<Value> = http
        .get(format!("{url}/api/office/agreements"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a[0]["agreement"]["term_end"], "2029-04-14");
    assert_eq!(a[0]["timeline"]["notice_deadline"], "2029-01-14");
    let doc: Value = http
        .get(format!("{url}/api/office/documents/proto-sari"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["review"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["approved", "in_review"]);
    assert_eq!(doc["translations"].as_array().unwrap().len(), 3);

    // a secret feed serves without a session; strangers and members are refused where due
    let feed: Value = http
        .post(format!("{url}/api/office/feeds"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .get(format!("{url}{}", feed["path"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("UID:wg-amr-next@office.kakehashi")
    );
    assert_eq!(
        http.get(format!("{url}/office/calendar/khcal_guess.ics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http.get(format!("{url}/api/office/events"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = http
        .post(format!(
            "{url}/api/office/documents/proto-sari/translations"
        ))
        .bearer_auth(&token)
        .json(&json!({"version": 2, "lang": "ja", "file_name": "p.exe", "content_base64": "TVo="}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not a type the library keeps")
    );
    let r = http
        .post(format!("{url}/api/office/events"))
        .bearer_auth(&token)
        .json(&json!({"id": "x", "title": "x", "kind": "meeting", "body": "steering", "tz": "Europe/Berlin",
                      "start": "2027-01-01T10:00:00", "end": "2027-01-01T09:00:00", "location": "online",
                      "agenda": [], "participants": [], "minutes": null, "actions": [], "sequence": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a member does not make the steering committee's events"
    );

    // the page, in German, with both time zones; its feed form makes a secret address
    let login: Value = http
        .post(format!("{url}/api/login"))
        .json(&json!({"name": "researcher", "password": "kakehashi-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cookie = format!(
        "kh_session={}; kh_lang=de",
        login["session"].as_str().unwrap()
    );
    let r = http
        .get(format!("{url}/office"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap().replace("&#x2f;", "/");
    for want in [
        "Partnerschaftsbüro",
        "2026-04-15 09:00 – 17:30 CEST",
        "2026-04-15 16:00 – 2026-04-16 00:30 JST",
        "in Prüfung",
        "freigegeben",
    ] {
        assert!(page.contains(want), "{want} missing from the page");
    }
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{url}/office/feed"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&body=wg-amr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .replace("&#x2f;", "/")
            .contains("/office/calendar/khcal_")
    );
    let r = http
        .post(format!("{url}/office/feed"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=forged&body=")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a form without the page's CSRF token is refused"
    );

    // the diff of the protocol's two versions, and a review step the researcher may not take
    let r = http
        .get(format!(
            "{url}/office/documents/proto-sari/diff?from=1&to=2"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let diff = r.text().await.unwrap();
    assert!(
        diff.contains("<ins>4. Pathogen results by JLAC10 and LOINC codes.</ins>"),
        "{diff}"
    );
    assert!(diff.contains("<del>2. Weekly counts by age group.</del>"));
    assert!(diff.contains("hinzugefügt"));
    let r = http
        .post(format!("{url}/office/documents/proto-sari/step"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&version=2&step=approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "the author, no chair, does not approve her own version"
    );

    // the activity report of the MoU's first year, as JSON and as the printable page
    let r: Value = http
        .get(format!("{url}/api/office/report"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["year"]["n"], 1, "{r}");
    assert_eq!(r["year"]["from"], "2026-04-15");
    let people: Vec<&str> = r["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["person"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["researcher"], "the 2027 exchange is in year 2");
    assert_eq!(r["courses"][0]["certificates"], 2);
    assert_eq!(r["meetings"][0]["id"], "symposium-2026-berlin");
    assert!(r["upcoming"].as_u64().unwrap() >= 2, "{r}");
    assert!(
        r["open_actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["text"] == "Send the draft work plan 2027"),
        "{r}"
    );
    // the studies of the year: the two registries active since the demo made them, each
    // citing its approved protocol; the outbreak protocol sleeping, not started
    let study = |r: &Value, id: &str| -> Value {
        r["studies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {r}"))
            .clone()
    };
    for id in ["vhf-registry", "sfts-registry"] {
        let s = study(&r, id);
        assert_eq!(
            (s["status"].as_str(), s["started_in_span"].as_bool()),
            (Some("active"), Some(true)),
            "{s}"
        );
    }
    let sleeping = study(&r, "vhf-outbreak");
    assert_eq!(
        (sleeping["status"].as_str(), sleeping["started"].is_null()),
        (Some("sleeping"), true)
    );
    // activated at one site in one step by the network office's CLI; Japan has no ethics
    // approval recorded yet, so activating there is refused naming the site
    let admin = std::fs::read_to_string(dir.path().join("hub").join("admin.token")).unwrap();
    let activate = |site: &str| {
        std::process::Command::new(EXE)
            .args([
                "study",
                "activate",
                "vhf-outbreak",
                "--site",
                site,
                "--note",
                "imported case",
                "--hub",
                &url,
                "--token",
                admin.trim(),
            ])
            .output()
            .unwrap()
    };
    let refused = activate("jp_tokyo");
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("sites[0]: 'jp_tokyo' is in JP"), "{why}");
    let done = activate("de_berlin");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        String::from_utf8_lossy(&done.stdout).contains("study vhf-outbreak active at de_berlin")
    );
    let after: Value = http
        .get(format!("{url}/api/office/report"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = study(&after, "vhf-outbreak");
    assert_eq!(
        (
            now["status"].as_str(),
            now["started_in_span"].as_bool(),
            now["active_sites"].as_u64()
        ),
        (Some("active"), Some(true), Some(1)),
        "{now}"
    );
    let year2: Value = http
        .get(format!("{url}/api/office/report?year=2"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(year2["exchanges"][0]["person"], "steward-de-berlin");
    let r = http
        .get(format!("{url}/api/office/report?year=99"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("year"));
    let page = http
        .get(format!("{url}/office/report"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tätigkeitsbericht, Jahr 1"), "{page}");
    assert!(page.contains("@media print"));

    // certificates: the holder sees hers; not someone else's; none without every session
    let cert = |who: &str| {
        http.get(format!(
            "{url}/office/courses/course-genomic-amr-2026/certificate/{who}"
        ))
        .header("cookie", &cookie)
        .send()
    };
    let r = cert("researcher").await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Teilnahmebescheinigung"), "{page}");
    assert!(page.contains("Genomic surveillance of antimicrobial resistance"));
    assert_eq!(cert("steward-jp-tokyo").await.unwrap().status(), 403);
    let login: Value = http
        .post(format!("{url}/api/login"))
        .json(&json!({"name": "admin", "password": "kakehashi-admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .get(format!(
            "{url}/office/courses/course-genomic-amr-2026/certificate/steward-de-berlin"
        ))
        .header(
            "cookie",
            format!("kh_session={}", login["session"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "one of three sessions: no certificate");
}
