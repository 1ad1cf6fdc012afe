//! Federation over real HTTP on loopback with real processes: a hub and site agents started
//! from the `kakehashi` binary, over synthetic sites made by `kakehashi demo --prepare-only`.

mod common;

use common::free_port;
use kakehashi_surveillance::per_patient::DEFAULT_MAX_WEEKS_PER_PATIENT;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const SITES: [(&str, &str); 4] = [
    ("de-berlin", "DE"),
    ("de-frankfurt", "DE"),
    ("jp-tokyo", "JP"),
    ("jp-osaka", "JP"),
];

/// The four synthetic sites, made once per test run and shared read-only by every test.
fn sites_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::process_dir("kh-fed-sites");
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

struct Net {
    dir: tempfile::TempDir,
    url: String,
    port: u16,
    hub: Option<Child>,
    agents: BTreeMap<String, Child>,
    admin: String,
    researcher: String,
    http: reqwest::Client,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.agents.values_mut().chain(self.hub.as_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Net {
    /// Starts a hub, registers the given sites (id, policy TOML) and starts their agents.
    async fn start(sites: &[(&str, &str)]) -> Net {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut net = Net {
            dir,
            url: format!("http://127.0.0.1:{port}"),
            port,
            hub: None,
            agents: BTreeMap::new(),
            admin: String::new(),
            researcher: String::new(),
            http: reqwest::Client::new(),
        };
        net.start_hub().await;
        net.admin = net.login_token("admin", "admin-password").await;
        for (name, role) in [("researcher", "researcher"), ("outsider", "researcher")] {
            net.admin_post(
                "/api/admin/users",
                json!({"name": name, "password": "password-1", "role": role}),
            )
            .await;
        }
        net.admin_post("/api/admin/users", json!({"name": "steward", "password": "password-1", "role": "steward", "site": "de-berlin"})).await;
        net.admin_post(
            "/api/admin/projects",
            json!({"id": "p1", "title": "Project one", "members": ["researcher"]}),
        )
        .await;
        net.admin_post(
            "/api/admin/projects",
            json!({"id": "p2", "title": "Project two", "members": ["researcher", "outsider"]}),
        )
        .await;
        net.researcher = net.login_token("researcher", "password-1").await;
        for (id, policy) in sites {
            net.register(id, policy).await;
            net.start_agent(id);
        }
        net.wait_online(sites.len()).await;
        net
    }

    fn hub_dir(&self) -> PathBuf {
        self.dir.path().join("hub")
    }

    fn agent_dir(&self, id: &str) -> PathBuf {
        self.dir.path().join("agents").join(id)
    }

    async fn start_hub(&mut self) {
        let log = std::fs::File::create(
            self.dir
                .path()
                .join(format!("hub-{}.log", Instant::now().elapsed().as_nanos())),
        )
        .unwrap();
        let child = Command::new(EXE)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--data-dir",
            ])
            .arg(self.hub_dir())
            .env("KAKEHASHI_ADMIN_PASSWORD", "admin-password")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.hub = Some(child);
        let t = Instant::now();
        while !self
            .http
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(t.elapsed() < Duration::from_secs(20), "hub did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill_hub(&mut self) {
        let mut c = self.hub.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    async fn login_token(&self, name: &str, pw: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/login", self.url))
            .json(&json!({"name": name, "password": pw}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "login {name}: {}", r.status());
        let session: Value = r.json().await.unwrap();
        let session = session["session"].as_str().unwrap().to_owned();
        let t: Value = self
            .http
            .post(format!("{}/api/tokens", self.url))
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

    async fn admin_post(&self, path: &str, body: Value) -> String {
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
        text
    }

    async fn register(&self, id: &str, policy: &str) {
        let adir = self.agent_dir(id);
        std::fs::create_dir_all(&adir).unwrap();
        let cfg = adir.join("site.toml");
        std::fs::write(
            &cfg,
            format!(
                "site_id = \"{id}\"\nhub = \"{}\"\ntoken_file = {:?}\nsite_dir = {:?}\nstate_dir = {:?}\npoll_seconds = 2\nmax_backoff_seconds = 1\nallow_insecure = true\n\n[disclosure]\n{policy}\n",
                self.url,
                adir.join("site.token").display().to_string(),
                sites_dir().join("sites").join(id).display().to_string(),
                adir.join("state").display().to_string()
            ),
        )
        .unwrap();
        let out = Command::new(EXE)
            .args(["site", "--config"])
            .arg(&cfg)
            .arg("--print-public-key")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pk = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let country = SITES.iter().find(|s| s.0 == id).unwrap().1;
        let reg: Value = serde_json::from_str(
            &self
                .admin_post(
                    "/api/admin/sites",
                    json!({"id": id, "name": id, "country": country, "public_key": pk}),
                )
                .await,
        )
        .unwrap();
        std::fs::write(adir.join("site.token"), reg["token"].as_str().unwrap()).unwrap();
    }

    fn start_agent(&mut self, id: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.agent_dir(id).join("agent.log"))
            .unwrap();
        let c = Command::new(EXE)
            .args(["site", "--config"])
            .arg(self.agent_dir(id).join("site.toml"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.agents.insert(id.to_owned(), c);
    }

    fn kill_agent(&mut self, id: &str) {
        let mut c = self.agents.remove(id).unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    async fn wait_online(&self, n: usize) {
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
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "sites did not come online: {sites:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn create(&self, project: &str, spec: Value, deadline: u64) -> String {
        let r = self
            .http
            .post(format!("{}/api/tasks", self.url))
            .bearer_auth(&self.researcher)
            .json(&json!({"project": project, "spec": spec, "deadline_seconds": deadline}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    async fn result(&self, id: &str, wait: u64) -> Value {
        self.http
            .get(format!("{}/api/tasks/{id}?wait={wait}", self.url))
            .bearer_auth(&self.researcher)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn ask(&self, project: &str, spec: Value, deadline: u64) -> Value {
        let id = self.create(project, spec, deadline).await;
        self.result(&id, deadline + 5).await
    }
}

const OPEN: &str = "projects = [\"*\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\"";

fn series_spec() -> Value {
    json!({"type": "surveillance_series", "definition": "sari-icosari", "by": ["age"]})
}

fn site_of<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap()
}

/// Exact local series of a site, through the command a steward would run, counted per patient
/// as the site releases it.
fn local_series(id: &str) -> BTreeMap<(String, String), u64> {
    let out = Command::new(EXE)
        .args([
            "surveillance",
            "series",
            "--definition",
            "sari-icosari",
            "--by",
            "age",
            "--format",
            "csv",
            "--max-weeks-per-patient",
            &DEFAULT_MAX_WEEKS_PER_PATIENT.to_string(),
            "--site-dir",
        ])
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (wi, ai, ci) = (
        header.iter().position(|h| *h == "week").unwrap(),
        header.iter().position(|h| *h == "age_group").unwrap(),
        header.iter().position(|h| *h == "cases").unwrap(),
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[wi].to_owned(), f[ai].to_owned()), f[ci].parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_noise_per_site_and_total_counts_equal_the_exact_local_counts() {
    let sites: Vec<(&str, &str)> = SITES.iter().map(|(id, _)| (*id, OPEN)).collect();
    let net = Net::start(&sites).await;
    let m = net.ask("p1", series_spec(), 60).await;
    assert_eq!(m["complete"], true, "{m}");
    let mut total: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (id, _) in SITES {
        let s = site_of(&m, id);
        assert_eq!(s["state"], "answered", "{s}");
        let table = &s["table"];
        let cases = table["measures"]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x == "cases")
            .unwrap();
        let got: BTreeMap<(String, String), u64> = table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    (
                        r["key"][0].as_str().unwrap().to_owned(),
                        r["key"][1].as_str().unwrap().to_owned(),
                    ),
                    r["values"][cases].as_u64().unwrap(),
                )
            })
            .collect();
        let want = local_series(id);
        assert!(want.values().sum::<u64>() > 0, "{id} has SARI cases");
        // the declared grid: the "unknown" age band is released for every week, found or not
        let got: BTreeMap<(String, String), u64> = got
            .into_iter()
            .filter(|(k, v)| want.contains_key(k) || (k.1 != "unknown" || *v != 0))
            .collect();
        let differing: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .take(5)
            .collect();
        assert!(
            got.len() == want.len() && differing.is_empty(),
            "{id}: released series differs from the local series at {differing:?} ({} vs {} rows)",
            got.len(),
            want.len()
        );
        for (k, v) in want {
            *total.entry(k).or_default() += v;
        }
    }
    let pooled = &m["total"];
    let cases = pooled["measures"]
        .as_array()
        .unwrap()
        .iter()
        .position(|x| x == "cases")
        .unwrap();
    for r in pooled["rows"].as_array().unwrap() {
        let k = (
            r["key"][0].as_str().unwrap().to_owned(),
            r["key"][1].as_str().unwrap().to_owned(),
        );
        assert_eq!(
            r["values"][cases]["sum"].as_u64().unwrap(),
            total.get(&k).copied().unwrap_or(0),
            "total at {k:?}"
        );
    }
    // Countries pool their own sites only.
    assert_eq!(m["countries"]["DE"]["sites"], 2);
    assert_eq!(m["countries"]["JP"]["sites"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_site_is_late_or_offline_others_answer_and_it_is_used_again_when_back() {
    let sites = [("de-berlin", OPEN), ("jp-tokyo", OPEN), ("jp-osaka", OPEN)];
    let mut net = Net::start(&sites).await;
    net.kill_agent("jp-osaka");
    let t = Instant::now();
    let m = net.ask("p1", series_spec(), 4).await;
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(9),
        "the answer came at the deadline, not later: {took:?}"
    );
    assert_eq!(m["complete"], true);
    assert_eq!(site_of(&m, "de-berlin")["state"], "answered");
    assert_eq!(site_of(&m, "jp-tokyo")["state"], "answered");
    let osaka = site_of(&m, "jp-osaka");
    assert!(
        osaka["state"] == "late" || osaka["state"] == "offline",
        "{osaka}"
    );
    assert!(osaka["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(
        m["total"]["sites"], 2,
        "the missing site is not silently counted"
    );
    net.start_agent("jp-osaka");
    net.wait_online(3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = net.ask("p1", series_spec(), 20).await;
    for (id, _) in sites {
        assert_eq!(site_of(&m, id)["state"], "answered", "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restart_loses_no_queued_task_and_no_stored_result() {
    let sites = [("de-berlin", OPEN), ("jp-tokyo", OPEN)];
    let mut net = Net::start(&sites).await;
    let done = net.ask("p1", series_spec(), 30).await;
    assert_eq!(done["complete"], true);
    // Stop the sites, queue a task, kill the hub hard, restart it, then bring the sites back.
    net.kill_agent("de-berlin");
    net.kill_agent("jp-tokyo");
    let queued = net.create("p1", series_spec(), 120).await;
    net.kill_hub();
    net.start_hub().await;
    let before = net.result(done["task"]["id"].as_str().unwrap(), 0).await;
    assert_eq!(
        before["sites"], done["sites"],
        "stored results survive the restart"
    );
    net.start_agent("de-berlin");
    net.start_agent("jp-tokyo");
    let t = Instant::now();
    loop {
        let m = net.result(&queued, 5).await;
        if m["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "answered")
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "queued task never answered: {m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_refuses_a_project_its_policy_does_not_allow() {
    let sites = [("de-berlin", "projects = [\"p2\"]"), ("jp-tokyo", OPEN)];
    let net = Net::start(&sites).await;
    let m = net.ask("p1", series_spec(), 20).await;
    let berlin = site_of(&m, "de-berlin");
    assert_eq!(berlin["state"], "refused", "{berlin}");
    assert!(
        berlin["reason"]
            .as_str()
            .unwrap()
            .contains("does not answer project p1"),
        "{berlin}"
    );
    assert!(berlin["table"].is_null(), "a refusal carries no data");
    assert_eq!(site_of(&m, "jp-tokyo")["state"], "answered");
    // The refusal is in the site's audit log, which verifies.
    let out = Command::new(EXE)
        .args(["audit", "verify", "--site-dir", "unused", "--state-dir"])
        .arg(net.agent_dir("de-berlin").join("state"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = std::fs::read_to_string(
        net.agent_dir("de-berlin")
            .join("state")
            .join("audit")
            .join("audit.log"),
    )
    .unwrap();
    assert!(log.contains("project_not_allowed"), "{log}");
}

/// Every route against every role: 401 without a valid token, 403 for a role that may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_checks_the_callers_role() {
    let net = Net::start(&[]).await;
    net.admin_post("/api/admin/users", json!({"name": "steward2", "password": "password-1", "role": "steward", "site": "de-berlin"})).await;
    let steward = net.login_token("steward2", "password-1").await;
    let roles: [(&str, Option<&str>); 5] = [
        ("none", None),
        ("bogus", Some("kh_not-a-token")),
        ("researcher", Some(&net.researcher)),
        ("steward", Some(&steward)),
        ("admin", Some(&net.admin)),
    ];
    let routes: Vec<Value> = {
        let doc: Value = net
            .http
            .get(format!("{}/api/openapi.json", net.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, ops)| {
                ops.as_object().unwrap().iter().map(
                    move |(m, op)| json!({"path": p, "method": m, "role": op["x-kakehashi-role"]}),
                )
            })
            .collect()
    };
    assert!(routes.len() >= 19, "{routes:?}");
    for r in &routes {
        let (path, method, need) = (
            r["path"]
                .as_str()
                .unwrap()
                .replace("{id}", "00000000-0000-0000-0000-000000000000"),
            r["method"].as_str().unwrap(),
            r["role"].as_str().unwrap(),
        );
        for (role, token) in &roles {
            let mut req = match method {
                "get" => net.http.get(format!("{}{path}", net.url)),
                "patch" => net
                    .http
                    .patch(format!("{}{path}", net.url))
                    .json(&json!({})),
                "put" => net.http.put(format!("{}{path}", net.url)).json(&json!({})),
                _ => net.http.post(format!("{}{path}", net.url)).json(&json!({})),
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let status = req.send().await.unwrap().status().as_u16();
            let allowed = match (need, *role) {
                ("public", _) => true,
                // no user's token opens the metrics; this network sets no metrics token (404)
                ("metrics_token", _) => {
                    assert_eq!(status, 404, "{method} {path} as {role}");
                    continue;
                }
                // the REDCap API takes its study token in the form body, never a bearer
                ("study_token", _) => {
                    assert_eq!(status, 403, "{method} {path} as {role}");
                    continue;
                }
                (_, "none" | "bogus") => false,
                ("user", _) => true,
                ("site", _) => false,
                ("researcher", r) => r == "researcher" || r == "admin",
                ("steward", r) => r == "steward" || r == "admin",
                ("admin", r) => r == "admin",
                _ => unreachable!("role {need}"),
            };
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} as {role}: {status}, expected access"
                );
            } else if matches!(*role, "none" | "bogus") || need == "site" {
                assert_eq!(status, 401, "{method} {path} as {role}");
            } else {
                assert_eq!(status, 403, "{method} {path} as {role}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_an_edited_entry_in_a_real_sites_log() {
    let net = Net::start(&[("jp-osaka", OPEN)]).await;
    net.ask("p1", series_spec(), 20).await;
    let state = net.agent_dir("jp-osaka").join("state");
    let verify = || {
        Command::new(EXE)
            .args(["audit", "verify", "--site-dir", "x", "--state-dir"])
            .arg(&state)
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let hub = Command::new(EXE)
        .args(["audit", "verify", "--hub-dir"])
        .arg(net.hub_dir())
        .output()
        .unwrap();
    assert!(
        hub.status.success(),
        "{}",
        String::from_utf8_lossy(&hub.stdout)
    );
    let log = state.join("audit").join("audit.log");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("\"answered\"", "\"refused\"", 1)).unwrap();
    let bad = verify();
    assert_eq!(bad.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("changed after it was written"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
}

/// The antibiogram question every antibiogram test asks.
fn antibiogram_spec() -> Value {
    json!({"guideline": "EUCAST 2025", "organisms": ["Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus"], "antimicrobials": ["Ciprofloxacin", "Meropenem", "Cefotaxime", "Oxacillin", "Gentamicin"]})
}

/// Exact local antibiogram cells of a site, `(organism, drug) → [s, i, r, sdd, ni]`, through
/// the command a steward would run.
fn local_antibiogram(id: &str) -> BTreeMap<(String, String), [u64; 5]> {
    let spec = sites_dir().join("antibiogram-spec.json");
    std::fs::write(&spec, antibiogram_spec().to_string()).unwrap();
    let out = Command::new(EXE)
        .args(["amr", "antibiogram", "--format", "json", "--spec"])
        .arg(&spec)
        .arg("--site-dir")
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["counts"][0]["counts"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (
                (
                    c["organism"].as_str().unwrap().to_owned(),
                    c["antimicrobial"].as_str().unwrap().to_owned(),
                ),
                [n("s"), n("i"), n("r"), n("sdd"), n("ni")],
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn antibiograms_pool_the_sites_exact_counts_per_country_and_compare_de_with_jp() {
    let sites: Vec<(&str, &str)> = SITES.iter().map(|(id, _)| (*id, OPEN)).collect();
    let net = Net::start(&sites).await;
    let id = net
        .create(
            "p1",
            json!({"type": "antibiogram", "spec": antibiogram_spec()}),
            60,
        )
        .await;
    let res: Value = net
        .http
        .get(format!("{}/api/tasks/{id}/antibiogram?wait=65", net.url))
        .bearer_auth(&net.researcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["complete"], true, "{res}");
    let mut pooled: BTreeMap<(String, String, String), [u64; 5]> = BTreeMap::new();
    for (site, country) in SITES {
        let line = res["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["site"] == site)
            .unwrap();
        assert_eq!(line["state"], "answered", "{line}");
        let local = local_antibiogram(site);
        assert!(
            local.values().map(|v| v.iter().sum::<u64>()).sum::<u64>() > 0,
            "{site} has isolates"
        );
        // the hub's per-site statistics are the site's exact local counts (noise off)
        for ((org, drug), want) in &local {
            let got = res["report"]["sites"].as_array().unwrap().iter().find(|c| {
                c["group"] == site && c["organism"] == *org && c["antimicrobial"] == *drug
            });
            let got = got.unwrap_or_else(|| panic!("{site} {org} {drug} missing"));
            let have: Vec<u64> = ["s", "i", "r", "sdd", "ni"]
                .iter()
                .map(|k| got[*k]["lo"].as_u64().unwrap())
                .collect();
            assert_eq!(have, want.to_vec(), "{site} {org} {drug}");
            let p = pooled
                .entry((country.to_owned(), org.clone(), drug.clone()))
                .or_default();
            for (a, b) in p.iter_mut().zip(want) {
                *a += b;
            }
        }
    }
    // per country: the sum of its sites; %R = R / (S + I + R + SDD)
    for ((country, org, drug), v) in &pooled {
        let c = res["report"]["countries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["group"] == *country && c["organism"] == *org && c["antimicrobial"] == *drug
            })
            .unwrap();
        assert_eq!(
            c["r"]["hi"].as_u64().unwrap(),
            v[2],
            "{country} {org} {drug}"
        );
        let n = v[0] + v[1] + v[2] + v[3];
        assert_eq!(c["interpreted"]["lo"].as_u64().unwrap(), n);
        if n > 0 {
            let want = v[2] as f64 / n as f64;
            assert!(
                (c["resistant"]["value"].as_f64().unwrap() - want).abs() < 1e-12,
                "{country} {org} {drug}"
            );
        }
    }
    // Germany against Japan for every pair both countries have
    let interpreted = |k: &(String, String, String)| {
        pooled
            .get(k)
            .is_some_and(|v| v[..4].iter().sum::<u64>() > 0)
    };
    let both = pooled
        .keys()
        .filter(|(c, o, d)| {
            c == "DE"
                && interpreted(&(c.clone(), o.clone(), d.clone()))
                && interpreted(&("JP".into(), o.clone(), d.clone()))
        })
        .count();
    assert!(both > 0);
    assert_eq!(res["report"]["comparison"].as_array().unwrap().len(), both);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn antibiogram_counts_below_a_sites_minimum_leave_as_ranges_and_bad_specs_are_refused_by_field()
 {
    let strict = "projects = [\"*\"]\nmin_count = 5\nrounding = 1\nnoise = \"off\"";
    let net = Net::start(&[("de-berlin", strict), ("de-frankfurt", OPEN)]).await;
    let id = net
        .create(
            "p1",
            json!({"type": "antibiogram", "spec": antibiogram_spec()}),
            60,
        )
        .await;
    let res: Value = net
        .http
        .get(format!("{}/api/tasks/{id}/antibiogram?wait=65", net.url))
        .bearer_auth(&net.researcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let local = local_antibiogram("de-berlin");
    let mut suppressed = 0;
    for ((org, drug), want) in &local {
        let c = res["report"]["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["group"] == "de-berlin" && c["organism"] == *org && c["antimicrobial"] == *drug
            })
            .unwrap();
        for (k, v) in ["s", "i", "r", "sdd", "ni"].iter().zip(want) {
            let (lo, hi) = (c[*k]["lo"].as_u64().unwrap(), c[*k]["hi"].as_u64().unwrap());
            if *v < 5 {
                assert_eq!(
                    (lo, hi),
                    (0, 4),
                    "{org} {drug} {k}: a count below 5 leaves as [0, 4]"
                );
                suppressed += 1;
            } else {
                assert_eq!((lo, hi), (*v, *v), "{org} {drug} {k}");
            }
        }
    }
    assert!(suppressed > 0, "the test data has small cells");
    // a range, never a made-up share, where a count behind it is unknown
    let de = res["report"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["group"] == "DE"
                && c["sites_suppressed"].as_u64() > Some(0)
                && !c["resistant"].is_null()
        })
        .unwrap();
    assert!(
        de["resistant"]["value"].is_null()
            && de["resistant"]["min"].as_f64() <= de["resistant"]["max"].as_f64(),
        "{de}"
    );
    // unknown names are refused at the hub, naming the field, before any site is asked
    let r = net.http.post(format!("{}/api/tasks", net.url)).bearer_auth(&net.researcher).json(&json!({"project": "p1", "spec": {"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": ["E. coli", "Unobtainium"], "antimicrobials": ["CIP"]}}})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let msg: Value = r.json().await.unwrap();
    assert!(
        msg["message"].as_str().unwrap().contains("organisms[1]"),
        "{msg}"
    );
    // an open antibiogram (no drugs listed) is refused there too: its rows would tell which
    // drugs a site tests
    let r = net.http.post(format!("{}/api/tasks", net.url)).bearer_auth(&net.researcher).json(&json!({"project": "p1", "spec": {"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": ["E. coli"]}}})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let msg: Value = r.json().await.unwrap();
    assert!(
        msg["message"]
            .as_str()
            .unwrap()
            .starts_with("spec.spec.antimicrobials: "),
        "{msg}"
    );
}

/// Exact local weekly tests and positives per pathogen and the patient count of a site, through
/// the command a steward would run: `week → [(tests, positives); pathogens]`.
fn local_positivity(id: &str) -> (BTreeMap<String, Vec<(u64, u64)>>, u64) {
    let out = Command::new(EXE)
        .args([
            "surveillance",
            "series",
            "--definition",
            "sari-icosari",
            "--by",
            "",
            "--format",
            "json",
            "--max-weeks-per-patient",
            &DEFAULT_MAX_WEEKS_PER_PATIENT.to_string(),
            "--site-dir",
        ])
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let weeks = v["series"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["week"].as_str().unwrap().to_owned(),
                r["positivity"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p["tests"].as_u64().unwrap(),
                            p["positives"].as_u64().unwrap(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    (weeks, v["population"].as_u64().unwrap())
}

/// The largest error the declared noise of one released count can have, except with
/// probability `p`: discrete Laplace with `q = e^(−ε / sensitivity)` has `P[|X| ≥ k] = 2q^k / (1 + q)`.
fn noise_bound(disclosure: &Value, p: f64) -> u64 {
    let Some(eps) = disclosure["epsilon"].as_f64() else {
        return 0;
    };
    let q = (-eps / disclosure["sensitivity"].as_f64().unwrap()).exp();
    (1..).find(|k| 2.0 * q.powi(*k) / (1.0 + q) < p).unwrap() as u64 - 1
}

/// Positivity through the network: German sites exact, Japanese sites with noise, a minimum of
/// 10 and rounding to 10 (demo-like). Each country's pooled tests and positives per pathogen
/// and week are the sum of its sites' own exact series (computed from their stores), exactly
/// for Germany and within the declared noise for Japan; the series leave without rounding or
/// withholding (the series rule); the denominators of the rates are the sites' patient counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positivity_per_country_pools_the_sites_exact_series_within_the_declared_noise() {
    let noisy = "projects = [\"*\"]\nmin_count = 10\nrounding = 10\nepsilon = 100\nproject_budget = 500.0\nresearcher_budget = 500.0";
    let sites = [
        ("de-berlin", OPEN),
        ("de-frankfurt", OPEN),
        ("jp-tokyo", noisy),
        ("jp-osaka", noisy),
    ];
    let net = Net::start(&sites).await;
    let id = net
        .create(
            "p1",
            json!({"type": "surveillance_series", "definition": "sari-icosari"}),
            60,
        )
        .await;
    let res: Value = net
        .http
        .get(format!("{}/api/tasks/{id}/surveillance?wait=65", net.url))
        .bearer_auth(&net.researcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["complete"], true, "{res}");
    assert_eq!(res["pathogens"], json!(["influenza", "rsv", "sars-cov-2"]));
    let merged = net.result(&id, 0).await;
    // truth per country and week, and the noise bound per site
    let mut truth: BTreeMap<(String, String), Vec<(u64, u64)>> = BTreeMap::new();
    let mut patients: BTreeMap<String, u64> = BTreeMap::new();
    let mut bound: BTreeMap<String, u64> = BTreeMap::new();
    for (site, country) in SITES {
        let line = res["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["site"] == site)
            .unwrap();
        assert_eq!(line["state"], "answered", "{line}");
        let d = &line["disclosure"];
        let (weeks, pop) = local_positivity(site);
        assert!(
            weeks.values().flatten().map(|t| t.0).sum::<u64>() > 0,
            "{site} has tests"
        );
        // the series rule: noise only, nothing rounded or withheld, each released value within
        // the declared noise of the site's exact value
        let k = noise_bound(d, 1e-7);
        assert_eq!(
            (d["min_count"].as_u64(), d["rounding"].as_u64()),
            (Some(0), Some(1)),
            "{site}: {d}"
        );
        let table = &site_of(&merged, site)["table"];
        let m: Vec<&str> = table["measures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let mut off_grid = 0;
        for r in table["rows"].as_array().unwrap() {
            let week = r["key"][0].as_str().unwrap();
            for (pi, p) in ["influenza", "rsv", "sars-cov-2"].iter().enumerate() {
                let want = weeks[week][pi];
                for (measure, want) in [
                    (format!("{p}_tests"), want.0),
                    (format!("{p}_positives"), want.1),
                ] {
                    let got = r["values"][m.iter().position(|x| *x == measure).unwrap()]
                        .as_u64()
                        .unwrap_or_else(|| panic!("{site} {week} {measure} withheld: {r}"));
                    assert!(
                        got.abs_diff(want) <= k,
                        "{site} {week} {measure}: released {got}, exact {want}, noise bound {k}"
                    );
                    off_grid += usize::from(got % 10 != 0);
                }
            }
        }
        assert!(off_grid > 0, "{site}: values are not rounded to 10");
        *bound.entry(country.to_owned()).or_default() += k;
        *patients.entry(country.to_owned()).or_default() += pop;
        for (w, v) in weeks {
            let t = truth
                .entry((country.to_owned(), w))
                .or_insert_with(|| vec![(0, 0); 3]);
            for (a, b) in t.iter_mut().zip(v) {
                a.0 += b.0;
                a.1 += b.1;
            }
        }
    }
    let mut checked = 0;
    for c in res["countries"].as_array().unwrap() {
        let country = c["country"].as_str().unwrap().to_owned();
        let k = bound[&country];
        // the denominator: the sites' patient counts (the ordinary rule: rounded to 10 in Japan)
        let pop = c["population"]["lo"].as_u64().unwrap();
        let slack = if country == "JP" { k + 10 } else { 0 };
        assert!(
            pop.abs_diff(patients[&country]) <= slack,
            "{country} patients {pop} vs {}",
            patients[&country]
        );
        for w in c["weeks"].as_array().unwrap() {
            let week = w["week"].as_str().unwrap().to_owned();
            let want = &truth[&(country.clone(), week.clone())];
            for (pi, p) in w["pathogens"].as_array().unwrap().iter().enumerate() {
                let (t, pos) = (
                    p["tests"]["lo"].as_u64().unwrap(),
                    p["positives"]["lo"].as_u64().unwrap(),
                );
                assert_eq!(p["tests"]["lo"], p["tests"]["hi"], "nothing withheld");
                assert!(
                    t.abs_diff(want[pi].0) <= k && pos.abs_diff(want[pi].1) <= k,
                    "{country} {week} {pi}: pooled {t}/{pos}, exact {:?}, bound {k}",
                    want[pi]
                );
                if country == "DE" && want[pi].0 > 0 {
                    let share = p["positivity"]["value"].as_f64().unwrap();
                    assert!((share - want[pi].1 as f64 / want[pi].0 as f64).abs() < 1e-12);
                    assert!(
                        p["positivity"]["ci_low"].as_f64().unwrap() <= share
                            && share <= p["positivity"]["ci_high"].as_f64().unwrap()
                    );
                }
                checked += 1;
            }
            if let Some(rate) = w["rate"].as_f64() {
                assert!(
                    (rate - w["cases"]["lo"].as_f64().unwrap() * 100_000.0 / pop as f64).abs()
                        < 1e-9
                );
            }
        }
    }
    assert!(checked > 100, "{checked} pooled cells checked");
    assert_eq!(
        res["countries"].as_array().unwrap().len(),
        2,
        "{}",
        res["withheld"]
    );
}

/// Bad questions are refused at the hub with the field named, before any site is asked: an
/// unknown field, another schema version, 10,000 codes, a week in the far future, a negative
/// count where a number is due. No task is stored, no site receives one, no budget is spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_are_refused_by_field_and_reach_no_site() {
    let noisy =
        "projects = [\"*\"]\nmin_count = 5\nrounding = 5\nepsilon = 1.0\nproject_budget = 2.0";
    let net = Net::start(&[("de-berlin", noisy)]).await;
    let codes: Vec<Value> = (0..10_000)
        .map(|i| json!({"code": format!("A{:02}.{}", i % 100, i / 100), "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "display": "x"}))
        .collect();
    let ccdl = |term_codes: Value| json!({"version": "2", "inclusionCriteria": [[{"context": {"code": "Diagnose", "system": "fdpg.mii.cds", "display": "D"}, "termCodes": term_codes}]]});
    let cases = [
        (
            json!({"type": "surveillance_series", "definition": "sari-who", "colour": "red"}),
            "spec.colour:",
        ),
        (
            json!({"type": "cohort", "schema_version": 7, "ccdl": ccdl(json!(codes[..1]))}),
            "unsupported task version 7 (this hub supports 1)",
        ),
        (
            json!({"type": "cohort", "ccdl": ccdl(json!(codes))}),
            "10000 entries; a task may list at most 1000",
        ),
        (
            json!({"type": "surveillance_series", "definition": "sari-who", "from": "2024-W40", "to": "9999-W10"}),
            "spec.to: week 9999-W10 is outside",
        ),
        (
            json!({"type": "antibiogram", "schema_version": -1, "spec": {"guideline": "EUCAST 2025"}}),
            "spec.schema_version: -1 is not a version number",
        ),
    ];
    for (spec, want) in cases {
        let r = net
            .http
            .post(format!("{}/api/tasks", net.url))
            .bearer_auth(&net.researcher)
            .json(&json!({"project": "p1", "spec": spec}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{spec}");
        let msg: Value = r.json().await.unwrap();
        assert!(msg["message"].as_str().unwrap().contains(want), "{msg}");
    }
    let tasks: Value = net
        .http
        .get(format!("{}/api/tasks", net.url))
        .bearer_auth(&net.researcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks, json!([]), "no bad task is stored");
    let log = std::fs::read_to_string(
        net.agent_dir("de-berlin")
            .join("state")
            .join("audit")
            .join("audit.log"),
    )
    .unwrap_or_default();
    assert!(
        !log.contains("task_received"),
        "no bad task reached the site: {log}"
    );
}
