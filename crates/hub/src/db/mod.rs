//! The hub's state in SQLite (WAL): users, sessions, API tokens, projects, sites, tasks,
//! answers. Every write is one transaction; a hub restart loses no committed task or answer.
//! One file per concern: [`users`] (users, sessions, tokens), [`projects`], [`sites`], [`tasks`]
//! (tasks, answers, holds). The calls block: the hub runs them on tokio's blocking pool
//! ([`crate::Hub::blocking`]).

use chrono::{DateTime, Utc};
use kakehashi_federation::SnapshotInfo;
use kakehashi_model::{Country, SiteId};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

mod projects;
mod sites;
mod tasks;

pub use tasks::Stored;
mod identity;
mod users;

pub use identity::{TokenRow, UserRow};

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

/// The hub database.
pub struct Db(Mutex<Connection>);

impl Db {
    /// Opens (and migrates) the database in `dir`.
    pub fn open(dir: &Path) -> R<Db> {
        std::fs::create_dir_all(dir).map_err(|e| DbError(format!("{}: {e}", dir.display())))?;
        let c = Connection::open(dir.join("hub.sqlite"))?;
        c.busy_timeout(std::time::Duration::from_secs(10))?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
            CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
                role TEXT NOT NULL, site TEXT, lang TEXT NOT NULL DEFAULT 'en', created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),
                expires TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),
                label TEXT NOT NULL, created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, title TEXT NOT NULL, created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS members (project TEXT NOT NULL REFERENCES projects(id),
                user TEXT NOT NULL REFERENCES users(name), PRIMARY KEY (project, user));
            CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL,
                public_key TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, registered TEXT NOT NULL,
                last_seen TEXT, snapshot TEXT, policy TEXT, version TEXT, audit_head TEXT);
            CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, project TEXT NOT NULL, requested_by TEXT NOT NULL,
                created TEXT NOT NULL, deadline TEXT NOT NULL, spec TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS tasks_project ON tasks(project, created);
            CREATE TABLE IF NOT EXISTS task_sites (task TEXT NOT NULL REFERENCES tasks(id), site TEXT NOT NULL,
                PRIMARY KEY (task, site));
            CREATE TABLE IF NOT EXISTS answers (task TEXT NOT NULL REFERENCES tasks(id), site TEXT NOT NULL,
                received TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (task, site));
            CREATE TABLE IF NOT EXISTS site_holds (task TEXT NOT NULL REFERENCES tasks(id), site TEXT NOT NULL,
                state TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (task, site));",
        )?;
        identity::migrate(&c)?;
        Ok(Db(Mutex::new(c)))
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
