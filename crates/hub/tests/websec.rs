//! The hub's web security over real HTTP on loopback: security headers on every response
//! (HSTS over TLS), the JSON API takes bearer tokens and JSON only, every form needs its CSRF
//! token, pages ask the network only on POST, `next=` follows local paths only, and
//! `/metrics` needs the metrics token. Each test names what it proves and fails when the
//! protection is removed.

use base64::Engine;
use kakehashi_hub::config::{HubConfig, TlsConfig};
use kakehashi_hub::db::{Role, User};
use kakehashi_hub::service::users::{
    NewProject, NewUser, create_token, create_user, save_project, sign_in,
};
use kakehashi_hub::{Hub, HubError};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A hub on a free loopback port with an administrator and a researcher `alice` in project
/// `p1`, stopped on drop.
struct Running {
    url: String,
    addr: SocketAddr,
    hub: Arc<Hub>,
    alice: User,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<JoinHandle<Result<(), HubError>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            d.abort();
        }
    }
}

const PASSWORD: &str = "password-1";

async fn start_with(edit: impl FnOnce(&mut HubConfig)) -> Running {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = HubConfig {
        data_dir: dir.path().join("hub"),
        ..HubConfig::default()
    };
    cfg.tasks.default_deadline_seconds = 1;
    edit(&mut cfg);
    let hub = Hub::open(cfg).unwrap();
    let (hub2, alice) = (hub.clone(), hub.clone());
    let alice = tokio::task::spawn_blocking(move || {
        hub2.bootstrap_admin("admin", "admin-password").unwrap();
        let admin = hub2.db.user_with_hash("admin").unwrap().unwrap().0;
        create_user(
            &hub2,
            &admin,
            NewUser {
                name: "alice".into(),
                password: PASSWORD.into(),
                role: Role::Researcher,
                site: None,
            },
        )
        .unwrap();
        save_project(
            &hub2,
            &admin,
            NewProject {
                id: "p1".into(),
                title: "Project one".into(),
                members: vec!["alice".into()],
            },
        )
        .unwrap();
        alice.db.user_with_hash("alice").unwrap().unwrap().0
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(kakehashi_hub::serve(hub.clone(), listener, async move {
        let _ = rx.await;
    }));
    Running {
        url: format!("http://{addr}"),
        addr,
        hub,
        alice,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        stop: Some(tx),
        done: Some(done),
        _dir: dir,
    }
}

async fn start() -> Running {
    start_with(|_| {}).await
}

impl Running {
    /// A browser session of alice's: the cookie header value.
    fn session(&self) -> String {
        let (_, secret) = sign_in(&self.hub, "alice", PASSWORD, None).unwrap();
        format!("kh_session={secret}")
    }

    /// An API token of alice's.
    fn token(&self) -> String {
        create_token(&self.hub, &self.alice, "test", None)
            .unwrap()
            .0
    }

    /// How many tasks alice's projects hold.
    fn tasks(&self) -> usize {
        self.hub.db.tasks_for(&self.alice, None, 500).unwrap().len()
    }

    /// How many API tokens the audit log says were made.
    fn tokens_made(&self) -> usize {
        kakehashi_hub::service::audit::tail(&self.hub, 1000)
            .unwrap()
            .iter()
            .filter(|e| e.kind == "token_created")
            .count()
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.url));
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        r.send().await.unwrap()
    }

    /// Posts a form (pairs, URL-encoded) with a cookie.
    async fn form(&self, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.form_raw(path, cookie, &body).await
    }

    async fn form_raw(&self, path: &str, cookie: &str, body: &str) -> reqwest::Response {
        let mut r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        r.send().await.unwrap()
    }

    /// The CSRF token a page's forms carry for this cookie.
    async fn csrf(&self, path: &str, cookie: &str) -> String {
        let page = self.get(path, cookie).await.text().await.unwrap();
        csrf_in(&page)
    }

    /// A signed-out browser: its `kh_csrf` cookie (from the sign-in page) and the token.
    async fn stranger(&self) -> (String, String) {
        let r = self.get("/login", "").await;
        let cookie = set_cookie(r.headers(), "kh_csrf").expect("a CSRF cookie before sign-in");
        let token = csrf_in(&r.text().await.unwrap());
        (cookie, token)
    }
}

