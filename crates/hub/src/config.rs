//! Hub configuration: TOML with environment overrides and sane defaults.

use kakehashi_federation::HubRules;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The hub's settings (`hub.toml`). Every field has a default; `KAKEHASHI_HUB_LISTEN`,
/// `KAKEHASHI_HUB_DATA_DIR`, `KAKEHASHI_HUB_PUBLIC_URL` and `KAKEHASHI_HUB_DATABASE_URL`
/// override the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Where the hub keeps its database and audit log. Default `hub-data`.
    pub data_dir: PathBuf,
    /// The hub's database when it is not SQLite in `data_dir`: `postgres://user:password@host:port/db`,
    /// which several hub replicas may share. `KAKEHASHI_HUB_DATABASE_URL` overrides it.
    pub database_url: Option<DatabaseUrl>,
    /// The URL users and sites reach the hub at (shown in messages). Default from `listen`.
    pub public_url: Option<String>,
    /// TLS certificate and key (PEM); plain HTTP when absent (e.g. behind a reverse proxy).
    pub tls: Option<TlsConfig>,
    /// Rules on pooled numbers.
    pub rules: HubRules,
    /// Task and polling timing.
    pub tasks: TaskConfig,
    /// Browser sessions.
    pub sessions: SessionConfig,
    /// API tokens.
    pub tokens: TokenConfig,
    /// OpenID Connect issuers users may sign in with (`[[oidc]]`), next to local accounts.
    pub oidc: Vec<crate::auth::oidc::OidcConfig>,
    /// Transport limits and timeouts.
    pub limits: LimitsConfig,
    /// Resumable uploads of large answers (`[uploads]`).
    pub uploads: crate::service::uploads::UploadConfig,
    /// The bearer token a metrics scraper sends to read `/metrics`; without one, `/metrics`
    /// is off (404). `KAKEHASHI_HUB_METRICS_TOKEN` overrides it.
    pub metrics_token: Option<String>,
    /// The mail server notifications go out through (`[smtp]`); without it the hub sends no
    /// e-mail and stores no reminders.
    pub smtp: Option<SmtpConfig>,
    /// When reminders are computed and digests sent (`[notify]`).
    pub notify: NotifyConfig,
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded by `STARTTLS`, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test sink.
    None,
}

/// The mail server (`[smtp]`). `KAKEHASHI_HUB_SMTP_PASSWORD` overrides `password`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name (checked against its certificate).
    pub host: String,
    /// Port. Default 587.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default = "default_smtp_security")]
    pub security: SmtpSecurity,
    /// User name for `AUTH`, if the server wants one.
    pub user: Option<String>,
    /// Password for `AUTH`.
    pub password: Option<String>,
    /// The sender, `Name <address>` or `address`.
    pub from: String,
    /// A CA certificate (PEM) to trust instead of the system's roots, for a relay with a
    /// private certificate.
    pub ca_file: Option<PathBuf>,
    /// Seconds a connection or command may take. Default 30.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_security() -> SmtpSecurity {
    SmtpSecurity::Starttls
}

fn default_smtp_timeout() -> u64 {
    30
}

/// Notification timing (`[notify]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Seconds between two cycles (compute the day's reminders, deliver what is due).
    /// Default 300.
    pub interval_seconds: u64,
    /// The hour (UTC, 0–23) from which the day's digest goes out. Default 6.
    pub digest_hour: u32,
    /// Delivery attempts before a message is given up. Default 8.
    pub max_attempts: i64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            interval_seconds: 300,
            digest_hour: 6,
            max_attempts: 8,
        }
    }
}

/// A database URL; shown (`Debug`) without its password.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match crate::db::PgUrl::parse(&self.0) {
            Ok(u) => write!(f, "{u}"),
            Err(_) => write!(f, "(a database URL that does not read)"),
        }
    }
}

/// Transport limits and timeouts (`[limits]`): what one client may hold of the hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most connections served at once; more wait in the listen backlog. Default 1024.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, and the most a kept-alive
    /// connection may sit idle. Default 10.
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to finish the TLS handshake. Default 10.
    pub tls_handshake_timeout_seconds: u64,
    /// Seconds the body of a request may pause between chunks. Default 30.
    pub body_read_timeout_seconds: u64,
    /// Largest request head (request line and headers), bytes; larger gets 431. Default 16384.
    pub max_header_bytes: usize,
    /// Largest request body, bytes; larger gets 413. Default 16 MiB.
    pub max_body_bytes: usize,
    /// Seconds requests in flight get to finish after the shutdown signal. Default 10.
    pub shutdown_grace_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 1024,
            header_read_timeout_seconds: 10,
            tls_handshake_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
            shutdown_grace_seconds: 10,
        }
    }
}

