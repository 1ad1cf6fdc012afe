//! E-mail notifications: `/api/me/notifications` (the caller's address, how they hear of each
//! topic, their recent messages) and, for the network office, `/api/admin/notifications` (the
//! outbox) and `/api/admin/notifications/run` (a cycle now, instead of at the next tick).

use super::S;
use crate::context::{Admin, Caller};
use crate::db::Outgoing;
use crate::service::notify::{self, CycleReport, MODES, TOPICS};
use crate::{ApiError, mail};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<crate::Hub>> {
    Router::new()
        .route("/api/me/notifications", get(mine).put(set_mine))
        .route("/api/admin/notifications", get(outbox))
        .route("/api/admin/notifications/run", post(run))
}

/// A user's notification settings and recent messages.
#[derive(Debug, Serialize)]
pub struct MyNotifications {
    /// Their address, if set.
    pub email: Option<String>,
    /// Per topic: `immediate`, `digest` or `off`.
    pub prefs: BTreeMap<String, String>,
    /// The 50 newest messages for them, with what became of each.
    pub messages: Vec<Outgoing>,
}

/// New settings: the address (empty clears it) and/or modes per topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSettings {
    /// The address; `""` removes it; absent leaves it.
    pub email: Option<String>,
    /// Topic → mode; topics not named keep theirs.
    #[serde(default)]
    pub prefs: BTreeMap<String, String>,
}

fn settings_of(h: &crate::Hub, user: &str) -> Result<MyNotifications, ApiError> {
    let mut prefs: BTreeMap<String, String> = TOPICS
        .iter()
        .map(|t| ((*t).to_owned(), "immediate".to_owned()))
        .collect();
    prefs.extend(h.db.notify_prefs(user)?);
    Ok(MyNotifications {
        email: h.db.recipient(user)?.and_then(|r| r.email),
        prefs,
        messages: h.db.messages_of(user, 50)?,
    })
}

async fn mine(
    axum::extract::State(hub): S,
    Caller(me): Caller,
) -> Result<Json<MyNotifications>, ApiError> {
    Ok(Json(hub.blocking(move |h| settings_of(h, &me.name)).await?))
}

async fn set_mine(
    axum::extract::State(hub): S,
    Caller(me): Caller,
    Json(n): Json<NewSettings>,
) -> Result<Json<MyNotifications>, ApiError> {
    if let Some(e) = n.email.as_deref().map(str::trim).filter(|e| !e.is_empty())
        && !mail::valid_address(e)
    {
        return Err(ApiError::bad_request(format!(
            "email: {e:?} is not an e-mail address"
        )));
    }
    for (topic, mode) in &n.prefs {
        if !TOPICS.contains(&topic.as_str()) {
            return Err(ApiError::bad_request(format!(
                "prefs.{topic}: unknown topic; the topics are {}",
                TOPICS.join(", ")
            )));
        }
        if !MODES.contains(&mode.as_str()) {
            return Err(ApiError::bad_request(format!(
                "prefs.{topic}: unknown mode {mode:?}; use {}",
                MODES.join(", ")
            )));
        }
    }
    let out = hub
        .blocking(move |h| {
            if let Some(e) = &n.email {
                let e = e.trim();
                h.db.set_email(&me.name, Some(e).filter(|e| !e.is_empty()))?;
            }
            for (topic, mode) in &n.prefs {
                h.db.set_notify_pref(&me.name, topic, mode)?;
            }
            h.audit_log(
                "notification_settings",
                serde_json::json!({"user": me.name, "email_changed": n.email.is_some(), "prefs": n.prefs}),
            )?;
            settings_of(h, &me.name)
        })
        .await?;
    Ok(Json(out))
}

async fn outbox(axum::extract::State(hub): S, _a: Admin) -> Result<Json<Vec<Outgoing>>, ApiError> {
    Ok(Json(hub.blocking(|h| Ok(h.db.messages(500)?)).await?))
}

async fn run(axum::extract::State(hub): S, _a: Admin) -> Result<Json<CycleReport>, ApiError> {
    Ok(Json(notify::cycle(&hub, chrono::Utc::now()).await?))
}
