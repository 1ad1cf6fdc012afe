//! The partnership office at the hub: the records of `kakehashi-office` stored in the hub's
//! database (`db::office`), who may change what, and the audit log. Roles: the network
//! office (the hub's `admin` role) edits everything; a body's chair or co-chair edits that
//! body, its decisions and its events; every signed-in user reads, subscribes to calendars,
//! uploads versions and translations for review and updates the actions they own. Every
//! change is written to the audit log (`office_*` entries). [`library`] holds the document
//! library, [`calendar`] the events and their feeds. Blocking: handlers run these through
//! [`crate::Hub::blocking`].

use super::ApiResult;
use crate::db::{OfficeTable, Record, Role, User};
use crate::{ApiError, Hub};
use chrono::NaiveDate;
use kakehashi_office::OfficeError;
use kakehashi_office::agreement::{Agreement, RenewalTimeline};
use kakehashi_office::exchange::{Course, Exchange};
use kakehashi_office::governance::{Body, Decision, Vote};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod calendar;
pub mod citation;
pub mod governs;
pub mod library;
pub mod report;

/// An office error as an API error: a broken rule of the review or a stale write is 409,
/// bad input 400 (the message names the field).
pub fn refused(e: OfficeError) -> ApiError {
    match e {
        OfficeError::Transition { .. }
        | OfficeError::Immutable { .. }
        | OfficeError::SourceNotApproved { .. }
        | OfficeError::OwnApproval { .. } => ApiError::conflict(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// Today, in UTC.
pub(crate) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Whether `user` is the network office.
pub fn is_office(user: &User) -> bool {
    user.role == Role::Admin
}

pub(crate) fn stored<T: DeserializeOwned>(json: &str) -> ApiResult<T> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::internal(format!("a stored office record does not read: {e}")))
}

fn json<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// Every record of a table (or of one parent), read back as `T`.
pub(crate) fn list<T: DeserializeOwned>(
    hub: &Hub,
    t: OfficeTable,
    parent: Option<&str>,
) -> ApiResult<Vec<T>> {
    hub.db
        .office_list(t, parent)?
        .iter()
        .map(|j| stored(j))
        .collect()
}

/// One record and its stored JSON (for a compare-and-swap), or 404 naming it.
pub(crate) fn get<T: DeserializeOwned>(
    hub: &Hub,
    t: OfficeTable,
    id: &str,
    what: &str,
) -> ApiResult<(T, String)> {
    let j = hub
        .db
        .office_get(t, id)?
        .ok_or_else(|| ApiError::not_found(format!("no {what} {id:?}")))?;
    Ok((stored(&j)?, j))
}

/// Replaces a record read as `old`; 409 when someone changed it meanwhile.
pub(crate) fn swap<T: Serialize>(
    hub: &Hub,
    t: OfficeTable,
    old: &str,
    id: &str,
    parent: Option<&str>,
    sort: &str,
    v: &T,
) -> ApiResult<()> {
    let doc = json(v)?;
    let r = Record {
        id,
        parent,
        sort,
        doc: &doc,
    };
    if hub.db.office_swap(t, old, r)? {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "{id} was changed by someone else meanwhile: read it again"
        )))
    }
}

pub(crate) fn put<T: Serialize>(
    hub: &Hub,
    t: OfficeTable,
    id: &str,
    parent: Option<&str>,
    sort: &str,
    v: &T,
) -> ApiResult<()> {
    let doc = json(v)?;
    hub.db.office_put(
        t,
        Record {
            id,
            parent,
            sort,
            doc: &doc,
        },
    )?;
    Ok(())
}

/// Writes an `office_<what>` entry to the audit log.
pub(crate) fn audit(hub: &Hub, by: &User, what: &str, detail: serde_json::Value) -> ApiResult<()> {
    hub.audit_log(
        &format!("office_{what}"),
        serde_json::json!({"by": by.name, "detail": detail}),
    )
}

/// 403 unless `user` is the network office.
pub fn require_office(user: &User) -> ApiResult<()> {
    if is_office(user) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the network office (admin) may do this",
        ))
    }
}

/// Whether `user` chairs body `body` today (the network office counts as chairing all).
pub fn chairs(hub: &Hub, user: &User, body: &str) -> ApiResult<bool> {
    if is_office(user) {
        return Ok(true);
    }
    let Some(j) = hub.db.office_get(OfficeTable::Bodies, body)? else {
        return Ok(false);
    };
    let b: Body = stored(&j)?;
    Ok(b.role_of(&user.name, today()).is_some_and(|r| r.chairs()))
}

/// Whether `user` chairs any body today (or is the network office).
pub fn chairs_any(hub: &Hub, user: &User) -> ApiResult<bool> {
    if is_office(user) {
        return Ok(true);
    }
    let day = today();
    Ok(list::<Body>(hub, OfficeTable::Bodies, None)?
        .iter()
        .any(|b| b.role_of(&user.name, day).is_some_and(|r| r.chairs())))
}

