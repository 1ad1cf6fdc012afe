//! E-mail notifications (migration 5): each user's address (`users.email`) and how they want
//! to hear of each topic (`notify_prefs`: immediately, in a daily digest, or not at all); the
//! outbox (`notify_outbox`), one row per message and recipient, unique by the message's key so
//! that a reminder computed again (by the next cycle or another replica) is stored once; and
//! the digests sent (`notify_digests`, one per recipient and day, the claim that keeps two
//! replicas from sending the same digest).
//!
//! A row is delivered by whoever claims it: the claim moves `next_try` past the present
//! (a lease) and counts the attempt, and only the claimant that changed the row goes on.

use super::backend::{Sql, args};
use super::migrate::Column;
use super::{Db, R};
use chrono::{DateTime, Utc};

/// Migration 5's added column: the user's e-mail address.
pub(crate) const V5_COLUMNS: &[Column] = &[Column {
    table: "users",
    name: "email",
    add: Sql::both("ALTER TABLE users ADD COLUMN email TEXT"),
}];

/// Migration 5 on SQLite.
pub(crate) const V5_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS notify_prefs (person TEXT NOT NULL REFERENCES users(name), topic TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest', 'off')), PRIMARY KEY (person, topic));
CREATE TABLE IF NOT EXISTS notify_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,
    recipient TEXT NOT NULL REFERENCES users(name), topic TEXT NOT NULL, subject TEXT NOT NULL,
    body TEXT NOT NULL, created TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, next_try TEXT NOT NULL, done TEXT, note TEXT,
    UNIQUE (key, recipient));
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (state, next_try);
CREATE INDEX IF NOT EXISTS notify_outbox_recipient ON notify_outbox (recipient, created);
CREATE TABLE IF NOT EXISTS notify_digests (recipient TEXT NOT NULL, day TEXT NOT NULL, sent TEXT NOT NULL,
    PRIMARY KEY (recipient, day));";

/// Migration 5 on PostgreSQL.
pub(crate) const V5_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS notify_prefs (person TEXT COLLATE "C" NOT NULL REFERENCES users(name),
    topic TEXT COLLATE "C" NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest', 'off')), PRIMARY KEY (person, topic));
CREATE TABLE IF NOT EXISTS notify_outbox (id BIGSERIAL PRIMARY KEY, key TEXT COLLATE "C" NOT NULL,
    recipient TEXT COLLATE "C" NOT NULL REFERENCES users(name), topic TEXT COLLATE "C" NOT NULL,
    subject TEXT NOT NULL, body TEXT NOT NULL, created TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0, next_try TEXT COLLATE "C" NOT NULL,
    done TEXT COLLATE "C", note TEXT, UNIQUE (key, recipient));
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (state, next_try);
CREATE INDEX IF NOT EXISTS notify_outbox_recipient ON notify_outbox (recipient, created);
CREATE TABLE IF NOT EXISTS notify_digests (recipient TEXT COLLATE "C" NOT NULL,
    day TEXT COLLATE "C" NOT NULL, sent TEXT NOT NULL, PRIMARY KEY (recipient, day));"#;

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outgoing {
    /// Its row.
    pub id: i64,
    /// What it is about and which window (`action:symposium-2026:0:2026-06-30:due-7`).
    pub key: String,
    /// The user it goes to.
    pub recipient: String,
    /// Its topic (`renewal`, `action`, `event`, ...).
    pub topic: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was stored (RFC 3339).
    pub created: String,
    /// `pending`, `sent`, `skipped` or `failed`.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When it was sent, skipped or given up (RFC 3339).
    pub done: Option<String>,
    /// Why it was skipped, or the last delivery error.
    pub note: Option<String>,
}

/// A user's address and whether they can receive mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// E-mail address, if they gave one.
    pub email: Option<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Their language (`en`, `de`, `ja`).
    pub lang: String,
}

macro_rules! outgoing_from {
    ($rest:literal) => {
        concat!(
            "SELECT id, key, recipient, topic, subject, body, created, state, attempts, done, note FROM notify_outbox ",
            $rest
        )
    };
}

fn outgoing(r: &super::backend::Row) -> R<Outgoing> {
    Ok(Outgoing {
        id: r.int(0)?,
        key: r.text(1)?,
        recipient: r.text(2)?,
        topic: r.text(3)?,
        subject: r.text(4)?,
        body: r.text(5)?,
        created: r.text(6)?,
        state: r.text(7)?,
        attempts: r.int(8)?,
        done: r.opt_text(9)?,
        note: r.opt_text(10)?,
    })
}

impl Db {
    /// Sets (or, with `None`, clears) a user's e-mail address.
    pub fn set_email(&self, user: &str, email: Option<&str>) -> R<()> {
        let q = Sql::both("UPDATE users SET email = ?1 WHERE name = ?2");
        self.write(|c| c.exec(&q, args![email, user]))?;
        Ok(())
    }

    /// A user's address, state and language; `None` for an unknown user.
    pub fn recipient(&self, user: &str) -> R<Option<Recipient>> {
        let q = Sql::both("SELECT email, disabled, lang FROM users WHERE name = ?1");
        self.read(|c| c.row(&q, args![user]))?
            .map(|r| {
                Ok(Recipient {
                    email: r.opt_text(0)?,
                    disabled: r.int(1)? != 0,
                    lang: r.text(2)?,
                })
            })
            .transpose()
    }

