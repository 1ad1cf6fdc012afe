//! A site's answer is accepted once and logged once, even when the hub stops between storing
//! it and logging it: the site's retry of the same signed answer (over real HTTP on
//! loopback, after a real restart on the same data directory) succeeds and is logged then;
//! another answer to the same task is still refused.

use chrono::Utc;
use kakehashi_audit::Entry;
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{Answer, Envelope, Outcome, Task, TaskSpec};
use kakehashi_hub::Hub;
use kakehashi_hub::config::HubConfig;
use kakehashi_hub::db::Stored;
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "khs_test_site_token";

fn open(dir: &Path) -> Arc<Hub> {
    Hub::open(HubConfig {
        data_dir: dir.to_owned(),
        ..HubConfig::default()
    })
    .unwrap()
}

/// A signed answer of `site` to `task` (a failure, so no gated table is needed).
fn signed(key: &SiteKey, site: &SiteId, task: &TaskId, error: &str) -> (Answer, Envelope) {
    let answer = Answer {
        task: task.clone(),
        site: site.clone(),
        snapshot: None,
        elapsed_ms: 1,
        audit_head: "0".repeat(64),
        outcome: Outcome::Failed {
            error: error.into(),
        },
    };
    let env = key.seal(site, serde_json::to_string(&answer).unwrap());
    (answer, env)
}

/// Posts an envelope to `/api/site/answer` over loopback; the status code.
async fn post(hub: Arc<Hub>, env: &Envelope) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kakehashi_hub::serve(hub, listener, async move {
        let _ = stopped.await;
    }));
    let body = serde_json::to_string(env).unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /api/site/answer HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    let _ = stop.send(());
    let _ = server.await;
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn received(hub: &Hub, site: &SiteId) -> Vec<Entry> {
    hub.audit
        .tail_for_site(site.as_str(), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "answer_received")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_hub_stopped_between_storing_and_logging_is_accepted_and_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let key = kakehashi_audit::key::load_or_create(&dir.path().join("site.key")).unwrap();
    let site = SiteId::new("de-test").unwrap();
    let task_id = TaskId::new("t-1").unwrap();
    let (answer, env) = signed(&key, &site, &task_id, "no data");
    {
        let hub = open(&data);
        hub.db
            .put_site(&site, "Test", Country::Germany, &key.public_key(), TOKEN)
            .unwrap();
        let spec = TaskSpec::from_json(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
            )
            .map(|ccdl| format!(r#"{{"type": "cohort", "ccdl": {ccdl}}}"#))
            .unwrap(),
            "hub",
        )
        .unwrap();
        let task = Task {
            id: task_id.clone(),
            project: ProjectId::new("p1").unwrap(),
            requested_by: "r".into(),
            created: Utc::now(),
            deadline: Utc::now() + chrono::Duration::minutes(10),
            spec,
        };
        hub.db.put_task(&task, std::slice::from_ref(&site)).unwrap();
        // the answer stored, then the hub stops before its answer_received record
        assert_eq!(
            hub.db.put_answer(&answer, &env, Utc::now()).unwrap(),
            Stored::New
        );
    }
    let hub = open(&data);
    assert!(received(&hub, &site).is_empty());

    // the site's retry of the same signed answer succeeds and is logged now
    let status = post(hub.clone(), &env).await;
    assert!((200..300).contains(&status), "retry answered {status}");
    let logged = received(&hub, &site);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].detail["task"], "t-1");
    assert_eq!(logged[0].detail["repaired"], true);

    // another retry succeeds and is not logged again
    let status = post(hub.clone(), &env).await;
    assert!(
        (200..300).contains(&status),
        "second retry answered {status}"
    );
    assert_eq!(received(&hub, &site).len(), 1);

    // a different answer to the same task is still refused, and the stored one kept
    let (_, other) = signed(&key, &site, &task_id, "something else");
    assert_eq!(post(hub.clone(), &other).await, 409);
    assert_eq!(received(&hub, &site).len(), 1);
    let stored = hub.db.answers("t-1").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, answer);
}

/// A site's poll leaves out the tasks it has in hand and waits for new ones: the agent does
/// not spin on a task it is answering, and a task created meanwhile reaches it at once (the
/// wake-up is registered before the tasks are read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_leaves_out_the_tasks_in_hand_and_wakes_for_a_new_one() {
    use kakehashi_federation::{PROTOCOL_VERSION, PollRequest};
    use kakehashi_hub::service::sites::poll;
    let dir = tempfile::tempdir().unwrap();
    let hub = open(&dir.path().join("hub"));
    let key = kakehashi_audit::key::load_or_create(&dir.path().join("site.key")).unwrap();
    let site = SiteId::new("de-test").unwrap();
    hub.db
        .put_site(&site, "Test", Country::Germany, &key.public_key(), TOKEN)
        .unwrap();
    let spec = TaskSpec::from_json(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
        )
        .map(|ccdl| format!(r#"{{"type": "cohort", "ccdl": {ccdl}}}"#))
        .unwrap(),
        "hub",
    )
    .unwrap();
    let task = |id: &str| Task {
        id: TaskId::new(id).unwrap(),
        project: ProjectId::new("p1").unwrap(),
        requested_by: "r".into(),
        created: Utc::now(),
        deadline: Utc::now() + chrono::Duration::minutes(10),
        spec: spec.clone(),
    };
    hub.db
        .put_task(&task("t-1"), std::slice::from_ref(&site))
        .unwrap();
    let request = |in_hand: Vec<TaskId>, wait_seconds: u64| PollRequest {
        protocol: PROTOCOL_VERSION,
        version: "test".into(),
        snapshot: None,
        policy: kakehashi_disclosure::Policy::default().summary(),
        audit_head: "0".repeat(64),
        wait_seconds,
        signed_head: None,
        in_hand,
    };
    let row = || hub.db.site_by_token(TOKEN).unwrap().unwrap();
    // without in_hand: the open task at once
    let r = poll(&hub, row(), request(Vec::new(), 5)).await.unwrap();
    assert_eq!(r.tasks.len(), 1);
    // with it in hand: nothing, after the poll's time
    let t0 = std::time::Instant::now();
    let r = poll(&hub, row(), request(vec![TaskId::new("t-1").unwrap()], 1))
        .await
        .unwrap();
    assert!(r.tasks.is_empty(), "{:?}", r.tasks);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(900));
    // a new task created while the poll waits reaches it long before the poll's time is up
    let waiting = {
        let hub = hub.clone();
        let row = row();
        let req = request(vec![TaskId::new("t-1").unwrap()], 30);
        tokio::spawn(async move { poll(&hub, row, req).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let t0 = std::time::Instant::now();
    hub.db
        .put_task(&task("t-2"), std::slice::from_ref(&site))
        .unwrap();
    hub.new_task.notify_waiters();
    let r = waiting.await.unwrap().unwrap();
    let ids: Vec<&str> = r.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["t-2"]);
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(10),
        "woken late"
    );
}
