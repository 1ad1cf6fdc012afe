//! Pre-fill of a case report form from a site's own data: what the hub asks a site
//! ([`PrefillRequest`]: propose values for these items of subject `record` in study
//! `study`) and what the site answers ([`PrefillAnswer`]: each value with its source, or a
//! refusal with the reason). Versioned on its own ([`PREFILL_VERSION`]).
//!
//! The site fetches the requests for its subjects after its poll (`GET /api/site/prefill`,
//! site token: sites connect outward only) and posts each answer
//! (`POST /api/site/prefill`). Only the site can resolve the pseudonym to its local patient
//! (its enrolment mapping); it answers only for subjects its steward enrolled and only when
//! its policy allows pre-fill for the study (and the items). The values are consented,
//! pseudonymised study data of an enrolled subject, as the entering user would type them;
//! the answer carries no local identifier (no patient, encounter or observation id).
//!
//! Not a `TaskSpec`: a task's answer is an aggregate that passes the disclosure gate; a
//! pre-fill answer is one enrolled subject's case report form data, which the gate's
//! small-cell rules would (rightly) refuse. It follows the enrolment channel instead,
//! gated by the steward's pre-fill policy and recorded in the site's audit log.

use kakehashi_edc::prefill::{MAX_ITEMS, PrefillItem};
use serde::{Deserialize, Serialize};

/// Version of [`PrefillRequest`] and [`PrefillAnswer`]; each side refuses another.
pub const PREFILL_VERSION: u32 = 1;

/// The most requests one fetch carries.
pub const MAX_REQUESTS: usize = 50;

/// The hub's question to a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefillRequest {
    /// [`PREFILL_VERSION`].
    pub version: u32,
    /// The hub's id of the request (answered with it).
    pub id: String,
    /// The study.
    pub study: String,
    /// The subject: the pseudonym this site minted.
    pub record: String,
    /// The event, form and instance the values are for (shown to the steward).
    pub event: String,
    /// The form.
    pub form: String,
    /// The instance.
    pub instance: u32,
    /// Who asked (hub user name).
    pub requested_by: String,
    /// When (RFC 3339); the admission is the latest stay that began on or before.
    pub requested_at: String,
    /// The items, as the study declares them.
    pub items: Vec<PrefillItem>,
}

impl PrefillRequest {
    /// Checks what a site can check without its data: the version, the item count and a
    /// pseudonym-shaped record.
    pub fn check(&self) -> Result<(), RequestError> {
        let bad = |field: &'static str, problem: String| RequestError { field, problem };
        if self.version != PREFILL_VERSION {
            return Err(bad(
                "version",
                format!(
                    "{} unsupported (this site speaks {PREFILL_VERSION})",
                    self.version
                ),
            ));
        }
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(bad(
                "items",
                format!("{} (1 to {MAX_ITEMS})", self.items.len()),
            ));
        }
        if self.record.len() != 64 || !self.record.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("record", "not a site-minted pseudonym".into()));
        }
        Ok(())
    }
}

/// A request a site cannot read, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RequestError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub problem: String,
}

/// Where a proposed value comes from: enough for the entering user to judge it, no local
/// identifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSource {
    /// The FHIR resource type (`Patient`, `Encounter`, `Observation`).
    pub resource: String,
    /// The element or code read (`birthDate`, `period.start`, `http://loinc.org|777-3`).
    pub code: String,
    /// When the value was taken (RFC 3339 or a date), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The value as stored at the site.
    pub original: String,
    /// Its unit as stored, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl ValueSource {
    /// One line for the form page and the field history's reason.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.resource, self.code);
        s.push_str(&format!(" = {}", self.original));
        if let Some(u) = &self.unit {
            s.push_str(&format!(" {u}"));
        }
        if let Some(a) = &self.at {
            s.push_str(&format!(" ({a})"));
        }
        s
    }
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The field.
    pub field: String,
    /// The value as the field stores it, when the site found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ValueSource>,
    /// Why there is no value (nothing in the window, a unit that does not convert, an item
    /// the policy leaves out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The site's outcome for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PrefillOutcome {
    /// Values proposed, one entry per item asked.
    Proposed {
        /// The proposals.
        proposals: Vec<Proposal>,
    },
    /// Refused: not allowed by the policy, not a subject enrolled here, refused by the
    /// steward, …
    Refused {
        /// Why.
        reason: String,
    },
}

/// The site's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefillAnswer {
    /// [`PREFILL_VERSION`].
    pub version: u32,
    /// The request's id.
    pub id: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: PrefillOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_edc::prefill::Source;

    #[test]
    fn the_messages_are_closed_and_round_trip() {
        let r = PrefillRequest {
            version: PREFILL_VERSION,
            id: "pf-1".into(),
            study: "vhf-registry".into(),
            record: "ab".repeat(32),
            event: "initial_assessment_arm_1".into(),
            form: "presentation".into(),
            instance: 1,
            requested_by: "alice".into(),
            requested_at: "2026-01-01T00:00:00Z".into(),
            items: vec![PrefillItem {
                field: "demog_age".into(),
                source: Source::Age,
            }],
        };
        r.check().unwrap();
        let t = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<PrefillRequest>(&t).unwrap(), r);
        let mut bad = r.clone();
        bad.record = "P-0001".into();
        assert_eq!(bad.check().unwrap_err().field, "record");
        let a = PrefillAnswer {
            version: PREFILL_VERSION,
            id: "pf-1".into(),
            outcome: PrefillOutcome::Proposed {
                proposals: vec![Proposal {
                    field: "demog_age".into(),
                    value: Some("46".into()),
                    source: Some(ValueSource {
                        resource: "Patient".into(),
                        code: "birthDate".into(),
                        at: None,
                        original: "1977-05-24".into(),
                        unit: None,
                    }),
                    note: None,
                }],
            },
        };
        let t = serde_json::to_string(&a).unwrap();
        assert!(t.contains(r#""outcome":"proposed""#), "{t}");
        assert_eq!(serde_json::from_str::<PrefillAnswer>(&t).unwrap(), a);
        let refused = r#"{"version":1,"id":"x","outcome":"refused","reason":"no"}"#;
        assert!(matches!(
            serde_json::from_str::<PrefillAnswer>(refused)
                .unwrap()
                .outcome,
            PrefillOutcome::Refused { .. }
        ));
    }
}
