//! Who is calling: users (API token or browser session) and sites (site token).

use crate::db::{Role, SiteRow, User};
use crate::{ApiError, Hub};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use std::sync::Arc;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kh_session";

/// Hashes a password (Argon2id, random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("password hashing: {e}")))
}

/// Checks a password against its stored hash.
pub fn password_ok(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A fresh random secret (tokens, session ids): 32 random bytes, hex, with a prefix.
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    format!("{prefix}{}", hex::encode(b))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A cookie's value, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The session cookie's value, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// Finds the user of a request: a bearer API token, else the session cookie.
pub fn user_of(hub: &Hub, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
    if let Some(t) = bearer(headers) {
        return hub.db.token_user(t).map_err(ApiError::from);
    }
    match session_cookie(headers) {
        Some(s) => hub.db.session_user(&s).map_err(ApiError::from),
        None => Ok(None),
    }
}

/// A signed-in user; rejects the request with 401 otherwise.
pub struct Caller(pub User);

impl Caller {
    /// Requires a role (admins pass every check); 403 otherwise.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.0.role == role || self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role; you are a {}",
                role.as_str(),
                self.0.role.as_str()
            )))
        }
    }
}

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        match user_of(hub, &parts.headers)? {
            Some(u) => Ok(Caller(u)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// A signed-in administrator; 401 or 403 otherwise (checked before the body is read).
pub struct Admin(pub User);

impl FromRequestParts<Arc<Hub>> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        let c = Caller::from_request_parts(parts, hub).await?;
        c.require(Role::Admin)?;
        Ok(Admin(c.0))
    }
}

/// A site, authenticated by its token.
pub struct SiteCaller(pub SiteRow);

impl FromRequestParts<Arc<Hub>> for SiteCaller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        match hub.db.site_by_token(token)? {
            Some(s) => Ok(SiteCaller(s)),
            None => Err(ApiError::unauthorized()),
        }
    }
}
