//! The agent's side of the steward's queue: every task is recorded for the steward console; in
//! manual-approval mode a task waits for the steward's decision (and the hub is told it is
//! awaiting approval here); what leaves the site is recorded byte for byte.

use super::Agent;
use crate::steward::{Approval, TaskState, Verdict};
use kakehashi_disclosure::{GatedTable, Refusal, Released};
use kakehashi_federation::approval::{HeldState, TASK_STATE_VERSION, TaskStateReport};
use kakehashi_federation::{Envelope, Task};
use std::time::Duration;

/// ε a released table spent at this site (0 for a repeated question or without noise).
pub(super) fn spent(t: &Released<GatedTable>) -> f64 {
    let d = &t.get().disclosure;
    if d.repeated {
        0.0
    } else {
        d.epsilon.unwrap_or(0.0)
    }
}

impl Agent {
    /// Records a task for the steward and, in manual-approval mode, waits for the decision:
    /// `Some(Ok(()))` to go on, `Some(Err(refusal))` to send the steward's refusal, `None`
    /// to send nothing (the deadline passed while it waited).
    pub(super) async fn steward_verdict(&self, task: &Task) -> Option<Result<(), Refusal>> {
        let state = match self.steward.received(task) {
            Ok(s) => s,
            Err(e) => {
                // without its records the steward cannot decide: refuse rather than release
                tracing::error!(error = %e, task = %task.id, "steward records failed");
                return match self.steward.approval() {
                    Approval::Auto => Some(Ok(())),
                    Approval::Manual => Some(Err(Refusal::Ledger(format!(
                        "the steward's queue failed: {e}"
                    )))),
                };
            }
        };
        if state != TaskState::Waiting {
            return Some(Ok(()));
        }
        self.audit_event(
            "task_held",
            serde_json::json!({"task": task.id, "project": task.project, "reason": "awaiting the data steward's approval"}),
        );
        self.report_held(task).await;
        match self.steward.verdict(task).await {
            Verdict::Go => Some(Ok(())),
            Verdict::Refuse(comment) => Some(Err(Refusal::StewardRefused { comment })),
            Verdict::Expired => {
                self.audit_event(
                    "task_skipped",
                    serde_json::json!({"task": task.id, "reason": "the data steward did not decide before the deadline"}),
                );
                None
            }
        }
    }

    /// Tells the hub the task awaits approval here (retried with backoff until the deadline;
    /// an older hub without the call answers 404 and the task shows as pending there).
    async fn report_held(&self, task: &Task) {
        let report = TaskStateReport {
            version: TASK_STATE_VERSION,
            task: task.id.clone(),
            state: HeldState::AwaitingApproval,
        };
        let left = (task.deadline - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        let give_up = Some(std::time::Instant::now() + left);
        let r = self
            .call("task-state", give_up, || {
                self.http
                    .post(self.url("/api/site/task-state"))
                    .json(&report)
                    .timeout(Duration::from_secs(15))
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(task = %task.id, error = %e, "the hub did not take the awaiting-approval report");
        }
    }

    /// Records the outcome and the signed body, exactly as it is about to leave.
    pub(super) fn record_sent(
        &self,
        task: &Task,
        status: &str,
        reason: Option<String>,
        spent: Option<f64>,
        env: &Envelope,
    ) {
        let state = match status {
            "answered" => TaskState::Answered,
            "refused" => TaskState::Refused,
            _ => TaskState::Failed,
        };
        if let Err(e) = self.steward.sent(
            task.id.as_str(),
            state,
            reason.as_deref(),
            spent,
            &env.body,
            &env.signature,
        ) {
            tracing::error!(error = %e, task = %task.id, "could not record the sent answer for the steward");
        }
    }
}
