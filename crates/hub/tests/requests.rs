//! Access requests over real HTTP on loopback: every transition of a request and of its
//! collections by the role allowed to fire it, and the refused ones (another role, another
//! site's collection, a state that does not allow it, a closed request reopened by anyone but
//! the network office, submitting without the ethics approval, an oversized attachment), each
//! refused with a clear message and no change; attachments kept by SHA-256; threads; every
//! change in the audit log; each transition's e-mail to the right people, delivered to a real
//! SMTP sink (aiosmtpd with STARTTLS and AUTH, `tests/smtp/`) when Python's aiosmtpd is there.

mod common;
#[path = "smtp/mod.rs"]
mod smtp_sink;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{ADMIN_PASSWORD, PASSWORD, Running};
use kakehashi_federation::catalogue::{CATALOGUE_VERSION, CatalogueReport};
use kakehashi_hub::service::catalogue;
use kakehashi_model::{Country, SiteId};
use reqwest::StatusCode;
use serde_json::{Value, json};
use smtp_sink::{SINK_PASSWORD, sink, smtp};
use std::path::Path;

fn catalogue_file(bank: &str, coll: &str, country: &str, material: &str) -> String {
    format!(
        "[[biobank]]\nid = \"{bank}\"\nname = \"Biobank {bank}\"\njuristic_person = \"Hospital\"\ncountry = \"{country}\"\ndescription = \"A biobank\"\ncontact = {{ email = \"bank@{bank}.example\" }}\n\n[[collection]]\nid = \"{coll}\"\nbiobank = \"{bank}\"\nname = \"Collection {coll}\"\ndescription = \"Samples\"\ncontact = {{ email = \"c@{bank}.example\" }}\nsex = [\"Female\"]\ndataset_types = [\"Clinical\"]\nmaterial_types = [\"{material}\"]\n"
    )
}

