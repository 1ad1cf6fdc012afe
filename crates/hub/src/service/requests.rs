//! Access requests at the hub: the routes' and pages' one way to open, attach to, move and
//! discuss a request. Every change goes through the biobank crate's state machines
//! ([`AccessRequest::fire`], [`AccessRequest::fire_collection`], [`AccessRequest::post`],
//! [`AccessRequest::attach`]) on the stored request and is written back by compare-and-swap,
//! so a refused change (or one that lost a race) changes nothing. Each transition is in the
//! audit log (`request_transition`, naming the request's sites, so each steward's view shows
//! it) and is told by e-mail ([`super::notify::enqueue`], topic `requests`) to the people it
//! concerns. Who is who: an administrator acts as the network office, a researcher as
//! themself, a steward for their site. Blocking.

use super::ApiResult;
use super::tasks::visible_task;
use crate::db::{Role as UserRole, User};
use crate::{ApiError, Hub};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use kakehashi_biobank::request::{
    AccessRequest, Actor, Attachment, AttachmentKind, CollectionEvent, RequestEvent, RequestQuery,
    Transition,
};
use kakehashi_biobank::{RequestError, SpecimenCriteria};
use kakehashi_federation::TaskSpec;
use serde::Deserialize;

mod mail;

/// A new request (`POST /api/requests`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Its title.
    pub title: String,
    /// What the samples or data are for.
    pub description: String,
    /// The locator task it comes from (its query travels with the request).
    #[serde(default)]
    pub task: Option<String>,
    /// Or the query itself: a CCDL cohort (JSON text) and specimen criteria.
    #[serde(default)]
    pub query: Option<NewQuery>,
    /// The collections asked for, by catalogue id.
    pub collections: Vec<String>,
}

/// A query given by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    /// The cohort, CCDL JSON text.
    pub ccdl: String,
    /// The specimen criteria.
    #[serde(default)]
    pub specimen: SpecimenCriteria,
}

/// An attachment (`POST /api/requests/{id}/attachments`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAttachment {
    /// `protocol`, `ethics_approval` or `other`.
    pub kind: AttachmentKind,
    /// Its file name.
    pub name: String,
    /// Its media type.
    #[serde(default)]
    pub media_type: String,
    /// Its bytes, base64.
    pub content_base64: String,
}

/// An event (`POST /api/requests/{id}/events`): on the request, or on one of its collections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// The event's name (`submit`, `approve`, `contact`, `mark_available`, …).
    pub event: String,
    /// The collection, for a collection's event.
    #[serde(default)]
    pub collection: Option<String>,
}

/// A message (`POST /api/requests/{id}/messages`): to the request's thread or a collection's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The text.
    pub text: String,
    /// The collection's thread, or the request's.
    #[serde(default)]
    pub collection: Option<String>,
}

/// Who a user acts as.
pub fn actor_of(user: &User) -> ApiResult<Actor> {
    match (user.role, &user.site) {
        (UserRole::Admin, _) => Ok(Actor::NetworkOffice {
            user: user.name.clone(),
        }),
        (UserRole::Researcher, _) => Ok(Actor::Researcher {
            user: user.name.clone(),
        }),
        (UserRole::Steward, Some(site)) => Ok(Actor::SiteSteward {
            site: site.clone(),
            user: user.name.clone(),
        }),
        (UserRole::Steward, None) => Err(ApiError::forbidden("this account looks after no site")),
    }
}

/// A refusal as the API answers it: another's request or site 403, a state that does not
/// allow it 409, bad input 400, an oversized attachment 413.
pub fn refusal(e: RequestError) -> ApiError {
    let message = e.to_string();
    match e {
        RequestError::Role { .. }
        | RequestError::NotOwner { .. }
        | RequestError::OtherSite { .. }
        | RequestError::NotInvolved { .. } => ApiError::forbidden(message),
        RequestError::RequestTransition { .. }
        | RequestError::CollectionTransition { .. }
        | RequestError::NotInProgress { .. }
        | RequestError::AttachmentClosed { .. } => ApiError::conflict(message),
        RequestError::AttachmentTooLarge { .. } => ApiError {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message,
        },
        RequestError::UnknownCollection { .. } => ApiError::not_found(message),
        _ => ApiError::bad_request(message),
    }
}

fn read(doc: &str) -> ApiResult<AccessRequest> {
    serde_json::from_str(doc).map_err(|e| ApiError::internal(format!("stored request: {e}")))
}

fn write(r: &AccessRequest) -> ApiResult<String> {
    serde_json::to_string(r).map_err(|e| ApiError::internal(format!("request {}: {e}", r.id)))
}

