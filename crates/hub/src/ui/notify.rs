//! The e-mail notification settings page, `/notifications` (`POST` saves, CSRF-checked):
//! the caller's address, how they hear of each topic, their recent messages. The same
//! settings as `PUT /api/me/notifications`.

use super::{S, SignedIn};
use crate::service::notify::{MODES, TOPICS};
use crate::{ApiError, Hub, mail};
use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_web::notify::{MessageRow, NotificationsPage, PrefRow};
use kakehashi_web::pages::Page;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/notifications", get(page).post(save))
}

fn build(h: &Hub, user: &str, saved: bool) -> Result<NotificationsPage, ApiError> {
    let chosen: BTreeMap<String, String> = h.db.notify_prefs(user)?.into_iter().collect();
    Ok(NotificationsPage {
        email: h
            .db
            .recipient(user)?
            .and_then(|r| r.email)
            .unwrap_or_default(),
        prefs: TOPICS
            .iter()
            .map(|t| PrefRow {
                topic: (*t).to_owned(),
                mode: chosen
                    .get(*t)
                    .cloned()
                    .unwrap_or_else(|| "immediate".into()),
            })
            .collect(),
        modes: MODES.iter().map(|m| (*m).to_owned()).collect(),
        messages: h
            .db
            .messages_of(user, 50)?
            .into_iter()
            .map(|m| MessageRow {
                created: m.created,
                subject: m.subject,
                state: m.state,
                note: m.note,
            })
            .collect(),
        saved,
    })
}

async fn page(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    let p = hub.blocking(move |h| build(h, &user.name, false)).await?;
    Ok(ui.page(StatusCode::OK, &Page::Notifications(p), "notifications"))
}

async fn save(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    ui.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let email = f
        .get("email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    if !email.is_empty() && !mail::valid_address(&email) {
        return Err(ApiError::bad_request(format!(
            "email: {email:?} is not an e-mail address"
        )));
    }
    let mut prefs = Vec::new();
    for t in TOPICS {
        if let Some(m) = f.get(t) {
            if !MODES.contains(&m.as_str()) {
                return Err(ApiError::bad_request(format!("{t}: unknown mode {m:?}")));
            }
            prefs.push((t, m.clone()));
        }
    }
    let p = hub
        .blocking(move |h| {
            h.db.set_email(&user.name, Some(email.as_str()).filter(|e| !e.is_empty()))?;
            for (t, m) in &prefs {
                h.db.set_notify_pref(&user.name, t, m)?;
            }
            h.audit_log(
                "notification_settings",
                serde_json::json!({"user": user.name, "email_changed": true, "prefs": prefs}),
            )?;
            build(h, &user.name, true)
        })
        .await?;
    Ok(ui.page(StatusCode::OK, &Page::Notifications(p), "notifications"))
}
