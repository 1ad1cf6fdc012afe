//! ID tokens: the issuer's keys (JWKS, fetched and cached; an unknown key id fetches them
//! again, at most once per `jwks_min_refetch_seconds`, so key rotation works and a stream of
//! forged key ids cannot make the hub hammer the issuer) and the checks of a token
//! (`jsonwebtoken`, verifying with `ring`): the `alg` from the issuer's allow-list (never
//! `none` or HMAC), the signature by the issuer's key with that id, `iss`, `aud` (and `azp`
//! when there are several audiences), `exp` and `iat` within the clock skew, and the
//! sign-in's `nonce` (compared in constant time).

use crate::auth::oidc::{Issuer, OidcError};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// The claims of an ID token the hub reads; the rest (groups, site) stay in `extra`, read by
/// the configured claim names.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// The user at the issuer (stable; users are linked by issuer and subject).
    pub sub: String,
    /// Expiry (seconds since 1970).
    pub exp: i64,
    /// Issued at (seconds since 1970).
    pub iat: i64,
    /// The sign-in's nonce.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Authorized party (checked when there are several audiences).
    #[serde(default)]
    pub azp: Option<String>,
    /// Preferred user name, used for the hub's user name when free.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// E-mail (shown only; never used to link accounts).
    #[serde(default)]
    pub email: Option<String>,
    /// Every other claim, read by the names the configuration gives (roles, site).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Default)]
struct Cache {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
    fetches: u64,
}

/// An issuer's keys, cached.
pub struct Jwks {
    min_refetch: Duration,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

impl Jwks {
    /// An empty cache that refetches at most once per `min_refetch`.
    pub fn new(min_refetch: Duration) -> Jwks {
        Jwks {
            min_refetch,
            cache: Default::default(),
        }
    }

    /// How many times the keys were fetched (for tests and metrics).
    pub async fn fetches(&self) -> u64 {
        self.cache.lock().await.fetches
    }
}

fn find<'a>(keys: &'a [Jwk], kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(k) => keys.iter().find(|j| j.common.key_id.as_deref() == Some(k)),
        // without a key id, only an issuer with exactly one key is unambiguous
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

/// The `alg` of a token's header, read before anything else so that `none` and HMAC are
/// refused by name.
fn header_alg(token: &str) -> Result<String, OidcError> {
    let bad = |m: &str| OidcError::Token(format!("header: {m}"));
    let head = token.split('.').next().ok_or_else(|| bad("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| bad("not base64url"))?;
    #[derive(Deserialize)]
    struct Head {
        alg: String,
    }
    let h: Head = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    Ok(h.alg)
}

impl Issuer {
    /// The decoding key with this id, fetching the issuer's keys when they are not cached or
    /// the id is unknown (at most once per `jwks_min_refetch_seconds`).
    async fn key(&self, kid: Option<&str>, alg: &str) -> Result<DecodingKey, OidcError> {
        let mut c = self.jwks.cache.lock().await;
        let stale = c
            .fetched
            .is_none_or(|t| t.elapsed() >= self.jwks.min_refetch);
        if find(&c.keys, kid).is_none() && stale {
            let uri = self.discovery().await?.jwks_uri.clone();
            let set: KeySet = self.get_json(&uri).await?;
            c.keys = set
                .keys
                .into_iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
                .collect();
            c.fetched = Some(Instant::now());
            c.fetches += 1;
        }
        let jwk = find(&c.keys, kid).ok_or_else(|| {
            OidcError::Token(format!("no key {kid:?} among the issuer's published keys"))
        })?;
        if let Some(ka) = &jwk.common.key_algorithm
            && format!("{ka:?}") != alg
        {
            return Err(OidcError::Token(format!(
                "key {kid:?} is for {ka:?}, the token says {alg}"
            )));
        }
        DecodingKey::from_jwk(jwk).map_err(|e| OidcError::Token(format!("key {kid:?}: {e}")))
    }

    /// Checks an ID token from this issuer for a sign-in with `nonce`; returns its claims.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<IdClaims, OidcError> {
        let alg_name = header_alg(token)?;
        if !self.cfg.algorithms.contains(&alg_name) {
            return Err(OidcError::Token(format!(
                "alg {alg_name:?} is not allowed for this issuer (allowed: {})",
                self.cfg.algorithms.join(", ")
            )));
        }
        let alg: Algorithm = alg_name
            .parse()
            .map_err(|_| OidcError::Token(format!("alg {alg_name:?} unknown")))?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::Token(format!("header: {e}")))?;
        let key = self.key(header.kid.as_deref(), &alg_name).await?;
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.cfg.issuer]);
        v.set_audience(&[&self.cfg.client_id]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        v.leeway = self.cfg.clock_skew_seconds;
        v.validate_exp = true;
        v.validate_nbf = true;
        let data = jsonwebtoken::decode::<IdClaims>(token, &key, &v)
            .map_err(|e| OidcError::Token(e.to_string()))?;
        let c = data.claims;
        let now = chrono::Utc::now().timestamp();
        let skew = self.cfg.clock_skew_seconds as i64;
        if c.iat > now + skew {
            return Err(OidcError::Token(format!(
                "issued in the future (iat {}, now {now})",
                c.iat
            )));
        }
        // an ID token is used once, right after it is issued
        if c.iat < now - 600 - skew {
            return Err(OidcError::Token(format!(
                "issued too long ago (iat {}, now {now})",
                c.iat
            )));
        }
        if let Some(azp) = &c.azp
            && *azp != self.cfg.client_id
        {
            return Err(OidcError::Token(format!("azp {azp:?} is not this client")));
        }
        match &c.nonce {
            Some(n) if crate::websec::same_secret(n, nonce) => Ok(c),
            Some(_) => Err(OidcError::Token("nonce does not match the sign-in".into())),
            None => Err(OidcError::Token("no nonce".into())),
        }
    }
}
