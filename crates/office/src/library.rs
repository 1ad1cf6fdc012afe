//! The document library: documents (protocols, SOPs, methods, governance documents) in
//! immutable, content-addressed versions (the SHA-256 of their bytes) that move
//! draft → in review → approved → superseded, translations of one version into the other
//! languages with their own review state, and the approvals (who, when).
//!
//! The rules, each refused with its own error: only a draft's content can change
//! ([`OfficeError::Immutable`]); a translation is approved only after its source version
//! ([`OfficeError::SourceNotApproved`]); nobody approves their own text
//! ([`OfficeError::OwnApproval`]); any other step out of order is an
//! [`OfficeError::Transition`].
//!
//! A document may govern case definitions and breakpoint guidelines ([`governs`]): its
//! approved version is the one in force for them.

use crate::{Lang, OfficeError, Result, required};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod citation;
pub mod governs;
pub use governs::{Governs, InForce, in_force};

/// What kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A study protocol.
    Protocol,
    /// A standard operating procedure.
    Sop,
    /// A method description.
    Method,
    /// A governance document (rules of procedure, the MoU itself).
    Governance,
}

/// A document: the versions and translations hang off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Id (`proto-sari`).
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: DocKind,
    /// The language its versions are written in (translations are into the others).
    pub lang: Lang,
    /// The case definitions and breakpoint guidelines it governs (see [`governs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub governs: Vec<Governs>,
}

impl Document {
    /// Checks the document.
    pub fn validate(&self) -> Result<()> {
        required("id", &self.id)?;
        required("title", &self.title)
    }
}

/// The file types the library keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// Plain text (`.txt`).
    Text,
    /// Markdown (`.md`).
    Markdown,
    /// CSV (`.csv`).
    Csv,
    /// TOML (`.toml`): the case definitions the software ships are written in it.
    Toml,
    /// PDF.
    Pdf,
    /// Word (`.docx`).
    Docx,
    /// OpenDocument text (`.odt`).
    Odt,
    /// Excel (`.xlsx`).
    Xlsx,
}

impl MediaType {
    /// The type of a file by its name's extension; `field` names the input for the error.
    pub fn of_file(field: &str, name: &str) -> Result<MediaType> {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        Ok(match ext.as_str() {
            "txt" => MediaType::Text,
            "md" | "markdown" => MediaType::Markdown,
            "csv" => MediaType::Csv,
            "toml" => MediaType::Toml,
            "pdf" => MediaType::Pdf,
            "docx" => MediaType::Docx,
            "odt" => MediaType::Odt,
            "xlsx" => MediaType::Xlsx,
            _ => {
                return Err(OfficeError::UnknownAttachmentType {
                    field: field.to_owned(),
                    name: name.to_owned(),
                });
            }
        })
    }

    /// The MIME type to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Text => "text/plain; charset=utf-8",
            MediaType::Markdown => "text/markdown; charset=utf-8",
            MediaType::Csv => "text/csv; charset=utf-8",
            MediaType::Toml => "application/toml; charset=utf-8",
            MediaType::Pdf => "application/pdf",
            MediaType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            MediaType::Odt => "application/vnd.oasis.opendocument.text",
            MediaType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// Whether versions of this type can be compared line by line.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            MediaType::Text | MediaType::Markdown | MediaType::Csv | MediaType::Toml
        )
    }
}

/// The hex SHA-256 of some bytes: a version's address.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Bytes and what they are. The address is computed here, never taken from the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The file name as uploaded.
    pub file_name: String,
    /// Its type.
    pub media_type: MediaType,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Content {
    /// Describes `bytes` uploaded as `file_name`; `field` names the input for errors.
    pub fn of(field: &str, file_name: &str, bytes: &[u8]) -> Result<Content> {
        required(field, file_name)?;
        Ok(Content {
            file_name: file_name.to_owned(),
            media_type: MediaType::of_file(field, file_name)?,
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        })
    }
}

/// A review state (of a version, or of a translation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Being written; its content may still be replaced.
    Draft,
    /// Submitted for review.
    InReview,
    /// Approved: in force.
    Approved,
    /// Replaced by a later approved version.
    Superseded,
}

impl ReviewState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::InReview => "in_review",
            ReviewState::Approved => "approved",
            ReviewState::Superseded => "superseded",
        }
    }

    /// Reads a state's name.
    pub fn parse(s: &str) -> Option<ReviewState> {
        [
            ReviewState::Draft,
            ReviewState::InReview,
            ReviewState::Approved,
            ReviewState::Superseded,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A step in the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Draft → in review.
    Submit,
    /// In review → draft (changes requested).
    Return,
    /// In review → approved.
    Approve,
}

impl Step {
    fn past(self) -> &'static str {
        match self {
            Step::Submit => "submitted",
            Step::Return => "returned to draft",
            Step::Approve => "approved",
        }
    }
}

/// Who approved, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The review record shared by versions and translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The state.
    pub state: ReviewState,
    /// Who wrote it.
    pub author: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// Approvals, oldest first.
    pub approvals: Vec<Approval>,
}

