//! OpenID Connect sign-in, next to local accounts: per configured issuer (`[[oidc]]`), its
//! discovery document, the authorization request (code flow with PKCE S256, `state` and
//! `nonce`), the code exchange, and the mapping of the ID token's claims to a role. The ID
//! token itself is checked by [`crate::auth::jwt`] (signature by the issuer's published key,
//! `alg` allow-list, `iss`, `aud`, `exp`, `iat`, `nonce`). Pending sign-ins (`state`) are
//! stored in the database and taken once ([`crate::service::identity`]).

use crate::auth::jwt::{IdClaims, Jwks};
use crate::db::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

/// Signature algorithms an ID token may use when the configuration names none.
pub const DEFAULT_ALGORITHMS: &[&str] = &["RS256", "ES256", "PS256"];

/// Algorithms a configuration may allow: asymmetric only. `none` and the HMAC family
/// (`HS256`…, which would let anyone holding the public key sign) are never accepted.
pub const ASYMMETRIC_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// One issuer users may sign in with (`[[oidc]]` in `hub.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Short id, used in the hub's URLs (`/login/oidc/<id>`) and in user names: lower-case
    /// letters, digits and `-`.
    pub id: String,
    /// The button's label on the sign-in page (e.g. "DFN-AAI (Keycloak)").
    pub name: String,
    /// The issuer URL (`iss`); discovery is read from `<issuer>/.well-known/openid-configuration`.
    /// `https://`, or `http://` on a loopback address only.
    pub issuer: String,
    /// The hub's client id at the issuer (the ID token's audience).
    pub client_id: String,
    /// The client secret; `KAKEHASHI_HUB_OIDC_<ID>_CLIENT_SECRET` overrides it (id upper-case,
    /// `-` as `_`). Without one the hub is a public client (PKCE only).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The base URL the issuer sends the browser back to (`<base>/login/oidc/<id>/callback`).
    /// Default: the hub's `public_url`.
    #[serde(default)]
    pub redirect_base: Option<String>,
    /// Scopes to ask for. Default `openid profile email`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that lists the user's groups or roles (a string or a list of strings).
    #[serde(default)]
    pub roles_claim: Option<String>,
    /// Claim value → hub role. A user none of whose values maps is refused. When several map,
    /// the strongest role wins (admin, steward with a site, researcher).
    #[serde(default)]
    pub map: BTreeMap<String, Role>,
    /// The claim naming a steward's site.
    #[serde(default)]
    pub site_claim: Option<String>,
    /// Signature algorithms accepted for ID tokens. Default RS256, ES256, PS256.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew allowed for `exp` and `iat`, seconds. Default 60.
    #[serde(default = "default_sixty")]
    pub clock_skew_seconds: u64,
    /// An ID token signed by an unknown key id makes the hub fetch the issuer's keys again,
    /// at most once per this many seconds. Default 60.
    #[serde(default = "default_sixty")]
    pub jwks_min_refetch_seconds: u64,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

fn default_algorithms() -> Vec<String> {
    DEFAULT_ALGORITHMS.iter().map(|s| s.to_string()).collect()
}

fn default_sixty() -> u64 {
    60
}

impl OidcConfig {
    /// The environment variable that overrides the client secret.
    pub fn secret_var(&self) -> String {
        format!(
            "KAKEHASHI_HUB_OIDC_{}_CLIENT_SECRET",
            self.id.to_uppercase().replace('-', "_")
        )
    }

    /// Applies the client secret's environment override.
    pub fn apply_env(&mut self) -> Result<(), String> {
        if let Ok(v) = std::env::var(self.secret_var()) {
            if v.trim().is_empty() {
                return Err(format!("{} is empty", self.secret_var()));
            }
            self.client_secret = Some(v);
        }
        Ok(())
    }
}

/// Checks the `[[oidc]]` entries: ids unique and URL-safe, issuers `https://` (or `http://`
/// on loopback), algorithms asymmetric only, a client id. Says which entry and field.
pub fn check_configs(all: &[OidcConfig]) -> Result<(), String> {
    for (i, c) in all.iter().enumerate() {
        let at = |field: &str| format!("oidc[{i}] ({}).{field}", c.id);
        let id_ok = !c.id.is_empty()
            && c.id.len() <= 32
            && c.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(format!(
                "{}: 1 to 32 lower-case letters, digits or '-'",
                at("id")
            ));
        }
        if all[..i].iter().any(|o| o.id == c.id) {
            return Err(format!("{}: used twice", at("id")));
        }
        check_url(&c.issuer).map_err(|e| format!("{}: {e}", at("issuer")))?;
        if let Some(b) = &c.redirect_base {
            reqwest::Url::parse(b).map_err(|e| format!("{}: {e}", at("redirect_base")))?;
        }
        if c.client_id.trim().is_empty() {
            return Err(format!("{}: empty", at("client_id")));
        }
        if c.algorithms.is_empty() {
            return Err(format!("{}: name at least one", at("algorithms")));
        }
        for a in &c.algorithms {
            if !ASYMMETRIC_ALGORITHMS.contains(&a.as_str()) {
                return Err(format!(
                    "{}: {a:?} is not allowed; use one of {}",
                    at("algorithms"),
                    ASYMMETRIC_ALGORITHMS.join(", ")
                ));
            }
        }
        if c.map.is_empty() {
            return Err(format!(
                "{}: map at least one claim value to a role (users without one are refused)",
                at("map")
            ));
        }
    }
    Ok(())
}

/// An issuer URL must be `https://`, or `http://` on a loopback address (a local test
/// issuer): ID tokens and codes never cross a network unencrypted.
pub fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    let host = u.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => Err(format!(
            "{url:?}: use https:// (plain http:// only on a loopback address)"
        )),
    }
}

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
        check_url(url).map_err(|e| self.err(e))?;
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
        let mut u = check_url(&d.authorization_endpoint).map_err(|e| self.err(e))?;
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
        check_url(&d.token_endpoint).map_err(|e| self.err(e))?;
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
    pub fn role_of(&self, claims: &IdClaims) -> Result<(Role, Option<String>), String> {
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
            Err("the steward role needs a site claim; the ID token names none".into())
        } else {
            Err(format!(
                "no claim value in {:?} maps to a role",
                self.cfg
                    .roles_claim
                    .as_deref()
                    .unwrap_or("(no roles_claim)")
            ))
        }
    }
}
