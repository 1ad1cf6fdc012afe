//! EDC studies at the hub (migration 7): each study one row, its definition as the
//! `kakehashi-edc` crate's typed JSON (`doc`), changed only by compare-and-swap on that JSON
//! ([`Db::study_swap`]) so two editors never overwrite each other unseen; who holds which of
//! the study's roles, at which site (data access group), in `study_members`; REDCap API
//! tokens per study and user in `study_tokens`, stored hashed like every other secret.

use super::backend::{Sql, args};
use super::{Db, R};
use chrono::Utc;

/// Migration 7 on SQLite.
pub(crate) const V7_SQLITE: &str = r#"
CREATE TABLE IF NOT EXISTS studies (id TEXT PRIMARY KEY, title TEXT NOT NULL, doc TEXT NOT NULL,
    created_by TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study_members (study TEXT NOT NULL REFERENCES studies(id),
    "user" TEXT NOT NULL REFERENCES users(name), role TEXT NOT NULL, dag TEXT,
    since TEXT NOT NULL, PRIMARY KEY (study, "user"));
CREATE INDEX IF NOT EXISTS study_members_user ON study_members ("user");
CREATE TABLE IF NOT EXISTS study_tokens (hash TEXT PRIMARY KEY, study TEXT NOT NULL REFERENCES studies(id),
    "user" TEXT NOT NULL REFERENCES users(name), created TEXT NOT NULL);"#;

/// Migration 7 on PostgreSQL (text compared byte by byte, as on SQLite).
pub(crate) const V7_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS studies (id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, doc TEXT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL, created TEXT COLLATE "C" NOT NULL, updated TEXT COLLATE "C" NOT NULL);
CREATE TABLE IF NOT EXISTS study_members (study TEXT COLLATE "C" NOT NULL REFERENCES studies(id),
    "user" TEXT COLLATE "C" NOT NULL REFERENCES users(name), role TEXT COLLATE "C" NOT NULL, dag TEXT COLLATE "C",
    since TEXT COLLATE "C" NOT NULL, PRIMARY KEY (study, "user"));
CREATE INDEX IF NOT EXISTS study_members_user ON study_members ("user");
CREATE TABLE IF NOT EXISTS study_tokens (hash TEXT PRIMARY KEY, study TEXT COLLATE "C" NOT NULL REFERENCES studies(id),
    "user" TEXT COLLATE "C" NOT NULL REFERENCES users(name), created TEXT COLLATE "C" NOT NULL);"#;

/// Who holds a role in a study, and at which site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StudyMember {
    /// The user.
    pub user: String,
    /// The study role's name (one of the study's roles).
    pub role: String,
    /// The data access group (site) the user enters data for, if any.
    pub dag: Option<String>,
}

impl Db {
    /// Stores a new study; false when one with its id exists (nothing is changed).
    pub fn study_insert(&self, id: &str, title: &str, doc: &str, by: &str) -> R<bool> {
        let q = Sql::both(
            "INSERT INTO studies (id, title, doc, created_by, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO NOTHING",
        );
        let now = Utc::now().to_rfc3339();
        Ok(self.write(|c| c.exec(&q, args![id, title, doc, by, &now]))? == 1)
    }

    /// Replaces a study's definition only if it is still `old` (as read); whether it was.
    pub fn study_swap(&self, id: &str, old: &str, title: &str, doc: &str) -> R<bool> {
        let q = Sql::both(
            "UPDATE studies SET title = ?2, doc = ?3, updated = ?4 WHERE id = ?1 AND doc = ?5",
        );
        let now = Utc::now().to_rfc3339();
        Ok(self.write(|c| c.exec(&q, args![id, title, doc, &now, old]))? == 1)
    }

    /// A study's JSON.
    pub fn study_get(&self, id: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT doc FROM studies WHERE id = ?1");
        self.read(|c| c.row(&q, args![id]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// Every study's JSON, by id.
    pub fn study_list(&self) -> R<Vec<String>> {
        let q = Sql::both("SELECT doc FROM studies ORDER BY id");
        self.read(|c| c.rows(&q, &[]))?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    /// Gives `m.user` the role `m.role` in `study` (replacing the one they had).
    pub fn study_member_put(&self, study: &str, m: &StudyMember) -> R<()> {
        let q = Sql::both(
            r#"INSERT INTO study_members (study, "user", role, dag, since) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (study, "user") DO UPDATE SET role = ?3, dag = ?4, since = ?5"#,
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![study, &m.user, &m.role, &m.dag, &now]))?;
        Ok(())
    }

    /// Takes `user`'s role in `study` away (and the study's API tokens of theirs); whether
    /// they had one.
    pub fn study_member_remove(&self, study: &str, user: &str) -> R<bool> {
        let del = Sql::both(r#"DELETE FROM study_members WHERE study = ?1 AND "user" = ?2"#);
        let tokens = Sql::both(r#"DELETE FROM study_tokens WHERE study = ?1 AND "user" = ?2"#);
        Ok(self.write(|c| {
            c.exec(&tokens, args![study, user])?;
            c.exec(&del, args![study, user])
        })? == 1)
    }

    /// The members of a study, by user name.
    pub fn study_members(&self, study: &str) -> R<Vec<StudyMember>> {
        let q = Sql::both(
            r#"SELECT "user", role, dag FROM study_members WHERE study = ?1 ORDER BY "user""#,
        );
        self.read(|c| c.rows(&q, args![study]))?
            .iter()
            .map(|r| {
                Ok(StudyMember {
                    user: r.text(0)?,
                    role: r.text(1)?,
                    dag: r.opt_text(2)?,
                })
            })
            .collect()
    }

    /// `user`'s role in `study`, if any.
    pub fn study_member(&self, study: &str, user: &str) -> R<Option<StudyMember>> {
        Ok(self
            .study_members(study)?
            .into_iter()
            .find(|m| m.user == user))
    }

    /// The ids of the studies `user` holds a role in.
    pub fn studies_of(&self, user: &str) -> R<Vec<String>> {
        let q = Sql::both(r#"SELECT study FROM study_members WHERE "user" = ?1 ORDER BY study"#);
        self.read(|c| c.rows(&q, args![user]))?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    /// Stores a REDCap API token (by the hash of its secret) for `user` in `study`.
    pub fn study_token_put(&self, hash: &str, study: &str, user: &str) -> R<()> {
        let q = Sql::both(
            r#"INSERT INTO study_tokens (hash, study, "user", created) VALUES (?1, ?2, ?3, ?4)"#,
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![hash, study, user, &now]))?;
        Ok(())
    }

    /// The study and user of the API token whose secret hashes to `hash`, if its user is a
    /// member of the study and not disabled.
    pub fn study_token(&self, hash: &str) -> R<Option<(String, String)>> {
        let q = Sql::both(
            r#"SELECT t.study, t."user" FROM study_tokens t
               JOIN users u ON u.name = t."user"
               JOIN study_members m ON m.study = t.study AND m."user" = t."user"
               WHERE t.hash = ?1 AND u.disabled = 0"#,
        );
        self.read(|c| c.row(&q, args![hash]))?
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .transpose()
    }
}

impl Db {
    /// When a study was created (RFC 3339).
    pub fn study_created(&self, id: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT created FROM studies WHERE id = ?1");
        self.read(|c| c.row(&q, args![id]))?
            .map(|r| r.text(0))
            .transpose()
    }
}
