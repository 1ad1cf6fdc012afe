//! Events, their actions and the calendar feeds. An event changes only by its body's chair
//! or the network office, and each change raises its `SEQUENCE`; an action's owner may mark
//! it done. A feed is a secret URL (`/office/calendar/<secret>.ics`, the secret stored
//! hashed) that shows its owner's events (`me`: those they take part in or own actions of)
//! or one body's (`body:<id>`).

use super::{ApiResult, audit, chairs, get, is_office, list, put, refused, swap};
use crate::auth::new_secret;
use crate::db::{Feed, OfficeTable, User, secret_hash};
use crate::{ApiError, Hub};
use chrono::{DateTime, Utc};
use kakehashi_office::Warning;
use kakehashi_office::event::{ActionStatus, Event, SHOWN_ZONES, double_bookings};
use kakehashi_office::ical;
use serde::{Deserialize, Serialize};

/// An event with its times in Berlin and Tokyo.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// The event.
    pub event: Event,
    /// Start and end in UTC.
    pub utc: (DateTime<Utc>, DateTime<Utc>),
    /// Start and end in Europe/Berlin, RFC 3339.
    pub berlin: (String, String),
    /// Start and end in Asia/Tokyo, RFC 3339.
    pub tokyo: (String, String),
}

impl EventView {
    /// The view of an event.
    pub fn of(event: Event) -> EventView {
        let s = event.span();
        let shown = |i: usize| {
            let (a, b) = event.shown_in(SHOWN_ZONES[i]);
            (a.to_rfc3339(), b.to_rfc3339())
        };
        EventView {
            utc: (s.start, s.end),
            berlin: shown(0),
            tokyo: shown(1),
            event,
        }
    }
}

/// Which events.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    /// Only this body's.
    #[serde(default)]
    pub body: Option<String>,
    /// Only those this person takes part in or owns actions of.
    #[serde(default)]
    pub person: Option<String>,
}

/// Events by start.
pub fn events(hub: &Hub, f: &EventFilter) -> ApiResult<Vec<Event>> {
    let all: Vec<Event> = list(hub, OfficeTable::Events, f.body.as_deref())?;
    Ok(all
        .into_iter()
        .filter(|e| f.person.as_deref().is_none_or(|p| e.concerns(p)))
        .collect())
}

/// What saving an event answered.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The event as stored (its sequence).
    pub event: EventView,
    /// Double bookings with other events.
    pub warnings: Vec<Warning>,
}

/// One event; 404 naming it.
pub fn event(hub: &Hub, id: &str) -> ApiResult<Event> {
    Ok(get::<Event>(hub, OfficeTable::Events, id, "event")?.0)
}

/// Makes or changes an event (the body's chair, or the office; events of no body: the
/// office). A change raises the sequence; the answer warns of double bookings.
pub fn put_event(hub: &Hub, by: &User, mut e: Event) -> ApiResult<Saved> {
    let allowed = match &e.body {
        Some(b) => chairs(hub, by, b)?,
        None => is_office(by),
    };
    if !allowed {
        return Err(ApiError::forbidden(
            "only the body's chair or the network office may change its events",
        ));
    }
    let span = e.validate().map_err(refused)?;
    let sort = span.start.to_rfc3339();
    match hub.db.office_get(OfficeTable::Events, &e.id)? {
        Some(json) => {
            let old: Event = super::stored(&json)?;
            // changing an event needs the right to its old place too (a body's, or the office's)
            let may_old = match &old.body {
                Some(b) => chairs(hub, by, b)?,
                None => is_office(by),
            };
            if !may_old {
                return Err(ApiError::forbidden(
                    "only the chair of the event's body or the network office may change it",
                ));
            }
            e.sequence = old.sequence
                + u32::from(
                    old != Event {
                        sequence: old.sequence,
                        ..e.clone()
                    },
                );
            swap(
                hub,
                OfficeTable::Events,
                &json,
                &e.id,
                e.body.as_deref(),
                &sort,
                &e,
            )?;
        }
        None => {
            e.sequence = 0;
            put(
                hub,
                OfficeTable::Events,
                &e.id,
                e.body.as_deref(),
                &sort,
                &e,
            )?;
        }
    }
    let all: Vec<Event> = list(hub, OfficeTable::Events, None)?;
    let warnings = double_bookings(&all)
        .into_iter()
        .filter(|w| matches!(w, Warning::DoubleBooked { first, second, .. } if *first == e.id || *second == e.id))
        .collect::<Vec<_>>();
    audit(
        hub,
        by,
        "event_saved",
        serde_json::json!({"id": e.id, "sequence": e.sequence, "warnings": warnings.len()}),
    )?;
    Ok(Saved {
        event: EventView::of(e),
        warnings,
    })
}