/// An agreement with its renewal timeline as of today.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementView {
    /// The agreement.
    pub agreement: Agreement,
    /// Its timeline today.
    pub timeline: RenewalTimeline,
}

/// The agreements with their timelines.
pub fn agreements(hub: &Hub) -> ApiResult<Vec<AgreementView>> {
    let day = today();
    Ok(list::<Agreement>(hub, OfficeTable::Agreements, None)?
        .into_iter()
        .map(|a| AgreementView {
            timeline: a.timeline(day),
            agreement: a,
        })
        .collect())
}

/// Stores an agreement (the network office only).
pub fn put_agreement(hub: &Hub, by: &User, a: Agreement) -> ApiResult<()> {
    require_office(by)?;
    a.validate().map_err(refused)?;
    put(
        hub,
        OfficeTable::Agreements,
        &a.id,
        None,
        &a.signed.to_string(),
        &a,
    )?;
    audit(hub, by, "agreement_saved", serde_json::json!({"id": a.id}))
}

/// The bodies.
pub fn bodies(hub: &Hub) -> ApiResult<Vec<Body>> {
    list(hub, OfficeTable::Bodies, None)
}

/// Stores a body: a new one by the network office, an existing one also by its chair.
pub fn put_body(hub: &Hub, by: &User, b: Body) -> ApiResult<()> {
    b.validate().map_err(refused)?;
    let old = hub.db.office_get(OfficeTable::Bodies, &b.id)?;
    match &old {
        None => require_office(by)?,
        Some(_) if !chairs(hub, by, &b.id)? => {
            return Err(ApiError::forbidden(format!(
                "only the chair of {} or the network office may change it",
                b.id
            )));
        }
        Some(_) => {}
    }
    match old {
        Some(old) => swap(hub, OfficeTable::Bodies, &old, &b.id, None, &b.name, &b)?,
        None => put(hub, OfficeTable::Bodies, &b.id, None, &b.name, &b)?,
    }
    audit(
        hub,
        by,
        "body_saved",
        serde_json::json!({"id": b.id, "members": b.members.len()}),
    )
}

/// A decision to record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    /// The body.
    pub body: String,
    /// The day.
    pub date: NaiveDate,
    /// What was decided.
    pub text: String,
    /// How.
    pub vote: Vote,
    /// Documents it refers to.
    #[serde(default)]
    pub documents: Vec<String>,
}

/// The decisions log, of one body or all, oldest first.
pub fn decisions(hub: &Hub, body: Option<&str>) -> ApiResult<Vec<Decision>> {
    list(hub, OfficeTable::Decisions, body)
}

/// Records a decision (the body's chair or the network office).
pub fn add_decision(hub: &Hub, by: &User, d: NewDecision) -> ApiResult<Decision> {
    let (body, _): (Body, _) = get(hub, OfficeTable::Bodies, &d.body, "body")?;
    if !chairs(hub, by, &body.id)? {
        return Err(ApiError::forbidden(format!(
            "only the chair of {} or the network office records its decisions",
            body.id
        )));
    }
    let decision = Decision {
        id: format!(
            "{}-{}-{}",
            body.id,
            d.date,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
        body: body.id.clone(),
        date: d.date,
        text: d.text,
        vote: d.vote,
        documents: d.documents,
    };
    decision.validate(&body).map_err(refused)?;
    let doc = json(&decision)?;
    hub.db.office_insert(
        OfficeTable::Decisions,
        Record {
            id: &decision.id,
            parent: Some(&body.id),
            sort: &decision.date.to_string(),
            doc: &doc,
        },
    )?;
    audit(
        hub,
        by,
        "decision_recorded",
        serde_json::json!({"id": decision.id, "body": body.id}),
    )?;
    Ok(decision)
}

/// The staff exchanges, of one person or all.
pub fn exchanges(hub: &Hub, person: Option<&str>) -> ApiResult<Vec<Exchange>> {
    list(hub, OfficeTable::Exchanges, person)
}

/// Stores an exchange (the network office).
pub fn put_exchange(hub: &Hub, by: &User, x: Exchange) -> ApiResult<()> {
    require_office(by)?;
    x.validate().map_err(refused)?;
    put(
        hub,
        OfficeTable::Exchanges,
        &x.id,
        Some(&x.person),
        &x.start.to_string(),
        &x,
    )?;
    audit(
        hub,
        by,
        "exchange_saved",
        serde_json::json!({"id": x.id, "person": x.person}),
    )
}

/// The training courses.
pub fn courses(hub: &Hub) -> ApiResult<Vec<Course>> {
    list(hub, OfficeTable::Courses, None)
}

/// Stores a course (the network office).
pub fn put_course(hub: &Hub, by: &User, c: Course) -> ApiResult<()> {
    require_office(by)?;
    c.validate().map_err(refused)?;
    let first = c
        .sessions
        .first()
        .map(|s| s.date.to_string())
        .unwrap_or_default();
    put(hub, OfficeTable::Courses, &c.id, None, &first, &c)?;
    audit(hub, by, "course_saved", serde_json::json!({"id": c.id}))
}
