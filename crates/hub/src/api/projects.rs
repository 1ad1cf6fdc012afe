//! What a signed-in user may read about the network: `/api/sites`, `/api/projects`.

use super::S;
use crate::context::Caller;
use crate::db::Project;
use crate::service::sites::site_statuses;
use crate::{ApiError, Hub};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kakehashi_federation::SiteStatus;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/sites", get(sites))
        .route("/api/projects", get(projects))
}

async fn sites(State(hub): S, _c: Caller) -> Result<Json<Vec<SiteStatus>>, ApiError> {
    Ok(Json(hub.blocking(site_statuses).await?))
}

async fn projects(State(hub): S, Caller(user): Caller) -> Result<Json<Vec<Project>>, ApiError> {
    Ok(Json(
        hub.blocking(move |h| Ok(h.db.projects_of(&user)?)).await?,
    ))
}
