//! Sign-in and API tokens: `/api/login`, `/api/logout`, `/api/logout-everywhere`, `/api/me`,
//! `/api/tokens` (make, list) and `/api/tokens/revoke`. Tokens expire (`expires_in_days`,
//! default `tokens.default_days`). The API sets no cookies: `/api/login` answers with a session secret that the client sends as a
//! bearer token (until the session ends or `/api/logout`), e.g. to make an API token.

use super::S;
use crate::context::Caller;
use crate::db::TokenRow;
use crate::db::User;
use crate::service::{identity, users};
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
        .route("/api/logout-everywhere", post(logout_everywhere))
        .route("/api/me", get(me))
        .route("/api/tokens", post(create_token).get(list_tokens))
        .route("/api/tokens/revoke", post(revoke_token))
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

/// Ends every session of the caller (their API tokens stay; revoke those one by one).
async fn logout_everywhere(
    State(hub): S,
    Caller(user): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = hub
        .blocking(move |h| identity::sign_out_everywhere(h, &user))
        .await?;
    Ok(Json(serde_json::json!({"sessions_ended": n})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    label: String,
    /// Days the token lasts; default `tokens.default_days`, at most `tokens.max_days`.
    #[serde(default)]
    expires_in_days: Option<u64>,
}

/// A new token: shown once.
#[derive(serde::Serialize)]
struct NewToken {
    token: String,
    id: String,
    expires: String,
}

async fn create_token(
    State(hub): S,
    Caller(user): Caller,
    Json(b): Json<TokenBody>,
) -> Result<Json<NewToken>, ApiError> {
    let (token, id, expires) = hub
        .blocking(move |h| users::create_token(h, &user, &b.label, b.expires_in_days))
        .await?;
    Ok(Json(NewToken {
        token,
        id,
        expires: expires.to_rfc3339(),
    }))
}

async fn list_tokens(State(hub): S, Caller(user): Caller) -> Result<Json<Vec<TokenRow>>, ApiError> {
    Ok(Json(
        hub.blocking(move |h| identity::tokens(h, &user)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    id: String,
}

async fn revoke_token(
    State(hub): S,
    Caller(user): Caller,
    Json(b): Json<RevokeBody>,
) -> Result<StatusCode, ApiError> {
    hub.blocking(move |h| identity::revoke_token(h, &user, &b.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
