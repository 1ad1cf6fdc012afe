//! The schema's versions. Each [`Migration`] runs once, in a transaction of its own that also
//! records it in `schema_migrations`, when the hub opens its database (SQLite or
//! PostgreSQL); on PostgreSQL an advisory lock keeps replicas starting together from running
//! one twice. Adding a version is adding an entry to [`MIGRATIONS`]: portable SQL once
//! ([`Sql::both`]), or each backend's side by side ([`Sql::each`]). A version, once shipped,
//! is never edited.
//!
//! Version 1 is the schema hubs had before versions were recorded: on SQLite it is the same
//! `CREATE TABLE IF NOT EXISTS` text, so such a database upgrades in place. Version 3 is the
//! identity schema that hubs from before versions applied as "step 2" (recorded in a table
//! `schema_steps`, dropped here): it adds each column only when the table lacks it and
//! creates only what is missing, so such a database upgrades in place too.

use super::backend::{Conn, Sql, args};
use super::{DbError, R};

/// One version of the schema.
pub(crate) struct Migration {
    /// Its number, 1, 2, … in order.
    pub(crate) version: i64,
    /// What it does.
    pub(crate) name: &'static str,
    /// Columns it adds first, each only when its table lacks it.
    pub(crate) columns: &'static [Column],
    /// Its statements.
    pub(crate) sql: Sql,
    /// What it does last, in the same transaction (filling new columns of existing rows).
    pub(crate) then: Option<fn(&mut Conn<'_>) -> R<()>>,
}

/// A column a migration adds unless it is there already.
pub(crate) struct Column {
    /// Its table.
    pub(crate) table: &'static str,
    /// Its name.
    pub(crate) name: &'static str,
    /// The `ALTER TABLE … ADD COLUMN` that adds it.
    pub(crate) add: Sql,
}

/// Every version, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users, sessions, tokens, projects, sites, tasks, answers, holds",
        columns: &[],
        sql: Sql::each(V1_SQLITE, V1_POSTGRES),
        then: None,
    },
    Migration {
        version: 2,
        name: "index of the tasks sent to a site, read by every poll",
        columns: &[],
        sql: Sql::both("CREATE INDEX IF NOT EXISTS task_sites_site ON task_sites(site, task);"),
        then: None,
    },
    Migration {
        version: 3,
        name: "identity: disabled users, OpenID Connect links, session idle time, token ids and expiry, pending OpenID sign-ins",
        columns: V3_COLUMNS,
        sql: Sql::each(V3_SQLITE, V3_POSTGRES),
        then: Some(v3_fill),
    },
    Migration {
        version: 4,
        name: "the partnership office: agreements, bodies, decisions, documents, versions, translations, content, exchanges, courses, events, calendar feeds",
        columns: &[],
        sql: Sql::each(super::office::V4_SQLITE, super::office::V4_POSTGRES),
        then: None,
    },
    Migration {
        version: 5,
        name: "e-mail notifications: users' addresses, their preferences per topic, the outbox, the digests sent",
        columns: super::notify::V5_COLUMNS,
        sql: Sql::each(super::notify::V5_SQLITE, super::notify::V5_POSTGRES),
        then: None,
    },
    Migration {
        version: 6,
        name: "repository research: each site's MIABIS catalogue; access requests, the sites they ask, their attachments",
        columns: &[],
        sql: Sql::each(super::catalogue::V6_SQLITE, super::catalogue::V6_POSTGRES),
        then: None,
    },
    Migration {
        version: 7,
        name: "EDC studies: definitions, members with their study role and site, REDCap API tokens",
        columns: &[],
        sql: Sql::each(super::studies::V7_SQLITE, super::studies::V7_POSTGRES),
        then: None,
    },
    Migration {
        version: 8,
        name: "EDC records: study subjects (site-minted pseudonyms) and their form instances",
        columns: &[],
        sql: Sql::each(super::records::V8_SQLITE, super::records::V8_POSTGRES),
        then: None,
    },
    Migration {
        version: 9,
        name: "EDC data queries: one per field discrepancy, numbered per study, with its site, state and thread",
        columns: &[],
        sql: Sql::each(super::quality::V9_SQLITE, super::quality::V9_POSTGRES),
        then: None,
    },
    Migration {
        version: 10,
        name: "EDC pre-fill: requests for a subject's form values from the site's own data, and the sites' answers with their sources",
        columns: &[],
        sql: Sql::each(super::prefill::V10_SQLITE, super::prefill::V10_POSTGRES),
        then: None,
    },
];

/// The versions this hub knows, oldest first (numbers may skip one that another branch
/// takes).
pub fn versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

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

