//! The agent's settings (`site.toml`) and its startup errors.

use kakehashi_disclosure::Policy;
use kakehashi_model::SiteId;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The agent's settings (`site.toml`). `KAKEHASHI_SITE_HUB`, `KAKEHASHI_SITE_TOKEN` and
/// `KAKEHASHI_SITE_DIR` override the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The site's id, as registered at the hub.
    pub site_id: SiteId,
    /// The hub's URL, e.g. `https://hub.example.org`.
    pub hub: String,
    /// The site token from registration (or use `token_file`).
    #[serde(default)]
    pub token: Option<String>,
    /// A file holding the site token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The site's data directory (its store).
    pub site_dir: PathBuf,
    /// Where the agent keeps its key, gate ledger and audit log. Default `<site_dir>/agent`.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// The network's CA certificate(s), PEM: the only roots trusted for the hub (they replace
    /// the system's roots).
    #[serde(default)]
    pub hub_ca: Option<PathBuf>,
    /// The SHA-256 of the hub's certificate (DER, 64 hex digits): the agent talks only to a hub
    /// presenting exactly this certificate. One of `hub_ca` and this, or neither.
    #[serde(default)]
    pub hub_cert_sha256: Option<String>,
    /// Allow a plain `http://` hub (a demo on loopback); without it the agent refuses one.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Seconds the hub may hold a poll open. Default 25.
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// The first pause after a failed call to the hub, milliseconds; each further failure
    /// doubles the ceiling of the next pause up to `max_backoff_seconds`. Default 500.
    #[serde(default = "default_backoff_base")]
    pub backoff_base_millis: u64,
    /// Longest pause between attempts, seconds. Default 30.
    #[serde(default = "default_backoff")]
    pub max_backoff_seconds: u64,
    /// Answers larger than this (bytes, as signed JSON) go up as a resumable upload in parts;
    /// smaller ones in one post. Default 1 MiB.
    #[serde(default = "default_upload_threshold")]
    pub upload_threshold_bytes: u64,
    /// The size of one part of an upload, bytes. Default 256 KiB.
    #[serde(default = "default_upload_chunk")]
    pub upload_chunk_bytes: u64,
    /// The disclosure policy.
    #[serde(default)]
    pub disclosure: Policy,
    /// The steward console and the approval mode (`[console]`); none: no console, automatic
    /// approval.
    #[serde(default)]
    pub console: Option<crate::console::ConsoleConfig>,
    /// Pre-fill of study forms from this site's data (`[prefill]`); off unless a study is
    /// listed.
    #[serde(default)]
    pub prefill: crate::prefill::PrefillPolicy,
}

fn default_poll() -> u64 {
    25
}
fn default_backoff_base() -> u64 {
    500
}
fn default_backoff() -> u64 {
    30
}
fn default_upload_threshold() -> u64 {
    1024 * 1024
}
fn default_upload_chunk() -> u64 {
    256 * 1024
}

/// An agent failure (at startup; once running, the agent retries instead of failing).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The configuration file cannot be read.
    #[error("{}: {error}", path.display())]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The configuration file is not the agent's TOML (the message gives line and column).
    #[error("{}: {error}", path.display())]
    ConfigSyntax {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        error: Box<toml::de::Error>,
    },
    /// A setting cannot be used.
    #[error("{field}: {problem}")]
    Setting {
        /// The setting's name in `site.toml`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A file a setting names cannot be used.
    #[error("{field} {}: {problem}", path.display())]
    SettingFile {
        /// The setting's name in `site.toml`.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The HTTP client or its TLS configuration cannot be built.
    #[error("{part}: {message}")]
    Client {
        /// `HTTP client` or `TLS`.
        part: &'static str,
        /// The library's message.
        message: String,
    },
    /// The gate could not be opened.
    #[error(transparent)]
    Gate(#[from] crate::ledger::OpenError),
    /// The audit log is broken or unwritable.
    #[error(transparent)]
    Audit(#[from] kakehashi_audit::AuditError),
    /// The key could not be loaded.
    #[error(transparent)]
    Key(#[from] kakehashi_audit::key::KeyError),
    /// The steward's records could not be opened.
    #[error(transparent)]
    Steward(#[from] crate::steward::StewardError),
}

impl AgentConfig {
    /// Reads a `site.toml` and applies environment overrides.
    pub fn load(path: &Path) -> Result<AgentConfig, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|error| AgentError::ConfigRead {
            path: path.to_path_buf(),
            error,
        })?;
        let mut c: AgentConfig =
            toml::from_str(&text).map_err(|error| AgentError::ConfigSyntax {
                path: path.to_path_buf(),
                error: Box::new(error),
            })?;
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_HUB") {
            c.hub = v;
        }
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_TOKEN") {
            c.token = Some(v);
        }
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_DIR") {
            c.site_dir = PathBuf::from(v);
        }
        c.check()?;
        Ok(c)
    }

    /// Refuses settings the agent cannot work with, naming the field.
    pub fn check(&self) -> Result<(), AgentError> {
        if self.backoff_base_millis == 0 {
            return Err(AgentError::Setting {
                field: "backoff_base_millis",
                problem: "0 would retry a failing hub without pause; give at least 1 (default 500)"
                    .into(),
            });
        }
        if self.upload_chunk_bytes == 0 {
            return Err(AgentError::Setting {
                field: "upload_chunk_bytes",
                problem: "0; give the size of one part of an upload (default 262144)".into(),
            });
        }
        Ok(())
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.site_dir.join("agent"))
    }

    /// The first pause and the longest pause between attempts to reach the hub.
    pub fn backoff(&self) -> (Duration, Duration) {
        let base = Duration::from_millis(self.backoff_base_millis.max(1));
        let cap = Duration::from_secs(self.max_backoff_seconds).max(base);
        (base, cap)
    }

    pub(super) fn token(&self) -> Result<String, AgentError> {
        match (&self.token, &self.token_file) {
            (Some(t), _) => Ok(t.trim().to_owned()),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| AgentError::SettingFile {
                    field: "token_file",
                    path: f.clone(),
                    problem: e.to_string(),
                }),
            (None, None) => Err(AgentError::Setting {
                field: "token",
                problem: "no site token; set `token` or `token_file` in the site configuration, or KAKEHASHI_SITE_TOKEN".into(),
            }),
        }
    }
}
