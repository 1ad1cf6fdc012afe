//! Tasks: creating one (and waking the sites' polls), reading one a user may see, merging its
//! answers, and waiting for them.

use super::ApiResult;
use crate::db::{Role, User};
use crate::{ApiError, Hub};
use chrono::{Duration, Utc};
use kakehashi_federation::merge::{Received, SiteRef};
use kakehashi_federation::{Merged, Task, TaskSpec};
use kakehashi_model::{ProjectId, SiteId, TaskId};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A request to ask the network.
#[derive(Debug)]
pub struct NewTask {
    /// The project.
    pub project: String,
    /// The question, checked by its type's constructor.
    pub spec: TaskSpec,
    /// Seconds until the deadline (the hub's default when absent).
    pub deadline_seconds: Option<u64>,
}

/// Creates a task in a project the caller belongs to and wakes the sites' polls. Blocking.
pub fn create_task_for(hub: &Hub, user: &User, t: NewTask) -> ApiResult<Task> {
    if user.role == Role::Steward {
        return Err(ApiError::forbidden(
            "stewards look after a site; asking the network needs the researcher role",
        ));
    }
    let project = ProjectId::new(t.project.clone())
        .map_err(|e| ApiError::bad_request(format!("project: {e}")))?;
    if !hub.db.project_exists(project.as_str())? {
        return Err(ApiError::not_found(format!(
            "project {project} does not exist"
        )));
    }
    if user.role != Role::Admin && !hub.db.is_member(project.as_str(), &user.name)? {
        return Err(ApiError::forbidden(format!(
            "you are not a member of project {project}"
        )));
    }
    let secs = t
        .deadline_seconds
        .unwrap_or(hub.cfg.tasks.default_deadline_seconds);
    if secs == 0 || secs > hub.cfg.tasks.max_deadline_seconds {
        return Err(ApiError::bad_request(format!(
            "deadline_seconds: between 1 and {}",
            hub.cfg.tasks.max_deadline_seconds
        )));
    }
    let now = Utc::now();
    let mut spec = t.spec;
    // ages are computed as of a day that is part of the question: today unless the
    // researcher gave one
    if let TaskSpec::Cohort(r) = &spec
        && r.evaluation_date().is_none()
    {
        spec = TaskSpec::Cohort(
            r.clone()
                .with_evaluation_date(now.date_naive())
                .map_err(|e| ApiError::bad_request(format!("spec.{e}")))?,
        );
    }
    if let TaskSpec::Samples(r) = &spec
        && r.cohort().evaluation_date().is_none()
    {
        spec = TaskSpec::Samples(
            r.clone()
                .with_evaluation_date(now.date_naive())
                .map_err(|e| ApiError::bad_request(format!("spec.{e}")))?,
        );
    }
    let task = Task {
        id: TaskId::new(uuid::Uuid::new_v4().to_string())
            .map_err(|e| ApiError::internal(e.to_string()))?,
        project,
        requested_by: user.name.clone(),
        created: now,
        deadline: now + Duration::seconds(secs as i64),
        spec,
    };
    let sites: Vec<SiteId> = hub.db.sites()?.into_iter().map(|s| s.id).collect();
    hub.db.put_task(&task, &sites)?;
    hub.audit_log(
        "task_created",
        serde_json::json!({"task": task.id, "project": task.project, "by": user.name, "type": task.spec.kind(), "sites": sites, "deadline": task.deadline, "spec": task.spec}),
    )?;
    hub.metrics.tasks.fetch_add(1, Ordering::Relaxed);
    hub.new_task.notify_waiters();
    Ok(task)
}

/// Merges a task's answers as of now. Blocking.
pub fn merged(hub: &Hub, task: &Task) -> ApiResult<Merged> {
    let asked = hub.db.task_sites(task.id.as_str())?;
    let refs: Vec<SiteRef> = hub
        .db
        .sites()?
        .into_iter()
        .filter(|s| asked.iter().any(|a| a == s.id.as_str()))
        .map(|s| SiteRef {
            id: s.id,
            name: s.name,
            country: s.country,
            last_seen: s.last_seen,
        })
        .collect();
    let answers: Vec<Received> = hub
        .db
        .answers(task.id.as_str())?
        .into_iter()
        .map(|(answer, at)| Received { answer, at })
        .collect();
    let mut m = kakehashi_federation::merge(
        task,
        &refs,
        &answers,
        Utc::now(),
        Duration::seconds(hub.cfg.tasks.offline_after_seconds as i64),
        &hub.cfg.rules,
    );
    for (site, since) in hub.db.holds(task.id.as_str())? {
        if let Ok(site) = SiteId::new(site) {
            m.mark_held(&site, since);
        }
    }
    Ok(m)
}

/// Reads a task the user may see. Blocking.
pub fn visible_task(hub: &Hub, user: &User, id: &str) -> ApiResult<Task> {
    let task = hub
        .db
        .task(id)?
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))?;
    if user.role != Role::Admin && !hub.db.is_member(task.project.as_str(), &user.name)? {
        return Err(ApiError::forbidden(format!(
            "task {id} belongs to project {}, which you are not a member of",
            task.project
        )));
    }
    Ok(task)
}

/// Waits until the task is complete, its deadline passes, or `wait` elapses; then merges.
pub async fn wait_merged(
    hub: &Arc<Hub>,
    task: &Task,
    wait: std::time::Duration,
) -> ApiResult<Merged> {
    let until = tokio::time::Instant::now() + wait;
    let notify = hub.task_notify(task.id.as_str());
    let result = loop {
        // registered before the answers are read, so one arriving meanwhile still wakes us
        let mut notified = std::pin::pin!(notify.notified());
        notified.as_mut().enable();
        let t = task.clone();
        let m = match hub.blocking(move |h| merged(h, &t)).await {
            Ok(m) => m,
            Err(e) => break Err(e),
        };
        let now = tokio::time::Instant::now();
        if m.complete || now >= until {
            break Ok(m);
        }
        let to_deadline = (task.deadline - Utc::now()).to_std().unwrap_or_default()
            + std::time::Duration::from_millis(50);
        let _ = tokio::time::timeout((until - now).min(to_deadline), notified).await;
    };
    hub.release_notify(task.id.as_str(), notify);
    result
}
