//! Users, sessions, tokens, projects, sites, tasks, answers and holds, each case on a new
//! database; the helpers the other cases share.

use super::Fresh;
use chrono::{Duration, Utc};
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{Answer, Envelope, Outcome, Task, TaskSpec};
use kakehashi_hub::db::{Role, Stored, User};
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use std::path::Path;

/// A cohort question from the repository's examples.
pub fn spec() -> TaskSpec {
    let ccdl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-adults.json"),
    )
    .unwrap();
    TaskSpec::from_json(&format!(r#"{{"type": "cohort", "ccdl": {ccdl}}}"#), "hub").unwrap()
}

/// A task of project `project` by `by`, due in ten minutes (or past due).
pub fn task(id: &str, project: &str, by: &str, due_minutes: i64) -> Task {
    Task {
        id: TaskId::new(id).unwrap(),
        project: ProjectId::new(project).unwrap(),
        requested_by: by.into(),
        created: Utc::now(),
        deadline: Utc::now() + Duration::minutes(due_minutes),
        spec: spec(),
    }
}

/// A site's key (in a folder that lives as long as the test process needs it).
pub fn key() -> SiteKey {
    let d = tempfile::tempdir().unwrap();
    kakehashi_audit::key::load_or_create(&d.path().join("site.key")).unwrap()
}

/// A signed answer of `site` to `task` (a failure, so no gated table is needed).
pub fn signed(key: &SiteKey, site: &str, task: &str, error: &str) -> (Answer, Envelope) {
    let site = SiteId::new(site).unwrap();
    let answer = Answer {
        task: TaskId::new(task).unwrap(),
        site: site.clone(),
        snapshot: None,
        elapsed_ms: 1,
        audit_head: "0".repeat(64),
        outcome: Outcome::Failed {
            error: error.into(),
        },
    };
    let env = key.seal(&site, serde_json::to_string(&answer).unwrap());
    (answer, env)
}

pub fn user(name: &str, role: Role) -> User {
    User {
        name: name.into(),
        role,
        site: None,
        lang: "en".into(),
    }
}

pub fn sid(s: &str) -> SiteId {
    SiteId::new(s).unwrap()
}

pub fn users_sessions_and_tokens(fresh: Fresh<'_>) {
    let db = fresh().open();
    assert_eq!(db.user_count().unwrap(), 0);
    db.put_user("alice", "hash-1", Role::Researcher, None)
        .unwrap();
    db.put_user("sam", "hash-2", Role::Steward, Some("de-a"))
        .unwrap();
    assert_eq!(db.user_count().unwrap(), 2);
    let (u, h) = db.user_with_hash("sam").unwrap().unwrap();
    assert_eq!(
        (u.role, u.site.as_deref(), u.lang.as_str(), h.as_str()),
        (Role::Steward, Some("de-a"), "en", "hash-2")
    );
    // replacing keeps the language, changes hash and role
    db.set_lang("alice", "ja").unwrap();
    db.put_user("alice", "hash-3", Role::Admin, None).unwrap();
    let (u, h) = db.user_with_hash("alice").unwrap().unwrap();
    assert_eq!(
        (u.role, u.lang.as_str(), h.as_str()),
        (Role::Admin, "ja", "hash-3")
    );
    assert_eq!(db.user_count().unwrap(), 2);
    assert!(db.user_with_hash("nobody").unwrap().is_none());
    assert!(db.user_exists("sam").unwrap() && !db.user_exists("Sam").unwrap());

    db.put_session("s-live", "alice", Utc::now() + Duration::hours(1))
        .unwrap();
    db.put_session("s-old", "alice", Utc::now() - Duration::seconds(1))
        .unwrap();
    assert_eq!(
        db.session_user("s-live", super::idle())
            .unwrap()
            .unwrap()
            .name,
        "alice"
    );
    assert!(
        db.session_user("s-old", super::idle()).unwrap().is_none(),
        "an expired session signs nobody in"
    );
    assert!(db.session_user("s-other", super::idle()).unwrap().is_none());
    db.delete_session("s-live").unwrap();
    assert!(db.session_user("s-live", super::idle()).unwrap().is_none());
    // a session of nobody is refused by the foreign key
    assert!(
        db.put_session("s-x", "ghost", Utc::now() + Duration::hours(1))
            .is_err()
    );

    db.put_token("t-1", "sam", "laptop", super::later())
        .unwrap();
    let u = db.token_user("t-1").unwrap().unwrap();
    assert_eq!((u.name.as_str(), u.role), ("sam", Role::Steward));
    assert!(db.token_user("t-2").unwrap().is_none());
    assert!(
        db.put_token("t-1", "alice", "again", super::later())
            .is_err(),
        "a token is stored once"
    );
    assert_eq!(db.token_user("t-1").unwrap().unwrap().name, "sam");
}

pub fn projects_and_members(fresh: Fresh<'_>) {
    let db = fresh().open();
    for n in ["bob", "alice", "carol"] {
        db.put_user(n, "h", Role::Researcher, None).unwrap();
    }
    let p1 = ProjectId::new("p1").unwrap();
    db.put_project(&p1, "Project one", &["bob".into(), "alice".into()])
        .unwrap();
    db.put_project(&ProjectId::new("p0").unwrap(), "Zero", &["carol".into()])
        .unwrap();
    // renaming adds members, keeps the others, and a member twice is one member
    db.put_project(&p1, "Project 1", &["alice".into(), "carol".into()])
        .unwrap();
    assert!(db.project_exists("p1").unwrap() && !db.project_exists("p2").unwrap());
    assert!(db.is_member("p1", "bob").unwrap() && !db.is_member("p0", "bob").unwrap());
    let mine = db.projects_of(&user("bob", Role::Researcher)).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].id.as_str(), mine[0].title.as_str()),
        ("p1", "Project 1")
    );
    assert_eq!(mine[0].members, ["alice", "bob", "carol"]);
    let all = db.projects_of(&user("root", Role::Admin)).unwrap();
    let ids: Vec<_> = all.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p0", "p1"]);
    assert_eq!(all[0].members, ["carol"]);
    assert!(
        db.projects_of(&user("dave", Role::Researcher))
            .unwrap()
            .is_empty()
    );
    assert!(
        db.put_project(&p1, "x", &["ghost".into()]).is_err(),
        "members must be users"
    );
    assert_eq!(
        db.projects_of(&user("root", Role::Admin)).unwrap()[1].title,
        "Project 1",
        "the failed write left nothing"
    );
}

