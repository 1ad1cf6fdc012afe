//! Users, browser sessions and API tokens.

use super::backend::{Row, Sql, args};
use super::{Db, R, Role, User, secret_hash};
use chrono::{DateTime, Utc};

/// A user from the columns `name, role, site, lang` starting at `at`.
pub(crate) fn user_from(r: &Row, at: usize) -> R<User> {
    Ok(User {
        name: r.text(at)?,
        role: Role::parse(&r.text(at + 1)?),
        site: r.opt_text(at + 2)?,
        lang: r.text(at + 3)?,
    })
}

impl Db {
    /// Number of users.
    pub fn user_count(&self) -> R<u64> {
        let q = Sql::both("SELECT count(*) FROM users");
        Ok(self.read(|c| c.int(&q, &[]))? as u64)
    }

    /// Creates or replaces a user.
    pub fn put_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
        site: Option<&str>,
    ) -> R<()> {
        let q = Sql::both(
            "INSERT INTO users (name, password_hash, role, site, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(name) DO UPDATE SET password_hash = ?2, role = ?3, site = ?4",
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![name, password_hash, role.as_str(), site, &now]))?;
        Ok(())
    }

    /// A user and their password hash.
    pub fn user_with_hash(&self, name: &str) -> R<Option<(User, String)>> {
        let q =
            Sql::both("SELECT name, role, site, lang, password_hash FROM users WHERE name = ?1");
        self.read(|c| c.row(&q, args![name]))?
            .map(|r| Ok((user_from(&r, 0)?, r.text(4)?)))
            .transpose()
    }

    /// Sets a user's language.
    pub fn set_lang(&self, name: &str, lang: &str) -> R<()> {
        let q = Sql::both("UPDATE users SET lang = ?2 WHERE name = ?1");
        self.write(|c| c.exec(&q, args![name, lang]))?;
        Ok(())
    }

    /// Stores a session that ends at `expires` (absolute) and after idling; sessions past
    /// their absolute end are dead weight and go in the same transaction.
    pub fn put_session(&self, secret: &str, user: &str, expires: DateTime<Utc>) -> R<()> {
        let old = Sql::both("DELETE FROM sessions WHERE expires < ?1");
        let q = Sql::both(
            r#"INSERT INTO sessions (hash, "user", expires, created, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)"#,
        );
        let (hash, expires) = (secret_hash(secret), expires.to_rfc3339());
        let now = Utc::now().to_rfc3339();
        self.write(|c| {
            c.exec(&old, args![&now])?;
            c.exec(&q, args![&hash, user, &expires, &now])
        })?;
        Ok(())
    }

    /// Ends a session.
    pub fn delete_session(&self, secret: &str) -> R<()> {
        let q = Sql::both("DELETE FROM sessions WHERE hash = ?1");
        self.write(|c| c.exec(&q, args![&secret_hash(secret)]))?;
        Ok(())
    }

    /// The user of a live session: not past its absolute end, used since `idle_since`, and
    /// its user not disabled. Marks the session used (at most once a minute).
    pub fn session_user(&self, secret: &str, idle_since: DateTime<Utc>) -> R<Option<User>> {
        let q = Sql::both(
            r#"SELECT u.name, u.role, u.site, u.lang FROM sessions s JOIN users u ON u.name = s."user"
               WHERE s.hash = ?1 AND s.expires > ?2 AND s.last_seen > ?3 AND u.disabled = 0"#,
        );
        let touch =
            Sql::both("UPDATE sessions SET last_seen = ?2 WHERE hash = ?1 AND last_seen < ?3");
        let now = Utc::now();
        let (hash, now_s) = (secret_hash(secret), now.to_rfc3339());
        let idle = idle_since.to_rfc3339();
        let user = self
            .read(|c| c.row(&q, args![&hash, &now_s, &idle]))?
            .map(|r| user_from(&r, 0))
            .transpose()?;
        if user.is_some() {
            let minute_ago = (now - chrono::Duration::seconds(60)).to_rfc3339();
            self.read(|c| c.exec(&touch, args![&hash, &now_s, &minute_ago]))?;
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
        let q = Sql::both(
            r#"INSERT INTO tokens (hash, "user", label, created, id, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#,
        );
        let hash = secret_hash(secret);
        let id = hash[..16].to_owned();
        let (now, expires) = (Utc::now().to_rfc3339(), expires.to_rfc3339());
        self.write(|c| c.exec(&q, args![&hash, user, label, &now, &id, &expires]))?;
        Ok(id)
    }

    /// The user of a live API token (not expired, not revoked, user not disabled).
    pub fn token_user(&self, secret: &str) -> R<Option<User>> {
        let q = Sql::both(
            r#"SELECT u.name, u.role, u.site, u.lang FROM tokens t JOIN users u ON u.name = t."user"
               WHERE t.hash = ?1 AND t.expires > ?2 AND u.disabled = 0"#,
        );
        let (hash, now) = (secret_hash(secret), Utc::now().to_rfc3339());
        self.read(|c| c.row(&q, args![&hash, &now]))?
            .map(|r| user_from(&r, 0))
            .transpose()
    }
}
