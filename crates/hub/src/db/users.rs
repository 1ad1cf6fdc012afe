//! Users, browser sessions and API tokens.

use super::{Db, R, Role, User, secret_hash};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

impl Db {
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

    /// Stores a session that ends at `expires` (absolute) and after idling.
    pub fn put_session(&self, secret: &str, user: &str, expires: DateTime<Utc>) -> R<()> {
        let now = Utc::now().to_rfc3339();
        let c = self.conn();
        // sessions past their absolute end are dead weight
        c.execute("DELETE FROM sessions WHERE expires < ?1", [&now])?;
        c.execute(
            "INSERT INTO sessions (hash, user, expires, created, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![secret_hash(secret), user, expires.to_rfc3339(), now],
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

    /// The user of a live session: not past its absolute end, used since `idle_since`, and
    /// its user not disabled. Marks the session used (at most once a minute).
    pub fn session_user(&self, secret: &str, idle_since: DateTime<Utc>) -> R<Option<User>> {
        let now = Utc::now();
        let hash = secret_hash(secret);
        let c = self.conn();
        let user = c.query_row(
            "SELECT u.name, u.role, u.site, u.lang FROM sessions s JOIN users u ON u.name = s.user
             WHERE s.hash = ?1 AND s.expires > ?2 AND s.last_seen > ?3 AND u.disabled = 0",
            params![hash, now.to_rfc3339(), idle_since.to_rfc3339()],
            |r| Ok(User { name: r.get(0)?, role: Role::parse(&r.get::<_, String>(1)?), site: r.get(2)?, lang: r.get(3)? }),
        )
        .optional()?;
        if user.is_some() {
            c.execute(
                "UPDATE sessions SET last_seen = ?2 WHERE hash = ?1 AND last_seen < ?3",
                params![
                    hash,
                    now.to_rfc3339(),
                    (now - chrono::Duration::seconds(60)).to_rfc3339()
                ],
            )?;
        }
        Ok(user)
    }

    /// Stores an API token that ends at `expires`; returns its id (the start of its hash,
    /// safe to show: it names the token without being it).
    pub fn put_token(
        &self,
        secret: &str,
        user: &str,
        label: &str,
        expires: DateTime<Utc>,
    ) -> R<String> {
        let hash = secret_hash(secret);
        let id = hash[..16].to_owned();
        self.conn().execute(
            "INSERT INTO tokens (hash, user, label, created, id, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, user, label, Utc::now().to_rfc3339(), id, expires.to_rfc3339()],
        )?;
        Ok(id)
    }

    /// The user of a live API token (not expired, not revoked, user not disabled).
    pub fn token_user(&self, secret: &str) -> R<Option<User>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT u.name, u.role, u.site, u.lang FROM tokens t JOIN users u ON u.name = t.user
                 WHERE t.hash = ?1 AND t.expires > ?2 AND u.disabled = 0",
                params![secret_hash(secret), Utc::now().to_rfc3339()],
                |r| Ok(User { name: r.get(0)?, role: Role::parse(&r.get::<_, String>(1)?), site: r.get(2)?, lang: r.get(3)? }),
            )
            .optional()?)
    }
}
