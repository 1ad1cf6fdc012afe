//! OpenID Connect sign-in against a real OpenID provider: the npm package `oidc-provider`
//! (`tests/oidc/provider.mjs`, installed by `.ci/run` into `.ci/oidc`, or where
//! `KAKEHASHI_OIDC_PROVIDER_DIR` says) started with Node on a loopback port. The tests drive
//! the browser's part over HTTP (redirects, the provider's sign-in and consent forms, a
//! cookie jar per origin) and check: sign-in maps roles and links users by issuer and
//! subject; a replayed or foreign `state` is refused; forged ID tokens (wrong `alg`, `none`,
//! HMAC with the public key, expired, wrong audience or issuer, bad signature, wrong nonce,
//! issued in the future) are refused, crafted with the provider's own signing key that the
//! test holds, and the same forgeries delivered through the hub's real callback (a proxy in
//! front of the provider swaps the token) make no session and no user; key rotation works and an unknown key id refetches the keys at most once per
//! interval. Without Node or the package each test says so on stderr and passes.

mod common;
#[path = "oidc/forging_proxy.rs"]
mod forging_proxy;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kakehashi_hub::auth::oidc::{OidcConfig, OidcError};
use kakehashi_hub::db::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `oidc-provider` is installed, if Node and the package are there. Without them the
/// suite says SKIPPED and passes, unless `KAKEHASHI_REQUIRE_OIDC=1` (set by `.ci/run`) makes
/// their absence a failure.
fn provider_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KAKEHASHI_OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci/oidc"));
    let required = std::env::var("KAKEHASHI_REQUIRE_OIDC").is_ok_and(|v| v == "1");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(node) = node else {
        assert!(
            !required,
            "KAKEHASHI_REQUIRE_OIDC=1 but `node` is not on PATH"
        );
        eprintln!("SKIPPED: the OpenID Connect suite needs Node (`node` is not on PATH)");
        return None;
    };
    let package = dir.join("node_modules/oidc-provider/package.json");
    let Ok(package) = std::fs::read_to_string(&package) else {
        assert!(
            !required,
            "KAKEHASHI_REQUIRE_OIDC=1 but oidc-provider is not in {}",
            dir.display()
        );
        eprintln!(
            "SKIPPED: the OpenID Connect suite needs the npm package oidc-provider in {} (run .ci/run, or npm install --prefix .ci/oidc oidc-provider@8)",
            dir.display()
        );
        return None;
    };
    let version = serde_json::from_str::<serde_json::Value>(&package)
        .ok()
        .and_then(|p| p["version"].as_str().map(str::to_owned))
        .unwrap_or_default();
    eprintln!("OpenID Connect suite: a real oidc-provider {version} on Node {node}");
    Some(dir)
}

/// The provider process (killed on drop).
struct Provider {
    _child: tokio::process::Child,
    port: u16,
    keys: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_provider(dir: &Path, port: u16, hub_url: &str, keys: &Path, key: u8) -> Provider {
    let issuer = format!("http://127.0.0.1:{port}");
    start_provider_as(dir, port, &issuer, hub_url, keys, key).await
}

/// The provider on `port`, calling itself `issuer` (a proxy's address, or its own).
async fn start_provider_as(
    dir: &Path,
    port: u16,
    issuer: &str,
    hub_url: &str,
    keys: &Path,
    key: u8,
) -> Provider {
    let mut child = tokio::process::Command::new("node")
        .arg(repo().join("crates/hub/tests/oidc/provider.mjs"))
        .env("OIDC_PROVIDER_DIR", dir)
        .env("PORT", port.to_string())
        .env("ISSUER", issuer)
        .env(
            "REDIRECT_URI",
            format!("{hub_url}/login/oidc/campus/callback"),
        )
        .env("KEY_DIR", keys)
        .env("KEY", key.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l.starts_with("ready") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "the OpenID provider did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Provider {
        _child: child,
        port,
        keys: keys.to_owned(),
    }
}

fn issuer_config(port: u16) -> OidcConfig {
    toml::from_str(&format!(
        r#"
        id = "campus"
        name = "Campus (test issuer)"
        issuer = "http://127.0.0.1:{port}"
        client_id = "kakehashi-hub"
        client_secret = "hub-test-secret"
        scopes = ["openid", "profile", "email", "groups"]
        roles_claim = "groups"
        map = {{ "kakehashi-admin" = "admin", "kakehashi-researcher" = "researcher", "kakehashi-steward" = "steward" }}
        site_claim = "site"
        jwks_min_refetch_seconds = 2
        "#
    ))
    .unwrap()
}

/// A hub with the provider as its issuer `campus`, and the provider.
async fn setup(dir: &Path, keys: &Path) -> (Running, Provider) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}", listener.local_addr().unwrap());
    let port = free_port();
    let p = start_provider(dir, port, &hub_url, keys, 1).await;
    let h = start_on(listener, |c| c.oidc = vec![issuer_config(port)]).await;
    (h, p)
}

