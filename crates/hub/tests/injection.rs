//! SQL injection through the hub's HTTP surface (issue 27, "SQL in every field"): injection
//! strings in the fields of the API and of the pages' forms, over real HTTP on loopback. Each
//! request gets its status (a refusal where the value is not valid, else the value stored
//! verbatim) and leaves no side effect: the users, their roles and states, sessions, tokens and
//! projects are exactly what the requests meant to make, and the hub keeps serving. The store
//! suite checks the same at the database layer on both backends
//! (`sql_in_every_text_field_is_stored_verbatim_and_changes_nothing_else`).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const INJECTIONS: [&str; 8] = [
    "' OR '1'='1",
    "admin'--",
    "x'); DROP TABLE users;--",
    "\"; DROP TABLE tasks; --",
    "1 OR 1=1",
    "' UNION SELECT name, password_hash FROM users--",
    "%' OR 1=1 --",
    "Robert'); DELETE FROM sessions; --",
];

/// What the hub holds that an injection could change: every user with role, state, sessions
/// and tokens (as the admin API lists them), and alice's projects.
async fn state(h: &Running, admin: &str, alice: &str) -> (Vec<Value>, Value) {
    let users: Vec<Value> = h
        .get_bearer("/api/admin/users", admin)
        .await
        .json()
        .await
        .unwrap();
    let users = users
        .into_iter()
        .map(|mut u| {
            // a sign-in moves only the time of the last one
            u.as_object_mut().unwrap().remove("last_login");
            u
        })
        .collect();
    let projects: Value = h
        .get_bearer("/api/projects", alice)
        .await
        .json()
        .await
        .unwrap();
    (users, projects)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_in_api_fields_and_forms_is_refused_or_stored_verbatim_with_no_side_effect() {
    let h = start_with(|_| {}).await;
    let admin = h.api_session("admin", ADMIN_PASSWORD).await;
    let alice = h
        .token(
            &h.api_session("alice", PASSWORD).await,
            json!({"label": "t"}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = state(&h, &admin, &alice).await;
    let mut checked = 0;

    for (i, inj) in INJECTIONS.iter().copied().enumerate() {
        // each round from its own loopback address, and the accounts' failure counts cleared
        // after it, so that the sign-in throttle (tested in `signin_flood`) stays out of the way
        let from = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 10 + i as u8]))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // sign-in over the API: as a name, as a password of a real user, as both
        for (name, password) in [(inj, inj), ("admin", inj), (inj, ADMIN_PASSWORD)] {
            let r = from
                .post(format!("{}/api/login", h.url))
                .json(&json!({"name": name, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "api login {name:?} / {password:?}"
            );
            checked += 1;
        }
        // sign-in through the page's form (with its CSRF token)
        let r = h.get("/login", "").await;
        let pre = set_cookie(r.headers(), "kh_csrf").unwrap();
        let csrf = csrf_in(&r.text().await.unwrap());
        for (name, password) in [(inj, inj), ("alice", inj)] {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("username", name),
                    ("password", password),
                    ("next", "/"),
                    ("csrf", &csrf),
                ])
                .finish();
            let r = from
                .post(format!("{}/login", h.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &pre)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "form login {name:?} (the form again, with its error)"
            );
            assert!(set_cookie(r.headers(), "kh_session").is_none());
            checked += 1;
        }
        for who in ["admin", "alice"] {
            h.hub
                .throttle
                .succeeded(&kakehashi_hub::throttle::Key::of(who, None));
        }
        // ids in paths and queries: nothing found, nothing done
        let q: String = form_urlencoded::byte_serialize(inj.as_bytes()).collect();
        let r = h
            .get_bearer(&format!("/api/tasks?project={q}"), &alice)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "tasks of project {inj:?}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
        let p: String = percent(inj);
        for (path, want) in [
            (format!("/api/tasks/{p}"), StatusCode::NOT_FOUND),
            (
                format!("/api/tasks/{p}/surveillance"),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let r = h.get_bearer(&path, &alice).await;
            assert_eq!(r.status(), want, "GET {path}");
            checked += 1;
        }
        for action in ["revoke", "disable", "enable"] {
            let r = h
                .post_json(&format!("/api/admin/users/{p}/{action}"), &admin, json!({}))
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action} {inj:?}");
            checked += 1;
        }
        let r = h
            .post_json("/api/tokens/revoke", &alice, json!({"id": inj}))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "revoke token {inj:?}");
        // a task in a project by that name
        let r = h
            .post_json(
                "/api/tasks",
                &alice,
                json!({"project": inj, "spec": {"type": "surveillance_series", "definition": "sari-icosari"}}),
            )
            .await;
        assert!(
            matches!(
                r.status(),
                StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            ),
            "task in project {inj:?}: {}",
            r.status()
        );
        // a project with that id is refused by the id's rules
        let r = h
            .post_json(
                "/api/admin/projects",
                &admin,
                json!({"id": inj, "title": "t", "members": ["alice"]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "project id {inj:?}");
        checked += 4;
    }
    let after = state(&h, &admin, &alice).await;
    assert_eq!(before, after, "nothing changed");

    // values the hub stores: kept verbatim, nothing else changed
    for (i, inj) in INJECTIONS.iter().enumerate() {
        let r = h
            .post_json("/api/tokens", &alice, json!({"label": inj}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "token label {inj:?}");
        let r = h
            .post_json(
                "/api/admin/projects",
                &admin,
                json!({"id": format!("p-{i}"), "title": inj, "members": ["alice"]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "project title {inj:?}");
    }
    let labels: Vec<Value> = h
        .get_bearer("/api/tokens", &alice)
        .await
        .json()
        .await
        .unwrap();
    for inj in INJECTIONS {
        assert!(
            labels.iter().any(|t| t["label"] == inj),
            "label {inj:?} verbatim: {labels:?}"
        );
    }
    let projects: Vec<Value> = h
        .get_bearer("/api/projects", &alice)
        .await
        .json()
        .await
        .unwrap();
    for (i, inj) in INJECTIONS.iter().enumerate() {
        assert!(
            projects
                .iter()
                .any(|p| p["id"] == format!("p-{i}") && p["title"] == *inj),
            "title {inj:?} verbatim: {projects:?}"
        );
    }
    let (users, _) = state(&h, &admin, &alice).await;
    assert_eq!(
        users.len(),
        before.0.len(),
        "no user made or lost: {users:?}"
    );
    for (u, was) in users.iter().zip(&before.0) {
        assert_eq!(u["name"], was["name"]);
        assert_eq!(
            (&u["role"], &u["disabled"]),
            (&was["role"], &was["disabled"])
        );
    }
    // everyone still signs in, and the hub serves
    h.api_session("admin", ADMIN_PASSWORD).await;
    h.api_session("alice", PASSWORD).await;
    assert_eq!(h.get("/healthz", "").await.status(), StatusCode::OK);
    println!("{checked} injection requests refused with their status, 16 values stored verbatim");
}

/// A path segment: every byte but unreserved ones percent-encoded.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
