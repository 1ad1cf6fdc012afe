//! The network's catalogue through real agents and a real hub on loopback: each agent sends
//! its site's catalogue file once the hub answers its first poll and again within a poll of an edit; the hub shows both
//! sites' collections, searches them and exports them as MIABIS JSON; a broken file is kept
//! at the site (the hub keeps the last good one); a file the hub refuses (a MIABIS problem,
//! an id another site publishes) changes nothing; each change is in both audit logs. Then a
//! request for two of its collections, read back with `kakehashi request list|show`.

mod common;

use common::net::Net;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// A catalogue file with one biobank and the collections `(id, material, icd)`.
fn catalogue(bank: &str, country: &str, collections: &[(&str, &str, &str)]) -> String {
    let mut t = format!(
        "[[biobank]]\nid = \"{bank}\"\nname = \"Biobank {bank}\"\njuristic_person = \"Hospital {bank}\"\ncountry = \"{country}\"\ndescription = \"Biobank of a test site\"\ncontact = {{ email = \"bank@{bank}.example\" }}\n"
    );
    for (id, material, icd) in collections {
        t.push_str(&format!(
            "\n[[collection]]\nid = \"{id}\"\nbiobank = \"{bank}\"\nname = \"Collection {id}\"\ndescription = \"Samples\"\ncontact = {{ email = \"{id}@{bank}.example\" }}\nsex = [\"Female\", \"Male\"]\ndataset_types = [\"Clinical\"]\nmaterial_types = [\"{material}\"]\ndiseases = [\"{icd}\"]\nnumber_of_subjects = 40\n"
        ));
    }
    t
}

