//! Asking the network and reading answers: `/api/tasks`, `/api/tasks/{id}` and the typed
//! results `/api/tasks/{id}/antibiogram` and `/api/tasks/{id}/surveillance`.

use super::{S, json_body};
use crate::context::Caller;
use crate::db::Role;
use crate::service::tasks::{NewTask, create_task_for, visible_task, wait_merged};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_federation::{Merged, Task, TaskSpec};
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/tasks", post(create_task).get(list_tasks))
        .route("/api/tasks/{id}", get(get_task))
        .route("/api/tasks/{id}/antibiogram", get(get_antibiogram))
        .route("/api/tasks/{id}/surveillance", get(get_surveillance))
}

/// The body of `POST /api/tasks`: the question is read on its own, so its errors name the
/// field (`spec.organisms[1]: ...`) and an unsupported version says which this hub supports.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTaskBody {
    project: String,
    spec: Box<serde_json::value::RawValue>,
    #[serde(default)]
    deadline_seconds: Option<u64>,
}

async fn create_task(
    State(hub): S,
    Caller(user): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    crate::context::require(&user, Role::Researcher)?;
    let b: NewTaskBody = json_body(&body, "request body")?;
    let spec = TaskSpec::from_json(b.spec.get(), "hub")
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    // a GLM round's coefficients must be the hub's own IRLS iterates, never chosen by a caller
    if matches!(spec, TaskSpec::Statistics(_)) {
        return Err(ApiError::bad_request(
            "spec.type: statistics are asked through /api/projects/{project}/stats/summary, .../table, .../glm, .../km, .../cox or .../meta, where the hub drives the rounds",
        ));
    }
    let t = NewTask {
        project: b.project,
        spec,
        deadline_seconds: b.deadline_seconds,
    };
    let task = hub.blocking(move |h| create_task_for(h, &user, t)).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

#[derive(Deserialize)]
struct ListQuery {
    project: Option<String>,
    limit: Option<u32>,
}

async fn list_tasks(
    State(hub): S,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Task>>, ApiError> {
    let limit = q.limit.unwrap_or(50).min(500);
    Ok(Json(
        hub.blocking(move |h| Ok(h.db.tasks_for(&user, q.project.as_deref(), limit)?))
            .await?,
    ))
}

/// A check that a task is of the type a route expects, and that type's name.
type Kind = (fn(&TaskSpec) -> bool, &'static str);

#[derive(Deserialize)]
struct WaitQuery {
    wait: Option<u64>,
}

/// The task (one the caller may see) merged as of now, after waiting up to `?wait=` seconds
/// (at most 120) for the sites; `kind` names the task type the route expects, if any.
async fn read(
    hub: &Arc<Hub>,
    user: crate::db::User,
    id: String,
    wait: Option<u64>,
    kind: Option<Kind>,
) -> Result<Merged, ApiError> {
    let i = id.clone();
    let task = hub.blocking(move |h| visible_task(h, &user, &i)).await?;
    if let Some((is, name)) = kind
        && !is(&task.spec)
    {
        return Err(ApiError::bad_request(format!(
            "task {id} is a {} task, not {name}",
            task.spec.kind()
        )));
    }
    let wait = std::time::Duration::from_secs(wait.unwrap_or(0).min(120));
    wait_merged(hub, &task, wait).await
}

async fn get_antibiogram(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<kakehashi_federation::antibiogram::AntibiogramResult>, ApiError> {
    let is = |s: &TaskSpec| matches!(s, TaskSpec::Antibiogram(_));
    let m = read(&hub, user, id, q.wait, Some((is, "an antibiogram"))).await?;
    Ok(Json(kakehashi_federation::antibiogram::result(
        &m,
        &hub.cfg.rules,
    )))
}

async fn get_surveillance(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<kakehashi_federation::surveillance::SurveillanceResult>, ApiError> {
    let is = |s: &TaskSpec| matches!(s, TaskSpec::SurveillanceSeries(_));
    let m = read(&hub, user, id, q.wait, Some((is, "a surveillance series"))).await?;
    Ok(Json(kakehashi_federation::surveillance::result(
        &m,
        &hub.cfg.rules,
    )))
}

async fn get_task(
    State(hub): S,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<Merged>, ApiError> {
    Ok(Json(read(&hub, user, id, q.wait, None).await?))
}
