//! Pre-fill requests from the hub. After each poll the hub answered, the agent fetches the
//! pre-fill requests for this site's subjects (`GET /api/site/prefill`, site token) and
//! answers each (`POST /api/site/prefill`) under the steward's policy
//! ([`crate::prefill::decide`]): a study the policy does not list, or a record this site
//! never enrolled, is refused with the reason and no value; in manual approval a request
//! waits in the steward's queue (`kakehashi site prefill`) and comes back with every fetch
//! until decided; otherwise the site resolves the pseudonym to its local patient (its
//! enrolment mapping: only the site can), reads its store
//! ([`kakehashi_engine::prefill::propose`]) and sends each allowed item's value with its
//! source. Every answer is in the site's audit log exactly as sent (`prefill_sent`,
//! `prefill_refused`); a held request as `prefill_held`.

use super::Agent;
use super::backoff::CallError;
use crate::enrolment::{Enrolments, MAPPING_FILE};
use crate::prefill::{Decision, PrefillQueue, QueueState, decide};
use kakehashi_federation::prefill::{
    MAX_REQUESTS, PREFILL_VERSION, PrefillAnswer, PrefillOutcome, PrefillRequest, Proposal,
    ValueSource,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Agent {
    /// Fetches and answers the hub's pre-fill requests, if any.
    pub(super) async fn sync_prefill(self: &Arc<Self>) {
        let give_up = Some(Instant::now() + Duration::from_secs(self.cfg.poll_seconds.max(5)));
        let r = self
            .call("prefill", give_up, || {
                self.http
                    .get(self.url("/api/site/prefill"))
                    .timeout(Duration::from_secs(30))
            })
            .await;
        let requests: Vec<PrefillRequest> = match r {
            Ok(resp) => match resp.json().await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "the hub's pre-fill requests do not read");
                    return;
                }
            },
            // an older hub without pre-fill answers 404: nothing to do
            Err(CallError::Refused { status, reason }) => {
                tracing::debug!(%status, reason = %reason, "the hub gave no pre-fill requests");
                return;
            }
            Err(e @ CallError::GaveUp(_)) => {
                tracing::warn!(error = %e, "the pre-fill requests did not come; trying after the next poll");
                return;
            }
        };
        for req in requests.into_iter().take(MAX_REQUESTS) {
            let me = self.clone();
            let answer = match tokio::task::spawn_blocking(move || me.answer_prefill(&req)).await {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "the pre-fill computation crashed");
                    continue;
                }
            };
            self.send_prefill(answer).await;
        }
    }

    /// Decides and computes one request; `None` while it waits for the steward.
    fn answer_prefill(&self, r: &PrefillRequest) -> Option<PrefillAnswer> {
        let refuse = |reason: String| PrefillAnswer {
            version: PREFILL_VERSION,
            id: r.id.clone(),
            outcome: PrefillOutcome::Refused { reason },
        };
        if let Err(e) = r.check() {
            return Some(refuse(format!("the site cannot read the request: {e}")));
        }
        let patient = if self.cfg.site_dir.join(MAPPING_FILE).exists() {
            match Enrolments::open(&self.cfg.site_dir)
                .and_then(|m| m.patient_of(&r.study, &r.record))
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the enrolment mapping");
                    return Some(refuse("the site's enrolment mapping cannot be read".into()));
                }
            }
        } else {
            None
        };
        let queue = match PrefillQueue::open(&self.cfg.state_dir()) {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the pre-fill queue");
                return Some(refuse("the steward's pre-fill queue cannot be read".into()));
            }
        };
        let held = queue.state(&r.id).ok().flatten();
        if held == Some(QueueState::Refused) {
            let comment = queue.comment(&r.id).ok().flatten().unwrap_or_default();
            return Some(refuse(
                format!("refused by the site's data steward {comment}")
                    .trim()
                    .to_owned(),
            ));
        }
        let approved = held == Some(QueueState::Approved);
        let default = self.steward.approval();
        match decide(&self.cfg.prefill, default, r, patient.as_deref(), approved) {
            Decision::Refuse(reason) => Some(refuse(reason)),
            Decision::Hold => {
                match queue.hold(r) {
                    Ok(QueueState::Waiting) if held.is_none() => self.audit_event(
                        "prefill_held",
                        serde_json::json!({"id": r.id, "study": r.study, "record": r.record, "form": r.form,
                            "requested_by": r.requested_by, "reason": "awaiting the data steward's approval"}),
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot hold the pre-fill request"),
                }
                None
            }
            Decision::Go { items, left_out } => {
                let patient = patient.unwrap_or_default();
                let snap = match self.cache.snapshot(&self.store) {
                    Ok(s) => s,
                    Err(e) => return Some(refuse(format!("the site has no data to read: {e}"))),
                };
                let asked = chrono::DateTime::parse_from_rfc3339(&r.requested_at)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_else(|_| chrono::Utc::now());
                let found = match kakehashi_engine::prefill::propose(&snap, &patient, asked, &items)
                {
                    Ok(Some(f)) => f,
                    Ok(None) => {
                        return Some(refuse(
                            "the enrolled patient is not in the site's current data".into(),
                        ));
                    }
                    Err(e) => return Some(refuse(format!("the site's data cannot be read: {e}"))),
                };
                let mut proposals: Vec<Proposal> = found
                    .into_iter()
                    .map(|(field, o)| match o {
                        Ok(f) => Proposal {
                            field,
                            value: Some(f.value),
                            source: Some(ValueSource {
                                resource: f.resource.to_owned(),
                                code: f.code,
                                at: f.at,
                                original: f.original,
                                unit: f.unit,
                            }),
                            note: None,
                        },
                        Err(note) => Proposal {
                            field,
                            value: None,
                            source: None,
                            note: Some(note),
                        },
                    })
                    .collect();
                proposals.extend(left_out.into_iter().map(|field| Proposal {
                    field,
                    value: None,
                    source: None,
                    note: Some("this site's policy leaves the item out".into()),
                }));
                Some(PrefillAnswer {
                    version: PREFILL_VERSION,
                    id: r.id.clone(),
                    outcome: PrefillOutcome::Proposed { proposals },
                })
            }
        }
    }

    /// Audits an answer, sends it, and closes it in the steward's queue.
    async fn send_prefill(&self, a: PrefillAnswer) {
        let kind = match a.outcome {
            PrefillOutcome::Proposed { .. } => "prefill_sent",
            PrefillOutcome::Refused { .. } => "prefill_refused",
        };
        // recorded as it is about to leave
        self.audit_event(kind, serde_json::to_value(&a).unwrap_or_default());
        let give_up = Some(Instant::now() + Duration::from_secs(self.cfg.poll_seconds.max(5)));
        let r = self
            .call("prefill-answer", give_up, || {
                self.http
                    .post(self.url("/api/site/prefill"))
                    .json(&a)
                    .timeout(Duration::from_secs(30))
            })
            .await;
        match r {
            Ok(_) => {
                if let Ok(q) = PrefillQueue::open(&self.cfg.state_dir())
                    && q.state(&a.id).ok().flatten().is_some()
                {
                    let _ = q.sent(&a.id);
                }
            }
            Err(e) => {
                tracing::warn!(id = %a.id, error = %e, "the pre-fill answer did not reach the hub; answered again after the next poll");
            }
        }
    }
}
