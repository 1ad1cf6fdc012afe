//! Who is calling: the one request-context extractor, [`Principal`], resolves a request's
//! bearer token (a user's API token, a site's token, or a session from `/api/login`) or, on
//! the web pages only, its session cookie, once per request, off the async runtime. The JSON
//! API (`/api/...`) never reads the cookie, so a cross-site request that carries it is nobody. [`Caller`], [`Admin`] and [`SiteCaller`] are its typed
//! views for handlers; the web UI's context ([`crate::ui`]) is built on it too.

use crate::auth::{bearer, session_cookie};
use crate::db::{Role, SiteRow, User};
use crate::{ApiError, Hub};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use std::sync::Arc;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A user, by API token or browser session.
    User(User),
    /// A site, by its site token.
    Site(SiteRow),
}

impl Principal {
    /// The caller's role (`None` for a site).
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User(u) => Some(u.role),
            Principal::Site(_) => None,
        }
    }
}

/// The resolution, kept in the request's extensions so that it is done once.
#[derive(Clone)]
struct Resolved(Option<Principal>);

/// Resolves a request's caller: a bearer token is a user's API token, else a site's token,
/// else a session (an unknown token is no caller, never a fall-back to the cookie); without
/// one, the session cookie when `cookies` allows it (the pages), never on the API. Blocking
/// (SQLite).
pub fn resolve(
    hub: &Hub,
    headers: &axum::http::HeaderMap,
    cookies: bool,
) -> Result<Option<Principal>, ApiError> {
    if let Some(t) = bearer(headers) {
        if let Some(u) = hub.db.token_user(t)? {
            return Ok(Some(Principal::User(u)));
        }
        if let Some(s) = hub.db.site_by_token(t)? {
            return Ok(Some(Principal::Site(s)));
        }
        return Ok(hub
            .db
            .session_user(t, idle_since(hub))?
            .map(Principal::User));
    }
    match session_cookie(headers).filter(|_| cookies) {
        Some(s) => Ok(hub
            .db
            .session_user(&s, idle_since(hub))?
            .map(Principal::User)),
        None => Ok(None),
    }
}

/// Sessions not used since this moment have idled out (`sessions.idle_minutes`).
pub fn idle_since(hub: &Hub) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::minutes(hub.cfg.sessions.idle_minutes as i64)
}

/// Whether a path belongs to the JSON API (bearer tokens only, JSON bodies only).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

impl OptionalFromRequestParts<Arc<Hub>> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Option<Self>, Self::Rejection> {
        if let Some(Resolved(p)) = parts.extensions.get::<Resolved>() {
            return Ok(p.clone());
        }
        let headers = parts.headers.clone();
        let cookies = !is_api(parts.uri.path());
        let p = hub.blocking(move |h| resolve(h, &headers, cookies)).await?;
        parts.extensions.insert(Resolved(p.clone()));
        Ok(p)
    }
}

impl FromRequestParts<Arc<Hub>> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        <Principal as OptionalFromRequestParts<_>>::from_request_parts(parts, hub)
            .await?
            .ok_or_else(ApiError::unauthorized)
    }
}

/// A signed-in user; rejects the request with 401 otherwise.
pub struct Caller(pub User);

impl Caller {
    /// Requires a role (admins pass every check); 403 otherwise.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        require(&self.0, role)
    }
}

/// Whether `user` has `role` (admins pass every check); 403 otherwise.
pub fn require(user: &User, role: Role) -> Result<(), ApiError> {
    if user.role == role || user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs the {} role; you are a {}",
            role.as_str(),
            user.role.as_str()
        )))
    }
}

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        match <Principal as FromRequestParts<_>>::from_request_parts(parts, hub).await? {
            Principal::User(u) => Ok(Caller(u)),
            Principal::Site(_) => Err(ApiError::unauthorized()),
        }
    }
}

/// A signed-in administrator; 401 or 403 otherwise (checked before the body is read).
pub struct Admin(pub User);

impl FromRequestParts<Arc<Hub>> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let c = Caller::from_request_parts(parts, hub).await?;
        c.require(Role::Admin)?;
        Ok(Admin(c.0))
    }
}

/// A site, authenticated by its token.
pub struct SiteCaller(pub SiteRow);

impl FromRequestParts<Arc<Hub>> for SiteCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        match <Principal as FromRequestParts<_>>::from_request_parts(parts, hub).await? {
            Principal::Site(s) => Ok(SiteCaller(s)),
            Principal::User(_) => Err(ApiError::unauthorized()),
        }
    }
}
