//! Pre-fill requests at the hub (migration 10): one row per request a user made for a form
//! instance of a subject (`study_prefill`): the form's key, the subject's site (data access
//! group) whose agent fetches it, who asked and when, the request as sent
//! (`kakehashi_federation::prefill::PrefillRequest` JSON), its status (`pending` until the
//! site answers, then `proposed` or `refused`) and the site's answer as typed JSON.

use super::backend::{Sql, args};
use super::{Db, R};
use chrono::Utc;

/// Migration 10 on SQLite.
pub(crate) const V10_SQLITE: &str = r#"
CREATE TABLE IF NOT EXISTS study_prefill (id TEXT PRIMARY KEY, study TEXT NOT NULL REFERENCES studies(id),
    record TEXT NOT NULL, event TEXT NOT NULL, form TEXT NOT NULL, instance INTEGER NOT NULL,
    dag TEXT NOT NULL, requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    status TEXT NOT NULL, request TEXT NOT NULL, answer TEXT, answered_at TEXT);
CREATE INDEX IF NOT EXISTS study_prefill_dag ON study_prefill (dag, status, requested_at);
CREATE INDEX IF NOT EXISTS study_prefill_form ON study_prefill (study, record, event, form, instance, requested_at);"#;

/// Migration 10 on PostgreSQL (text compared byte by byte, as on SQLite).
pub(crate) const V10_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS study_prefill (id TEXT COLLATE "C" PRIMARY KEY, study TEXT COLLATE "C" NOT NULL REFERENCES studies(id),
    record TEXT COLLATE "C" NOT NULL, event TEXT COLLATE "C" NOT NULL, form TEXT COLLATE "C" NOT NULL, instance BIGINT NOT NULL,
    dag TEXT COLLATE "C" NOT NULL, requested_by TEXT COLLATE "C" NOT NULL, requested_at TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL, request TEXT NOT NULL, answer TEXT, answered_at TEXT COLLATE "C");
CREATE INDEX IF NOT EXISTS study_prefill_dag ON study_prefill (dag, status, requested_at);
CREATE INDEX IF NOT EXISTS study_prefill_form ON study_prefill (study, record, event, form, instance, requested_at);"#;

/// A stored pre-fill request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefillRow {
    /// Its id.
    pub id: String,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// `pending`, `proposed` or `refused`.
    pub status: String,
    /// The request's JSON.
    pub request: String,
    /// The site's answer's JSON.
    pub answer: Option<String>,
    /// When the site answered.
    pub answered_at: Option<String>,
}

/// A new request's columns.
#[derive(Debug, Clone, Copy)]
pub struct PrefillInsert<'a> {
    /// Its id.
    pub id: &'a str,
    /// The study.
    pub study: &'a str,
    /// The record.
    pub record: &'a str,
    /// The event.
    pub event: &'a str,
    /// The form.
    pub form: &'a str,
    /// The instance.
    pub instance: u32,
    /// The subject's site (data access group).
    pub dag: &'a str,
    /// Who asked.
    pub requested_by: &'a str,
    /// When.
    pub requested_at: &'a str,
    /// The request's JSON.
    pub request: &'a str,
}

fn row_of(r: &super::backend::Row) -> R<PrefillRow> {
    Ok(PrefillRow {
        id: r.text(0)?,
        requested_by: r.text(1)?,
        requested_at: r.text(2)?,
        status: r.text(3)?,
        request: r.text(4)?,
        answer: r.opt_text(5)?,
        answered_at: r.opt_text(6)?,
    })
}

impl Db {
    /// Stores a new pending request.
    pub fn prefill_insert(&self, p: PrefillInsert<'_>) -> R<()> {
        let q = Sql::both(
            "INSERT INTO study_prefill (id, study, record, event, form, instance, dag, requested_by, requested_at, status, request) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10)",
        );
        let inst = i64::from(p.instance);
        self.write(|c| {
            c.exec(
                &q,
                args![
                    p.id,
                    p.study,
                    p.record,
                    p.event,
                    p.form,
                    inst,
                    p.dag,
                    p.requested_by,
                    p.requested_at,
                    p.request
                ],
            )
        })?;
        Ok(())
    }

    /// The pending requests for the subjects of site `dag`, oldest first (at most `limit`).
    pub fn prefill_pending(&self, dag: &str, limit: usize) -> R<Vec<PrefillRow>> {
        let q = Sql::both(
            "SELECT id, requested_by, requested_at, status, request, answer, answered_at FROM study_prefill WHERE dag = ?1 AND status = 'pending' ORDER BY requested_at, id LIMIT ?2",
        );
        let n = limit as i64;
        self.read(|c| c.rows(&q, args![dag, n]))?
            .iter()
            .map(row_of)
            .collect()
    }

    /// Records the answer of site `dag` to a pending request of its subjects; false when
    /// there is no such pending request (answered before, or another site's).
    pub fn prefill_answer(&self, id: &str, dag: &str, status: &str, answer: &str) -> R<bool> {
        let q = Sql::both(
            "UPDATE study_prefill SET status = ?3, answer = ?4, answered_at = ?5 WHERE id = ?1 AND dag = ?2 AND status = 'pending'",
        );
        let now = Utc::now().to_rfc3339();
        Ok(self.write(|c| c.exec(&q, args![id, dag, status, answer, &now]))? == 1)
    }

    /// The latest request for a form instance.
    pub fn prefill_latest(
        &self,
        study: &str,
        record: &str,
        event: &str,
        form: &str,
        instance: u32,
    ) -> R<Option<PrefillRow>> {
        let q = Sql::both(
            "SELECT id, requested_by, requested_at, status, request, answer, answered_at FROM study_prefill WHERE study = ?1 AND record = ?2 AND event = ?3 AND form = ?4 AND instance = ?5 ORDER BY requested_at DESC, id DESC LIMIT 1",
        );
        let inst = i64::from(instance);
        self.read(|c| c.row(&q, args![study, record, event, form, inst]))?
            .as_ref()
            .map(row_of)
            .transpose()
    }
}
