//! The hub's state in SQLite (WAL): users, sessions, API tokens, projects, sites, tasks,
//! answers. Every write is one transaction; a hub restart loses no committed task or answer.

use chrono::{DateTime, Utc};
use kakehashi_federation::{Answer, Envelope, SnapshotInfo, Task, TaskSpec};
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("hub database: {0}")]
pub struct DbError(String);

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

type R<T> = Result<T, DbError>;

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

    fn parse(s: &str) -> Role {
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
        Ok(Db(Mutex::new(c)))
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- users, sessions, tokens

    /// Number of users.
    pub fn user_count(&self) -> R<u64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Creates or replaces a user.
    pub fn put_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
        site: Option<&str>,
    ) -> R<()> {
        self.conn().execute(
            "INSERT INTO users (name, password_hash, role, site, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(name) DO UPDATE SET password_hash = ?2, role = ?3, site = ?4",
            params![name, password_hash, role.as_str(), site, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// A user and their password hash.
    pub fn user_with_hash(&self, name: &str) -> R<Option<(User, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, role, site, lang, password_hash FROM users WHERE name = ?1",
                [name],
                |r| {
                    Ok((
                        User {
                            name: r.get(0)?,
                            role: Role::parse(&r.get::<_, String>(1)?),
                            site: r.get(2)?,
                            lang: r.get(3)?,
                        },
                        r.get(4)?,
                    ))
                },
            )
            .optional()?)
    }

    /// Sets a user's language.
    pub fn set_lang(&self, name: &str, lang: &str) -> R<()> {
        self.conn().execute(
            "UPDATE users SET lang = ?2 WHERE name = ?1",
            params![name, lang],
        )?;
        Ok(())
    }

    /// Stores a session.
    pub fn put_session(&self, secret: &str, user: &str, expires: DateTime<Utc>) -> R<()> {
        self.conn().execute(
            "INSERT INTO sessions (hash, user, expires) VALUES (?1, ?2, ?3)",
            params![secret_hash(secret), user, expires.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Ends a session.
    pub fn delete_session(&self, secret: &str) -> R<()> {
        self.conn().execute(
            "DELETE FROM sessions WHERE hash = ?1",
            [secret_hash(secret)],
        )?;
        Ok(())
    }

    /// The user of a live session.
    pub fn session_user(&self, secret: &str) -> R<Option<User>> {
        let c = self.conn();
        Ok(c.query_row(
            "SELECT u.name, u.role, u.site, u.lang FROM sessions s JOIN users u ON u.name = s.user WHERE s.hash = ?1 AND s.expires > ?2",
            params![secret_hash(secret), Utc::now().to_rfc3339()],
            |r| Ok(User { name: r.get(0)?, role: Role::parse(&r.get::<_, String>(1)?), site: r.get(2)?, lang: r.get(3)? }),
        )
        .optional()?)
    }

    /// Stores an API token.
    pub fn put_token(&self, secret: &str, user: &str, label: &str) -> R<()> {
        self.conn().execute(
            "INSERT INTO tokens (hash, user, label, created) VALUES (?1, ?2, ?3, ?4)",
            params![secret_hash(secret), user, label, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// The user of an API token.
    pub fn token_user(&self, secret: &str) -> R<Option<User>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT u.name, u.role, u.site, u.lang FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?1",
                [secret_hash(secret)],
                |r| Ok(User { name: r.get(0)?, role: Role::parse(&r.get::<_, String>(1)?), site: r.get(2)?, lang: r.get(3)? }),
            )
            .optional()?)
    }

    // ---- projects

    /// Creates a project (or renames it) and adds members.
    pub fn put_project(&self, id: &ProjectId, title: &str, members: &[String]) -> R<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO projects (id, title, created) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET title = ?2",
            params![id.as_str(), title, Utc::now().to_rfc3339()],
        )?;
        for m in members {
            tx.execute(
                "INSERT OR IGNORE INTO members (project, user) VALUES (?1, ?2)",
                params![id.as_str(), m],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether a user exists.
    pub fn user_exists(&self, name: &str) -> R<bool> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM users WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })?
            > 0)
    }

    /// Whether a project exists.
    pub fn project_exists(&self, id: &str) -> R<bool> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM projects WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })?
            > 0)
    }

    /// Whether `user` is a member of `project`.
    pub fn is_member(&self, project: &str, user: &str) -> R<bool> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM members WHERE project = ?1 AND user = ?2",
            [project, user],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// Projects visible to a user (all, for an admin).
    pub fn projects_of(&self, user: &User) -> R<Vec<Project>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT p.id, p.title, COALESCE((SELECT group_concat(user, ',') FROM members m WHERE m.project = p.id), '')
             FROM projects p WHERE ?2 = 'admin' OR EXISTS (SELECT 1 FROM members m WHERE m.project = p.id AND m.user = ?1) ORDER BY p.id",
        )?;
        let rows = stmt.query_map(params![user.name, user.role.as_str()], |r| {
            let members: String = r.get(2)?;
            Ok(Project {
                id: r.get(0)?,
                title: r.get(1)?,
                members: members
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- sites

    /// Registers (or re-keys) a site with the hash of its token.
    pub fn put_site(
        &self,
        id: &SiteId,
        name: &str,
        country: Country,
        public_key: &str,
        token: &str,
    ) -> R<()> {
        self.conn().execute(
            "INSERT INTO sites (id, name, country, public_key, token_hash, registered) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET name = ?2, country = ?3, public_key = ?4, token_hash = ?5",
            params![id.as_str(), name, country.iso(), public_key, secret_hash(token), Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    fn site_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SiteRow> {
        let json = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
        Ok(SiteRow {
            id: SiteId::new(r.get::<_, String>(0)?)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            name: r.get(1)?,
            country: r.get::<_, String>(2)?.parse().unwrap_or(Country::Germany),
            public_key: r.get(3)?,
            last_seen: r
                .get::<_, Option<String>>(4)?
                .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                .map(|t| t.with_timezone(&Utc)),
            snapshot: json(5)?.and_then(|s| serde_json::from_str(&s).ok()),
            policy: json(6)?.and_then(|s| serde_json::from_str(&s).ok()),
            version: r.get(7)?,
            audit_head: r.get(8)?,
        })
    }

    const SITE_COLS: &'static str =
        "id, name, country, public_key, last_seen, snapshot, policy, version, audit_head";

    /// All sites, by id.
    pub fn sites(&self) -> R<Vec<SiteRow>> {
        let c = self.conn();
        let mut stmt = c.prepare(&format!(
            "SELECT {} FROM sites ORDER BY country, id",
            Self::SITE_COLS
        ))?;
        let rows = stmt.query_map([], Self::site_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The site a token belongs to.
    pub fn site_by_token(&self, token: &str) -> R<Option<SiteRow>> {
        let c = self.conn();
        Ok(c.query_row(
            &format!(
                "SELECT {} FROM sites WHERE token_hash = ?1",
                Self::SITE_COLS
            ),
            [secret_hash(token)],
            Self::site_from_row,
        )
        .optional()?)
    }

    /// Records a site's heartbeat.
    pub fn site_seen(
        &self,
        id: &SiteId,
        snapshot: Option<&SnapshotInfo>,
        policy: &kakehashi_disclosure::PolicySummary,
        version: &str,
        audit_head: &str,
    ) -> R<()> {
        self.conn().execute(
            "UPDATE sites SET last_seen = ?2, snapshot = ?3, policy = ?4, version = ?5, audit_head = ?6 WHERE id = ?1",
            params![
                id.as_str(),
                Utc::now().to_rfc3339(),
                snapshot.map(serde_json::to_string).transpose()?,
                serde_json::to_string(policy)?,
                version,
                audit_head
            ],
        )?;
        Ok(())
    }

    // ---- tasks and answers

    /// Stores a task and the sites it goes to.
    pub fn put_task(&self, task: &Task, sites: &[SiteId]) -> R<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO tasks (id, project, requested_by, created, deadline, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![task.id.as_str(), task.project.as_str(), task.requested_by, task.created.to_rfc3339(), task.deadline.to_rfc3339(), serde_json::to_string(&task.spec)?],
        )?;
        for s in sites {
            tx.execute(
                "INSERT INTO task_sites (task, site) VALUES (?1, ?2)",
                params![task.id.as_str(), s.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn task_from_row(
        r: &rusqlite::Row<'_>,
    ) -> rusqlite::Result<(String, String, String, String, String, String)> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }

    fn to_task(raw: (String, String, String, String, String, String)) -> R<Task> {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| DbError(e.to_string()))
        };
        Ok(Task {
            id: TaskId::new(raw.0).map_err(|e| DbError(e.to_string()))?,
            project: ProjectId::new(raw.1).map_err(|e| DbError(e.to_string()))?,
            requested_by: raw.2,
            created: t(&raw.3)?,
            deadline: t(&raw.4)?,
            spec: serde_json::from_str::<TaskSpec>(&raw.5)?,
        })
    }

    /// A task.
    pub fn task(&self, id: &str) -> R<Option<Task>> {
        let raw = self
            .conn()
            .query_row("SELECT id, project, requested_by, created, deadline, spec FROM tasks WHERE id = ?1", [id], Self::task_from_row)
            .optional()?;
        raw.map(Self::to_task).transpose()
    }

    /// Recent tasks of the projects visible to a user, newest first.
    pub fn tasks_for(&self, user: &User, project: Option<&str>, limit: u32) -> R<Vec<Task>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT id, project, requested_by, created, deadline, spec FROM tasks t
             WHERE (?3 IS NULL OR project = ?3)
               AND (?2 = 'admin' OR EXISTS (SELECT 1 FROM members m WHERE m.project = t.project AND m.user = ?1))
             ORDER BY created DESC LIMIT ?4",
        )?;
        let raws = stmt
            .query_map(
                params![user.name, user.role.as_str(), project, limit],
                Self::task_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(Self::to_task).collect()
    }

    /// Tasks a site has yet to answer (deadline not passed).
    pub fn open_tasks_for_site(&self, site: &SiteId) -> R<Vec<Task>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT t.id, t.project, t.requested_by, t.created, t.deadline, t.spec FROM tasks t
             JOIN task_sites ts ON ts.task = t.id AND ts.site = ?1
             WHERE t.deadline > ?2 AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = t.id AND a.site = ?1)
               AND NOT EXISTS (SELECT 1 FROM site_holds h WHERE h.task = t.id AND h.site = ?1)
             ORDER BY t.created",
        )?;
        let raws = stmt
            .query_map(
                params![site.as_str(), Utc::now().to_rfc3339()],
                Self::task_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(c);
        raws.into_iter().map(Self::to_task).collect()
    }

    /// The sites a task was sent to.
    pub fn task_sites(&self, task: &str) -> R<Vec<String>> {
        let c = self.conn();
        let mut stmt = c.prepare("SELECT site FROM task_sites WHERE task = ?1 ORDER BY site")?;
        let rows = stmt.query_map([task], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores an answer (the first answer of a site to a task wins). Returns false if the site
    /// had already answered or was not asked.
    pub fn put_answer(&self, answer: &Answer, env: &Envelope, received: DateTime<Utc>) -> R<bool> {
        let c = self.conn();
        let asked: i64 = c.query_row(
            "SELECT count(*) FROM task_sites WHERE task = ?1 AND site = ?2",
            params![answer.task.as_str(), answer.site.as_str()],
            |r| r.get(0),
        )?;
        if asked == 0 {
            return Ok(false);
        }
        let n = c.execute(
            "INSERT OR IGNORE INTO answers (task, site, received, body, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![answer.task.as_str(), answer.site.as_str(), received.to_rfc3339(), env.body, env.signature],
        )?;
        Ok(n == 1)
    }

    /// Records that a site holds a task for its steward's approval (the first report wins).
    /// Returns false if the site was not asked or has already answered.
    pub fn put_hold(
        &self,
        task: &str,
        site: &SiteId,
        state: &str,
        since: DateTime<Utc>,
    ) -> R<bool> {
        let c = self.conn();
        let open: i64 = c.query_row(
            "SELECT count(*) FROM task_sites ts WHERE ts.task = ?1 AND ts.site = ?2
               AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task = ?1 AND a.site = ?2)",
            params![task, site.as_str()],
            |r| r.get(0),
        )?;
        if open == 0 {
            return Ok(false);
        }
        c.execute(
            "INSERT OR IGNORE INTO site_holds (task, site, state, since) VALUES (?1, ?2, ?3, ?4)",
            params![task, site.as_str(), state, since.to_rfc3339()],
        )?;
        Ok(true)
    }

    /// The sites holding a task for approval, with the time they reported it.
    pub fn holds(&self, task: &str) -> R<Vec<(String, DateTime<Utc>)>> {
        let c = self.conn();
        let mut stmt = c.prepare("SELECT site, since FROM site_holds WHERE task = ?1")?;
        let rows = stmt
            .query_map([task], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(s, t)| {
                let at = DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| DbError(e.to_string()))?
                    .with_timezone(&Utc);
                Ok((s, at))
            })
            .collect()
    }

    /// The answers to a task, with their arrival times.
    pub fn answers(&self, task: &str) -> R<Vec<(Answer, DateTime<Utc>)>> {
        let c = self.conn();
        let mut stmt = c.prepare("SELECT body, received FROM answers WHERE task = ?1")?;
        let rows = stmt
            .query_map([task], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(b, t)| {
                let at = DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| DbError(e.to_string()))?
                    .with_timezone(&Utc);
                Ok((serde_json::from_str(&b)?, at))
            })
            .collect()
    }
}