fn csrf_in(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &page[at + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The `name=value` of a cookie a response sets, if it sets it.
fn set_cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn assert_secure_headers(h: &HeaderMap, what: &str) {
    let get = |n: &str| {
        h.get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {n}"))
            .to_owned()
    };
    let csp = get("content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp} lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
}

/// Every kind of response (a page, an API answer, an API error, a 404, a 415, a redirect)
/// carries CSP, frame, sniffing and referrer headers; plain HTTP sends no HSTS; the CSP
/// allows the pages' inline style by its hash and nothing inline else.
#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let h = start().await;
    let session = h.session();
    let cases = [
        ("/healthz", ""),
        ("/login", ""),
        ("/api/me", ""),
        ("/api/openapi.json", ""),
        ("/no-such-page", ""),
        ("/", ""),
        ("/network", session.as_str()),
        ("/metrics", ""),
    ];
    for (path, cookie) in cases {
        let r = h.get(path, cookie).await;
        assert_secure_headers(r.headers(), path);
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}: HSTS over plain HTTP"
        );
    }
    let r = h
        .http
        .post(format!("{}/api/tasks", h.url))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_secure_headers(r.headers(), "415");
    // the one inline style block of the page, allowed by its hash
    let r = h.get("/network", &session).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();
    let styles: Vec<&str> = page
        .split("<style>")
        .skip(1)
        .map(|s| s.split("</style>").next().unwrap())
        .collect();
    assert!(!styles.is_empty(), "the page has its style");
    for s in styles {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "the style's hash {hash} is in {csp}"
        );
    }
    assert!(!page.contains("<script"), "the pages have no script");
}

