//! The office page's forms, each CSRF-checked and then handed to the same service call as the
//! API (so the rules and the audit log are one): a new document (`POST /office/documents`),
//! a version or translation uploaded as a file (`POST /office/documents/ID/upload`,
//! `multipart/form-data`), a decision (`POST /office/decisions`) and an action's status
//! (`POST /office/events/ID/actions`), and for a body's chair or the office: a new event
//! (`POST /office/events`), an action on one (`POST /office/events/ID/action`) and its minutes
//! (`POST /office/events/ID/minutes`); double bookings come back as a notice on the page. The
//! office also plans exchanges (`POST /office/exchanges`), moves them on with their report
//! (`POST /office/exchanges/ID`) and records a course's attendance
//! (`POST /office/courses/ID/attendance`). Success goes back to the page's section (303); a
//! refusal is the error page with the service's message, which names the field at fault.

use super::super::{S, SignedIn};
use crate::service::office::{self, calendar, library};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use kakehashi_office::Lang;
use kakehashi_office::event::ActionStatus;
use kakehashi_office::governance::Vote;
use kakehashi_office::library::{DocKind, Document};
use serde::Deserialize;
use std::sync::Arc;

mod events;
mod people;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/office/documents", post(new_document))
        .route("/office/documents/{id}/upload", post(upload))
        .route("/office/decisions", post(new_decision))
        .route("/office/events/{id}/actions", post(action_status))
        .route("/office/events", post(events::new_event))
        .route("/office/events/{id}/action", post(events::add_action))
        .route("/office/events/{id}/minutes", post(events::minutes))
        .route("/office/exchanges", post(people::new_exchange))
        .route("/office/exchanges/{id}", post(people::exchange_status))
        .route("/office/courses/{id}/attendance", post(people::attendance))
}

/// A unit enum from its serde name; 400 naming `field` otherwise.
pub(super) fn named<T: serde::de::DeserializeOwned>(
    field: &str,
    value: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiError::bad_request(format!("{field}: unknown value {value:?}")))
}

#[derive(Deserialize)]
struct NewDocumentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    lang: String,
}

/// A new document (the office or a body's chair); an existing id is refused, so the form
/// never renames a document or drops what it governs.
async fn new_document(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<NewDocumentForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let kind: DocKind = named("kind", &f.kind)?;
    let lang = Lang::parse("lang", &f.lang).map_err(office::refused)?;
    let id = f.id.trim().to_owned();
    let doc = Document {
        id: id.clone(),
        title: f.title.trim().to_owned(),
        kind,
        lang,
        governs: Vec::new(),
    };
    hub.blocking(move |h| {
        if h.db
            .office_get(crate::db::OfficeTable::Documents, &doc.id)?
            .is_some()
        {
            return Err(ApiError::conflict(format!(
                "id: a document {:?} exists already",
                doc.id
            )));
        }
        library::put_document(h, &user, doc)
    })
    .await?;
    Ok(Redirect::to(&format!("/office#doc-{id}")).into_response())
}

/// The fields of an upload form.
#[derive(Default)]
struct Upload {
    csrf: String,
    what: String,
    note: String,
    version: String,
    lang: String,
    file: Option<(String, Vec<u8>)>,
}

/// Reads the multipart form; a part that cannot be read is a 400 naming it.
async fn read_upload(mut m: Multipart) -> Result<Upload, ApiError> {
    let mut u = Upload::default();
    while let Some(field) = m
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the form does not read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(format!("file: {e}")))?;
            u.file = Some((file_name, bytes.to_vec()));
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| ApiError::bad_request(format!("{name}: {e}")))?;
        match name.as_str() {
            "csrf" => u.csrf = text,
            "what" => u.what = text,
            "note" => u.note = text,
            "version" => u.version = text,
            "lang" => u.lang = text,
            _ => {}
        }
    }
    Ok(u)
}

/// A new version of a document, or a translation of one of its versions, from a file (any
/// signed-in user; the review decides). The file's extension gives its type.
async fn upload(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    m: Multipart,
) -> Result<Response, ApiError> {
    let u = read_upload(m).await?;
    ui.check_csrf(&u.csrf)?;
    let (file_name, bytes) = u
        .file
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| ApiError::bad_request("file: choose a file to upload"))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(format!("file: {file_name} is empty")));
    }
    let content_base64 = B64.encode(&bytes);
    let doc = id.clone();
    match u.what.as_str() {
        "version" => {
            let v = library::NewVersion {
                file_name,
                content_base64,
                note: u.note,
                replace: None,
            };
            hub.blocking(move |h| library::add_version(h, &user, &doc, v))
                .await?;
        }
        "translation" => {
            let version = u.version.trim().parse::<u32>().map_err(|_| {
                ApiError::bad_request(format!("version: not a version number: {:?}", u.version))
            })?;
            let t = library::NewTranslation {
                version,
                lang: u.lang,
                file_name,
                content_base64,
            };
            hub.blocking(move |h| library::add_translation(h, &user, &doc, t))
                .await?;
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "what: {other:?}: upload a version or a translation"
            )));
        }
    }
    Ok(Redirect::to(&format!("/office#doc-{id}")).into_response())
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    text: String,
    /// `consensus` or `counted`.
    #[serde(default)]
    vote: String,
    #[serde(default)]
    yes: String,
    #[serde(default)]
    no: String,
    #[serde(default)]
    abstain: String,
}

/// A count from the form; blank is 0.
fn count(field: &str, v: &str) -> Result<u32, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(0);
    }
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("{field}: not a count: {v:?}")))
}

/// A decision of a body the reader chairs (or any, for the office).
async fn new_decision(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<DecisionForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let date = NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!("date: not a date (YYYY-MM-DD): {:?}", f.date))
    })?;
    let vote = match f.vote.as_str() {
        "consensus" => Vote::Consensus,
        "counted" => Vote::Counted {
            yes: count("yes", &f.yes)?,
            no: count("no", &f.no)?,
            abstain: count("abstain", &f.abstain)?,
        },
        other => {
            return Err(ApiError::bad_request(format!(
                "vote: {other:?}: consensus or counted"
            )));
        }
    };
    let d = office::NewDecision {
        body: f.body,
        date,
        text: f.text,
        vote,
        documents: Vec::new(),
    };
    hub.blocking(move |h| office::add_decision(h, &user, d))
        .await?;
    Ok(Redirect::to("/office#decisions").into_response())
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    index: usize,
    #[serde(default)]
    status: String,
}

/// An action's new status (its owner, the body's chair, the office).
async fn action_status(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(event): Path<String>,
    Form(f): Form<ActionForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let status: ActionStatus = named("status", &f.status)?;
    let u = calendar::ActionUpdate {
        index: f.index,
        status,
    };
    hub.blocking(move |h| calendar::set_action(h, &user, &event, u))
        .await?;
    Ok(Redirect::to("/office#events").into_response())
}
