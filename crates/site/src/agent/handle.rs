//! Handling one task: read it, record it for the steward, admit it, compute it and pass it
//! through the gate on a blocking thread within the time bound, log it, sign it and send it. A
//! task whose answer the hub refused is never run again; one whose signed answer was already
//! recorded (the agent stopped before the hub took it) is sent again as recorded, not
//! recomputed.

use super::{Agent, Payload, TaskOutcome, approval};
use crate::admission;
use crate::tasks::{self, Computed};
use chrono::Utc;
use kakehashi_disclosure::{Question, Refusal};
use kakehashi_federation::{AnswerOut, Envelope, IncomingTask, Note, OutcomeOut, Task, TaskSpec};
use std::sync::Arc;

impl Agent {
    /// Handles one task: a question this site cannot read (an unsupported version, an unknown
    /// field, too many codes) is answered with the reason, before anything is computed or
    /// spent; any other is admitted, computed, gated, logged, signed and sent.
    pub(super) async fn handle(self: &Arc<Self>, incoming: IncomingTask) {
        let log = |kind: &str, detail: serde_json::Value| {
            if let Err(e) = self.audit.append(kind, detail) {
                tracing::error!(error = %e, "audit log append failed");
            }
        };
        if self.done_before(&incoming).await {
            return;
        }
        let task = match incoming.spec {
            Ok(spec) => Task {
                id: incoming.id,
                project: incoming.project,
                requested_by: incoming.requested_by,
                created: incoming.created,
                deadline: incoming.deadline,
                spec,
            },
            Err(e) => {
                let error = e.to_string();
                log(
                    "task_refused",
                    serde_json::json!({"task": incoming.id, "project": incoming.project, "requested_by": incoming.requested_by, "error": error}),
                );
                let head = self.audit.head();
                let a = AnswerOut {
                    task: &incoming.id,
                    site: &self.cfg.site_id,
                    snapshot: None,
                    elapsed_ms: 0,
                    audit_head: &head,
                    outcome: OutcomeOut::Failed { error: &error },
                };
                let body = serde_json::to_string(&a).expect("an answer serialises");
                let env = self.key.seal(&self.cfg.site_id, body);
                self.deliver(&incoming.id, incoming.deadline, &env).await;
                return;
            }
        };
        log(
            "task_received",
            serde_json::json!({"task": task.id, "project": task.project, "requested_by": task.requested_by, "type": task.spec.kind(), "deadline": task.deadline, "spec": task.spec}),
        );
        if Utc::now() > task.deadline {
            log(
                "task_skipped",
                serde_json::json!({"task": task.id, "reason": "deadline passed before the site saw it"}),
            );
            let _ = self.steward.expired(task.id.as_str());
            return;
        }
        // the steward's queue: in manual-approval mode the task waits for a decision
        let Some(steward_ok) = self.steward_verdict(&task).await else {
            return;
        };
        let started = std::time::Instant::now();
        let snapshot = self.snapshot_info();
        // Admission: decided before anything is computed (project, rate, estimated work).
        let admitted = steward_ok.and_then(|()| {
            let snap_now = self.cache.snapshot(&self.store).ok();
            self.gate
                .admit(&admission::admission(&task, snap_now.as_deref()))
        });
        let outcome: TaskOutcome = match admitted {
            Err(r) => Err(Ok(r)),
            Ok(()) => {
                let me = self.clone();
                let mut spec = task.spec.clone();
                // a hub that sets no evaluation date: ages as of the day the task was made
                if let kakehashi_federation::TaskSpec::Cohort(r) = &spec
                    && r.evaluation_date().is_none()
                {
                    match r.clone().with_evaluation_date(task.created.date_naive()) {
                        Ok(dated) => spec = kakehashi_federation::TaskSpec::Cohort(dated),
                        Err(e) => tracing::warn!(error = %e, "evaluation date"),
                    }
                }
                if let kakehashi_federation::TaskSpec::Samples(r) = &spec
                    && r.cohort().evaluation_date().is_none()
                {
                    match r.clone().with_evaluation_date(task.created.date_naive()) {
                        Ok(dated) => spec = kakehashi_federation::TaskSpec::Samples(dated),
                        Err(e) => tracing::warn!(error = %e, "evaluation date"),
                    }
                }
                if let TaskSpec::Statistics(r) = &spec
                    && r.evaluation_date().is_none()
                {
                    match r.clone().with_evaluation_date(task.created.date_naive()) {
                        Ok(dated) => spec = TaskSpec::Statistics(dated),
                        Err(e) => tracing::warn!(error = %e, "evaluation date"),
                    }
                }
                let site = self.cfg.site_id.to_string();
                let limit = self.cfg.disclosure.max_seconds;
                let (project, researcher) = (task.project.clone(), task.requested_by.clone());
                // The time bound covers the computation and the gate: a large table's noise
                // takes its time too (a 450,000-cell antibiogram took 25 s in the gate, past a
                // 3 s bound that covered only the computation). The gate checks the bound after
                // drawing the noise and before charging the ledger, so a task refused for its
                // time spends nothing; the runtime gives the thread a grace of two seconds past
                // the bound to hand over what the gate released, and refuses after that (the
                // thread's late result is dropped, and its gate call finds the bound passed).
                let work = move || -> TaskOutcome {
                    let deadline = std::time::Instant::now() + admission::compute_limit(limit);
                    if let TaskSpec::Statistics(r) = &spec {
                        // exact sums under the statistics rules, released by their own path
                        let min = me.gate.policy().min_count;
                        let s = tasks::compute_statistics(
                            &me.store,
                            &me.cache,
                            &me.row_sets,
                            &site,
                            r,
                            min,
                        )
                        .map_err(|e| Err(e.to_string()))?;
                        let q = Question {
                            project: &project,
                            researcher: &researcher,
                            key: &s.key,
                            sensitivity: 1,
                        };
                        let released = me.gate.release_exact(&q, s.answer).map_err(Ok)?;
                        // the rows are remembered before the answer leaves: a later analysis
                        // differing from them by a few patients is refused (differencing)
                        me.row_sets
                            .record(s.rows)
                            .map_err(|e| Err(format!("statistics: recording the rows: {e}")))?;
                        return Ok((Payload::Statistics(released), Vec::new(), None));
                    }
                    let Computed {
                        table,
                        key,
                        sensitivity,
                        snapshot_tag,
                        mut notes,
                        series,
                        denominator,
                    } = tasks::compute(&me.store, &me.cache, &site, &spec)
                        .map_err(|e| Err(e.to_string()))?;
                    let q = Question {
                        project: &project,
                        researcher: &researcher,
                        key: &key,
                        sensitivity,
                    };
                    let released = if series {
                        me.gate.release_series_before(&q, table, deadline)
                    } else {
                        me.gate.release_before(&q, table, deadline)
                    }
                    .map_err(Ok)?;
                    // The denominator is its own question: spent once per project and snapshot.
                    let den = denominator.and_then(|d| {
                        let dkey = crate::key::denominator(&snapshot_tag);
                        let dq = Question {
                            project: &project,
                            researcher: &researcher,
                            key: &dkey,
                            sensitivity: 1,
                        };
                        me.gate
                            .release_before(&dq, d, deadline)
                            .map_err(|refusal| notes.push(Note::DenominatorRefused { refusal }))
                            .ok()
                    });
                    Ok((Payload::Table(released), notes, den))
                };
                match tokio::time::timeout(
                    admission::compute_limit(limit) + std::time::Duration::from_secs(2),
                    tokio::task::spawn_blocking(work),
                )
                .await
                {
                    Err(_) => Err(Ok(Refusal::TooSlow {
                        limit_seconds: limit,
                    })),
                    Ok(Err(e)) => Err(Err(format!("the task crashed at the site: {e}"))),
                    Ok(Ok(outcome)) => outcome,
                }
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let outcome = self.log_release(&task, outcome, elapsed_ms);
        let (status, refusal, error) = match &outcome {
            Ok(_) => ("answered", None, None),
            Err(Ok(r)) => ("refused", Some(r.clone()), None),
            Err(Err(e)) => ("failed", None, Some(e.clone())),
        };
        let head = self.audit.head();
        let body = {
            let outcome = match &outcome {
                Ok((Payload::Table(r), notes, den)) => OutcomeOut::Answered {
                    table: r,
                    notes,
                    denominator: den.as_ref(),
                },
                Ok((Payload::Statistics(r), notes, _)) => {
                    OutcomeOut::Statistics { result: r, notes }
                }
                Err(Ok(r)) => OutcomeOut::Refused { refusal: r },
                Err(Err(e)) => OutcomeOut::Failed { error: e },
            };
            let a = AnswerOut {
                task: &task.id,
                site: &self.cfg.site_id,
                snapshot: snapshot.as_ref(),
                elapsed_ms,
                audit_head: &head,
                outcome,
            };
            serde_json::to_string(&a).expect("an answer serialises")
        };
        let env = self.key.seal(&self.cfg.site_id, body);
        let spent = match &outcome {
            Ok((Payload::Table(r), _, d)) => {
                Some(approval::spent(r) + d.as_ref().map_or(0.0, approval::spent))
            }
            // exact statistics spend no ε (their rules are not a budget)
            Ok((Payload::Statistics(_), _, _)) => Some(0.0),
            _ => None,
        };
        let reason = refusal.as_ref().map(ToString::to_string).or(error);
        self.record_sent(&task, status, reason, spent, &env);
        self.deliver(&task.id, task.deadline, &env).await;
    }

    /// A task this site has finished before (the agent restarted since): one whose answer the
    /// hub refused is left alone; one whose signed answer is recorded is sent again exactly as
    /// recorded. Returns whether the task is dealt with.
    async fn done_before(&self, incoming: &IncomingTask) -> bool {
        let id = incoming.id.as_str();
        if let Ok(Some((status, reason))) = self.steward.hub_refused(id) {
            tracing::info!(
                task = id,
                status,
                reason,
                "the hub refused this task's answer before; not running it again"
            );
            self.finish(&incoming.id, incoming.deadline);
            return true;
        }
        let Ok(Some(sent)) = self.steward.sent_body(id) else {
            return false;
        };
        self.audit_event(
            "answer_resent",
            serde_json::json!({"task": incoming.id, "reason": "the hub has not taken the recorded answer; sent again as recorded, not recomputed"}),
        );
        let env = Envelope {
            site: self.cfg.site_id.clone(),
            body: sent.body,
            signature: sent.signature,
        };
        self.deliver(&incoming.id, incoming.deadline, &env).await;
        true
    }
}
