//! Subjects (REDCap's records) and where their forms stand: the subject's record id is the
//! pseudonym its site minted (the hub never sees the local patient id), its site, who
//! enrolled it and when, whether it was withdrawn; the key of one form instance
//! ([`FormKey`]); the event × form grid of a subject with each cell's status ([`grid`]);
//! and the rule that identifying fields (`Identifier? = y`) never reach the hub
//! ([`identifying`]).

use super::record::FormStatus;
use super::workflow::FormData;
use crate::study::Study;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a subject still takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectStatus {
    /// Enrolled, data being collected.
    Enrolled,
    /// Withdrawn: the data collected so far are kept, no new data are entered.
    Withdrawn,
}

impl SubjectStatus {
    /// The stored word (`enrolled`, `withdrawn`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectStatus::Enrolled => "enrolled",
            SubjectStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A withdrawal: who recorded it, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Who recorded it.
    pub by: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The reason given.
    pub reason: String,
}

/// A subject of a study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The record id: the pseudonym minted at the site (64 lower-case hex digits when the
    /// site agent minted it; a REDCap import may bring its own ids).
    pub record: String,
    /// The site (data access group) the subject belongs to.
    pub site: String,
    /// When enrolled (UTC).
    pub enrolled_at: DateTime<Utc>,
    /// Who enrolled it (`site:<id>` for the site agent, else a user).
    pub enrolled_by: String,
    /// Whether it still takes part.
    pub status: SubjectStatus,
    /// The withdrawal, when withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Withdrawal>,
}

/// Why a subject or a record id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// A record id that cannot be one (REDCap: letters, digits, `_`, `-`, `.`; at most 100).
    #[error("record '{0}': a record id is 1 to 100 letters, digits, '_', '-' or '.'")]
    BadRecordId(String),
    /// A site the study does not have.
    #[error("record '{record}': the study has no site '{site}'")]
    UnknownSite {
        /// The record.
        record: String,
        /// The site.
        site: String,
    },
    /// Withdrawing a withdrawn subject.
    #[error("record '{0}' is withdrawn already")]
    AlreadyWithdrawn(String),
    /// A withdrawal without a reason.
    #[error("record '{0}': a reason for the withdrawal is required")]
    ReasonRequired(String),
}

/// Whether `s` is a pseudonym as the site agent mints it: 64 lower-case hex digits.
pub fn is_pseudonym(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks a record id (REDCap's rule: letters, digits, `_`, `-`, `.`; 1 to 100 characters).
pub fn check_record_id(s: &str) -> Result<(), SubjectError> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(SubjectError::BadRecordId(s.into()))
    }
}

impl Subject {
    /// A newly enrolled subject at `site` of `study` (checked: the id's shape, the site).
    pub fn enrol(
        study: &Study,
        record: &str,
        site: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Subject, SubjectError> {
        check_record_id(record)?;
        if !study.sites.iter().any(|s| s.dag == site) {
            return Err(SubjectError::UnknownSite {
                record: record.into(),
                site: site.into(),
            });
        }
        Ok(Subject {
            record: record.into(),
            site: site.into(),
            enrolled_at: at,
            enrolled_by: by.into(),
            status: SubjectStatus::Enrolled,
            withdrawal: None,
        })
    }

    /// Records a withdrawal (a reason is required; a withdrawn subject is refused).
    pub fn withdraw(
        &mut self,
        by: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), SubjectError> {
        if self.status == SubjectStatus::Withdrawn {
            return Err(SubjectError::AlreadyWithdrawn(self.record.clone()));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(SubjectError::ReasonRequired(self.record.clone()));
        }
        self.status = SubjectStatus::Withdrawn;
        self.withdrawal = Some(Withdrawal {
            by: by.into(),
            at,
            reason: reason.into(),
        });
        Ok(())
    }
}

/// Which form instance: record, event, form, repeat instance (1 when not repeating).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FormKey {
    /// The record.
    pub record: String,
    /// The unique event name.
    pub event: String,
    /// The form.
    pub form: String,
    /// The repeat instance.
    pub instance: u32,
}

impl FormKey {
    /// The key of a stored form.
    pub fn of(d: &FormData) -> FormKey {
        FormKey {
            record: d.record.clone(),
            event: d.event.clone(),
            form: d.form.clone(),
            instance: d.instance,
        }
    }
}

/// Where a form instance stands, as a grid cell shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellInstance {
    /// The repeat instance.
    pub instance: u32,
    /// Its status.
    pub status: FormStatus,
    /// Whether locked.
    pub locked: bool,
    /// Whether e-signed (since the last lock).
    pub signed: bool,
    /// How many values it holds.
    pub values: usize,
}

