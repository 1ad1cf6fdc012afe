//! Web security that every request passes through: the security headers on every response
//! ([`security_headers`]), the API's rule of JSON bodies only ([`json_only`]), the pages'
//! CSRF tokens before sign-in ([`csrf_cookie`]), the check of `next=` ([`safe_next`]) and a
//! comparison of secrets in constant time ([`same_secret`]).

use crate::Hub;
use crate::auth::{CSRF_COOKIE, cookie, new_secret, session_cookie, set_cookie};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

/// The Content-Security-Policy of every response: nothing from elsewhere, no script at all,
/// the pages' one inline style block allowed by its hash, forms post only to the hub, and no
/// framing.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let styles: String = kakehashi_web::pages::inline_styles()
            .iter()
            .map(|s| {
                let h = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
                format!(" 'sha256-{h}'")
            })
            .collect();
        format!(
            "default-src 'none'; script-src 'none'; style-src{styles}; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// Adds the security headers to every response: CSP, `X-Frame-Options: DENY`,
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
/// `Strict-Transport-Security` when the hub serves TLS.
pub(crate) async fn security_headers(
    State(hub): State<Arc<Hub>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy()),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if hub.cfg.tls.is_some() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// The client's address, when the transport knows it ([`crate::server`] records it).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Whether a request's `Content-Type` is JSON (`application/json`, parameters allowed).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The JSON API takes JSON only: a request to `/api/...` that is not a GET or HEAD must say
/// `Content-Type: application/json`, else 415 before any handler runs (so a cross-site form
/// post, which can only send form or text types, never reaches one). The one exception is
/// the REDCap-compatible API at `/api/redcap/` (the path, beside `/redcap/api/`):
/// REDCap clients send it form-encoded, and it is authenticated by the token in the body,
/// never by a cookie, so a cross-site form gains nothing there.
pub(crate) async fn json_only(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if path.starts_with("/api/") && path != "/api/redcap/" && !safe && !is_json(req.headers()) {
        return crate::ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "the API takes JSON only: send Content-Type: application/json".into(),
        }
        .into_response();
    }
    next.run(req).await
}

/// Gives a browser without a session a CSRF token for the forms it fills in before signing
/// in (sign-in, language): a random value in the `kh_csrf` cookie that each form also
/// carries (double submit). Signed in, the token is bound to the session instead
/// ([`crate::ui`]).
pub(crate) async fn csrf_cookie(
    State(hub): State<Arc<Hub>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let has = |h: &axum::http::HeaderMap| {
        session_cookie(h).is_some() || cookie(h, CSRF_COOKIE).is_some_and(|c| valid_token(&c))
    };
    if has(req.headers()) {
        return next.run(req).await;
    }
    let token = new_secret("");
    if let Ok(v) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={token}")) {
        req.headers_mut().append(header::COOKIE, v);
    }
    let mut res = next.run(req).await;
    let secure = hub
        .cfg
        .sessions
        .secure_cookie
        .unwrap_or(hub.cfg.tls.is_some());
    if let Ok(v) = HeaderValue::from_str(&set_cookie(CSRF_COOKIE, &token, 86_400, true, secure)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A pre-session token as [`csrf_cookie`] makes them: 64 hex digits.
pub(crate) fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Where to go after sign-in or a language change: `next` when it is a local path (`/x`),
/// else `/`. Refused: anything not starting with one `/` (absolute URLs, `//host`,
/// `/\host`), backslashes, whitespace and control characters (browsers drop tabs and line
/// breaks, so `/\t/host` is `//host`), and the same once more after percent-decoding.
pub fn safe_next(next: &str) -> &str {
    fn local(p: &str) -> bool {
        let b = p.as_bytes();
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && !p
                .chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    }
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    if local(next) && local(&decoded) {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/x", "/amr?task=1", "/feasibility/abc"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            "",
            "/\n/evil.example",
            // decoded as a whole, not only up to the first '&' (a form would split there)
            "/x?a=1&b=%09",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
