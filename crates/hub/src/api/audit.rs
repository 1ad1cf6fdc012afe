//! The audit log as administrators and stewards read it: `/api/admin/audit`,
//! `/api/steward/site`.

use super::S;
use crate::context::{Admin, Caller};
use crate::db::Role;
use crate::service::audit;
use crate::{ApiError, Hub};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/admin/audit", get(admin_audit))
        .route("/api/steward/site", get(steward_site))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn admin_audit(
    State(hub): S,
    _admin: Admin,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Vec<kakehashi_audit::Entry>>, ApiError> {
    let limit = q.limit.unwrap_or(100).min(10_000);
    Ok(Json(hub.blocking(move |h| audit::tail(h, limit)).await?))
}

#[derive(Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

async fn steward_site(
    State(hub): S,
    c: Caller,
    Query(q): Query<SiteQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    c.require(Role::Steward)?;
    let mut user = c.0;
    if user.role == Role::Admin {
        user.site = Some(q.site.ok_or_else(|| {
            ApiError::bad_request("site: an administrator names the site (?site=ID)")
        })?);
    }
    Ok(Json(
        hub.blocking(move |h| audit::steward_view(h, &user)).await?,
    ))
}
