//! Study enrolments to the hub. After each poll the hub answered, the agent reads the site's
//! enrolment mapping (`enrolments.sqlite` in the site directory, when the steward has
//! enrolled anyone: [`crate::enrolment`]) and sends the enrolments the hub has not answered
//! yet (`POST /api/site/enrolments`, site token): study ids and pseudonyms, never the local
//! patient id. Each outcome (enrolled, already enrolled, refused with the reason) is kept in
//! the mapping, so an enrolment is sent until the hub answers it and never again after; a
//! refused one is sent again only when the steward retries it. Each report sent is in the
//! site's audit log (`enrolments_sent`: studies, pseudonyms, outcomes).
//!
//! An enrolment is the steward's act for a consented participant of an approved study: the
//! pseudonym is keyed with the site's secret and says nothing about the patient, so it passes
//! no statistical disclosure gate; the case report form data the study collects are entered
//! at the hub under the study's ethics approval.

use super::Agent;
use super::backoff::CallError;
use crate::enrolment::{Enrolments, MAPPING_FILE};
use kakehashi_federation::enrolment::{
    ENROLMENT_VERSION, EnrolmentAnswer, EnrolmentReport, MAX_ENROLMENTS,
};
use std::time::{Duration, Instant};

impl Agent {
    /// Sends the enrolments the hub has not answered yet, if any.
    pub(super) async fn sync_enrolments(&self) {
        if !self.cfg.site_dir.join(MAPPING_FILE).exists() {
            return;
        }
        let map = match Enrolments::open(&self.cfg.site_dir) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the enrolment mapping");
                return;
            }
        };
        let pending = match map.pending(MAX_ENROLMENTS) {
            Ok(p) if p.is_empty() => return,
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the enrolment mapping");
                return;
            }
        };
        let report = EnrolmentReport {
            version: ENROLMENT_VERSION,
            enrolments: pending,
        };
        let give_up = Some(Instant::now() + Duration::from_secs(self.cfg.poll_seconds.max(5)));
        let r = self
            .call("enrolments", give_up, || {
                self.http
                    .post(self.url("/api/site/enrolments"))
                    .json(&report)
                    .timeout(Duration::from_secs(30))
            })
            .await;
        let answer: EnrolmentAnswer = match r {
            Ok(resp) => match resp.json().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(error = %e, "the hub's answer to the enrolments does not read");
                    return;
                }
            },
            Err(CallError::Refused { status, reason }) => {
                tracing::error!(%status, reason = %reason, "the hub refused the enrolments; they are sent again after the next poll");
                return;
            }
            Err(e @ CallError::GaveUp(_)) => {
                tracing::warn!(error = %e, "the enrolments did not reach the hub; trying again after the next poll");
                return;
            }
        };
        for (e, outcome) in &answer.results {
            if let Err(err) = map.settle(e, outcome) {
                tracing::error!(error = %err, "cannot record the hub's answer to an enrolment");
            }
        }
        self.audit_event(
            "enrolments_sent",
            serde_json::to_value(&answer.results).unwrap_or_default(),
        );
        tracing::info!(n = answer.results.len(), "enrolments sent to the hub");
    }
}
