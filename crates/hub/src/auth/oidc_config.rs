//! The `[[oidc]]` settings of an OpenID Connect issuer and their checks: ids, issuer URLs
//! (`https://`, or `http://` on loopback), asymmetric algorithms only, a role map.

use crate::db::Role;
use serde::Deserialize;
use std::collections::BTreeMap;

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
    pub fn apply_env(&mut self) -> Result<(), OidcConfigError> {
        if let Ok(v) = std::env::var(self.secret_var()) {
            if v.trim().is_empty() {
                return Err(OidcConfigError::EmptySecret {
                    var: self.secret_var(),
                });
            }
            self.client_secret = Some(v);
        }
        Ok(())
    }
}

/// Checks the `[[oidc]]` entries: ids unique and URL-safe, issuers `https://` (or `http://`
/// on loopback), algorithms asymmetric only, a client id. Says which entry and field.
pub fn check_configs(all: &[OidcConfig]) -> Result<(), OidcConfigError> {
    for (i, c) in all.iter().enumerate() {
        let at = |field: &'static str, problem: String| OidcConfigError::Field {
            entry: i,
            id: c.id.clone(),
            field,
            problem,
        };
        let id_ok = !c.id.is_empty()
            && c.id.len() <= 32
            && c.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(at("id", "1 to 32 lower-case letters, digits or '-'".into()));
        }
        if all[..i].iter().any(|o| o.id == c.id) {
            return Err(at("id", "used twice".into()));
        }
        check_url(&c.issuer).map_err(|e| at("issuer", e.to_string()))?;
        if let Some(b) = &c.redirect_base {
            reqwest::Url::parse(b).map_err(|e| at("redirect_base", e.to_string()))?;
        }
        if c.client_id.trim().is_empty() {
            return Err(at("client_id", "empty".into()));
        }
        if c.algorithms.is_empty() {
            return Err(at("algorithms", "name at least one".into()));
        }
        for a in &c.algorithms {
            if !ASYMMETRIC_ALGORITHMS.contains(&a.as_str()) {
                return Err(at(
                    "algorithms",
                    format!(
                        "{a:?} is not allowed; use one of {}",
                        ASYMMETRIC_ALGORITHMS.join(", ")
                    ),
                ));
            }
        }
        if c.map.is_empty() {
            return Err(at(
                "map",
                "map at least one claim value to a role (users without one are refused)".into(),
            ));
        }
    }
    Ok(())
}

/// An issuer URL must be `https://`, or `http://` on a loopback address (a local test
/// issuer): ID tokens and codes never cross a network unencrypted.
pub fn check_url(url: &str) -> Result<reqwest::Url, IssuerUrlError> {
    let u = reqwest::Url::parse(url).map_err(|e| IssuerUrlError::Malformed {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let host = u.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => Err(IssuerUrlError::NotHttps {
            url: url.to_owned(),
        }),
    }
}

/// An `[[oidc]]` entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcConfigError {
    /// A field of an entry is not valid.
    #[error("oidc[{entry}] ({id}).{field}: {problem}")]
    Field {
        /// The entry's index in the file.
        entry: usize,
        /// The entry's id.
        id: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The client secret's environment variable is set but empty.
    #[error("{var} is empty")]
    EmptySecret {
        /// The variable.
        var: String,
    },
}

/// An issuer's URL (or one its discovery document names) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerUrlError {
    /// Not a URL.
    #[error("{url:?}: {reason}")]
    Malformed {
        /// The text.
        url: String,
        /// The URL parser's message.
        reason: String,
    },
    /// Neither `https://` nor `http://` on a loopback address.
    #[error("{url:?}: use https:// (plain http:// only on a loopback address)")]
    NotHttps {
        /// The URL.
        url: String,
    },
}