/// A change of an action's status.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionUpdate {
    /// The action's position in the event's list, from 0.
    pub index: usize,
    /// Its new status.
    pub status: ActionStatus,
}

/// Sets an action's status: its owner, the body's chair or the office.
pub fn set_action(hub: &Hub, by: &User, event: &str, u: ActionUpdate) -> ApiResult<()> {
    let (mut e, json): (Event, _) = get(hub, OfficeTable::Events, event, "event")?;
    let Some(a) = e.actions.get_mut(u.index) else {
        return Err(ApiError::bad_request(format!(
            "index: the event has {} actions",
            e.actions.len()
        )));
    };
    let chair = match &e.body {
        Some(b) => chairs(hub, by, b)?,
        None => is_office(by),
    };
    if a.owner != by.name && !chair {
        return Err(ApiError::forbidden(format!(
            "the action is {}'s: only they, the body's chair or the office change it",
            a.owner
        )));
    }
    a.status = u.status;
    let sort = e.span().start.to_rfc3339();
    swap(
        hub,
        OfficeTable::Events,
        &json,
        &e.id,
        e.body.as_deref(),
        &sort,
        &e,
    )?;
    audit(
        hub,
        by,
        "action_updated",
        serde_json::json!({"event": event, "index": u.index, "status": u.status}),
    )
}

/// A new feed: its secret path.
#[derive(Debug, Clone, Serialize)]
pub struct NewFeed {
    /// The path to subscribe to (`/office/calendar/<secret>.ics`).
    pub path: String,
    /// What it shows.
    pub scope: String,
}

/// Makes a feed of `user`'s events (`body: None`) or of a body's.
pub fn new_feed(hub: &Hub, by: &User, body: Option<&str>) -> ApiResult<NewFeed> {
    let scope = match body {
        Some(b) => {
            get::<kakehashi_office::governance::Body>(hub, OfficeTable::Bodies, b, "body")?;
            format!("body:{b}")
        }
        None => "me".to_owned(),
    };
    let secret = new_secret("khcal_");
    hub.db.office_put_feed(
        &secret_hash(&secret),
        &Feed {
            owner: by.name.clone(),
            scope: scope.clone(),
        },
    )?;
    audit(hub, by, "feed_created", serde_json::json!({"scope": scope}))?;
    Ok(NewFeed {
        path: format!("/office/calendar/{secret}.ics"),
        scope,
    })
}

/// The calendar of `user`'s events.
pub fn user_calendar(hub: &Hub, user: &str) -> ApiResult<String> {
    let f = EventFilter {
        body: None,
        person: Some(user.to_owned()),
    };
    Ok(ical::calendar(
        &format!("kakehashi: {user}"),
        &events(hub, &f)?,
        Utc::now(),
    ))
}

/// The calendar a feed secret opens; 404 for an unknown secret (or a disabled owner).
pub fn feed_calendar(hub: &Hub, secret: &str) -> ApiResult<String> {
    let feed = hub
        .db
        .office_feed(&secret_hash(secret))?
        .ok_or_else(|| ApiError::not_found("no such calendar"))?;
    match feed.scope.strip_prefix("body:") {
        Some(b) => {
            let f = EventFilter {
                body: Some(b.to_owned()),
                person: None,
            };
            Ok(ical::calendar(
                &format!("kakehashi: {b}"),
                &events(hub, &f)?,
                Utc::now(),
            ))
        }
        None => user_calendar(hub, &feed.owner),
    }
}
