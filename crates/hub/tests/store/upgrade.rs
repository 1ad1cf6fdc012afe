//! Migrations: a database made by version 1 alone (the schema hubs had before versions were
//! recorded; on SQLite also without the `schema_migrations` table, as those hubs left it), and
//! one that also has the identity schema those hubs applied as "step 2" (`schema_steps`),
//! keep their rows when the hub opens them and migrate to the newest version; a database
//! newer than the hub is refused.

use super::Fresh;
use super::cases::{key, sid, signed, task, user};
use chrono::{Duration, Utc};
use kakehashi_hub::db::{Role, Stored, migrate, secret_hash};
use kakehashi_model::{Country, ProjectId};

pub fn a_version_1_database_upgrades_in_place(fresh: Fresh<'_>) {
    let place = fresh();
    let key = key();
    {
        let v1 = place.open_to(1);
        assert_eq!(v1.schema_versions().unwrap(), [1]);
        v1.put_user("alice", "h", Role::Researcher, None).unwrap();
        v1.put_project(&ProjectId::new("p1").unwrap(), "P", &["alice".into()])
            .unwrap();
        v1.put_site(&sid("de-a"), "A", Country::Germany, "key", "tok")
            .unwrap();
        v1.put_task(&task("t1", "p1", "alice", 10), &[sid("de-a")])
            .unwrap();
        let (a, e) = signed(&key, "de-a", "t1", "kept");
        assert_eq!(v1.put_answer(&a, &e, Utc::now()).unwrap(), Stored::New);
    }
    // a session and a token as version 1 stored them (no idle time, no token id or expiry)
    let in_an_hour = (Utc::now() + Duration::hours(1)).to_rfc3339();
    place.raw(&format!(
        r#"INSERT INTO sessions (hash, "user", expires) VALUES ('{}', 'alice', '{in_an_hour}');
           INSERT INTO tokens (hash, "user", label, created) VALUES ('{}', 'alice', 'cli', '{}');"#,
        secret_hash("s1"),
        secret_hash("k1"),
        Utc::now().to_rfc3339()
    ));
    if let super::Place::Sqlite(_) = &place {
        // as a hub from before versioned migrations left it
        place.raw("DROP TABLE schema_migrations");
    }
    let db = place.open();
    let want: Vec<i64> = migrate::versions();
    assert_eq!(db.schema_versions().unwrap(), want);
    assert!(
        migrate::latest() >= 3,
        "there is a version after 1 to upgrade to"
    );
    // the old session counts as used at the upgrade; the old token got an id and an expiry
    assert_eq!(
        db.session_user("s1", super::idle()).unwrap().unwrap().name,
        "alice"
    );
    assert_eq!(db.token_user("k1").unwrap().unwrap().name, "alice");
    let tokens = db.tokens_of("alice").unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, secret_hash("k1")[..16]);
    let expires = chrono::DateTime::parse_from_rfc3339(&tokens[0].expires).unwrap();
    let days = (expires.with_timezone(&Utc) - Utc::now()).num_days();
    assert!(
        (89..=90).contains(&days),
        "an old token ends in 90 days, not {days}"
    );
    assert_eq!(
        db.projects_of(&user("alice", Role::Researcher)).unwrap()[0].members,
        ["alice"]
    );
    assert_eq!(db.site_by_token("tok").unwrap().unwrap().name, "A");
    assert_eq!(db.task("t1").unwrap().unwrap().requested_by, "alice");
    assert_eq!(db.answers("t1").unwrap().len(), 1);
    assert!(db.open_tasks_for_site(&sid("de-a")).unwrap().is_empty());
    // and opening it again changes nothing
    drop(db);
    assert_eq!(place.open().schema_versions().unwrap(), want);
}

/// The identity schema as hubs before numbered migrations applied it ("step 2", recorded in
/// `schema_steps`; main's `db/identity.rs` at the identity merge), `user` quoted so that
/// PostgreSQL reads it too.
const IDENTITY_STEP_2: &str = r#"
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN issuer TEXT;
ALTER TABLE users ADD COLUMN subject TEXT;
ALTER TABLE users ADD COLUMN last_login TEXT;
CREATE UNIQUE INDEX users_identity ON users (issuer, subject);
ALTER TABLE sessions ADD COLUMN created TEXT;
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
CREATE INDEX sessions_user ON sessions ("user");
ALTER TABLE tokens ADD COLUMN id TEXT;
ALTER TABLE tokens ADD COLUMN expires TEXT;
CREATE INDEX tokens_user ON tokens ("user");
CREATE TABLE oidc_pending (state_hash TEXT PRIMARY KEY, issuer TEXT NOT NULL,
    nonce TEXT NOT NULL, verifier TEXT NOT NULL, next TEXT NOT NULL, expires TEXT NOT NULL);
CREATE TABLE schema_steps (step INTEGER PRIMARY KEY, applied TEXT NOT NULL);
INSERT INTO schema_steps (step, applied) VALUES (2, '2025-01-01T00:00:00+00:00');"#;

