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
use kakehashi_office::event::{Action, ActionStatus, Event, Participant, Presence, SHOWN_ZONES};
use kakehashi_office::exchange::{Exchange, ExchangeStatus};
use kakehashi_office::governance::Vote;
use kakehashi_office::library::{DocKind, Document};
use kakehashi_office::{Lang, Warning};
use kakehashi_web::office::SavedEvent;
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/office/documents", post(new_document))
        .route("/office/documents/{id}/upload", post(upload))
        .route("/office/decisions", post(new_decision))
        .route("/office/events/{id}/actions", post(action_status))
        .route("/office/events", post(new_event))
        .route("/office/events/{id}/action", post(add_action))
        .route("/office/events/{id}/minutes", post(minutes))
        .route("/office/exchanges", post(new_exchange))
        .route("/office/exchanges/{id}", post(exchange_status))
        .route("/office/courses/{id}/attendance", post(attendance))
}

/// A unit enum from its serde name; 400 naming `field` otherwise.
fn named<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, ApiError> {
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

#[derive(Deserialize)]
struct EventForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    /// A body's id, or blank for an event of the network.
    #[serde(default)]
    body: String,
    #[serde(default)]
    tz: String,
    /// `YYYY-MM-DDTHH:MM` (an `<input type="datetime-local">`), in `tz`.
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    location: String,
    /// One item per line.
    #[serde(default)]
    agenda: String,
    /// Comma-separated user names.
    #[serde(default)]
    in_person: String,
    #[serde(default)]
    remote: String,
}

/// A local date and time from a form; 400 naming `field`.
fn local_time(field: &str, v: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    let v = v.trim();
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{field}: not a date and time (YYYY-MM-DD HH:MM): {v:?}"
            ))
        })
}

/// The names in a comma-separated list.
fn names(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// An id from a title and a day: `steering-committee-2027-01-20`.
fn event_id(title: &str, day: NaiveDate) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(48).collect();
    if slug.is_empty() {
        format!("event-{day}")
    } else {
        format!("{slug}-{day}")
    }
}

/// A new event of a body the reader chairs (or of the network, for the office); the page
/// comes back with a notice naming any double booking.
async fn new_event(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<EventForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let kind: kakehashi_office::event::EventKind = named("kind", &f.kind)?;
    let start = local_time("start", &f.start)?;
    let end = local_time("end", &f.end)?;
    let mut participants: Vec<Participant> = names(&f.in_person)
        .map(|person| Participant {
            person,
            presence: Presence::InPerson,
        })
        .collect();
    participants.extend(names(&f.remote).map(|person| Participant {
        person,
        presence: Presence::Remote,
    }));
    let e = Event {
        id: event_id(&f.title, start.date()),
        title: f.title.trim().to_owned(),
        kind,
        body: Some(f.body.trim().to_owned()).filter(|b| !b.is_empty()),
        tz: f.tz,
        start,
        end,
        location: f.location.trim().to_owned(),
        agenda: f
            .agenda
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        participants,
        minutes: None,
        actions: Vec::new(),
        sequence: 0,
    };
    let u = user.clone();
    let saved = hub
        .blocking(move |h| {
            if h.db
                .office_get(crate::db::OfficeTable::Events, &e.id)?
                .is_some()
            {
                return Err(ApiError::conflict(format!(
                    "title: an event {:?} on that day exists already",
                    e.id
                )));
            }
            calendar::put_event(h, &u, e)
        })
        .await?;
    let p = hub
        .blocking(move |h| {
            let events = calendar::events(h, &calendar::EventFilter::default())?;
            let title_of = |id: &str| {
                events
                    .iter()
                    .find(|e| e.id == id)
                    .map_or(id.to_owned(), |e| e.title.clone())
            };
            let me = &saved.event.event.id;
            let double_bookings = saved
                .warnings
                .iter()
                .filter_map(|w| match w {
                    Warning::DoubleBooked {
                        person,
                        first,
                        second,
                        from,
                    } => {
                        let other = if first == me { second } else { first };
                        let at = |z: usize| {
                            from.with_timezone(&SHOWN_ZONES[z])
                                .format("%Y-%m-%d %H:%M %Z")
                                .to_string()
                        };
                        Some((
                            person.clone(),
                            title_of(other),
                            format!("{} / {}", at(0), at(1)),
                        ))
                    }
                    _ => None,
                })
                .collect();
            let mut p = super::view::build(h, &user, None)?;
            p.saved = Some(SavedEvent {
                title: saved.event.event.title.clone(),
                id: me.clone(),
                double_bookings,
            });
            Ok(p)
        })
        .await?;
    Ok(ui.page(
        axum::http::StatusCode::OK,
        &kakehashi_web::pages::Page::Office(p),
        "office",
    ))
}

