//! The audit gate in front of every answer: a site sends only what its log has recorded.

use super::{Agent, TaskOutcome};
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
}
