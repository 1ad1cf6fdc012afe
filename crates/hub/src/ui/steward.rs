//! The steward's page at the hub: their site's status and policy, and the hub's audit
//! entries that concern it, with whether the hub's chain verifies.

use super::{S, SignedIn, policy_view};
use crate::db::Role;
use crate::service::{audit, sites::site_statuses};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_audit::Entry;
use kakehashi_web::pages::{self, Page};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/steward", get(steward))
}

async fn steward(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let site = match (user.role, &user.site, q.get("site")) {
        (Role::Steward, Some(s), _) => Some(s.clone()),
        (Role::Admin, _, Some(s)) => Some(s.clone()),
        (Role::Admin, _, None) => None,
        _ => return Err(ApiError::forbidden("this page is for stewards")),
    };
    let (site, status, entries, chain_ok) = hub
        .blocking(move |h| {
            let site = match site {
                Some(s) => s,
                None => match h.db.sites() {
                    Ok(s) if !s.is_empty() => s[0].id.to_string(),
                    _ => return Err(ApiError::not_found("no site is registered")),
                },
            };
            let status = site_statuses(h)
                .ok()
                .and_then(|s| s.into_iter().find(|x| x.id.as_str() == site));
            let entries = audit::site_entries(h, &site).unwrap_or_default();
            // a cheap check of the log's end; the whole chain is verified at every open
            let chain_ok = h.audit.check().is_ok();
            Ok((site, status, entries, chain_ok))
        })
        .await?;
    let page = pages::StewardPage {
        site: status.as_ref().map(|s| s.name.clone()).unwrap_or(site),
        chain_ok: Some(chain_ok),
        entries: entries.into_iter().map(audit_row).collect(),
        policy: status
            .as_ref()
            .and_then(|s| s.policy.as_ref())
            .map(policy_view),
        projects: Vec::new(),
    };
    Ok(ui.page(StatusCode::OK, &Page::Steward(page), "steward"))
}

/// One audit entry as the page shows it.
fn audit_row(e: Entry) -> pages::AuditRow {
    let field = |k: &str| {
        e.detail
            .get(k)
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let task = field("task");
    let summary = match e.kind.as_str() {
        "task_created" => format!("{} · {task}", field("type")),
        "answer_received" => format!("{} · {task}", field("status")),
        "request_transition" => {
            let c = field("collection");
            let on = if c.is_empty() {
                String::new()
            } else {
                format!(" [{c}]")
            };
            format!(
                "{}{on}: {} → {} · {}",
                field("event"),
                field("from"),
                field("to"),
                field("request")
            )
        }
        "request_created" | "request_message" => field("request"),
        "catalogue_received" => field("sha256").chars().take(12).collect(),
        _ => field("name"),
    };
    pages::AuditRow {
        seq: e.seq,
        at: kakehashi_audit::entry_time(&e).unwrap_or_default(),
        kind: e.kind.replace('_', "-"),
        project: field("project"),
        summary,
        hash: e.hash,
    }
}
