//! The site's audit at its boundary: a site sends only what its log has recorded, signs its
//! audit head for the hub, and keeps the hub's signed heads (`<state>/hub-heads.jsonl`).

use super::{Agent, TaskOutcome};
use kakehashi_audit::anchor::{self, Remembered, SignedHead};
use kakehashi_disclosure::Refusal;
use kakehashi_federation::Task;

impl Agent {
    /// Records the answer about to leave the site (`answer_sent`, with exactly what it
    /// releases). When the record cannot be written the audit fails closed: the answer becomes
    /// [`Refusal::AuditUnavailable`], which carries no numbers.
    pub(super) fn log_release(
        &self,
        task: &Task,
        outcome: TaskOutcome,
        elapsed_ms: u64,
    ) -> TaskOutcome {
        let (status, released, denominator, refusal, error) = match &outcome {
            Ok((r, _, d)) => (
                "answered",
                serde_json::to_value(r).ok(),
                d.as_ref().and_then(|d| serde_json::to_value(d).ok()),
                None,
                None,
            ),
            Err(Ok(r)) => ("refused", None, None, Some(r.clone()), None),
            Err(Err(e)) => ("failed", None, None, None, Some(e.clone())),
        };
        let logged = self.audit.append(
            "answer_sent",
            serde_json::json!({"task": task.id, "project": task.project, "status": status, "released": released, "denominator": denominator, "refusal": refusal, "error": error, "elapsed_ms": elapsed_ms}),
        );
        match logged {
            Ok(_) => outcome,
            Err(e) => {
                tracing::error!(task = %task.id, error = %e, "the audit log cannot be written: nothing is released");
                let refusal = Refusal::AuditUnavailable;
                // the log is likely still failing; if it recovers, it records the refusal
                let _ = self.audit.append(
                    "answer_sent",
                    serde_json::json!({"task": task.id, "project": task.project, "status": "refused", "refusal": refusal, "elapsed_ms": elapsed_ms}),
                );
                Err(Ok(refusal))
            }
        }
    }

    /// The site's audit head, signed with the site's key.
    pub(super) fn signed_head(&self) -> SignedHead {
        let (seq, hash) = self.audit.head_seq();
        SignedHead::sign(&self.key, seq, &hash)
    }

    /// Keeps the hub's signed head. One that contradicts the last one kept (the hub's log
    /// went back or changed) is kept too and written to the site's audit log.
    pub(super) fn remember_hub_head(&self, head: &SignedHead) {
        let file = anchor::hub_heads_file(&self.cfg.state_dir());
        match anchor::remember(&file, head) {
            Ok(Remembered::New | Remembered::Same) => {}
            Ok(Remembered::Conflict(reason)) => {
                tracing::error!(%reason, "the hub's audit log went back");
                self.audit_event(
                    "hub_head_conflict",
                    serde_json::json!({"reason": reason, "seq": head.seq, "hash": head.hash}),
                );
            }
            Err(e) => tracing::warn!(error = %e, "could not keep the hub's signed head"),
        }
    }
}
