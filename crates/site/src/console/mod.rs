//! The steward console: a small web server the site agent runs on the site's own machine
//! (loopback by default), where the site's data steward signs in and sees the incoming tasks,
//! the policy in force, the ε ledger and every answer exactly as it left the site, and, in
//! manual-approval mode, approves or refuses each task.
//!
//! Configured in `site.toml`:
//!
//! ```toml
//! [console]
//! listen = "127.0.0.1:7610"          # a loopback address unless allow_non_loopback = true
//! password_hash_file = "steward.hash" # `kakehashi site --hash-password` writes one
//! approval = "manual"                 # or "auto" (default)
//! ```
//!
//! Sign-in checks an Argon2 hash; the session cookie is `HttpOnly` and `SameSite=Strict`, and
//! every POST carries the session's CSRF token. Pages are rendered by
//! [`kakehashi_web::console`] in English, German or Japanese.

mod auth;
mod pages;

use crate::agent::Agent;
use crate::steward::Approval;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The `[console]` table of `site.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Address and port to serve on. Default `127.0.0.1:7610`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Allow an address other than loopback (e.g. the site's internal network; put TLS in
    /// front). Default false: a non-loopback `listen` is refused.
    #[serde(default)]
    pub allow_non_loopback: bool,
    /// The steward's user name. Default `steward`.
    #[serde(default = "default_user")]
    pub user: String,
    /// The Argon2 hash (PHC string) of the steward's password.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// A file holding the hash instead.
    #[serde(default)]
    pub password_hash_file: Option<PathBuf>,
    /// `auto` (default): admitted tasks are answered at once; `manual`: each task waits in
    /// the console until the steward approves or refuses it.
    #[serde(default)]
    pub approval: Approval,
    /// Hours a sign-in lasts. Default 8.
    #[serde(default = "default_hours")]
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (when the console is served behind TLS).
    #[serde(default)]
    pub secure_cookie: bool,
}

fn default_listen() -> String {
    "127.0.0.1:7610".into()
}
fn default_user() -> String {
    "steward".into()
}
fn default_hours() -> u64 {
    8
}

/// The console cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// `listen` is not an address and port.
    #[error(
        "[console] listen = {listen:?}: {message} (write an address and port, e.g. \"127.0.0.1:7610\")"
    )]
    ListenSyntax {
        /// The setting's value.
        listen: String,
        /// The parser's message.
        message: String,
    },
    /// `listen` is not a loopback address and `allow_non_loopback` is not set.
    #[error(
        "[console] listen = {listen:?} is not a loopback address: the steward console serves the site's own machine; set allow_non_loopback = true to serve it on the site's network (behind TLS)"
    )]
    NotLoopback {
        /// The setting's value.
        listen: String,
    },
    /// Neither `password_hash` nor `password_hash_file` is set.
    #[error(
        "[console] no steward password: set password_hash or password_hash_file (make one with `kakehashi site --hash-password`)"
    )]
    NoPassword,
    /// `password_hash_file` cannot be read.
    #[error("[console] password_hash_file {}: {error}", path.display())]
    PasswordFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The password hash is not an Argon2 PHC string.
    #[error("[console] password_hash is not an Argon2 PHC string: {message}")]
    PasswordHash {
        /// The parser's message.
        message: String,
    },
    /// `user` is empty or longer than 64 characters.
    #[error("[console] user: 1 to 64 characters")]
    User,
    /// `session_hours` is 0.
    #[error("[console] session_hours must be at least 1")]
    SessionHours,
    /// A password could not be hashed.
    #[error("[console] hashing the password: {message}")]
    Hash {
        /// The hasher's message.
        message: String,
    },
    /// The address could not be bound.
    #[error("[console] listen {addr}: {message}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system's message.
        message: String,
    },
}

impl ConsoleConfig {
    /// The address to serve on, refusing a non-loopback one unless allowed.
    pub fn address(&self) -> Result<SocketAddr, ConsoleError> {
        let addr: SocketAddr = self.listen.parse().map_err(|e: std::net::AddrParseError| {
            ConsoleError::ListenSyntax {
                listen: self.listen.clone(),
                message: e.to_string(),
            }
        })?;
        if !addr.ip().is_loopback() && !self.allow_non_loopback {
            return Err(ConsoleError::NotLoopback {
                listen: self.listen.clone(),
            });
        }
        Ok(addr)
    }

    /// The steward's password hash, checked to be an Argon2 PHC string.
    pub fn password_hash(&self) -> Result<String, ConsoleError> {
        let hash = match (&self.password_hash, &self.password_hash_file) {
            (Some(h), _) => h.trim().to_owned(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|error| ConsoleError::PasswordFile {
                    path: f.clone(),
                    error,
                })?,
            (None, None) => return Err(ConsoleError::NoPassword),
        };
        auth::check_hash(&hash).map_err(|e| ConsoleError::PasswordHash {
            message: e.to_string(),
        })?;
        Ok(hash)
    }

    /// Checks every setting (address, password hash, user name).
    pub fn validate(&self) -> Result<(), ConsoleError> {
        self.address()?;
        self.password_hash()?;
        if self.user.trim().is_empty() || self.user.len() > 64 {
            return Err(ConsoleError::User);
        }
        if self.session_hours == 0 {
            return Err(ConsoleError::SessionHours);
        }
        Ok(())
    }
}

/// Hashes a steward password for `password_hash` (Argon2id, random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    auth::hash(password).map_err(|e| ConsoleError::Hash {
        message: e.to_string(),
    })
}

/// A bound console, ready to serve.
pub struct Console {
    listener: tokio::net::TcpListener,
    state: Arc<pages::ConsoleState>,
}

impl Console {
    /// Checks the agent's `[console]` settings and binds the address; `None` when the site
    /// has no console configured.
    pub async fn bind(agent: Arc<Agent>) -> Result<Option<Console>, ConsoleError> {
        let Some(cfg) = agent.config().console.clone() else {
            return Ok(None);
        };
        cfg.validate()?;
        let addr = cfg.address()?;
        let hash = cfg.password_hash()?;
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| ConsoleError::Bind {
                    addr,
                    message: e.to_string(),
                })?;
        Ok(Some(Console {
            listener,
            state: Arc::new(pages::ConsoleState::new(agent, cfg, hash)),
        }))
    }

    /// The bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` turns true.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let addr = self.local_addr();
        tracing::info!(?addr, "steward console serving");
        let app = pages::router(self.state);
        let stop = async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(self.listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "steward console stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listen: &str) -> ConsoleConfig {
        toml::from_str(&format!("listen = {listen:?}\npassword_hash = \"x\"")).unwrap()
    }

    #[test]
    fn only_loopback_unless_allowed() {
        assert!(cfg("127.0.0.1:7610").address().is_ok());
        assert!(cfg("[::1]:7610").address().is_ok());
        let e = cfg("0.0.0.0:7610").address().unwrap_err().to_string();
        assert!(
            e.contains("not a loopback address") && e.contains("allow_non_loopback"),
            "{e}"
        );
        let mut c = cfg("10.1.2.3:7610");
        assert!(c.address().is_err());
        c.allow_non_loopback = true;
        assert!(c.address().is_ok());
        let e = cfg("localhost").address().unwrap_err().to_string();
        assert!(e.contains("listen = \"localhost\""), "{e}");
    }

    #[test]
    fn the_password_must_be_an_argon2_hash() {
        let e = cfg("127.0.0.1:1").password_hash().unwrap_err().to_string();
        assert!(e.contains("not an Argon2 PHC string"), "{e}");
        let mut c = cfg("127.0.0.1:1");
        c.password_hash = Some(hash_password("correct horse").unwrap());
        assert!(c.validate().is_ok());
        c.password_hash = None;
        let e = c.password_hash().unwrap_err().to_string();
        assert!(e.contains("--hash-password"), "{e}");
        let unknown: Result<ConsoleConfig, _> =
            toml::from_str("listen = \"127.0.0.1:1\"\nlisten_all = true");
        assert!(unknown.unwrap_err().to_string().contains("listen_all"));
    }
}