/// A browser: cookies per origin, redirects followed by hand.
#[derive(Default)]
struct Browser {
    jar: HashMap<String, BTreeMap<String, String>>,
}

fn origin(url: &str) -> String {
    let u = reqwest::Url::parse(url).unwrap();
    format!(
        "{}:{}",
        u.host_str().unwrap(),
        u.port_or_known_default().unwrap()
    )
}

impl Browser {
    fn cookie_header(&self, url: &str) -> String {
        self.jar
            .get(&origin(url))
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    fn keep(&mut self, url: &str, r: &reqwest::Response) {
        let jar = self.jar.entry(origin(url)).or_default();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (nv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (n, val) = nv.split_once('=').unwrap();
            if val.is_empty() || attrs.to_ascii_lowercase().contains("max-age=0") {
                jar.remove(n.trim());
            } else {
                jar.insert(n.trim().to_owned(), val.to_owned());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &str) -> reqwest::Response {
        let c = self.cookie_header(url);
        let req = if c.is_empty() {
            req
        } else {
            req.header("cookie", c)
        };
        let r = req.send().await.unwrap();
        self.keep(url, &r);
        r
    }

    /// From the hub's sign-in button to the issuer's redirect back: returns the callback URL
    /// (not yet visited).
    async fn walk_to_callback(&mut self, h: &Running, account: &str) -> String {
        let mut url = format!("{}/login/oidc/campus?next=/network", h.url);
        for _ in 0..20 {
            let r = self.send(h.http.get(&url), &url.clone()).await;
            let r = if r.status() == StatusCode::OK {
                let page = r.text().await.unwrap();
                let (action, fields) = form_of(&page);
                let mut pairs = fields;
                if v_is(&pairs, "login") {
                    pairs.push(("login".into(), account.into()));
                    pairs.push(("password".into(), "any".into()));
                }
                let target = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(&action)
                    .unwrap()
                    .to_string();
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&pairs)
                    .finish();
                let req = h
                    .http
                    .post(&target)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                self.send(req, &target.clone()).await
            } else {
                r
            };
            assert!(r.status().is_redirection(), "{url}: {}", r.status());
            let next = reqwest::Url::parse(&url)
                .unwrap()
                .join(&location(&r))
                .unwrap()
                .to_string();
            if next.starts_with(&format!("{}/login/oidc/campus/callback", h.url)) {
                return next;
            }
            url = next;
        }
        panic!("no way back to the hub");
    }

    /// Signs in through the issuer; the hub's answer to the callback.
    async fn sign_in(&mut self, h: &Running, account: &str) -> reqwest::Response {
        let cb = self.walk_to_callback(h, account).await;
        self.send(h.http.get(&cb), &cb.clone()).await
    }
}

fn v_is(pairs: &[(String, String)], v: &str) -> bool {
    pairs.iter().any(|(k, x)| k == "prompt" && x == v)
}

/// The first form of a page: its action and hidden fields.
fn form_of(page: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[at..at + tag[at..].find('"')?].to_owned())
    };
    let f = page.find("<form").expect("a form");
    let tag = &page[f..f + page[f..].find('>').unwrap()];
    let action = attr(tag, "action").unwrap();
    let end = page[f..].find("</form>").unwrap() + f;
    let mut fields = Vec::new();
    let mut rest = &page[f..end];
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>').unwrap()];
        if attr(tag, "type").as_deref() == Some("hidden") {
            fields.push((
                attr(tag, "name").unwrap(),
                attr(tag, "value").unwrap_or_default(),
            ));
        }
        rest = &rest[i + 6..];
    }
    (action, fields)
}

