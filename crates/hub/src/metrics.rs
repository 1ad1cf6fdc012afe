//! The counters exported at `/metrics` (Prometheus text format) and the layer that counts
//! refused callers. `/metrics` answers only a scraper that sends the configured
//! `metrics_token` as a bearer token (401 otherwise); with no token configured it is off (404).

use crate::Hub;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters exported at `/metrics` (Prometheus text format).
#[derive(Default)]
pub struct Metrics {
    /// Tasks created.
    pub tasks: AtomicU64,
    /// Answers accepted, by outcome.
    pub answers_answered: AtomicU64,
    /// Refusals received.
    pub answers_refused: AtomicU64,
    /// Failures received.
    pub answers_failed: AtomicU64,
    /// Answers rejected (bad signature, not asked, duplicate).
    pub answers_rejected: AtomicU64,
    /// Site polls.
    pub polls: AtomicU64,
    /// Requests refused with 401 or 403.
    pub auth_failures: AtomicU64,
}

/// `/metrics`.
pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(hub): State<Arc<Hub>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, crate::ApiError> {
    let Some(want) = hub.cfg.metrics_token.as_deref() else {
        return Err(crate::ApiError::not_found(
            "metrics are off: set metrics_token in hub.toml",
        ));
    };
    let sent = crate::auth::bearer(&headers).unwrap_or("");
    if !crate::websec::same_secret(sent, want) {
        return Err(crate::ApiError::unauthorized());
    }
    let text = hub.blocking(|h| Ok(metrics_text(h))).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// Counts the answers that refused a caller (401, 403) for the metrics.
pub(crate) async fn count_auth_failures(
    State(hub): State<Arc<Hub>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    if matches!(
        res.status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        hub.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
    res
}

/// The metrics in Prometheus text format (reads the sites' last polls from the database).
pub fn metrics_text(hub: &Hub) -> String {
    let m = &hub.metrics;
    let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let online = hub
        .db
        .sites()
        .map(|s| {
            let cutoff = chrono::Utc::now()
                - chrono::Duration::seconds(hub.cfg.tasks.offline_after_seconds as i64);
            s.iter()
                .filter(|s| s.last_seen.is_some_and(|t| t >= cutoff))
                .count()
        })
        .unwrap_or(0);
    format!(
        "# HELP kakehashi_hub_tasks_total Tasks created.\n# TYPE kakehashi_hub_tasks_total counter\nkakehashi_hub_tasks_total {}\n\
         # HELP kakehashi_hub_answers_total Site answers accepted, by outcome.\n# TYPE kakehashi_hub_answers_total counter\n\
         kakehashi_hub_answers_total{{outcome=\"answered\"}} {}\nkakehashi_hub_answers_total{{outcome=\"refused\"}} {}\nkakehashi_hub_answers_total{{outcome=\"failed\"}} {}\n\
         # HELP kakehashi_hub_answers_rejected_total Answers rejected (signature, not asked, duplicate).\n# TYPE kakehashi_hub_answers_rejected_total counter\nkakehashi_hub_answers_rejected_total {}\n\
         # HELP kakehashi_hub_polls_total Site polls.\n# TYPE kakehashi_hub_polls_total counter\nkakehashi_hub_polls_total {}\n\
         # HELP kakehashi_hub_auth_failures_total Requests refused with 401 or 403.\n# TYPE kakehashi_hub_auth_failures_total counter\nkakehashi_hub_auth_failures_total {}\n\
         # HELP kakehashi_hub_sites_online Sites seen within the offline window.\n# TYPE kakehashi_hub_sites_online gauge\nkakehashi_hub_sites_online {}\n",
        g(&m.tasks),
        g(&m.answers_answered),
        g(&m.answers_refused),
        g(&m.answers_failed),
        g(&m.answers_rejected),
        g(&m.polls),
        g(&m.auth_failures),
        online
    )
}
