//! EDC study data at the hub (migration 8): the subjects of each study
//! (`study_subjects`: record id = the pseudonym the site minted, its site, status, and the
//! `kakehashi-edc` subject as typed JSON in `doc`) and their form instances (`study_forms`:
//! record, event, form, repeat instance, and the `edc::FormData` document, values, status,
//! lock, signatures and field history, as typed JSON in `doc`). Every change is a
//! compare-and-swap on the JSON as read, and one call writes any number of subjects and
//! forms in a single transaction ([`Db::records_write`]): all of it or, when one of them was
//! changed meanwhile, none of it.

use super::backend::{Sql, args};
use super::{Db, DbError, R};
use chrono::Utc;
use std::cell::RefCell;

/// Migration 8 on SQLite.
pub(crate) const V8_SQLITE: &str = r#"
CREATE TABLE IF NOT EXISTS study_subjects (study TEXT NOT NULL REFERENCES studies(id),
    record TEXT NOT NULL, dag TEXT NOT NULL, status TEXT NOT NULL, enrolled TEXT NOT NULL,
    doc TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (study, record));
CREATE INDEX IF NOT EXISTS study_subjects_dag ON study_subjects (study, dag, record);
CREATE TABLE IF NOT EXISTS study_forms (study TEXT NOT NULL, record TEXT NOT NULL,
    event TEXT NOT NULL, form TEXT NOT NULL, instance INTEGER NOT NULL, doc TEXT NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (study, record, event, form, instance),
    FOREIGN KEY (study, record) REFERENCES study_subjects (study, record));"#;

/// Migration 8 on PostgreSQL (text compared byte by byte, as on SQLite).
pub(crate) const V8_POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS study_subjects (study TEXT COLLATE "C" NOT NULL REFERENCES studies(id),
    record TEXT COLLATE "C" NOT NULL, dag TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL,
    enrolled TEXT COLLATE "C" NOT NULL, doc TEXT NOT NULL, updated TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (study, record));
CREATE INDEX IF NOT EXISTS study_subjects_dag ON study_subjects (study, dag, record);
CREATE TABLE IF NOT EXISTS study_forms (study TEXT COLLATE "C" NOT NULL, record TEXT COLLATE "C" NOT NULL,
    event TEXT COLLATE "C" NOT NULL, form TEXT COLLATE "C" NOT NULL, instance BIGINT NOT NULL,
    doc TEXT NOT NULL, updated TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (study, record, event, form, instance),
    FOREIGN KEY (study, record) REFERENCES study_subjects (study, record));"#;

/// A subject to write: its columns and JSON, and the JSON it replaces (`None`: a new one).
#[derive(Debug, Clone, Copy)]
pub struct SubjectWrite<'a> {
    /// The record id (pseudonym).
    pub record: &'a str,
    /// Its site (data access group).
    pub dag: &'a str,
    /// `enrolled` or `withdrawn`.
    pub status: &'a str,
    /// When enrolled (RFC 3339).
    pub enrolled: &'a str,
    /// The subject as JSON.
    pub doc: &'a str,
    /// The JSON as read (compare-and-swap), or `None` to insert.
    pub old: Option<&'a str>,
}

/// A form instance to write: its key, JSON, and the JSON it replaces (`None`: a new one).
#[derive(Debug, Clone, Copy)]
pub struct FormWrite<'a> {
    /// The record.
    pub record: &'a str,
    /// The unique event name.
    pub event: &'a str,
    /// The form.
    pub form: &'a str,
    /// The repeat instance.
    pub instance: u32,
    /// The `FormData` as JSON.
    pub doc: &'a str,
    /// The JSON as read (compare-and-swap), or `None` to insert.
    pub old: Option<&'a str>,
}

/// What [`Db::records_write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Everything was written.
    All,
    /// Nothing was written: this one (`record` or `record/event/form/instance`) was changed
    /// (or created) by someone else since it was read.
    Stale(String),
}

const SUBJECT_INSERT: Sql = Sql::both(
    "INSERT INTO study_subjects (study, record, dag, status, enrolled, doc, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (study, record) DO NOTHING",
);
const SUBJECT_SWAP: Sql = Sql::both(
    "UPDATE study_subjects SET dag = ?3, status = ?4, enrolled = ?5, doc = ?6, updated = ?7 WHERE study = ?1 AND record = ?2 AND doc = ?8",
);
const FORM_INSERT: Sql = Sql::both(
    "INSERT INTO study_forms (study, record, event, form, instance, doc, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (study, record, event, form, instance) DO NOTHING",
);
const FORM_SWAP: Sql = Sql::both(
    "UPDATE study_forms SET doc = ?6, updated = ?7 WHERE study = ?1 AND record = ?2 AND event = ?3 AND form = ?4 AND instance = ?5 AND doc = ?8",
);

