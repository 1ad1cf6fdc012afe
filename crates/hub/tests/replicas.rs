//! Two hub replicas on one PostgreSQL database serve one network: a researcher's task posted
//! on hub A reaches a site long-polling hub B at once (B is woken by the database's
//! `NOTIFY`, not by A's process), the site answers on B, and the researcher waiting on A gets
//! the merged answer at once too. All over real HTTP on loopback with a throw-away
//! PostgreSQL server (`pg/mod.rs`; skipped with a message when PostgreSQL is not installed).
//! Each replica keeps its own audit log: A logs the task, B the answer.

mod pg;

use kakehashi_federation::{Answer, Outcome, PROTOCOL_VERSION, PollRequest, PollResponse};
use kakehashi_hub::Hub;
use kakehashi_hub::config::{DatabaseUrl, HubConfig};
use kakehashi_hub::db::Role;
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RESEARCHER: &str = "kht_researcher_token";
const SITE: &str = "khs_site_token";

fn replica(url: &str, data: &Path) -> Arc<Hub> {
    Hub::open(HubConfig {
        data_dir: data.to_owned(),
        database_url: Some(DatabaseUrl(url.to_owned())),
        ..HubConfig::default()
    })
    .unwrap()
}

async fn serve(hub: Arc<Hub>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(kakehashi_hub::serve(hub, listener, async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

fn kinds(hub: &Hub) -> Vec<String> {
    hub.audit
        .tail(100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn a_task_posted_on_one_replica_is_answered_through_the_other() {
    let Some(server) = pg::TempPg::start("the hub replica test") else {
        return;
    };
    let url = server.new_database();
    let dir = tempfile::tempdir().unwrap();
    let key = kakehashi_audit::key::load_or_create(&dir.path().join("site.key")).unwrap();
    let (a, b) = (
        replica(&url, &dir.path().join("a")),
        replica(&url, &dir.path().join("b")),
    );
    // set up through A's store, seen by B's
    a.db.put_user("rita", "unused", Role::Researcher, None)
        .unwrap();
    a.db.put_token(
        RESEARCHER,
        "rita",
        "test",
        chrono::Utc::now() + chrono::Duration::days(1),
    )
    .unwrap();
    a.db.put_project(&ProjectId::new("p1").unwrap(), "P", &["rita".into()])
        .unwrap();
    let site = SiteId::new("de-a").unwrap();
    a.db.put_site(&site, "A", Country::Germany, &key.public_key(), SITE)
        .unwrap();
    assert_eq!(b.db.site_by_token(SITE).unwrap().unwrap().name, "A");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (url_a, stop_a) = serve(a.clone()).await;
        let (url_b, stop_b) = serve(b.clone()).await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();

        // the site long-polls B
        let poll = PollRequest {
            protocol: PROTOCOL_VERSION,
            version: "test".into(),
            snapshot: None,
            policy: kakehashi_disclosure::Policy::default().summary(),
            audit_head: "0".repeat(64),
            wait_seconds: 20,
            signed_head: None,
            in_hand: Vec::new(),
        };
        let polling = tokio::spawn({
            let (http, url_b) = (http.clone(), url_b.clone());
            async move {
                let r = http
                    .post(format!("{url_b}/api/site/poll"))
                    .bearer_auth(SITE)
                    .json(&poll)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<PollResponse>().await.unwrap()
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;

        // the researcher asks on A
        let ccdl = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .unwrap();
        let body = format!(r#"{{"project": "p1", "spec": {{"type": "cohort", "ccdl": {ccdl}}}}}"#);
        let t0 = Instant::now();
        let r = http
            .post(format!("{url_a}/api/tasks"))
            .bearer_auth(RESEARCHER)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let task: serde_json::Value = r.json().await.unwrap();
        let id = task["id"].as_str().unwrap().to_owned();
        let got = polling.await.unwrap();
        let woke_b = t0.elapsed();
        assert_eq!(got.tasks.len(), 1, "B's poll got A's task");
        assert_eq!(got.tasks[0].id.as_str(), id);
        assert!(t0.elapsed() < Duration::from_secs(5), "B woke after {:?}", t0.elapsed());

        // the researcher waits on A; the site answers on B
        let waiting = tokio::spawn({
            let (http, url_a, id) = (http.clone(), url_a.clone(), id.clone());
            async move {
                let r = http
                    .get(format!("{url_a}/api/tasks/{id}?wait=20"))
                    .bearer_auth(RESEARCHER)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<serde_json::Value>().await.unwrap()
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let answer = Answer {
            task: TaskId::new(id.clone()).unwrap(),
            site: site.clone(),
            snapshot: None,
            elapsed_ms: 3,
            audit_head: "0".repeat(64),
            outcome: Outcome::Failed {
                error: "answered through replica B".into(),
            },
        };
        let env = key.seal(&site, serde_json::to_string(&answer).unwrap());
        let t0 = Instant::now();
        let r = http
            .post(format!("{url_b}/api/site/answer"))
            .bearer_auth(SITE)
            .json(&env)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let merged = waiting.await.unwrap();
        let woke_a = t0.elapsed();
        assert!(t0.elapsed() < Duration::from_secs(5), "A woke after {:?}", t0.elapsed());
        assert_eq!(merged["complete"], true, "{merged}");
        assert_eq!(merged["sites"][0]["site"], "de-a");
        assert_eq!(merged["sites"][0]["state"], "failed");
        assert_eq!(merged["sites"][0]["reason"], "answered through replica B");
        let _ = (stop_a.send(()), stop_b.send(()));
        eprintln!(
            "replica test on PostgreSQL ({}): task posted on A reached the site's poll on B in {woke_b:?}; its answer on B reached the reader on A in {woke_a:?}",
            server.version
        );
    });
    // each replica's own audit log holds what it did
    let (ka, kb) = (kinds(&a), kinds(&b));
    assert!(
        ka.contains(&"task_created".to_owned()) && !ka.contains(&"answer_received".to_owned()),
        "{ka:?}"
    );
    assert!(
        kb.contains(&"answer_received".to_owned()) && !kb.contains(&"task_created".to_owned()),
        "{kb:?}"
    );
}
