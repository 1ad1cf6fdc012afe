//! EDC study data, `/api/studies/{id}/subjects/...`: the subject list (own site unless the
//! role sees all), enrolment of a site-minted pseudonym, withdrawal, one subject with its
//! event × form grid, and one form instance
//! (`/subjects/{record}/forms/{event}/{form}/{instance}`): read, save (`PUT`), lock, unlock,
//! e-sign, history, pre-fill from the subject's site (`/prefill`: ask, read the proposals,
//! `/prefill/accept`); and the site agents' enrolments (`POST /api/site/enrolments`, site
//! token: study ids and pseudonyms) and pre-fill (`GET`/`POST /api/site/prefill`: the
//! pending requests for their subjects, their answers). Who may do what is decided in [`crate::service::studies::records`].

use super::{S, json_body};
use crate::ApiError;
use crate::context::{Caller, SiteCaller};
use crate::service::studies::records::{
    self, Enrolment, FormView, Save, SignRequest, SubjectView, prefill,
};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_edc::entry::{FormKey, HistoryEntry, Subject};
use kakehashi_federation::enrolment::{EnrolmentAnswer, EnrolmentReport};
use kakehashi_federation::prefill::{PrefillAnswer, PrefillRequest};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<crate::Hub>> {
    const FORM: &str = "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}";
    Router::new()
        .route("/api/studies/{id}/subjects", get(list).post(enrol))
        .route("/api/studies/{id}/subjects/{record}", get(show))
        .route(
            "/api/studies/{id}/subjects/{record}/withdraw",
            post(withdraw),
        )
        .route(FORM, get(read).put(save))
        .route(&format!("{FORM}/lock"), post(lock))
        .route(&format!("{FORM}/unlock"), post(unlock))
        .route(&format!("{FORM}/sign"), post(sign))
        .route(&format!("{FORM}/history"), get(history))
        .route(
            &format!("{FORM}/prefill"),
            get(prefill_latest).post(prefill_request),
        )
        .route(&format!("{FORM}/prefill/accept"), post(prefill_accept))
        .route("/api/site/enrolments", post(site_enrolments))
        .route(
            "/api/site/prefill",
            get(site_prefill).post(site_prefill_answer),
        )
        .route("/api/studies/{id}/records/export", get(export))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: records::export::RecordsFormat,
}

/// The study's clinical data as flat CSV, typed Parquet, ODM 1.3.2 with the audit trail or
/// FHIR.
async fn export(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let file = format!(
        "attachment; filename=\"{id}-records.{}\"",
        q.format.extension()
    );
    let e = hub
        .blocking(move |h| records::export::export(h, &user, &id, q.format))
        .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, e.content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, file),
        ],
        e.body,
    )
        .into_response())
}

