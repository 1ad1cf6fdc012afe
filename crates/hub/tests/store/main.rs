//! The hub's store, one suite run on both backends: each case in `cases.rs`, `identity.rs`,
//! `together.rs`, `injection.rs`, `upgrade.rs`, `office.rs`, `catalogue.rs`, `studies.rs`, `records.rs` and `quality.rs` is written once over a [`Place`] (a new
//! empty database) and runs on SQLite (one `#[test]` per case) and on a throw-away PostgreSQL server started
//! here (`postgres`, every case in turn, each in a database of its own; it skips with a
//! message when PostgreSQL is not installed: `pg/mod.rs`).

#[path = "../pg/mod.rs"]
mod pg;

mod cases;
mod catalogue;
mod identity;
mod injection;
mod office;
mod quality;
mod records;
mod studies;
mod together;
mod upgrade;

use kakehashi_hub::Hub;
use kakehashi_hub::config::{DatabaseUrl, HubConfig};
use kakehashi_hub::db::{Db, PgUrl, migrate};
use std::path::Path;
use std::sync::Arc;

/// A new empty database of one backend.
pub enum Place {
    /// `hub.sqlite` in a folder of its own.
    Sqlite(tempfile::TempDir),
    /// A database of the test server.
    Postgres(String),
}

impl Place {
    /// The store, migrated to the newest version (a second call is a second connection to
    /// the same database, like a second hub).
    pub fn open(&self) -> Db {
        self.open_to(migrate::latest())
    }

    /// The store with the migrations up to `version`.
    pub fn open_to(&self, version: i64) -> Db {
        match self {
            Place::Sqlite(d) => Db::sqlite(d.path(), version),
            Place::Postgres(u) => Db::postgres(&PgUrl::parse(u).unwrap(), version),
        }
        .unwrap()
    }

    /// A hub on this database with its own files (audit log, key) in `data`.
    pub fn hub(&self, data: &Path) -> Arc<Hub> {
        let (data_dir, database_url) = match self {
            Place::Sqlite(d) => (d.path().to_owned(), None),
            Place::Postgres(u) => (data.to_owned(), Some(DatabaseUrl(u.clone()))),
        };
        Hub::open(HubConfig {
            data_dir,
            database_url,
            ..HubConfig::default()
        })
        .unwrap()
    }

    /// Runs statements straight on the database, past the store (to build what an older hub
    /// left, or to age a row); `"user"` quoted, as both dialects read it.
    pub fn raw(&self, sql: &str) {
        match self {
            Place::Sqlite(d) => rusqlite::Connection::open(d.path().join("hub.sqlite"))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Place::Postgres(u) => postgres::Client::connect(u, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// The integer a query gives, read straight from the database.
    pub fn raw_int(&self, sql: &str) -> i64 {
        match self {
            Place::Sqlite(d) => rusqlite::Connection::open(d.path().join("hub.sqlite"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Place::Postgres(u) => postgres::Client::connect(u, postgres::NoTls)
                .unwrap()
                .query_one(sql, &[])
                .unwrap()
                .get(0),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Place::Postgres(_))
    }
}

/// The `idle_since` of a session check: sessions used in the last 30 minutes are live.
pub fn idle() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::minutes(30)
}

/// The end of a token made by a case that is not about token expiry: tomorrow.
pub fn later() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(1)
}

/// Makes a new empty database.
pub type Fresh<'a> = &'a dyn Fn() -> Place;
type Case = fn(Fresh<'_>);

fn sqlite() -> Place {
    Place::Sqlite(tempfile::tempdir().unwrap())
}

fn on_postgres(cases: &[(&str, Case)]) {
    let Some(server) = pg::TempPg::start("the hub's store suite") else {
        return;
    };
    let fresh = || Place::Postgres(server.new_database());
    let mut failed = Vec::new();
    for (name, case) in cases {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&fresh))) {
            Ok(()) => eprintln!("store suite on PostgreSQL: {name} ok"),
            Err(_) => failed.push(*name),
        }
    }
    eprintln!(
        "store suite on PostgreSQL ({}): {} passed, {} failed",
        server.version,
        cases.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "failed on PostgreSQL: {failed:?}");
}

/// One `#[test]` per case on SQLite, and one running them all on PostgreSQL.
macro_rules! store_suite {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $case() {
                super::$module::$case(&super::sqlite);
            })*
        }

        #[test]
        fn postgres() {
            on_postgres(&[$((stringify!($case), $module::$case as Case)),*]);
        }
    };
}

store_suite!(
    cases::users_sessions_and_tokens,
    cases::projects_and_members,
    cases::sites_and_heartbeats,
    cases::tasks_answers_and_holds,
    together::an_answer_retry_is_idempotent_even_when_racing,
    together::two_writers_at_once_lose_nothing,
    together::a_poll_leaves_tasks_in_hand_out_and_wakes_for_a_new_one,
    injection::sql_in_every_text_field_is_stored_verbatim_and_changes_nothing_else,
    identity::sessions_end_absolutely_and_when_idle,
    identity::tokens_expire_and_are_revoked,
    identity::a_disabled_user_loses_sessions_and_tokens_until_enabled,
    identity::a_pending_sign_in_is_taken_once,
    identity::users_are_linked_by_issuer_and_subject,
    identity::sql_in_the_identity_fields_is_stored_verbatim,
    upgrade::a_version_1_database_upgrades_in_place,
    upgrade::a_database_with_identity_step_2_upgrades_in_place,
    upgrade::a_newer_schema_is_refused,
    upgrade::hubs_starting_together_migrate_once,
    office::the_office_keeps_its_rules_on_both_backends,
    catalogue::each_sites_catalogue_is_kept_checked_and_searchable,
    studies::studies_keep_their_rules_on_both_backends,
    records::records_keep_their_rules_on_both_backends,
    quality::queries_keep_their_workflow_on_both_backends,
);
