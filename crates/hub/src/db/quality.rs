//! EDC data queries at the hub (migration 9): `study_queries`, one row per query, numbered
//! 1, 2, … within its study, with the record, its site (the query is assigned to it), the
//! form, the state and when it was opened as columns for the lists, and the
//! `kakehashi-edc` query (its thread and the check it came from) as typed JSON in `doc`.
//! A step is a compare-and-swap on the JSON as read; many queries opened at once (from a
//! check's findings) are one transaction.

use super::backend::{Sql, args};
use super::{Db, R};
use chrono::Utc;

/// Migration 9 on SQLite.
pub(crate) const V9_SQLITE: &str = r#"
CREATE TABLE IF NOT EXISTS study_queries (study TEXT NOT NULL REFERENCES studies(id),
    num INTEGER NOT NULL, record TEXT NOT NULL, dag TEXT NOT NULL, form TEXT NOT NULL,
    status TEXT NOT NULL, opened TEXT NOT NULL, doc TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (study, num));
CREATE INDEX IF NOT EXISTS study_queries_dag ON study_queries (study, dag, status);
CREATE INDEX IF NOT EXISTS study_queries_record ON study_queries (study, record);"#;

/// Migration 9 on PostgreSQL (text compared byte by byte, as on SQLite).
pub(crate) const V9_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS study_queries (study TEXT COLLATE "C" NOT NULL REFERENCES studies(id),
    num BIGINT NOT NULL, record TEXT COLLATE "C" NOT NULL, dag TEXT COLLATE "C" NOT NULL,
    form TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL,
    opened TEXT COLLATE "C" NOT NULL, doc TEXT NOT NULL, updated TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (study, num));
CREATE INDEX IF NOT EXISTS study_queries_dag ON study_queries (study, dag, status);
CREATE INDEX IF NOT EXISTS study_queries_record ON study_queries (study, record);"#;

/// A query to store.
#[derive(Debug, Clone, Copy)]
pub struct QueryInsert<'a> {
    /// The record.
    pub record: &'a str,
    /// Its site.
    pub dag: &'a str,
    /// The form.
    pub form: &'a str,
    /// `open`, `answered`, `closed`.
    pub status: &'a str,
    /// When opened (RFC 3339).
    pub opened: &'a str,
    /// The query as JSON.
    pub doc: &'a str,
}

const NEXT: Sql = Sql::both("SELECT COALESCE(MAX(num), 0) + 1 FROM study_queries WHERE study = ?1");
const INSERT: Sql = Sql::both(
    "INSERT INTO study_queries (study, num, record, dag, form, status, opened, doc, updated) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (study, num) DO NOTHING",
);
const SWAP: Sql = Sql::both(
    "UPDATE study_queries SET status = ?3, doc = ?4, updated = ?5 WHERE study = ?1 AND num = ?2 AND doc = ?6",
);

impl Db {
    /// Stores queries in one transaction and returns their numbers, in order.
    pub fn queries_insert(&self, study: &str, queries: &[QueryInsert<'_>]) -> R<Vec<i64>> {
        let now = Utc::now().to_rfc3339();
        self.write(|c| {
            let mut nums = Vec::with_capacity(queries.len());
            for q in queries {
                // Another hub replica may take a number between the read and the insert: take
                // the next one then.
                loop {
                    let num = c.int(&NEXT, args![study])?;
                    let n = c.exec(
                        &INSERT,
                        args![
                            study, num, q.record, q.dag, q.form, q.status, q.opened, q.doc, &now
                        ],
                    )?;
                    if n == 1 {
                        nums.push(num);
                        break;
                    }
                }
            }
            Ok(nums)
        })
    }

    /// A study's queries (number and JSON), of one site or all, newest first.
    pub fn queries(&self, study: &str, dag: Option<&str>) -> R<Vec<(i64, String)>> {
        let rows = match dag {
            Some(d) => {
                let q = Sql::both(
                    "SELECT num, doc FROM study_queries WHERE study = ?1 AND dag = ?2 ORDER BY num DESC",
                );
                self.read(|c| c.rows(&q, args![study, d]))?
            }
            None => {
                let q = Sql::both(
                    "SELECT num, doc FROM study_queries WHERE study = ?1 ORDER BY num DESC",
                );
                self.read(|c| c.rows(&q, args![study]))?
            }
        };
        rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
    }

    /// One query's JSON.
    pub fn query_get(&self, study: &str, num: i64) -> R<Option<String>> {
        let q = Sql::both("SELECT doc FROM study_queries WHERE study = ?1 AND num = ?2");
        self.read(|c| c.row(&q, args![study, num]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// Replaces a query's JSON if it is still `old`; `false` when someone changed it first.
    pub fn query_swap(&self, study: &str, num: i64, status: &str, doc: &str, old: &str) -> R<bool> {
        let now = Utc::now().to_rfc3339();
        let n = self.write(|c| c.exec(&SWAP, args![study, num, status, doc, &now, old]))?;
        Ok(n == 1)
    }
}
