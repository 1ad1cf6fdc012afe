//! The JSON API: sites pull tasks and post signed answers; researchers create tasks and read
//! merged results; administrators manage users, projects and sites.

use crate::auth::{Admin, Caller, SiteCaller, hash_password, new_secret, password_ok};
use crate::db::{Role, User};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use kakehashi_federation::merge::{Received, SiteRef};
use kakehashi_federation::{
    Answer, Envelope, Merged, Outcome, PROTOCOL_VERSION, PollRequest, PollResponse, SiteStatus,
    Task, TaskSpec,
};
use kakehashi_model::{Country, ProjectId, SiteId, TaskId};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

type S = State<Arc<Hub>>;
type ApiResult<T> = Result<T, ApiError>;

/// The API's routes and metrics (the table is [`crate::openapi::ROUTES`]); [`crate::router`]
/// adds the web UI and the layers.
pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/tokens", post(create_token))
        .route("/api/sites", get(sites))
        .route("/api/projects", get(projects))
        .route("/api/tasks", post(create_task).get(list_tasks))
        .route("/api/tasks/{id}", get(get_task))
        .route("/api/tasks/{id}/antibiogram", get(get_antibiogram))
        .route("/api/tasks/{id}/surveillance", get(get_surveillance))
        .route("/api/admin/users", post(admin_user))
        .route("/api/admin/projects", post(admin_project))
        .route("/api/admin/sites", post(admin_site))
        .route("/api/admin/audit", get(admin_audit))
        .route("/api/steward/site", get(steward_site))
        .route("/api/site/poll", post(site_poll))
        .route("/api/site/answer", post(site_answer))
        .route("/api/site/task-state", post(site_task_state))
}

/// Counts the answers that refused a caller (401, 403) for the metrics.
pub(crate) async fn count_auth_failures(
    State(hub): S,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    if matches!(
        res.status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        hub.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
    res
}

async fn metrics(State(hub): S) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        hub.metrics_text(),
    )
        .into_response()
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

// ---- sessions and users

#[derive(Deserialize)]
struct LoginBody {
    name: String,
    password: String,
}

/// Signs a user in and returns the `Set-Cookie` value.
pub fn start_session(hub: &Hub, name: &str, password: &str) -> ApiResult<(User, String)> {
    let Some((user, hash)) = hub.db.user_with_hash(name)? else {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "wrong user name or password".into(),
        });
    };
    if !password_ok(password, &hash) {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "wrong user name or password".into(),
        });
    }
    let secret = new_secret("");
    hub.db.put_session(
        &secret,
        &user.name,
        Utc::now() + Duration::hours(hub.cfg.sessions.hours as i64),
    )?;
    let secure = hub
        .cfg
        .sessions
        .secure_cookie
        .unwrap_or(hub.cfg.tls.is_some());
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        crate::auth::SESSION_COOKIE,
        hub.cfg.sessions.hours * 3600,
        if secure { "; Secure" } else { "" }
    );
    Ok((user, cookie))
}

async fn login(State(hub): S, Json(b): Json<LoginBody>) -> ApiResult<Response> {
    let (user, cookie) = start_session(&hub, &b.name, &b.password)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(user)).into_response())
}