/// One cell of a subject's grid: a form at an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCell {
    /// The form.
    pub form: String,
    /// Whether it repeats at this event.
    pub repeating: bool,
    /// The instances saved so far (empty: nothing entered yet).
    pub instances: Vec<CellInstance>,
}

/// One row of the grid: an event and the forms it collects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRow {
    /// The unique event name.
    pub event: String,
    /// Its label.
    pub label: String,
    /// Its forms, in the event's order.
    pub cells: Vec<GridCell>,
}

/// The event × form grid of one subject from its saved forms (those of other records are
/// ignored; a form saved at an event that no longer collects it is left out).
pub fn grid(study: &Study, record: &str, saved: &[FormData]) -> Vec<GridRow> {
    study
        .events()
        .map(|e| GridRow {
            event: e.unique_name.clone(),
            label: e.label.clone(),
            cells: e
                .forms
                .iter()
                .map(|f| {
                    let mut instances: Vec<CellInstance> = saved
                        .iter()
                        .filter(|d| d.record == record && d.event == e.unique_name && &d.form == f)
                        .map(|d| CellInstance {
                            instance: d.instance,
                            status: d.status,
                            locked: d.lock.is_some(),
                            signed: !d.signatures.is_empty(),
                            values: d.values.len(),
                        })
                        .collect();
                    instances.sort_by_key(|c| c.instance);
                    GridCell {
                        form: f.clone(),
                        repeating: study.is_repeating(&e.unique_name, f),
                        instances,
                    }
                })
                .collect(),
        })
        .collect()
}

/// The variables among `names` (`var` or `var___code`) that the study marks identifying
/// (`Identifier? = y`): such data stay at the site, the hub refuses them.
pub fn identifying<'a>(study: &Study, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| {
            let var = n.split_once("___").map_or(*n, |(v, _)| v);
            study
                .fields
                .iter()
                .any(|f| f.variable == var && f.identifier)
        })
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arc::registry;

    #[test]
    fn pseudonyms_and_record_ids_have_their_shape() {
        assert!(is_pseudonym(&"ab".repeat(32)));
        assert!(!is_pseudonym(&"AB".repeat(32)));
        assert!(!is_pseudonym("abc"));
        assert!(check_record_id("1001-3").is_ok());
        assert!(check_record_id("a b").is_err());
        assert!(check_record_id("").is_err());
        assert!(check_record_id(&"x".repeat(101)).is_err());
    }

    #[test]
    fn enrolment_checks_the_site_and_withdrawal_needs_a_reason() {
        let mut s = registry::vhf_study().unwrap();
        s.sites = vec![crate::study::Site {
            dag: "de_charite".into(),
            name: "Charité".into(),
            country: "DE".into(),
        }];
        let at = Utc::now();
        assert_eq!(
            Subject::enrol(&s, "r1", "jp_jihs", "ana", at),
            Err(SubjectError::UnknownSite {
                record: "r1".into(),
                site: "jp_jihs".into()
            })
        );
        let mut sub = Subject::enrol(&s, "r1", "de_charite", "ana", at).unwrap();
        assert_eq!(
            sub.withdraw("ana", " ", at),
            Err(SubjectError::ReasonRequired("r1".into()))
        );
        sub.withdraw("ana", "consent withdrawn", at).unwrap();
        assert_eq!(sub.status, SubjectStatus::Withdrawn);
        assert!(sub.withdraw("ana", "again", at).is_err());
    }

    #[test]
    fn the_grid_shows_each_saved_instance_in_its_cell() {
        let s = registry::vhf_study().unwrap();
        let e = s.events().next().unwrap();
        let form = e.forms[0].clone();
        let mut d = FormData::new("r1", "de", &e.unique_name, &form, 1);
        d.status = FormStatus::Complete;
        let other = FormData::new("r2", "de", &e.unique_name, &form, 1);
        let g = grid(&s, "r1", &[d, other]);
        assert_eq!(g.len(), s.events().count());
        let cell = &g[0].cells[0];
        assert_eq!(cell.form, form);
        assert_eq!(cell.instances.len(), 1);
        assert_eq!(cell.instances[0].status, FormStatus::Complete);
        assert!(g[0].cells[1..].iter().all(|c| c.instances.is_empty()));
    }

    #[test]
    fn identifying_fields_are_named() {
        let mut s = registry::vhf_study().unwrap();
        let var = s.fields[1].variable.clone();
        s.fields[1].identifier = true;
        let other = s.fields[2].variable.clone();
        assert_eq!(identifying(&s, [var.as_str(), other.as_str()]), vec![var]);
    }
}
