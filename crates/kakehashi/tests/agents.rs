//! The site agent against a real hub on loopback (issue 27, point 5): every call to the hub
//! backs off exponentially with jitter up to a cap and honours `Retry-After`, then resumes
//! when the hub is back; a final `4xx` is final (the task runs once, is posted once, is
//! recorded in the site's audit log and is not run again after a restart); a large answer
//! goes up as a resumable upload that continues from the hub's offset after a cut connection.
//! Faults are injected by a loopback TCP proxy the test owns ([`Proxy`]); hub and agents are
//! the real ones, in this process.

mod common;

use chrono::Utc;
use kakehashi_federation::{Answer, Task, TaskSpec};
use kakehashi_hub::Hub;
use kakehashi_hub::config::HubConfig;
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use kakehashi_site::agent::{Agent, AgentConfig};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with the requests it receives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Answer every request with this status (and `Retry-After`, when given).
    Refuse(u16, Option<u64>),
    /// Forward to the target.
    Forward,
}

/// A loopback TCP proxy in front of a hub: it answers requests itself (an unavailable hub) or
/// forwards them, records when each refused request came and every byte forwarded to the hub,
/// and cuts one forwarded upload connection once, after `cut_after` bytes.
struct Proxy {
    url: String,
    target: Mutex<Option<String>>,
    mode: Mutex<Mode>,
    attempts: Mutex<Vec<Instant>>,
    sent: Mutex<Vec<u8>>,
    cut_after: Mutex<Option<usize>>,
    cut: AtomicBool,
}

