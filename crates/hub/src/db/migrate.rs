//! The schema's versions. Each [`Migration`] runs once, in a transaction of its own that also
//! records it in `schema_migrations`, when the hub opens its database (SQLite or
//! PostgreSQL); on PostgreSQL an advisory lock keeps replicas starting together from running
//! one twice. Adding a version is adding an entry to [`MIGRATIONS`]: portable SQL once
//! ([`Sql::both`]), or each backend's side by side ([`Sql::each`]). A version, once shipped,
//! is never edited.
//!
//! Version 1 is the schema hubs had before versions were recorded: on SQLite it is the same
//! `CREATE TABLE IF NOT EXISTS` text, so such a database upgrades in place.

use super::backend::{Conn, Sql, args};
use super::{DbError, R};

/// One version of the schema.
pub(crate) struct Migration {
    /// Its number, 1, 2, … in order.
    pub(crate) version: i64,
    /// What it does.
    pub(crate) name: &'static str,
    /// Its statements.
    pub(crate) sql: Sql,
}

/// Every version, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users, sessions, tokens, projects, sites, tasks, answers, holds",
        sql: Sql::each(V1_SQLITE, V1_POSTGRES),
    },
    Migration {
        version: 2,
        name: "index of the tasks sent to a site, read by every poll",
        sql: Sql::both("CREATE INDEX IF NOT EXISTS task_sites_site ON task_sites(site, task);"),
    },
];

/// The newest version this hub knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const V1_SQLITE: &str = "
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
    state TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (task, site));";

/// Version 1 on PostgreSQL: the same tables; `user` is a reserved word there (every query
/// writes it `"user"`, which SQLite reads alike), and text compares byte by byte as in
/// SQLite (`COLLATE "C"`: times are RFC 3339 text and are compared and sorted as text).
const V1_POSTGRES: &str = r#"
CREATE TABLE users (name TEXT COLLATE "C" PRIMARY KEY, password_hash TEXT NOT NULL,
    role TEXT NOT NULL, site TEXT COLLATE "C", lang TEXT NOT NULL DEFAULT 'en', created TEXT COLLATE "C" NOT NULL);
CREATE TABLE sessions (hash TEXT PRIMARY KEY, "user" TEXT COLLATE "C" NOT NULL REFERENCES users(name),
    expires TEXT COLLATE "C" NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, "user" TEXT COLLATE "C" NOT NULL REFERENCES users(name),
    label TEXT NOT NULL, created TEXT COLLATE "C" NOT NULL);
CREATE TABLE projects (id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, created TEXT COLLATE "C" NOT NULL);
CREATE TABLE members (project TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    "user" TEXT COLLATE "C" NOT NULL REFERENCES users(name), PRIMARY KEY (project, "user"));
CREATE TABLE sites (id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, country TEXT COLLATE "C" NOT NULL,
    public_key TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, registered TEXT COLLATE "C" NOT NULL,
    last_seen TEXT COLLATE "C", snapshot TEXT, policy TEXT, version TEXT, audit_head TEXT);
CREATE TABLE tasks (id TEXT COLLATE "C" PRIMARY KEY, project TEXT COLLATE "C" NOT NULL, requested_by TEXT NOT NULL,
    created TEXT COLLATE "C" NOT NULL, deadline TEXT COLLATE "C" NOT NULL, spec TEXT NOT NULL);
CREATE INDEX tasks_project ON tasks(project, created);
CREATE TABLE task_sites (task TEXT COLLATE "C" NOT NULL REFERENCES tasks(id), site TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (task, site));
CREATE TABLE answers (task TEXT COLLATE "C" NOT NULL REFERENCES tasks(id), site TEXT COLLATE "C" NOT NULL,
    received TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (task, site));
CREATE TABLE site_holds (task TEXT COLLATE "C" NOT NULL REFERENCES tasks(id), site TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL, since TEXT COLLATE "C" NOT NULL, PRIMARY KEY (task, site));"#;

const CREATE_TABLE: Sql = Sql::each(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)",
);
/// One lock for every hub migrating this database (PostgreSQL; SQLite's `BEGIN IMMEDIATE`
/// already excludes other writers).
const LOCK: Sql = Sql::each(
    "SELECT 0",
    "SELECT pg_advisory_xact_lock(7340296174) IS NULL",
);
const NEWEST: Sql = Sql::both("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
const HAS: Sql = Sql::both("SELECT count(*) FROM schema_migrations WHERE version = ?1");
const RECORD: Sql =
    Sql::both("INSERT INTO schema_migrations (version, name, applied) VALUES (?1, ?2, ?3)");

/// Takes the migration lock and checks that the database is not newer than this hub.
fn lock(c: &mut Conn<'_>) -> R<()> {
    c.rows(&LOCK, &[])?;
    c.exec(&CREATE_TABLE, &[])?;
    let newest = c.int(&NEWEST, &[])?;
    if newest > latest() {
        return Err(DbError(format!(
            "the database's schema is version {newest}, newer than this hub knows ({}): update the hub",
            latest()
        )));
    }
    Ok(())
}

/// Applies migration `m` in the transaction `c` unless it is already recorded; whether it
/// ran.
pub(crate) fn apply(c: &mut Conn<'_>, m: &Migration) -> R<bool> {
    lock(c)?;
    if c.int(&HAS, args![m.version])? > 0 {
        return Ok(false);
    }
    c.batch(&m.sql)
        .map_err(|e| DbError(format!("migration {} ({}): {}", m.version, m.name, e.0)))?;
    let now = chrono::Utc::now().to_rfc3339();
    c.exec(&RECORD, args![m.version, m.name, &now])?;
    Ok(true)
}

/// The versions recorded, oldest first.
pub(crate) fn applied(c: &mut Conn<'_>) -> R<Vec<i64>> {
    c.exec(&CREATE_TABLE, &[])?;
    c.rows(
        &Sql::both("SELECT version FROM schema_migrations ORDER BY version"),
        &[],
    )?
    .iter()
    .map(|r| r.int(0))
    .collect()
}
