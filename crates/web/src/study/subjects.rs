//! The subject list of a study (`study_subjects.html`) and one subject's event × form grid
//! (`study_subject.html`), each cell a link to the form with its status in colour and words.

use super::input::status_name;
use super::{Text, form_label};
use crate::Locale;
use kakehashi_edc::Study;
use kakehashi_edc::entry::FormStatus;
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
    /// `enrolled` or `withdrawn`.
    pub status: String,
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
    /// The pseudonym as typed (kept when the enrolment is refused).
    pub record: String,
    /// A refused enrolment, in words.
    pub error: Option<String>,
}

/// One form instance in a grid cell.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InstanceView {
    /// The repeat instance (the form's address ends in it).
    pub instance: u32,
    /// `empty`, `incomplete`, `unverified`, `complete` (colour and message key).
    pub status: String,
    /// Locked.
    pub locked: bool,
    /// Signed.
    pub signed: bool,
}

/// One cell of the grid: a form at an event (the form's address is
/// `/studies/{study}/subjects/{record}/{event}/{form}/{instance}`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Cell {
    /// The form's name.
    pub form: String,
    /// Its instances; one `empty` instance 1 when nothing is saved yet.
    pub instances: Vec<InstanceView>,
    /// The next instance of a repeating form, offered as a new one.
    pub next: Option<u32>,
}

/// An event's row of the grid: a cell per form of the study (none where the event does not
/// collect it).
#[derive(Debug, Clone, Serialize, Default)]
pub struct GridRow {
    /// The event's unique name.
    pub event: String,
    /// Its label.
    pub label: String,
    /// Cells, one per form of the study.
    pub cells: Vec<Option<Cell>>,
}

/// `/studies/{id}/subjects/{record}`: the event × form grid.
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
    /// `enrolled` or `withdrawn`.
    pub status: String,
    /// The forms' labels (the columns).
    pub forms: Vec<Text>,
    /// One row per event.
    pub rows: Vec<GridRow>,
}

impl SubjectPage {
    /// The page of `record` from its grid (edc's `entry::subject::grid`).
    pub fn new(
        s: &Study,
        locale: Locale,
        record: &str,
        site: &str,
        status: &str,
        grid: &[kakehashi_edc::entry::GridRow],
    ) -> Self {
        let forms = s.forms();
        let rows = grid
            .iter()
            .map(|r| GridRow {
                event: r.event.clone(),
                label: r.label.clone(),
                cells: forms
                    .iter()
                    .map(|f| {
                        r.cells.iter().find(|c| c.form == *f).map(|c| {
                            let mut instances: Vec<InstanceView> = c
                                .instances
                                .iter()
                                .map(|i| InstanceView {
                                    instance: i.instance,
                                    status: if i.values == 0 && i.status == FormStatus::Incomplete {
                                        "empty".into()
                                    } else {
                                        status_name(i.status).into()
                                    },
                                    locked: i.locked,
                                    signed: i.signed,
                                })
                                .collect();
                            if instances.is_empty() {
                                instances.push(InstanceView {
                                    instance: 1,
                                    status: "empty".into(),
                                    ..Default::default()
                                });
                            }
                            let last = instances.iter().map(|i| i.instance).max().unwrap_or(1);
                            Cell {
                                form: c.form.clone(),
                                next: (c.repeating && !c.instances.is_empty()).then_some(last + 1),
                                instances,
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
            status: status.into(),
            forms: forms.iter().map(|f| form_label(s, locale, f)).collect(),
            rows,
        }
    }
}