/// Over TLS the hub sends Strict-Transport-Security as well.
#[tokio::test]
async fn tls_responses_carry_hsts() {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let certs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let h = start_with(|c| {
        c.tls = Some(TlsConfig {
            cert: certs.join("hub.pem"),
            key: certs.join("hub.key"),
        })
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let mut s = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );
    assert!(head.contains("x-frame-options: deny"), "{head}");
    // and the cookies it sets are Secure
    assert!(
        head.lines()
            .filter(|l| l.starts_with("set-cookie:"))
            .all(|l| l.contains("secure")),
        "{head}"
    );
}

/// The JSON API reads no cookies: a browser session is nobody there (401), so a cross-site
/// request carrying it does nothing; the API takes JSON bodies only (415 before any handler,
/// so a cross-site form post never reaches one); the session from `/api/login` and API
/// tokens work as bearer tokens.
#[tokio::test]
async fn the_api_takes_bearer_tokens_and_json_only() {
    let h = start().await;
    let session = h.session();
    // a session cookie on the API: nobody
    assert_eq!(
        h.get("/api/me", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let made = h.tokens_made();
    let r = h
        .http
        .post(format!("{}/api/tokens", h.url))
        .header("cookie", &session)
        .json(&serde_json::json!({"label": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "cookie-only API call");
    assert_eq!(h.tokens_made(), made, "no token was made");
    // a cross-site form post with the cookie: refused, no task
    let spec =
        r#"{"project":"p1","spec":{"type":"surveillance_series","definition":"sari-icosari"}}"#;
    for ct in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let r = h
            .http
            .post(format!("{}/api/tasks", h.url))
            .header("cookie", &session)
            .header("content-type", ct)
            .body(spec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
    }
    // even with a valid bearer token a non-JSON body is refused
    let token = h.token();
    let made = h.tokens_made();
    let r = h
        .http
        .post(format!("{}/api/tokens", h.url))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(r#"{"label":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(h.tokens_made(), made, "no token was made");
    assert_eq!(h.tasks(), 0, "no task was made");
    // bearer tokens work: an API token, and the session /api/login hands out (no cookie)
    let r = h
        .http
        .get(format!("{}/api/me", h.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .http
        .post(format!("{}/api/login", h.url))
        .json(&serde_json::json!({"name": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "the API sets no cookie"
    );
    let b: serde_json::Value = r.json().await.unwrap();
    let s = b["session"].as_str().unwrap().to_owned();
    assert_eq!(b["name"], "alice");
    let me = |s: String| {
        let r = h
            .http
            .get(format!("{}/api/me", h.url))
            .bearer_auth(s)
            .send();
        async move { r.await.unwrap().status() }
    };
    assert_eq!(me(s.clone()).await, StatusCode::OK);
    // /api/logout ends that session
    let r = h
        .http
        .post(format!("{}/api/logout", h.url))
        .bearer_auth(&s)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(s).await, StatusCode::UNAUTHORIZED);
}

/// Every form that changes state refuses a post without its CSRF token or with another's
/// (403) and changes nothing; with the right token it does its work.
#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let h = start().await;
    // sign-in (login CSRF): a signed-out browser's token is its own
    let (pre, token) = h.stranger().await;
    let (_, other) = h.stranger().await;
    let creds = [("username", "alice"), ("password", PASSWORD), ("next", "/")];
    for sent in ["", other.as_str()] {
        let mut f = creds.to_vec();
        f.push(("csrf", sent));
        let r = h.form("/login", &pre, &f).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "login with {sent:?}");
        assert!(
            set_cookie(r.headers(), "kh_session").is_none(),
            "no session"
        );
    }
    let r = h
        .form("/login", "", &[&creds[..], &[("csrf", "")]].concat())
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "login without a cookie");
    let mut f = creds.to_vec();
    f.push(("csrf", &token));
    let r = h.form("/login", &pre, &f).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(r.headers(), "kh_session").expect("signed in");

    // the signed-in forms: the session's token, not the pre-session one
    let csrf = h.csrf("/feasibility", &session).await;
    assert_ne!(csrf, token);
    let ccdl = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();
    let lang = |h: &Running| h.hub.db.user_with_hash("alice").unwrap().unwrap().0.lang;
    let before_lang = lang(&h);
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/language", vec![("lang", "ja"), ("next", "/")]),
        (
            "/feasibility",
            vec![("action", "run"), ("project", "p1"), ("ccdl", &ccdl)],
        ),
        (
            "/amr",
            vec![
                ("guideline", "EUCAST 2025"),
                ("organisms", "Escherichia coli"),
                ("antimicrobials", "Meropenem"),
            ],
        ),
        ("/surveillance", vec![("definition", "sari-icosari")]),
        ("/logout", vec![]),
    ];
    for (path, pairs) in &forms {
        for sent in ["", token.as_str(), "0123456789abcdef0123456789abcdef"] {
            let mut f = pairs.clone();
            if !sent.is_empty() {
                f.push(("csrf", sent));
            }
            let r = h.form(path, &session, &f).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} with {sent:?}");
        }
    }
    assert_eq!(h.tasks(), 0, "no form without its token asked the network");
    assert_eq!(lang(&h), before_lang, "the language did not change");
    assert_eq!(
        h.get("/", &session).await.status(),
        StatusCode::OK,
        "still signed in"
    );
    // with the token each does its work
    let mut asked = 0;
    for (path, pairs) in &forms {
        let mut f = pairs.clone();
        f.push(("csrf", &csrf));
        let r = h.form(path, &session, &f).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{path}: {}",
            location(&r)
        );
        if ["/feasibility", "/amr", "/surveillance"].contains(path) {
            asked += 1;
            assert_eq!(h.tasks(), asked, "{path} asked the network");
        }
    }
    assert_eq!(lang(&h), "ja", "the language changed");
    assert_ne!(
        h.get("/", &session).await.status(),
        StatusCode::OK,
        "signed out"
    );
}

/// A GET never asks the network: not the AMR page with a complete form and `run=1` (how it
/// ran before), not the surveillance page or its CSV; the run is a POST that redirects (303)
/// to a GET of the result.
#[tokio::test]
async fn pages_ask_the_network_only_on_post() {
    let h = start().await;
    let session = h.session();
    let q = "guideline=EUCAST+2025&organisms=Escherichia+coli&antimicrobials=Meropenem&run=1";
    for path in [
        format!("/amr?{q}"),
        "/amr".into(),
        "/surveillance".into(),
        "/surveillance?definition=sari-icosari".into(),
        "/surveillance/de.csv?definition=sari-icosari".into(),
    ] {
        let r = h.get(&path, &session).await;
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
        assert_eq!(h.tasks(), 0, "GET {path} asked the network");
    }
    // the surveillance page says it was not asked yet and offers the button
    let page = h.get("/surveillance", &session).await.text().await.unwrap();
    assert!(page.contains("id=\"surv-not-run\""), "{page}");
    assert!(page.contains("<form method=\"post\" action=\"/surveillance\""));
    // POST runs and redirects to a GET of the result
    let csrf = h.csrf("/amr", &session).await;
    let r = h
        .form(
            "/amr",
            &session,
            &[
                ("guideline", "EUCAST 2025"),
                ("organisms", "Escherichia coli"),
                ("antimicrobials", "Meropenem"),
                ("by_year", "true"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/amr?task="), "{to}");
    assert_eq!(h.tasks(), 1);
    let page = h.get(&to, &session).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Escherichia coli"),
        "the form shows the question"
    );
    assert!(page.contains("id=\"by_year\" name=\"by_year\" value=\"true\" checked"));
    assert_eq!(h.tasks(), 1, "reading the result asked nothing");
    let r = h
        .form(
            "/surveillance",
            &session,
            &[("definition", "sari-icosari"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/surveillance?definition=sari-icosari"));
    assert_eq!(h.tasks(), 2);
    let page = h.get(&location(&r), &session).await.text().await.unwrap();
    assert!(
        !page.contains("id=\"surv-not-run\""),
        "the stored result is shown"
    );
    assert_eq!(h.tasks(), 2, "reading the result asked nothing");
}

/// After sign-in and a language change, `next=` is followed only when it is a local path.
#[tokio::test]
async fn next_follows_local_paths_only() {
    let h = start().await;
    let (pre, token) = h.stranger().await;
    // raw form encodings, as a crafted link would send them
    let cases = [
        ("%2Fx", "/x"),
        ("%2Famr%3Ftask%3D1", "/amr?task=1"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%2509%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example%2F", "/"),
        ("%5C%5Cevil.example", "/"),
        ("evil.example", "/"),
    ];
    for (next, want) in cases {
        let body = format!("lang=en&csrf={token}&next={next}");
        let r = h.form_raw("/language", &pre, &body).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&r), want, "language, next={next}");
    }
    for (next, want) in [("%2F%09%2Fevil.example", "/"), ("%2Fnetwork", "/network")] {
        let body = format!("username=alice&password={PASSWORD}&csrf={token}&next={next}");
        let r = h.form_raw("/login", &pre, &body).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&r), want, "sign-in, next={next}");
    }
}

/// `/metrics` is off without a configured token (404), and with one it answers only that
/// token (401 for none, a wrong one, or a user's API token).
#[tokio::test]
async fn metrics_need_the_metrics_token() {
    let h = start().await;
    assert_eq!(h.get("/metrics", "").await.status(), StatusCode::NOT_FOUND);
    let h = start_with(|c| c.metrics_token = Some("m-secret-123".into())).await;
    let token = h.token();
    let get = |t: Option<&str>| {
        let mut r = h.http.get(format!("{}/metrics", h.url));
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap() }
    };
    for t in [
        None,
        Some("m-secret-12"),
        Some("m-secret-124"),
        Some(token.as_str()),
    ] {
        assert_eq!(get(t).await.status(), StatusCode::UNAUTHORIZED, "{t:?}");
    }
    let r = get(Some("m-secret-123")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("kakehashi_hub_tasks_total")
    );
}

/// After five failed sign-ins an account answers 429 (even to the right password) without
/// checking it, on the API and the sign-in page; the audit log says when it began; another
/// account from the same address still signs in.
#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let h = start().await;
    let login = |name: &str, pw: &str| {
        let r = h
            .http
            .post(format!("{}/api/login", h.url))
            .json(&serde_json::json!({"name": name, "password": pw}))
            .send();
        async move { r.await.unwrap().status() }
    };
    for i in 0..kakehashi_hub::throttle::ACCOUNT_FREE_FAILURES {
        assert_eq!(
            login("alice", "wrong").await,
            StatusCode::UNAUTHORIZED,
            "{i}"
        );
    }
    assert_eq!(
        login("alice", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the account waits, whatever the password"
    );
    let (pre, token) = h.stranger().await;
    let r = h
        .form(
            "/login",
            &pre,
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(r.headers(), "kh_session").is_none());
    assert!(r.text().await.unwrap().contains("id=\"form-error\""));
    assert_eq!(login("admin", "admin-password").await, StatusCode::OK);
    let log = kakehashi_hub::service::audit::tail(&h.hub, 100).unwrap();
    assert!(
        log.iter()
            .any(|e| e.kind == "login_throttled" && e.detail["key"] == "user:alice"),
        "the audit log names the throttled account"
    );
}

/// One address guessing over many accounts is slowed too: after twenty failed sign-ins from
/// it, each for a different name, the next sign-in from it answers 429 even for a real
/// account with its right password, and the audit log names the address.
#[tokio::test]
async fn failed_sign_ins_are_throttled_per_address() {
    let h = start().await;
    let login = |name: String, pw: &'static str| {
        let r = h
            .http
            .post(format!("{}/api/login", h.url))
            .json(&serde_json::json!({"name": name, "password": pw}))
            .send();
        async move { r.await.unwrap().status() }
    };
    for i in 0..kakehashi_hub::throttle::ADDRESS_FREE_FAILURES {
        // fewer failures per name than the account's limit: only the address counts up
        assert_eq!(
            login(format!("guess-{i}"), "wrong").await,
            StatusCode::UNAUTHORIZED,
            "{i}"
        );
    }
    assert_eq!(
        login("admin".into(), "admin-password").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the address waits, whatever the account and password"
    );
    let log = kakehashi_hub::service::audit::tail(&h.hub, 100).unwrap();
    assert!(
        log.iter()
            .any(|e| e.kind == "login_throttled" && e.detail["key"] == "addr:127.0.0.1"),
        "the audit log names the throttled address"
    );
}

/// A sign-in with an unknown name takes as long as one with a wrong password (the password
/// is checked against a dummy hash), so timing does not tell who has an account.
#[tokio::test]
async fn an_unknown_name_takes_as_long_as_a_wrong_password() {
    let h = start().await;
    let time = |name: &str| {
        let t = std::time::Instant::now();
        assert!(sign_in(&h.hub, name, "wrong-password", None).is_err());
        t.elapsed()
    };
    let _ = time("warm-up-nobody");
    let mut known: Vec<_> = (0..4).map(|_| time("alice")).collect();
    let mut unknown: Vec<_> = (0..4).map(|i| time(&format!("nobody-{i}"))).collect();
    known.sort();
    unknown.sort();
    assert!(
        unknown[1] * 3 >= known[1],
        "unknown {unknown:?} vs known {known:?}"
    );
}
