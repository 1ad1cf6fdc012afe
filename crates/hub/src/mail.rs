//! Sending e-mail through the configured mail server (`[smtp]`), with lettre: STARTTLS that
//! must succeed, or TLS from the first byte, or (for a relay on the same machine) none; `AUTH`
//! when a user is set; the system's roots, or only the CA of `ca_file`.

use crate::config::{SmtpConfig, SmtpSecurity};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Why a message could not be sent, or the mail settings are not usable.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting is not usable.
    #[error("smtp.{field}: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A recipient's address does not read.
    #[error("the address {address:?} of {user} does not read: {message}")]
    Address {
        /// The user.
        user: String,
        /// The address.
        address: String,
        /// What is wrong.
        message: String,
    },
    /// The message could not be built.
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The server refused or could not be reached.
    #[error("the mail server: {0}")]
    Send(String),
}

/// A connection pool to the mail server and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The most one message may take, end to end: lettre's own timeout does not cover every
    /// wait (a server that never answers an `AUTH` held a cycle for ten minutes).
    limit: Duration,
}

impl Mailer {
    /// The mailer for `cfg`; nothing is contacted until the first message.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|e| MailError::Config {
            field: "from",
            message: format!("{:?} is not an address: {e}", cfg.from),
        })?;
        let mut tls = TlsParameters::builder(cfg.host.clone());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| MailError::Config {
                field: "ca_file",
                message: format!("{}: {e}", path.display()),
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| MailError::Config {
                field: "ca_file",
                message: format!("{}: not a PEM certificate: {e}", path.display()),
            })?;
            tls = tls
                .certificate_store(CertificateStore::None)
                .add_root_certificate(cert);
        }
        let tls = || {
            tls.clone().build_rustls().map_err(|e| MailError::Config {
                field: "host",
                message: e.to_string(),
            })
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds)))
            .tls(match cfg.security {
                SmtpSecurity::Starttls => Tls::Required(tls()?),
                SmtpSecurity::Tls => Tls::Wrapper(tls()?),
                SmtpSecurity::None => Tls::None,
            });
        if let Some(user) = &cfg.user {
            b = b.credentials(Credentials::new(
                user.clone(),
                cfg.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Mailer {
            transport: b.build(),
            from,
            limit: Duration::from_secs(cfg.timeout_seconds.max(1)),
        })
    }

    /// Sends one plain-text message to `user` at `address`.
    pub async fn send(
        &self,
        user: &str,
        address: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), MailError> {
        let to: Mailbox = address.parse().map_err(|e| MailError::Address {
            user: user.to_owned(),
            address: address.to_owned(),
            message: format!("{e}"),
        })?;
        let m = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Build(e.to_string()))?;
        match tokio::time::timeout(self.limit, self.transport.send(m)).await {
            Ok(r) => r.map(|_| ()).map_err(|e| MailError::Send(e.to_string())),
            Err(_) => Err(MailError::Send(format!(
                "no answer within {} s",
                self.limit.as_secs()
            ))),
        }
    }
}

/// Whether `address` reads as one e-mail address (what the hub accepts as a user's address).
pub fn valid_address(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}
