//! Credentials: password hashing (Argon2id), random secrets, and the cookies the hub reads
//! and sets (through the `cookie` crate). Who a request comes from is [`crate::context`];
//! sign-in through an OpenID Connect issuer is [`oidc`].

pub mod jwt;
pub mod oidc;
pub mod oidc_config;

use crate::ApiError;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::http::{HeaderMap, header};
use cookie::{Cookie, SameSite};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kh_session";

/// Name of the cookie that carries a signed-out browser's CSRF token (double submit).
pub const CSRF_COOKIE: &str = "kh_csrf";

/// Name of the cookie that keeps a signed-out reader's language.
pub const LANG_COOKIE: &str = "kh_lang";

/// Hashes a password (Argon2id, random salt, PHC string). Slow on purpose: call it off the
/// async runtime ([`crate::Hub::blocking`]). Runs on the Argon2 workers ([`on_argon2_worker`]).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    on_argon2_worker(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(format!("password hashing: {e}")))
    })
}

/// Checks a password against its stored hash (slow on purpose, like [`hash_password`]).
pub fn password_ok(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    on_argon2_worker(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
}

/// Threads that run Argon2. Each computation takes 19 MiB; run on the blocking pool (up to
/// 512 threads) a flood of sign-ins took that much per request at once, and the allocator
/// kept it per thread afterwards (200 concurrent failed sign-ins: 2.4 GB). On two fixed
/// threads the rest wait their turn, and the memory stays at two computations.
const ARGON2_WORKERS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on one of the [`ARGON2_WORKERS`] threads and waits for its result (call it from
/// blocking code). Should the workers be gone, `f` runs on the calling thread.
fn on_argon2_worker<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex, OnceLock};
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..ARGON2_WORKERS {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
        }
        Mutex::new(tx)
    });
    let f = Arc::new(Mutex::new(Some(f)));
    let (done_tx, done_rx) = mpsc::sync_channel::<T>(1);
    let job: Job = {
        let f = f.clone();
        Box::new(move || {
            if let Some(f) = f.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = done_tx.send(f());
            }
        })
    };
    let sent = queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .is_ok();
    if sent && let Ok(v) = done_rx.recv() {
        return v;
    }
    // no worker took it (none could be started, or one panicked while running it)
    let f = f.lock().unwrap_or_else(|p| p.into_inner()).take();
    match f {
        Some(f) => f(),
        None => panic!("an Argon2 computation panicked"),
    }
}

/// A fresh random secret (tokens, session ids): 32 random bytes, hex, with a prefix.
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// The bearer token of a request, if it sends one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A cookie's value, if the request carries it (every `Cookie` header is read).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session cookie's value, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// A `Set-Cookie` value: path `/`, `SameSite=Lax`, lasting `max_age_seconds` (0 clears it).
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_seconds: i64,
    http_only: bool,
    secure: bool,
) -> String {
    Cookie::build((name, value))
        .path("/")
        .http_only(http_only)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_read_from_every_header_and_round_trip() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; kh_lang=de"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("kh_session=s3cr3t"),
        );
        assert_eq!(cookie(&h, "kh_lang").as_deref(), Some("de"));
        assert_eq!(session_cookie(&h).as_deref(), Some("s3cr3t"));
        assert_eq!(cookie(&h, "kh_session_x"), None);
        let set = set_cookie(SESSION_COOKIE, "v", 3600, true, true);
        let back = Cookie::parse(set.as_str()).unwrap();
        assert_eq!((back.name(), back.value()), (SESSION_COOKIE, "v"));
        assert_eq!(back.http_only(), Some(true));
        assert_eq!(back.secure(), Some(true));
        assert_eq!(back.same_site(), Some(SameSite::Lax));
        assert_eq!(back.max_age().map(|d| d.whole_seconds()), Some(3600));
    }
}
