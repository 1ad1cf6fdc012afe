//! The partnership office's records (migration 4): one table per kind of record
//! ([`OfficeTable`]), each row an id, the id of what it belongs to (`parent`: a decision's
//! body, a version's document, an event's body), a sort key and the record as the office
//! crate's typed JSON (`doc`); content bytes once per SHA-256 in `office_content`; calendar
//! feed secrets (stored hashed) in `office_feeds`. A record changes only by compare-and-swap
//! on its stored JSON ([`Db::office_swap`]), so two editors never overwrite each other
//! unseen; versions and content are inserted once and never replaced.

use super::backend::{Sql, args};
use super::{Db, R};
use chrono::Utc;

macro_rules! table_sql {
    ($name:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS ",
            $name,
            " (id TEXT PRIMARY KEY, parent TEXT, sort TEXT NOT NULL, doc TEXT NOT NULL, updated TEXT NOT NULL);\nCREATE INDEX IF NOT EXISTS ",
            $name,
            "_parent ON ",
            $name,
            " (parent, sort);\n"
        )
    };
}

macro_rules! table_pg {
    ($name:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS ",
            $name,
            " (id TEXT COLLATE \"C\" PRIMARY KEY, parent TEXT COLLATE \"C\", sort TEXT COLLATE \"C\" NOT NULL, doc TEXT NOT NULL, updated TEXT COLLATE \"C\" NOT NULL);\nCREATE INDEX IF NOT EXISTS ",
            $name,
            "_parent ON ",
            $name,
            " (parent, sort);\n"
        )
    };
}

macro_rules! all_tables {
    ($m:ident) => {
        concat!(
            $m!("office_agreements"),
            $m!("office_bodies"),
            $m!("office_decisions"),
            $m!("office_documents"),
            $m!("office_versions"),
            $m!("office_translations"),
            $m!("office_exchanges"),
            $m!("office_courses"),
            $m!("office_events"),
        )
    };
}

/// Migration 4 on SQLite.
pub(crate) const V4_SQLITE: &str = concat!(
    all_tables!(table_sql),
    "CREATE TABLE IF NOT EXISTS office_content (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, base64 TEXT NOT NULL, created TEXT NOT NULL);\n",
    "CREATE TABLE IF NOT EXISTS office_feeds (hash TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES users(name), scope TEXT NOT NULL, created TEXT NOT NULL);\n",
);

/// Migration 4 on PostgreSQL (text compared byte by byte, as on SQLite).
pub(crate) const V4_POSTGRES: &str = concat!(
    all_tables!(table_pg),
    "CREATE TABLE IF NOT EXISTS office_content (sha256 TEXT COLLATE \"C\" PRIMARY KEY, size BIGINT NOT NULL, base64 TEXT NOT NULL, created TEXT COLLATE \"C\" NOT NULL);\n",
    "CREATE TABLE IF NOT EXISTS office_feeds (hash TEXT PRIMARY KEY, owner TEXT COLLATE \"C\" NOT NULL REFERENCES users(name), scope TEXT NOT NULL, created TEXT COLLATE \"C\" NOT NULL);\n",
);

/// A kind of office record: which table it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeTable {
    /// Agreements (the MoU).
    Agreements,
    /// Governance bodies.
    Bodies,
    /// Decisions (parent: the body).
    Decisions,
    /// Documents.
    Documents,
    /// Versions (id `document/number`, parent: the document).
    Versions,
    /// Translations (id `document/number/lang`, parent: the document).
    Translations,
    /// Staff exchanges (parent: the person).
    Exchanges,
    /// Training courses.
    Courses,
    /// Events (parent: the body, if any; sort: the UTC start).
    Events,
}

/// The statements of one table.
struct Stmts {
    insert: Sql,
    upsert: Sql,
    swap: Sql,
    get: Sql,
    all: Sql,
    of_parent: Sql,
}

macro_rules! stmts {
    ($t:literal) => {
        Stmts {
            insert: Sql::both(concat!(
                "INSERT INTO ",
                $t,
                " (id, parent, sort, doc, updated) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING"
            )),
            upsert: Sql::both(concat!(
                "INSERT INTO ",
                $t,
                " (id, parent, sort, doc, updated) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET parent = ?2, sort = ?3, doc = ?4, updated = ?5"
            )),
            swap: Sql::both(concat!(
                "UPDATE ",
                $t,
                " SET parent = ?2, sort = ?3, doc = ?4, updated = ?5 WHERE id = ?1 AND doc = ?6"
            )),
            get: Sql::both(concat!("SELECT doc FROM ", $t, " WHERE id = ?1")),
            all: Sql::both(concat!("SELECT doc FROM ", $t, " ORDER BY sort, id")),
            of_parent: Sql::both(concat!(
                "SELECT doc FROM ",
                $t,
                " WHERE parent = ?1 ORDER BY sort, id"
            )),
        }
    };
}

