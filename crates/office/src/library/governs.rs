//! What a document governs: the case definitions and breakpoint guidelines the network's
//! computations run under. A document names the subjects it governs; the version *in force*
//! for a subject is that document's approved version (a later version in review or draft is
//! *pending*). Where the software holds the definition's own text (the surveillance case
//! definitions are shipped as TOML), the hub also tells whether the version in force has
//! exactly those bytes ([`InForce::matches`]), so a definition that changed in the code but
//! not in the library (or the reverse) shows on the page that uses it.

use super::{Document, ReviewState, Version, sha256_hex};
use crate::{OfficeError, Result, required};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A subject a document can govern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Governs {
    /// A surveillance case definition, by its shipped name (`sari-icosari`).
    CaseDefinition {
        /// The definition's name.
        name: String,
    },
    /// The interpretation of susceptibility tests by a breakpoint guideline (`EUCAST 2025`).
    Breakpoints {
        /// The guideline as the AMR reference names it.
        guideline: String,
    },
}

impl Governs {
    /// The subject's name (the definition or the guideline).
    pub fn name(&self) -> &str {
        match self {
            Governs::CaseDefinition { name } => name,
            Governs::Breakpoints { guideline } => guideline,
        }
    }

    /// The kind's serde name (`case_definition`, `breakpoints`): the UI's message key suffix.
    pub fn kind(&self) -> &'static str {
        match self {
            Governs::CaseDefinition { .. } => "case_definition",
            Governs::Breakpoints { .. } => "breakpoints",
        }
    }
}

/// Checks a document's subjects: none blank, none twice, and none governed by another of
/// `others` (the library's other documents): one subject, one document in force.
pub fn check(doc: &Document, others: &[Document]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, g) in doc.governs.iter().enumerate() {
        let field = format!("governs[{i}]");
        required(&field, g.name())?;
        if !seen.insert(g) {
            return Err(OfficeError::Invalid {
                field,
                message: format!("{} {:?} is named twice", g.kind(), g.name()),
            });
        }
        if let Some(o) = others
            .iter()
            .find(|o| o.id != doc.id && o.governs.contains(g))
        {
            return Err(OfficeError::Invalid {
                field,
                message: format!(
                    "{} {:?} is already governed by the document {:?}",
                    g.kind(),
                    g.name(),
                    o.id
                ),
            });
        }
    }
    Ok(())
}

/// The document governing a subject and its version in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InForce<'a> {
    /// The governing document.
    pub document: &'a Document,
    /// Its approved version; `None` while no version has been approved.
    pub version: Option<&'a Version>,
    /// The newest version still in draft or review after it, if any.
    pub pending: Option<u32>,
}

impl InForce<'_> {
    /// Whether the version in force has exactly these bytes (`None` when no version is).
    pub fn matches(&self, bytes: &[u8]) -> Option<bool> {
        self.version.map(|v| v.content.sha256 == sha256_hex(bytes))
    }
}

/// The document that governs `subject` among the library's documents with their versions,
/// and its version in force.
pub fn in_force<'a>(
    subject: &Governs,
    library: &'a [(Document, Vec<Version>)],
) -> Option<InForce<'a>> {
    let (document, versions) = library.iter().find(|(d, _)| d.governs.contains(subject))?;
    let version = versions
        .iter()
        .filter(|v| v.review.state == ReviewState::Approved)
        .max_by_key(|v| v.number);
    let after = version.map_or(0, |v| v.number);
    let pending = versions
        .iter()
        .filter(|v| {
            v.number > after && matches!(v.review.state, ReviewState::Draft | ReviewState::InReview)
        })
        .map(|v| v.number)
        .max();
    Some(InForce {
        document,
        version,
        pending,
    })
}
