//! Identity: disabled users, OpenID Connect links, session idle time, token ids and expiry,
//! pending OpenID sign-ins (their schema is migration 3 in [`super::migrate`]), and the
//! queries of the admin pages, token revocation and OpenID sign-in, on both backends.

use super::backend::{Row, Sql, args};
use super::users::user_from;
use super::{Db, DbError, R, Role, User, secret_hash};
use crate::auth::oidc::Pending;
use chrono::{DateTime, Utc};
use serde::Serialize;

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
        let q = Sql::both("SELECT disabled FROM users WHERE name = ?1");
        Ok(match self.read(|c| c.row(&q, args![name]))? {
            Some(r) => r.int(0)? != 0,
            None => false,
        })
    }

    /// Records a successful sign-in.
    pub fn touch_login(&self, name: &str) -> R<()> {
        let q = Sql::both("UPDATE users SET last_login = ?2 WHERE name = ?1");
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![name, &now]))?;
        Ok(())
    }

    /// Every user, with their live sessions and tokens.
    pub fn user_rows(&self, idle_since: DateTime<Utc>) -> R<Vec<UserRow>> {
        let q = Sql::both(
            r#"SELECT u.name, u.role, u.site, u.issuer, u.disabled, u.last_login,
               (SELECT count(*) FROM sessions s WHERE s."user" = u.name AND s.expires > ?1 AND s.last_seen > ?2),
               (SELECT count(*) FROM tokens t WHERE t."user" = u.name AND t.expires > ?1)
             FROM users u ORDER BY u.name"#,
        );
        let (now, idle) = (Utc::now().to_rfc3339(), idle_since.to_rfc3339());
        let rows = self.read(|c| c.rows(&q, args![&now, &idle]))?;
        rows.iter()
            .map(|r| {
                Ok(UserRow {
                    name: r.text(0)?,
                    role: Role::parse(&r.text(1)?),
                    site: r.opt_text(2)?,
                    source: r.opt_text(3)?.unwrap_or_else(|| "local".into()),
                    disabled: r.int(4)? != 0,
                    last_login: r.opt_text(5)?,
                    sessions: r.int(6)? as u64,
                    tokens: r.int(7)? as u64,
                })
            })
            .collect()
    }

    /// Disables or enables a user; disabling also ends their sessions, in the same
    /// transaction. Returns whether the user exists.
    pub fn set_disabled(&self, name: &str, disabled: bool) -> R<bool> {
        // 0/1 written in the SQL, not bound: PostgreSQL's INTEGER takes no 64-bit parameter
        let q = match disabled {
            true => Sql::both("UPDATE users SET disabled = 1 WHERE name = ?1"),
            false => Sql::both("UPDATE users SET disabled = 0 WHERE name = ?1"),
        };
        self.write(|c| {
            let n = c.exec(&q, args![name])?;
            if disabled {
                c.exec(&DELETE_SESSIONS_OF, args![name])?;
            }
            Ok(n > 0)
        })
    }

    /// Ends every session of a user; returns how many.
    pub fn delete_sessions_of(&self, name: &str) -> R<u64> {
        self.write(|c| c.exec(&DELETE_SESSIONS_OF, args![name]))
    }

    /// Revokes every API token of a user; returns how many.
    pub fn delete_tokens_of(&self, name: &str) -> R<u64> {
        let q = Sql::both(r#"DELETE FROM tokens WHERE "user" = ?1"#);
        self.write(|c| c.exec(&q, args![name]))
    }

    /// A user's live API tokens.
    pub fn tokens_of(&self, name: &str) -> R<Vec<TokenRow>> {
        let q = Sql::both(
            r#"SELECT id, label, created, expires FROM tokens WHERE "user" = ?1 AND expires > ?2
               ORDER BY created, id"#,
        );
        let now = Utc::now().to_rfc3339();
        let rows = self.read(|c| c.rows(&q, args![name, &now]))?;
        rows.iter()
            .map(|r| {
                Ok(TokenRow {
                    id: r.text(0)?,
                    label: r.text(1)?,
                    created: r.text(2)?,
                    expires: r.text(3)?,
                })
            })
            .collect()
    }

    /// Revokes one of a user's tokens by id; returns whether there was one.
    pub fn delete_token(&self, name: &str, id: &str) -> R<bool> {
        let q = Sql::both(r#"DELETE FROM tokens WHERE "user" = ?1 AND id = ?2"#);
        Ok(self.write(|c| c.exec(&q, args![name, id]))? > 0)
    }

    /// The user linked to an issuer's subject, and whether they are disabled.
    pub fn user_by_subject(&self, issuer: &str, subject: &str) -> R<Option<(User, bool)>> {
        let q = Sql::both(
            "SELECT name, role, site, lang, disabled FROM users WHERE issuer = ?1 AND subject = ?2",
        );
        self.read(|c| c.row(&q, args![issuer, subject]))?
            .map(|r| Ok((user_from(&r, 0)?, r.int(4)? != 0)))
            .transpose()
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
        let q = Sql::both(
            "INSERT INTO users (name, password_hash, role, site, created, issuer, subject)
             VALUES (?1, '!oidc', ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| {
            for name in candidates {
                if c.exec(&q, args![name, role.as_str(), site, &now, issuer, subject])? == 1 {
                    return Ok(name.clone());
                }
            }
            Err(DbError(format!("no free user name for {issuer}/{subject}")))
        })
    }

    /// Sets a linked user's role and site (re-evaluated at every sign-in).
    pub fn set_role(&self, name: &str, role: Role, site: Option<&str>) -> R<()> {
        let q = Sql::both("UPDATE users SET role = ?2, site = ?3 WHERE name = ?1");
        self.write(|c| c.exec(&q, args![name, role.as_str(), site]))?;
        Ok(())
    }

    /// Keeps a started OpenID sign-in until `expires` (by its `state`'s hash); the expired
    /// ones go in the same transaction.
    pub fn put_pending(&self, state: &str, p: &Pending, expires: DateTime<Utc>) -> R<()> {
        let old = Sql::both("DELETE FROM oidc_pending WHERE expires < ?1");
        let q = Sql::both(
            "INSERT INTO oidc_pending (state_hash, issuer, nonce, verifier, next, expires)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        );
        let (now, hash, expires) = (
            Utc::now().to_rfc3339(),
            secret_hash(state),
            expires.to_rfc3339(),
        );
        self.write(|c| {
            c.exec(&old, args![&now])?;
            c.exec(
                &q,
                args![&hash, &p.issuer, &p.nonce, &p.verifier, &p.next, &expires],
            )
        })?;
        Ok(())
    }

    /// Takes a started sign-in by its `state`, once: one `DELETE … RETURNING` removes it
    /// whether or not it is still live, so of two callbacks racing with one `state` only
    /// one gets it; `None` when unknown, used already, or expired.
    pub fn take_pending(&self, state: &str) -> R<Option<Pending>> {
        let q = Sql::both(
            "DELETE FROM oidc_pending WHERE state_hash = ?1
             RETURNING issuer, nonce, verifier, next, expires",
        );
        let hash = secret_hash(state);
        let Some(r) = self.write(|c| c.row(&q, args![&hash]))? else {
            return Ok(None);
        };
        let now = Utc::now().to_rfc3339();
        (r.text(4)? > now).then(|| pending_from(&r)).transpose()
    }
}

const DELETE_SESSIONS_OF: Sql = Sql::both(r#"DELETE FROM sessions WHERE "user" = ?1"#);

fn pending_from(r: &Row) -> R<Pending> {
    Ok(Pending {
        issuer: r.text(0)?,
        nonce: r.text(1)?,
        verifier: r.text(2)?,
        next: r.text(3)?,
    })
}
