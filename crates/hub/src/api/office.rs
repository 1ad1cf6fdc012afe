//! The partnership office's JSON API, `/api/office/...`: agreements with their renewal
//! timeline, bodies, decisions, the document library (versions, translations, review steps,
//! diffs, content by SHA-256), exchanges, courses, events and their actions, the caller's
//! calendar and feed secrets. Who may change what is decided in
//! [`crate::service::office`]; every signed-in user reads.

use super::S;
use crate::context::{Admin, Caller};
use crate::service::office::calendar::{
    self, ActionUpdate, EventFilter, EventView, NewFeed, Saved,
};
use crate::service::office::library::{
    self, DocumentView, NewTranslation, NewVersion, StepRequest,
};
use crate::service::office::{self, AgreementView, NewDecision};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_office::agreement::Agreement;
use kakehashi_office::diff::Line;
use kakehashi_office::event::Event;
use kakehashi_office::exchange::{Course, Exchange};
use kakehashi_office::governance::{Body, Decision};
use kakehashi_office::library::{Document, Translation, Version};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route(
            "/api/office/agreements",
            get(agreements).post(put_agreement),
        )
        .route("/api/office/bodies", get(bodies).post(put_body))
        .route("/api/office/decisions", get(decisions).post(add_decision))
        .route("/api/office/documents", get(documents).post(put_document))
        .route("/api/office/documents/{id}", get(document))
        .route("/api/office/documents/{id}/versions", post(add_version))
        .route(
            "/api/office/documents/{id}/translations",
            post(add_translation),
        )
        .route("/api/office/documents/{id}/step", post(step))
        .route("/api/office/documents/{id}/diff", get(diff))
        .route("/api/office/content/{id}", get(content))
        .route("/api/office/exchanges", get(exchanges).post(put_exchange))
        .route("/api/office/courses", get(courses).post(put_course))
        .route("/api/office/events", get(events).post(put_event))
        .route("/api/office/events/{id}/actions", post(set_action))
        .route("/api/office/calendar.ics", get(my_calendar))
        .route("/api/office/feeds", post(new_feed))
        .route("/api/office/report", get(activity_report))
        .route("/office/calendar/{id}", get(feed))
}

type J<T> = Result<Json<T>, ApiError>;

async fn agreements(State(hub): S, _c: Caller) -> J<Vec<AgreementView>> {
    Ok(Json(hub.blocking(office::agreements).await?))
}

async fn put_agreement(
    State(hub): S,
    Admin(by): Admin,
    Json(a): Json<Agreement>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| office::put_agreement(h, &by, a))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn bodies(State(hub): S, _c: Caller) -> J<Vec<Body>> {
    Ok(Json(hub.blocking(office::bodies).await?))
}

