//! The hub's state: users, sessions, API tokens, projects, sites, tasks, answers, in SQLite
//! (WAL, one file in the data directory: the embedded default) or in PostgreSQL (for several
//! hub replicas on one database). Every write is one transaction; a hub restart loses no
//! committed task or answer. One file per concern: [`users`] (users, sessions, tokens),
//! [`identity`] (disabling users, revoking tokens, OpenID Connect links and pending
//! sign-ins), [`projects`], [`sites`], [`tasks`] (tasks, answers, holds), `catalogue` (each
//! site's MIABIS catalogue), `requests` (access requests and their attachments), `office` (the
//! partnership office's records, [`OfficeTable`]), `studies` (EDC studies, their members and
//! REDCap API tokens); both backends
//! behind one API in [`backend`] (each statement written once where the dialects agree, both
//! side by side where they differ), PostgreSQL's connections in [`pg`], the schema's
//! versions in [`migrate`]. The calls block: the hub runs them on tokio's blocking pool
//! ([`crate::Hub::blocking`]).

use chrono::{DateTime, Utc};
use kakehashi_federation::SnapshotInfo;
use kakehashi_model::{Country, SiteId};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

pub(crate) mod backend;
mod catalogue;
mod identity;
pub mod migrate;
mod notify;
mod office;
pub mod pg;
mod prefill;
mod projects;
mod quality;
mod records;
mod requests;
mod sites;
mod studies;
mod tasks;
mod users;

use backend::Conn;
pub use identity::{TokenRow, UserRow};
pub use notify::{Outgoing, Recipient};
pub use office::{Feed, OfficeTable, Record};
pub use pg::{PgUrl, Wake};
pub use prefill::{PrefillInsert, PrefillRow};
pub use quality::QueryInsert;
pub use records::{FormWrite, SubjectWrite, Written};
pub use studies::StudyMember;
pub use tasks::Stored;

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("hub database: {0}")]
pub struct DbError(pub(crate) String);

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError(format!("stored JSON does not read back: {e}"))
    }
}

pub(crate) type R<T> = Result<T, DbError>;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Asks questions in the projects they belong to.
    Researcher,
    /// Looks after one site: its status, policy and audit trail at the hub.
    Steward,
    /// Runs the network: users, projects, sites.
    Admin,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Researcher => "researcher",
            Role::Steward => "steward",
            Role::Admin => "admin",
        }
    }

    pub(crate) fn parse(s: &str) -> Role {
        match s {
            "admin" => Role::Admin,
            "steward" => Role::Steward,
            _ => Role::Researcher,
        }
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// For stewards: their site.
    pub site: Option<String>,
    /// Preferred UI language (`en`, `de`, `ja`).
    pub lang: String,
}

/// A registered site.
#[derive(Debug, Clone)]
pub struct SiteRow {
    /// Id.
    pub id: SiteId,
    /// Name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// Ed25519 public key, base64.
    pub public_key: String,
    /// Last poll.
    pub last_seen: Option<DateTime<Utc>>,
    /// Last reported snapshot.
    pub snapshot: Option<SnapshotInfo>,
    /// Last reported policy.
    pub policy: Option<kakehashi_disclosure::PolicySummary>,
    /// Software version.
    pub version: Option<String>,
    /// Last reported audit head.
    pub audit_head: Option<String>,
}

/// A project.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Members.
    pub members: Vec<String>,
}

/// The SHA-256 of a secret, as stored (tokens and session ids are never stored in clear).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Most connections one hub keeps open to PostgreSQL.
pub const PG_CONNECTIONS: usize = 16;

enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(Box<pg::Pool>),
}

/// The hub database.
pub struct Db(Backend);

impl Db {
    /// Opens (and migrates) the SQLite database `hub.sqlite` in `dir`.
    pub fn open(dir: &Path) -> R<Db> {
        Db::sqlite(dir, migrate::latest())
    }

