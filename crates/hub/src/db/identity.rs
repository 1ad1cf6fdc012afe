//! Identity: schema step 2 (disabled users, OpenID Connect links, session idle time, token
//! ids and expiry, pending OpenID sign-ins), and the queries of the admin pages, token
//! revocation and OpenID sign-in. Plain SQL that SQLite and PostgreSQL both run.

use super::{Db, R, Role, User, secret_hash};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Migration step 2 (issue 27, identity). Portable SQL (SQLite and PostgreSQL); applied once,
/// recorded in `schema_steps`. Existing sessions get `last_seen` = now, existing tokens an
/// id (the start of their hash) and an expiry of 90 days from the migration.
const STEP_2_IDENTITY: &[&str] = &[
    "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN issuer TEXT",
    "ALTER TABLE users ADD COLUMN subject TEXT",
    "ALTER TABLE users ADD COLUMN last_login TEXT",
    "CREATE UNIQUE INDEX users_identity ON users (issuer, subject)",
    "ALTER TABLE sessions ADD COLUMN created TEXT",
    "ALTER TABLE sessions ADD COLUMN last_seen TEXT",
    "CREATE INDEX sessions_user ON sessions (user)",
    "ALTER TABLE tokens ADD COLUMN id TEXT",
    "ALTER TABLE tokens ADD COLUMN expires TEXT",
    "CREATE INDEX tokens_user ON tokens (user)",
    "CREATE TABLE oidc_pending (state_hash TEXT PRIMARY KEY, issuer TEXT NOT NULL,
        nonce TEXT NOT NULL, verifier TEXT NOT NULL, next TEXT NOT NULL, expires TEXT NOT NULL)",
];

