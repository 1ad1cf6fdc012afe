//! The values of the form workflow: status, actor, history entries, locks, signatures, and
//! the refusals.

use super::value::ValueError;
use crate::study::FormRights;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// REDCap's form status (`<form>_complete`: 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormStatus {
    /// 0: incomplete.
    Incomplete,
    /// 1: unverified.
    Unverified,
    /// 2: complete.
    Complete,
}

impl FormStatus {
    /// REDCap's stored code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Who acts: a user with a role's rights on this form, at a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user id.
    pub user: String,
    /// The printed name (for signatures).
    pub full_name: String,
    /// The site (data access group) the user belongs to.
    pub site: String,
    /// Whether the user's role sees every site.
    pub all_sites: bool,
    /// Whether the user's role may open, close and re-open data queries.
    pub open_queries: bool,
    /// The role's rights on the form acted on.
    pub rights: FormRights,
}

/// Proof that the user re-entered the password just now; only the hub, which checks the
/// password, makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reauthenticated {
    _private: (),
}

impl Reauthenticated {
    /// Made by the caller after it verified the re-entered password.
    pub fn password_verified() -> Self {
        Reauthenticated { _private: () }
    }
}

/// One change of one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Who.
    pub user: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The variable (`var___code` for a checkbox option).
    pub field: String,
    /// The value before (empty: none).
    pub old: String,
    /// The value after.
    pub new: String,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a signature means (21 CFR 11.50(a)(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMeaning {
    /// Reviewed the data.
    Review,
    /// Approves the data.
    Approval,
    /// Takes responsibility for the data.
    Responsibility,
    /// Authored the data.
    Authorship,
}

/// An electronic signature: printed name, time, meaning (21 CFR 11.50(a)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signer's user id.
    pub user: String,
    /// The signer's printed name.
    pub full_name: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The meaning.
    pub meaning: SignatureMeaning,
}

/// The lock on a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// Who locked it.
    pub user: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A step refused; nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryError {
    /// The user's role lacks the right.
    #[error("user '{user}' has no '{right}' right on form '{form}'")]
    NoRight {
        /// The user.
        user: String,
        /// The right.
        right: &'static str,
        /// The form.
        form: String,
    },
    /// The record belongs to another site.
    #[error("user '{user}' of site '{user_site}' cannot act on a record of site '{record_site}'")]
    OtherSite {
        /// The user.
        user: String,
        /// The user's site.
        user_site: String,
        /// The record's site.
        record_site: String,
    },
    /// The form is locked.
    #[error("form '{form}' is locked")]
    Locked {
        /// The form.
        form: String,
    },
    /// The form is not locked (to sign it, or unlock it).
    #[error("form '{form}' is not locked")]
    NotLocked {
        /// The form.
        form: String,
    },
    /// A field that is not on this form.
    #[error("'{field}' is not a field of form '{form}'")]
    UnknownField {
        /// The field.
        field: String,
        /// The form.
        form: String,
    },
    /// Values refused, each with its field.
    #[error("{}", .0.iter().map(|(f, e)| format!("{f}: {e}")).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(String, ValueError)>),
    /// A change to a complete form without a reason.
    #[error("form '{form}' is complete: a reason for the change is required")]
    ReasonRequired {
        /// The form.
        form: String,
    },
    /// "Complete" with shown required fields empty.
    #[error("form '{form}' cannot be complete: required field(s) empty: {}", .fields.join(", "))]
    RequiredMissing {
        /// The form.
        form: String,
        /// The empty required fields.
        fields: Vec<String>,
    },
    /// Signing needs the password re-entered.
    #[error("signing needs the password re-entered")]
    NotReauthenticated,
}
