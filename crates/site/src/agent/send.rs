//! Sending a signed answer (or refusal) to the hub: in one post, or, when larger than
//! `upload_threshold_bytes`, as a resumable upload in parts of `upload_chunk_bytes`. Failures
//! are retried with backoff until a minute after the task's deadline; a final `4xx` is
//! recorded (site audit `answer_refused_by_hub`, with the hub's status and reason, and the
//! steward's records) and the task is never run or sent again.

use super::Agent;
use super::backoff::{Attempt, CallError};
use base64::Engine;
use chrono::Utc;
use kakehashi_federation::Envelope;
use kakehashi_model::TaskId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// The hub's view of an upload (`/api/site/uploads`).
#[derive(Debug, Deserialize)]
struct UploadState {
    id: String,
    offset: u64,
}

/// A new upload: the task, the answer's size and SHA-256 (hex).
#[derive(Serialize)]
struct NewUpload<'a> {
    task: &'a TaskId,
    size: u64,
    sha256: &'a str,
}

/// One part of an upload, at its offset.
#[derive(Serialize)]
struct Part<'a> {
    offset: u64,
    data: &'a str,
}

impl Agent {
    /// Sends a signed answer until the hub takes it, refuses it or a minute after the deadline
    /// has passed. The task is kept as finished either way, so a later poll never starts it
    /// again.
    pub(super) async fn deliver(
        &self,
        task: &TaskId,
        deadline: chrono::DateTime<Utc>,
        env: &Envelope,
    ) {
        let left = (deadline + chrono::Duration::seconds(60) - Utc::now())
            .to_std()
            .unwrap_or_default();
        let give_up = Some(Instant::now() + left);
        let body = serde_json::to_vec(env).expect("an envelope serialises");
        let sent = if body.len() as u64 > self.cfg.upload_threshold_bytes {
            self.upload(task, give_up, &body).await
        } else {
            self.call("answer", give_up, || {
                self.http
                    .post(self.url("/api/site/answer"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .timeout(Duration::from_secs(30))
            })
            .await
            .map(drop)
        };
        match sent {
            Ok(()) => tracing::info!(task = %task, bytes = body.len(), "answer sent"),
            Err(CallError::Refused { status, reason }) => {
                tracing::warn!(task = %task, %status, reason, "the hub refused the answer; the task is finished here");
                self.audit_event(
                    "answer_refused_by_hub",
                    serde_json::json!({"task": task, "status": status.as_u16(), "reason": reason}),
                );
                if let Err(e) = self
                    .steward
                    .refused_by_hub(task.as_str(), status.as_u16(), &reason)
                {
                    tracing::error!(task = %task, error = %e, "could not record the hub's refusal");
                }
            }
            Err(CallError::GaveUp(e)) => {
                tracing::warn!(task = %task, error = e, "giving up sending the answer")
            }
        }
        self.finish(task, deadline);
    }

    /// Uploads `body` in parts, resuming from the hub's offset after a failure, then commits
    /// it: the hub checks its size and SHA-256 and takes it as it takes a posted answer.
    async fn upload(
        &self,
        task: &TaskId,
        give_up: Option<Instant>,
        body: &[u8],
    ) -> Result<(), CallError> {
        let size = body.len() as u64;
        let sha256 = hex::encode(Sha256::digest(body));
        let chunk = self.cfg.upload_chunk_bytes.max(1);
        let state = |resp: reqwest::Response| async move {
            resp.json::<UploadState>()
                .await
                .map_err(|e| CallError::GaveUp(format!("upload state: {e}")))
        };
        // the hub keeps one upload per (task, site, size, SHA-256): after a restart of either,
        // this finds the one begun and its offset
        let create = || {
            self.http
                .post(self.url("/api/site/uploads"))
                .json(&NewUpload {
                    task,
                    size,
                    sha256: &sha256,
                })
                .timeout(Duration::from_secs(30))
        };
        let mut upload = state(self.call("upload", give_up, create).await?).await?;
        tracing::info!(task = %task, size, offset = upload.offset, "uploading the answer");
        let mut backoff = self.backoff();
        let mut recreated = 0;
        while upload.offset < size {
            let start = upload.offset as usize;
            let end = (upload.offset + chunk).min(size) as usize;
            let data = base64::engine::general_purpose::STANDARD.encode(&body[start..end]);
            let part = self
                .http
                .patch(self.url(&format!("/api/site/uploads/{}", upload.id)))
                .json(&Part {
                    offset: upload.offset,
                    data: &data,
                })
                .timeout(Duration::from_secs(60));
            let (error, retry_after) = match self.attempt(part).await {
                Ok(resp) => {
                    upload = state(resp).await?;
                    backoff.reset();
                    continue;
                }
                // the upload expired or was removed at the hub: begin it again
                Err(Attempt::Refused { status, reason })
                    if status == reqwest::StatusCode::NOT_FOUND && recreated < 3 =>
                {
                    recreated += 1;
                    tracing::warn!(task = %task, reason, "the hub lost the upload; beginning again");
                    upload = state(self.call("upload", give_up, create).await?).await?;
                    continue;
                }
                // another offset at the hub: ask it where it stands
                Err(Attempt::Refused { status, reason })
                    if status == reqwest::StatusCode::CONFLICT =>
                {
                    (reason, None)
                }
                Err(Attempt::Refused { status, reason }) => {
                    return Err(CallError::Refused { status, reason });
                }
                Err(Attempt::Later { error, retry_after }) => (error, retry_after),
            };
            self.pause("upload part", &mut backoff, give_up, error, retry_after)
                .await?;
            let url = self.url(&format!("/api/site/uploads/{}", upload.id));
            let resp = self
                .call("upload offset", give_up, || {
                    self.http.get(&url).timeout(Duration::from_secs(30))
                })
                .await?;
            upload = state(resp).await?;
            tracing::info!(task = %task, offset = upload.offset, "resuming the upload");
        }
        let url = self.url(&format!("/api/site/uploads/{}/commit", upload.id));
        self.call("upload commit", give_up, || {
            self.http
                .post(&url)
                .json(&serde_json::json!({}))
                .timeout(Duration::from_secs(60))
        })
        .await
        .map(drop)
    }
}
