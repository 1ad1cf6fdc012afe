//! Sign-in with an OpenID Connect issuer: `/login/oidc/{id}` sends the browser to the issuer
//! (with a `kh_oidc` cookie that binds the sign-in's `state` to this browser, so a foreign
//! page cannot finish its own sign-in in the reader's browser), and
//! `/login/oidc/{id}/callback` finishes it ([`crate::service::identity::oidc_finish`]). A
//! refusal is a page that says why: a used or expired `state`, no role for the user, a
//! disabled account, or a failed check (the detail goes to the log and the audit log).

use super::{S, Ui};
use crate::auth::{cookie, set_cookie};
use crate::service::identity::{PENDING_MINUTES, oidc_begin, oidc_finish};
use crate::service::users::session_set_cookie;
use crate::websec::{ClientAddr, same_secret};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use std::sync::Arc;

/// The cookie that carries a started sign-in's `state` (HttpOnly, `SameSite=Lax`, so it comes
/// back with the issuer's top-level redirect).
pub const OIDC_COOKIE: &str = "kh_oidc";

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/login/oidc/{id}", get(begin))
        .route("/login/oidc/{id}/callback", get(callback))
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

fn secure(hub: &Hub) -> bool {
    hub.cfg
        .sessions
        .secure_cookie
        .unwrap_or(hub.cfg.tls.is_some())
}

async fn begin(
    State(hub): S,
    Path(id): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, ApiError> {
    let (state, url) = oidc_begin(&hub, &id, &q.next).await?;
    let c = set_cookie(
        OIDC_COOKIE,
        &state,
        PENDING_MINUTES * 60,
        true,
        secure(&hub),
    );
    Ok(([(header::SET_COOKIE, c)], Redirect::to(&url)).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: Option<String>,
}

async fn callback(
    State(hub): S,
    ui: Ui,
    Path(id): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: axum::http::HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    if let Some(e) = q.error {
        tracing::warn!(issuer = %id, error = %e, "the issuer refused the sign-in");
        return Ok(ui.error(StatusCode::UNAUTHORIZED, "error-oidc-failed"));
    }
    // the state must be the one this browser started with
    let bound = cookie(&headers, OIDC_COOKIE).is_some_and(|c| same_secret(&c, &q.state));
    if !bound || q.state.is_empty() || q.code.is_empty() {
        return Ok(ui.error(StatusCode::BAD_REQUEST, "error-oidc-state"));
    }
    let clear = set_cookie(OIDC_COOKIE, "", 0, true, secure(&hub));
    match oidc_finish(&hub, &id, &q.state, &q.code, addr).await {
        Ok((_, secret, next)) => Ok((
            // appended: two cookies under one header name
            axum::response::AppendHeaders([
                (header::SET_COOKIE, session_set_cookie(&hub, &secret)),
                (header::SET_COOKIE, clear),
            ]),
            Redirect::to(crate::websec::safe_next(&next)),
        )
            .into_response()),
        Err(e) => {
            let key = match e.code {
                "oidc_state" => "error-oidc-state",
                "oidc_no_role" => "error-oidc-no-role",
                "disabled" => "error-disabled",
                _ => "error-oidc-failed",
            };
            Ok(([(header::SET_COOKIE, clear)], ui.error(e.status, key)).into_response())
        }
    }
}
