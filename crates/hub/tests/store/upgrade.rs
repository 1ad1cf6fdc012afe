//! Migrations: a database made by version 1 alone (the schema hubs had before versions were
//! recorded; on SQLite also without the `schema_migrations` table, as today's hubs left it)
//! keeps its rows when the hub opens it and migrates it to the newest version; a database
//! newer than the hub is refused.

use super::Fresh;
use super::cases::{key, sid, signed, task, user};
use chrono::{Duration, Utc};
use kakehashi_hub::db::{Role, Stored, migrate};
use kakehashi_model::{Country, ProjectId};

pub fn a_version_1_database_upgrades_in_place(fresh: Fresh<'_>) {
    let place = fresh();
    let key = key();
    {
        let v1 = place.open_to(1);
        assert_eq!(v1.schema_versions().unwrap(), [1]);
        v1.put_user("alice", "h", Role::Researcher, None).unwrap();
        v1.put_session("s1", "alice", Utc::now() + Duration::hours(1))
            .unwrap();
        v1.put_token("k1", "alice", "cli", super::later()).unwrap();
        v1.put_project(&ProjectId::new("p1").unwrap(), "P", &["alice".into()])
            .unwrap();
        v1.put_site(&sid("de-a"), "A", Country::Germany, "key", "tok")
            .unwrap();
        v1.put_task(&task("t1", "p1", "alice", 10), &[sid("de-a")])
            .unwrap();
        let (a, e) = signed(&key, "de-a", "t1", "kept");
        assert_eq!(v1.put_answer(&a, &e, Utc::now()).unwrap(), Stored::New);
    }
    if let super::Place::Sqlite(dir) = &place {
        // as a hub from before versioned migrations left it
        let c = rusqlite::Connection::open(dir.path().join("hub.sqlite")).unwrap();
        c.execute_batch("DROP TABLE schema_migrations").unwrap();
    }
    let db = place.open();
    let want: Vec<i64> = (1..=migrate::latest()).collect();
    assert_eq!(db.schema_versions().unwrap(), want);
    assert!(
        migrate::latest() >= 2,
        "there is a version after 1 to upgrade to"
    );
    assert_eq!(
        db.session_user("s1", super::idle()).unwrap().unwrap().name,
        "alice"
    );
    assert_eq!(db.token_user("k1").unwrap().unwrap().name, "alice");
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
    let want: Vec<i64> = (1..=migrate::latest()).collect();
    for db in &dbs {
        assert_eq!(db.schema_versions().unwrap(), want);
    }
    dbs[0]
        .put_user("alice", "h", Role::Researcher, None)
        .unwrap();
    assert_eq!(dbs[2].user_count().unwrap(), 1);
}
