//! Users, sessions, API tokens and projects.

use super::ApiResult;
use crate::auth::{SESSION_COOKIE, hash_password, new_secret, password_ok, set_cookie};
use crate::db::{Role, User};
use crate::throttle::Key;
use crate::{ApiError, Hub};
use chrono::{Duration, Utc};
use kakehashi_model::ProjectId;

/// A hash to check passwords against when the user does not exist, so that a wrong name
/// takes as long as a wrong password (the timing does not tell who has an account).
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("kakehashi-no-such-user").unwrap_or_default())
}

/// Signs a user in: waits out no throttle (429 while one runs, [`crate::throttle`]), checks
/// the password (against a dummy hash when there is no such user) and stores a session;
/// returns the user and the session's secret (the pages send it as a cookie,
/// [`session_set_cookie`]; the API hands it out as a bearer token). Failures count against
/// the account and the client's address; when one starts to be slowed down, the audit log
/// says so. Blocking (Argon2, SQLite).
pub fn sign_in(
    hub: &Hub,
    name: &str,
    password: &str,
    addr: Option<std::net::IpAddr>,
) -> ApiResult<(User, String)> {
    let keys = Key::of(name, addr);
    if let Some(wait) = hub.throttle.wait(&keys) {
        return Err(ApiError {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_attempts",
            message: format!(
                "too many failed sign-ins: try again in {} s",
                wait.as_secs().max(1)
            ),
        });
    }
    let found = hub.db.user_with_hash(name)?;
    let user = match found {
        Some((user, hash)) if password_ok(password, &hash) => Some(user),
        Some(_) => None,
        None => {
            let _ = password_ok(password, dummy_hash());
            None
        }
    };
    let address = addr.map(|a| a.to_string());
    let Some(user) = user else {
        hub.audit_log(
            "login_failed",
            serde_json::json!({"user": name, "source": "local", "reason": "credentials", "address": address}),
        )?;
        for k in hub.throttle.failed(&keys) {
            hub.audit_log(
                "login_throttled",
                serde_json::json!({"key": k.name(), "user": name, "address": address}),
            )?;
        }
        return Err(ApiError::bad_credentials());
    };
    hub.throttle.succeeded(&keys);
    if hub.db.user_disabled(&user.name)? {
        hub.audit_log(
            "login_failed",
            serde_json::json!({"user": name, "source": "local", "reason": "disabled", "address": address}),
        )?;
        return Err(ApiError::forbidden("this account is disabled"));
    }
    let secret = start_session(hub, &user, "local", addr)?;
    Ok((user, secret))
}

/// Stores a new session for a user who just proved who they are (`source`: `local` or the
/// issuer's id), records the sign-in, and returns the session's secret. Blocking.
pub fn start_session(
    hub: &Hub,
    user: &User,
    source: &str,
    addr: Option<std::net::IpAddr>,
) -> ApiResult<String> {
    let secret = new_secret("");
    hub.db.put_session(
        &secret,
        &user.name,
        Utc::now() + Duration::hours(hub.cfg.sessions.hours as i64),
    )?;
    hub.db.touch_login(&user.name)?;
    hub.audit_log(
        "login",
        serde_json::json!({"user": user.name, "source": source, "address": addr.map(|a| a.to_string())}),
    )?;
    Ok(secret)
}

/// The `Set-Cookie` value that carries a session to the browser (HttpOnly, `Secure` with TLS
/// or when configured).
pub fn session_set_cookie(hub: &Hub, secret: &str) -> String {
    let secure = hub
        .cfg
        .sessions
        .secure_cookie
        .unwrap_or(hub.cfg.tls.is_some());
    set_cookie(
        SESSION_COOKIE,
        secret,
        hub.cfg.sessions.hours as i64 * 3600,
        true,
        secure,
    )
}

/// Ends a session (by the cookie's secret).
pub fn sign_out(hub: &Hub, session: &str) -> ApiResult<()> {
    Ok(hub.db.delete_session(session)?)
}

/// Creates an API token for `user` that lasts `days` (default `tokens.default_days`, at
/// most `tokens.max_days`) and logs it; returns the token (shown once), its id and its end.
pub fn create_token(
    hub: &Hub,
    user: &User,
    label: &str,
    days: Option<u64>,
) -> ApiResult<(String, String, chrono::DateTime<Utc>)> {
    let max = hub.cfg.tokens.max_days;
    let days = days.unwrap_or(hub.cfg.tokens.default_days);
    if days == 0 || days > max {
        return Err(ApiError::bad_request(format!(
            "expires_in_days: 1 to {max}"
        )));
    }
    if label.chars().count() > 100 {
        return Err(ApiError::bad_request("label: at most 100 characters"));
    }
    let token = new_secret("kh_");
    let expires = Utc::now() + Duration::days(days as i64);
    let id = hub.db.put_token(&token, &user.name, label, expires)?;
    hub.audit_log(
        "token_created",
        serde_json::json!({"user": user.name, "label": label, "id": id, "expires": expires.to_rfc3339()}),
    )?;
    Ok((token, id, expires))
}

/// A user an administrator creates (or replaces).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name, 1 to 64 characters.
    pub name: String,
    /// Password, at least 8 characters.
    pub password: String,
    /// Role.
    pub role: Role,
    /// A steward's site.
    #[serde(default)]
    pub site: Option<String>,
}

/// Creates or replaces a user and logs who did it. Blocking (Argon2, SQLite).
pub fn create_user(hub: &Hub, by: &User, b: NewUser) -> ApiResult<()> {
    if b.name.trim().is_empty() || b.name.len() > 64 {
        return Err(ApiError::bad_request("name: 1 to 64 characters"));
    }
    if b.password.chars().count() < 8 {
        return Err(ApiError::bad_request("password: at least 8 characters"));
    }
    if b.role == Role::Steward && b.site.is_none() {
        return Err(ApiError::bad_request(
            "site: a steward looks after one site; name it",
        ));
    }
    hub.db.put_user(
        &b.name,
        &hash_password(&b.password)?,
        b.role,
        b.site.as_deref(),
    )?;
    hub.audit_log(
        "user_created",
        serde_json::json!({"user": b.name, "role": b.role, "site": b.site, "by": by.name}),
    )
}

/// A project an administrator saves.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Members to add (existing users).
    #[serde(default)]
    pub members: Vec<String>,
}

/// Creates or renames a project, adds members, and logs it.
pub fn save_project(hub: &Hub, by: &User, b: NewProject) -> ApiResult<()> {
    let id = ProjectId::new(b.id).map_err(|e| ApiError::bad_request(format!("id: {e}")))?;
    for m in &b.members {
        if !hub.db.user_exists(m)? {
            return Err(ApiError::bad_request(format!("members: no user {m:?}")));
        }
    }
    hub.db.put_project(&id, &b.title, &b.members)?;
    hub.audit_log(
        "project_saved",
        serde_json::json!({"project": id, "title": b.title, "members": b.members, "by": by.name}),
    )
}
