//! A hub on a free loopback port for the identity and OpenID Connect tests: an administrator
//! `admin` and a researcher `alice`, real HTTP, stopped on drop.

#![allow(dead_code)]

use kakehashi_hub::config::HubConfig;
use kakehashi_hub::db::Role;
use kakehashi_hub::service::users::{NewUser, create_user};
use kakehashi_hub::{Hub, HubError};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-password";
pub const PASSWORD: &str = "password-1";

pub struct Running {
    pub url: String,
    pub hub: Arc<Hub>,
    pub http: reqwest::Client,
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

/// Starts a hub on `listener` with the configuration edited by `edit`.
pub async fn start_on(
    listener: tokio::net::TcpListener,
    edit: impl FnOnce(&mut HubConfig),
) -> Running {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = HubConfig {
        data_dir: dir.path().join("hub"),
        public_url: Some(format!("http://{addr}")),
        ..HubConfig::default()
    };
    edit(&mut cfg);
    let hub = Hub::open(cfg).unwrap();
    let h2 = hub.clone();
    tokio::task::spawn_blocking(move || {
        h2.bootstrap_admin("admin", ADMIN_PASSWORD).unwrap();
        let admin = h2.db.user_with_hash("admin").unwrap().unwrap().0;
        create_user(
            &h2,
            &admin,
            NewUser {
                name: "alice".into(),
                password: PASSWORD.into(),
                role: Role::Researcher,
                site: None,
            },
        )
        .unwrap();
    })
    .await
    .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(kakehashi_hub::serve(hub.clone(), listener, async move {
        let _ = rx.await;
    }));
    Running {
        url: format!("http://{addr}"),
        hub,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        stop: Some(tx),
        done: Some(done),
        _dir: dir,
    }
}

pub async fn start_with(edit: impl FnOnce(&mut HubConfig)) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(listener, edit).await
}

impl Running {
    /// Signs in over the API; the session secret (a bearer token).
    pub async fn api_session(&self, name: &str, password: &str) -> String {
        let r = self
            .post_json(
                "/api/login",
                "",
                json!({"name": name, "password": password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "sign-in of {name}");
        r.json::<Value>().await.unwrap()["session"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs in through the sign-in page; the `kh_session=...` cookie.
    pub async fn browser_session(&self, name: &str, password: &str) -> String {
        let r = self.get("/login", "").await;
        let pre = set_cookie(r.headers(), "kh_csrf").expect("a CSRF cookie");
        let csrf = csrf_in(&r.text().await.unwrap());
        let r = self
            .form(
                "/login",
                &pre,
                &[
                    ("username", name),
                    ("password", password),
                    ("next", "/"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {name}");
        set_cookie(r.headers(), "kh_session").expect("a session cookie")
    }

    /// An API token made with a session.
    pub async fn token(&self, session: &str, body: Value) -> Value {
        let r = self.post_json("/api/tokens", session, body).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.url));
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        r.send().await.unwrap()
    }

    pub async fn get_bearer(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, bearer: &str, body: Value) -> reqwest::Response {
        let mut r = self.http.post(format!("{}{path}", self.url)).json(&body);
        if !bearer.is_empty() {
            r = r.bearer_auth(bearer);
        }
        r.send().await.unwrap()
    }

    pub async fn form(
        &self,
        path: &str,
        cookie: &str,
        pairs: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let mut r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        r.send().await.unwrap()
    }

    /// The CSRF token of a signed-in page's forms.
    pub async fn csrf(&self, cookie: &str) -> String {
        csrf_in(&self.get("/", cookie).await.text().await.unwrap())
    }

    /// The audit entries of a kind, oldest first.
    pub fn audit(&self, kind: &str) -> Vec<Value> {
        let mut v: Vec<_> = kakehashi_hub::service::audit::tail(&self.hub, 10_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect();
        v.sort_by_key(|e| e.seq);
        v.into_iter().map(|e| e.detail).collect()
    }
}

pub fn csrf_in(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &page[at + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The `name=value` of a cookie a response sets (with a value), if it sets it.
pub fn set_cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
