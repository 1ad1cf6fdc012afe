//! Site keys and answer signatures (Ed25519).

use crate::protocol::Envelope;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use kakehashi_model::SiteId;

/// A signing or verification problem.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A public key is not valid.
    #[error("invalid public key: {0}")]
    PublicKey(String),
    /// The signature does not verify.
    #[error("the signature of the answer from site {0} does not verify")]
    BadSignature(SiteId),
}

/// A site's signing key.
pub struct SiteKey(SigningKey);

impl SiteKey {
    /// The key of these 32 secret bytes (a key file holds them as 64 hex digits:
    /// `kakehashi_audit::key`).
    pub fn from_bytes(bytes: &[u8; 32]) -> SiteKey {
        SiteKey(SigningKey::from_bytes(bytes))
    }

    /// The public key, base64, as registered at the hub.
    pub fn public_key(&self) -> String {
        B64.encode(self.0.verifying_key().to_bytes())
    }

    /// Signs a text; the signature in base64.
    pub fn sign_text(&self, text: &str) -> String {
        B64.encode(self.0.sign(text.as_bytes()).to_bytes())
    }

    /// Signs an answer's JSON text into an envelope.
    pub fn seal(&self, site: &SiteId, body: String) -> Envelope {
        let signature = B64.encode(self.0.sign(body.as_bytes()).to_bytes());
        Envelope {
            site: site.clone(),
            body,
            signature,
        }
    }
}

/// Parses a base64 public key.
pub fn parse_public_key(b64: &str) -> Result<VerifyingKey, SignError> {
    let bytes: [u8; 32] = B64
        .decode(b64.trim())
        .map_err(|e| SignError::PublicKey(e.to_string()))?
        .try_into()
        .map_err(|_| SignError::PublicKey("an Ed25519 public key is 32 bytes".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| SignError::PublicKey(e.to_string()))
}

/// Verifies an envelope against the site's registered public key.
pub fn open(envelope: &Envelope, key: &VerifyingKey) -> Result<(), SignError> {
    let bad = || SignError::BadSignature(envelope.site.clone());
    let sig: [u8; 64] = B64
        .decode(&envelope.signature)
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())?;
    key.verify_strict(envelope.body.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_answer_verifies_and_a_changed_one_does_not() {
        let key = SiteKey::from_bytes(&[1; 32]);
        let again = SiteKey::from_bytes(&[1; 32]);
        assert_eq!(key.public_key(), again.public_key());
        let site = SiteId::new("de-berlin").unwrap();
        let pk = parse_public_key(&key.public_key()).unwrap();
        let mut env = key.seal(&site, r#"{"count":10}"#.into());
        assert!(open(&env, &pk).is_ok());
        env.body = r#"{"count":20}"#.into();
        assert!(matches!(open(&env, &pk), Err(SignError::BadSignature(_))));
        let other = SiteKey::from_bytes(&[2; 32]);
        let env = other.seal(&site, "{}".into());
        assert!(open(&env, &pk).is_err());
    }
}
