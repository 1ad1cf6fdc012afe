//! Access requests: `/api/requests` (list yours, open one from a locator task or a query),
//! `/api/requests/{id}` (one, with its collections, attachments, threads and history),
//! `.../attachments` (add the protocol, ethics approval or another file; base64, at most
//! 20 MiB; the route takes bodies up to [`ATTACHMENT_BODY_BYTES`]), `.../attachments/{sha256}`
//! (the bytes), `.../events` (a transition of the request or one of its collections),
//! `.../messages` (a thread's message). Who may do what is the biobank crate's rule, applied
//! in [`crate::service::requests`].

use super::{S, json_body};
use crate::context::Caller;
use crate::db::Role;
use crate::service::requests::{self, NewAttachment, NewEvent, NewMessage, NewRequest};
use crate::{ApiError, Hub};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_biobank::request::AccessRequest;
use std::sync::Arc;

/// The largest body the attachments route takes: a 20 MiB file in base64 and its fields.
pub const ATTACHMENT_BODY_BYTES: usize = 28 * 1024 * 1024;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/requests", get(list).post(create))
        .route("/api/requests/{id}", get(one))
        .route(
            "/api/requests/{id}/attachments",
            post(attach).layer(DefaultBodyLimit::max(ATTACHMENT_BODY_BYTES)),
        )
        .route("/api/requests/{id}/attachments/{sha256}", get(attachment))
        .route("/api/requests/{id}/events", post(event))
        .route("/api/requests/{id}/messages", post(message))
}

type Out = Result<Json<AccessRequest>, ApiError>;

async fn list(State(hub): S, Caller(me): Caller) -> Result<Json<Vec<AccessRequest>>, ApiError> {
    Ok(Json(hub.blocking(move |h| requests::list(h, &me)).await?))
}

async fn create(State(hub): S, c: Caller, body: axum::body::Bytes) -> Out {
    c.require(Role::Researcher)?;
    let n: NewRequest = json_body(&body, "request")?;
    let me = c.0;
    Ok(Json(
        hub.blocking(move |h| requests::create(h, &me, n)).await?,
    ))
}

async fn one(State(hub): S, Caller(me): Caller, Path(id): Path<String>) -> Out {
    Ok(Json(
        hub.blocking(move |h| requests::get(h, &me, &id)).await?,
    ))
}

async fn attach(State(hub): S, c: Caller, Path(id): Path<String>, body: axum::body::Bytes) -> Out {
    c.require(Role::Researcher)?;
    let a: NewAttachment = json_body(&body, "attachment")?;
    let me = c.0;
    Ok(Json(
        hub.blocking(move |h| requests::attach(h, &me, &id, a))
            .await?,
    ))
}

async fn attachment(
    State(hub): S,
    Caller(me): Caller,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (a, bytes) = hub
        .blocking(move |h| requests::attachment(h, &me, &id, &sha256))
        .await?;
    // served as a download, never rendered: an attachment's declared type is the uploader's word
    let name: String = a
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn event(
    State(hub): S,
    Caller(me): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Out {
    let e: NewEvent = json_body(&body, "event")?;
    Ok(Json(
        hub.blocking(move |h| requests::fire(h, &me, &id, e))
            .await?,
    ))
}

async fn message(
    State(hub): S,
    Caller(me): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Out {
    let m: NewMessage = json_body(&body, "message")?;
    Ok(Json(
        hub.blocking(move |h| requests::post(h, &me, &id, m))
            .await?,
    ))
}
