//! EDC studies, `/api/studies/...`: list, get, create (a study JSON, or a REDCap data
//! dictionary on the base of an existing study), export as a REDCap dictionary or ODM 1.3.2
//! metadata, members with their study role and site, REDCap API tokens; and the
//! REDCap-compatible API at `/redcap/api/` (form-encoded, as REDCap clients send it; outside
//! `/api/`, whose JSON-only rule it cannot keep, and ending in `/api/`, as PyCap requires;
//! it is authenticated by the token in the body, never by a cookie, so a cross-site form
//! gains nothing); the same API also answers at `/api/redcap/`, the path (the
//! JSON-only rule exempts exactly that path). Who may do what is decided in [`crate::service::studies`].

use super::{S, json_body};
use crate::context::{Admin, Caller};
use crate::db::StudyMember;
use crate::service::studies::redcap::{self, Params};
use crate::service::studies::{self, DictionaryImport, ExportFormat, StudySummary};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_edc::Study;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/studies", get(list).post(create))
        .route("/api/studies/import", post(import))
        .route("/api/studies/{id}", get(show).put(update))
        .route("/api/studies/{id}/export", get(export))
        .route("/api/studies/{id}/members", get(members).post(assign))
        .route("/api/studies/{id}/members/remove", post(unassign))
        .route("/api/studies/{id}/tokens", post(new_token))
        .route("/redcap/api/", post(redcap_api))
        .route("/api/redcap/", post(redcap_api))
}

type J<T> = Result<Json<T>, ApiError>;

async fn list(State(hub): S, Caller(user): Caller) -> J<Vec<StudySummary>> {
    Ok(Json(hub.blocking(move |h| studies::list(h, &user)).await?))
}

async fn create(State(hub): S, Admin(by): Admin, body: axum::body::Bytes) -> J<StudySummary> {
    let s: Study =
        Study::from_json("the study", &String::from_utf8_lossy(&body)).map_err(studies::refused)?;
    Ok(Json(
        hub.blocking(move |h| studies::create(h, &by, s)).await?,
    ))
}

async fn import(State(hub): S, Admin(by): Admin, body: axum::body::Bytes) -> J<StudySummary> {
    let d: DictionaryImport = json_body(&body, "the dictionary import")?;
    Ok(Json(
        hub.blocking(move |h| studies::import_dictionary(h, &by, d))
            .await?,
    ))
}

async fn update(
    State(hub): S,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> J<StudySummary> {
    let s: Study =
        Study::from_json("the study", &String::from_utf8_lossy(&body)).map_err(studies::refused)?;
    Ok(Json(
        hub.blocking(move |h| studies::update(h, &by, &id, s))
            .await?,
    ))
}

async fn show(State(hub): S, Caller(user): Caller, Path(id): Path<String>) -> J<Study> {
    Ok(Json(
        hub.blocking(move |h| Ok(studies::visible(h, &user, &id)?.0))
            .await?,
    ))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: ExportFormat,
}

async fn export(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let name = id.clone();
    let body = hub
        .blocking(move |h| studies::export(h, &user, &id, q.format))
        .await?;
    let (ct, ext) = match q.format {
        ExportFormat::Redcap => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Odm => ("application/xml; charset=utf-8", "xml"),
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn members(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> J<Vec<StudyMember>> {
    Ok(Json(
        hub.blocking(move |h| studies::members(h, &user, &id))
            .await?,
    ))
}

async fn assign(
    State(hub): S,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let m: StudyMember = json_body(&body, "the member")?;
    hub.blocking(move |h| studies::assign(h, &by, &id, m))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Removal {
    user: String,
}

async fn unassign(
    State(hub): S,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let r: Removal = json_body(&body, "the removal")?;
    hub.blocking(move |h| studies::unassign(h, &by, &id, &r.user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// Whose token (default: the caller's own).
    #[serde(default)]
    user: Option<String>,
}

async fn new_token(
    State(hub): S,
    Caller(by): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> J<serde_json::Value> {
    let r: TokenRequest = if body.is_empty() {
        TokenRequest { user: None }
    } else {
        json_body(&body, "the token request")?
    };
    let user = r.user.unwrap_or_else(|| by.name.clone());
    let study = id.clone();
    let u = user.clone();
    let token = hub
        .blocking(move |h| studies::new_api_token(h, &by, &id, &u))
        .await?;
    Ok(Json(
        serde_json::json!({"token": token, "study": study, "user": user, "url": "/redcap/api/"}),
    ))
}

async fn redcap_api(State(hub): S, body: axum::body::Bytes) -> Response {
    let params = Params(form_urlencoded::parse(&body).into_owned().collect());
    let a = match hub.blocking(move |h| Ok(redcap::answer(h, &params))).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, a.content_type)], a.body).into_response()
}
