//! Resumable uploads of large answers over real HTTP on loopback: an upload survives a hub
//! restart between parts and its commit is taken as a posted answer (stored once, logged
//! once); a part at a wrong offset is 409 with the hub's offset, a checksum mismatch 422 with
//! nothing stored, an answer over the cap 413, a site's open uploads over the cap 429, another
//! site's upload 404; the hub keeps serving throughout.

use base64::Engine;
use chrono::Utc;
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{Answer, Envelope, Outcome, Task, TaskSpec};
use kakehashi_hub::Hub;
use kakehashi_hub::config::HubConfig;
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

const TOKEN_A: &str = "khs_test_site_a";
const TOKEN_B: &str = "khs_test_site_b";

fn config(dir: &Path) -> HubConfig {
    let mut cfg = HubConfig {
        data_dir: dir.to_owned(),
        ..HubConfig::default()
    };
    cfg.uploads.max_bytes = 64 * 1024;
    cfg.uploads.max_per_site = 2;
    cfg
}

/// A hub served on loopback until the returned sender fires.
struct Served {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), kakehashi_hub::HubError>>,
}

async fn serve(hub: Arc<Hub>) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kakehashi_hub::serve(hub, listener, async move {
        let _ = stopped.await;
    }));
    Served { url, stop, server }
}

