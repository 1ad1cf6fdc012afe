//! Sites: registration, the network's status, and the site protocol (polls, signed answers,
//! approval holds).

use super::{ApiResult, anchor};
use crate::auth::new_secret;
use crate::db::{SiteRow, Stored, User};
use crate::{ApiError, Hub};
use chrono::{Duration, Utc};
use kakehashi_federation::approval::{HeldState, TaskStateReport};
use kakehashi_federation::{
    Answer, Envelope, Outcome, PROTOCOL_VERSION, PollRequest, PollResponse, SiteStatus,
};
use kakehashi_model::{Country, SiteId, TaskId};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The network as the hub sees it now. Blocking.
pub fn site_statuses(hub: &Hub) -> ApiResult<Vec<SiteStatus>> {
    let cutoff = Utc::now() - Duration::seconds(hub.cfg.tasks.offline_after_seconds as i64);
    Ok(hub
        .db
        .sites()?
        .into_iter()
        .map(|s| SiteStatus {
            status: match s.last_seen {
                None => "never".into(),
                Some(t) if t >= cutoff => "online".into(),
                Some(_) => "offline".into(),
            },
            id: s.id,
            name: s.name,
            country: s.country,
            last_seen: s.last_seen,
            snapshot: s.snapshot,
            policy: s.policy,
            version: s.version,
        })
        .collect())
}

/// A site an administrator registers.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Country (ISO code).
    pub country: String,
    /// The site's Ed25519 public key, base64.
    pub public_key: String,
}

/// Registers (or re-keys) a site; returns its id and its new token (shown once).
pub fn register_site(hub: &Hub, by: &User, b: NewSite) -> ApiResult<(SiteId, String)> {
    let id = SiteId::new(b.id).map_err(|e| ApiError::bad_request(format!("id: {e}")))?;
    let country: Country = b
        .country
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("country: {e}")))?;
    kakehashi_federation::sign::parse_public_key(&b.public_key)
        .map_err(|e| ApiError::bad_request(format!("public_key: {e}")))?;
    let token = new_secret("khs_");
    hub.db
        .put_site(&id, &b.name, country, &b.public_key, &token)?;
    hub.audit_log("site_registered", serde_json::json!({"site": id, "name": b.name, "country": country, "public_key": b.public_key, "by": by.name}))?;
    Ok((id, token))
}

/// A site's long poll: records its heartbeat and keeps its signed audit head, then answers
/// with its open tasks as soon as there are any, or with none when the poll's time is up;
/// every answer carries the hub's signed audit head.
pub async fn poll(hub: &Arc<Hub>, site: SiteRow, req: PollRequest) -> ApiResult<PollResponse> {
    if req.protocol != PROTOCOL_VERSION {
        return Err(ApiError::conflict(format!(
            "protocol version {} at the site, {PROTOCOL_VERSION} at the hub: update the site",
            req.protocol
        )));
    }
    hub.metrics.polls.fetch_add(1, Ordering::Relaxed);
    let until = tokio::time::Instant::now()
        + std::time::Duration::from_secs(req.wait_seconds.min(hub.cfg.tasks.max_poll_seconds));
    let site = Arc::new(site);
    let s = site.clone();
    hub.blocking(move |h| {
        h.db.site_seen(
            &s.id,
            req.snapshot.as_ref(),
            &req.policy,
            &req.version,
            &req.audit_head,
        )?;
        if let Some(head) = &req.signed_head {
            anchor::remember_site_head(h, &s, head);
        }
        Ok(())
    })
    .await?;
    let in_hand: Arc<std::collections::HashSet<TaskId>> =
        Arc::new(req.in_hand.into_iter().collect());
    loop {
        // registered before the tasks are read, so a task created while they are read still
        // wakes this poll (`notify_waiters` reaches only registered waiters)
        let mut notified = std::pin::pin!(hub.new_task.notified());
        notified.as_mut().enable();
        let s = site.clone();
        let hand = in_hand.clone();
        let timed_out = tokio::time::Instant::now() >= until;
        // the tasks and the hub's signed head, read together when the answer is due; the tasks
        // the site has in hand are left out (it is answering them)
        let answer = hub
            .blocking(move |h| {
                let mut tasks = h.db.open_tasks_for_site(&s.id)?;
                tasks.retain(|t| !hand.contains(&t.id));
                Ok((!tasks.is_empty() || timed_out).then(|| PollResponse {
                    tasks,
                    hub_head: Some(anchor::signed_head(h)),
                }))
            })
            .await?;
        if let Some(answer) = answer {
            return Ok(answer);
        }
        if tokio::time::timeout_at(until, notified).await.is_err() {
            let tasks = Vec::new();
            let hub_head = Some(hub.blocking(|h| Ok(anchor::signed_head(h))).await?);
            return Ok(PollResponse { tasks, hub_head });
        }
    }
}

