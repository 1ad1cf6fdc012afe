//! The partnership office's page, `/office`: the MoU and its renewal timeline, meetings in
//! Berlin and Tokyo time with their actions, the calendar feed form (`POST /office/feed`,
//! CSRF-checked), review steps from the library (`POST /office/documents/ID/step`) and the
//! diff of two versions (`/office/documents/ID/diff?from=1&to=2`), bodies, decisions, the document library, exchanges and courses. Read by
//! every signed-in user; the data come from [`crate::service::office`].

use super::{S, SignedIn};
use crate::service::office::{calendar, library, report};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_office::library::{Governs, Step};
use kakehashi_web::office::{DiffPage, DiffRow, InForceRow};
use kakehashi_web::office_report::{CertificatePage, ReportPage};
use kakehashi_web::pages::Page;
use serde::Deserialize;
use std::sync::Arc;

mod forms;
mod view;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .merge(forms::routes())
        .route("/office", get(page))
        .route("/office/feed", post(feed))
        .route("/office/documents/{id}/step", post(step))
        .route("/office/documents/{id}/diff", get(diff))
        .route("/office/report", get(report_page))
        .route(
            "/office/courses/{id}/certificate/{person}",
            get(certificate_page),
        )
}

/// The library document in force for `subject`, for the page that uses it (the surveillance
/// page's case definition, the AMR page's guideline). A library that cannot be read leaves
/// the line out rather than the page: it is logged.
pub(super) async fn in_force(hub: &Arc<Hub>, subject: Governs) -> Option<InForceRow> {
    let name = subject.name().to_owned();
    let found = hub
        .blocking(move |h| crate::service::office::governs::governing(h, &subject))
        .await;
    match found {
        Ok(None) => Some(InForceRow {
            subject: name,
            ..Default::default()
        }),
        Ok(Some(g)) => Some(InForceRow {
            subject: name,
            document: g.document,
            title: g.title,
            version: g.version,
            approved: g
                .approved
                .as_ref()
                .map(|(at, _)| at.date_naive().to_string())
                .unwrap_or_default(),
            approved_by: g.approved.map(|(_, by)| by).unwrap_or_default(),
            pending: g.pending,
            matches: g.matches,
        }),
        Err(e) => {
            tracing::error!("the office library: {}", e.message);
            None
        }
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    agreement: Option<String>,
    year: Option<u32>,
}

/// The activity report of a MoU year, printable.
async fn report_page(
    State(hub): S,
    SignedIn(ui, _user): SignedIn,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let a = hub
        .blocking(move |h| report::activity_report(h, q.agreement.as_deref(), q.year))
        .await?;
    let page = ReportPage {
        by_kind: kakehashi_office::report::meetings_by_kind(&a.report),
        report: a.report,
        requests: a.requests,
        studies: a.studies,
        previous: a.previous,
        next: a.next,
    };
    Ok(ui.page(StatusCode::OK, &Page::OfficeReport(page), "office"))
}

/// A participant's certificate, printable.
async fn certificate_page(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((id, person)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let c = hub
        .blocking(move |h| report::certificate(h, &user, &id, &person))
        .await?;
    let page = CertificatePage {
        person: c.person,
        sessions: c.course.sessions.len(),
        course: c.course.title,
        curriculum: c.course.curriculum,
        trainers: c.course.trainers,
        from: c.from,
        to: c.to,
        issued: c.issued,
    };
    Ok(ui.page(StatusCode::OK, &Page::Certificate(page), "office"))
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    version: u32,
    #[serde(default)]
    lang: String,
    step: String,
}

/// A review step from the library's buttons; back to the library, or the refusal as a page.
async fn step(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let step = match f.step.as_str() {
        "submit" => Step::Submit,
        "return" => Step::Return,
        "approve" => Step::Approve,
        other => {
            return Err(ApiError::bad_request(format!(
                "step: unknown step {other:?}"
            )));
        }
    };
    let req = library::StepRequest {
        version: f.version,
        lang: Some(f.lang).filter(|l| !l.is_empty()),
        step,
    };
    hub.blocking(move |h| library::step(h, &user, &id, req))
        .await?;
    Ok(Redirect::to("/office#library").into_response())
}

#[derive(Deserialize)]
struct DiffQuery {
    from: u32,
    to: u32,
}

/// Two versions of a document compared line by line.
async fn diff(
    State(hub): S,
    SignedIn(ui, _user): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, ApiError> {
    let (title, lines) = hub
        .blocking(move |h| {
            let title = library::document(h, &id)?.document.title;
            Ok((title, library::version_diff(h, &id, q.from, q.to)?))
        })
        .await?;
    let page = DiffPage {
        title,
        from: q.from,
        to: q.to,
        lines: lines
            .into_iter()
            .map(|l| DiffRow {
                change: view::tag(&l.change),
                old: l.old,
                new: l.new,
                text: l.text,
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::OfficeDiff(page), "office"))
}

async fn page(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    let p = hub.blocking(move |h| view::build(h, &user, None)).await?;
    Ok(ui.page(StatusCode::OK, &Page::Office(p), "office"))
}

#[derive(Deserialize)]
struct FeedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

async fn feed(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<FeedForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let p = hub
        .blocking(move |h| {
            let body = Some(f.body.as_str()).filter(|b| !b.is_empty());
            let made = calendar::new_feed(h, &user, body)?;
            view::build(h, &user, Some(made.path))
        })
        .await?;
    Ok(ui.page(StatusCode::OK, &Page::Office(p), "office"))
}