/// The request `id` if `user` may see it (else 404, as if it did not exist).
pub fn get(hub: &Hub, user: &User, id: &str) -> ApiResult<AccessRequest> {
    let actor = actor_of(user)?;
    let r = match hub.db.request_doc(id)? {
        Some(doc) => read(&doc)?,
        None => return Err(ApiError::not_found(format!("no request {id}"))),
    };
    if !r.visible_to(&actor) {
        return Err(ApiError::not_found(format!("no request {id}")));
    }
    Ok(r)
}

/// The requests `user` may see, newest first: a researcher's own, those asking a steward's
/// site, all for the network office.
pub fn list(hub: &Hub, user: &User) -> ApiResult<Vec<AccessRequest>> {
    let docs = match actor_of(user)? {
        Actor::NetworkOffice { .. } => hub.db.request_docs(None, None)?,
        Actor::Researcher { user } => hub.db.request_docs(Some(&user), None)?,
        Actor::SiteSteward { site, .. } => hub.db.request_docs(None, Some(&site))?,
    };
    docs.iter().map(|d| read(d)).collect()
}

/// What every request of the network did from `from` to `to` (counts only, for the office's
/// activity report, which every member reads).
pub fn activity(
    hub: &Hub,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> ApiResult<kakehashi_biobank::request::activity::RequestActivity> {
    let all = hub
        .db
        .request_docs(None, None)?
        .iter()
        .map(|d| read(d))
        .collect::<ApiResult<Vec<AccessRequest>>>()?;
    Ok(kakehashi_biobank::request::activity::activity(
        &all, from, to,
    ))
}

/// Opens a draft for `user` (a researcher) for collections of the network's catalogue.
pub fn create(hub: &Hub, user: &User, n: NewRequest) -> ApiResult<AccessRequest> {
    let actor = actor_of(user)?;
    if !matches!(actor, Actor::Researcher { .. }) {
        return Err(ApiError::forbidden("requests are opened by researchers"));
    }
    let query = match (&n.task, n.query) {
        (Some(task), None) => {
            let t = visible_task(hub, user, task)?;
            let TaskSpec::Samples(s) = &t.spec else {
                return Err(ApiError::bad_request(format!(
                    "task: {task} is a {} task; a request comes from a samples (locator) task",
                    t.spec.kind()
                )));
            };
            RequestQuery {
                ccdl: s.cohort().ccdl_text(),
                specimen: s.specimen().clone(),
                task: Some(task.clone()),
            }
        }
        (None, Some(q)) => {
            kakehashi_federation::cohort::CohortRequest::from_json(&q.ccdl)
                .map_err(|e| ApiError::bad_request(format!("query.{e}")))?;
            RequestQuery {
                ccdl: q.ccdl,
                specimen: q.specimen,
                task: None,
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "give either task (a samples task's id) or query, not both or neither",
            ));
        }
    };
    let catalogues = hub.db.catalogues()?;
    let mut picked = Vec::new();
    for id in &n.collections {
        let site = catalogues
            .iter()
            .find(|c| c.catalogue.collection(id).is_some())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "collections: no collection {id:?} in the network's catalogue"
                ))
            })?;
        picked.push((id.clone(), site.site.clone()));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let r = AccessRequest::new(
        &id,
        &user.name,
        &n.title,
        &n.description,
        query,
        &picked,
        Utc::now(),
    )
    .map_err(refusal)?;
    let doc = write(&r)?;
    let sites = sites_of(&r);
    hub.db
        .request_insert(&id, &user.name, r.state.as_str(), &doc, &sites)?;
    hub.audit_log(
        "request_created",
        serde_json::json!({"request": id, "by": user.name, "sites": sites,
            "collections": n.collections, "task": r.query.task}),
    )?;
    Ok(r)
}

fn sites_of(r: &AccessRequest) -> Vec<String> {
    let mut s: Vec<String> = r.collections.iter().map(|c| c.site.clone()).collect();
    s.sort();
    s.dedup();
    s
}

