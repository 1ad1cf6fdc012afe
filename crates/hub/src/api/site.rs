//! The site protocol: sites pull tasks (`/api/site/poll`, a long poll), post signed answers
//! (`/api/site/answer`) and report tasks held for their steward (`/api/site/task-state`).
//! Sites only ever connect outward, to these routes.

use super::{S, json_body};
use crate::context::SiteCaller;
use crate::service::sites;
use crate::{ApiError, Hub};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use kakehashi_federation::approval::{TASK_STATE_VERSION, TaskStateReport};
use kakehashi_federation::{PollRequest, PollResponse};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/site/poll", post(site_poll))
        .route("/api/site/answer", post(site_answer))
        .route("/api/site/task-state", post(site_task_state))
}

async fn site_poll(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> Result<Json<PollResponse>, ApiError> {
    let req: PollRequest = json_body(&body, "poll request")?;
    Ok(Json(sites::poll(&hub, site, req).await?))
}

async fn site_answer(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| sites::accept_answer(h, &site, &body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A site reports that it holds a task for its data steward's approval (manual approval).
async fn site_task_state(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    /// The version alone, read first so that a newer report gets a clear answer.
    #[derive(Deserialize)]
    struct Version {
        version: u64,
    }
    if let Ok(Version { version: v }) = serde_json::from_slice::<Version>(&body)
        && v != u64::from(TASK_STATE_VERSION)
    {
        return Err(ApiError::conflict(format!(
            "unsupported task-state report version {v}: this hub speaks version {TASK_STATE_VERSION}"
        )));
    }
    let report: TaskStateReport = json_body(&body, "task-state report")?;
    hub.blocking(move |h| sites::hold(h, &site, &report))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