impl Proxy {
    async fn start(mode: Mode) -> Arc<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Arc::new(Proxy {
            url: format!("http://{}", listener.local_addr().unwrap()),
            target: Mutex::new(None),
            mode: Mutex::new(mode),
            attempts: Mutex::new(Vec::new()),
            sent: Mutex::new(Vec::new()),
            cut_after: Mutex::new(None),
            cut: AtomicBool::new(false),
        });
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let p = p.clone();
                tokio::spawn(async move { p.serve(conn).await });
            }
        });
        proxy
    }

    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }

    fn forward_to(&self, target: &str) {
        *self.target.lock().unwrap() = Some(target.trim_start_matches("http://").to_owned());
        *self.mode.lock().unwrap() = Mode::Forward;
    }

    async fn serve(self: Arc<Self>, mut conn: TcpStream) {
        if let Mode::Refuse(..) = self.mode() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                // one request: its head and its Content-Length body
                let Some(head_end) = find(&buf, b"\r\n\r\n") else {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() < head_end + 4 + len {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    continue;
                }
                buf.drain(..head_end + 4 + len);
                let Mode::Refuse(status, retry_after) = self.mode() else {
                    return; // the hub is back: close, the agent reconnects
                };
                self.attempts.lock().unwrap().push(Instant::now());
                let extra = retry_after.map_or(String::new(), |s| format!("Retry-After: {s}\r\n"));
                let answer =
                    format!("HTTP/1.1 {status} Unavailable\r\nContent-Length: 0\r\n{extra}\r\n");
                if conn.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        let target = self.target.lock().unwrap().clone().unwrap();
        let Ok(hub) = TcpStream::connect(target).await else {
            return;
        };
        let (mut cr, mut cw) = conn.into_split();
        let (mut hr, mut hw) = hub.into_split();
        let back = tokio::spawn(async move {
            let _ = tokio::io::copy(&mut hr, &mut cw).await;
        });
        let mut seen = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = match cr.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.extend_from_slice(&chunk[..n]);
            let cut_now = {
                let mut cut = self.cut_after.lock().unwrap();
                match *cut {
                    Some(after)
                        if seen.len() > after
                            && find(&seen, b"PATCH /api/site/uploads").is_some() =>
                    {
                        *cut = None;
                        true
                    }
                    _ => false,
                }
            };
            if cut_now {
                // half of this read reaches the hub, then the connection is gone
                let _ = hw.write_all(&chunk[..n / 2]).await;
                self.sent.lock().unwrap().extend_from_slice(&chunk[..n / 2]);
                self.cut.store(true, Ordering::SeqCst);
                break;
            }
            self.sent.lock().unwrap().extend_from_slice(&chunk[..n]);
            if hw.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
        back.abort();
    }

    /// The pauses between the requests the proxy refused.
    fn gaps(&self) -> Vec<Duration> {
        let a = self.attempts.lock().unwrap();
        a.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The text forwarded to the hub so far.
    fn sent_text(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A hub in this process, on loopback.
async fn hub(dir: &Path) -> (Arc<Hub>, String) {
    let hub = Hub::open(HubConfig {
        data_dir: dir.join("hub"),
        ..HubConfig::default()
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kakehashi_hub::serve(
        hub.clone(),
        listener,
        std::future::pending(),
    ));
    (hub, url)
}

/// The configuration of an agent `id` over the demo site `de-berlin`, talking to `url`.
fn agent_config(dir: &Path, id: &str, url: &str, extra: &str) -> AgentConfig {
    let site = common::net::sites_dir().join("sites").join("de-berlin");
    let text = format!(
        "site_id = \"{id}\"\nhub = \"{url}\"\ntoken = \"khs_{id}\"\nsite_dir = {:?}\nstate_dir = {:?}\nallow_insecure = true\npoll_seconds = 1\n{extra}\n[disclosure]\nprojects = [\"p1\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\"\n",
        site.display().to_string(),
        dir.join(id).display().to_string(),
    );
    let file = dir.join(format!("{id}.toml"));
    std::fs::write(&file, text).unwrap();
    AgentConfig::load(&file).unwrap()
}

/// Starts an agent; the sender stops it.
fn start(cfg: AgentConfig) -> (Arc<Agent>, tokio::sync::watch::Sender<bool>) {
    let agent = Agent::open(cfg).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(agent.clone().run(stopped));
    (agent, stop)
}

/// Registers the agent's site at the hub with `public_key` (its own, unless a test wants a
/// hub that cannot verify it) and its token.
fn register(hub: &Hub, cfg: &AgentConfig, public_key: &str) {
    let country = if cfg.site_id.as_str().starts_with("jp-") {
        Country::Japan
    } else {
        Country::Germany
    };
    hub.db
        .put_site(
            &cfg.site_id,
            cfg.site_id.as_str(),
            country,
            public_key,
            cfg.token.as_deref().unwrap(),
        )
        .unwrap();
}

/// Creates a task for `sites` and wakes their polls.
fn ask(hub: &Hub, id: &str, spec: &str, sites: &[SiteId]) -> TaskId {
    let task = Task {
        id: TaskId::new(id).unwrap(),
        project: ProjectId::new("p1").unwrap(),
        requested_by: "alice".into(),
        created: Utc::now(),
        deadline: Utc::now() + chrono::Duration::minutes(5),
        spec: TaskSpec::from_json(spec, "hub").unwrap(),
    };
    hub.db.put_task(&task, sites).unwrap();
    hub.new_task.notify_waiters();
    task.id
}

fn cohort() -> String {
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();
    format!(r#"{{"type": "cohort", "ccdl": {ccdl}}}"#)
}

async fn until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(secs), "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The site audit records of one kind about one task.
fn site_audit(state: &Path, kind: &str, task: &str) -> Vec<Value> {
    let log = std::fs::read_to_string(state.join("audit").join("audit.log")).unwrap_or_default();
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == kind && e["detail"]["task"] == task)
        .collect()
}

fn ms(d: &[Duration]) -> Vec<u128> {
    d.iter().map(Duration::as_millis).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agents_back_off_with_jitter_up_to_the_cap_honour_retry_after_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let backoff = "backoff_base_millis = 100\nmax_backoff_seconds = 1\n";
    let mut proxies = Vec::new();
    let mut agents = Vec::new();
    for (id, mode) in [
        ("de-one", Mode::Refuse(503, None)),
        ("de-two", Mode::Refuse(503, None)),
        ("jp-three", Mode::Refuse(429, Some(1))),
    ] {
        let proxy = Proxy::start(mode).await;
        let cfg = agent_config(dir.path(), id, &proxy.url, backoff);
        agents.push((cfg.clone(), start(cfg)));
        proxies.push(proxy);
    }
    until("twelve attempts of each agent", 40, || {
        proxies[..2]
            .iter()
            .all(|p| p.attempts.lock().unwrap().len() >= 12)
            && proxies[2].attempts.lock().unwrap().len() >= 4
    })
    .await;
    let (one, two) = (proxies[0].gaps(), proxies[1].gaps());
    for gaps in [&one, &two] {
        let g = ms(gaps);
        // the first pause is the base; the cap (1 s) holds, with a little slack for the
        // scheduler; later pauses are longer on average than the base's double
        assert!(g[0] < 160, "first pause {g:?}");
        assert!(g.iter().all(|&d| (90..1150).contains(&d)), "pauses {g:?}");
        let late = &g[4..];
        let mean = late.iter().sum::<u128>() / late.len() as u128;
        assert!(mean > 200, "the pauses do not grow: {g:?}");
    }
    // two agents failing together do not retry in step
    let apart = one
        .iter()
        .zip(&two)
        .skip(1)
        .filter(|(a, b)| a.as_millis().abs_diff(b.as_millis()) > 40)
        .count();
    assert!(apart >= 3, "no jitter: {:?} vs {:?}", ms(&one), ms(&two));
    // Retry-After: 1 wins over the 100 ms base
    let g = ms(&proxies[2].gaps());
    assert!(
        g.iter().all(|&d| d >= 990),
        "Retry-After not honoured: {g:?}"
    );

    // the hub comes back: the agents resume and answer the waiting task
    let (hub, url) = hub(dir.path()).await;
    let mut sites = Vec::new();
    for (cfg, (agent, _)) in &agents {
        register(
            &hub,
            cfg,
            &kakehashi_site::agent::public_key(agent.config()).unwrap(),
        );
        sites.push(cfg.site_id.clone());
    }
    let task = ask(&hub, "t-back", &cohort(), &sites);
    for p in &proxies {
        p.forward_to(&url);
    }
    until("every agent answered", 30, || {
        hub.db.answers(task.as_str()).unwrap().len() == sites.len()
    })
    .await;
    for (_, (_, stop)) in agents {
        let _ = stop.send(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_answer_is_final_the_task_runs_and_is_posted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, url) = hub(dir.path()).await;
    let proxy = Proxy::start(Mode::Forward).await;
    proxy.forward_to(&url);
    let cfg = agent_config(
        dir.path(),
        "de-rekeyed",
        &proxy.url,
        "backoff_base_millis = 100\n",
    );
    let state = cfg.state_dir();
    // the hub holds another key for the site: it refuses the site's answers (403) while its
    // polls are fine
    let other = kakehashi_audit::key::load_or_create(&dir.path().join("other.key")).unwrap();
    register(&hub, &cfg, &other.public_key());
    let (_, stop) = start(cfg.clone());
    let task = ask(
        &hub,
        "t-refused",
        &cohort(),
        std::slice::from_ref(&cfg.site_id),
    );
    until("the hub's refusal in the site's audit", 30, || {
        !site_audit(&state, "answer_refused_by_hub", task.as_str()).is_empty()
    })
    .await;
    // several polls later (poll_seconds = 1, the task still open at the hub)
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused = site_audit(&state, "answer_refused_by_hub", task.as_str());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["detail"]["status"], 403);
    assert!(
        refused[0]["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{refused:?}"
    );
    assert_eq!(
        site_audit(&state, "task_received", task.as_str()).len(),
        1,
        "ran again"
    );
    assert_eq!(site_audit(&state, "answer_sent", task.as_str()).len(), 1);
    let posts = proxy.sent_text().matches("POST /api/site/answer ").count();
    assert_eq!(posts, 1, "posted {posts} times");
    assert!(hub.db.answers(task.as_str()).unwrap().is_empty());
    let _ = stop.send(true);

    // a restarted agent does not run it again either
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, stop) = start(cfg);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        site_audit(&state, "task_received", task.as_str()).len(),
        1,
        "ran after restart"
    );
    assert_eq!(
        proxy.sent_text().matches("POST /api/site/answer ").count(),
        1
    );
    let _ = stop.send(true);
}

/// The offsets of the upload parts sent to the hub, in order.
fn part_offsets(text: &str) -> Vec<u64> {
    text.split("PATCH /api/site/uploads/")
        .skip(1)
        .filter_map(|req| {
            let at = req.find("\"offset\":")? + "\"offset\":".len();
            let digits: String = req[at..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_answer_uploads_in_parts_and_resumes_after_a_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, url) = hub(dir.path()).await;
    let proxy = Proxy::start(Mode::Forward).await;
    proxy.forward_to(&url);
    // the connection carrying the parts is cut once, after some of them went through
    *proxy.cut_after.lock().unwrap() = Some(12_000);
    let cfg = agent_config(
        dir.path(),
        "de-large",
        &proxy.url,
        "backoff_base_millis = 100\nupload_threshold_bytes = 1024\nupload_chunk_bytes = 2048\n",
    );
    let (agent, stop) = start(cfg.clone());
    register(
        &hub,
        &cfg,
        &kakehashi_site::agent::public_key(&cfg).unwrap(),
    );
    let spec = r#"{"type": "surveillance_series", "definition": "sari-icosari", "by": ["age"]}"#;
    let task = ask(&hub, "t-large", spec, std::slice::from_ref(&cfg.site_id));
    until("the uploaded answer at the hub", 60, || {
        hub.db.answers(task.as_str()).unwrap().len() == 1
    })
    .await;
    assert!(
        proxy.cut.load(Ordering::SeqCst),
        "the connection was never cut"
    );
    // the answer the hub took is the one the site signed and recorded, byte for byte
    let sent = agent.steward().sent_body(task.as_str()).unwrap().unwrap();
    assert!(
        sent.body.len() > 10_000,
        "answer only {} bytes",
        sent.body.len()
    );
    let stored = hub.db.answers(task.as_str()).unwrap().remove(0).0;
    assert_eq!(stored, serde_json::from_str::<Answer>(&sent.body).unwrap());
    assert!(matches!(
        stored.outcome,
        kakehashi_federation::Outcome::Answered { .. }
    ));
    let text = proxy.sent_text();
    assert_eq!(
        text.matches("POST /api/site/answer ").count(),
        0,
        "posted whole"
    );
    // the parts: from 0 up, never back to an earlier offset after the cut, each at most once
    // more than needed (the part in flight when the cut came)
    let offsets = part_offsets(&text);
    assert!(offsets.len() >= 4, "{offsets:?}");
    assert_eq!(offsets[0], 0);
    assert!(
        offsets.windows(2).all(|w| w[0] <= w[1]),
        "went back: {offsets:?}"
    );
    let distinct = {
        let mut d = offsets.clone();
        d.dedup();
        d.len()
    };
    assert!(offsets.len() <= distinct + 1, "{offsets:?}");
    assert_eq!(text.matches("/commit ").count(), 1);
    let _ = stop.send(true);
}