/// Applies `change` to the stored request and writes it back if nothing else changed it
/// meanwhile (else 409): a refused change writes nothing.
fn change<T>(
    hub: &Hub,
    user: &User,
    id: &str,
    f: impl FnOnce(&mut AccessRequest, &Actor) -> Result<T, RequestError>,
) -> ApiResult<(AccessRequest, T)> {
    let actor = actor_of(user)?;
    let old = hub
        .db
        .request_doc(id)?
        .ok_or_else(|| ApiError::not_found(format!("no request {id}")))?;
    let mut r = read(&old)?;
    if !r.visible_to(&actor) {
        return Err(ApiError::not_found(format!("no request {id}")));
    }
    let out = f(&mut r, &actor).map_err(refusal)?;
    let doc = write(&r)?;
    if !hub.db.request_swap(id, &old, &doc, r.state.as_str())? {
        return Err(ApiError::conflict(format!(
            "request {id} changed meanwhile; read it again and retry"
        )));
    }
    Ok((r, out))
}

/// Adds an attachment: bytes stored once under their SHA-256, at most 20 MiB.
pub fn attach(hub: &Hub, user: &User, id: &str, a: NewAttachment) -> ApiResult<AccessRequest> {
    // the size first, from the base64 length, so an oversized file is refused before decoding
    let approx = (a.content_base64.trim_end_matches('=').len() as u64 * 3) / 4;
    if approx > kakehashi_biobank::request::MAX_ATTACHMENT_BYTES {
        return Err(refusal(RequestError::AttachmentTooLarge {
            name: a.name.clone(),
            size: approx,
            max: kakehashi_biobank::request::MAX_ATTACHMENT_BYTES,
        }));
    }
    let bytes = B64
        .decode(a.content_base64.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("content_base64: {e}")))?;
    let att = Attachment::of_bytes(a.kind, &a.name, &a.media_type, &bytes).map_err(refusal)?;
    // refused before the bytes are kept (the request's state and role are checked first)
    let probe = get(hub, user, id)?;
    probe
        .clone()
        .attach(&actor_of(user)?, att.clone())
        .map_err(refusal)?;
    hub.db
        .request_put_content(&att.sha256, bytes.len() as i64, &a.content_base64)?;
    let (r, ()) = change(hub, user, id, |r, actor| r.attach(actor, att.clone()))?;
    hub.audit_log(
        "request_attachment",
        serde_json::json!({"request": id, "by": user.name, "sites": sites_of(&r),
            "kind": att.kind, "name": att.name, "size": att.size, "sha256": att.sha256}),
    )?;
    Ok(r)
}

/// An attachment's bytes, for whoever may see the request.
pub fn attachment(
    hub: &Hub,
    user: &User,
    id: &str,
    sha256: &str,
) -> ApiResult<(Attachment, Vec<u8>)> {
    let r = get(hub, user, id)?;
    let a = r
        .attachments
        .iter()
        .find(|a| a.sha256 == sha256)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("request {id} has no attachment {sha256}")))?;
    let b64 = hub
        .db
        .request_content(sha256)?
        .ok_or_else(|| ApiError::internal(format!("attachment {sha256} is not stored")))?;
    let bytes = B64
        .decode(b64.as_bytes())
        .map_err(|e| ApiError::internal(format!("stored attachment {sha256}: {e}")))?;
    Ok((a, bytes))
}

/// Fires an event on the request or one of its collections; audited and told by e-mail.
pub fn fire(hub: &Hub, user: &User, id: &str, e: NewEvent) -> ApiResult<AccessRequest> {
    let now = Utc::now();
    let (r, t): (AccessRequest, Transition) = match &e.collection {
        None => {
            let ev = RequestEvent::parse(&e.event).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "event: unknown request event {:?}; allowed: {}",
                    e.event,
                    RequestEvent::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            change(hub, user, id, |r, a| r.fire(a, ev, now))?
        }
        Some(c) => {
            let ev = CollectionEvent::parse(&e.event).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "event: unknown collection event {:?}; allowed: {}",
                    e.event,
                    CollectionEvent::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            change(hub, user, id, |r, a| r.fire_collection(a, c, ev, now))?
        }
    };
    hub.audit_log(
        "request_transition",
        serde_json::json!({"request": id, "by": user.name, "sites": sites_of(&r),
            "collection": t.collection, "event": t.event, "from": t.from, "to": t.to}),
    )?;
    mail::transition(hub, &r, &t, &user.name, now)?;
    Ok(r)
}

/// Posts a message to the request's thread or a collection's.
pub fn post(hub: &Hub, user: &User, id: &str, m: NewMessage) -> ApiResult<AccessRequest> {
    let now = Utc::now();
    let (r, ()) = change(hub, user, id, |r, a| {
        r.post(a, m.collection.as_deref(), &m.text, now).map(|_| ())
    })?;
    hub.audit_log(
        "request_message",
        serde_json::json!({"request": id, "by": user.name, "sites": sites_of(&r),
            "collection": m.collection}),
    )?;
    Ok(r)
}