fn session_of(r: &reqwest::Response) -> Option<String> {
    set_cookie(r.headers(), "kh_session")
}

/// Sign-in through the issuer creates users linked by issuer and subject with the mapped
/// role, re-evaluates the role at each sign-in, refuses users without a role with a page
/// that says so, and refuses a disabled user; such users have no password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_the_issuer_maps_roles() {
    let Some(dir) = provider_dir() else { return };
    let keys = tempfile::tempdir().unwrap();
    let (h, _p) = setup(&dir, keys.path()).await;

    // the sign-in page offers the issuer
    let page = h.get("/login", "").await.text().await.unwrap();
    assert!(page.contains("/login/oidc/campus"), "{page}");
    assert!(page.contains("Campus (test issuer)"));

    let mut b = Browser::default();
    let r = b.sign_in(&h, "admin-ann").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/network");
    let admin = session_of(&r).expect("a session");
    assert_eq!(h.get("/admin/users", &admin).await.status(), StatusCode::OK);

    let r = Browser::default().sign_in(&h, "res-rob").await;
    let rob = session_of(&r).expect("a session");
    assert_eq!(h.get("/network", &rob).await.status(), StatusCode::OK);
    assert_eq!(
        h.get("/admin/users", &rob).await.status(),
        StatusCode::FORBIDDEN
    );

    let r = Browser::default().sign_in(&h, "stew-sue").await;
    assert!(session_of(&r).is_some());

    let users = kakehashi_hub::service::identity::users(&h.hub).unwrap();
    let find = |n: &str| users.iter().find(|u| u.name == n).unwrap().clone();
    assert_eq!(find("admin-ann@campus").role, Role::Admin);
    assert_eq!(find("res-rob@campus").role, Role::Researcher);
    let sue = find("stew-sue@campus");
    assert_eq!(
        (sue.role, sue.site.as_deref()),
        (Role::Steward, Some("de-berlin"))
    );
    assert_eq!(sue.source, "campus");

    // signing in again finds the same user, and the role is the issuer's again
    h.hub
        .db
        .set_role("res-rob@campus", Role::Admin, None)
        .unwrap();
    let r = Browser::default().sign_in(&h, "res-rob").await;
    assert!(session_of(&r).is_some());
    let users = kakehashi_hub::service::identity::users(&h.hub).unwrap();
    assert_eq!(
        users
            .iter()
            .filter(|u| u.name.starts_with("res-rob"))
            .count(),
        1
    );
    let rob = users.iter().find(|u| u.name == "res-rob@campus").unwrap();
    assert_eq!(rob.role, Role::Researcher);

    // no group that maps: a clear page, no session, no user
    let r = Browser::default().sign_in(&h, "carl").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_of(&r).is_none());
    assert!(r.text().await.unwrap().contains("no role in this network"));
    assert!(
        !kakehashi_hub::service::identity::users(&h.hub)
            .unwrap()
            .iter()
            .any(|u| u.name.starts_with("carl"))
    );

    // disabled: refused at the issuer's door too
    h.hub.db.set_disabled("res-rob@campus", true).unwrap();
    let r = Browser::default().sign_in(&h, "res-rob").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_of(&r).is_none());
    assert!(r.text().await.unwrap().contains("disabled"));

    // a linked user has no password
    let r = h
        .post_json(
            "/api/login",
            "",
            json!({"name": "admin-ann@campus", "password": "!oidc"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let logins = h.audit("login");
    assert!(
        logins
            .iter()
            .any(|l| l["user"] == "admin-ann@campus" && l["source"] == "campus")
    );
    let failed = h.audit("login_failed");
    assert!(failed.iter().any(
        |f| f["source"] == "campus" && f["reason"].as_str().unwrap().contains("maps to a role")
    ));
}

/// The `state` is single-use and bound to the browser that started the sign-in: the same
/// callback replayed (with the same cookie) is refused, and so is a callback this browser
/// did not start (login CSRF); neither makes a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_state_is_refused() {
    let Some(dir) = provider_dir() else { return };
    let keys = tempfile::tempdir().unwrap();
    let (h, _p) = setup(&dir, keys.path()).await;
    let mut b = Browser::default();
    let cb = b.walk_to_callback(&h, "res-rob").await;
    let cookie = b.cookie_header(&cb);
    let r = b.send(h.http.get(&cb), &cb).await;
    assert!(session_of(&r).is_some(), "first use");
    let r = h.get(cb.strip_prefix(&h.url).unwrap(), &cookie).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "replay");
    assert!(session_of(&r).is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("already used or has expired")
    );

    // login CSRF: the attacker's callback, carried to a victim's browser that has a sign-in
    // of its own under way (its own kh_oidc cookie), or none
    let mut attacker = Browser::default();
    let cb = attacker.walk_to_callback(&h, "admin-ann").await;
    let mut victim = Browser::default();
    let own = victim.walk_to_callback(&h, "res-rob").await;
    let victim_cookie = victim.cookie_header(&own);
    assert!(victim_cookie.contains("kh_oidc="));
    for cookie in [victim_cookie.as_str(), ""] {
        let r = h.get(cb.strip_prefix(&h.url).unwrap(), cookie).await;
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "not this browser's state"
        );
        assert!(session_of(&r).is_none());
    }
    assert!(
        h.audit("login_failed")
            .iter()
            .any(|f| f["reason"].as_str().unwrap().contains("state"))
    );
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Forged ID tokens are refused, each for its one defect: the test signs them with the
/// provider's own key (or, for the bad signature, with a key the provider never published).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_id_tokens_are_refused() {
    let Some(dir) = provider_dir() else { return };
    let keys = tempfile::tempdir().unwrap();
    let (h, p) = setup(&dir, keys.path()).await;
    let iss = h.hub.issuer("campus").unwrap();
    let issuer = format!("http://127.0.0.1:{}", p.port);
    let kid = std::fs::read_to_string(p.keys.join("key-1.kid")).unwrap();
    let der = std::fs::read(p.keys.join("key-1.der")).unwrap();
    let other = std::fs::read(p.keys.join("key-2.der")).unwrap();
    let claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = json!({"iss": issuer, "sub": "res-rob", "aud": "kakehashi-hub", "exp": now() + 300, "iat": now(), "nonce": "n-1", "groups": ["kakehashi-researcher"]});
        f(&mut c);
        c
    };
    let sign = |alg: Algorithm, key: &[u8], c: &serde_json::Value| {
        let mut head = Header::new(alg);
        head.kid = Some(kid.clone());
        jsonwebtoken::encode(&head, c, &EncodingKey::from_rsa_der(key)).unwrap()
    };
    // the baseline is accepted, so each refusal below is for its defect alone
    let good = sign(Algorithm::RS256, &der, &claims(&|_| {}));
    let c = iss
        .verify_id_token(&good, "n-1")
        .await
        .expect("a good token");
    assert_eq!(c.sub, "res-rob");

    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&|_| {}).to_string())
    );
    // HS256 keyed with the issuer's public key (the classic confusion attack)
    let jwks: serde_json::Value = reqwest::get(format!("{issuer}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = jwks["keys"][0].to_string();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let hmac = jsonwebtoken::encode(
        &hs,
        &claims(&|_| {}),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", none, "not allowed"),
        ("HS256 with the public key", hmac, "not allowed"),
        (
            "RS512 (not allowed)",
            sign(Algorithm::RS512, &der, &claims(&|_| {})),
            "not allowed",
        ),
        (
            "expired",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| {
                    c["exp"] = json!(now() - 3600);
                    c["iat"] = json!(now() - 3700);
                }),
            ),
            "Expired",
        ),
        (
            "wrong audience",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| c["aud"] = json!("someone-else")),
            ),
            "Audience",
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| c["iss"] = json!("http://127.0.0.1:1")),
            ),
            "Issuer",
        ),
        (
            "bad signature",
            sign(Algorithm::RS256, &other, &claims(&|_| {})),
            "Signature",
        ),
        (
            "wrong nonce",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| c["nonce"] = json!("n-2")),
            ),
            "nonce",
        ),
        (
            "no nonce",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("nonce");
                }),
            ),
            "nonce",
        ),
        (
            "issued in the future",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| c["iat"] = json!(now() + 3600)),
            ),
            "future",
        ),
        (
            "another client as azp",
            sign(
                Algorithm::RS256,
                &der,
                &claims(&|c| c["azp"] = json!("other")),
            ),
            "azp",
        ),
    ];
    for (what, token, says) in cases {
        match iss.verify_id_token(&token, "n-1").await {
            Err(OidcError::Token(m)) => assert!(m.contains(says), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Forged ID tokens through the hub's real callback: a proxy in front of the provider swaps
/// the ID token of the provider's answer to the hub's token request for a forgery (made from
/// the genuine one, signed with the provider's own key where a key is used): `alg` none, an
/// algorithm not allowed (RS512), expired, another audience. Each sign-in ends with 502 and the
/// error page, no session cookie, no user made or linked, and a `login_failed` audit entry
/// naming the defect; the same path with the token re-signed unchanged signs in (so each
/// refusal is for its defect alone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_id_tokens_through_the_callback_make_no_session_and_no_user() {
    let Some(dir) = provider_dir() else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let keys = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}", listener.local_addr().unwrap());
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{proxy_port}");
    let port = free_port();
    let forge = forging_proxy::Forge::default();
    forging_proxy::start(proxy, format!("http://127.0.0.1:{port}"), forge.clone());
    let p = start_provider_as(&dir, port, &issuer, &hub_url, keys.path(), 1).await;
    let h = start_on(listener, |c| c.oidc = vec![issuer_config(proxy_port)]).await;
    let kid = std::fs::read_to_string(p.keys.join("key-1.kid")).unwrap();
    let der = std::fs::read(p.keys.join("key-1.der")).unwrap();
    // the genuine token's claims, changed by `edit`, signed with `alg` (None: `alg` none)
    let forger = |alg: Option<Algorithm>,
                  edit: fn(&mut serde_json::Value)|
     -> forging_proxy::Forger {
        let (kid, der) = (kid.clone(), der.clone());
        Box::new(move |genuine: &str| {
            let payload = genuine.split('.').nth(1).unwrap();
            let mut claims: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            edit(&mut claims);
            match alg {
                None => format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
                    URL_SAFE_NO_PAD.encode(claims.to_string())
                ),
                Some(alg) => {
                    let mut head = Header::new(alg);
                    head.kid = Some(kid.clone());
                    jsonwebtoken::encode(&head, &claims, &EncodingKey::from_rsa_der(&der)).unwrap()
                }
            }
        })
    };
    let users = || async {
        let admin = h.api_session("admin", ADMIN_PASSWORD).await;
        let v: Vec<serde_json::Value> = h
            .get_bearer("/api/admin/users", &admin)
            .await
            .json()
            .await
            .unwrap();
        v.into_iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let before = users().await;
    // (what, the forgery's algorithm (None: `alg` none), its change to the claims, what the
    // audit log says)
    type Case = (
        &'static str,
        Option<Algorithm>,
        fn(&mut serde_json::Value),
        &'static str,
    );
    let cases: [Case; 4] = [
        ("alg none", None, |_| {}, "not allowed"),
        (
            "RS512, not allowed",
            Some(Algorithm::RS512),
            |_| {},
            "not allowed",
        ),
        (
            "expired",
            Some(Algorithm::RS256),
            |c| {
                c["exp"] = json!(now() - 3600);
                c["iat"] = json!(now() - 3700);
            },
            "Expired",
        ),
        (
            "another audience",
            Some(Algorithm::RS256),
            |c| c["aud"] = json!("someone-else"),
            "Audience",
        ),
    ];
    for (what, alg, edit, says) in cases {
        forge.set(forger(alg, edit));
        let r = Browser::default().sign_in(&h, "res-rob").await;
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY, "{what}");
        assert!(session_of(&r).is_none(), "{what}: no session cookie");
        let page = r.text().await.unwrap();
        assert!(!page.contains("/logout"), "{what}: not signed in");
        let reason = h
            .audit("login_failed")
            .last()
            .map(|f| f["reason"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        assert!(reason.contains(says), "{what}: audit says {reason}");
        assert_eq!(users().await, before, "{what}: no user made");
        assert!(
            h.hub
                .db
                .user_by_subject("campus", "res-rob")
                .unwrap()
                .is_none(),
            "{what}: no user linked"
        );
        println!("{what}: 502, no session, no user; audit: {reason}");
    }
    // the same path, the token re-signed unchanged: signed in
    forge.set(forger(Some(Algorithm::RS256), |_| {}));
    let r = Browser::default().sign_in(&h, "res-rob").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "re-signed genuine token");
    assert!(session_of(&r).is_some());
    assert!(
        h.hub
            .db
            .user_by_subject("campus", "res-rob")
            .unwrap()
            .is_some()
    );
}

/// Key rotation: after the provider signs with a new key, the next sign-in fetches the
/// keys again and works; a stream of unknown key ids fetches them at most once per interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_refetches_the_keys_once() {
    let Some(dir) = provider_dir() else { return };
    let keys = tempfile::tempdir().unwrap();
    let (h, p) = setup(&dir, keys.path()).await;
    let r = Browser::default().sign_in(&h, "res-rob").await;
    assert!(session_of(&r).is_some());
    let iss = h.hub.issuer("campus").unwrap();
    assert_eq!(iss.jwks.fetches().await, 1);

    // restart the provider signing with key 2
    let hub_url = h.url.clone();
    let port = p.port;
    drop(p);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _p2 = start_provider(&dir, port, &hub_url, keys.path(), 2).await;
    tokio::time::sleep(Duration::from_millis(2100)).await; // past jwks_min_refetch_seconds
    let r = Browser::default().sign_in(&h, "res-rob").await;
    assert!(
        session_of(&r).is_some(),
        "signed in after rotation: {}",
        r.status()
    );
    assert_eq!(iss.jwks.fetches().await, 2);

    // unknown key ids, one after the other: at most one more fetch in the interval
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let der = std::fs::read(keys.path().join("key-1.der")).unwrap();
    for i in 0..5 {
        let mut head = Header::new(Algorithm::RS256);
        head.kid = Some(format!("forged-{i}"));
        let t = jsonwebtoken::encode(
            &head,
            &json!({"iss": format!("http://127.0.0.1:{port}"), "sub": "x", "aud": "kakehashi-hub", "exp": now() + 60, "iat": now(), "nonce": "n"}),
            &EncodingKey::from_rsa_der(&der),
        )
        .unwrap();
        assert!(iss.verify_id_token(&t, "n").await.is_err());
    }
    assert_eq!(
        iss.jwks.fetches().await,
        3,
        "one refetch for five unknown key ids"
    );
}
