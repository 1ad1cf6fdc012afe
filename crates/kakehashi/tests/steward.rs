//! The site steward console over real HTTP on loopback, with real processes: a hub and the
//! de-berlin agent (`kakehashi hub`, `kakehashi site`) over a site loaded from the MII KDS test
//! bundles, in manual-approval mode. The steward signs in, sees the task wait, approves or
//! refuses it through the console's forms (with the CSRF token), and the console shows the
//! answer exactly as the hub received it.

mod common;

use common::free_port;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const PASSWORD: &str = "steward passphrase 1";

/// A site loaded once per run from the MII KDS example bundles (data we did not write).
fn site_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::process_dir("kh-steward-site");
        let site = dir.join("site");
        if site.join("CURRENT").exists() {
            return site;
        }
        let res = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/fhir-samples/mii-kds-testdata/resources");
        let bundles: Vec<PathBuf> = std::fs::read_dir(&res)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("Bundle-") && n.ends_with(".json"))
            })
            .collect();
        assert!(!bundles.is_empty(), "no bundles in {}", res.display());
        let out = Command::new(EXE)
            .args(["ingest", "--site-dir"])
            .arg(&site)
            .args(&bundles)
            .output()
            .unwrap();
        assert!(
            site.join("CURRENT").exists(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        site
    })
}

