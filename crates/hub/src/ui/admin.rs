//! The administrator's users page: every account with role, source, state, last sign-in and
//! live sessions and tokens, and POST buttons (with the CSRF token) that revoke, disable and
//! enable ([`crate::service::identity`]).

use super::{S, SignedIn};
use crate::context::require;
use crate::db::Role;
use crate::service::identity::{self, UserAction};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_web::pages::{AdminUserRow, AdminUsersPage, Page};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/users/{id}/{action}", post(act))
}

async fn users(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    require(&user, Role::Admin)?;
    let rows = hub.blocking(identity::users).await?;
    let page = AdminUsersPage {
        users: rows
            .into_iter()
            .map(|u| AdminUserRow {
                name: u.name,
                role: u.role.as_str().to_owned(),
                source: u.source,
                disabled: u.disabled,
                last_login: u.last_login,
                sessions: u.sessions,
                tokens: u.tokens,
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::AdminUsers(page), "admin"))
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn act(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((name, action)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    require(&user, Role::Admin)?;
    let a = UserAction::parse(&action)
        .ok_or_else(|| ApiError::not_found(format!("no action {action:?}")))?;
    hub.blocking(move |h| identity::act_on_user(h, &user, &name, a))
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}
