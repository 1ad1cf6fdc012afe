//! The access-request pages: `/requests` (the list the user may see; for a steward, the
//! requests asking their site), `/requests/{id}` (the request with the buttons the user may
//! press: exactly the events the state machines accept from them now), `POST
//! /requests/{id}/event` and `/requests/{id}/message` (CSRF-checked; a refusal shows the
//! request again with the reason), `/requests/{id}/attachments/{sha256}` (the bytes).

use super::{S, SignedIn, Ui};
use crate::db::User;
use crate::service::requests::{self, NewEvent, NewMessage};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_biobank::request::{AccessRequest, Actor, RequestState};
use kakehashi_web::pages::Page;
use kakehashi_web::requests::{
    AttachmentRow, CollectionState, HistoryRow, MessageRow, RequestPage, RequestRow,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/requests", get(super::request_forms::list))
        .route("/requests/{id}", get(one))
        .route("/requests/{id}/event", post(event))
        .route("/requests/{id}/message", post(message))
        .route("/requests/{id}/attachments/{sha256}", get(attachment))
}

fn who(a: &Actor) -> String {
    match a {
        Actor::NetworkOffice { user } | Actor::Researcher { user } => user.clone(),
        Actor::SiteSteward { site, user } => format!("{user} ({site})"),
    }
}

pub(super) fn row(r: &AccessRequest, actions: &BTreeMap<String, Vec<String>>) -> RequestRow {
    RequestRow {
        id: r.id.clone(),
        title: r.title.clone(),
        state: r.state.as_str().to_owned(),
        researcher: r.researcher.clone(),
        created: r.created.to_rfc3339(),
        collections: r
            .collections
            .iter()
            .map(|c| CollectionState {
                id: c.id.clone(),
                site: c.site.clone(),
                state: c.state.as_str().to_owned(),
                actions: actions.get(&c.id).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

fn detail(r: &AccessRequest, actor: &Actor, error: Option<String>) -> RequestPage {
    let now = chrono::Utc::now();
    let can = r.available(actor, now);
    let mut per: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (c, e) in &can.collections {
        per.entry(c.clone())
            .or_default()
            .push(e.as_str().to_owned());
    }
    // the threads the actor may write in: tried on a copy, like the buttons
    let mut threads = Vec::new();
    if r.clone().post(actor, None, "x", now).is_ok() {
        threads.push(String::new());
    }
    for c in &r.collections {
        if r.clone().post(actor, Some(&c.id), "x", now).is_ok() {
            threads.push(c.id.clone());
        }
    }
    RequestPage {
        request: row(r, &per),
        description: r.description.clone(),
        task: r.query.task.clone(),
        specimen: serde_json::to_string(&r.query.specimen).unwrap_or_default(),
        ccdl: r.query.ccdl.clone(),
        actions: can.request.iter().map(|e| e.as_str().to_owned()).collect(),
        attachments: r
            .attachments
            .iter()
            .map(|a| AttachmentRow {
                kind: serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                name: a.name.clone(),
                size: a.size as i64,
                sha256: a.sha256.clone(),
            })
            .collect(),
        history: r
            .history
            .iter()
            .map(|t| HistoryRow {
                at: t.at.to_rfc3339(),
                who: who(&t.actor),
                event: t.event.clone(),
                collection: t.collection.clone().unwrap_or_default(),
                from: t.from.clone(),
                to: t.to.clone(),
            })
            .collect(),
        messages: r
            .messages
            .iter()
            .map(|m| MessageRow {
                at: m.at.to_rfc3339(),
                who: who(&m.author),
                collection: m.collection.clone().unwrap_or_default(),
                text: m.text.clone(),
            })
            .collect(),
        threads,
        may_attach: matches!(actor, Actor::Researcher { user } if *user == r.researcher)
            && matches!(
                r.state,
                RequestState::Draft | RequestState::ReturnedForChanges
            ),
        error,
    }
}

/// The request's page, with a refusal's reason when there is one.
pub(super) async fn show(
    hub: &Arc<Hub>,
    ui: Ui,
    user: User,
    id: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let u = user.clone();
    let r = hub.blocking(move |h| requests::get(h, &u, &id)).await?;
    let actor = requests::actor_of(&user)?;
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let page = detail(&r, &actor, error.map(|e| e.message));
    Ok(ui.page(status, &Page::Request(Box::new(page)), "requests"))
}

async fn one(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show(&hub, ui, user, id, None).await
}

async fn event(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    ui.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let e = NewEvent {
        event: f.get("event").cloned().unwrap_or_default(),
        collection: f.get("collection").cloned().filter(|c| !c.is_empty()),
    };
    let (u, i) = (user.clone(), id.clone());
    match hub.blocking(move |h| requests::fire(h, &u, &i, e)).await {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(err) if err.status != StatusCode::NOT_FOUND => {
            show(&hub, ui, user, id, Some(err)).await
        }
        Err(err) => Err(err),
    }
}

async fn message(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    ui.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let m = NewMessage {
        text: f.get("text").cloned().unwrap_or_default(),
        collection: f.get("collection").cloned().filter(|c| !c.is_empty()),
    };
    let (u, i) = (user.clone(), id.clone());
    match hub.blocking(move |h| requests::post(h, &u, &i, m)).await {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(err) if err.status != StatusCode::NOT_FOUND => {
            show(&hub, ui, user, id, Some(err)).await
        }
        Err(err) => Err(err),
    }
}

async fn attachment(
    State(hub): S,
    SignedIn(_ui, user): SignedIn,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (a, bytes) = hub
        .blocking(move |h| requests::attachment(h, &user, &id, &sha256))
        .await?;
    let name: String = a
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
