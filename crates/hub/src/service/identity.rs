//! Identity management: signing out everywhere, a user's tokens, the administrator's list of
//! users with revocation and disable/enable, and the two halves of an OpenID Connect sign-in
//! ([`oidc_begin`], [`oidc_finish`]). Every change is written to the audit log.

use super::ApiResult;
use crate::auth::oidc::{OidcError, Pending, random_value};
use crate::context::idle_since;
use crate::db::{TokenRow, User, UserRow};
use crate::{ApiError, Hub};
use axum::http::StatusCode;
use chrono::{Duration, Utc};

/// How long a started OpenID sign-in waits for the browser to come back.
pub const PENDING_MINUTES: i64 = 10;

/// Ends every session of `user` (their API tokens stay); returns how many ended. Blocking.
pub fn sign_out_everywhere(hub: &Hub, user: &User) -> ApiResult<u64> {
    let n = hub.db.delete_sessions_of(&user.name)?;
    hub.audit_log(
        "sessions_ended",
        serde_json::json!({"user": user.name, "sessions": n, "by": user.name}),
    )?;
    Ok(n)
}

/// The live API tokens of `user`. Blocking.
pub fn tokens(hub: &Hub, user: &User) -> ApiResult<Vec<TokenRow>> {
    Ok(hub.db.tokens_of(&user.name)?)
}

/// Revokes one of `user`'s own tokens by id (404 when there is none). Blocking.
pub fn revoke_token(hub: &Hub, user: &User, id: &str) -> ApiResult<()> {
    if !hub.db.delete_token(&user.name, id)? {
        return Err(ApiError::not_found(format!("id: no token {id:?} of yours")));
    }
    hub.audit_log(
        "token_revoked",
        serde_json::json!({"user": user.name, "id": id, "by": user.name}),
    )
}

/// Every user with role, source, state, last sign-in and live sessions and tokens. Blocking.
pub fn users(hub: &Hub) -> ApiResult<Vec<UserRow>> {
    Ok(hub.db.user_rows(idle_since(hub))?)
}

/// What an administrator does to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// End every session and revoke every API token.
    Revoke,
    /// Refuse every sign-in, session and token until enabled again.
    Disable,
    /// Undo [`UserAction::Disable`].
    Enable,
}

impl UserAction {
    /// The action a URL names (`revoke`, `disable`, `enable`).
    pub fn parse(s: &str) -> Option<UserAction> {
        match s {
            "revoke" => Some(UserAction::Revoke),
            "disable" => Some(UserAction::Disable),
            "enable" => Some(UserAction::Enable),
            _ => None,
        }
    }
}

/// An administrator's action on a user, logged (404 for an unknown user; an administrator
/// cannot disable themself, so the hub keeps one who can undo it). Blocking.
pub fn act_on_user(hub: &Hub, by: &User, name: &str, action: UserAction) -> ApiResult<()> {
    if !hub.db.user_exists(name)? {
        return Err(ApiError::not_found(format!("no user {name:?}")));
    }
    match action {
        UserAction::Revoke => {
            let sessions = hub.db.delete_sessions_of(name)?;
            let tokens = hub.db.delete_tokens_of(name)?;
            hub.audit_log(
                "user_revoked",
                serde_json::json!({"user": name, "sessions": sessions, "tokens": tokens, "by": by.name}),
            )
        }
        UserAction::Disable | UserAction::Enable => {
            let disable = action == UserAction::Disable;
            if disable && name == by.name {
                return Err(ApiError::conflict("you cannot disable your own account"));
            }
            hub.db.set_disabled(name, disable)?;
            hub.audit_log(
                if disable {
                    "user_disabled"
                } else {
                    "user_enabled"
                },
                serde_json::json!({"user": name, "by": by.name}),
            )
        }
    }
}

/// Starts a sign-in with an issuer: keeps state, nonce and PKCE verifier (once, for
/// [`PENDING_MINUTES`]) and returns the `state` and the URL to send the browser to.
pub async fn oidc_begin(
    hub: &std::sync::Arc<Hub>,
    issuer: &str,
    next: &str,
) -> ApiResult<(String, String)> {
    let iss = hub
        .issuer(issuer)
        .ok_or_else(|| ApiError::not_found(format!("no sign-in issuer {issuer:?}")))?;
    let (state, nonce, verifier) = (random_value(), random_value(), random_value());
    let url = iss
        .authorize_url(&state, &nonce, &verifier)
        .await
        .map_err(oidc_failed)?;
    let pending = Pending {
        issuer: issuer.to_owned(),
        nonce,
        verifier,
        next: crate::websec::safe_next(next).to_owned(),
    };
    let st = state.clone();
    hub.blocking(move |h| {
        Ok(h.db.put_pending(
            &st,
            &pending,
            Utc::now() + Duration::minutes(PENDING_MINUTES),
        )?)
    })
    .await?;
    Ok((state, url))
}