/// TLS files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// Task timing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskConfig {
    /// Deadline of a task when the request names none, in seconds. Default 30.
    pub default_deadline_seconds: u64,
    /// Longest allowed deadline, in seconds. Default 86400.
    pub max_deadline_seconds: u64,
    /// Longest a site's poll is held open, in seconds. Default 25.
    pub max_poll_seconds: u64,
    /// A site not seen for this long is offline, in seconds. Default 60.
    pub offline_after_seconds: u64,
}

/// Session settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Absolute session lifetime in hours, however active. Default 12.
    pub hours: u64,
    /// A session unused for this many minutes ends. Default 120.
    pub idle_minutes: u64,
    /// Mark the cookie `Secure` (on when TLS is configured, or when set).
    pub secure_cookie: Option<bool>,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("hub-data"),
            database_url: None,
            public_url: None,
            tls: None,
            rules: HubRules::default(),
            tasks: TaskConfig::default(),
            sessions: SessionConfig::default(),
            tokens: TokenConfig::default(),
            oidc: Vec::new(),
            limits: LimitsConfig::default(),
            uploads: Default::default(),
            metrics_token: None,
            smtp: None,
            notify: NotifyConfig::default(),
        }
    }
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            default_deadline_seconds: 30,
            max_deadline_seconds: 86_400,
            max_poll_seconds: 25,
            offline_after_seconds: 60,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hours: 12,
            idle_minutes: 120,
            secure_cookie: None,
        }
    }
}

/// API token settings (`[tokens]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Days a token lasts when its creator names none. Default 90.
    pub default_days: u64,
    /// The longest a token may be made to last, in days. Default 365.
    pub max_days: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            default_days: 90,
            max_days: 365,
        }
    }
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and field.
        message: String,
    },
    /// An `[[oidc]]` entry is not valid.
    #[error("{path}: {error}")]
    Oidc {
        /// The file.
        path: PathBuf,
        /// The entry and field, and what is wrong.
        error: crate::auth::oidc::OidcConfigError,
    },
    /// An environment override is not valid.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl HubConfig {
    /// Reads `path` (defaults if `None`), then applies environment overrides.
    pub fn load(path: Option<&Path>) -> Result<HubConfig, ConfigError> {
        let mut c = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.to_owned(),
                    message: e.to_string(),
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => HubConfig::default(),
        };
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_LISTEN") {
            c.listen = v.parse().map_err(|e| ConfigError::Env {
                var: "KAKEHASHI_HUB_LISTEN",
                message: format!("{v:?}: {e}"),
            })?;
        }
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_DATA_DIR") {
            c.data_dir = PathBuf::from(v);
        }
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_DATABASE_URL") {
            c.database_url = Some(DatabaseUrl(v)).filter(|u| !u.0.trim().is_empty());
        }
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_PUBLIC_URL") {
            c.public_url = Some(v);
        }
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_METRICS_TOKEN") {
            c.metrics_token = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Ok(v) = std::env::var("KAKEHASHI_HUB_SMTP_PASSWORD")
            && let Some(smtp) = &mut c.smtp
        {
            smtp.password = Some(v).filter(|v| !v.is_empty());
        }
        if c.notify.digest_hour > 23 {
            return Err(ConfigError::Parse {
                path: path.map(Path::to_owned).unwrap_or_default(),
                message: format!(
                    "notify.digest_hour: {} is not an hour of the day (0-23)",
                    c.notify.digest_hour
                ),
            });
        }
        for o in &mut c.oidc {
            o.apply_env().map_err(|e| ConfigError::Env {
                var: "KAKEHASHI_HUB_OIDC_<ID>_CLIENT_SECRET",
                message: e.to_string(),
            })?;
        }
        if let Some(p) = path {
            crate::auth::oidc::check_configs(&c.oidc).map_err(|error| ConfigError::Oidc {
                path: p.to_owned(),
                error,
            })?;
        }
        Ok(c)
    }

    /// The URL to show for this hub.
    pub fn url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| {
            format!(
                "{}://{}",
                if self.tls.is_some() { "https" } else { "http" },
                self.listen
            )
        })
    }
}
