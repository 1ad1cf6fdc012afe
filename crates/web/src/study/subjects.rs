//! The subject list of a study (`study_subjects.html`) and one subject's event × form grid
//! (`study_subject.html`), each cell a link to the form with its status in colour and words.

use super::{Text, form_label};
use crate::Locale;
use kakehashi_edc::Study;
use serde::Serialize;

/// A subject in the list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SubjectRow {
    /// The pseudonym (the subject's page address).
    pub record: String,
    /// The site (data access group).
    pub site: String,
    /// Enrolled (RFC 3339 or `YYYY-MM-DD`).
    pub created: String,
    /// Forms with data, and of those complete.
    pub forms: (usize, usize),
}

/// `/studies/{id}/subjects`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SubjectsPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The subjects the caller may see.
    pub subjects: Vec<SubjectRow>,
    /// The caller sees every site (else only `site`).
    pub all_sites: bool,
    /// The caller's site.
    pub site: String,
    /// The sites where the caller may enrol a subject: data access group and name.
    pub enrol_sites: Vec<(String, String)>,
    /// A refused enrolment, in words.
    pub error: Option<String>,
}

/// One cell of the grid.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Cell {
    /// The event's unique name (the form's address is
    /// `/studies/{study}/subjects/{record}/{event}/{form}/1`).
    pub event: String,
    /// The form's name.
    pub form: String,
    /// `empty`, `incomplete`, `unverified`, `complete` (colour and message key).
    pub status: String,
    /// Locked.
    pub locked: bool,
    /// Signed.
    pub signed: bool,
}

/// A form's row of the grid: a cell per event (none where the event does not collect it).
#[derive(Debug, Clone, Serialize, Default)]
pub struct GridRow {
    /// The form's label.
    pub form: Text,
    /// Cells, one per event.
    pub cells: Vec<Option<Cell>>,
}

/// `/studies/{id}/subjects/{record}`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SubjectPage {
    /// The study's id.
    pub study: String,
    /// Its acronym.
    pub acronym: String,
    /// The subject.
    pub record: String,
    /// Its site.
    pub site: String,
    /// The events' labels (the columns).
    pub events: Vec<String>,
    /// One row per form.
    pub rows: Vec<GridRow>,
}

impl SubjectPage {
    /// The grid of `record`: `status(event, form)` gives a stored form's status, lock and
    /// signature (`None`: no data yet).
    pub fn new(
        s: &Study,
        locale: Locale,
        record: &str,
        site: &str,
        status: &dyn Fn(&str, &str) -> Option<(String, bool, bool)>,
    ) -> Self {
        let events: Vec<_> = s.events().collect();
        let rows = s
            .forms()
            .into_iter()
            .map(|f| GridRow {
                form: form_label(s, locale, f),
                cells: events
                    .iter()
                    .map(|e| {
                        e.forms.iter().any(|x| x == f).then(|| {
                            let (st, locked, signed) = status(&e.unique_name, f)
                                .unwrap_or_else(|| ("empty".into(), false, false));
                            Cell {
                                event: e.unique_name.clone(),
                                form: f.to_owned(),
                                status: st,
                                locked,
                                signed,
                            }
                        })
                    })
                    .collect(),
            })
            .collect();
        SubjectPage {
            study: s.id.clone(),
            acronym: s.acronym.clone(),
            record: record.into(),
            site: site.into(),
            events: events.iter().map(|e| e.label.clone()).collect(),
            rows,
        }
    }
}