    /// Opens the database `database_url` names (`postgres://…`), or else SQLite in `dir`;
    /// migrated to the newest version.
    pub fn open_url(database_url: Option<&str>, dir: &Path) -> R<Db> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Db::postgres(&PgUrl::parse(u)?, migrate::latest()),
            None => Db::open(dir),
        }
    }

    /// Opens `hub.sqlite` in `dir` with the migrations up to `version` applied.
    pub fn sqlite(dir: &Path, version: i64) -> R<Db> {
        std::fs::create_dir_all(dir).map_err(|e| DbError(format!("{}: {e}", dir.display())))?;
        let c = Connection::open(dir.join("hub.sqlite"))?;
        c.busy_timeout(std::time::Duration::from_secs(10))?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )?;
        let db = Db(Backend::Sqlite(Mutex::new(c)));
        db.migrate(version)?;
        Ok(db)
    }

    /// Connects to PostgreSQL at `url` with the migrations up to `version` applied. No
    /// connection is made on the calling thread (which may be the async runtime's).
    pub fn postgres(url: &PgUrl, version: i64) -> R<Db> {
        let pool = pg::Pool::new(url.clone(), PG_CONNECTIONS);
        let db = Db(Backend::Postgres(Box::new(pool)));
        std::thread::scope(|s| {
            s.spawn(|| db.migrate(version))
                .join()
                .unwrap_or_else(|_| Err(DbError("migrating panicked".into())))
        })?;
        Ok(db)
    }

    /// Applies the migrations up to `version`, each in its own transaction.
    fn migrate(&self, version: i64) -> R<()> {
        for m in migrate::MIGRATIONS.iter().filter(|m| m.version <= version) {
            if self.write(|c| migrate::apply(c, m))? {
                tracing::info!(version = m.version, name = m.name, "database migrated");
            }
        }
        Ok(())
    }

    /// The schema versions applied to this database, oldest first.
    pub fn schema_versions(&self) -> R<Vec<i64>> {
        self.write(migrate::applied)
    }

    /// Which database this is, for messages: the SQLite file or the PostgreSQL URL without
    /// its password.
    pub fn describe(&self) -> String {
        match &self.0 {
            Backend::Sqlite(c) => format!("SQLite {}", lock(c).path().unwrap_or("(in memory)")),
            Backend::Postgres(p) => format!("PostgreSQL {}", p.url()),
        }
    }

    /// Whether this is PostgreSQL (which several hub replicas may share).
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Backend::Postgres(_))
    }

    /// Hands what other replicas announce (new tasks, answers) to `on` until it returns false
    /// (asked with `None` once a second); on SQLite there are no other replicas and nothing
    /// is announced.
    pub fn listen(&self, on: Box<dyn FnMut(Option<Wake>) -> bool + Send>) -> R<()> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(p) => pg::listen(p.url().clone(), on),
        }
    }

    /// Runs `f` on a connection, each statement committing by itself.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut Conn<'_>) -> R<T>) -> R<T> {
        match &self.0 {
            Backend::Sqlite(c) => f(&mut Conn::Lite(&lock(c))),
            Backend::Postgres(p) => f(&mut Conn::Pg(&mut *p.get()?)),
        }
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back when it fails
    /// or panics. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Conn<'_>) -> R<T>) -> R<T> {
        match &self.0 {
            Backend::Sqlite(c) => {
                let mut c = lock(c);
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = f(&mut Conn::Lite(&tx))?;
                tx.commit()?;
                Ok(out)
            }
            Backend::Postgres(p) => {
                let mut pc = p.get()?;
                pc.simple("BEGIN")?;
                pc.in_tx = true;
                let out = f(&mut Conn::Pg(&mut pc));
                let end = if out.is_ok() { "COMMIT" } else { "ROLLBACK" };
                pc.simple(end)?;
                pc.in_tx = false;
                out
            }
        }
    }
}

fn lock(c: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}