const AGREEMENTS: Stmts = stmts!("office_agreements");
const BODIES: Stmts = stmts!("office_bodies");
const DECISIONS: Stmts = stmts!("office_decisions");
const DOCUMENTS: Stmts = stmts!("office_documents");
const VERSIONS: Stmts = stmts!("office_versions");
const TRANSLATIONS: Stmts = stmts!("office_translations");
const EXCHANGES: Stmts = stmts!("office_exchanges");
const COURSES: Stmts = stmts!("office_courses");
const EVENTS: Stmts = stmts!("office_events");

impl OfficeTable {
    fn stmts(self) -> &'static Stmts {
        match self {
            OfficeTable::Agreements => &AGREEMENTS,
            OfficeTable::Bodies => &BODIES,
            OfficeTable::Decisions => &DECISIONS,
            OfficeTable::Documents => &DOCUMENTS,
            OfficeTable::Versions => &VERSIONS,
            OfficeTable::Translations => &TRANSLATIONS,
            OfficeTable::Exchanges => &EXCHANGES,
            OfficeTable::Courses => &COURSES,
            OfficeTable::Events => &EVENTS,
        }
    }
}

/// A stored office record: where it belongs, how it sorts, and its JSON.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Id.
    pub id: &'a str,
    /// What it belongs to.
    pub parent: Option<&'a str>,
    /// Its sort key within its table.
    pub sort: &'a str,
    /// The record as JSON.
    pub doc: &'a str,
}

/// A calendar feed: whose, and what it shows (`me`, or `body:<id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The user it belongs to.
    pub owner: String,
    /// What it shows.
    pub scope: String,
}

impl Db {
    /// Stores a new record; false when one with its id exists (nothing is changed).
    pub fn office_insert(&self, t: OfficeTable, r: Record<'_>) -> R<bool> {
        let now = Utc::now().to_rfc3339();
        Ok(self.write(|c| {
            c.exec(
                &t.stmts().insert,
                args![r.id, r.parent, r.sort, r.doc, &now],
            )
        })? == 1)
    }

    /// Stores a record, replacing one with its id.
    pub fn office_put(&self, t: OfficeTable, r: Record<'_>) -> R<()> {
        let now = Utc::now().to_rfc3339();
        self.write(|c| {
            c.exec(
                &t.stmts().upsert,
                args![r.id, r.parent, r.sort, r.doc, &now],
            )
        })?;
        Ok(())
    }

    /// Replaces a record only if it is still `old` (as read); whether it was.
    pub fn office_swap(&self, t: OfficeTable, old: &str, r: Record<'_>) -> R<bool> {
        let now = Utc::now().to_rfc3339();
        Ok(self.write(|c| {
            c.exec(
                &t.stmts().swap,
                args![r.id, r.parent, r.sort, r.doc, &now, old],
            )
        })? == 1)
    }

    /// A record's JSON.
    pub fn office_get(&self, t: OfficeTable, id: &str) -> R<Option<String>> {
        self.read(|c| c.row(&t.stmts().get, args![id]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// Every record of a table, or those of one parent, by sort key.
    pub fn office_list(&self, t: OfficeTable, parent: Option<&str>) -> R<Vec<String>> {
        let rows = self.read(|c| match parent {
            Some(p) => c.rows(&t.stmts().of_parent, args![p]),
            None => c.rows(&t.stmts().all, &[]),
        })?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Keeps content bytes (base64) under their SHA-256, once.
    pub fn office_put_content(&self, sha256: &str, size: i64, base64: &str) -> R<()> {
        let q = Sql::both(
            "INSERT INTO office_content (sha256, size, base64, created) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256) DO NOTHING",
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![sha256, size, base64, &now]))?;
        Ok(())
    }

    /// Content bytes (base64) by SHA-256.
    pub fn office_content(&self, sha256: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT base64 FROM office_content WHERE sha256 = ?1");
        self.read(|c| c.row(&q, args![sha256]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// Stores a calendar feed under the hash of its secret.
    pub fn office_put_feed(&self, hash: &str, feed: &Feed) -> R<()> {
        let q = Sql::both(
            "INSERT INTO office_feeds (hash, owner, scope, created) VALUES (?1, ?2, ?3, ?4)",
        );
        let now = Utc::now().to_rfc3339();
        self.write(|c| c.exec(&q, args![hash, &feed.owner, &feed.scope, &now]))?;
        Ok(())
    }

    /// The feed whose secret hashes to `hash`, if its owner is not disabled.
    pub fn office_feed(&self, hash: &str) -> R<Option<Feed>> {
        let q = Sql::both(
            "SELECT f.owner, f.scope FROM office_feeds f JOIN users u ON u.name = f.owner WHERE f.hash = ?1 AND u.disabled = 0",
        );
        self.read(|c| c.row(&q, args![hash]))?
            .map(|r| {
                Ok(Feed {
                    owner: r.text(0)?,
                    scope: r.text(1)?,
                })
            })
            .transpose()
    }
}