pub fn sites_and_heartbeats(fresh: Fresh<'_>) {
    let db = fresh().open();
    db.put_site(&sid("jp-b"), "B", Country::Japan, "key-b", "tok-b")
        .unwrap();
    db.put_site(&sid("de-z"), "Z", Country::Germany, "key-z", "tok-z")
        .unwrap();
    db.put_site(&sid("de-a"), "A", Country::Germany, "key-a", "tok-a")
        .unwrap();
    let ids: Vec<_> = db
        .sites()
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(ids, ["de-a", "de-z", "jp-b"], "by country, then id");
    let s = db.site_by_token("tok-b").unwrap().unwrap();
    assert_eq!(
        (s.name.as_str(), s.country, s.public_key.as_str()),
        ("B", Country::Japan, "key-b")
    );
    assert!(s.last_seen.is_none() && s.snapshot.is_none() && s.policy.is_none());
    // re-keying: the old token no longer names the site
    db.put_site(&sid("jp-b"), "B2", Country::Japan, "key-b2", "tok-b2")
        .unwrap();
    assert!(db.site_by_token("tok-b").unwrap().is_none());
    assert_eq!(
        db.site_by_token("tok-b2").unwrap().unwrap().public_key,
        "key-b2"
    );
    let snapshot = kakehashi_federation::SnapshotInfo {
        id: 7,
        created: Utc::now(),
        patients_rounded: 1200,
    };
    let policy = kakehashi_disclosure::Policy::default().summary();
    db.site_seen(&sid("jp-b"), Some(&snapshot), &policy, "1.2.3", "head")
        .unwrap();
    let s = db.site_by_token("tok-b2").unwrap().unwrap();
    assert!(Utc::now() - s.last_seen.unwrap() < Duration::minutes(1));
    assert_eq!(s.snapshot.unwrap().id, 7);
    assert_eq!(s.policy.unwrap().min_count, policy.min_count);
    assert_eq!(
        (s.version.as_deref(), s.audit_head.as_deref()),
        (Some("1.2.3"), Some("head"))
    );
    assert_eq!(db.sites().unwrap().len(), 3);
}

