//! Several at once: an answer retried through a second connection (another replica), two
//! writers, and a site's long poll (the "in hand" exclusion and its wake-up).

use super::Fresh;
use super::cases::{key, sid, signed, task, user};
use chrono::{Duration, Utc};
use kakehashi_federation::{PROTOCOL_VERSION, PollRequest};
use kakehashi_hub::db::{Role, Stored};
use kakehashi_model::{Country, TaskId};

pub fn an_answer_retry_is_idempotent_even_when_racing(fresh: Fresh<'_>) {
    let place = fresh();
    let (one, two) = (place.open(), place.open());
    one.put_task(&task("t1", "p1", "alice", 10), &[sid("de-a")])
        .unwrap();
    let key = key();
    let (ans, env) = signed(&key, "de-a", "t1", "first");
    assert_eq!(one.put_answer(&ans, &env, Utc::now()).unwrap(), Stored::New);
    assert_eq!(
        two.put_answer(&ans, &env, Utc::now()).unwrap(),
        Stored::Same,
        "a retry elsewhere"
    );
    let (other, other_env) = signed(&key, "de-a", "t1", "second");
    assert_eq!(
        one.put_answer(&other, &other_env, Utc::now()).unwrap(),
        Stored::Refused
    );
    assert_eq!(one.answers("t1").unwrap()[0].0, ans);
    // the same signed answer sent through two connections at once: stored once
    for round in 0..10 {
        let t = format!("r{round}");
        one.put_task(&task(&t, "p1", "alice", 10), &[sid("de-a")])
            .unwrap();
        let (ans, env) = signed(&key, "de-a", &t, "raced");
        let got: Vec<Stored> = std::thread::scope(|s| {
            let h: Vec<_> = [&one, &two]
                .map(|db| s.spawn(|| db.put_answer(&ans, &env, Utc::now()).unwrap()))
                .into_iter()
                .collect();
            h.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut got = got;
        got.sort_by_key(|s| *s == Stored::Same);
        assert_eq!(got, [Stored::New, Stored::Same], "round {round}");
        assert_eq!(one.answers(&t).unwrap().len(), 1);
    }
}

pub fn two_writers_at_once_lose_nothing(fresh: Fresh<'_>) {
    let place = fresh();
    let dbs = [place.open(), place.open()];
    let key = key();
    std::thread::scope(|s| {
        for (w, db) in dbs.iter().enumerate() {
            let key = &key;
            s.spawn(move || {
                for i in 0..40 {
                    let name = format!("user-{w}-{i}");
                    db.put_user(&name, "h", Role::Researcher, None).unwrap();
                    db.put_session(
                        &format!("s-{w}-{i}"),
                        &name,
                        Utc::now() + Duration::hours(1),
                    )
                    .unwrap();
                    let t = format!("t-{w}-{i}");
                    db.put_task(&task(&t, "p1", &name, 10), &[sid("de-a"), sid("de-b")])
                        .unwrap();
                    // both writers answer every task of writer 0 as de-a with different
                    // answers: the first wins, the other is refused
                    let t0 = format!("t-0-{i}");
                    if db.task(&t0).unwrap().is_some() {
                        let (a, e) = signed(key, "de-a", &t0, &format!("writer {w}"));
                        db.put_answer(&a, &e, Utc::now()).unwrap();
                    }
                }
            });
        }
    });
    let db = place.open();
    assert_eq!(db.user_count().unwrap(), 80);
    for w in 0..2 {
        for i in 0..40 {
            assert_eq!(
                db.session_user(&format!("s-{w}-{i}"), super::idle())
                    .unwrap()
                    .unwrap()
                    .name,
                format!("user-{w}-{i}")
            );
            assert_eq!(db.task_sites(&format!("t-{w}-{i}")).unwrap().len(), 2);
            assert!(db.answers(&format!("t-0-{i}")).unwrap().len() <= 1);
        }
    }
    assert_eq!(
        db.tasks_for(&user("root", Role::Admin), None, 1000)
            .unwrap()
            .len(),
        80
    );
}

pub fn a_poll_leaves_tasks_in_hand_out_and_wakes_for_a_new_one(fresh: Fresh<'_>) {
    use kakehashi_hub::service::sites::poll;
    let place = fresh();
    let data = tempfile::tempdir().unwrap();
    let hub = place.hub(data.path());
    let key = key();
    hub.db
        .put_site(
            &sid("de-a"),
            "A",
            Country::Germany,
            &key.public_key(),
            "tok",
        )
        .unwrap();
    hub.db
        .put_task(&task("t1", "p1", "alice", 10), &[sid("de-a")])
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
    let row = hub.db.site_by_token("tok").unwrap().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let r = poll(&hub, row.clone(), request(Vec::new(), 5))
            .await
            .unwrap();
        assert_eq!(r.tasks.len(), 1);
        let in_hand = vec![TaskId::new("t1").unwrap()];
        let t0 = std::time::Instant::now();
        let r = poll(&hub, row.clone(), request(in_hand.clone(), 1))
            .await
            .unwrap();
        assert!(r.tasks.is_empty() && t0.elapsed() >= std::time::Duration::from_millis(900));
        // a task stored while the poll waits reaches it at once (on PostgreSQL through the
        // database's announcement, too)
        let waiting = tokio::spawn({
            let (hub, row) = (hub.clone(), row.clone());
            async move { poll(&hub, row, request(in_hand, 20)).await.unwrap() }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let t0 = std::time::Instant::now();
        hub.blocking(|h| {
            Ok(h.db.put_task(&task("t2", "p1", "alice", 10), &[sid("de-a")])?)
        })
        .await
        .unwrap();
        hub.new_task.notify_waiters();
        let r = waiting.await.unwrap();
        assert_eq!(
            r.tasks.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
            ["t2"]
        );
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
        // the last handle dropped on the async runtime (as a server's shutdown does) closes
        // the store without blocking there
        drop(hub);
    });
}