/// The argon2 hash of a password, made by `kakehashi site --hash-password`.
fn hash_password(pw: &str) -> String {
    let mut c = Command::new(EXE)
        .args(["site", "--config", "unused.toml", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "{pw}").unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Net {
    dir: tempfile::TempDir,
    url: String,
    console: String,
    children: Vec<Child>,
    admin: String,
    researcher: String,
    http: reqwest::Client,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Net {
    /// A hub, a researcher in project p1, and de-berlin's agent with its console.
    async fn start(approval: &str) -> Net {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let (port, cport) = (free_port(), free_port());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut net = Net {
            url: format!("http://127.0.0.1:{port}"),
            console: format!("http://127.0.0.1:{cport}"),
            children: Vec::new(),
            admin: String::new(),
            researcher: String::new(),
            http,
            dir,
        };
        let hub = Command::new(EXE)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(net.dir.path().join("hub"))
            .env("KAKEHASHI_ADMIN_PASSWORD", "admin-password")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(net.dir.path().join("hub.log")).unwrap())
            .spawn()
            .unwrap();
        net.children.push(hub);
        net.wait_up(&format!("{}/healthz", net.url)).await;
        net.admin = net.token("admin", "admin-password").await;
        net.admin_post(
            "/api/admin/users",
            json!({"name": "researcher", "password": "password-1", "role": "researcher"}),
        )
        .await;
        net.admin_post(
            "/api/admin/projects",
            json!({"id": "p1", "title": "Project one", "members": ["researcher"]}),
        )
        .await;
        net.researcher = net.token("researcher", "password-1").await;

        let adir = net.dir.path().join("agent");
        std::fs::create_dir_all(&adir).unwrap();
        std::fs::write(adir.join("steward.hash"), hash_password(PASSWORD)).unwrap();
        let cfg = adir.join("site.toml");
        std::fs::write(
            &cfg,
            format!(
                "site_id = \"de-berlin\"\nhub = \"{}\"\ntoken_file = {:?}\nsite_dir = {:?}\nstate_dir = {:?}\npoll_seconds = 2\nmax_backoff_seconds = 1\nallow_insecure = true\n\n[disclosure]\nprojects = [\"*\"]\n\n[console]\nlisten = \"127.0.0.1:{cport}\"\npassword_hash_file = {:?}\napproval = \"{approval}\"\n",
                net.url,
                adir.join("site.token").display().to_string(),
                site_dir().display().to_string(),
                adir.join("state").display().to_string(),
                adir.join("steward.hash").display().to_string(),
            ),
        )
        .unwrap();
        let pk = common::net::public_key_of(&cfg);
        let reg: Value = serde_json::from_str(
            &net.admin_post(
                "/api/admin/sites",
                json!({"id": "de-berlin", "name": "de-berlin", "country": "DE", "public_key": pk}),
            )
            .await,
        )
        .unwrap();
        std::fs::write(adir.join("site.token"), reg["token"].as_str().unwrap()).unwrap();
        let agent = Command::new(EXE)
            .args(["site", "--config"])
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(adir.join("agent.log")).unwrap())
            .spawn()
            .unwrap();
        net.children.push(agent);
        net.wait_up(&format!("{}/login", net.console)).await;
        net
    }

    async fn wait_up(&self, url: &str) {
        let t = Instant::now();
        while !self
            .http
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "{url} did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn token(&self, name: &str, pw: &str) -> String {
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

    /// A cohort task (the shipped SARI example query) for de-berlin; returns its id.
    async fn ask(&self, deadline: u64) -> String {
        let ccdl: Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let r = self
            .http
            .post(format!("{}/api/tasks", self.url))
            .bearer_auth(&self.researcher)
            .json(&json!({"project": "p1", "spec": {"type": "cohort", "ccdl": ccdl}, "deadline_seconds": deadline}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// de-berlin's part of the hub's merged result (`GET /api/tasks/{id}`).
    async fn site_state(&self, id: &str, wait: u64) -> Value {
        let m: Value = self
            .http
            .get(format!("{}/api/tasks/{id}?wait={wait}", self.url))
            .bearer_auth(&self.researcher)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        m["sites"][0].clone()
    }

    /// Waits until the hub shows de-berlin in `state`.
    async fn until_state(&self, id: &str, state: &str) -> Value {
        let t = Instant::now();
        loop {
            let s = self.site_state(id, 0).await;
            if s["state"] == state {
                return s;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "never {state}: {s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs the steward in; returns the session cookie (`name=value`).
    async fn sign_in(&self) -> String {
        let r = self
            .http
            .get(format!("{}/login", self.console))
            .send()
            .await
            .unwrap();
        let pre = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let token = csrf_of(&r.text().await.unwrap());
        let r = self
            .post_form(
                "/login",
                &pre,
                &[
                    ("csrf", &token),
                    ("username", "steward"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("kh_console="))
            .expect("a session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        session.split(';').next().unwrap().to_owned()
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.console))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    async fn page(&self, path: &str, cookie: &str) -> String {
        let r = self.get(path, cookie).await;
        assert_eq!(r.status(), 200, "{path}");
        r.text().await.unwrap()
    }

    async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        pairs: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.console))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
            .send()
            .await
            .unwrap()
    }

    /// The answer body the hub stored for de-berlin, from its database.
    fn hub_body(&self, task: &str) -> String {
        let db =
            rusqlite::Connection::open(self.dir.path().join("hub").join("hub.sqlite")).unwrap();
        db.query_row(
            "SELECT body FROM answers WHERE task = ?1 AND site = 'de-berlin'",
            [task],
            |r| r.get(0),
        )
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_the_stewards_sign_in() {
    let net = Net::start("auto").await;
    // nothing without a session: pages redirect to the sign-in, forms are refused
    for path in [
        "/tasks",
        "/policy",
        "/ledger",
        "/released",
        "/released/x/body",
    ] {
        let r = net.get(path, "").await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/login", "{path}");
    }
    let r = net
        .post_form("/tasks/x/approve", "", &[("csrf", "x")])
        .await;
    assert_eq!(r.status(), 401);
    let r = net.get("/tasks", "kh_console=0123456789abcdef").await;
    assert_eq!(r.status(), 303, "a made-up session is no session");

    // a wrong password or user name is refused, with the message on the form and no session
    let r = net
        .http
        .get(format!("{}/login", net.console))
        .send()
        .await
        .unwrap();
    let pre = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_of(&r.text().await.unwrap());
    for (user, pw) in [("steward", "steward passphrase 2"), ("admin", PASSWORD)] {
        let r = net
            .post_form(
                "/login",
                &pre,
                &[("csrf", &token), ("username", user), ("password", pw)],
            )
            .await;
        assert_eq!(r.status(), 401, "{user}");
        assert!(
            !r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("kh_console="))
        );
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("User name or password is wrong")
        );
    }
    // the right password without the form's token (a cross-site post) is refused too
    let r = net
        .post_form(
            "/login",
            "",
            &[("username", "steward"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 403);

    let session = net.sign_in().await;
    let tasks = net.page("/tasks", &session).await;
    assert!(tasks.contains("Automatic approval"), "{tasks}");
    let policy = net.page("/policy?lang=de", &session).await;
    assert!(
        policy.contains("Geltende Richtlinie") && policy.contains("Zugelassene Projekte: *"),
        "{policy}"
    );
    // a form without the session's CSRF token does nothing
    let r = net
        .post_form("/logout", &session, &[("csrf", "wrong")])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(net.get("/tasks", &session).await.status(), 200);
    let csrf = csrf_of(&tasks);
    let r = net.post_form("/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        net.get("/tasks", &session).await.status(),
        303,
        "signed out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_approval_holds_the_task_until_the_steward_approves() {
    let net = Net::start("manual").await;
    let session = net.sign_in().await;
    let id = net.ask(60).await;

    // the hub shows the task awaiting approval at de-berlin, and has no answer
    let s = net.until_state(&id, "awaiting_approval").await;
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .starts_with("awaiting approval at de-berlin"),
        "{s}"
    );
    assert!(s["table"].is_null(), "{s}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        net.site_state(&id, 0).await["state"],
        "awaiting_approval",
        "still held"
    );

    // the steward sees it in the queue, with who asked and what
    let tasks = net.page("/tasks", &session).await;
    let queue = tasks.split("<h2>").nth(1).unwrap();
    assert!(
        queue.contains(&format!("/tasks/{id}"))
            && queue.contains("researcher")
            && queue.contains("p1"),
        "{queue}"
    );
    let page = net.page(&format!("/tasks/{id}"), &session).await;
    assert!(
        page.contains("awaiting your decision") && page.contains("Approve and answer"),
        "{page}"
    );

    // approving needs the session's CSRF token
    let approve = format!("/tasks/{id}/approve");
    let r = net
        .post_form(&approve, &session, &[("csrf", "forged")])
        .await;
    assert_eq!(r.status(), 403);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(net.site_state(&id, 0).await["state"], "awaiting_approval");
    let r = net
        .post_form(&approve, &session, &[("csrf", &csrf_of(&page))])
        .await;
    assert_eq!(r.status(), 303);

    // the hub gets the answer
    let s = net.until_state(&id, "answered").await;
    assert!(s["table"]["rows"].is_array(), "{s}");
    // a second decision is refused: it is no longer waiting
    let r = net
        .post_form(&approve, &session, &[("csrf", &csrf_of(&page))])
        .await;
    assert_eq!(r.status(), 409);

    // the released page shows exactly the body the hub stored
    let hub_body = net.hub_body(&id);
    let raw = net.get(&format!("/released/{id}/body"), &session).await;
    assert_eq!(raw.headers()["content-type"], "application/json");
    assert_eq!(raw.text().await.unwrap(), hub_body, "byte for byte");
    let sent = net.page(&format!("/released/{id}"), &session).await;
    let pre = sent
        .split("<pre id=\"body\">")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap();
    assert_eq!(unescape(pre), hub_body);
    assert!(sent.contains(&hex(&Sha256::digest(hub_body.as_bytes()))));
    let listed = net.page("/released", &session).await;
    assert!(listed.contains(&format!("/released/{id}")), "{listed}");
    // the ledger charged the question to the project and to the researcher
    let ledger = net.page("/ledger", &session).await;
    let per_researcher = ledger.split("<h2>").nth(2).unwrap();
    assert!(
        per_researcher.contains(
            "<td>researcher</td><td>p1</td><td class=\"num\">1</td><td class=\"num\">1.000</td>"
        ),
        "{per_researcher}"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stewards_refusal_reaches_the_hub_and_an_undecided_task_expires() {
    let net = Net::start("manual").await;
    let session = net.sign_in().await;
    let id = net.ask(60).await;
    net.until_state(&id, "awaiting_approval").await;
    let page = net.page(&format!("/tasks/{id}"), &session).await;
    let r = net
        .post_form(
            &format!("/tasks/{id}/refuse"),
            &session,
            &[
                ("csrf", &csrf_of(&page)),
                ("comment", "Not during the\naudit week."),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let s = net.until_state(&id, "refused").await;
    assert_eq!(
        s["reason"], "refused by the site's data steward: Not during the audit week.",
        "{s}"
    );
    assert!(s["table"].is_null());
    let body: Value = serde_json::from_str(&net.hub_body(&id)).unwrap();
    assert_eq!(
        body["outcome"]["refusal"],
        json!({"reason": "steward_refused", "comment": "Not during the audit week."})
    );
    let raw = net
        .get(&format!("/released/{id}/body"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(raw, net.hub_body(&id));

    // a task nobody decides drops out of the queue at its deadline; the hub says why
    let late = net.ask(4).await;
    net.until_state(&late, "awaiting_approval").await;
    let page = net.page(&format!("/tasks/{late}"), &session).await;
    assert!(page.contains("Approve and answer"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let s = net.site_state(&late, 0).await;
    assert_eq!(s["state"], "late", "{s}");
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .contains("did not decide before the deadline"),
        "{s}"
    );
    let r = net
        .post_form(
            &format!("/tasks/{late}/approve"),
            &session,
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(r.status(), 409);
    let tasks = net.page("/tasks", &session).await;
    let queue = tasks.split("<h2>").nth(1).unwrap();
    assert!(
        !queue.contains(&late) && queue.contains("No task is waiting"),
        "{queue}"
    );
    let r = net.get(&format!("/released/{late}/body"), &session).await;
    assert_eq!(r.status(), 404, "nothing left the site");
}

#[test]
fn a_console_on_a_non_loopback_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("site.toml");
    std::fs::write(dir.path().join("token"), "khs_x").unwrap();
    std::fs::write(
        &cfg,
        format!(
            "site_id = \"de-berlin\"\nhub = \"http://127.0.0.1:9\"\nallow_insecure = true\ntoken_file = {:?}\nsite_dir = {:?}\n\n[console]\nlisten = \"0.0.0.0:7610\"\npassword_hash = \"{}\"\n",
            dir.path().join("token").display().to_string(),
            dir.path().join("site").display().to_string(),
            hash_password(PASSWORD)
        ),
    )
    .unwrap();
    let out = Command::new(EXE)
        .args(["site", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"0.0.0.0:7610\" is not a loopback address"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steward_enrols_a_patient_in_the_console() {
    let net = Net::start("auto").await;
    let session = net.sign_in().await;
    for (lang, title) in [
        ("en", "Enrol a patient in a study"),
        ("de", "Einen Patienten in eine Studie einschließen"),
        ("ja", "患者を研究に登録する"),
    ] {
        let page = net.page(&format!("/enrol?lang={lang}"), &session).await;
        assert!(page.contains(title), "{lang}: {page}");
    }
    let page = net.page("/enrol?lang=en", &session).await;
    // a forged form changes nothing
    let r = net
        .post_form(
            "/enrol",
            &session,
            &[
                ("csrf", "forged"),
                ("study", "vhf-registry"),
                ("patient", "KDS-ENROL-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = net
        .post_form(
            "/enrol",
            &session,
            &[
                ("csrf", &csrf_of(&page)),
                ("study", "vhf-registry"),
                ("patient", "KDS-ENROL-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let map = kakehashi_site::enrolment::Enrolments::open(site_dir()).unwrap();
    let record = map.pseudonym("vhf-registry", "KDS-ENROL-1");
    assert!(to.contains(&record), "{to}");
    let shown = net.page(&to, &session).await;
    assert!(shown.contains(&record), "the pseudonym is shown");
    assert!(
        !shown.contains("KDS-ENROL-1"),
        "the patient id is not shown back"
    );
    // a bad study id is refused, naming the field
    let r = net
        .post_form(
            "/enrol",
            &session,
            &[
                ("csrf", &csrf_of(&page)),
                ("study", ""),
                ("patient", "KDS-ENROL-2"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("study: empty"));
    // the agent sends it; this hub has no such study and says so, which the console shows
    let t = std::time::Instant::now();
    loop {
        let page = net.page("/enrol", &session).await;
        if page.contains("refused: no study") {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "the hub's answer never came: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let audit =
        std::fs::read_to_string(net.dir.path().join("agent/state/audit/audit.log")).unwrap();
    assert!(audit.contains("patient_enrolled") && audit.contains(&record));
    assert!(
        !audit.contains("KDS-ENROL-1"),
        "the site's audit log names no patient"
    );
}
