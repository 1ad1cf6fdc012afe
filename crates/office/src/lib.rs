//! The partnership office: what the network office runs besides the research itself, as
//! values without I/O. The hub stores these values and routes to them; the UI renders them.
//!
//! - [`agreement`]: the MoU (parties, signatories, term, renewal terms, notice period) and its
//!   renewal timeline.
//! - [`governance`]: bodies (steering committee, working groups) with members, roles and
//!   terms, and the decisions log.
//! - [`library`]: the document library: content-addressed immutable versions, their review
//!   state machine, translations with their own review state, approvals; [`diff`] compares
//!   two text versions line by line.
//! - [`exchange`]: staff exchanges and training courses with sessions and attendance.
//! - [`event`]: meetings, conferences and visits with agenda, participants, minutes and
//!   action items, shown in Europe/Berlin and Asia/Tokyo; double bookings as warnings.
//! - [`ical`]: the RFC 5545 writer for the per-user and per-body calendar feeds.
//! - [`report`]: the activity report per MoU year (exchanges, training, meetings held,
//!   decisions, open actions).
//! - [`reminder`]: the reminders due on a day (renewal decision, actions, events), each with a
//!   stable key so the hub sends it once.
//!
//! Bad input is an [`OfficeError`] naming the field at fault; a refused state change is an
//! [`OfficeError::Transition`] or one of the named rules.

pub mod agreement;
pub mod diff;
mod error;
pub mod event;
pub mod exchange;
pub mod governance;
pub mod ical;
pub mod library;
pub mod reminder;
pub mod report;

pub use error::{OfficeError, Warning};

/// A result of this crate.
pub type Result<T> = std::result::Result<T, OfficeError>;

/// Checks that a required text field is not blank.
pub(crate) fn required(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(OfficeError::Missing {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// A language the office keeps documents and pages in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
    /// Japanese.
    Ja,
}

impl Lang {
    /// The language's code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Ja => "ja",
        }
    }

    /// Reads a code (`en`, `de`, `ja`); `field` names the input for the error.
    pub fn parse(field: &str, code: &str) -> Result<Lang> {
        match code {
            "en" => Ok(Lang::En),
            "de" => Ok(Lang::De),
            "ja" => Ok(Lang::Ja),
            _ => Err(OfficeError::Invalid {
                field: field.to_owned(),
                message: format!("unknown language {code:?}: use en, de or ja"),
            }),
        }
    }
}
