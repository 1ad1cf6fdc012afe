//! Steward sign-in: the Argon2 password check, sessions held in memory (a restart of the agent
//! signs the steward out), cookies and CSRF tokens.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie.
pub const SESSION_COOKIE: &str = "kh_console";
/// The pre-sign-in cookie (the login form's CSRF token, double-submitted).
pub const LOGIN_COOKIE: &str = "kh_console_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "kh_console_lang";

/// Hashes a password (Argon2id, random salt, PHC string).
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
}

/// Checks that a stored hash parses.
pub fn check_hash(hash: &str) -> Result<(), argon2::password_hash::phc::Error> {
    PasswordHash::new(hash).map(|_| ())
}

/// Checks a password against its hash.
pub fn password_ok(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A random secret: 32 bytes, hex.
pub fn secret() -> String {
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, path `/`.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A signed-in steward.
#[derive(Debug, Clone)]
pub struct Session {
    /// User name.
    pub user: String,
    /// The session's CSRF token.
    pub csrf: String,
    expires: Instant,
}

/// The open sessions, by session id.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// Opens a session; returns its id.
    pub fn open(&self, user: &str, hours: u64) -> String {
        let id = secret();
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        m.retain(|_, s| s.expires > now);
        m.insert(
            id.clone(),
            Session {
                user: user.to_owned(),
                csrf: secret(),
                expires: now + Duration::from_secs(hours * 3600),
            },
        );
        id
    }

    /// The session of a request's cookie, if open.
    pub fn of(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&id).filter(|s| s.expires > Instant::now()).cloned()
    }

    /// Ends the session of a request's cookie.
    pub fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secrets() {
        let h = hash("a long passphrase").unwrap();
        assert!(check_hash(&h).is_ok() && check_hash("plain").is_err());
        assert!(password_ok("a long passphrase", &h));
        assert!(!password_ok("a long passphrasE", &h));
        assert!(!password_ok("a long passphrase", "not a hash"));
        let (a, b) = (secret(), secret());
        assert_eq!(a.len(), 64);
        assert!(a != b && same(&a, &a.clone()) && !same(&a, &b) && !same(&a, &a[1..]));
        let c = set_cookie(SESSION_COOKIE, &a, 60, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
    }
}