pub fn a_database_with_identity_step_2_upgrades_in_place(fresh: Fresh<'_>) {
    let place = fresh();
    drop(place.open_to(1));
    place.raw(IDENTITY_STEP_2);
    if let super::Place::Sqlite(_) = &place {
        // main's identity hubs had no schema_migrations
        place.raw("DROP TABLE schema_migrations");
    }
    // rows as that hub wrote them: a disabled user, a linked one, a session seen 5 minutes
    // ago, a token with its own id and expiry, a sign-in under way
    let t = |d: Duration| (Utc::now() + d).to_rfc3339();
    place.raw(&format!(
        r#"INSERT INTO users (name, password_hash, role, created, disabled) VALUES ('dora', 'h', 'researcher', 'x', 1);
           INSERT INTO users (name, password_hash, role, created, issuer, subject, last_login)
             VALUES ('olga', '!oidc', 'steward', 'x', 'dfn', 'sub-1', 'then');
           INSERT INTO sessions (hash, "user", expires, created, last_seen) VALUES ('{s}', 'olga', '{exp}', '{seen}', '{seen}');
           INSERT INTO tokens (hash, "user", label, created, id, expires) VALUES ('{k}', 'olga', 'cli', 'x', 'my-id', '{texp}');
           INSERT INTO oidc_pending VALUES ('{st}', 'dfn', 'n', 'v', '/next', '{exp}');"#,
        s = secret_hash("s-olga"),
        k = secret_hash("k-olga"),
        st = secret_hash("state-1"),
        exp = t(Duration::hours(1)),
        seen = t(-Duration::minutes(5)),
        texp = t(Duration::days(3)),
    ));
    let db = place.open();
    let want: Vec<i64> = migrate::versions();
    assert_eq!(db.schema_versions().unwrap(), want);
    // what that hub stored is kept as it was, not refilled
    assert!(db.user_disabled("dora").unwrap());
    let (olga, disabled) = db.user_by_subject("dfn", "sub-1").unwrap().unwrap();
    assert_eq!((olga.name.as_str(), disabled), ("olga", false));
    assert!(
        db.session_user("s-olga", Utc::now() - Duration::minutes(1))
            .unwrap()
            .is_none(),
        "the session's last use (5 minutes ago) was kept"
    );
    assert!(db.session_user("s-olga", super::idle()).unwrap().is_some());
    let tokens = db.tokens_of("olga").unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, "my-id");
    assert_eq!(tokens[0].label, "cli");
    assert_eq!(db.user_rows(super::idle()).unwrap().len(), 2);
    assert!(db.delete_token("olga", "my-id").unwrap());
    assert_eq!(db.take_pending("state-1").unwrap().unwrap().next, "/next");
    // the identity index is there: a second link of the same subject is refused
    assert!(
        db.create_linked_user(&["olga-2".into()], "dfn", "sub-1", Role::Researcher, None)
            .is_err()
    );
    assert_eq!(
        place.raw_int(if place.is_postgres() {
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_steps'"
        } else {
            "SELECT count(*) FROM sqlite_master WHERE name = 'schema_steps'"
        }),
        0,
        "schema_steps is gone: schema_migrations records versions now"
    );
    drop(db);
    assert_eq!(place.open().schema_versions().unwrap(), want);
}

pub fn a_newer_schema_is_refused(fresh: Fresh<'_>) {
    let place = fresh();
    let next = migrate::latest() + 1;
    match &place {
        super::Place::Sqlite(dir) => {
            drop(place.open());
            let c = rusqlite::Connection::open(dir.path().join("hub.sqlite")).unwrap();
            c.execute(
                "INSERT INTO schema_migrations VALUES (?1, 'future', 'now')",
                [next],
            )
            .unwrap();
        }
        super::Place::Postgres(url) => {
            drop(place.open());
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.execute(
                "INSERT INTO schema_migrations VALUES ($1, 'future', 'now')",
                &[&next],
            )
            .unwrap();
        }
    }
    let err = match &place {
        super::Place::Sqlite(dir) => kakehashi_hub::db::Db::open(dir.path()).err(),
        super::Place::Postgres(url) => {
            kakehashi_hub::db::Db::open_url(Some(url), std::path::Path::new("unused")).err()
        }
    }
    .expect("a newer schema is refused");
    assert!(
        err.to_string()
            .contains(&format!("version {next}, newer than this hub")),
        "{err}"
    );
}

pub fn hubs_starting_together_migrate_once(fresh: Fresh<'_>) {
    let place = fresh();
    let dbs: Vec<_> = std::thread::scope(|s| {
        let h: Vec<_> = (0..3).map(|_| s.spawn(|| place.open())).collect();
        h.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let want: Vec<i64> = migrate::versions();
    for db in &dbs {
        assert_eq!(db.schema_versions().unwrap(), want);
    }
    dbs[0]
        .put_user("alice", "h", Role::Researcher, None)
        .unwrap();
    assert_eq!(dbs[2].user_count().unwrap(), 1);
}