/// Version 3's columns. Booleans are `INTEGER` 0/1 on both backends, written as literals in
/// the statements (PostgreSQL's `INTEGER` takes no 64-bit parameter); times are RFC 3339 text,
/// compared as text (`COLLATE "C"` on PostgreSQL).
const V3_COLUMNS: &[Column] = &[
    col(
        "users",
        "disabled",
        Sql::both(
            "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))",
        ),
    ),
    col(
        "users",
        "issuer",
        Sql::each(
            "ALTER TABLE users ADD COLUMN issuer TEXT",
            r#"ALTER TABLE users ADD COLUMN issuer TEXT COLLATE "C""#,
        ),
    ),
    col(
        "users",
        "subject",
        Sql::each(
            "ALTER TABLE users ADD COLUMN subject TEXT",
            r#"ALTER TABLE users ADD COLUMN subject TEXT COLLATE "C""#,
        ),
    ),
    col(
        "users",
        "last_login",
        Sql::each(
            "ALTER TABLE users ADD COLUMN last_login TEXT",
            r#"ALTER TABLE users ADD COLUMN last_login TEXT COLLATE "C""#,
        ),
    ),
    col(
        "sessions",
        "created",
        Sql::each(
            "ALTER TABLE sessions ADD COLUMN created TEXT",
            r#"ALTER TABLE sessions ADD COLUMN created TEXT COLLATE "C""#,
        ),
    ),
    col(
        "sessions",
        "last_seen",
        Sql::each(
            "ALTER TABLE sessions ADD COLUMN last_seen TEXT",
            r#"ALTER TABLE sessions ADD COLUMN last_seen TEXT COLLATE "C""#,
        ),
    ),
    col(
        "tokens",
        "id",
        Sql::each(
            "ALTER TABLE tokens ADD COLUMN id TEXT",
            r#"ALTER TABLE tokens ADD COLUMN id TEXT COLLATE "C""#,
        ),
    ),
    col(
        "tokens",
        "expires",
        Sql::each(
            "ALTER TABLE tokens ADD COLUMN expires TEXT",
            r#"ALTER TABLE tokens ADD COLUMN expires TEXT COLLATE "C""#,
        ),
    ),
];

const fn col(table: &'static str, name: &'static str, add: Sql) -> Column {
    Column { table, name, add }
}

/// Version 3's indexes and table; `user` is quoted (reserved in PostgreSQL). The old
/// `schema_steps` table goes: `schema_migrations` records this version now.
const V3_SQLITE: &str = r#"
CREATE UNIQUE INDEX IF NOT EXISTS users_identity ON users (issuer, subject);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions ("user");
CREATE INDEX IF NOT EXISTS tokens_user ON tokens ("user");
CREATE TABLE IF NOT EXISTS oidc_pending (state_hash TEXT PRIMARY KEY, issuer TEXT NOT NULL,
    nonce TEXT NOT NULL, verifier TEXT NOT NULL, next TEXT NOT NULL, expires TEXT NOT NULL);
DROP TABLE IF EXISTS schema_steps;"#;

const V3_POSTGRES: &str = r#"
CREATE UNIQUE INDEX IF NOT EXISTS users_identity ON users (issuer, subject);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions ("user");
CREATE INDEX IF NOT EXISTS tokens_user ON tokens ("user");
CREATE TABLE IF NOT EXISTS oidc_pending (state_hash TEXT PRIMARY KEY, issuer TEXT NOT NULL,
    nonce TEXT NOT NULL, verifier TEXT NOT NULL, next TEXT NOT NULL,
    expires TEXT COLLATE "C" NOT NULL);
DROP TABLE IF EXISTS schema_steps;"#;

/// Existing sessions count as used now; existing tokens get an id (the start of their hash)
/// and end 90 days after the migration. Only rows still lacking them, so a database that
/// already had them keeps its values.
fn v3_fill(c: &mut Conn<'_>) -> R<()> {
    let now = chrono::Utc::now();
    let (now, in_90_days) = (
        now.to_rfc3339(),
        (now + chrono::Duration::days(90)).to_rfc3339(),
    );
    for q in [
        "UPDATE sessions SET created = ?1 WHERE created IS NULL",
        "UPDATE sessions SET last_seen = ?1 WHERE last_seen IS NULL",
    ] {
        c.exec(&Sql::both(q), args![&now])?;
    }
    c.exec(
        &Sql::both("UPDATE tokens SET id = substr(hash, 1, 16) WHERE id IS NULL"),
        &[],
    )?;
    c.exec(
        &Sql::both("UPDATE tokens SET expires = ?1 WHERE expires IS NULL"),
        args![&in_90_days],
    )?;
    Ok(())
}

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
/// Whether table `?1` has a column `?2`.
const HAS_COLUMN: Sql = Sql::each(
    "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
    "SELECT count(*) FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name::text = ?1 AND column_name::text = ?2",
);
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
    let within = |e: DbError| DbError(format!("migration {} ({}): {}", m.version, m.name, e.0));
    for col in m.columns {
        if c.int(&HAS_COLUMN, args![col.table, col.name])? == 0 {
            c.exec(&col.add, &[]).map_err(within)?;
        }
    }
    c.batch(&m.sql).map_err(within)?;
    if let Some(then) = m.then {
        then(c).map_err(within)?;
    }
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
