//! Which library document governs a surveillance case definition or a breakpoint guideline,
//! and its version in force (`kakehashi_office::library::governs`). The surveillance and AMR
//! pages show it beside the definition or guideline they use; for the case definitions, whose
//! text the software ships, they also tell whether the version in force has exactly that text.

use super::{ApiResult, list, refused};
use crate::db::OfficeTable;
use crate::{ApiError, Hub};
use chrono::{DateTime, Utc};
use kakehashi_office::library::{self, Document, Governs, Version};
use serde::Serialize;

/// The document in force for a subject, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Governing {
    /// The document's id.
    pub document: String,
    /// Its title.
    pub title: String,
    /// The approved version, if one is.
    pub version: Option<u32>,
    /// When it was approved, and by whom.
    pub approved: Option<(DateTime<Utc>, String)>,
    /// A newer version in draft or review.
    pub pending: Option<u32>,
    /// Whether the version in force has exactly the text the software uses (case definitions
    /// only; `None` for guidelines or while nothing is approved).
    pub matches: Option<bool>,
}

/// The shipped text of a case definition.
fn shipped(name: &str) -> Option<&'static str> {
    kakehashi_surveillance::definition::SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Checks that each subject of `d` exists here (a shipped case definition, an installed
/// guideline) and is governed by no other document; 400 naming `governs[i]` otherwise.
pub(super) fn check(hub: &Hub, d: &Document) -> ApiResult<()> {
    for (i, g) in d.governs.iter().enumerate() {
        let known = match g {
            Governs::CaseDefinition { name } => shipped(name).is_some(),
            Governs::Breakpoints { guideline } => kakehashi_amr::Reference::shared()
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "governs[{i}]: the AMR reference tables are not loaded here ({e})"
                    ))
                })?
                .guidelines()
                .iter()
                .any(|x| x.to_string() == *guideline),
        };
        if !known {
            return Err(ApiError::bad_request(format!(
                "governs[{i}]: no {} {:?} here",
                g.kind().replace('_', " "),
                g.name()
            )));
        }
    }
    let others: Vec<Document> = list(hub, OfficeTable::Documents, None)?;
    library::governs::check(d, &others).map_err(refused)
}

/// The document governing `subject` and its version in force; `None` when no document does.
pub fn governing(hub: &Hub, subject: &Governs) -> ApiResult<Option<Governing>> {
    let docs: Vec<Document> = list(hub, OfficeTable::Documents, None)?;
    let Some(doc) = docs.into_iter().find(|d| d.governs.contains(subject)) else {
        return Ok(None);
    };
    let versions: Vec<Version> = list(hub, OfficeTable::Versions, Some(&doc.id))?;
    let lib = [(doc, versions)];
    let Some(f) = library::in_force(subject, &lib) else {
        return Ok(None);
    };
    let matches = match subject {
        Governs::CaseDefinition { name } => shipped(name).and_then(|t| f.matches(t.as_bytes())),
        Governs::Breakpoints { .. } => None,
    };
    Ok(Some(Governing {
        document: f.document.id.clone(),
        title: f.document.title.clone(),
        version: f.version.map(|v| v.number),
        approved: f
            .version
            .and_then(|v| v.review.approvals.last())
            .map(|a| (a.at, a.by.clone())),
        pending: f.pending,
        matches,
    }))
}
