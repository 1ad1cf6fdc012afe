//! Sign-in and API tokens: `/api/login`, `/api/logout`, `/api/me`, `/api/tokens`. The API
//! sets no cookies: `/api/login` answers with a session secret that the client sends as a
//! bearer token (until the session ends or `/api/logout`), e.g. to make an API token.

use super::S;
use crate::context::Caller;
use crate::db::User;
use crate::service::users;
use crate::websec::ClientAddr;
use crate::{ApiError, Hub};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/tokens", post(create_token))
}

#[derive(Deserialize)]
struct LoginBody {
    name: String,
    password: String,
}

/// The answer to `/api/login`: the user, and the session to send as `Authorization: Bearer`.
#[derive(serde::Serialize)]
struct LoginAnswer {
    #[serde(flatten)]
    user: User,
    session: String,
}

async fn login(
    State(hub): S,
    ClientAddr(addr): ClientAddr,
    Json(b): Json<LoginBody>,
) -> Result<Json<LoginAnswer>, ApiError> {
    let (user, session) = hub
        .blocking(move |h| users::sign_in(h, &b.name, &b.password, addr))
        .await?;
    Ok(Json(LoginAnswer { user, session }))
}

/// Ends the session the request's bearer token is (an API token is left alone).
async fn logout(State(hub): S, _c: Caller, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    if let Some(s) = crate::auth::bearer(&headers).map(str::to_owned) {
        hub.blocking(move |h| users::sign_out(h, &s)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn me(c: Caller) -> Json<User> {
    Json(c.0)
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(hub): S,
    Caller(user): Caller,
    Json(b): Json<TokenBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = hub
        .blocking(move |h| users::create_token(h, &user, &b.label))
        .await?;
    Ok(Json(serde_json::json!({"token": token})))
}