async fn get(net: &Net, path: &str) -> (u16, String) {
    let r = net
        .http
        .get(format!("{}{path}", net.url))
        .bearer_auth(&net.tokens["alice"])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The collection ids the hub lists for `query`.
async fn ids(net: &Net, query: &str) -> Vec<String> {
    let (status, body) = get(net, &format!("/api/catalogue{query}")).await;
    assert_eq!(status, 200, "{body}");
    let hits: Vec<Value> = serde_json::from_str(&body).unwrap();
    hits.iter()
        .map(|h| {
            format!(
                "{}/{}",
                h["site"].as_str().unwrap(),
                h["collection"]["id"].as_str().unwrap()
            )
        })
        .collect()
}

/// Waits until the hub lists exactly `want`.
async fn wait_for(net: &Net, want: &[&str]) {
    let t = Instant::now();
    loop {
        let got = ids(net, "").await;
        if got == want {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the hub lists {got:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn audit_count(path: &Path, kind: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("\"{kind}\"")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sites_catalogue_reaches_the_hub_and_follows_its_edits() {
    let mut net = Net::start(&[]).await;
    let de = net.dir.path().join("site-de");
    let jp = net.dir.path().join("site-jp");
    std::fs::create_dir_all(&de).unwrap();
    std::fs::create_dir_all(&jp).unwrap();
    std::fs::write(
        de.join("catalogue.toml"),
        catalogue("de-bb", "DE", &[("de-sera", "Serum", "A98.0")]),
    )
    .unwrap();
    std::fs::write(
        jp.join("catalogue.toml"),
        catalogue("jp-bb", "JP", &[("jp-dna", "DNA", "A93.8")]),
    )
    .unwrap();
    net.start_site_at("de-a", &de, "min_count = 5").await;
    net.start_site_at("jp-b", &jp, "min_count = 5").await;
    net.wait_online(2).await;

    // after the first polls: both sites' collections, searchable
    wait_for(&net, &["de-a/de-sera", "jp-b/jp-dna"]).await;
    assert_eq!(ids(&net, "?material=DNA").await, ["jp-b/jp-dna"]);
    assert_eq!(
        ids(&net, "?disease=A90-A99").await,
        ["de-a/de-sera", "jp-b/jp-dna"]
    );
    assert_eq!(
        ids(&net, "?country=DE&q=collection").await,
        ["de-a/de-sera"]
    );
    let (status, body) = get(&net, "/api/catalogue?disease=X1").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("disease: \\\"X1\\\" is not an ICD-10 code"),
        "{body}"
    );
    let (status, body) = get(&net, "/api/catalogue/miabis").await;
    assert_eq!(status, 200);
    let miabis: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(miabis["standard"], "MIABIS Core 3.0");
    assert_eq!(miabis["collections"].as_array().unwrap().len(), 2);
    assert_eq!(miabis["collections"][0]["totalNumberOfSubjects"], 40);

    // an edit reaches the hub within a poll
    std::fs::write(
        de.join("catalogue.toml"),
        catalogue(
            "de-bb",
            "DE",
            &[
                ("de-sera", "Serum", "A98.0"),
                ("de-pbmc", "PrimaryCells", "U07.1"),
            ],
        ),
    )
    .unwrap();
    wait_for(&net, &["de-a/de-pbmc", "de-a/de-sera", "jp-b/jp-dna"]).await;

    // a broken edit stays at the site; the hub keeps the last good catalogue
    let agent = net.dir.path().join("agents").join("de-a");
    std::fs::write(
        de.join("catalogue.toml"),
        catalogue("de-bb", "DE", &[("de-sera", "Sera", "A98.0")]),
    )
    .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(agent.join("agent.log"))
        .unwrap_or_default()
        .contains("not sent to the hub until it is fixed")
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the agent did not report the broken file"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        ids(&net, "").await,
        ["de-a/de-pbmc", "de-a/de-sera", "jp-b/jp-dna"]
    );

    // what a site sends past its agent is checked again at the hub, and refused whole
    let token = std::fs::read_to_string(agent.join("site.token")).unwrap();
    let post = |text: String| {
        net.http
            .post(format!("{}/api/site/catalogue", net.url))
            .bearer_auth(token.trim())
            .json(&json!({"version": 1, "file": "catalogue.toml", "text": text}))
            .send()
    };
    let r = post(catalogue(
        "de-bb",
        "DE",
        &[("de-sera", "Serum", "not-a-code")],
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let msg = r.text().await.unwrap();
    assert!(
        msg.contains("catalogue.toml of site de-a")
            && msg.contains("diseases[0]")
            && msg.contains("is not an ICD-10 code"),
        "{msg}"
    );
    let r = post(catalogue("de-bb", "DE", &[("jp-dna", "DNA", "A93.8")]))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let msg = r.text().await.unwrap();
    assert!(
        msg.contains("collection id \\\"jp-dna\\\" is already published by site \\\"jp-b\\\""),
        "{msg}"
    );
    // a user cannot send a site's catalogue
    let r = net
        .http
        .post(format!("{}/api/site/catalogue", net.url))
        .bearer_auth(&net.tokens["alice"])
        .json(&json!({"version": 1, "file": "catalogue.toml", "text": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        ids(&net, "").await,
        ["de-a/de-pbmc", "de-a/de-sera", "jp-b/jp-dna"]
    );

    // three changes in the hub's audit log (two catalogues, one edit); each sent file in its site's
    let audit: Vec<Value> = net
        .http
        .get(format!("{}/api/admin/audit?limit=500", net.url))
        .bearer_auth(&net.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let received: Vec<&Value> = audit
        .iter()
        .filter(|e| e["kind"] == "catalogue_received")
        .collect();
    assert_eq!(received.len(), 3, "{received:?}");
    assert!(
        received
            .iter()
            .all(|e| e["detail"]["sha256"].as_str().unwrap().len() == 64)
    );
    assert_eq!(
        audit_count(&agent.join("state/audit/audit.log"), "catalogue_sent"),
        2
    );
    let jp_log = net.dir.path().join("agents/jp-b/state/audit/audit.log");
    assert_eq!(audit_count(&jp_log, "catalogue_sent"), 1);

    // a request for catalogue collections, then `kakehashi request list|show` as its researcher
    // and as the network office; bob sees none of it
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sfts.json"),
    )
    .unwrap();
    let r: Value = net
        .http
        .post(format!("{}/api/requests", net.url))
        .bearer_auth(&net.tokens["alice"])
        .json(
            &json!({"title": "SFTS sera", "description": "Neutralising antibodies",
            "query": {"ccdl": ccdl, "specimen": {"material_types": ["Serum"]}},
            "collections": ["de-sera", "jp-dna"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["id"].as_str().expect("a request id").to_owned();
    let cli = |token: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .arg("request")
            .args(args)
            .args(["--hub", &net.url, "--token", token])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = cli(&net.tokens["alice"], &["list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&id)
            && out.contains("draft")
            && out.contains("de-sera (de-a, submitted), jp-dna (jp-b, submitted)"),
        "{out}"
    );
    assert!(out.contains("SFTS sera"), "{out}");
    let (code, out, err) = cli(&net.admin, &["show", &id]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("state draft · opened by alice"), "{out}");
    assert!(
        out.contains("Neutralising antibodies") && out.contains("\"material_types\":[\"Serum\"]"),
        "{out}"
    );
    assert!(out.contains("de-sera") && out.contains("jp-b"), "{out}");
    let (code, out, _) = cli(&net.tokens["bob"], &["list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("(no request you may see)"), "{out}");
    let (code, _, err) = cli(&net.tokens["bob"], &["show", &id]);
    assert_eq!(code, Some(1));
    assert!(err.contains("hub: HTTP 404 Not Found: no request"), "{err}");
}