    /// How a user wants to hear of each topic they chose for (others: immediately).
    pub fn notify_prefs(&self, user: &str) -> R<Vec<(String, String)>> {
        let q = Sql::both("SELECT topic, mode FROM notify_prefs WHERE person = ?1 ORDER BY topic");
        let rows = self.read(|c| c.rows(&q, args![user]))?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    /// Sets how a user hears of a topic (`immediate`, `digest`, `off`).
    pub fn set_notify_pref(&self, user: &str, topic: &str, mode: &str) -> R<()> {
        let q = Sql::both(
            "INSERT INTO notify_prefs (person, topic, mode) VALUES (?1, ?2, ?3) ON CONFLICT (person, topic) DO UPDATE SET mode = excluded.mode",
        );
        self.write(|c| c.exec(&q, args![user, topic, mode]))?;
        Ok(())
    }

    /// Stores a message unless one with its key for its recipient is stored; whether it was new.
    pub fn enqueue(
        &self,
        key: &str,
        recipient: &str,
        topic: &str,
        subject: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> R<bool> {
        let q = Sql::both(
            "INSERT INTO notify_outbox (key, recipient, topic, subject, body, created, next_try) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (key, recipient) DO NOTHING",
        );
        let now = now.to_rfc3339();
        Ok(self.write(|c| c.exec(&q, args![key, recipient, topic, subject, body, &now]))? == 1)
    }

    /// Pending messages due at `now`, oldest first, at most `limit`.
    pub fn due_messages(&self, now: DateTime<Utc>, limit: i64) -> R<Vec<Outgoing>> {
        let q = Sql::both(outgoing_from!(
            "WHERE state = 'pending' AND next_try <= ?1 ORDER BY id LIMIT ?2"
        ));
        let now = now.to_rfc3339();
        let rows = self.read(|c| c.rows(&q, args![&now, limit]))?;
        rows.iter().map(outgoing).collect()
    }

    /// A user's messages, newest first, at most `limit`.
    pub fn messages_of(&self, user: &str, limit: i64) -> R<Vec<Outgoing>> {
        let q = Sql::both(outgoing_from!(
            "WHERE recipient = ?1 ORDER BY id DESC LIMIT ?2"
        ));
        let rows = self.read(|c| c.rows(&q, args![user, limit]))?;
        rows.iter().map(outgoing).collect()
    }

    /// All messages, newest first, at most `limit` (the network office's view).
    pub fn messages(&self, limit: i64) -> R<Vec<Outgoing>> {
        let q = Sql::both(outgoing_from!("ORDER BY id DESC LIMIT ?1"));
        let rows = self.read(|c| c.rows(&q, args![limit]))?;
        rows.iter().map(outgoing).collect()
    }

    /// Claims a pending message due at `now` until `lease`, counting the attempt; whether this
    /// caller got it.
    pub fn claim_message(&self, id: i64, now: DateTime<Utc>, lease: DateTime<Utc>) -> R<bool> {
        let q = Sql::both(
            "UPDATE notify_outbox SET next_try = ?1, attempts = attempts + 1 WHERE id = ?2 AND state = 'pending' AND next_try <= ?3",
        );
        let (now, lease) = (now.to_rfc3339(), lease.to_rfc3339());
        Ok(self.write(|c| c.exec(&q, args![&lease, id, &now]))? == 1)
    }

    /// Ends a message: `sent`, `skipped` or `failed`, with a note.
    pub fn finish_message(
        &self,
        id: i64,
        state: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> R<()> {
        let q =
            Sql::both("UPDATE notify_outbox SET state = ?1, note = ?2, done = ?3 WHERE id = ?4");
        let now = now.to_rfc3339();
        self.write(|c| c.exec(&q, args![state, note, &now, id]))?;
        Ok(())
    }

    /// Leaves a message pending after a failed attempt, to be tried at `next_try`.
    pub fn retry_message(&self, id: i64, error: &str, next_try: DateTime<Utc>) -> R<()> {
        let q = Sql::both("UPDATE notify_outbox SET note = ?1, next_try = ?2 WHERE id = ?3");
        let next = next_try.to_rfc3339();
        self.write(|c| c.exec(&q, args![error, &next, id]))?;
        Ok(())
    }

    /// Claims the day's digest for a recipient; whether this caller got it.
    pub fn claim_digest(&self, recipient: &str, day: &str, now: DateTime<Utc>) -> R<bool> {
        let q = Sql::both(
            "INSERT INTO notify_digests (recipient, day, sent) VALUES (?1, ?2, ?3) ON CONFLICT (recipient, day) DO NOTHING",
        );
        let now = now.to_rfc3339();
        Ok(self.write(|c| c.exec(&q, args![recipient, day, &now]))? == 1)
    }

    /// Gives back a day's digest claim (its sending failed), so a later cycle tries again.
    pub fn release_digest(&self, recipient: &str, day: &str) -> R<()> {
        let q = Sql::both("DELETE FROM notify_digests WHERE recipient = ?1 AND day = ?2");
        self.write(|c| c.exec(&q, args![recipient, day]))?;
        Ok(())
    }
}