async fn logout(State(hub): S, _c: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    if let Some(s) = crate::auth::session_cookie(&headers) {
        hub.db.delete_session(&s)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn me(c: Caller) -> Json<User> {
    Json(c.0)
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(hub): S,
    c: Caller,
    Json(b): Json<TokenBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let token = new_secret("kh_");
    hub.db.put_token(&token, &c.0.name, &b.label)?;
    hub.audit_log(
        "token_created",
        serde_json::json!({"user": c.0.name, "label": b.label}),
    )?;
    Ok(Json(serde_json::json!({"token": token})))
}

/// The network as the hub sees it now.
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

async fn sites(State(hub): S, _c: Caller) -> ApiResult<Json<Vec<SiteStatus>>> {
    Ok(Json(site_statuses(&hub)?))
}

async fn projects(State(hub): S, c: Caller) -> ApiResult<Json<Vec<crate::db::Project>>> {
    Ok(Json(hub.db.projects_of(&c.0)?))
}

// ---- tasks

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

/// Creates a task in a project the caller belongs to and wakes the sites' polls.
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

async fn create_task(
    State(hub): S,
    c: Caller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Task>)> {
    c.require(Role::Researcher)?;
    let b: NewTaskBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    let spec = TaskSpec::from_json(b.spec.get(), "hub")
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let t = NewTask {
        project: b.project,
        spec,
        deadline_seconds: b.deadline_seconds,
    };
    Ok((StatusCode::CREATED, Json(create_task_for(&hub, &c.0, t)?)))
}

#[derive(Deserialize)]
struct ListQuery {
    project: Option<String>,
    limit: Option<u32>,
}

async fn list_tasks(
    State(hub): S,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<Task>>> {
    Ok(Json(hub.db.tasks_for(
        &c.0,
        q.project.as_deref(),
        q.limit.unwrap_or(50).min(500),
    )?))
}

/// Merges a task's answers as of now.
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

/// Reads a task the user may see.
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
pub async fn wait_merged(hub: &Hub, task: &Task, wait: std::time::Duration) -> ApiResult<Merged> {
    let until = tokio::time::Instant::now() + wait;
    let notify = hub.task_notify(task.id.as_str());
    let result = loop {
        let notified = notify.notified();
        let m = match merged(hub, task) {
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

#[derive(Deserialize)]
struct WaitQuery {
    wait: Option<u64>,
}

async fn get_antibiogram(
    State(hub): S,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> ApiResult<Json<kakehashi_federation::antibiogram::AntibiogramResult>> {
    let task = visible_task(&hub, &c.0, &id)?;
    if !matches!(task.spec, TaskSpec::Antibiogram(_)) {
        return Err(ApiError::bad_request(format!(
            "task {id} is a {} task, not an antibiogram",
            task.spec.kind()
        )));
    }
    let wait = std::time::Duration::from_secs(q.wait.unwrap_or(0).min(120));
    let m = wait_merged(&hub, &task, wait).await?;
    Ok(Json(kakehashi_federation::antibiogram::result(
        &m,
        &hub.cfg.rules,
    )))
}

async fn get_surveillance(
    State(hub): S,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> ApiResult<Json<kakehashi_federation::surveillance::SurveillanceResult>> {
    let task = visible_task(&hub, &c.0, &id)?;
    if !matches!(task.spec, TaskSpec::SurveillanceSeries(_)) {
        return Err(ApiError::bad_request(format!(
            "task {id} is a {} task, not a surveillance series",
            task.spec.kind()
        )));
    }
    let wait = std::time::Duration::from_secs(q.wait.unwrap_or(0).min(120));
    let m = wait_merged(&hub, &task, wait).await?;
    Ok(Json(kakehashi_federation::surveillance::result(
        &m,
        &hub.cfg.rules,
    )))
}

async fn get_task(
    State(hub): S,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> ApiResult<Json<Merged>> {
    let task = visible_task(&hub, &c.0, &id)?;
    let wait = std::time::Duration::from_secs(q.wait.unwrap_or(0).min(120));
    Ok(Json(wait_merged(&hub, &task, wait).await?))
}

// ---- administration

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    name: String,
    password: String,
    role: Role,
    #[serde(default)]
    site: Option<String>,
}

async fn admin_user(State(hub): S, c: Admin, Json(b): Json<UserBody>) -> ApiResult<StatusCode> {
    if b.name.trim().is_empty() || b.name.len() > 64 {
        return Err(ApiError::bad_request("name: 1 to 64 characters"));
    }
    if b.password.chars().count() < 8 {
        return Err(ApiError::bad_request("password: at least 8 characters"));
    }
    if b.role == Role::Steward && b.site.is_none() {
        return Err(ApiError::bad_request(
            "site: a steward looks after one site; name it",
        ));
    }
    hub.db.put_user(
        &b.name,
        &hash_password(&b.password)?,
        b.role,
        b.site.as_deref(),
    )?;
    hub.audit_log(
        "user_created",
        serde_json::json!({"user": b.name, "role": b.role, "site": b.site, "by": c.0.name}),
    )?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectBody {
    id: String,
    title: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn admin_project(
    State(hub): S,
    c: Admin,
    Json(b): Json<ProjectBody>,
) -> ApiResult<StatusCode> {
    let id = ProjectId::new(b.id).map_err(|e| ApiError::bad_request(format!("id: {e}")))?;
    for m in &b.members {
        if !hub.db.user_exists(m)? {
            return Err(ApiError::bad_request(format!("members: no user {m:?}")));
        }
    }
    hub.db.put_project(&id, &b.title, &b.members)?;
    hub.audit_log(
        "project_saved",
        serde_json::json!({"project": id, "title": b.title, "members": b.members, "by": c.0.name}),
    )?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteBody {
    id: String,
    name: String,
    country: String,
    public_key: String,
}

async fn admin_site(
    State(hub): S,
    c: Admin,
    Json(b): Json<SiteBody>,
) -> ApiResult<Json<serde_json::Value>> {
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
    hub.audit_log("site_registered", serde_json::json!({"site": id, "name": b.name, "country": country, "public_key": b.public_key, "by": c.0.name}))?;
    Ok(Json(serde_json::json!({"site": id, "token": token})))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn admin_audit(
    State(hub): S,
    _admin: Admin,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let entries = hub
        .audit
        .tail(q.limit.unwrap_or(100).min(10_000))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(
        serde_json::to_value(entries).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

/// The steward's view: their site's status and the hub's audit entries that concern it.
pub fn steward_view(hub: &Hub, user: &User) -> ApiResult<serde_json::Value> {
    let site = user
        .site
        .clone()
        .ok_or_else(|| ApiError::forbidden("this account looks after no site"))?;
    let status = site_statuses(hub)?
        .into_iter()
        .find(|s| s.id.as_str() == site);
    let entries = hub
        .audit
        .tail_for_site(&site, 200)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(serde_json::json!({"site": status, "audit": entries}))
}

#[derive(Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

async fn steward_site(
    State(hub): S,
    c: Caller,
    Query(q): Query<SiteQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    c.require(Role::Steward)?;
    let mut user = c.0;
    if user.role == Role::Admin {
        user.site = Some(q.site.ok_or_else(|| {
            ApiError::bad_request("site: an administrator names the site (?site=ID)")
        })?);
    }
    Ok(Json(steward_view(&hub, &user)?))
}

// ---- sites

async fn site_poll(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> ApiResult<Json<PollResponse>> {
    let req: PollRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("poll request: {e}")))?;
    if req.protocol != PROTOCOL_VERSION {
        return Err(ApiError::conflict(format!(
            "protocol version {} at the site, {PROTOCOL_VERSION} at the hub: update the site",
            req.protocol
        )));
    }
    hub.metrics.polls.fetch_add(1, Ordering::Relaxed);
    hub.db.site_seen(
        &site.id,
        req.snapshot.as_ref(),
        &req.policy,
        &req.version,
        &req.audit_head,
    )?;
    if let Some(h) = &req.signed_head {
        hub.remember_site_head(&site.id, &site.public_key, h);
    }
    let until = tokio::time::Instant::now()
        + std::time::Duration::from_secs(req.wait_seconds.min(hub.cfg.tasks.max_poll_seconds));
    loop {
        let notified = hub.new_task.notified();
        let tasks = hub.db.open_tasks_for_site(&site.id)?;
        if !tasks.is_empty() || tokio::time::Instant::now() >= until {
            return Ok(Json(PollResponse {
                tasks,
                hub_head: Some(hub.signed_head()),
            }));
        }
        if tokio::time::timeout_at(until, notified).await.is_err() {
            return Ok(Json(PollResponse {
                tasks: Vec::new(),
                hub_head: Some(hub.signed_head()),
            }));
        }
    }
}

async fn site_answer(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let reject = |e: ApiError| {
        hub.metrics.answers_rejected.fetch_add(1, Ordering::Relaxed);
        e
    };
    let env: Envelope = serde_json::from_slice(&body)
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
    let now = Utc::now();
    if !hub.db.put_answer(&answer, &env, now)? {
        return Err(reject(ApiError::conflict(format!(
            "task {} was not sent to {} or is already answered",
            answer.task, site.id
        ))));
    }
    let status = match &answer.outcome {
        Outcome::Answered { .. } => {
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
    hub.audit_log(
        "answer_received",
        serde_json::json!({"task": answer.task, "site": site.id, "status": status, "signature": env.signature, "site_audit_head": answer.audit_head, "body_sha256": crate::db::secret_hash(&env.body)}),
    )?;
    hub.answer_arrived(answer.task.as_str());
    Ok(StatusCode::NO_CONTENT)
}

/// A site reports that it holds a task for its data steward's approval (manual approval):
/// the task shows "awaiting approval at <site>" and leaves the site's polls until it answers.
async fn site_task_state(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    use kakehashi_federation::approval::{HeldState, TASK_STATE_VERSION, TaskStateReport};
    /// The version alone, read first so that a newer report gets a clear answer.
    #[derive(Deserialize)]
    struct Version {
        version: u64,
    }
    if let Ok(Version { version: v }) = serde_json::from_slice::<Version>(&body)
        && v != u64::from(TASK_STATE_VERSION)
    {
        return Err(ApiError::conflict(format!(
            "unsupported task-state report version {v}: this hub speaks version {TASK_STATE_VERSION}"
        )));
    }
    let report: TaskStateReport = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("task-state report: {e}")))?;
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
    Ok(StatusCode::NO_CONTENT)
}
