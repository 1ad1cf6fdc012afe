//! A hub and site agents as real processes on loopback, for tests of what a researcher sees
//! over HTTP: the `kakehashi` binary's hub and agents over the synthetic demo sites (made once
//! per test process by `kakehashi demo --prepare-only`), each agent with its own policy.
#![allow(dead_code)] // not every test file that shares this module starts a network

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

/// The synthetic demo sites (300 patients each), made once per test process.
pub fn sites_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = super::process_dir("kh-gate-sites");
        let out = Command::new(EXE)
            .args(["demo", "--prepare-only", "--patients", "300", "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

pub fn country(id: &str) -> &'static str {
    if id.starts_with("de-") { "DE" } else { "JP" }
}

/// A hub and agents on loopback, killed on drop.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub children: Vec<Child>,
    pub admin: String,
    pub tokens: BTreeMap<String, String>,
    pub http: reqwest::Client,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Net {
    pub async fn start(sites: &[(&str, &str)]) -> Net {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hub = Command::new(EXE)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir.path().join("hub"))
            .env("KAKEHASHI_ADMIN_PASSWORD", "admin-password")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("hub.log")).unwrap())
            .spawn()
            .unwrap();
        let mut net = Net {
            dir,
            url: format!("http://127.0.0.1:{port}"),
            children: vec![hub],
            admin: String::new(),
            tokens: BTreeMap::new(),
            http: reqwest::Client::new(),
        };
        let t = Instant::now();
        while !net
            .http
            .get(format!("{}/healthz", net.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(t.elapsed() < Duration::from_secs(20), "hub did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        net.admin = net.login("admin", "admin-password").await;
        for name in ["alice", "bob"] {
            net.admin_post(
                "/api/admin/users",
                json!({"name": name, "password": "password-1", "role": "researcher"}),
            )
            .await;
        }
        net.admin_post(
            "/api/admin/projects",
            json!({"id": "p1", "title": "Project one", "members": ["alice", "bob"]}),
        )
        .await;
        for name in ["alice", "bob"] {
            let t = net.login(name, "password-1").await;
            net.tokens.insert(name.into(), t);
        }
        for (id, policy) in sites {
            net.start_site(id, policy).await;
        }
        net.wait_online(sites.len()).await;
        net
    }

    pub async fn login(&self, name: &str, pw: &str) -> String {
        token_for(&self.http, &self.url, name, pw).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The agent configuration of site `id` over the synthetic demo site of that name.
    pub fn site_toml(&self, id: &str, policy: &str) -> PathBuf {
        self.site_toml_at(id, &sites_dir().join("sites").join(id), policy)
    }

    /// The agent configuration of site `id` over the site directory `site_dir` (several agents
    /// may share one: each has its own state, so its own noise secret and ledger).
    pub fn site_toml_at(&self, id: &str, site_dir: &Path, policy: &str) -> PathBuf {
        let adir = self.dir.path().join("agents").join(id);
        std::fs::create_dir_all(&adir).unwrap();
        let cfg = adir.join("site.toml");
        std::fs::write(
            &cfg,
            format!(
                "site_id = \"{id}\"\nhub = \"{}\"\ntoken_file = {:?}\nsite_dir = {:?}\nstate_dir = {:?}\npoll_seconds = 2\nmax_backoff_seconds = 1\nallow_insecure = true\n\n[disclosure]\n{policy}\n",
                self.url,
                adir.join("site.token").display().to_string(),
                site_dir.display().to_string(),
                adir.join("state").display().to_string()
            ),
        )
        .unwrap();
        cfg
    }

    /// Registers and starts the agent of the demo site `id`.
    pub async fn start_site(&mut self, id: &str, policy: &str) {
        let cfg = self.site_toml(id, policy);
        self.start_agent(id, cfg).await;
    }

    /// Registers and starts an agent `id` over the site directory `site_dir`.
    pub async fn start_site_at(&mut self, id: &str, site_dir: &Path, policy: &str) {
        let cfg = self.site_toml_at(id, site_dir, policy);
        self.start_agent(id, cfg).await;
    }

    async fn start_agent(&mut self, id: &str, cfg: PathBuf) {
        let pk = public_key_of(&cfg);
        let reg = self
            .admin_post(
                "/api/admin/sites",
                json!({"id": id, "name": id, "country": country(id), "public_key": pk}),
            )
            .await;
        std::fs::write(
            cfg.with_file_name("site.token"),
            reg["token"].as_str().unwrap(),
        )
        .unwrap();
        let log = std::fs::File::create(cfg.with_file_name("agent.log")).unwrap();
        let c = Command::new(EXE)
            .args(["site", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.push(c);
    }

    pub async fn wait_online(&self, n: usize) {
        let t = Instant::now();
        loop {
            let sites: Vec<Value> = self
                .http
                .get(format!("{}/api/sites", self.url))
                .bearer_auth(&self.admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if sites.iter().filter(|s| s["status"] == "online").count() >= n {
                return;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "sites: {sites:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A second project of the same researchers (`p1` is made by [`Net::start`]).
    pub async fn add_project(&self, id: &str, members: &[&str]) {
        self.admin_post(
            "/api/admin/projects",
            json!({"id": id, "title": id, "members": members}),
        )
        .await;
    }

    /// Creates a task of project `p1`; returns its id.
    pub async fn create(&self, who: &str, spec: Value) -> String {
        self.create_in("p1", who, spec).await
    }

    /// Creates a task of `project`; returns its id.
    pub async fn create_in(&self, project: &str, who: &str, spec: Value) -> String {
        let r = self
            .http
            .post(format!("{}/api/tasks", self.url))
            .bearer_auth(&self.tokens[who])
            .json(&json!({"project": project, "spec": spec, "deadline_seconds": 90}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    pub async fn result(&self, who: &str, id: &str) -> Value {
        let v: Value = self
            .http
            .get(format!("{}/api/tasks/{id}?wait=95", self.url))
            .bearer_auth(&self.tokens[who])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["complete"], true, "{v}");
        v
    }

    /// Asks a question in project `p1` and waits for every site's answer.
    pub async fn ask(&self, who: &str, spec: Value) -> Value {
        let id = self.create(who, spec).await;
        self.result(who, &id).await
    }

    /// Asks a question in `project` and waits for every site's answer.
    pub async fn ask_in(&self, project: &str, who: &str, spec: Value) -> Value {
        let id = self.create_in(project, who, spec).await;
        self.result(who, &id).await
    }
}

/// One site's part of a task's answer, as the researcher reads it from the hub.
pub fn site<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap_or_else(|| panic!("{id} not in {m}"))
}

/// Signs in to the hub at `url` (the API hands back a session secret, used as a bearer token)
/// and makes an API token.
pub async fn token_for(http: &reqwest::Client, url: &str, name: &str, pw: &str) -> String {
    let r = http
        .post(format!("{url}/api/login"))
        .json(&json!({"name": name, "password": pw}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "login {name}: {}", r.status());
    let session: Value = r.json().await.unwrap();
    let session = session["session"].as_str().unwrap().to_owned();
    let t: Value = http
        .post(format!("{url}/api/tokens"))
        .bearer_auth(&session)
        .json(&json!({"label": "t"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["token"].as_str().unwrap().to_owned()
}

/// The public key of the agent configured by `cfg` (`kakehashi site --print-public-key`).
pub fn public_key_of(cfg: &Path) -> String {
    let out = Command::new(EXE)
        .args(["site", "--config"])
        .arg(cfg)
        .arg("--print-public-key")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
