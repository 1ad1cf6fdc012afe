//! The document library at the hub: documents, their versions (content kept once per
//! SHA-256), translations, review steps and diffs. Creating documents and approving is for
//! the network office and body chairs; any signed-in user uploads versions and translations
//! and submits their own.

use super::{ApiResult, audit, chairs_any, get, is_office, list, put, refused, swap};
use crate::db::{OfficeTable, Record, User};
use crate::{ApiError, Hub};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kakehashi_office::diff::{self, Line};
use kakehashi_office::library::{Content, Document, Step, Translation, Version, approve};
use kakehashi_office::{Lang, OfficeError};
use serde::{Deserialize, Serialize};

/// A document with its versions and translations.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// The document.
    pub document: Document,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
    /// Their translations.
    pub translations: Vec<Translation>,
}

/// A new version, or new content for a draft.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// The file's name (its type comes from its extension).
    pub file_name: String,
    /// The bytes, base64.
    pub content_base64: String,
    /// What changed.
    #[serde(default)]
    pub note: String,
    /// Replace the content of this draft version instead of adding one.
    #[serde(default)]
    pub replace: Option<u32>,
}

/// A translation of a version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTranslation {
    /// The version it translates.
    pub version: u32,
    /// Its language (`en`, `de`, `ja`).
    pub lang: String,
    /// The file's name.
    pub file_name: String,
    /// The bytes, base64.
    pub content_base64: String,
}

/// A review step on a version or on one of its translations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The version.
    pub version: u32,
    /// The translation's language, when the step is on a translation.
    #[serde(default)]
    pub lang: Option<String>,
    /// The step.
    pub step: Step,
}

fn version_id(doc: &str, n: u32) -> String {
    format!("{doc}/{n}")
}

fn sort(n: u32) -> String {
    format!("{n:08}")
}

/// The documents.
pub fn documents(hub: &Hub) -> ApiResult<Vec<Document>> {
    list(hub, OfficeTable::Documents, None)
}

/// A document with its versions and translations; 404 when there is none.
pub fn document(hub: &Hub, id: &str) -> ApiResult<DocumentView> {
    let (document, _) = get(hub, OfficeTable::Documents, id, "document")?;
    Ok(DocumentView {
        document,
        versions: list(hub, OfficeTable::Versions, Some(id))?,
        translations: list(hub, OfficeTable::Translations, Some(id))?,
    })
}

/// Makes or renames a document (the network office or a body chair).
pub fn put_document(hub: &Hub, by: &User, d: Document) -> ApiResult<()> {
    if !chairs_any(hub, by)? {
        return Err(ApiError::forbidden(
            "only the network office or a body chair adds documents",
        ));
    }
    d.validate().map_err(refused)?;
    super::governs::check(hub, &d)?;
    put(hub, OfficeTable::Documents, &d.id, None, &d.title, &d)?;
    audit(hub, by, "document_saved", serde_json::json!({"id": d.id}))
}

/// Decodes and keeps uploaded content; its description.
fn keep(hub: &Hub, field: &str, file_name: &str, b64: &str) -> ApiResult<Content> {
    let bytes = B64
        .decode(b64.trim())
        .map_err(|e| ApiError::bad_request(format!("content_base64: not base64 ({e})")))?;
    let c = Content::of(field, file_name, &bytes).map_err(refused)?;
    hub.db
        .office_put_content(&c.sha256, c.size as i64, &B64.encode(&bytes))?;
    Ok(c)
}

/// The bytes of content by SHA-256; 404 when unknown.
pub fn content(hub: &Hub, sha256: &str) -> ApiResult<Vec<u8>> {
    let b64 = hub
        .db
        .office_content(sha256)?
        .ok_or_else(|| ApiError::not_found(format!("no content {sha256}")))?;
    B64.decode(b64)
        .map_err(|e| ApiError::internal(format!("stored content {sha256}: {e}")))
}

/// Adds a version (number one more than the last), or replaces a draft's content.
pub fn add_version(hub: &Hub, by: &User, doc: &str, v: NewVersion) -> ApiResult<Version> {
    let (_d, _): (Document, _) = get(hub, OfficeTable::Documents, doc, "document")?;
    let c = keep(hub, "file_name", &v.file_name, &v.content_base64)?;
    if let Some(n) = v.replace {
        let (mut old, json): (Version, _) =
            get(hub, OfficeTable::Versions, &version_id(doc, n), "version")?;
        if old.review.author != by.name && !is_office(by) {
            return Err(ApiError::forbidden(format!(
                "version {n} is {}'s draft",
                old.review.author
            )));
        }
        old.replace_content(c).map_err(refused)?;
        swap(
            hub,
            OfficeTable::Versions,
            &json,
            &version_id(doc, n),
            Some(doc),
            &sort(n),
            &old,
        )?;
        audit(
            hub,
            by,
            "version_replaced",
            serde_json::json!({"document": doc, "version": n, "sha256": old.content.sha256}),
        )?;
        return Ok(old);
    }
    let versions: Vec<Version> = list(hub, OfficeTable::Versions, Some(doc))?;
    let n = versions.iter().map(|v| v.number).max().unwrap_or(0) + 1;
    let version =
        Version::new(doc, n, c, &v.note, &by.name, chrono::Utc::now()).map_err(refused)?;
    let json = serde_json::to_string(&version).map_err(|e| ApiError::internal(e.to_string()))?;
    let id = version_id(doc, n);
    let r = Record {
        id: &id,
        parent: Some(doc),
        sort: &sort(n),
        doc: &json,
    };
    if !hub.db.office_insert(OfficeTable::Versions, r)? {
        return Err(ApiError::conflict(format!(
            "version {n} of {doc} was added by someone else meanwhile: try again"
        )));
    }
    audit(
        hub,
        by,
        "version_added",
        serde_json::json!({"document": doc, "version": n, "sha256": version.content.sha256}),
    )?;
    Ok(version)
}