/// Two sites with a collection each; bob (another researcher), a steward of each site; an
/// address for everyone. The sessions: admin, alice, bob, steward-de, steward-jp.
async fn network(hub: &Running) -> [String; 5] {
    let admin = hub.api_session("admin", ADMIN_PASSWORD).await;
    let h = hub.hub.clone();
    tokio::task::spawn_blocking(move || {
        for (id, c, bank, coll, m) in [
            ("de-a", Country::Germany, "de-bb", "de-sera", "Serum"),
            ("jp-b", Country::Japan, "jp-bb", "jp-dna", "DNA"),
        ] {
            let sid = SiteId::new(id).unwrap();
            h.db.put_site(&sid, id, c, "key", &format!("tok-{id}"))
                .unwrap();
            let site = h.db.site_by_token(&format!("tok-{id}")).unwrap().unwrap();
            let report = CatalogueReport {
                version: CATALOGUE_VERSION,
                file: "catalogue.toml".into(),
                text: catalogue_file(bank, coll, country(c), m),
            };
            catalogue::accept(&h, &site, report).unwrap();
        }
    })
    .await
    .unwrap();
    for (name, role, site) in [
        ("bob", "researcher", None),
        ("steward-de", "steward", Some("de-a")),
        ("steward-jp", "steward", Some("jp-b")),
    ] {
        let r = hub
            .post_json(
                "/api/admin/users",
                &admin,
                json!({"name": name, "password": PASSWORD, "role": role, "site": site}),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    hub.hub.db.set_lang("steward-jp", "ja").unwrap();
    let mut s = vec![admin];
    for n in ["alice", "bob", "steward-de", "steward-jp"] {
        s.push(hub.api_session(n, PASSWORD).await);
    }
    for (n, token) in ["admin", "alice", "bob", "steward-de", "steward-jp"]
        .iter()
        .zip(&s)
    {
        let r = hub
            .http
            .put(format!("{}/api/me/notifications", hub.url))
            .bearer_auth(token)
            .json(&json!({"email": format!("{n}@example.org")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    s.try_into().unwrap()
}

fn country(c: Country) -> &'static str {
    if c == Country::Germany { "DE" } else { "JP" }
}

/// POSTs and gives the status and the JSON body.
async fn post(hub: &Running, path: &str, who: &str, body: Value) -> (StatusCode, Value) {
    let r = hub.post_json(path, who, body).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(hub: &Running, path: &str, who: &str) -> (StatusCode, Value) {
    let r = hub.get_bearer(path, who).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Fires `event` (on `collection` if given) as `who`; the status and body.
async fn fire(
    hub: &Running,
    id: &str,
    who: &str,
    event: &str,
    collection: Option<&str>,
) -> (StatusCode, Value) {
    post(
        hub,
        &format!("/api/requests/{id}/events"),
        who,
        json!({"event": event, "collection": collection}),
    )
    .await
}

/// Fires and expects it to pass, with the request's (or collection's) new state.
async fn ok(hub: &Running, id: &str, who: &str, event: &str, collection: Option<&str>, to: &str) {
    let (s, r) = fire(hub, id, who, event, collection).await;
    assert_eq!(s, StatusCode::OK, "{event}: {r}");
    let state = match collection {
        None => r["state"].clone(),
        Some(c) => r["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == c)
            .unwrap()["state"]
            .clone(),
    };
    assert_eq!(state, to, "{event}");
}

/// Fires, expects `status` and `message` in the error, and no change to the stored request.
async fn refused(
    hub: &Running,
    id: &str,
    who: &str,
    event: &str,
    collection: Option<&str>,
    status: StatusCode,
    message: &str,
) {
    let admin = hub_admin(hub).await;
    let before = get(hub, &format!("/api/requests/{id}"), &admin).await.1;
    let (s, r) = fire(hub, id, who, event, collection).await;
    assert_eq!(s, status, "{event}: {r}");
    assert!(
        r["message"].as_str().unwrap().contains(message),
        "{event}: {r}"
    );
    let after = get(hub, &format!("/api/requests/{id}"), &admin).await.1;
    assert_eq!(before, after, "{event} changed the request");
}

/// The administrator's session on this hub, made once (each sign-in costs an Argon2 hash).
async fn hub_admin(hub: &Running) -> String {
    static ADMIN: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    if let Some((_, s)) = ADMIN.lock().unwrap().iter().find(|(u, _)| *u == hub.url) {
        return s.clone();
    }
    let s = hub.api_session("admin", ADMIN_PASSWORD).await;
    ADMIN.lock().unwrap().push((hub.url.clone(), s.clone()));
    s
}

fn file(kind: &str, name: &str, bytes: &[u8]) -> Value {
    json!({"kind": kind, "name": name, "media_type": "application/pdf", "content_base64": B64.encode(bytes)})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transition_over_http_with_its_refusals_audit_and_mail() {
    let sink = sink();
    let port = sink.as_ref().map(|s| s.port);
    let hub = common::start_with(move |c| {
        if let Some(port) = port {
            c.smtp = Some(smtp(port, SINK_PASSWORD));
        }
        c.notify.interval_seconds = 3600;
    })
    .await;
    let [admin, alice, bob, st_de, st_jp] = network(&hub).await;
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();

    // opening: bad input is refused naming the field; a steward cannot open one
    let new = |colls: Value| json!({"title": "SARI sera", "description": "Cytokines in SARI", "query": {"ccdl": ccdl, "specimen": {}}, "collections": colls});
    let (s, r) = post(
        &hub,
        "/api/requests",
        &alice,
        new(json!(["de-sera", "nowhere"])),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        r["message"],
        "collections: no collection \"nowhere\" in the network's catalogue"
    );
    let (s, r) = post(&hub, "/api/requests", &alice, new(json!([]))).await;
    assert_eq!(
        (s, r["message"].as_str().unwrap()),
        (
            StatusCode::BAD_REQUEST,
            "collections: pick at least one collection"
        )
    );
    let (s, _) = post(&hub, "/api/requests", &st_de, new(json!(["de-sera"]))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, r) = post(
        &hub,
        "/api/requests",
        &alice,
        new(json!(["de-sera", "jp-dna"])),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "draft");
    assert_eq!(
        r["query"]["ccdl"].as_str().unwrap(),
        ccdl,
        "the query travels with the request"
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let path = format!("/api/requests/{id}");

    // from a locator task: its query travels with the request; a task of another type, or
    // of a project alice is not in, is refused
    let r = hub
        .post_json(
            "/api/admin/projects",
            &admin,
            json!({"id": "p1", "title": "P1", "members": ["alice"]}),
        )
        .await;
    assert!(r.status().is_success());
    let locate = json!({"type": "samples", "ccdl": serde_json::from_str::<Value>(&ccdl).unwrap(),
        "specimen": {"material_types": ["Serum"], "min_aliquots": 2}});
    let task = |spec: Value| {
        let hub = &hub;
        let alice = alice.clone();
        async move {
            let (s, t) = post(
                hub,
                "/api/tasks",
                &alice,
                json!({"project": "p1", "spec": spec}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{t}");
            t["id"].as_str().unwrap().to_owned()
        }
    };
    let located = task(locate).await;
    let from_task = json!({"title": "From the locator", "description": "d", "task": located, "collections": ["de-sera"]});
    let (s, r) = post(&hub, "/api/requests", &alice, from_task.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["query"]["task"], located.as_str());
    assert_eq!(r["query"]["specimen"]["material_types"], json!(["Serum"]));
    assert_eq!(r["query"]["specimen"]["min_aliquots"], 2);
    assert!(
        r["query"]["ccdl"]
            .as_str()
            .unwrap()
            .contains("inclusionCriteria")
    );
    let (s, r) = post(&hub, "/api/requests", &bob, from_task).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{r}");
    let cohort =
        task(json!({"type": "cohort", "ccdl": serde_json::from_str::<Value>(&ccdl).unwrap()}))
            .await;
    let (s, r) = post(
        &hub,
        "/api/requests",
        &alice,
        json!({"title": "t", "description": "d", "task": cohort, "collections": ["de-sera"]}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .ends_with("is a cohort task; a request comes from a samples (locator) task"),
        "{r}"
    );

    // who sees it
    assert_eq!(get(&hub, &path, &bob).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&hub, &path, &st_de).await.0, StatusCode::OK);
    assert_eq!(get(&hub, "/api/requests", &bob).await.1, json!([]));
    assert_eq!(
        get(&hub, "/api/requests", &st_jp)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // submit needs the protocol and the ethics approval; an oversized file is refused whole
    refused(
        &hub,
        &id,
        &alice,
        "submit",
        None,
        StatusCode::BAD_REQUEST,
        "attach the ethics approval before submitting",
    )
    .await;
    let att = format!("{path}/attachments");
    let (s, r) = post(
        &hub,
        &att,
        &alice,
        file("protocol", "protocol.pdf", b"%PDF protocol"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let big = vec![b'x'; 20 * 1024 * 1024 + 1];
    let (s, r) = post(
        &hub,
        &att,
        &alice,
        file("ethics_approval", "ethics.pdf", &big),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{r}");
    assert_eq!(
        r["message"],
        "attachment \"ethics.pdf\" is 20971521 bytes; the limit is 20971520"
    );
    refused(
        &hub,
        &id,
        &alice,
        "submit",
        None,
        StatusCode::BAD_REQUEST,
        "attach the ethics approval",
    )
    .await;
    assert_eq!(
        post(&hub, &att, &bob, file("ethics_approval", "e.pdf", b"x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&hub, &att, &st_de, file("ethics_approval", "e.pdf", b"x"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, r) = post(
        &hub,
        &att,
        &alice,
        file("ethics_approval", "ethics.pdf", b"%PDF approved"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let sha = r["attachments"][1]["sha256"].as_str().unwrap().to_owned();
    let body = hub
        .get_bearer(&format!("{att}/{sha}"), &st_jp)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"%PDF approved");

    // the request's machine: who may, from where
    ok(&hub, &id, &alice, "submit", None, "submitted").await;
    refused(
        &hub,
        &id,
        &alice,
        "attach",
        None,
        StatusCode::BAD_REQUEST,
        "unknown request event \"attach\"",
    )
    .await;
    assert_eq!(
        post(&hub, &att, &alice, file("other", "late.pdf", b"x"))
            .await
            .0,
        StatusCode::CONFLICT
    );
    refused(
        &hub,
        &id,
        &alice,
        "start_review",
        None,
        StatusCode::FORBIDDEN,
        "start_review: a Researcher may not do this",
    )
    .await;
    refused(
        &hub,
        &id,
        &st_de,
        "approve",
        None,
        StatusCode::FORBIDDEN,
        "a SiteSteward may not",
    )
    .await;
    refused(
        &hub,
        &id,
        &admin,
        "approve",
        None,
        StatusCode::CONFLICT,
        "is submitted: it cannot approve",
    )
    .await;
    ok(&hub, &id, &admin, "start_review", None, "under_review").await;
    ok(
        &hub,
        &id,
        &admin,
        "return_for_changes",
        None,
        "returned_for_changes",
    )
    .await;
    ok(&hub, &id, &alice, "resubmit", None, "submitted").await;
    ok(&hub, &id, &admin, "start_review", None, "under_review").await;
    ok(&hub, &id, &admin, "approve", None, "approved").await;
    refused(
        &hub,
        &id,
        &admin,
        "contact",
        Some("de-sera"),
        StatusCode::CONFLICT,
        "only while it is in_progress",
    )
    .await;
    ok(&hub, &id, &admin, "start", None, "in_progress").await;

    // each collection's machine: the office contacts, each site answers for its own only
    ok(
        &hub,
        &id,
        &admin,
        "contact",
        Some("de-sera"),
        "representative_contacted",
    )
    .await;
    ok(
        &hub,
        &id,
        &admin,
        "mark_unreachable",
        Some("jp-dna"),
        "representative_unreachable",
    )
    .await;
    ok(
        &hub,
        &id,
        &admin,
        "contact",
        Some("jp-dna"),
        "representative_contacted",
    )
    .await;
    refused(
        &hub,
        &id,
        &st_jp,
        "check_availability",
        Some("de-sera"),
        StatusCode::FORBIDDEN,
        "collection de-sera is held by site de-a; the steward of jp-b cannot act on it",
    )
    .await;
    refused(
        &hub,
        &id,
        &alice,
        "check_availability",
        Some("de-sera"),
        StatusCode::FORBIDDEN,
        "a Researcher may not",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_de,
        "check_availability",
        Some("de-sera"),
        "checking_availability",
    )
    .await;
    refused(
        &hub,
        &id,
        &st_de,
        "make_available",
        Some("de-sera"),
        StatusCode::CONFLICT,
        "is checking_availability: it cannot make_available",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_de,
        "mark_available",
        Some("de-sera"),
        "available",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_de,
        "indicate_conditions",
        Some("de-sera"),
        "access_conditions_indicated",
    )
    .await;
    ok(
        &hub,
        &id,
        &alice,
        "accept_conditions",
        Some("de-sera"),
        "access_conditions_met",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_de,
        "make_available",
        Some("de-sera"),
        "made_available",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_jp,
        "return_for_resubmission",
        Some("jp-dna"),
        "returned_for_resubmission",
    )
    .await;
    ok(
        &hub,
        &id,
        &alice,
        "resubmit",
        Some("jp-dna"),
        "representative_contacted",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_jp,
        "check_availability",
        Some("jp-dna"),
        "checking_availability",
    )
    .await;
    ok(
        &hub,
        &id,
        &st_jp,
        "mark_willing_to_collect",
        Some("jp-dna"),
        "unavailable_willing_to_collect",
    )
    .await;
    ok(&hub, &id, &st_jp, "decline", Some("jp-dna"), "declined").await;
    refused(
        &hub,
        &id,
        &st_jp,
        "nope",
        Some("jp-dna"),
        StatusCode::BAD_REQUEST,
        "unknown collection event \"nope\"",
    )
    .await;
    refused(
        &hub,
        &id,
        &st_jp,
        "decline",
        Some("no-such"),
        StatusCode::NOT_FOUND,
        "has no collection no-such",
    )
    .await;

    // threads: the request's and a collection's; a steward writes only in its own collection's
    let msg = format!("{path}/messages");
    assert_eq!(
        post(
            &hub,
            &msg,
            &st_de,
            json!({"text": "Shipping next week", "collection": "de-sera"})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        post(
            &hub,
            &msg,
            &st_jp,
            json!({"text": "not mine", "collection": "de-sera"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&hub, &msg, &alice, json!({"text": "  "})).await.1["message"],
        "message: required"
    );
    let (s, r) = post(&hub, &msg, &alice, json!({"text": "Thank you all"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["messages"].as_array().unwrap().len(), 2);

    // pause, resume, close; a closed request is reopened by the network office only
    ok(&hub, &id, &alice, "pause", None, "paused").await;
    ok(&hub, &id, &admin, "resume", None, "in_progress").await;
    ok(&hub, &id, &alice, "close", None, "closed").await;
    refused(
        &hub,
        &id,
        &alice,
        "reopen",
        None,
        StatusCode::FORBIDDEN,
        "reopen: a Researcher may not",
    )
    .await;
    refused(
        &hub,
        &id,
        &st_de,
        "reopen",
        None,
        StatusCode::FORBIDDEN,
        "reopen: a SiteSteward may not",
    )
    .await;
    refused(
        &hub,
        &id,
        &alice,
        "resume",
        None,
        StatusCode::CONFLICT,
        "is closed: it cannot resume",
    )
    .await;
    ok(&hub, &id, &admin, "reopen", None, "in_progress").await;
    ok(&hub, &id, &alice, "abandon", None, "abandoned").await;

    // the audit log: every transition, naming the sites (so each steward's view has it)
    let transitions = hub.audit("request_transition");
    let (_, r) = get(&hub, &path, &admin).await;
    assert_eq!(transitions.len(), r["history"].as_array().unwrap().len());
    assert_eq!(transitions.len(), 25);
    assert!(
        transitions
            .iter()
            .all(|t| t["sites"] == json!(["de-a", "jp-b"]))
    );
    assert_eq!(transitions[0]["event"], "submit");
    assert_eq!(transitions[0]["by"], "alice");
    assert_eq!(hub.audit("request_attachment").len(), 2);
    assert_eq!(hub.audit("request_message").len(), 2);

    // the office's activity report counts what the requests did in the MoU year
    let today = chrono::Utc::now().date_naive();
    let (s, _) = post(&hub, "/api/office/agreements", &admin, json!({
        "id": "mou", "title": "MoU",
        "parties": [{"short": "NUM", "name": "NUM", "country": "DE"}, {"short": "JIHS", "name": "JIHS", "country": "JP"}],
        "signatories": [], "signed": today, "term_start": today,
        "term_end": today + chrono::Days::new(1000),
        "renewal": "mutual_agreement", "extension_months": 36, "notice_days": 90, "decision_lead_days": 90
    })).await;
    assert!(s.is_success(), "{s}");
    let (s, report) = get(&hub, "/api/office/report", &alice).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(
        report["requests"],
        json!({"submitted": 1, "approved": 1, "declined": 0, "made_available": 1, "closed": 1}),
        "{report}"
    );
    assert_eq!(report["year"]["n"], 1);

    // the e-mails: a collection's event goes to its site's steward, never to the other's;
    // the request's events before it reaches the sites to the researcher and the office only
    let outbox: Vec<Value> = hub
        .get_bearer("/api/admin/notifications", &admin)
        .await
        .json()
        .await
        .unwrap();
    let to = |event_key: usize| -> Vec<String> {
        let mut v: Vec<String> = outbox
            .iter()
            .filter(|m| m["key"] == format!("request:{id}:{event_key}"))
            .map(|m| m["recipient"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(to(1), ["admin"], "submit by alice");
    assert_eq!(to(2), ["alice"], "start_review by the office");
    assert_eq!(to(7), ["alice", "steward-de", "steward-jp"], "start");
    assert_eq!(to(8), ["alice", "steward-de"], "contact de-sera");
    assert_eq!(
        to(11),
        ["admin", "alice"],
        "check_availability by steward-de"
    );
    let ja: Vec<&Value> = outbox
        .iter()
        .filter(|m| m["recipient"] == "steward-jp" && m["key"] == format!("request:{id}:9"))
        .collect();
    assert_eq!(ja.len(), 1);
    assert_eq!(ja[0]["subject"], "申請「SARI sera」：mark_unreachable");
    assert!(
        ja[0]["body"]
            .as_str()
            .unwrap()
            .contains(&format!("/requests/{id}"))
    );
    assert!(outbox.iter().all(|m| m["topic"] == "requests"));

    // delivered by SMTP, each to its address
    if let Some(sink) = sink {
        let r = hub
            .post_json("/api/admin/notifications/run", &admin, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let got = sink.received();
        assert_eq!(got.len(), outbox.len(), "{got:?}");
        let start = got
            .iter()
            .filter(|m| m["subject"] == "Request “SARI sera”: start")
            .map(|m| m["to"].clone())
            .collect::<Vec<_>>();
        assert_eq!(start.len(), 2, "{got:?}");
        assert!(got.iter().any(|m| {
            m["subject"] == "Request “SARI sera”: mark_available"
                && m["to"].to_string().contains("alice@example.org")
                && m["body"]
                    .as_str()
                    .unwrap()
                    .contains("checking_availability → available")
        }));
    }
}

/// A request in progress with both collections contacted, opened by alice; its id.
async fn contacted(hub: &Running, admin: &str, alice: &str) -> String {
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sfts.json"),
    )
    .unwrap();
    let (s, r) = post(
        hub,
        "/api/requests",
        alice,
        json!({"title": "SFTS sera", "description": "d",
        "query": {"ccdl": ccdl}, "collections": ["de-sera", "jp-dna"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    for (k, n) in [("protocol", "p.pdf"), ("ethics_approval", "e.pdf")] {
        let (s, _) = post(
            hub,
            &format!("/api/requests/{id}/attachments"),
            alice,
            file(k, n, n.as_bytes()),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    ok(hub, &id, alice, "submit", None, "submitted").await;
    for (e, to) in [
        ("start_review", "under_review"),
        ("approve", "approved"),
        ("start", "in_progress"),
    ] {
        ok(hub, &id, admin, e, None, to).await;
    }
    for c in ["de-sera", "jp-dna"] {
        ok(
            hub,
            &id,
            admin,
            "contact",
            Some(c),
            "representative_contacted",
        )
        .await;
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steward_answers_for_its_own_collection_on_the_request_page() {
    let hub = common::start_with(|_| {}).await;
    let [admin, alice, _bob, _st_de, _st_jp] = network(&hub).await;
    let id = contacted(&hub, &admin, &alice).await;
    let page = format!("/requests/{id}");
    let de = hub.browser_session("steward-de", PASSWORD).await;
    let jp = hub.browser_session("steward-jp", PASSWORD).await;

    let list = hub.get("/requests", &de).await.text().await.unwrap();
    assert!(
        list.contains(&format!(r#"<a href="{page}">SFTS sera</a>"#)),
        "{list}"
    );
    // each steward gets buttons for its own site's collection only
    let html = hub.get(&page, &de).await.text().await.unwrap();
    let de_row = html
        .split("<code>de-sera</code>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    let jp_row = html
        .split("<code>jp-dna</code>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(de_row.contains(r#"value="check_availability""#), "{de_row}");
    assert!(!jp_row.contains("<button"), "{jp_row}");
    assert!(!html.contains(r#"value="approve""#));
    let html_jp = hub.get(&page, &jp).await.text().await.unwrap();
    let de_row_jp = html_jp
        .split("<code>de-sera</code>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(!de_row_jp.contains("<button"), "{de_row_jp}");

    // the steward presses the button: the collection moves, the page is shown again
    let csrf = common::csrf_in(&html);
    let press = |cookie: String, csrf: String, event: &'static str| {
        let hub = &hub;
        let page = page.clone();
        async move {
            hub.form(
                &format!("{page}/event"),
                &cookie,
                &[("csrf", &csrf), ("event", event), ("collection", "de-sera")],
            )
            .await
        }
    };
    let r = press(de.clone(), csrf.clone(), "check_availability").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(common::location(&r), page);
    let state = |r: &Value| r["collections"][0]["state"].clone();
    let now = get(&hub, &format!("/api/requests/{id}"), &admin).await.1;
    assert_eq!(state(&now), "checking_availability");
    // refused: pressed again (the state no longer allows it), by the other site's steward,
    // without the form's token; each changes nothing, the first two say why on the page
    let r = press(de.clone(), csrf.clone(), "check_availability").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("is checking_availability: it cannot check_availability"),
        "{body}"
    );
    let jp_csrf = common::csrf_in(&html_jp);
    let r = press(jp.clone(), jp_csrf, "mark_available").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text().await.unwrap().contains(
            "collection de-sera is held by site de-a; the steward of jp-b cannot act on it"
        )
    );
    let r = press(de.clone(), "forged".into(), "mark_available").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get(&hub, &format!("/api/requests/{id}"), &admin).await.1,
        now
    );

    // a message in the collection's thread through the page
    let r = hub
        .form(
            &format!("{page}/message"),
            &de,
            &[
                ("csrf", &csrf),
                ("collection", "de-sera"),
                ("text", "Sera are at -80 °C"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = hub
        .get(&page, &alice_cookie(&hub).await)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("steward-de (de-a) · <code>de-sera</code>: Sera are at -80 °C"),
        "{html}"
    );
}

async fn alice_cookie(hub: &Running) -> String {
    hub.browser_session("alice", PASSWORD).await
}