/// Applies the schema steps this database lacks, each in one transaction.
pub(super) fn migrate(c: &Connection) -> R<()> {
    c.execute(
        "CREATE TABLE IF NOT EXISTS schema_steps (step INTEGER PRIMARY KEY, applied TEXT NOT NULL)",
        [],
    )?;
    let done: Option<i64> = c
        .query_row("SELECT step FROM schema_steps WHERE step = 2", [], |r| {
            r.get(0)
        })
        .optional()?;
    if done.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    c.execute_batch("BEGIN")?;
    let run = || -> R<()> {
        for s in STEP_2_IDENTITY {
            c.execute(s, [])?;
        }
        c.execute(
            "UPDATE sessions SET created = ?1, last_seen = ?1",
            [now.to_rfc3339()],
        )?;
        c.execute(
            "UPDATE tokens SET id = substr(hash, 1, 16), expires = ?1",
            [(now + Duration::days(90)).to_rfc3339()],
        )?;
        c.execute(
            "INSERT INTO schema_steps (step, applied) VALUES (2, ?1)",
            [now.to_rfc3339()],
        )?;
        Ok(())
    };
    match run() {
        Ok(()) => Ok(c.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A user as the admin page lists them.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// A steward's site.
    pub site: Option<String>,
    /// `local`, or the id of the OpenID Connect issuer the user signs in with.
    pub source: String,
    /// Whether the user is disabled.
    pub disabled: bool,
    /// Last successful sign-in (RFC 3339).
    pub last_login: Option<String>,
    /// Live sessions.
    pub sessions: u64,
    /// Live API tokens.
    pub tokens: u64,
}

/// An API token as its owner sees it (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    /// The token's id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// When it was made.
    pub created: String,
    /// When it ends.
    pub expires: String,
}

impl Db {
    /// Whether a user exists and is disabled.
    pub fn user_disabled(&self, name: &str) -> R<bool> {
        Ok(self
            .conn()
            .query_row("SELECT disabled FROM users WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some_and(|d| d != 0))
    }

    /// Records a successful sign-in.
    pub fn touch_login(&self, name: &str) -> R<()> {
        self.conn().execute(
            "UPDATE users SET last_login = ?2 WHERE name = ?1",
            params![name, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Every user, with their live sessions and tokens.
    pub fn user_rows(&self, idle_since: DateTime<Utc>) -> R<Vec<UserRow>> {
        let now = Utc::now().to_rfc3339();
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT u.name, u.role, u.site, u.issuer, u.disabled, u.last_login,
               (SELECT count(*) FROM sessions s WHERE s.user = u.name AND s.expires > ?1 AND s.last_seen > ?2),
               (SELECT count(*) FROM tokens t WHERE t.user = u.name AND t.expires > ?1)
             FROM users u ORDER BY u.name",
        )?;
        let rows = st.query_map(params![now, idle_since.to_rfc3339()], |r| {
            Ok(UserRow {
                name: r.get(0)?,
                role: Role::parse(&r.get::<_, String>(1)?),
                site: r.get(2)?,
                source: r
                    .get::<_, Option<String>>(3)?
                    .unwrap_or_else(|| "local".into()),
                disabled: r.get::<_, i64>(4)? != 0,
                last_login: r.get(5)?,
                sessions: r.get::<_, i64>(6)? as u64,
                tokens: r.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Disables or enables a user; disabling also ends their sessions. Returns whether the
    /// user exists.
    pub fn set_disabled(&self, name: &str, disabled: bool) -> R<bool> {
        let c = self.conn();
        let n = c.execute(
            "UPDATE users SET disabled = ?2 WHERE name = ?1",
            params![name, disabled as i64],
        )?;
        if disabled {
            c.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
        }
        Ok(n > 0)
    }

    /// Ends every session of a user; returns how many.
    pub fn delete_sessions_of(&self, name: &str) -> R<u64> {
        Ok(self
            .conn()
            .execute("DELETE FROM sessions WHERE user = ?1", [name])? as u64)
    }

    /// Revokes every API token of a user; returns how many.
    pub fn delete_tokens_of(&self, name: &str) -> R<u64> {
        Ok(self
            .conn()
            .execute("DELETE FROM tokens WHERE user = ?1", [name])? as u64)
    }

    /// A user's live API tokens.
    pub fn tokens_of(&self, name: &str) -> R<Vec<TokenRow>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT id, label, created, expires FROM tokens WHERE user = ?1 AND expires > ?2 ORDER BY created",
        )?;
        let rows = st.query_map(params![name, Utc::now().to_rfc3339()], |r| {
            Ok(TokenRow {
                id: r.get(0)?,
                label: r.get(1)?,
                created: r.get(2)?,
                expires: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes one of a user's tokens by id; returns whether there was one.
    pub fn delete_token(&self, name: &str, id: &str) -> R<bool> {
        Ok(self.conn().execute(
            "DELETE FROM tokens WHERE user = ?1 AND id = ?2",
            params![name, id],
        )? > 0)
    }

    /// The user linked to an issuer's subject, and whether they are disabled.
    pub fn user_by_subject(&self, issuer: &str, subject: &str) -> R<Option<(User, bool)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, role, site, lang, disabled FROM users WHERE issuer = ?1 AND subject = ?2",
                params![issuer, subject],
                |r| {
                    Ok((
                        User {
                            name: r.get(0)?,
                            role: Role::parse(&r.get::<_, String>(1)?),
                            site: r.get(2)?,
                            lang: r.get(3)?,
                        },
                        r.get::<_, i64>(4)? != 0,
                    ))
                },
            )
            .optional()?)
    }

    /// Creates a user linked to an issuer's subject, under the first free name of
    /// `candidates`; its password hash is no valid hash, so it cannot sign in by password.
    pub fn create_linked_user(
        &self,
        candidates: &[String],
        issuer: &str,
        subject: &str,
        role: Role,
        site: Option<&str>,
    ) -> R<String> {
        let c = self.conn();
        for name in candidates {
            let n = c.execute(
                "INSERT INTO users (name, password_hash, role, site, created, issuer, subject)
                 VALUES (?1, '!oidc', ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
                params![
                    name,
                    role.as_str(),
                    site,
                    Utc::now().to_rfc3339(),
                    issuer,
                    subject
                ],
            )?;
            if n == 1 {
                return Ok(name.clone());
            }
        }
        Err(super::DbError(format!(
            "no free user name for {issuer}/{subject}"
        )))
    }

    /// Sets a linked user's role and site (re-evaluated at every sign-in).
    pub fn set_role(&self, name: &str, role: Role, site: Option<&str>) -> R<()> {
        self.conn().execute(
            "UPDATE users SET role = ?2, site = ?3 WHERE name = ?1",
            params![name, role.as_str(), site],
        )?;
        Ok(())
    }

    /// Keeps a started OpenID sign-in until `expires` (by its `state`'s hash).
    pub fn put_pending(
        &self,
        state: &str,
        p: &crate::auth::oidc::Pending,
        expires: DateTime<Utc>,
    ) -> R<()> {
        let c = self.conn();
        c.execute(
            "DELETE FROM oidc_pending WHERE expires < ?1",
            [Utc::now().to_rfc3339()],
        )?;
        c.execute(
            "INSERT INTO oidc_pending (state_hash, issuer, nonce, verifier, next, expires)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                secret_hash(state),
                p.issuer,
                p.nonce,
                p.verifier,
                p.next,
                expires.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// Takes a started sign-in by its `state`, once: it is deleted whether or not it is
    /// still live; `None` when unknown, used already, or expired.
    pub fn take_pending(&self, state: &str) -> R<Option<crate::auth::oidc::Pending>> {
        let hash = secret_hash(state);
        let c = self.conn();
        let row = c
            .query_row(
                "SELECT issuer, nonce, verifier, next, expires FROM oidc_pending WHERE state_hash = ?1",
                [&hash],
                |r| {
                    Ok((
                        crate::auth::oidc::Pending {
                            issuer: r.get(0)?,
                            nonce: r.get(1)?,
                            verifier: r.get(2)?,
                            next: r.get(3)?,
                        },
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        // only the request whose DELETE removed the row may use it (two racing callbacks
        // with one state: one wins)
        let taken = c.execute("DELETE FROM oidc_pending WHERE state_hash = ?1", [&hash])? == 1;
        Ok(row
            .filter(|(_, exp)| taken && *exp > Utc::now().to_rfc3339())
            .map(|(p, _)| p))
    }
}
