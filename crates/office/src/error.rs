//! The office's errors and warnings: each names the field (a path such as
//! `actions[1].owner`) or the rule at fault.

use chrono::{DateTime, NaiveDate, Utc};

/// Input or a state change the office refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OfficeError {
    /// A required field is empty.
    #[error("{field}: required")]
    Missing {
        /// The field.
        field: String,
    },
    /// A field's value is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
    /// An interval ends before it starts.
    #[error("{field}: ends ({end}) before it starts ({start})")]
    EndBeforeStart {
        /// The end's field.
        field: String,
        /// The start, as written.
        start: String,
        /// The end, as written.
        end: String,
    },
    /// An action item without an owner.
    #[error("{field}: an action needs an owner")]
    ActionWithoutOwner {
        /// The action's owner field.
        field: String,
    },
    /// An attachment whose type the library does not keep.
    #[error(
        "{field}: {name:?} is not a type the library keeps (use .txt, .md, .csv, .toml, .pdf, .docx, .odt, .xlsx)"
    )]
    UnknownAttachmentType {
        /// The field.
        field: String,
        /// The file name or media type given.
        name: String,
    },
    /// A diff asked of a version that is not text.
    #[error(
        "{which} is not a text document ({reason}): only text versions can be compared line by line"
    )]
    BinaryDiff {
        /// Which side (`from` or `to`).
        which: &'static str,
        /// Why it is taken as binary.
        reason: &'static str,
    },
    /// A state change the state machine does not allow.
    #[error("{what} is {from}: it cannot be {action}")]
    Transition {
        /// What (e.g. `version 2`).
        what: String,
        /// Its state.
        from: &'static str,
        /// The refused action.
        action: &'static str,
    },
    /// A version that has left the draft state was to be changed.
    #[error(
        "version {version} is {state}: an approved or submitted version cannot be edited; make a new version"
    )]
    Immutable {
        /// The version number.
        version: u32,
        /// Its state.
        state: &'static str,
    },
    /// A translation was to be approved before its source version.
    #[error(
        "the {lang} translation of version {version} cannot be approved before its source version is approved"
    )]
    SourceNotApproved {
        /// The version number.
        version: u32,
        /// The translation's language.
        lang: &'static str,
    },
    /// An approver approving their own work.
    #[error("{who} wrote {what} and cannot approve it")]
    OwnApproval {
        /// The author.
        who: String,
        /// What.
        what: String,
    },
}

/// Something the office accepts but points out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// A person is in person at two places at once.
    DoubleBooked {
        /// Who.
        person: String,
        /// The first event's id.
        first: String,
        /// The second event's id.
        second: String,
        /// Where the overlap starts.
        from: DateTime<Utc>,
    },
    /// The renewal decision is due or overdue.
    RenewalDecisionDue {
        /// The agreement.
        agreement: String,
        /// The date the decision is due.
        due: NaiveDate,
    },
}
