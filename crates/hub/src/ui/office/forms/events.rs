//! The office page's event forms, for a body's chair or the office: a new meeting,
//! conference or visit (`POST /office/events`; the double bookings it makes are named on the
//! page that comes back), an action on an event (`POST /office/events/ID/action`) and its
//! minutes (`POST /office/events/ID/minutes`).

use super::super::super::{S, SignedIn};
use super::named;
use crate::ApiError;
use crate::service::office::calendar;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kakehashi_office::Warning;
use kakehashi_office::event::{Action, ActionStatus, Event, Participant, Presence, SHOWN_ZONES};
use kakehashi_web::office::SavedEvent;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct EventForm {
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
pub(super) async fn new_event(
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
            let mut p = super::super::view::build(h, &user, None)?;
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
pub(super) struct NewActionForm {
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
pub(super) async fn add_action(
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
pub(super) struct MinutesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    minutes: String,
}

/// An event's minutes (its body's chair, the office); blank clears them.
pub(super) async fn minutes(
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
