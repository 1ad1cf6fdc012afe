//! E-mail notifications against a real SMTP server on loopback (Python's aiosmtpd, started by
//! the test with STARTTLS and AUTH required; `tests/smtp/sink.py`): the office's reminders
//! reach the right people once, in their language, one by one or as a daily digest as each
//! chose, never to those who turned a topic off or gave no address; a failing server leaves
//! messages pending for a later try; bad settings are refused naming the field.
//! Without Python's `aiosmtpd` the SMTP tests print SKIPPED, unless `KAKEHASHI_REQUIRE_SMTP=1`
//! (set by `.ci/run`, which installs it), when they fail.

mod common;
#[path = "smtp/mod.rs"]
mod smtp_sink;

use chrono::{Days, NaiveDate, Utc};
use common::{ADMIN_PASSWORD, PASSWORD, Running};
use reqwest::StatusCode;
use serde_json::{Value, json};
use smtp_sink::{SINK_PASSWORD, sink, smtp};

async fn put_json(hub: &Running, path: &str, bearer: &str, body: Value) -> reqwest::Response {
    hub.http
        .put(format!("{}{path}", hub.url))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn day(d: NaiveDate, plus: i64) -> String {
    if plus >= 0 {
        d.checked_add_days(Days::new(plus as u64)).unwrap()
    } else {
        d.checked_sub_days(Days::new((-plus) as u64)).unwrap()
    }
    .to_string()
}

/// The office's records that make reminders today: an agreement whose renewal decision is
/// due in 20 days (the 30-day window), a steering committee chaired by alice, and an event
/// tomorrow with alice and bob, alice's action due in 3 days and bob's overdue since yesterday.
async fn office_records(hub: &Running, admin: &str) {
    let today = Utc::now().date_naive();
    // decision due = term end - notice (90) - lead (90)
    let agreement = json!({
        "id": "mou-test", "title": "MoU Test",
        "parties": [{"short": "NUM", "name": "NUM", "country": "DE"},
                    {"short": "JIHS", "name": "JIHS", "country": "JP"}],
        "signatories": [], "signed": day(today, -365), "term_start": day(today, -365),
        "term_end": day(today, 200), "renewal": "mutual_agreement", "extension_months": 36,
        "notice_days": 90, "decision_lead_days": 90
    });
    let r = hub
        .post_json("/api/office/agreements", admin, agreement)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
    let body = json!({
        "id": "steering", "name": "Steering committee", "kind": "steering_committee", "theme": null,
        "members": [{"person": "alice", "role": "chair", "from": day(today, -365), "until": null}]
    });
    let r = hub.post_json("/api/office/bodies", admin, body).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
    let tomorrow = day(today, 1);
    let event = json!({
        "id": "wg-meeting", "title": "Working group meeting", "kind": "meeting", "body": null,
        "tz": "Europe/Berlin", "start": format!("{tomorrow}T10:00:00"), "end": format!("{tomorrow}T11:00:00"),
        "location": "online", "agenda": ["Reports"],
        "participants": [{"person": "alice", "presence": "remote"}, {"person": "bob", "presence": "in_person"}],
        "minutes": null,
        "actions": [
            {"text": "Send the SOP draft", "owner": "alice", "due": day(today, 3), "status": "open"},
            {"text": "Book the room", "owner": "bob", "due": day(today, -1), "status": "open"}
        ],
        "sequence": 0
    });
    let r = hub.post_json("/api/office/events", admin, event).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn add_bob(hub: &Running, admin: &str) {
    let r = hub
        .post_json(
            "/api/admin/users",
            admin,
            json!({"name": "bob", "password": PASSWORD, "role": "researcher"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    hub.hub.db.set_lang("bob", "de").unwrap();
}

/// The office's records, bob, and alice with an address who hears of her actions only;
/// the admin's and alice's sessions.
async fn alice_hears_of_actions_only(hub: &Running) -> (String, String) {
    let admin = hub.api_session("admin", ADMIN_PASSWORD).await;
    add_bob(hub, &admin).await;
    office_records(hub, &admin).await;
    let alice = hub.api_session("alice", PASSWORD).await;
    let r = put_json(
        hub,
        "/api/me/notifications",
        &alice,
        json!({"email": "alice@example.org", "prefs": {"renewal": "off", "event": "off"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    (admin, alice)
}

async fn run(hub: &Running, admin: &str) -> Value {
    let r = hub
        .post_json("/api/admin/notifications/run", admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_reach_each_person_once_in_their_language_and_mode() {
    let Some(sink) = sink() else { return };
    let port = sink.port;
    let hub = common::start_with(move |c| {
        c.smtp = Some(smtp(port, SINK_PASSWORD));
        c.notify.interval_seconds = 3600;
        c.notify.digest_hour = 0;
    })
    .await;
    let admin = hub.api_session("admin", ADMIN_PASSWORD).await;
    add_bob(&hub, &admin).await;
    office_records(&hub, &admin).await;
    let alice = hub.api_session("alice", PASSWORD).await;
    let bob = hub.api_session("bob", PASSWORD).await;
    let r = put_json(
        &hub,
        "/api/me/notifications",
        &alice,
        json!({"email": "alice@example.org"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = put_json(
        &hub,
        "/api/me/notifications",
        &bob,
        json!({"email": "bob@example.org", "prefs": {"action": "digest", "event": "off"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine: Value = r.json().await.unwrap();
    assert_eq!(
        mine["prefs"],
        json!({"action": "digest", "event": "off", "renewal": "immediate", "requests": "immediate"})
    );

    // alice: renewal (steering chair), her action, the event; bob: his overdue action
    // (digest), the event (off); admin: the renewal (office), but no address
    let report = run(&hub, &admin).await;
    assert_eq!(
        report,
        json!({"stored": 6, "sent": 3, "digests": 1, "skipped": 2, "retrying": 0, "failed": 0})
    );
    let got = sink.received();
    assert_eq!(got.len(), 4, "{got:#?}");
    for m in &got {
        assert_eq!(m["tls"], true, "STARTTLS was used");
        assert_eq!(m["auth"], true, "AUTH was used");
        assert_eq!(m["from"], "office@kakehashi.test");
    }
    let to =
        |who: &str| -> Vec<&Value> { got.iter().filter(|m| m["to"] == json!([who])).collect() };
    let alice_got = to("alice@example.org");
    assert_eq!(alice_got.len(), 3);
    let subjects: Vec<&str> = alice_got
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    let today = Utc::now().date_naive();
    let due = today.checked_add_days(Days::new(20)).unwrap();
    assert!(
        subjects.contains(
            &format!(
                "MoU Test: renewal decision due {}",
                due.format("%b %-d, %Y")
            )
            .as_str()
        ),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with(": Send the SOP draft") && s.starts_with("Action due")),
        "{subjects:?}"
    );
    let event = alice_got
        .iter()
        .find(|m| m["subject"] == "Tomorrow: Working group meeting")
        .expect("the event reminder");
    let body = event["body"].as_str().unwrap();
    assert!(
        body.contains("10:00 CE") && body.contains("in Berlin") && body.contains("JST in Tokyo"),
        "{body}"
    );
    assert!(
        body.contains("/notifications"),
        "the footer links to the settings: {body}"
    );
    let bob_got = to("bob@example.org");
    assert_eq!(
        bob_got.len(),
        1,
        "bob's event reminder is off, his action comes as a digest"
    );
    assert_eq!(bob_got[0]["subject"], "kakehashi: eine Benachrichtigung");
    assert!(
        bob_got[0]["body"]
            .as_str()
            .unwrap()
            .contains("Überfällig seit"),
        "{}",
        bob_got[0]["body"]
    );

    // the same day again: nothing new is stored or sent
    let again = run(&hub, &admin).await;
    assert_eq!(
        again,
        json!({"stored": 0, "sent": 0, "digests": 0, "skipped": 0, "retrying": 0, "failed": 0})
    );
    assert_eq!(sink.received().len(), 4);

    // bob sees what became of his messages
    let r = hub.get_bearer("/api/me/notifications", &bob).await;
    let mine: Value = r.json().await.unwrap();
    let states: Vec<(String, String)> = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["topic"].as_str().unwrap().into(),
                m["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        states.contains(&("action".into(), "sent".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("event".into(), "skipped".into())),
        "{states:?}"
    );
    // the office sees why the admin got nothing
    let outbox: Value = hub
        .get_bearer("/api/admin/notifications", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["recipient"] == "admin"
                && m["state"] == "skipped"
                && m["note"] == "no e-mail address"),
        "{outbox:#}"
    );
    let audit = hub.audit("notifications");
    assert_eq!(
        audit.len(),
        1,
        "only the cycle that did something is logged"
    );
    assert_eq!(audit[0]["sent"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_leaves_the_message_pending_for_a_later_try() {
    let Some(sink) = sink() else { return };
    let port = sink.port;
    let hub = common::start_with(move |c| {
        c.smtp = Some(smtp(port, "wrong-password"));
        c.notify.interval_seconds = 3600;
        c.notify.max_attempts = 2;
    })
    .await;
    let (admin, alice) = alice_hears_of_actions_only(&hub).await;
    let report = run(&hub, &admin).await;
    assert_eq!(report["sent"], 0);
    assert_eq!(report["retrying"], 1, "{report}");
    assert!(sink.received().is_empty());
    let mine: Value = hub
        .get_bearer("/api/me/notifications", &alice)
        .await
        .json()
        .await
        .unwrap();
    let action = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["topic"] == "action")
        .unwrap()
        .clone();
    assert_eq!(action["state"], "pending");
    assert_eq!(action["attempts"], 1);
    assert!(
        action["note"].as_str().unwrap().contains("mail server"),
        "{action}"
    );
    // not due again yet: the next cycle leaves it alone
    let report = run(&hub, &admin).await;
    assert_eq!(report["retrying"], 0);
    assert_eq!(report["sent"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_never_answers_is_given_up_within_the_timeout() {
    // accepts connections and says nothing, not even its greeting
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            open.push(c);
        }
    });
    let hub = common::start_with(move |c| {
        let mut s = smtp(port, SINK_PASSWORD);
        s.timeout_seconds = 2;
        c.smtp = Some(s);
        c.notify.interval_seconds = 3600;
    })
    .await;
    let (admin, alice) = alice_hears_of_actions_only(&hub).await;
    let started = std::time::Instant::now();
    let report = run(&hub, &admin).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the cycle took {:?}",
        started.elapsed()
    );
    assert_eq!(report["retrying"], 1, "{report}");
    let mine: Value = hub
        .get_bearer("/api/me/notifications", &alice)
        .await
        .json()
        .await
        .unwrap();
    let action = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["topic"] == "action")
        .unwrap()
        .clone();
    assert_eq!(action["state"], "pending");
    assert!(
        action["note"]
            .as_str()
            .unwrap()
            .contains("no answer within 2 s"),
        "{action}"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_naming_the_field_and_a_hub_without_smtp_says_so() {
    let hub = common::start_with(|_| {}).await;
    let alice = hub.api_session("alice", PASSWORD).await;
    for (body, field) in [
        (json!({"email": "not an address"}), "email"),
        (json!({"prefs": {"weather": "off"}}), "prefs.weather"),
        (json!({"prefs": {"action": "sometimes"}}), "prefs.action"),
    ] {
        let r = put_json(&hub, "/api/me/notifications", &alice, body.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(field), "{body}: {text}");
    }
    let mine: Value = hub
        .get_bearer("/api/me/notifications", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["email"], Value::Null, "nothing was stored");
    // only the network office runs a cycle, and only with a mail server configured
    let r = hub
        .post_json("/api/admin/notifications/run", &alice, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let admin = hub.api_session("admin", ADMIN_PASSWORD).await;
    let r = hub
        .post_json("/api/admin/notifications/run", &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("[smtp]"));
}
