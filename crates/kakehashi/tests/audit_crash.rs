//! The durable audit (issue 27, point 4), the crash test: the hub is killed with SIGKILL at
//! random points while a site answers tasks, many times; each restart verifies the chain, and
//! every answer the hub acknowledged (2xx) is in its audit log and its database.

mod common;

use common::free_port;
use kakehashi_audit as audit;
use kakehashi_disclosure::Refusal;
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{AnswerOut, OutcomeOut, PROTOCOL_VERSION, PollRequest};
use kakehashi_model::{SiteId, TaskId};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const SITE: &str = "de-crash";

/// A small deterministic generator (xorshift), seeded from the clock and printed, so a
/// failing run can be told apart from another.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Starts `kakehashi hub` on a fresh port over `data`; returns it and its URL once healthy.
async fn start_hub(data: &Path, log: &Path, http: &reqwest::Client) -> (Child, String) {
    let port = free_port();
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = Command::new(EXE)
        .args([
            "hub",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .env("KAKEHASHI_ADMIN_PASSWORD", "admin-password")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the hub exited ({status}) instead of starting:\n{}",
                tail(log)
            );
        }
        if http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, url);
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "hub did not start:\n{}",
            tail(log)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn tail(log: &Path) -> String {
    let s = std::fs::read_to_string(log).unwrap_or_default();
    s[s.len().saturating_sub(3000)..].to_owned()
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Value) -> Value {
    let r = http.post(url).bearer_auth(token).json(&body).send().await;
    let r = r.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The `(task, site)` pairs of the hub's `answer_received` records.
fn audited_answers(data: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(data.join("audit/audit.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<audit::Entry>(l).ok())
        .filter(|e| e.kind == "answer_received" && e.detail["site"] == SITE)
        .map(|e| e.detail["task"].as_str().unwrap().to_owned())
        .collect()
}

/// The tasks the hub's database holds an answer of the site for.
fn stored_answers(data: &Path) -> BTreeSet<String> {
    let c = rusqlite::Connection::open(data.join("hub.sqlite")).unwrap();
    let mut st = c
        .prepare("SELECT task FROM answers WHERE site = ?1")
        .unwrap();
    st.query_map([SITE], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One site answering everything it is asked, and a researcher asking, until the hub dies.
/// Returns nothing; acknowledged answers are pushed to `acked`.
async fn load(
    http: reqwest::Client,
    url: String,
    researcher: String,
    site_token: String,
    key: Arc<SiteKey>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let site = SiteId::new(SITE).unwrap();
    loop {
        // two new tasks
        for _ in 0..2 {
            let r = http
                .post(format!("{url}/api/tasks"))
                .bearer_auth(&researcher)
                .json(&json!({"project": "p1", "spec": {"type": "cohort", "ccdl": ccdl()}, "deadline_seconds": 600}))
                .send()
                .await;
            if r.is_err() {
                return;
            }
        }
        // the site's poll and its answers, all at once
        let poll = http
            .post(format!("{url}/api/site/poll"))
            .bearer_auth(&site_token)
            .json(&PollRequest {
                protocol: PROTOCOL_VERSION,
                version: "test".into(),
                snapshot: None,
                policy: kakehashi_disclosure::Policy::default().summary(),
                audit_head: audit::GENESIS.into(),
                wait_seconds: 0,
                signed_head: None,
                in_hand: Vec::new(),
            })
            .send()
            .await;
        let Ok(poll) = poll else { return };
        let Ok(tasks) = poll.json::<Value>().await else {
            return;
        };
        let ids: Vec<String> = tasks["tasks"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["id"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut sends = Vec::new();
        for id in ids {
            let task = TaskId::new(id.clone()).unwrap();
            let refusal = Refusal::TooSlow { limit_seconds: 1 };
            let body = serde_json::to_string(&AnswerOut {
                task: &task,
                site: &site,
                snapshot: None,
                elapsed_ms: 1,
                audit_head: audit::GENESIS,
                outcome: OutcomeOut::Refused { refusal: &refusal },
            })
            .unwrap();
            let env = key.seal(&site, body);
            let req = http
                .post(format!("{url}/api/site/answer"))
                .bearer_auth(&site_token)
                .json(&env);
            let acked = acked.clone();
            sends.push(tokio::spawn(async move {
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().push(id);
                        true
                    }
                    // e.g. 409 for an answer stored just before a kill, never acknowledged
                    Ok(_) => true,
                    Err(_) => false,
                }
            }));
        }
        let mut alive = true;
        for s in sends {
            alive &= s.await.unwrap_or(false);
        }
        if !alive {
            return;
        }
    }
}

fn ccdl() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// The hub is killed (SIGKILL) at a random moment of a burst of task creations and answers,
/// 30 times. Every restart verifies the chain (the hub itself refuses to start on a broken
/// one, and `audit::verify` is run on it), and every answer the hub acknowledged with 2xx
/// before it died is in its audit log and in its database afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn the_hub_killed_under_load_restarts_with_a_verifying_chain_and_no_acknowledged_answer_lost()
{
    const ROUNDS: usize = 30;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let log = tmp.path().join("hub.log");
    let http = reqwest::Client::new();
    let (mut hub, url) = start_hub(&data, &log, &http).await;
    // accounts, project and one site whose key the test holds
    let admin = common::net::token_for(&http, &url, "admin", "admin-password").await;
    post(
        &http,
        &format!("{url}/api/admin/users"),
        &admin,
        json!({"name": "alice", "password": "password-1", "role": "researcher"}),
    )
    .await;
    post(
        &http,
        &format!("{url}/api/admin/projects"),
        &admin,
        json!({"id": "p1", "title": "Project one", "members": ["alice"]}),
    )
    .await;
    let researcher = common::net::token_for(&http, &url, "alice", "password-1").await;
    let key = Arc::new(kakehashi_audit::key::load_or_create(&tmp.path().join("site.key")).unwrap());
    let reg = post(
        &http,
        &format!("{url}/api/admin/sites"),
        &admin,
        json!({"id": SITE, "name": SITE, "country": "DE", "public_key": key.public_key()}),
    )
    .await;
    let site_token = reg["token"].as_str().unwrap().to_owned();

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut url = url;
    let started = Instant::now();
    for round in 0..ROUNDS {
        let worker = tokio::spawn(load(
            http.clone(),
            url.clone(),
            researcher.clone(),
            site_token.clone(),
            key.clone(),
            acked.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(30 + rng.below(400))).await;
        hub.kill().unwrap(); // SIGKILL
        hub.wait().unwrap();
        worker.await.unwrap();

        let t0 = Instant::now();
        let (h, u) = start_hub(&data, &log, &http).await;
        let startup = t0.elapsed();
        (hub, url) = (h, u);
        let v = audit::verify(&data.join("audit"))
            .unwrap_or_else(|e| panic!("round {round}: the chain does not verify: {e}"));
        let acked_now: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
        let in_log = audited_answers(&data);
        let in_db = stored_answers(&data);
        let lost_log: Vec<_> = acked_now.difference(&in_log).collect();
        let lost_db: Vec<_> = acked_now.difference(&in_db).collect();
        assert!(
            lost_log.is_empty() && lost_db.is_empty(),
            "round {round} (seed {seed}): acknowledged answers lost from the audit log {lost_log:?}, from the database {lost_db:?}"
        );
        eprintln!(
            "round {round}: {} records, {} answers acknowledged so far, restart {startup:?}",
            v.entries,
            acked_now.len()
        );
    }
    let _ = hub.kill();
    let _ = hub.wait();
    let n = acked.lock().unwrap().len();
    assert!(
        n >= ROUNDS,
        "the load was real: {n} answers acknowledged in {ROUNDS} rounds"
    );
    // the command an operator runs agrees
    let out = Command::new(EXE)
        .args(["audit", "verify", "--hub-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!(
        "{ROUNDS} kills, {n} acknowledged answers, none lost, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