/// Accepts a site's signed answer: the envelope must be the site's, its signature valid, the
/// task one the site was asked and has not answered otherwise. Logs it (`answer_received`),
/// counts it and wakes the readers. Idempotent: a retry of exactly the stored signed answer
/// succeeds again, and is logged then if the hub stopped between storing and logging it the
/// first time (the record says `"repaired": true`). Blocking.
pub fn accept_answer(hub: &Hub, site: &SiteRow, body: &[u8]) -> ApiResult<()> {
    let reject = |e: ApiError| {
        hub.metrics.answers_rejected.fetch_add(1, Ordering::Relaxed);
        e
    };
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| reject(ApiError::bad_request(format!("answer envelope: {e}"))))?;
    if env.site != site.id {
        return Err(reject(ApiError::forbidden(format!(
            "site {} cannot answer as {}",
            site.id, env.site
        ))));
    }
    let key = kakehashi_federation::sign::parse_public_key(&site.public_key)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    kakehashi_federation::sign::open(&env, &key)
        .map_err(|e| reject(ApiError::forbidden(e.to_string())))?;
    let answer: Answer = serde_json::from_str(&env.body)
        .map_err(|e| reject(ApiError::bad_request(format!("answer: {e}"))))?;
    if answer.site != site.id {
        return Err(reject(ApiError::forbidden("the answer names another site")));
    }
    let body_sha256 = crate::db::secret_hash(&env.body);
    // one answer at a time from storing to logging, so a retry racing its original is
    // logged once
    let _one = hub.accepting.lock().unwrap_or_else(|p| p.into_inner());
    let repaired = match hub.db.put_answer(&answer, &env, Utc::now())? {
        Stored::New => false,
        Stored::Same => {
            let logged = hub.audit.find_for_site(site.id.as_str(), |e| {
                e.kind == "answer_received"
                    && e.detail["task"] == answer.task.as_str()
                    && e.detail["body_sha256"] == body_sha256.as_str()
            })?;
            if logged.is_some() {
                return Ok(());
            }
            tracing::warn!(task = %answer.task, site = %site.id, "a stored answer was not logged; logging it now");
            true
        }
        Stored::Refused => {
            return Err(reject(ApiError::conflict(format!(
                "task {} was not sent to {} or is already answered",
                answer.task, site.id
            ))));
        }
    };
    let status = match &answer.outcome {
        Outcome::Answered { .. } | Outcome::Statistics { .. } => {
            hub.metrics.answers_answered.fetch_add(1, Ordering::Relaxed);
            "answered"
        }
        Outcome::Refused { .. } => {
            hub.metrics.answers_refused.fetch_add(1, Ordering::Relaxed);
            "refused"
        }
        Outcome::Failed { .. } => {
            hub.metrics.answers_failed.fetch_add(1, Ordering::Relaxed);
            "failed"
        }
    };
    let mut detail = serde_json::json!({"task": answer.task, "site": site.id, "status": status, "signature": env.signature, "site_audit_head": answer.audit_head, "body_sha256": body_sha256});
    if repaired {
        detail["repaired"] = true.into();
    }
    hub.audit_log("answer_received", detail)?;
    hub.answer_arrived(answer.task.as_str());
    Ok(())
}

/// Records that a site holds a task for its data steward's approval: the task shows "awaiting
/// approval at <site>" and leaves the site's polls until it answers. Blocking.
pub fn hold(hub: &Hub, site: &SiteRow, report: &TaskStateReport) -> ApiResult<()> {
    let state = match report.state {
        HeldState::AwaitingApproval => "awaiting_approval",
    };
    if !hub
        .db
        .put_hold(report.task.as_str(), &site.id, state, Utc::now())?
    {
        return Err(ApiError::conflict(format!(
            "task {} was not sent to {} or is already answered",
            report.task, site.id
        )));
    }
    hub.audit_log(
        "task_held",
        serde_json::json!({"task": report.task, "site": site.id, "state": state}),
    )?;
    hub.answer_arrived(report.task.as_str());
    Ok(())
}
