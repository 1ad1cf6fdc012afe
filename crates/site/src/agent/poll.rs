//! The poll loop: after each poll the hub answered, the agent sends its catalogue if it changed
//! (`catalogue`), the study enrolments the hub has not answered yet (`enrolment`) and the pre-fill requests for its subjects (`prefill`); then it long-polls the hub (the hub holds the poll open until a task comes
//! or `poll_seconds` pass), tells it the tasks it has in hand, and starts each new task.

use super::Agent;
use super::backoff::CallError;
use kakehashi_federation::{IncomingPoll, IncomingTask, PROTOCOL_VERSION, PollRequest};
use std::sync::Arc;
use std::time::Duration;

impl Agent {
    /// Polls until `shutdown` is set, answering tasks as they come.
    pub async fn run(self: Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut shutdown = shutdown;
        tracing::info!(site = %self.cfg.site_id, hub = %self.cfg.hub, "agent started");
        // tasks held for the steward (or in flight) when the agent stopped: the hub no longer
        // hands out a held task, so the agent picks them up from its own records
        for task in self.steward.unfinished().unwrap_or_default() {
            self.spawn_task(IncomingTask {
                id: task.id,
                project: task.project,
                requested_by: task.requested_by,
                created: task.created,
                deadline: task.deadline,
                spec: Ok(task.spec),
            });
        }
        let mut reachable = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            // the catalogue only while the hub answers polls: a hub that refuses or cannot be
            // reached sees the poll's backoff alone, not a second stream of retries
            if reachable {
                tokio::select! {
                    _ = self.sync_catalogue() => {},
                    _ = shutdown.changed() => return,
                }
                tokio::select! {
                    _ = self.sync_enrolments() => {},
                    _ = shutdown.changed() => return,
                }
                tokio::select! {
                    _ = self.sync_prefill() => {},
                    _ = shutdown.changed() => return,
                }
            }
            let res = tokio::select! {
                r = self.poll() => r,
                _ = shutdown.changed() => return,
            };
            reachable = res.is_ok();
            let pause = match res {
                Ok(tasks) => {
                    let n = tasks.len();
                    let started = tasks
                        .into_iter()
                        .filter(|t| self.spawn_task(t.clone()))
                        .count();
                    // every task offered is already in hand (a hub that does not read
                    // `in_hand` returns at once while they run): pause instead of spinning
                    (n > 0 && started == 0).then(|| Duration::from_millis(500))
                }
                Err(e) => {
                    // a poll the hub refuses (a wrong token, another protocol version) waits
                    // for the operator: the longest pause, then again
                    let (_, cap) = self.cfg.backoff();
                    tracing::error!(error = %e, retry_in_s = cap.as_secs(), "the hub refused the poll");
                    Some(cap)
                }
            };
            if let Some(pause) = pause {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {},
                    _ = shutdown.changed() => return,
                }
            }
        }
    }

    /// One long poll, retried with backoff until the hub answers it or refuses it.
    async fn poll(&self) -> Result<Vec<IncomingTask>, CallError> {
        let resp = self
            .call("poll", None, || {
                let req = PollRequest {
                    protocol: PROTOCOL_VERSION,
                    version: env!("CARGO_PKG_VERSION").into(),
                    snapshot: self.snapshot_info(),
                    policy: self.cfg.disclosure.summary(),
                    audit_head: self.audit.head(),
                    wait_seconds: self.cfg.poll_seconds,
                    signed_head: Some(self.signed_head()),
                    in_hand: self.in_hand(),
                };
                self.http
                    .post(self.url("/api/site/poll"))
                    .json(&req)
                    .timeout(Duration::from_secs(self.cfg.poll_seconds + 15))
            })
            .await?;
        // a poll the hub answered but the agent cannot read is retried like a failed one
        let poll = match resp.json::<IncomingPoll>().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable poll response");
                tokio::time::sleep(self.backoff().next(None)).await;
                return Ok(Vec::new());
            }
        };
        if let Some(h) = &poll.hub_head {
            self.remember_hub_head(h);
        }
        Ok(poll.tasks)
    }
}