async fn put_body(
    State(hub): S,
    Caller(by): Caller,
    Json(b): Json<Body>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| office::put_body(h, &by, b)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct BodyQuery {
    body: Option<String>,
}

async fn decisions(State(hub): S, _c: Caller, Query(q): Query<BodyQuery>) -> J<Vec<Decision>> {
    Ok(Json(
        hub.blocking(move |h| office::decisions(h, q.body.as_deref()))
            .await?,
    ))
}

async fn add_decision(
    State(hub): S,
    Caller(by): Caller,
    Json(d): Json<NewDecision>,
) -> J<Decision> {
    Ok(Json(
        hub.blocking(move |h| office::add_decision(h, &by, d))
            .await?,
    ))
}

async fn documents(State(hub): S, _c: Caller) -> J<Vec<Document>> {
    Ok(Json(hub.blocking(library::documents).await?))
}

async fn put_document(
    State(hub): S,
    Caller(by): Caller,
    Json(d): Json<Document>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| library::put_document(h, &by, d))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn document(State(hub): S, _c: Caller, Path(id): Path<String>) -> J<DocumentView> {
    Ok(Json(
        hub.blocking(move |h| library::document(h, &id)).await?,
    ))
}

async fn add_version(
    State(hub): S,
    Caller(by): Caller,
    Path(id): Path<String>,
    Json(v): Json<NewVersion>,
) -> J<Version> {
    Ok(Json(
        hub.blocking(move |h| library::add_version(h, &by, &id, v))
            .await?,
    ))
}

async fn add_translation(
    State(hub): S,
    Caller(by): Caller,
    Path(id): Path<String>,
    Json(t): Json<NewTranslation>,
) -> J<Translation> {
    Ok(Json(
        hub.blocking(move |h| library::add_translation(h, &by, &id, t))
            .await?,
    ))
}

async fn step(
    State(hub): S,
    Caller(by): Caller,
    Path(id): Path<String>,
    Json(s): Json<StepRequest>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| library::step(h, &by, &id, s)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DiffQuery {
    from: u32,
    to: u32,
}

async fn diff(
    State(hub): S,
    _c: Caller,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> J<Vec<Line>> {
    Ok(Json(
        hub.blocking(move |h| library::version_diff(h, &id, q.from, q.to))
            .await?,
    ))
}

async fn content(State(hub): S, _c: Caller, Path(sha): Path<String>) -> Result<Response, ApiError> {
    let bytes = hub.blocking(move |h| library::content(h, &sha)).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Deserialize)]
struct PersonQuery {
    person: Option<String>,
}

async fn exchanges(State(hub): S, _c: Caller, Query(q): Query<PersonQuery>) -> J<Vec<Exchange>> {
    Ok(Json(
        hub.blocking(move |h| office::exchanges(h, q.person.as_deref()))
            .await?,
    ))
}

async fn put_exchange(
    State(hub): S,
    Admin(by): Admin,
    Json(x): Json<Exchange>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| office::put_exchange(h, &by, x))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn courses(State(hub): S, _c: Caller) -> J<Vec<Course>> {
    Ok(Json(hub.blocking(office::courses).await?))
}

async fn put_course(
    State(hub): S,
    Admin(by): Admin,
    Json(c): Json<Course>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| office::put_course(h, &by, c)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EventQuery {
    body: Option<String>,
    person: Option<String>,
    /// `true`: only the caller's events.
    #[serde(default)]
    mine: bool,
}

async fn events(
    State(hub): S,
    Caller(by): Caller,
    Query(q): Query<EventQuery>,
) -> J<Vec<EventView>> {
    let f = EventFilter {
        body: q.body,
        person: if q.mine { Some(by.name) } else { q.person },
    };
    let all = hub.blocking(move |h| calendar::events(h, &f)).await?;
    Ok(Json(all.into_iter().map(EventView::of).collect()))
}

async fn put_event(State(hub): S, Caller(by): Caller, Json(e): Json<Event>) -> J<Saved> {
    Ok(Json(
        hub.blocking(move |h| calendar::put_event(h, &by, e))
            .await?,
    ))
}

async fn set_action(
    State(hub): S,
    Caller(by): Caller,
    Path(id): Path<String>,
    Json(u): Json<ActionUpdate>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| calendar::set_action(h, &by, &id, u))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn ics(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn my_calendar(State(hub): S, Caller(by): Caller) -> Result<Response, ApiError> {
    Ok(ics(hub
        .blocking(move |h| calendar::user_calendar(h, &by.name))
        .await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FeedRequest {
    /// A body's feed instead of the caller's own.
    #[serde(default)]
    body: Option<String>,
}

async fn new_feed(State(hub): S, Caller(by): Caller, Json(r): Json<FeedRequest>) -> J<NewFeed> {
    Ok(Json(
        hub.blocking(move |h| calendar::new_feed(h, &by, r.body.as_deref()))
            .await?,
    ))
}

/// A calendar feed by its secret (`<secret>.ics`): the secret is the authorization, so a
/// calendar application can subscribe without a session.
async fn feed(State(hub): S, Path(file): Path<String>) -> Result<Response, ApiError> {
    let secret = file
        .strip_suffix(".ics")
        .ok_or_else(|| ApiError::not_found("no such calendar"))?
        .to_owned();
    Ok(ics(hub
        .blocking(move |h| calendar::feed_calendar(h, &secret))
        .await?))
}

#[derive(Deserialize)]
struct ReportQuery {
    agreement: Option<String>,
    year: Option<u32>,
}

/// The activity report with what the access requests did in the year.
#[derive(serde::Serialize)]
struct ReportAnswer {
    #[serde(flatten)]
    report: kakehashi_office::report::ActivityReport,
    requests: kakehashi_biobank::request::activity::RequestActivity,
    studies: Vec<kakehashi_edc::report::StudyLine>,
}

async fn activity_report(
    State(hub): S,
    _c: Caller,
    Query(q): Query<ReportQuery>,
) -> J<ReportAnswer> {
    let a = hub
        .blocking(move |h| {
            crate::service::office::report::activity_report(h, q.agreement.as_deref(), q.year)
        })
        .await?;
    Ok(Json(ReportAnswer {
        report: a.report,
        requests: a.requests,
        studies: a.studies,
    }))
}
