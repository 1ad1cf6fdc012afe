//! EDC data quality, `/api/studies/{id}/...`: data queries (`queries`: list with filters,
//! open one on a field, read one, take a step: answer, close, re-open), checks (`checks`:
//! the built-in ones and the study's rules; `checks/{check}` runs one over the records the
//! caller sees; `checks/{check}/queries` opens queries on its findings in one step), and the
//! study dashboard (`dashboard`). Who may do what is decided in
//! [`crate::service::studies::quality`].

use super::{S, json_body};
use crate::ApiError;
use crate::context::Caller;
use crate::service::studies::quality::{
    self, Bulk, CheckRun, NewQuery, Opened, QueryFilter, QueryView, Step,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_edc::quality::CheckInfo;
use kakehashi_edc::quality::dashboard::Dashboard;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<crate::Hub>> {
    Router::new()
        .route("/api/studies/{id}/queries", get(list).post(open))
        .route("/api/studies/{id}/queries/{num}", get(show).post(step))
        .route("/api/studies/{id}/checks", get(checks))
        .route("/api/studies/{id}/checks/{check}", get(run))
        .route("/api/studies/{id}/checks/{check}/queries", post(bulk))
        .route("/api/studies/{id}/dashboard", get(dashboard))
}

type J<T> = Result<Json<T>, ApiError>;

async fn list(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(f): Query<QueryFilter>,
) -> J<Vec<QueryView>> {
    Ok(Json(
        hub.blocking(move |h| quality::queries(h, &user, &id, &f))
            .await?,
    ))
}

async fn open(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<QueryView>), ApiError> {
    let n: NewQuery = json_body(&body, "the query")?;
    let q = hub
        .blocking(move |h| quality::open(h, &user, &id, n))
        .await?;
    Ok((StatusCode::CREATED, Json(q)))
}

async fn show(
    State(hub): S,
    Caller(user): Caller,
    Path((id, num)): Path<(String, i64)>,
) -> J<QueryView> {
    Ok(Json(
        hub.blocking(move |h| quality::query(h, &user, &id, num))
            .await?,
    ))
}

async fn step(
    State(hub): S,
    Caller(user): Caller,
    Path((id, num)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> J<QueryView> {
    let s: Step = json_body(&body, "the step")?;
    Ok(Json(
        hub.blocking(move |h| quality::act(h, &user, &id, num, s))
            .await?,
    ))
}

async fn checks(State(hub): S, Caller(user): Caller, Path(id): Path<String>) -> J<Vec<CheckInfo>> {
    Ok(Json(
        hub.blocking(move |h| quality::checks(h, &user, &id))
            .await?,
    ))
}

async fn run(
    State(hub): S,
    Caller(user): Caller,
    Path((id, check)): Path<(String, String)>,
) -> J<CheckRun> {
    Ok(Json(
        hub.blocking(move |h| quality::run(h, &user, &id, &check))
            .await?,
    ))
}

async fn bulk(
    State(hub): S,
    Caller(user): Caller,
    Path((id, check)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let b: Bulk = json_body(&body, "the findings")?;
    let o = hub
        .blocking(move |h| quality::open_from_check(h, &user, &id, &check, b))
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

async fn dashboard(State(hub): S, Caller(user): Caller, Path(id): Path<String>) -> J<Dashboard> {
    Ok(Json(
        hub.blocking(move |h| quality::dashboard(h, &user, &id))
            .await?,
    ))
}