#[derive(Deserialize)]
struct NewActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due: String,
}

/// An action on an event (its body's chair, the office); an action without an owner or due
/// date is refused naming the field, and the event keeps its actions.
async fn add_action(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NewActionForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let due = NaiveDate::parse_from_str(f.due.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("due: not a date (YYYY-MM-DD): {:?}", f.due)))?;
    let action = Action {
        text: f.text.trim().to_owned(),
        owner: f.owner.trim().to_owned(),
        due,
        status: ActionStatus::Open,
    };
    hub.blocking(move |h| {
        let mut e = calendar::event(h, &id)?;
        e.actions.push(action);
        calendar::put_event(h, &user, e)
    })
    .await?;
    Ok(Redirect::to("/office#events").into_response())
}

#[derive(Deserialize)]
struct MinutesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    minutes: String,
}

/// An event's minutes (its body's chair, the office); blank clears them.
async fn minutes(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<MinutesForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    hub.blocking(move |h| {
        let mut e = calendar::event(h, &id)?;
        e.minutes = Some(f.minutes.trim().to_owned()).filter(|m| !m.is_empty());
        calendar::put_event(h, &user, e)
    })
    .await?;
    Ok(Redirect::to("/office#events").into_response())
}

#[derive(Deserialize)]
struct ExchangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    home: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    funding: String,
}

/// A day from a form; 400 naming `field`.
fn day(field: &str, v: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{field}: not a date (YYYY-MM-DD): {v:?}")))
}

/// A proposed exchange (the office); the end before the start is refused naming `end`.
async fn new_exchange(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<ExchangeForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let start = day("start", &f.start)?;
    let x = Exchange {
        id: format!("x-{}-{start}", f.person.trim()),
        person: f.person.trim().to_owned(),
        home: f.home.trim().to_owned(),
        host: f.host.trim().to_owned(),
        start,
        end: day("end", &f.end)?,
        purpose: f.purpose.trim().to_owned(),
        theme: f.theme.trim().to_owned(),
        funding: f.funding.trim().to_owned(),
        status: ExchangeStatus::Proposed,
        report: None,
    };
    hub.blocking(move |h| office::put_exchange(h, &user, x))
        .await?;
    Ok(Redirect::to("/office#exchanges").into_response())
}

#[derive(Deserialize)]
struct ExchangeStatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    report: String,
}

/// An exchange's new status and report (the office).
async fn exchange_status(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ExchangeStatusForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let status: ExchangeStatus = named("status", &f.status)?;
    hub.blocking(move |h| {
        let mut x = office::exchanges(h, None)?
            .into_iter()
            .find(|x| x.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no exchange {id:?}")))?;
        x.status = status;
        x.report = Some(f.report.trim().to_owned()).filter(|r| !r.is_empty());
        office::put_exchange(h, &user, x)
    })
    .await?;
    Ok(Redirect::to("/office#exchanges").into_response())
}

/// A course's attendance (the office): the form sends `s<i>=<person>` for each session `i`
/// and participant who attended; each session's list is replaced by what was ticked.
async fn attendance(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    ui.check_csrf(csrf)?;
    let mut ticked: Vec<(usize, String)> = Vec::new();
    for (k, v) in &pairs {
        if let Some(i) = k.strip_prefix('s') {
            let i = i
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("{k}: not a session")))?;
            ticked.push((i, v.clone()));
        }
    }
    hub.blocking(move |h| {
        let mut c = office::courses(h)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no course {id:?}")))?;
        if let Some((i, _)) = ticked.iter().find(|(i, _)| *i >= c.sessions.len()) {
            return Err(ApiError::bad_request(format!(
                "s{i}: the course has {} sessions",
                c.sessions.len()
            )));
        }
        for (i, s) in c.sessions.iter_mut().enumerate() {
            s.attended = ticked
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, p)| p.clone())
                .collect();
        }
        office::put_course(h, &user, c)
    })
    .await?;
    Ok(Redirect::to("/office#training").into_response())
}
