//! Signing in and out, and choosing the language: `/login`, `/logout`,
//! `/logout-everywhere`, `/language`.

use super::{S, Ui, safe_next};
use crate::auth::{LANG_COOKIE, SESSION_COOKIE, session_cookie, set_cookie};
use crate::service::users;
use crate::websec::ClientAddr;
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_web::Locale;
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::{IssuerButton, LoginPage, Page};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/language", post(language))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// One button per configured OpenID Connect issuer.
fn issuers(hub: &Hub) -> Vec<IssuerButton> {
    hub.oidc
        .iter()
        .map(|i| IssuerButton {
            id: i.cfg.id.clone(),
            name: i.cfg.name.clone(),
        })
        .collect()
}

async fn login_page(State(hub): S, ui: Ui, Query(q): Query<NextQuery>) -> Response {
    let page = LoginPage {
        next: q.next.unwrap_or_else(|| "/".into()),
        issuers: issuers(&hub),
        ..LoginPage::default()
    };
    ui.page(StatusCode::OK, &Page::Login(page), "")
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

async fn login_submit(
    State(hub): S,
    ui: Ui,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let mut errors = FieldErrors::default();
    errors.require("username", f.username.trim());
    errors.require("password", &f.password);
    if errors.is_empty() {
        let (name, password) = (f.username.trim().to_owned(), f.password.clone());
        match hub
            .blocking(move |h| users::sign_in(h, &name, &password, addr))
            .await
        {
            Ok((_, secret)) => {
                let cookie = users::session_set_cookie(&hub, &secret);
                return Ok((
                    [(header::SET_COOKIE, cookie)],
                    Redirect::to(safe_next(&f.next)),
                )
                    .into_response());
            }
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                errors.add("form", "err-credentials", "")
            }
            Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
                errors.add("form", "err-throttled", "");
                let page = LoginPage {
                    username: f.username,
                    errors,
                    next: f.next,
                    issuers: issuers(&hub),
                };
                return Ok(ui.page(StatusCode::TOO_MANY_REQUESTS, &Page::Login(page), ""));
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => {
                return Ok(ui.error(StatusCode::FORBIDDEN, "error-disabled"));
            }
            Err(e) => return Err(e),
        }
    }
    let page = LoginPage {
        username: f.username,
        errors,
        next: f.next,
        issuers: issuers(&hub),
    };
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, &Page::Login(page), ""))
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(hub): S,
    ui: Ui,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    if let Some(s) = session_cookie(&headers) {
        let _ = hub.blocking(move |h| users::sign_out(h, &s)).await;
    }
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", 0, true, false),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

/// Ends every session of the signed-in user, this one included.
async fn logout_everywhere(
    State(hub): S,
    ui: Ui,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    if let Some(u) = ui.user.clone() {
        hub.blocking(move |h| crate::service::identity::sign_out_everywhere(h, &u).map(|_| ()))
            .await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", 0, true, false),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize)]
struct LangForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

async fn language(State(hub): S, ui: Ui, Form(f): Form<LangForm>) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let Some(locale) = Locale::from_code(&f.lang) else {
        return Err(ApiError::bad_request(format!(
            "lang: no language {:?}",
            f.lang
        )));
    };
    // The cookie covers signed-out pages; signed in, the user's stored choice wins next time.
    let cookie = match &ui.user {
        Some(u) => {
            let name = u.name.clone();
            hub.blocking(move |h| Ok(h.db.set_lang(&name, locale.code())?))
                .await?;
            set_cookie(LANG_COOKIE, "", 0, false, false)
        }
        None => set_cookie(LANG_COOKIE, locale.code(), 31_536_000, false, false),
    };
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(safe_next(&f.next)),
    )
        .into_response())
}
