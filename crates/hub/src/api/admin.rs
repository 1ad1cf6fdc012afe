//! Administration: `/api/admin/users` (make, list; revoke, disable, enable one),
//! `/api/admin/projects`, `/api/admin/sites`.

use super::S;
use crate::context::Admin;
use crate::db::UserRow;
use crate::service::identity::{self, UserAction};
use crate::service::sites::{NewSite, register_site};
use crate::service::users::{NewProject, NewUser, create_user, save_project};
use crate::{ApiError, Hub};
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/admin/users", post(admin_user).get(list_users))
        .route("/api/admin/users/{id}/revoke", post(revoke))
        .route("/api/admin/users/{id}/disable", post(disable))
        .route("/api/admin/users/{id}/enable", post(enable))
        .route("/api/admin/projects", post(admin_project))
        .route("/api/admin/sites", post(admin_site))
}

async fn admin_user(
    State(hub): S,
    Admin(by): Admin,
    Json(b): Json<NewUser>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| create_user(h, &by, b)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_project(
    State(hub): S,
    Admin(by): Admin,
    Json(b): Json<NewProject>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| save_project(h, &by, b)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_site(
    State(hub): S,
    Admin(by): Admin,
    Json(b): Json<NewSite>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (id, token) = hub.blocking(move |h| register_site(h, &by, b)).await?;
    Ok(Json(serde_json::json!({"site": id, "token": token})))
}

async fn list_users(State(hub): S, Admin(_): Admin) -> Result<Json<Vec<UserRow>>, ApiError> {
    Ok(Json(hub.blocking(identity::users).await?))
}

async fn act(
    hub: Arc<Hub>,
    by: crate::db::User,
    name: String,
    a: UserAction,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| identity::act_on_user(h, &by, &name, a))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    State(hub): S,
    Admin(by): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(hub, by, name, UserAction::Revoke).await
}

async fn disable(
    State(hub): S,
    Admin(by): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(hub, by, name, UserAction::Disable).await
}

async fn enable(
    State(hub): S,
    Admin(by): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(hub, by, name, UserAction::Enable).await
}