impl Db {
    /// Writes subjects, then forms, in one transaction, each by compare-and-swap on the JSON
    /// it replaces (or inserted when new): all or, if any one is stale, nothing.
    pub fn records_write(
        &self,
        study: &str,
        subjects: &[SubjectWrite<'_>],
        forms: &[FormWrite<'_>],
    ) -> R<Written> {
        let now = Utc::now().to_rfc3339();
        let stale: RefCell<Option<String>> = RefCell::new(None);
        let out = self.write(|c| {
            for s in subjects {
                let n = match s.old {
                    None => c.exec(
                        &SUBJECT_INSERT,
                        args![study, s.record, s.dag, s.status, s.enrolled, s.doc, &now],
                    )?,
                    Some(old) => c.exec(
                        &SUBJECT_SWAP,
                        args![
                            study, s.record, s.dag, s.status, s.enrolled, s.doc, &now, old
                        ],
                    )?,
                };
                if n != 1 {
                    *stale.borrow_mut() = Some(s.record.to_owned());
                    return Err(DbError("stale".into()));
                }
            }
            for f in forms {
                let inst = i64::from(f.instance);
                let n = match f.old {
                    None => c.exec(
                        &FORM_INSERT,
                        args![study, f.record, f.event, f.form, inst, f.doc, &now],
                    )?,
                    Some(old) => c.exec(
                        &FORM_SWAP,
                        args![study, f.record, f.event, f.form, inst, f.doc, &now, old],
                    )?,
                };
                if n != 1 {
                    *stale.borrow_mut() = Some(format!(
                        "{}/{}/{}/{}",
                        f.record, f.event, f.form, f.instance
                    ));
                    return Err(DbError("stale".into()));
                }
            }
            Ok(())
        });
        match (out, stale.into_inner()) {
            (Ok(()), _) => Ok(Written::All),
            (Err(_), Some(which)) => Ok(Written::Stale(which)),
            (Err(e), None) => Err(e),
        }
    }

    /// A subject's JSON.
    pub fn subject_get(&self, study: &str, record: &str) -> R<Option<String>> {
        let q = Sql::both("SELECT doc FROM study_subjects WHERE study = ?1 AND record = ?2");
        self.read(|c| c.row(&q, args![study, record]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// The JSON of a study's subjects, of one site (`dag`) or of all, by record id.
    pub fn subjects(&self, study: &str, dag: Option<&str>) -> R<Vec<String>> {
        let rows = match dag {
            Some(d) => {
                let q = Sql::both(
                    "SELECT doc FROM study_subjects WHERE study = ?1 AND dag = ?2 ORDER BY record",
                );
                self.read(|c| c.rows(&q, args![study, d]))?
            }
            None => {
                let q =
                    Sql::both("SELECT doc FROM study_subjects WHERE study = ?1 ORDER BY record");
                self.read(|c| c.rows(&q, args![study]))?
            }
        };
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// One form instance's JSON.
    pub fn form_get(
        &self,
        study: &str,
        record: &str,
        event: &str,
        form: &str,
        instance: u32,
    ) -> R<Option<String>> {
        let q = Sql::both(
            "SELECT doc FROM study_forms WHERE study = ?1 AND record = ?2 AND event = ?3 AND form = ?4 AND instance = ?5",
        );
        let inst = i64::from(instance);
        self.read(|c| c.row(&q, args![study, record, event, form, inst]))?
            .map(|r| r.text(0))
            .transpose()
    }

    /// The JSON of every form instance of a record (`Some`) or of the whole study (`None`),
    /// by record, event, form and instance.
    pub fn forms_of(&self, study: &str, record: Option<&str>) -> R<Vec<String>> {
        let rows = match record {
            Some(r) => {
                let q = Sql::both(
                    "SELECT doc FROM study_forms WHERE study = ?1 AND record = ?2 ORDER BY event, form, instance",
                );
                self.read(|c| c.rows(&q, args![study, r]))?
            }
            None => {
                let q = Sql::both(
                    "SELECT doc FROM study_forms WHERE study = ?1 ORDER BY record, event, form, instance",
                );
                self.read(|c| c.rows(&q, args![study]))?
            }
        };
        rows.iter().map(|r| r.text(0)).collect()
    }
}
