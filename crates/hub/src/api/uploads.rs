//! Resumable uploads of large answers (the site protocol, [`crate::service::uploads`]):
//! `POST /api/site/uploads` creates one, `GET` (or `HEAD`) `/api/site/uploads/{id}` says where
//! it stands (also in `Upload-Offset`), `PATCH` sends a part at its offset (a wrong offset is
//! `409` with the hub's offset), `POST /api/site/uploads/{id}/commit` checks and accepts it.

use super::{S, json_body};
use crate::context::SiteCaller;
use crate::service::uploads::{self, NewUpload, Part, UploadError, UploadState};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<crate::Hub>> {
    Router::new()
        .route("/api/site/uploads", post(create))
        .route("/api/site/uploads/{id}", get(show).patch(append))
        .route("/api/site/uploads/{id}/commit", post(commit))
}

/// The upload's state as JSON, with `Upload-Offset` and `Upload-Length` headers.
fn answer(status: StatusCode, s: UploadState) -> Response {
    let (offset, size) = (s.offset, s.size);
    let mut res = (status, Json(s)).into_response();
    let h = res.headers_mut();
    h.insert("upload-offset", HeaderValue::from(offset));
    h.insert("upload-length", HeaderValue::from(size));
    res
}

fn refused(e: UploadError) -> Response {
    match e {
        UploadError::Api(e) => e.into_response(),
        UploadError::Offset { expected, message } => {
            let body =
                serde_json::json!({"error": "conflict", "message": message, "offset": expected});
            let mut res = (StatusCode::CONFLICT, Json(body)).into_response();
            res.headers_mut()
                .insert("upload-offset", HeaderValue::from(expected));
            res
        }
    }
}

async fn create(State(hub): S, SiteCaller(site): SiteCaller, body: axum::body::Bytes) -> Response {
    let req: NewUpload = match json_body(&body, "upload") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match hub.blocking(move |h| uploads::create(h, &site, req)).await {
        Ok((true, s)) => answer(StatusCode::CREATED, s),
        Ok((false, s)) => answer(StatusCode::OK, s),
        Err(e) => e.into_response(),
    }
}

async fn show(State(hub): S, SiteCaller(site): SiteCaller, Path(id): Path<String>) -> Response {
    match hub.blocking(move |h| uploads::get(h, &site, &id)).await {
        Ok(s) => answer(StatusCode::OK, s),
        Err(e) => e.into_response(),
    }
}

async fn append(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let part: Part = match json_body(&body, "upload part") {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let r = hub
        .blocking(move |h| Ok(uploads::append(h, &site, &id, part)))
        .await;
    match r {
        Ok(Ok(s)) => answer(StatusCode::OK, s),
        Ok(Err(e)) => refused(e),
        Err(e) => e.into_response(),
    }
}

async fn commit(State(hub): S, SiteCaller(site): SiteCaller, Path(id): Path<String>) -> Response {
    let r = hub
        .blocking(move |h| Ok(uploads::commit(h, &site, &id)))
        .await;
    match r {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => refused(e),
        Err(e) => e.into_response(),
    }
}
