//! OpenID Connect sign-in, next to local accounts: per configured issuer (`[[oidc]]`), its
//! discovery document, the authorization request (code flow with PKCE S256, `state` and
//! `nonce`), the code exchange, and the mapping of the ID token's claims to a role. The ID
//! token itself is checked by [`crate::auth::jwt`] (signature by the issuer's published key,
//! `alg` allow-list, `iss`, `aud`, `exp`, `iat`, `nonce`). Pending sign-ins (`state`) are
//! stored in the database and taken once ([`crate::service::identity`]).

use crate::auth::jwt::{IdClaims, Jwks};
pub use crate::auth::oidc_config::{
    ASYMMETRIC_ALGORITHMS, DEFAULT_ALGORITHMS, IssuerUrlError, OidcConfig, OidcConfigError,
    check_configs, check_url,
};
use crate::db::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// An OpenID Connect failure; the pages show a generic refusal, the log and audit the detail.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The issuer could not be reached or answered badly.
    #[error("issuer {issuer}: {message}")]
    Issuer {
        /// The issuer's id.
        issuer: String,
        /// What went wrong.
        message: String,
    },
    /// The ID token is not acceptable (signature, algorithm, claims).
    #[error("ID token refused: {0}")]
    Token(String),
}

/// The parts of the discovery document the hub uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the hub exchanges the code.
    pub token_endpoint: String,
    /// The issuer's public keys.
    pub jwks_uri: String,
}

/// A configured issuer at run time: its settings, discovery (fetched once) and key cache.
pub struct Issuer {
    /// Settings.
    pub cfg: OidcConfig,
    /// Where the issuer sends the browser back.
    pub redirect_uri: String,
    http: reqwest::Client,
    discovery: tokio::sync::OnceCell<Discovery>,
    /// The issuer's keys.
    pub jwks: Jwks,
}

/// What the hub keeps of a sign-in it started, until the browser comes back.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The issuer's id.
    pub issuer: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// Where to go afterwards (a local path).
    pub next: String,
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A random URL-safe value (32 bytes): state, nonce, PKCE verifier.
pub fn random_value() -> String {
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    URL_SAFE_NO_PAD.encode(b)
}

impl Issuer {
    /// The run-time issuer for a configuration; `hub_url` is the default redirect base.
    pub fn new(cfg: OidcConfig, hub_url: &str) -> Result<Issuer, OidcError> {
        let base = cfg.redirect_base.clone().unwrap_or_else(|| hub_url.into());
        let redirect_uri = format!(
            "{}/login/oidc/{}/callback",
            base.trim_end_matches('/'),
            cfg.id
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcError::Issuer {
                issuer: cfg.id.clone(),
                message: format!("HTTP client: {e}"),
            })?;
        let jwks = Jwks::new(Duration::from_secs(cfg.jwks_min_refetch_seconds));
        Ok(Issuer {
            cfg,
            redirect_uri,
            http,
            discovery: tokio::sync::OnceCell::new(),
            jwks,
        })
    }

    fn err(&self, message: impl Into<String>) -> OidcError {
        OidcError::Issuer {
            issuer: self.cfg.id.clone(),
            message: message.into(),
        }
    }

    /// GETs a JSON document from the issuer.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, OidcError> {
        check_url(url).map_err(|e| self.err(e.to_string()))?;
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.err(format!("{url}: {e}")))?;
        if !r.status().is_success() {
            return Err(self.err(format!("{url}: HTTP {}", r.status())));
        }
        r.json().await.map_err(|e| self.err(format!("{url}: {e}")))
    }

    /// The issuer's discovery document (fetched on first use; its `issuer` must match).
    pub async fn discovery(&self) -> Result<&Discovery, OidcError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.cfg.issuer.trim_end_matches('/')
                );
                let d: Discovery = self.get_json(&url).await?;
                if d.issuer != self.cfg.issuer {
                    return Err(self.err(format!(
                        "discovery names issuer {:?}, configured {:?}",
                        d.issuer, self.cfg.issuer
                    )));
                }
                Ok(d)
            })
            .await
    }

    /// The URL to send the browser to, for a sign-in with these secrets.
    pub async fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let mut u = check_url(&d.authorization_endpoint).map_err(|e| self.err(e.to_string()))?;
        u.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.cfg.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &self.cfg.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce_challenge(verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(u.into())
    }

    /// Exchanges an authorization code (with the PKCE verifier) for the ID token, and checks
    /// it ([`Issuer::verify_id_token`]).
    pub async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        let d = self.discovery().await?;
        check_url(&d.token_endpoint).map_err(|e| self.err(e.to_string()))?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_verifier", verifier)
            .append_pair("client_id", &self.cfg.client_id)
            .finish();
        let mut req = self
            .http
            .post(&d.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        if let Some(secret) = &self.cfg.client_secret {
            // client_secret_basic: both parts form-encoded first (RFC 6749, 2.3.1)
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&self.cfg.client_id),
                enc(secret)
            ));
            req = req.header("authorization", format!("Basic {basic}"));
        }
        let r = req
            .body(form)
            .send()
            .await
            .map_err(|e| self.err(format!("token endpoint: {e}")))?;
        let status = r.status();
        if !status.is_success() {
            let body = r.text().await.unwrap_or_default();
            return Err(self.err(format!(
                "token endpoint: HTTP {status}: {}",
                body.chars().take(200).collect::<String>()
            )));
        }
        #[derive(Deserialize)]
        struct TokenAnswer {
            id_token: String,
        }
        let t: TokenAnswer = r
            .json()
            .await
            .map_err(|e| self.err(format!("token endpoint: {e}")))?;
        self.verify_id_token(&t.id_token, nonce).await
    }

    /// The role (and a steward's site) the claims map to, or why none does.
    pub fn role_of(&self, claims: &IdClaims) -> Result<(Role, Option<String>), NoRole> {
        let values: Vec<String> = match self
            .cfg
            .roles_claim
            .as_deref()
            .and_then(|c| claims.extra.get(c))
        {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let roles: Vec<Role> = values
            .iter()
            .filter_map(|v| self.cfg.map.get(v).copied())
            .collect();
        let site = self
            .cfg
            .site_claim
            .as_deref()
            .and_then(|c| claims.extra.get(c))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        if roles.contains(&Role::Admin) {
            Ok((Role::Admin, None))
        } else if roles.contains(&Role::Steward) && site.is_some() {
            Ok((Role::Steward, site))
        } else if roles.contains(&Role::Researcher) {
            Ok((Role::Researcher, None))
        } else if roles.contains(&Role::Steward) {
            Err(NoRole::NoSite)
        } else {
            Err(NoRole::NoMatch {
                claim: self.cfg.roles_claim.clone(),
            })
        }
    }
}

/// Why an ID token's claims give no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRole {
    /// The steward role without the site claim it needs.
    #[error("the steward role needs a site claim; the ID token names none")]
    NoSite,
    /// No value of the roles claim is mapped to a role.
    #[error("no claim value in {:?} maps to a role", claim.as_deref().unwrap_or("(no roles_claim)"))]
    NoMatch {
        /// The configured roles claim, if any.
        claim: Option<String>,
    },
}
