//! Sessions and API tokens expire, can be revoked, and users can be disabled, over real HTTP
//! on loopback: an expired (absolute or idle) session sends the browser to sign in and is
//! 401 on the API; an expired or revoked token is 401; a disabled user's live session and
//! token stop at the next request and they cannot sign in; only administrators manage users
//! (403 otherwise, nothing changed); each event is in the audit log.

mod common;

use chrono::{Duration, Utc};
use common::*;
use kakehashi_hub::auth::new_secret;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A session past its absolute end, and one idle for too long, no longer sign anyone in:
/// the pages send the browser to the sign-in page, the API answers 401.
#[tokio::test]
async fn an_expired_session_sends_the_browser_to_sign_in() {
    // control: a fresh session works
    let h = start_with(|_| {}).await;
    let cookie = h.browser_session("alice", PASSWORD).await;
    assert_eq!(h.get("/", &cookie).await.status(), StatusCode::OK);

    for (what, hours, idle) in [("absolute", 0, 120), ("idle", 12, 0)] {
        let h = start_with(|c| {
            c.sessions.hours = hours;
            c.sessions.idle_minutes = idle;
        })
        .await;
        let cookie = h.browser_session("alice", PASSWORD).await;
        let r = h.get("/network", &cookie).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{what}");
        assert_eq!(location(&r), "/login?next=%2Fnetwork", "{what}");
        let api = h.api_session("alice", PASSWORD).await;
        assert_eq!(
            h.get_bearer("/api/me", &api).await.status(),
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
}

/// Tokens carry an expiry (90 days by default, settable within the maximum); one past it,
/// and one revoked by its owner or by an administrator, is 401 at once.
#[tokio::test]
async fn an_expired_or_revoked_token_is_refused() {
    let h = start_with(|_| {}).await;
    let s = h.api_session("alice", PASSWORD).await;
    let t = h.token(&s, json!({"label": "default"})).await;
    let exp = chrono::DateTime::parse_from_rfc3339(t["expires"].as_str().unwrap()).unwrap();
    let days = (exp.with_timezone(&Utc) - Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "default expiry {days} days");
    let t7 = h
        .token(&s, json!({"label": "week", "expires_in_days": 7}))
        .await;
    let exp = chrono::DateTime::parse_from_rfc3339(t7["expires"].as_str().unwrap()).unwrap();
    assert_eq!((exp.with_timezone(&Utc) - Utc::now()).num_days(), 6);
    for bad in [
        json!({"expires_in_days": 0}),
        json!({"expires_in_days": 366}),
    ] {
        let r = h.post_json("/api/tokens", &s, bad.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // a token whose end has passed
    let old = new_secret("kh_");
    h.hub
        .db
        .put_token(&old, "alice", "old", Utc::now() - Duration::seconds(1))
        .unwrap();
    assert_eq!(
        h.get_bearer("/api/me", &old).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // revoked by its owner
    let tok = t["token"].as_str().unwrap();
    assert_eq!(h.get_bearer("/api/me", tok).await.status(), StatusCode::OK);
    let listed: Vec<Value> = h.get_bearer("/api/tokens", &s).await.json().await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        !listed.iter().any(|x| x.to_string().contains(tok)),
        "secret listed"
    );
    let r = h
        .post_json("/api/tokens/revoke", &s, json!({"id": t["id"]}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        h.get_bearer("/api/me", tok).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // someone else's token id is not yours to revoke
    let admin = h.api_session("admin", ADMIN_PASSWORD).await;
    let r = h
        .post_json("/api/tokens/revoke", &admin, json!({"id": t7["id"]}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let tok7 = t7["token"].as_str().unwrap();
    assert_eq!(h.get_bearer("/api/me", tok7).await.status(), StatusCode::OK);

    // revoked by an administrator: every session and token of alice
    let r = h
        .post_json("/api/admin/users/alice/revoke", &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for (what, b) in [("token", tok7), ("session", s.as_str())] {
        assert_eq!(
            h.get_bearer("/api/me", b).await.status(),
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
    let rev = h.audit("user_revoked");
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0]["user"], "alice");
    assert_eq!(rev[0]["by"], "admin");
    assert_eq!(rev[0]["tokens"], 2, "the week token and the expired one");
    assert_eq!(rev[0]["sessions"], 1);
    assert_eq!(h.audit("token_revoked")[0]["id"], t["id"]);
}

/// Disabling a user stops their live browser session, API session and token at the next
/// request, and refuses their password; enabling lets them sign in again.
#[tokio::test]
async fn a_disabled_users_live_session_is_refused_at_the_next_request() {
    let h = start_with(|_| {}).await;
    let cookie = h.browser_session("alice", PASSWORD).await;
    let api = h.api_session("alice", PASSWORD).await;
    let tok = h.token(&api, json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(h.get("/network", &cookie).await.status(), StatusCode::OK);
    let admin = h.api_session("admin", ADMIN_PASSWORD).await;
    let r = h
        .post_json("/api/admin/users/alice/disable", &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let r = h.get("/network", &cookie).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    for b in [&api, &tok] {
        assert_eq!(
            h.get_bearer("/api/me", b).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = h
        .post_json(
            "/api/login",
            "",
            json!({"name": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // the sign-in page says so
    let r = h.get("/login", "").await;
    let pre = set_cookie(r.headers(), "kh_csrf").unwrap();
    let csrf = csrf_in(&r.text().await.unwrap());
    let r = h
        .form(
            "/login",
            &pre,
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(r.headers(), "kh_session").is_none());
    assert!(r.text().await.unwrap().contains("This account is disabled"));
    // a wrong password still says only "wrong" (being disabled is not told to guessers)
    let r = h
        .post_json(
            "/api/login",
            "",
            json!({"name": "alice", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let users: Vec<Value> = h
        .get_bearer("/api/admin/users", &admin)
        .await
        .json()
        .await
        .unwrap();
    let alice = users.iter().find(|u| u["name"] == "alice").unwrap();
    assert_eq!(alice["disabled"], true);
    assert_eq!(alice["sessions"], 0);
    assert_eq!(alice["source"], "local");

    let r = h
        .post_json("/api/admin/users/alice/enable", &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    h.api_session("alice", PASSWORD).await;
    assert_eq!(h.audit("user_disabled")[0]["user"], "alice");
    assert_eq!(h.audit("user_enabled")[0]["by"], "admin");
    let failed = h.audit("login_failed");
    assert!(
        failed
            .iter()
            .any(|f| f["reason"] == "disabled" && f["user"] == "alice"),
        "{failed:?}"
    );
    // an administrator cannot lock themself out
    let r = h
        .post_json("/api/admin/users/admin/disable", &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

/// Only administrators list, revoke, disable and enable users: a researcher gets 403 on the
/// API and on the page (with a valid CSRF token), and nothing changes.
#[tokio::test]
async fn only_administrators_manage_users() {
    let h = start_with(|_| {}).await;
    let admin_cookie = h.browser_session("admin", ADMIN_PASSWORD).await;
    let api = h.api_session("alice", PASSWORD).await;
    let cookie = h.browser_session("alice", PASSWORD).await;
    assert_eq!(
        h.get_bearer("/api/admin/users", &api).await.status(),
        StatusCode::FORBIDDEN
    );
    for a in ["revoke", "disable", "enable"] {
        let r = h
            .post_json(&format!("/api/admin/users/admin/{a}"), &api, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "API {a}");
    }
    assert_eq!(
        h.get("/admin/users", &cookie).await.status(),
        StatusCode::FORBIDDEN
    );
    let csrf = h.csrf(&cookie).await;
    for a in ["revoke", "disable"] {
        let r = h
            .form(
                &format!("/admin/users/admin/{a}"),
                &cookie,
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "page {a}");
    }
    // the administrator's session survived: nothing was revoked or disabled
    assert_eq!(
        h.get("/admin/users", &admin_cookie).await.status(),
        StatusCode::OK
    );
    assert!(h.audit("user_revoked").is_empty());
    assert!(h.audit("user_disabled").is_empty());
}

/// The administrator's page lists each user with source, state, sessions and tokens, and
/// its buttons work only with the page's CSRF token.
#[tokio::test]
async fn the_admin_page_lists_users_and_its_buttons_need_the_csrf_token() {
    let h = start_with(|_| {}).await;
    let admin = h.browser_session("admin", ADMIN_PASSWORD).await;
    let alice = h.browser_session("alice", PASSWORD).await;
    let page = h.get("/admin/users", &admin).await.text().await.unwrap();
    assert!(page.contains("/admin/users/alice/disable"), "{page}");
    assert!(page.contains("local password"));
    let r = h
        .form("/admin/users/alice/disable", &admin, &[("csrf", "forged")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(h.get("/network", &alice).await.status(), StatusCode::OK);
    let csrf = csrf_in(&page);
    let r = h
        .form("/admin/users/alice/disable", &admin, &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("/network", &alice).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = h.get("/admin/users", &admin).await.text().await.unwrap();
    assert!(page.contains("/admin/users/alice/enable"), "{page}");
}

/// "Sign out everywhere" ends every session of the user (not another user's, not their API
/// tokens), and is logged.
#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_that_user() {
    let h = start_with(|_| {}).await;
    let one = h.browser_session("alice", PASSWORD).await;
    let two = h.browser_session("alice", PASSWORD).await;
    let api = h.api_session("alice", PASSWORD).await;
    let tok = h.token(&api, json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = h.browser_session("admin", ADMIN_PASSWORD).await;
    let csrf = h.csrf(&one).await;
    let r = h.form("/logout-everywhere", &one, &[("csrf", "x")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "without CSRF");
    let r = h.form("/logout-everywhere", &one, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for c in [&one, &two] {
        assert_eq!(h.get("/network", c).await.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        h.get_bearer("/api/me", &api).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(h.get_bearer("/api/me", &tok).await.status(), StatusCode::OK);
    assert_eq!(h.get("/network", &admin).await.status(), StatusCode::OK);
    let ended = h.audit("sessions_ended");
    assert_eq!(ended[0]["user"], "alice");
    assert_eq!(ended[0]["sessions"], 3);
    // and over the API
    let api = h.api_session("alice", PASSWORD).await;
    let r = h.post_json("/api/logout-everywhere", &api, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        h.get_bearer("/api/me", &api).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Every sign-in, failed sign-in and token creation is in the audit log, with its source.
#[tokio::test]
async fn sign_ins_and_tokens_are_audited() {
    let h = start_with(|_| {}).await;
    let r = h
        .post_json(
            "/api/login",
            "",
            json!({"name": "alice", "password": "wrong-one"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = h
        .post_json(
            "/api/login",
            "",
            json!({"name": "nobody", "password": "wrong-one"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let s = h.api_session("alice", PASSWORD).await;
    let t = h.token(&s, json!({"label": "ci"})).await;
    let failed = h.audit("login_failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0]["user"], "alice");
    assert_eq!(failed[1]["user"], "nobody");
    assert_eq!(failed[0]["reason"], "credentials");
    let ok = h.audit("login");
    assert_eq!(ok.last().unwrap()["user"], "alice");
    assert_eq!(ok.last().unwrap()["source"], "local");
    let made = h.audit("token_created");
    let made = made.last().unwrap();
    assert_eq!(made["id"], t["id"]);
    assert_eq!(made["expires"], t["expires"]);
    let users: Vec<Value> = h
        .get_bearer(
            "/api/admin/users",
            &h.api_session("admin", ADMIN_PASSWORD).await,
        )
        .await
        .json()
        .await
        .unwrap();
    let alice = users.iter().find(|u| u["name"] == "alice").unwrap();
    assert!(alice["last_login"].is_string(), "{alice}");
    assert_eq!(alice["tokens"], 1);
}
