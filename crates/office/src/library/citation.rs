//! A study's citation of the protocol version it runs under: which library document and
//! version, whether that version is the approved one, and whether a newer one has been
//! approved since (the study then runs under a superseded protocol until it is amended).

use super::{DocKind, Document, ReviewState, Version};
use crate::error::OfficeError;
use serde::Serialize;

/// A cited protocol version as a study page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cited {
    /// The document's id.
    pub document: String,
    /// Its title.
    pub title: String,
    /// The cited version.
    pub version: u32,
    /// That version's review state (`draft`, `in_review`, `approved`, `superseded`).
    pub state: &'static str,
    /// The newest approved version when it is not the cited one.
    pub newer_approved: Option<u32>,
}

impl Cited {
    /// Whether the study runs under the protocol version approved now.
    pub fn is_current(&self) -> bool {
        self.state == ReviewState::Approved.as_str() && self.newer_approved.is_none()
    }
}

/// Checks that `document` is a protocol with a version `version` and describes the
/// citation; `field` names the citation in messages (`protocol`).
pub fn cite(
    field: &str,
    document: &Document,
    versions: &[Version],
    version: u32,
) -> Result<Cited, OfficeError> {
    if document.kind != DocKind::Protocol {
        let kind = match document.kind {
            DocKind::Protocol => "protocol",
            DocKind::Sop => "SOP",
            DocKind::Method => "method",
            DocKind::Governance => "governance",
        };
        return Err(OfficeError::Invalid {
            field: format!("{field}.document"),
            message: format!("{:?} is a {kind} document, not a protocol", document.id),
        });
    }
    let Some(v) = versions
        .iter()
        .find(|v| v.document == document.id && v.number == version)
    else {
        return Err(OfficeError::Invalid {
            field: format!("{field}.version"),
            message: format!("{:?} has no version {version}", document.id),
        });
    };
    let newest = versions
        .iter()
        .filter(|v| v.document == document.id && v.review.state == ReviewState::Approved)
        .map(|v| v.number)
        .max();
    Ok(Cited {
        document: document.id.clone(),
        title: document.title.clone(),
        version,
        state: v.review.state.as_str(),
        newer_approved: newest.filter(|n| *n > version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;
    use crate::library::{Content, approve};
    use chrono::{TimeZone, Utc};

    fn doc(kind: DocKind) -> Document {
        Document {
            id: "proto-vhf".into(),
            title: "VHF registry protocol".into(),
            kind,
            lang: Lang::En,
            governs: vec![],
        }
    }

    fn version(n: u32) -> Version {
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
        let c = Content::of("file", "p.md", format!("protocol {n}").as_bytes()).unwrap();
        Version::new("proto-vhf", n, c, "", "office", at).unwrap()
    }

    #[test]
    fn a_citation_names_the_version_and_whether_a_newer_one_is_approved() {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
        let mut vs = vec![version(1), version(2)];
        let d = doc(DocKind::Protocol);
        let c = cite("protocol", &d, &vs, 1).unwrap();
        assert_eq!(
            (c.state, c.newer_approved, c.is_current()),
            ("draft", None, false)
        );
        for v in vs.iter_mut() {
            v.step(crate::library::Step::Submit, "office", at).unwrap();
        }
        approve(&mut vs, 1, "chair", at).unwrap();
        let c = cite("protocol", &d, &vs, 1).unwrap();
        assert!(c.is_current(), "{c:?}");
        approve(&mut vs, 2, "chair", at).unwrap();
        let c = cite("protocol", &d, &vs, 1).unwrap();
        assert_eq!((c.state, c.newer_approved), ("superseded", Some(2)));
        assert!(!c.is_current());
        assert!(cite("protocol", &d, &vs, 2).unwrap().is_current());
    }

    #[test]
    fn a_citation_of_a_missing_version_or_of_another_kind_is_refused_naming_the_field() {
        let vs = vec![version(1)];
        let e = cite("protocol", &doc(DocKind::Protocol), &vs, 3).unwrap_err();
        assert!(e.to_string().starts_with("protocol.version:"), "{e}");
        let e = cite("protocol", &doc(DocKind::Sop), &vs, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocol.document: \"proto-vhf\" is a SOP document, not a protocol"
        );
    }
}
