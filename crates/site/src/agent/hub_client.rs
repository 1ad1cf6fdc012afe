//! The agent's HTTP client for the hub: HTTPS only (plain `http://` only with
//! `allow_insecure = true`, for a demo on loopback), and, when configured, trusting only the
//! network's CA (`hub_ca`, which replaces the system's roots) or exactly the hub's certificate
//! (`hub_cert_sha256`).

use super::{AgentConfig, AgentError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Builds the client the agent talks to the hub with, or says why the configuration is not
/// safe to start with.
pub fn hub_client(cfg: &AgentConfig) -> Result<reqwest::Client, AgentError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = reqwest::Url::parse(&cfg.hub).map_err(|e| AgentError::Setting {
        field: "hub",
        problem: format!("{:?}: {e}", cfg.hub),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if cfg.allow_insecure => {
            tracing::warn!(hub = %cfg.hub, "talking to the hub over plain HTTP (allow_insecure)");
        }
        "http" => {
            return Err(AgentError::Setting {
                field: "hub",
                problem: format!(
                    "{:?} is plain http://: the site token and answers would cross the network unencrypted; use an https:// hub, or set allow_insecure = true in the site configuration (a demo on loopback only)",
                    cfg.hub
                ),
            });
        }
        other => {
            return Err(AgentError::Setting {
                field: "hub",
                problem: format!("{:?}: scheme {other:?}; use https://", cfg.hub),
            });
        }
    }
    let mut http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("kakehashi-site/", env!("CARGO_PKG_VERSION")));
    match (&cfg.hub_ca, &cfg.hub_cert_sha256) {
        (Some(_), Some(_)) => {
            return Err(AgentError::Setting {
                field: "hub_ca",
                problem: "and hub_cert_sha256 both set; set one of them, not both".into(),
            });
        }
        (Some(ca), None) => {
            let bad = |problem: String| AgentError::SettingFile {
                field: "hub_ca",
                path: ca.clone(),
                problem,
            };
            let pem = std::fs::read(ca).map_err(|e| bad(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no PEM certificate in the file".into()));
            }
            // the network's CA only: the system's roots are not trusted for the hub
            http = http.tls_certs_only(certs);
        }
        (None, Some(pin)) => {
            let sha256: [u8; 32] = hex::decode(pin.trim().replace(':', ""))
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| AgentError::Setting {
                    field: "hub_cert_sha256",
                    problem: format!(
                        "{pin:?}: 64 hex digits, the SHA-256 of the hub's certificate (DER)"
                    ),
                })?;
            http = http.tls_backend_preconfigured(pinned_tls(sha256)?);
        }
        (None, None) => {}
    }
    http.build().map_err(|e| AgentError::Client {
        part: "HTTP client",
        message: e.to_string(),
    })
}

/// A TLS configuration that accepts exactly the hub certificate with this SHA-256 (and checks
/// that the hub holds its key), whatever CA signed it.
fn pinned_tls(sha256: [u8; 32]) -> Result<rustls::ClientConfig, AgentError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        sha256,
        provider: provider.clone(),
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AgentError::Client {
            part: "TLS",
            message: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the hub's certificate is not the one pinned by hub_cert_sha256".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