impl Review {
    fn new(author: &str, at: DateTime<Utc>) -> Result<Review> {
        required("author", author)?;
        Ok(Review {
            state: ReviewState::Draft,
            author: author.to_owned(),
            created: at,
            approvals: Vec::new(),
        })
    }

    /// Applies `step` by `by` at `at`; `what` names the record in errors.
    fn step(&mut self, what: &str, step: Step, by: &str, at: DateTime<Utc>) -> Result<()> {
        let next = match (self.state, step) {
            (ReviewState::Draft, Step::Submit) => ReviewState::InReview,
            (ReviewState::InReview, Step::Return) => ReviewState::Draft,
            (ReviewState::InReview, Step::Approve) => {
                if by == self.author {
                    return Err(OfficeError::OwnApproval {
                        who: by.to_owned(),
                        what: what.to_owned(),
                    });
                }
                self.approvals.push(Approval {
                    by: by.to_owned(),
                    at,
                });
                ReviewState::Approved
            }
            (from, step) => {
                return Err(OfficeError::Transition {
                    what: what.to_owned(),
                    from: from.as_str(),
                    action: step.past(),
                });
            }
        };
        self.state = next;
        Ok(())
    }
}

/// One version of a document: immutable once submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The document.
    pub document: String,
    /// 1, 2, ...
    pub number: u32,
    /// Its bytes' description and address.
    pub content: Content,
    /// What changed, in a line.
    pub note: String,
    /// Its review.
    pub review: Review,
}

impl Version {
    /// A new draft version.
    pub fn new(
        document: &str,
        number: u32,
        content: Content,
        note: &str,
        author: &str,
        at: DateTime<Utc>,
    ) -> Result<Version> {
        Ok(Version {
            document: document.to_owned(),
            number,
            content,
            note: note.to_owned(),
            review: Review::new(author, at)?,
        })
    }

    fn what(&self) -> String {
        format!("version {} of {}", self.number, self.document)
    }

    /// Replaces a draft's content (a new address); refused once it has been submitted.
    pub fn replace_content(&mut self, content: Content) -> Result<()> {
        if self.review.state != ReviewState::Draft {
            return Err(OfficeError::Immutable {
                version: self.number,
                state: self.review.state.as_str(),
            });
        }
        self.content = content;
        Ok(())
    }

    /// Applies a review step.
    pub fn step(&mut self, step: Step, by: &str, at: DateTime<Utc>) -> Result<()> {
        let what = self.what();
        self.review.step(&what, step, by, at)
    }
}

/// Approves version `number` among a document's `versions` and supersedes the approved
/// versions before it; the numbers of those superseded.
pub fn approve(
    versions: &mut [Version],
    number: u32,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Vec<u32>> {
    let v = versions
        .iter_mut()
        .find(|v| v.number == number)
        .ok_or_else(|| OfficeError::Invalid {
            field: "version".into(),
            message: format!("no version {number}"),
        })?;
    v.step(Step::Approve, by, at)?;
    let mut superseded = Vec::new();
    for v in versions.iter_mut() {
        if v.number < number && v.review.state == ReviewState::Approved {
            v.review.state = ReviewState::Superseded;
            superseded.push(v.number);
        }
    }
    Ok(superseded)
}

/// A translation of one version into another language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    /// The document.
    pub document: String,
    /// The version it translates.
    pub version: u32,
    /// Its language.
    pub lang: Lang,
    /// Its bytes.
    pub content: Content,
    /// Its own review.
    pub review: Review,
}

impl Translation {
    /// A new draft translation of `source` (a version of `doc`) into `lang`.
    pub fn new(
        doc: &Document,
        source: &Version,
        lang: Lang,
        content: Content,
        translator: &str,
        at: DateTime<Utc>,
    ) -> Result<Translation> {
        if lang == doc.lang {
            return Err(OfficeError::Invalid {
                field: "lang".into(),
                message: format!(
                    "{} is written in {}: a translation is into another language",
                    doc.id,
                    lang.code()
                ),
            });
        }
        if source.review.state == ReviewState::Superseded {
            return Err(OfficeError::Transition {
                what: source.what(),
                from: source.review.state.as_str(),
                action: "translated",
            });
        }
        Ok(Translation {
            document: doc.id.clone(),
            version: source.number,
            lang,
            content,
            review: Review::new(translator, at)?,
        })
    }

    /// Applies a review step; approving needs the source version approved (or since
    /// superseded).
    pub fn step(
        &mut self,
        source: &Version,
        step: Step,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        if step == Step::Approve
            && !matches!(
                source.review.state,
                ReviewState::Approved | ReviewState::Superseded
            )
        {
            return Err(OfficeError::SourceNotApproved {
                version: self.version,
                lang: self.lang.code(),
            });
        }
        let what = format!(
            "the {} translation of version {} of {}",
            self.lang.code(),
            self.version,
            self.document
        );
        self.review.step(&what, step, by, at)
    }

    /// Replaces a draft translation's content; refused once submitted.
    pub fn replace_content(&mut self, content: Content) -> Result<()> {
        if self.review.state != ReviewState::Draft {
            return Err(OfficeError::Immutable {
                version: self.version,
                state: self.review.state.as_str(),
            });
        }
        self.content = content;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