pub fn tasks_answers_and_holds(fresh: Fresh<'_>) {
    let db = fresh().open();
    db.put_user("alice", "h", Role::Researcher, None).unwrap();
    db.put_project(&ProjectId::new("p1").unwrap(), "P", &["alice".into()])
        .unwrap();
    let (a, b, c) = (sid("de-a"), sid("de-b"), sid("jp-c"));
    db.put_task(&task("t1", "p1", "alice", 10), &[a.clone(), b.clone()])
        .unwrap();
    db.put_task(&task("t2", "p2", "bob", 10), std::slice::from_ref(&a))
        .unwrap();
    db.put_task(&task("t0", "p1", "alice", -1), std::slice::from_ref(&a))
        .unwrap();
    assert!(
        db.put_task(&task("t1", "p1", "alice", 10), std::slice::from_ref(&c))
            .is_err(),
        "a task id is stored once"
    );
    let t1 = db.task("t1").unwrap().unwrap();
    assert_eq!(
        (t1.project.as_str(), t1.requested_by.as_str(), &t1.spec),
        ("p1", "alice", &spec())
    );
    assert_eq!(db.task_sites("t1").unwrap(), ["de-a", "de-b"]);
    let ids = |ts: Vec<Task>| ts.into_iter().map(|t| t.id.to_string()).collect::<Vec<_>>();
    let alice = user("alice", Role::Researcher);
    let mut seen = ids(db.tasks_for(&alice, None, 10).unwrap());
    seen.sort();
    assert_eq!(seen, ["t0", "t1"], "only the projects she is a member of");
    assert_eq!(
        ids(db
            .tasks_for(&user("root", Role::Admin), Some("p2"), 10)
            .unwrap()),
        ["t2"]
    );
    assert_eq!(
        db.tasks_for(&user("root", Role::Admin), None, 2)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        ids(db.open_tasks_for_site(&a).unwrap()),
        ["t1", "t2"],
        "past-due t0 left out"
    );

    let key = key();
    let (ans, env) = signed(&key, "de-a", "t1", "no data");
    assert_eq!(db.put_answer(&ans, &env, Utc::now()).unwrap(), Stored::New);
    let (ans_c, env_c) = signed(&key, "jp-c", "t1", "not asked");
    assert_eq!(
        db.put_answer(&ans_c, &env_c, Utc::now()).unwrap(),
        Stored::Refused
    );
    assert_eq!(ids(db.open_tasks_for_site(&a).unwrap()), ["t2"]);
    let got = db.answers("t1").unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, ans);

    // holds: the first report wins; a hold takes the task out of the site's polls; no hold
    // after an answer or for a site not asked
    let since = Utc::now() - Duration::minutes(5);
    assert!(db.put_hold("t1", &b, "awaiting_approval", since).unwrap());
    assert!(db.put_hold("t1", &b, "other", Utc::now()).unwrap());
    assert!(
        !db.put_hold("t1", &a, "awaiting_approval", Utc::now())
            .unwrap()
    );
    assert!(
        !db.put_hold("t1", &c, "awaiting_approval", Utc::now())
            .unwrap()
    );
    let holds = db.holds("t1").unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].0, "de-b");
    assert!((holds[0].1 - since).num_milliseconds().abs() < 1);
    assert!(db.open_tasks_for_site(&b).unwrap().is_empty());
}