/// A site agent sends the enrolments its steward made (study ids and pseudonyms).
async fn site_enrolments(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> J<EnrolmentAnswer> {
    let r: EnrolmentReport = json_body(&body, "enrolment report")?;
    Ok(Json(
        hub.blocking(move |h| records::site_enrolments(h, site.id.as_str(), r))
            .await?,
    ))
}

type J<T> = Result<Json<T>, ApiError>;

async fn list(State(hub): S, Caller(user): Caller, Path(id): Path<String>) -> J<Vec<Subject>> {
    Ok(Json(
        hub.blocking(move |h| records::subjects(h, &user, &id))
            .await?,
    ))
}

async fn enrol(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> J<Subject> {
    let e: Enrolment = json_body(&body, "the enrolment")?;
    Ok(Json(
        hub.blocking(move |h| records::enrol(h, &user, &id, e))
            .await?,
    ))
}

async fn show(
    State(hub): S,
    Caller(user): Caller,
    Path((id, record)): Path<(String, String)>,
) -> J<SubjectView> {
    Ok(Json(
        hub.blocking(move |h| records::subject(h, &user, &id, &record))
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Withdrawal {
    reason: String,
}

async fn withdraw(
    State(hub): S,
    Caller(user): Caller,
    Path((id, record)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> J<Subject> {
    let w: Withdrawal = json_body(&body, "the withdrawal")?;
    Ok(Json(
        hub.blocking(move |h| records::withdraw(h, &user, &id, &record, &w.reason))
            .await?,
    ))
}

type FormPath = Path<(String, String, String, String, u32)>;

fn key(
    (id, record, event, form, instance): (String, String, String, String, u32),
) -> (String, FormKey) {
    (
        id,
        FormKey {
            record,
            event,
            form,
            instance,
        },
    )
}

async fn read(State(hub): S, Caller(user): Caller, Path(p): FormPath) -> J<FormView> {
    let (id, k) = key(p);
    Ok(Json(
        hub.blocking(move |h| records::form(h, &user, &id, &k))
            .await?,
    ))
}

async fn save(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
    body: axum::body::Bytes,
) -> J<FormView> {
    let (id, k) = key(p);
    let s: Save = json_body(&body, "the save")?;
    Ok(Json(
        hub.blocking(move |h| records::save(h, &user, &id, &k, s))
            .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Versioned {
    #[serde(default)]
    version: Option<String>,
}

fn versioned(body: &[u8], what: &str) -> Result<Versioned, ApiError> {
    if body.is_empty() {
        Ok(Versioned::default())
    } else {
        json_body(body, what)
    }
}

async fn lock(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
    body: axum::body::Bytes,
) -> J<FormView> {
    let (id, k) = key(p);
    let v = versioned(&body, "the lock")?;
    Ok(Json(
        hub.blocking(move |h| records::lock(h, &user, &id, &k, v.version.as_deref()))
            .await?,
    ))
}

async fn unlock(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
    body: axum::body::Bytes,
) -> J<FormView> {
    let (id, k) = key(p);
    let v = versioned(&body, "the unlock")?;
    Ok(Json(
        hub.blocking(move |h| records::unlock(h, &user, &id, &k, v.version.as_deref()))
            .await?,
    ))
}

async fn sign(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
    body: axum::body::Bytes,
) -> J<FormView> {
    let (id, k) = key(p);
    let r: SignRequest = json_body(&body, "the signature")?;
    Ok(Json(
        hub.blocking(move |h| records::sign(h, &user, &id, &k, r))
            .await?,
    ))
}

async fn history(State(hub): S, Caller(user): Caller, Path(p): FormPath) -> J<Vec<HistoryEntry>> {
    let (id, k) = key(p);
    Ok(Json(
        hub.blocking(move |h| records::history(h, &user, &id, &k))
            .await?,
    ))
}

async fn prefill_latest(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
) -> J<Option<prefill::PrefillView>> {
    let (id, k) = key(p);
    Ok(Json(
        hub.blocking(move |h| prefill::latest(h, &user, &id, &k))
            .await?,
    ))
}

async fn prefill_request(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
) -> J<prefill::PrefillView> {
    let (id, k) = key(p);
    Ok(Json(
        hub.blocking(move |h| prefill::request(h, &user, &id, &k))
            .await?,
    ))
}

async fn prefill_accept(
    State(hub): S,
    Caller(user): Caller,
    Path(p): FormPath,
    body: axum::body::Bytes,
) -> J<FormView> {
    let (id, k) = key(p);
    let a: prefill::Accept = json_body(&body, "the accepted value")?;
    Ok(Json(
        hub.blocking(move |h| prefill::accept(h, &user, &id, &k, a))
            .await?,
    ))
}

/// A site agent fetches the pending pre-fill requests for its subjects.
async fn site_prefill(State(hub): S, SiteCaller(site): SiteCaller) -> J<Vec<PrefillRequest>> {
    Ok(Json(
        hub.blocking(move |h| prefill::site_pending(h, site.id.as_str()))
            .await?,
    ))
}

/// A site agent answers a pre-fill request: values with their sources, or a refusal.
async fn site_prefill_answer(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> J<serde_json::Value> {
    let a: PrefillAnswer = json_body(&body, "pre-fill answer")?;
    hub.blocking(move |h| prefill::site_answer(h, site.id.as_str(), a))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}
