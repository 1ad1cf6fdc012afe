//! The hub's one error type for requests, [`ApiError`]: a JSON body on API routes; the web UI's
//! layer ([`crate::ui`]) renders the same error as an HTML page in the reader's language.

use crate::db::DbError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_audit::AuditError;

/// A hub failure at startup.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The hub's signing key (`hub.key`).
    #[error(transparent)]
    Key(#[from] kakehashi_audit::key::KeyError),
    /// The `[[oidc]]` issuers are not valid.
    #[error(transparent)]
    OidcConfig(#[from] crate::auth::oidc::OidcConfigError),
    /// An OpenID Connect issuer could not be set up.
    #[error(transparent)]
    Oidc(#[from] crate::auth::oidc::OidcError),
    /// The TLS certificate or key file cannot be used.
    #[error("{file}: {reason}")]
    TlsFile {
        /// The file.
        file: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// TLS cannot be set up with this certificate and key.
    #[error("TLS certificate: {reason}")]
    Tls {
        /// rustls' message.
        reason: String,
    },
    /// The mail settings (`[smtp]`) cannot be used.
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
}

/// An API error: an HTTP status and a JSON body `{"error": code, "message": text}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Status.
    pub status: StatusCode,
    /// Short code.
    pub code: &'static str,
    /// What went wrong, for the user.
    pub message: String,
}

impl ApiError {
    /// 400 with a message naming the field.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "sign in or send a valid token (Authorization: Bearer ...)".into(),
        }
    }
    /// 401 for a failed sign-in (the same answer whether the name or the password is wrong).
    pub fn bad_credentials() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "wrong user name or password".into(),
        }
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: message.into(),
        }
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        tracing::error!(%message, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response();
        // the UI's layer finds the error here and answers with a page instead
        res.extensions_mut().insert(self);
        res
    }
}