/// Adds (or replaces, while a draft) the translation of a version into a language.
pub fn add_translation(
    hub: &Hub,
    by: &User,
    doc: &str,
    t: NewTranslation,
) -> ApiResult<Translation> {
    let (d, _): (Document, _) = get(hub, OfficeTable::Documents, doc, "document")?;
    let (source, _): (Version, _) = get(
        hub,
        OfficeTable::Versions,
        &version_id(doc, t.version),
        "version",
    )?;
    let lang = Lang::parse("lang", &t.lang).map_err(refused)?;
    let c = keep(hub, "file_name", &t.file_name, &t.content_base64)?;
    let id = format!("{}/{}", version_id(doc, t.version), lang.code());
    let sort = format!("{}/{}", sort(t.version), lang.code());
    let tr = match hub.db.office_get(OfficeTable::Translations, &id)? {
        Some(json) => {
            let mut old: Translation = super::stored(&json)?;
            old.replace_content(c).map_err(refused)?;
            swap(
                hub,
                OfficeTable::Translations,
                &json,
                &id,
                Some(doc),
                &sort,
                &old,
            )?;
            old
        }
        None => {
            let tr = Translation::new(&d, &source, lang, c, &by.name, chrono::Utc::now())
                .map_err(refused)?;
            put(hub, OfficeTable::Translations, &id, Some(doc), &sort, &tr)?;
            tr
        }
    };
    audit(
        hub,
        by,
        "translation_saved",
        serde_json::json!({"document": doc, "version": t.version, "lang": lang.code(), "sha256": tr.content.sha256}),
    )?;
    Ok(tr)
}

/// Applies a review step. Submitting or returning: the author, a chair or the office;
/// approving: a chair or the office (never the author). Approving a version supersedes the
/// approved versions before it.
pub fn step(hub: &Hub, by: &User, doc: &str, s: StepRequest) -> ApiResult<()> {
    let vid = version_id(doc, s.version);
    let (mut source, source_json): (Version, _) = get(hub, OfficeTable::Versions, &vid, "version")?;
    let now = chrono::Utc::now();
    let reviewer = chairs_any(hub, by)?;
    let author_of = |author: &str| author == by.name;
    match &s.lang {
        Some(code) => {
            let lang = Lang::parse("lang", code).map_err(refused)?;
            let id = format!("{vid}/{}", lang.code());
            let (mut t, json): (Translation, _) =
                get(hub, OfficeTable::Translations, &id, "translation")?;
            allowed(s.step, reviewer, author_of(&t.review.author))?;
            t.step(&source, s.step, &by.name, now).map_err(refused)?;
            let sort = format!("{}/{}", sort(s.version), lang.code());
            swap(
                hub,
                OfficeTable::Translations,
                &json,
                &id,
                Some(doc),
                &sort,
                &t,
            )?;
        }
        None => {
            allowed(s.step, reviewer, author_of(&source.review.author))?;
            if s.step == Step::Approve {
                let mut all: Vec<Version> = list(hub, OfficeTable::Versions, Some(doc))?;
                let before = all.clone();
                approve(&mut all, s.version, &by.name, now).map_err(refused)?;
                for (old, new) in before.iter().zip(&all).filter(|(a, b)| a != b) {
                    let json = serde_json::to_string(old)
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    swap(
                        hub,
                        OfficeTable::Versions,
                        &json,
                        &version_id(doc, new.number),
                        Some(doc),
                        &sort(new.number),
                        new,
                    )?;
                }
            } else {
                source.step(s.step, &by.name, now).map_err(refused)?;
                swap(
                    hub,
                    OfficeTable::Versions,
                    &source_json,
                    &vid,
                    Some(doc),
                    &sort(s.version),
                    &source,
                )?;
            }
        }
    }
    audit(
        hub,
        by,
        "review_step",
        serde_json::json!({"document": doc, "version": s.version, "lang": s.lang, "step": s.step}),
    )
}

fn allowed(step: Step, reviewer: bool, author: bool) -> ApiResult<()> {
    let ok = match step {
        Step::Approve => reviewer,
        Step::Submit | Step::Return => reviewer || author,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the author, a body chair or the network office may do this step (approving: a chair or the office)",
        ))
    }
}

/// The line diff between two versions of a document; binary content is refused (400).
pub fn version_diff(hub: &Hub, doc: &str, from: u32, to: u32) -> ApiResult<Vec<Line>> {
    let (a, _): (Version, _) = get(
        hub,
        OfficeTable::Versions,
        &version_id(doc, from),
        "version",
    )?;
    let (b, _): (Version, _) = get(hub, OfficeTable::Versions, &version_id(doc, to), "version")?;
    for (which, v) in [("from", &a), ("to", &b)] {
        if !v.content.media_type.is_text() {
            return Err(refused(OfficeError::BinaryDiff {
                which,
                reason: "its file type is not text",
            }));
        }
    }
    diff::lines(
        &content(hub, &a.content.sha256)?,
        &content(hub, &b.content.sha256)?,
    )
    .map_err(refused)
}