impl Served {
    async fn end(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

/// A signed answer of `site` to `task`, padded by a long failure message to `len` bytes or so.
fn signed(key: &SiteKey, site: &SiteId, task: &str, len: usize) -> Vec<u8> {
    let answer = Answer {
        task: TaskId::new(task).unwrap(),
        site: site.clone(),
        snapshot: None,
        elapsed_ms: 1,
        audit_head: "0".repeat(64),
        outcome: Outcome::Failed {
            error: "x".repeat(len),
        },
    };
    let env: Envelope = key.seal(site, serde_json::to_string(&answer).unwrap());
    serde_json::to_vec(&env).unwrap()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn setup(hub: &Hub, a: &SiteKey, b: &SiteKey) {
    let (sa, sb) = (SiteId::new("de-a").unwrap(), SiteId::new("jp-b").unwrap());
    hub.db
        .put_site(&sa, "A", Country::Germany, &a.public_key(), TOKEN_A)
        .unwrap();
    hub.db
        .put_site(&sb, "B", Country::Japan, &b.public_key(), TOKEN_B)
        .unwrap();
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();
    let spec =
        TaskSpec::from_json(&format!(r#"{{"type": "cohort", "ccdl": {ccdl}}}"#), "hub").unwrap();
    for id in ["t-1", "t-2", "t-3", "t-4", "t-5"] {
        let task = Task {
            id: TaskId::new(id).unwrap(),
            project: ProjectId::new("p1").unwrap(),
            requested_by: "r".into(),
            created: Utc::now(),
            deadline: Utc::now() + chrono::Duration::minutes(10),
            spec: spec.clone(),
        };
        hub.db.put_task(&task, &[sa.clone(), sb.clone()]).unwrap();
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder, token: &str) -> (u16, Value, Option<u64>) {
        let r = req.bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        let offset = r
            .headers()
            .get("upload-offset")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body = r.json().await.unwrap_or(Value::Null);
        (status, body, offset)
    }
    async fn create(&self, token: &str, task: &str, size: usize, sha256: &str) -> (u16, Value) {
        let req = self
            .http
            .post(format!("{}/api/site/uploads", self.url))
            .json(&json!({"task": task, "size": size, "sha256": sha256}));
        let (s, b, _) = self.send(req, token).await;
        (s, b)
    }
    async fn part(
        &self,
        token: &str,
        id: &str,
        offset: usize,
        data: &[u8],
    ) -> (u16, Value, Option<u64>) {
        let data = base64::engine::general_purpose::STANDARD.encode(data);
        let req = self
            .http
            .patch(format!("{}/api/site/uploads/{id}", self.url))
            .json(&json!({"offset": offset, "data": data}));
        self.send(req, token).await
    }
    async fn get(&self, token: &str, id: &str) -> (u16, Value, Option<u64>) {
        let req = self.http.get(format!("{}/api/site/uploads/{id}", self.url));
        self.send(req, token).await
    }
    async fn commit(&self, token: &str, id: &str) -> (u16, Value) {
        let req = self
            .http
            .post(format!("{}/api/site/uploads/{id}/commit", self.url))
            .json(&json!({}));
        let (s, b, _) = self.send(req, token).await;
        (s, b)
    }
}

fn received(hub: &Hub, task: &str) -> usize {
    hub.audit
        .tail_for_site("de-a", 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "answer_received" && e.detail["task"] == task)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_resumes_across_a_hub_restart_and_bad_parts_are_refused() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let a = kakehashi_audit::key::load_or_create(&dir.path().join("a.key")).unwrap();
    let b = kakehashi_audit::key::load_or_create(&dir.path().join("b.key")).unwrap();
    let site_a = SiteId::new("de-a").unwrap();
    let body = signed(&a, &site_a, "t-1", 20_000);
    let half = body.len() / 2;

    // begun, half sent, then the hub stops
    let id = {
        let hub = Hub::open(config(&data)).unwrap();
        setup(&hub, &a, &b);
        let served = serve(hub.clone()).await;
        let c = Client {
            http: reqwest::Client::new(),
            url: served.url.clone(),
        };
        let (s, up) = c.create(TOKEN_A, "t-1", body.len(), &sha(&body)).await;
        assert_eq!(s, 201, "{up}");
        assert_eq!(up["offset"], 0);
        let id = up["id"].as_str().unwrap().to_owned();
        let (s, st, off) = c.part(TOKEN_A, &id, 0, &body[..half]).await;
        assert_eq!((s, off), (200, Some(half as u64)), "{st}");
        served.end().await;
        id
    };

    // a new hub process on the same data directory
    let hub = Hub::open(config(&data)).unwrap();
    let served = serve(hub.clone()).await;
    let c = Client {
        http: reqwest::Client::new(),
        url: served.url.clone(),
    };
    // the site finds its upload again (same task, size, checksum) and where it stands
    let (s, again) = c.create(TOKEN_A, "t-1", body.len(), &sha(&body)).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["offset"], half);
    let (s, _, off) = c.get(TOKEN_A, &id).await;
    assert_eq!((s, off), (200, Some(half as u64)));

    // a part at another offset: 409 and the hub's offset, nothing appended
    let (s, e, off) = c.part(TOKEN_A, &id, 0, &body[..half]).await;
    assert_eq!((s, off), (409, Some(half as u64)), "{e}");
    assert_eq!(e["offset"], half);
    // committing before the end: 409
    assert_eq!(c.commit(TOKEN_A, &id).await.0, 409);
    // another site's upload is not found, whatever it asks
    assert_eq!(c.get(TOKEN_B, &id).await.0, 404);
    assert_eq!(c.part(TOKEN_B, &id, half, &body[half..]).await.0, 404);
    assert_eq!(c.commit(TOKEN_B, &id).await.0, 404);
    // a part past the declared size: 413; not base64: 400
    let mut long = body[half..].to_vec();
    long.push(b' ');
    assert_eq!(c.part(TOKEN_A, &id, half, &long).await.0, 413);
    let bad = c
        .send(
            c.http
                .patch(format!("{}/api/site/uploads/{id}", c.url))
                .json(&json!({"offset": half, "data": "!!"})),
            TOKEN_A,
        )
        .await;
    assert_eq!(bad.0, 400, "{}", bad.1);

    // the rest, the commit: the answer is stored and logged once, as a posted answer would be
    let (s, _, off) = c.part(TOKEN_A, &id, half, &body[half..]).await;
    assert_eq!((s, off), (200, Some(body.len() as u64)));
    let (s, e) = c.commit(TOKEN_A, &id).await;
    assert_eq!(s, 204, "{e}");
    let stored = hub.db.answers("t-1").unwrap();
    assert_eq!(stored.len(), 1);
    let env: Envelope = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        stored[0].0,
        serde_json::from_str::<Answer>(&env.body).unwrap()
    );
    assert_eq!(received(&hub, "t-1"), 1);
    // a repeated commit (its answer lost on the way) succeeds and logs nothing new
    assert_eq!(c.commit(TOKEN_A, &id).await.0, 204);
    assert_eq!(received(&hub, "t-1"), 1);
    assert!(!data.join("uploads").join(format!("{id}.part")).exists());

    // a checksum that does not match the bytes: 422 at the commit, nothing stored
    let other = signed(&a, &site_a, "t-2", 3_000);
    let (s, up) = c
        .create(TOKEN_A, "t-2", other.len(), &sha(b"something else"))
        .await;
    assert_eq!(s, 201, "{up}");
    let id2 = up["id"].as_str().unwrap().to_owned();
    assert_eq!(c.part(TOKEN_A, &id2, 0, &other).await.0, 200);
    let (s, e) = c.commit(TOKEN_A, &id2).await;
    assert_eq!(s, 422, "{e}");
    assert!(hub.db.answers("t-2").unwrap().is_empty());
    assert_eq!(received(&hub, "t-2"), 0);
    assert_eq!(
        c.get(TOKEN_A, &id2).await.0,
        404,
        "the bad upload is removed"
    );

    // over the answer cap: 413; a task not sent to the site: 404; a bad checksum text: 400
    let big = 64 * 1024 + 1;
    assert_eq!(c.create(TOKEN_A, "t-3", big, &sha(b"x")).await.0, 413);
    assert_eq!(c.create(TOKEN_A, "nope", 10, &sha(b"x")).await.0, 404);
    assert_eq!(c.create(TOKEN_A, "t-3", 10, "abc").await.0, 400);

    // at most two open uploads per site; another site has its own count
    assert_eq!(c.create(TOKEN_A, "t-3", 10, &sha(b"3")).await.0, 201);
    assert_eq!(c.create(TOKEN_A, "t-4", 10, &sha(b"4")).await.0, 201);
    let (s, e) = c.create(TOKEN_A, "t-5", 10, &sha(b"5")).await;
    assert_eq!(s, 429, "{e}");
    assert_eq!(c.create(TOKEN_B, "t-5", 10, &sha(b"5")).await.0, 201);

    // the hub still serves
    let ok = c
        .http
        .get(format!("{}/healthz", c.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    served.end().await;
}
