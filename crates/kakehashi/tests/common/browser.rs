//! Headless Chromium for the UI tests: a demo network (`kakehashi demo` on loopback), a
//! chromedriver, and a small W3C WebDriver client over reqwest (navigate, find, type, click,
//! upload a file, screenshot), plus signing in and switching the page's language.

#![allow(dead_code)] // each test file uses its own part

use base64::Engine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use super::{Proc, free_port};
use std::time::{Duration, Instant};

pub const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub session: String,
}

impl Browser {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn exists(&self, css: &str) -> bool {
        let v: Value = self
            .http
            .post(format!("{}/session/{}/elements", self.base, self.session))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["value"].as_array().is_some_and(|a| !a.is_empty())
    }

    /// Waits up to 10 s for an element (after a form submission the new page may still load).
    pub async fn wait_for(&self, css: &str) -> bool {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if self.exists(css).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Clicks what submits a form and waits until the browser shows the next document (the
    /// old one is marked first), so that what follows never acts on the page being left.
    pub async fn submit(&self, css: &str) {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "window.__khOld = true;", "args": []})),
        )
        .await;
        self.click(css).await;
        let t = Instant::now();
        loop {
            let v = self
                .call(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({"script": "return window.__khOld === true || document.readyState !== 'complete';", "args": []})),
                )
                .await;
            if v == json!(false) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "no new page after {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Chooses a local file in an `<input type="file">`.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": path.to_str().unwrap()})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The page's HTML. Right after a navigation chromedriver may answer an empty source for
    /// a moment (seen after `go` from a page that had a URL fragment); a page of ours is never
    /// empty, so this waits up to 10 s for it.
    pub async fn source(&self) -> String {
        let t = Instant::now();
        loop {
            let s = self
                .call(reqwest::Method::GET, "/source", None)
                .await
                .as_str()
                .unwrap()
                .to_owned();
            if !s.is_empty() || t.elapsed() > Duration::from_secs(10) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Sets a form field by script (large texts such as a CCDL query).
    pub async fn set_value(&self, css: &str, text: &str) {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "document.querySelector(arguments[0]).value = arguments[1];", "args": [css, text]})),
        )
        .await;
    }
}

pub fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A demo network of 300 patients per site, chromedriver and a WebDriver session.
pub async fn start() -> (tempfile::TempDir, Proc, Proc, Browser, String) {
    start_with(300).await
}

/// A demo network of `patients` per site (the temporary directory, the demo and chromedriver
/// processes, the session, the hub's URL), once all four sites are online.
pub async fn start_with(patients: u32) -> (tempfile::TempDir, Proc, Proc, Browser, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (demo, url) = super::spawn_demo(dir.path(), patients, Stdio::piped());
    let http = reqwest::Client::new();
    let t = Instant::now();
    // Wait until every site is online (the demo prints its banner then).
    loop {
        let ok = http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok && dir.path().join("hub").join("researcher.token").exists() {
            let token =
                std::fs::read_to_string(dir.path().join("hub").join("researcher.token")).unwrap();
            let sites: Vec<Value> = http
                .get(format!("{url}/api/sites"))
                .bearer_auth(token.trim())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or_default();
            if sites.iter().filter(|s| s["status"] == "online").count() == 4 {
                break;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "demo did not come up: {}",
            std::fs::read_to_string(dir.path().join("demo.err")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let chromium = ["chromium", "chromium-browser", "google-chrome"].iter().find(|b| Command::new("which").arg(b).output().is_ok_and(|o| o.status.success())).expect("headless Chromium is needed for the UI tests: apt-get install chromium chromium-driver (.ci/run does this)");
    let binary = String::from_utf8(Command::new("which").arg(chromium).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    let dport = free_port();
    let driver = Proc(
        Command::new("chromedriver")
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver)"),
    );
    let base = format!("http://127.0.0.1:{dport}");
    let t = Instant::now();
    while !http
        .get(format!("{base}/status"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": binary,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100", "--lang=en-US"]}}}});
    let s: Value = http
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = s["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {s}"))
        .to_owned();
    (
        dir,
        demo,
        driver,
        Browser {
            http,
            base,
            session,
        },
        url,
    )
}

pub async fn sign_in(b: &Browser, url: &str, user: &str) {
    sign_in_with(b, url, user, "kakehashi-demo").await;
}

/// Signs in on the login form at `url` (the hub's or a site console's).
pub async fn sign_in_with(b: &Browser, url: &str, user: &str, password: &str) {
    b.go(&format!("{url}/login")).await;
    b.type_into("#username", user).await;
    b.type_into("#password", password).await;
    b.click("button.primary").await;
    let t = Instant::now();
    while b.url().await.contains("/login") {
        assert!(t.elapsed() < Duration::from_secs(10), "signed in as {user}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Switches the page's language with its buttons, waiting for the page that comes back (so
/// that a navigation right after is not overtaken by the form's redirect).
pub async fn set_language(b: &Browser, lang: &str) {
    b.submit(&format!("form.lang button[value='{lang}']")).await;
    assert!(
        b.wait_for(&format!("html[lang='{lang}']")).await,
        "page in {lang}"
    );
}
