//! Study enrolment from a site: the subject pseudonym the site mints ([`pseudonym`]: HMAC-SHA-256
//! of the site's secret over the study id and the local patient id) and what the site agent
//! sends the hub (`POST /api/site/enrolments`, site token): study ids and pseudonyms only,
//! never the local patient id, which stays in the site's own mapping. The hub answers each
//! enrolment ([`EnrolmentAnswer`]). Versioned on its own ([`ENROLMENT_VERSION`]).
//!
//! The pseudonym is keyed with a secret only the site holds, so neither the hub nor anyone
//! who knows a patient id can compute or test it; it is stable (the same patient gets the
//! same pseudonym in the same study, so a second enrolment is the same subject) and differs
//! between studies (a subject cannot be linked across studies by the pseudonym alone) and
//! between sites (each has its own secret).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of [`EnrolmentReport`]; a hub refuses other versions with 409.
pub const ENROLMENT_VERSION: u32 = 1;

/// The most enrolments one report carries.
pub const MAX_ENROLMENTS: usize = 500;

/// HMAC-SHA-256 (RFC 2104) of `message` under `key` (the `hmac` crate in the lock file is
/// the digest-0.11 line, the workspace's `sha2` the 0.10 line: the construction is a few
/// lines, tested against RFC 4231).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The subject pseudonym of a local patient in a study: the hex HMAC-SHA-256, under the
/// site's secret, of `study`, a zero byte and `patient` (the zero byte keeps
/// `("ab", "c")` and `("a", "bc")` apart). 64 lower-case hex digits.
pub fn pseudonym(secret: &[u8; 32], study: &str, patient: &str) -> String {
    let mut m = Vec::with_capacity(study.len() + 1 + patient.len());
    m.extend_from_slice(study.as_bytes());
    m.push(0);
    m.extend_from_slice(patient.as_bytes());
    hex::encode(hmac_sha256(secret, &m))
}

/// One enrolment: the study and the pseudonym (the record id at the hub).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The study id.
    pub study: String,
    /// The pseudonym.
    pub record: String,
}

/// The enrolments a site sends (site → hub, site token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentReport {
    /// [`ENROLMENT_VERSION`] of the site.
    pub version: u32,
    /// The enrolments (at most [`MAX_ENROLMENTS`]).
    pub enrolments: Vec<Enrolment>,
}

/// What became of one enrolment at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum EnrolmentOutcome {
    /// A new subject.
    Enrolled,
    /// The subject was enrolled before (the same patient again).
    Already,
    /// Refused (no such study, not active, not a site of the study, …): the reason.
    Refused {
        /// Why.
        reason: String,
    },
}

/// The hub's answer: each enrolment with its outcome, in the report's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentAnswer {
    /// The outcomes.
    pub results: Vec<(Enrolment, EnrolmentOutcome)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // test case 1
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // test case 2
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // test case 6: a key longer than the block
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_per_study() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let p = pseudonym(&a, "vhf-registry", "P-0001");
        assert_eq!(p.len(), 64);
        assert!(
            p.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(p, pseudonym(&a, "vhf-registry", "P-0001"));
        assert_ne!(p, pseudonym(&b, "vhf-registry", "P-0001"));
        assert_ne!(p, pseudonym(&a, "sfts-registry", "P-0001"));
        assert_ne!(p, pseudonym(&a, "vhf-registry", "P-0002"));
        assert_ne!(pseudonym(&a, "ab", "c"), pseudonym(&a, "a", "bc"));
        assert!(!p.contains("0001"));
    }

    #[test]
    fn the_report_is_a_closed_message() {
        let r = EnrolmentReport {
            version: ENROLMENT_VERSION,
            enrolments: vec![Enrolment {
                study: "s".into(),
                record: "ab".repeat(32),
            }],
        };
        let t = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<EnrolmentReport>(&t).unwrap(), r);
        assert!(
            serde_json::from_str::<EnrolmentReport>(
                r#"{"version":1,"enrolments":[{"study":"s","record":"r","patient":"P-1"}]}"#
            )
            .is_err()
        );
        let a = EnrolmentAnswer {
            results: vec![(
                r.enrolments[0].clone(),
                EnrolmentOutcome::Refused { reason: "x".into() },
            )],
        };
        let t = serde_json::to_string(&a).unwrap();
        assert!(t.contains(r#""outcome":"refused""#), "{t}");
        assert_eq!(serde_json::from_str::<EnrolmentAnswer>(&t).unwrap(), a);
    }
}