fn oidc_failed(e: OidcError) -> ApiError {
    tracing::warn!(error = %e, "OpenID Connect sign-in failed");
    ApiError {
        status: StatusCode::BAD_GATEWAY,
        code: "oidc_failed",
        message: e.to_string(),
    }
}

/// Finishes a sign-in: takes the pending `state` (once; a replayed, unknown or expired one is
/// refused with 400), exchanges the code, checks the ID token, maps the role (none: 403),
/// finds the user linked to the issuer and subject or creates them, refuses a disabled user,
/// updates the role and starts a session. Returns the user, the session's secret and where
/// to go. Failures are logged to the audit log.
pub async fn oidc_finish(
    hub: &std::sync::Arc<Hub>,
    issuer: &str,
    state: &str,
    code: &str,
    addr: Option<std::net::IpAddr>,
) -> ApiResult<(User, String, String)> {
    let st = state.to_owned();
    let pending = hub.blocking(move |h| Ok(h.db.take_pending(&st)?)).await?;
    let failed = |reason: String, status: StatusCode, code: &'static str| {
        let hub = hub.clone();
        let issuer = issuer.to_owned();
        async move {
            let msg = reason.clone();
            hub.blocking(move |h| {
                h.audit_log(
                    "login_failed",
                    serde_json::json!({"source": issuer, "reason": reason, "address": addr.map(|a| a.to_string())}),
                )
            })
            .await?;
            Err::<(User, String, String), _>(ApiError {
                status,
                code,
                message: msg,
            })
        }
    };
    let Some(p) = pending.filter(|p| p.issuer == issuer) else {
        return failed(
            "state: unknown, used already or expired".into(),
            StatusCode::BAD_REQUEST,
            "oidc_state",
        )
        .await;
    };
    let iss = hub
        .issuer(issuer)
        .ok_or_else(|| ApiError::not_found(format!("no sign-in issuer {issuer:?}")))?;
    let claims = match iss.exchange(code, &p.verifier, &p.nonce).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "OpenID Connect sign-in refused");
            return failed(e.to_string(), StatusCode::BAD_GATEWAY, "oidc_failed").await;
        }
    };
    let (role, site) = match iss.role_of(&claims) {
        Ok(r) => r,
        Err(why) => {
            return failed(
                format!("{}: {why}", claims.sub),
                StatusCode::FORBIDDEN,
                "oidc_no_role",
            )
            .await;
        }
    };
    let issuer_id = issuer.to_owned();
    let out = hub
        .blocking(move |h| {
            let linked = h.db.user_by_subject(&issuer_id, &claims.sub)?;
            let user = match linked {
                Some((_, true)) => return Ok(Err(claims.sub)),
                Some((mut u, false)) => {
                    h.db.set_role(&u.name, role, site.as_deref())?;
                    u.role = role;
                    u.site = site;
                    u
                }
                None => {
                    let base = claims
                        .preferred_username
                        .clone()
                        .filter(|n| !n.is_empty() && n.len() <= 40)
                        .unwrap_or_else(|| claims.sub.chars().take(40).collect());
                    let first = format!("{base}@{issuer_id}");
                    let candidates: Vec<String> = std::iter::once(first.clone())
                        .chain((2..10).map(|i| format!("{base}-{i}@{issuer_id}")))
                        .collect();
                    let name = h.db.create_linked_user(
                        &candidates,
                        &issuer_id,
                        &claims.sub,
                        role,
                        site.as_deref(),
                    )?;
                    h.audit_log(
                        "user_created",
                        serde_json::json!({"user": name, "role": role, "site": site, "by": format!("oidc:{issuer_id}"), "subject": claims.sub}),
                    )?;
                    User {
                        name,
                        role,
                        site,
                        lang: "en".into(),
                    }
                }
            };
            let secret = super::users::start_session(h, &user, &issuer_id, addr)?;
            Ok(Ok((user, secret)))
        })
        .await?;
    match out {
        Ok((user, secret)) => Ok((user, secret, p.next)),
        Err(sub) => {
            failed(
                format!("{sub}: the account is disabled"),
                StatusCode::FORBIDDEN,
                "disabled",
            )
            .await
        }
    }
}
