//! The partnership office's page, `/office`: the MoU and its renewal timeline, meetings in
//! Berlin and Tokyo time with their actions, the calendar feed form (`POST /office/feed`,
//! CSRF-checked), review steps from the library (`POST /office/documents/ID/step`) and the
//! diff of two versions (`/office/documents/ID/diff?from=1&to=2`), bodies, decisions, the document library, exchanges and courses. Read by
//! every signed-in user; the data come from [`crate::service::office`].

use super::{S, SignedIn};
use crate::service::office::{self, calendar, library, report};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use kakehashi_office::event::{Event, Presence, SHOWN_ZONES};
use kakehashi_office::governance::Body;
use kakehashi_office::library::Step;
use kakehashi_web::office::{
    ActionRow, AgreementRow, BodyRow, CourseRow, DecisionRow, DiffPage, DiffRow, DocumentRow,
    EventRow, ExchangeRow, OfficePage, VersionRow,
};
use kakehashi_web::office_report::{CertificatePage, ReportPage};
use kakehashi_web::pages::Page;
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
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
    let (report, previous, next) = hub
        .blocking(move |h| report::activity_report(h, q.agreement.as_deref(), q.year))
        .await?;
    let page = ReportPage {
        by_kind: kakehashi_office::report::meetings_by_kind(&report),
        report,
        previous,
        next,
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
                change: tag(&l.change),
                old: l.old,
                new: l.new,
                text: l.text,
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::OfficeDiff(page), "office"))
}

async fn page(State(hub): S, SignedIn(ui, _user): SignedIn) -> Result<Response, ApiError> {
    let p = hub.blocking(|h| build(h, None)).await?;
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
            build(h, Some(made.path))
        })
        .await?;
    Ok(ui.page(StatusCode::OK, &Page::Office(p), "office"))
}

/// A unit enum's serde name (`in_review`, `planned`): the message keys' suffixes.
fn tag<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `2026-04-15 09:00 – 17:30 CEST`, or with both dates when the event spans days there.
fn shown(e: &Event, zone: usize) -> String {
    let (a, b) = e.shown_in(SHOWN_ZONES[zone]);
    if a.date_naive() == b.date_naive() {
        format!("{} – {}", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M %Z"))
    } else {
        format!(
            "{} – {}",
            a.format("%Y-%m-%d %H:%M"),
            b.format("%Y-%m-%d %H:%M %Z")
        )
    }
}

fn event_row(e: &Event, bodies: &[Body]) -> EventRow {
    let who = |p: Presence| {
        e.participants
            .iter()
            .filter(|x| x.presence == p)
            .map(|x| x.person.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    EventRow {
        title: e.title.clone(),
        body: e
            .body
            .as_ref()
            .map(|b| {
                bodies
                    .iter()
                    .find(|x| &x.id == b)
                    .map_or(b.clone(), |x| x.name.clone())
            })
            .unwrap_or_default(),
        location: e.location.clone(),
        berlin: shown(e, 0),
        tokyo: shown(e, 1),
        in_person: who(Presence::InPerson),
        remote: who(Presence::Remote),
        minutes: e.minutes.clone().unwrap_or_default(),
        actions: e
            .actions
            .iter()
            .map(|a| ActionRow {
                text: a.text.clone(),
                owner: a.owner.clone(),
                due: a.due.to_string(),
                status: tag(&a.status),
            })
            .collect(),
    }
}

/// The page's model; `feed` is a feed path just made.
fn build(h: &Hub, feed: Option<String>) -> Result<OfficePage, ApiError> {
    let bodies = office::bodies(h)?;
    let name_of = |id: &str| {
        bodies
            .iter()
            .find(|b| b.id == id)
            .map_or(id.to_owned(), |b| b.name.clone())
    };
    let now = Utc::now();
    let events = calendar::events(h, &calendar::EventFilter::default())?;
    let (mut past, upcoming): (Vec<&Event>, Vec<&Event>) =
        events.iter().partition(|e| e.span().end < now);
    past.reverse();
    let day = office::today();
    let mut decisions = office::decisions(h, None)?;
    decisions.sort_by_key(|d| std::cmp::Reverse(d.date));
    let documents = library::documents(h)?
        .into_iter()
        .map(|d| {
            let v = library::document(h, &d.id)?;
            Ok(DocumentRow {
                id: d.id.clone(),
                title: d.title,
                kind: tag(&d.kind),
                versions: v
                    .versions
                    .iter()
                    .rev()
                    .map(|x| VersionRow {
                        number: x.number,
                        state: x.review.state.as_str().to_owned(),
                        sha256: x.content.sha256.clone(),
                        translations: v
                            .translations
                            .iter()
                            .filter(|t| t.version == x.number)
                            .map(|t| (t.lang.code().to_owned(), t.review.state.as_str().to_owned()))
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(OfficePage {
        agreements: office::agreements(h)?
            .into_iter()
            .map(|a| AgreementRow {
                id: a.agreement.id.clone(),
                title: a.agreement.title.clone(),
                parties: a
                    .agreement
                    .parties
                    .iter()
                    .map(|p| p.short.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                signed: a.agreement.signed.to_string(),
                term_end: a.timeline.term_end.to_string(),
                notice_deadline: a.timeline.notice_deadline.to_string(),
                decision_due: a.timeline.decision_due.to_string(),
                phase: a.timeline.phase.as_str().to_owned(),
                days_to_decision: a.timeline.days_to_decision,
            })
            .collect(),
        decisions: decisions
            .iter()
            .map(|d| DecisionRow {
                date: d.date.to_string(),
                body: name_of(&d.body),
                text: d.text.clone(),
                vote: d.vote.shown(),
            })
            .collect(),
        documents,
        upcoming: upcoming.iter().map(|e| event_row(e, &bodies)).collect(),
        past: past.iter().map(|e| event_row(e, &bodies)).collect(),
        exchanges: office::exchanges(h, None)?
            .iter()
            .map(|x| ExchangeRow {
                person: x.person.clone(),
                home: x.home.clone(),
                host: x.host.clone(),
                dates: format!("{} – {}", x.start, x.end),
                theme: x.theme.clone(),
                status: tag(&x.status),
            })
            .collect(),
        courses: office::courses(h)?
            .iter()
            .map(|c| {
                let certified: Vec<String> = c
                    .participants
                    .iter()
                    .filter(|p| c.attendance(p).1)
                    .cloned()
                    .collect();
                CourseRow {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    sessions: c.sessions.len(),
                    participants: c.participants.len(),
                    complete: certified.len(),
                    certified,
                }
            })
            .collect(),
        bodies: bodies
            .iter()
            .map(|b| BodyRow {
                id: b.id.clone(),
                name: b.name.clone(),
                theme: b.theme.clone().unwrap_or_default(),
                chairs: b
                    .members
                    .iter()
                    .filter(|m| m.role.chairs() && m.active_on(day))
                    .map(|m| m.person.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                members: b.members.iter().filter(|m| m.active_on(day)).count(),
            })
            .collect(),
        feed,
    })
}
