//! The console's routes: sign-in, the task queue and decisions, policy, ledger, the
//! answers as sent, and study enrolment ([`enrol`]). Unsigned requests: GET → redirect to `/login`, POST → 401.

mod enrol;

use super::ConsoleConfig;
use super::auth::{self, LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Session, Sessions};
use crate::agent::Agent;
use crate::steward::{Approval, DecideError, TaskRow, TaskState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kakehashi_web::Locale;
use kakehashi_web::console::{
    ConsoleChrome, ConsoleLogin, ConsolePage, LedgerLine, LedgerPage, PolicyPage, ReleasedPage,
    ResearcherLine, SentLine, SentPage, TaskLine, TaskPage, TasksPage, render_console,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The console's shared state.
pub struct ConsoleState {
    agent: Arc<Agent>,
    cfg: ConsoleConfig,
    hash: String,
    sessions: Sessions,
}

impl ConsoleState {
    pub(super) fn new(agent: Arc<Agent>, cfg: ConsoleConfig, hash: String) -> ConsoleState {
        ConsoleState {
            agent,
            cfg,
            hash,
            sessions: Sessions::default(),
        }
    }
}

type S = State<Arc<ConsoleState>>;
type Q = Query<HashMap<String, String>>;

pub(super) fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/tasks") }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/tasks", get(tasks))
        .route("/tasks/{id}", get(task))
        .route("/tasks/{id}/approve", post(approve))
        .route("/tasks/{id}/refuse", post(refuse))
        .route("/policy", get(policy))
        .route("/ledger", get(ledger))
        .route("/released", get(released))
        .route("/released/{id}", get(sent))
        .route("/released/{id}/body", get(sent_body))
        .route("/enrol", get(enrol::show).post(enrol::enrol))
        .fallback(not_found)
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(state)
}

async fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (k, v) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

/// The page's language: `?lang=`, else the language cookie, else `Accept-Language`.
fn locale(headers: &HeaderMap, q: &HashMap<String, String>) -> (Locale, Option<String>) {
    if let Some(l) = q.get("lang").and_then(|l| Locale::from_code(l)) {
        return (
            l,
            Some(auth::set_cookie(LANG_COOKIE, l.code(), 365 * 86400, false)),
        );
    }
    let l = auth::cookie(headers, LANG_COOKIE)
        .and_then(|c| Locale::from_code(&c))
        .unwrap_or_else(|| {
            Locale::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        });
    (l, None)
}

struct Ctx {
    chrome: ConsoleChrome,
    set_lang: Option<String>,
}

fn ctx(
    st: &ConsoleState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    session: Option<&Session>,
    active: &str,
    path: &str,
) -> Ctx {
    let (locale, set_lang) = locale(headers, q);
    Ctx {
        chrome: ConsoleChrome {
            locale,
            site: st.agent.config().site_id.to_string(),
            user: session.map(|s| s.user.clone()),
            active: active.to_owned(),
            path: path.to_owned(),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            notice: q
                .get("done")
                .filter(|d| matches!(d.as_str(), "approved" | "refused"))
                .map(|d| format!("console-notice-{d}")),
        },
        set_lang,
    }
}

fn html(status: StatusCode, page: &ConsolePage, c: &Ctx) -> Response {
    match render_console(page, &c.chrome) {
        Ok(body) => {
            let mut r = (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response();
            if let Some(v) = c.set_lang.as_deref().and_then(|v| v.parse().ok()) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "console page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

fn error(status: StatusCode, key: &str, c: &Ctx) -> Response {
    html(
        status,
        &ConsolePage::Error {
            status: status.as_u16(),
            key: key.to_owned(),
        },
        c,
    )
}

/// The signed-in steward, or the response for a visitor who is not signed in.
/// (The response is boxed: it is large and the error path is rare.)
fn signed_in(st: &ConsoleState, headers: &HeaderMap, get: bool) -> Result<Session, Box<Response>> {
    match st.sessions.of(headers) {
        Some(s) => Ok(s),
        None if get => Err(Box::new(Redirect::to("/login").into_response())),
        None => Err(Box::new(
            (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
        )),
    }
}

/// Checks a POST: signed in, same origin (when the browser says), and the session's token.
fn checked_post(
    st: &ConsoleState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Session, Box<Response>> {
    let s = signed_in(st, headers, false)?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let cross = match (origin, host) {
        (Some(o), Some(h)) => o.split("://").nth(1) != Some(h),
        (Some(_), None) => true,
        _ => false,
    };
    if cross || !auth::same(csrf, &s.csrf) {
        return Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                "the form's CSRF token is missing or wrong: reload the page and try again",
            )
                .into_response(),
        ));
    }
    Ok(s)
}

// ---- sign-in

async fn login_form(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    if st.sessions.of(&headers).is_some() {
        return Redirect::to("/tasks").into_response();
    }
    login_page(&st, &headers, &q, ConsoleLogin::default(), StatusCode::OK)
}

fn login_page(
    st: &ConsoleState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    page: ConsoleLogin,
    status: StatusCode,
) -> Response {
    let token = auth::cookie(headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 64)
        .unwrap_or_else(auth::secret);
    let mut c = ctx(st, headers, q, None, "login", "/login");
    c.chrome.csrf = token.clone();
    let mut r = html(status, &ConsolePage::Login(page), &c);
    if let Ok(v) = auth::set_cookie(LOGIN_COOKIE, &token, 3600, st.cfg.secure_cookie).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(st): S,
    headers: HeaderMap,
    Query(q): Q,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same(&f.csrf, &expected) {
        let c = ctx(&st, &headers, &q, None, "login", "/login");
        return error(StatusCode::FORBIDDEN, "console-err-csrf", &c);
    }
    let hash = st.hash.clone();
    let password = f.password.clone();
    let ok_password = tokio::task::spawn_blocking(move || auth::password_ok(&password, &hash))
        .await
        .unwrap_or(false);
    if !(ok_password && f.username == st.cfg.user) {
        tracing::warn!(user = %f.username, "steward console: failed sign-in");
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let page = ConsoleLogin {
            username: f.username,
            error: Some("console-err-credentials".into()),
        };
        return login_page(&st, &headers, &q, page, StatusCode::UNAUTHORIZED);
    }
    let id = st.sessions.open(&st.cfg.user, st.cfg.session_hours);
    st.agent.audit_event(
        "steward_signed_in",
        serde_json::json!({"user": st.cfg.user}),
    );
    let mut r = Redirect::to("/tasks").into_response();
    let cookies = [
        auth::set_cookie(
            SESSION_COOKIE,
            &id,
            st.cfg.session_hours * 3600,
            st.cfg.secure_cookie,
        ),
        auth::set_cookie(LOGIN_COOKIE, "", 0, st.cfg.secure_cookie),
    ];
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: Option<String>,
}

async fn logout(State(st): S, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if let Err(r) = checked_post(&st, &headers, &f.csrf) {
        return *r;
    }
    st.sessions.close(&headers);
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = auth::set_cookie(SESSION_COOKIE, "", 0, st.cfg.secure_cookie).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---- tasks

fn line(t: &TaskRow) -> TaskLine {
    TaskLine {
        id: t.id.clone(),
        project: t.project.clone(),
        researcher: t.researcher.clone(),
        kind: t.kind.clone(),
        summary: t.summary.clone(),
        received: t.received,
        deadline: t.deadline,
        state: t.state.as_str().to_owned(),
        reason: t.reason.clone(),
        decided_by: t.decided_by.clone(),
        epsilon: t.epsilon,
        sent: t.sent,
    }
}

fn internal(e: impl std::fmt::Display, c: &Ctx) -> Response {
    tracing::error!(error = %e, "steward console");
    error(StatusCode::INTERNAL_SERVER_ERROR, "error-internal", c)
}

async fn tasks(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let c = ctx(&st, &headers, &q, Some(&s), "tasks", "/tasks");
    let steward = st.agent.steward();
    let (queue, recent) = match (steward.queue(), steward.recent(200)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return internal(e, &c),
    };
    let page = TasksPage {
        manual: steward.approval() == Approval::Manual,
        queue: queue.iter().map(line).collect(),
        recent: recent.iter().map(line).collect(),
    };
    html(StatusCode::OK, &ConsolePage::Tasks(page), &c)
}

fn task_page(
    st: &ConsoleState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    s: &Session,
    id: &str,
    err: Option<(StatusCode, &str)>,
) -> Response {
    let path = format!("/tasks/{id}");
    let c = ctx(st, headers, q, Some(s), "tasks", &path);
    let row = match st.agent.steward().task(id) {
        Ok(Some(r)) => r,
        Ok(None) => return error(StatusCode::NOT_FOUND, "error-not-found", &c),
        Err(e) => return internal(e, &c),
    };
    let can_decide = row.state == TaskState::Waiting && row.deadline > chrono::Utc::now();
    let page = TaskPage {
        spec: row.spec.clone(),
        comment: row.comment.clone(),
        task: line(&row),
        can_decide,
        error: err.map(|(_, k)| k.to_owned()),
    };
    html(
        err.map_or(StatusCode::OK, |(s, _)| s),
        &ConsolePage::Task(Box::new(page)),
        &c,
    )
}

async fn task(State(st): S, headers: HeaderMap, Query(q): Q, Path(id): Path<String>) -> Response {
    match signed_in(&st, &headers, true) {
        Ok(s) => task_page(&st, &headers, &q, &s, &id, None),
        Err(r) => *r,
    }
}

async fn decide(
    st: &ConsoleState,
    headers: &HeaderMap,
    id: &str,
    f: CsrfForm,
    approve: bool,
) -> Response {
    let s = match checked_post(st, headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let comment = f.comment.as_deref().filter(|c| !c.trim().is_empty());
    match st.agent.steward().decide(id, approve, &s.user, comment) {
        Ok(()) => {
            let kind = if approve {
                "steward_approved"
            } else {
                "steward_refused"
            };
            st.agent.audit_event(
                kind,
                serde_json::json!({"task": id, "by": s.user, "comment": comment.map(crate::steward::clean_comment)}),
            );
            let done = if approve { "approved" } else { "refused" };
            Redirect::to(&format!("/tasks/{id}?done={done}")).into_response()
        }
        Err(DecideError::Unknown(_)) => task_page(st, headers, &HashMap::new(), &s, id, None),
        Err(DecideError::NotWaiting { .. }) => task_page(
            st,
            headers,
            &HashMap::new(),
            &s,
            id,
            Some((StatusCode::CONFLICT, "console-err-decided")),
        ),
        Err(DecideError::Expired(_)) => task_page(
            st,
            headers,
            &HashMap::new(),
            &s,
            id,
            Some((StatusCode::CONFLICT, "console-err-expired")),
        ),
        Err(e @ DecideError::Db(_)) => {
            let c = ctx(st, headers, &HashMap::new(), Some(&s), "tasks", "/tasks");
            internal(e, &c)
        }
    }
}

async fn approve(
    State(st): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    decide(&st, &headers, &id, f, true).await
}

async fn refuse(
    State(st): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    decide(&st, &headers, &id, f, false).await
}

// ---- policy and ledger

async fn policy(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let c = ctx(&st, &headers, &q, Some(&s), "policy", "/policy");
    let p = st.agent.gate().policy();
    let page = PolicyPage {
        min_count: p.min_count,
        rounding: p.rounding,
        epsilon: p.noise_epsilon(),
        budget: p.project_budget,
        projects: p.projects.clone(),
        manual: st.agent.steward().approval() == Approval::Manual,
        hub: st.agent.config().hub.clone(),
    };
    html(StatusCode::OK, &ConsolePage::Policy(page), &c)
}

async fn ledger(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let c = ctx(&st, &headers, &q, Some(&s), "ledger", "/ledger");
    let budget = st.agent.gate().policy().project_budget;
    // the gate's ledger is per project and researcher: one line per project here
    let projects = match st.agent.gate().ledger() {
        Ok(rows) => {
            let mut per: std::collections::BTreeMap<String, (u64, f64)> = Default::default();
            for r in rows {
                let e = per.entry(r.project).or_default();
                e.0 += r.questions;
                e.1 += r.spent;
            }
            per.into_iter()
                .map(|(project, (questions, epsilon))| LedgerLine {
                    remaining: budget.map(|b| (b - epsilon).max(0.0)),
                    project,
                    questions,
                    epsilon,
                    budget,
                })
                .collect()
        }
        Err(e) => return internal(e, &c),
    };
    let researchers = match st.agent.steward().by_researcher() {
        Ok(rows) => rows
            .into_iter()
            .map(|r| ResearcherLine {
                researcher: r.researcher,
                project: r.project,
                answered: r.answered,
                epsilon: r.epsilon,
            })
            .collect(),
        Err(e) => return internal(e, &c),
    };
    html(
        StatusCode::OK,
        &ConsolePage::Ledger(LedgerPage {
            projects,
            researchers,
        }),
        &c,
    )
}

// ---- released

async fn released(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let c = ctx(&st, &headers, &q, Some(&s), "released", "/released");
    match st.agent.steward().sent_list(500) {
        Ok(rows) => html(
            StatusCode::OK,
            &ConsolePage::Released(ReleasedPage {
                rows: rows
                    .iter()
                    .map(|(t, at)| SentLine {
                        task: line(t),
                        at: *at,
                    })
                    .collect(),
            }),
            &c,
        ),
        Err(e) => internal(e, &c),
    }
}

async fn sent(State(st): S, headers: HeaderMap, Query(q): Q, Path(id): Path<String>) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let path = format!("/released/{id}");
    let c = ctx(&st, &headers, &q, Some(&s), "released", &path);
    let steward = st.agent.steward();
    match (steward.sent_body(&id), steward.task(&id)) {
        (Ok(Some(a)), Ok(Some(t))) => {
            let page = SentPage {
                task: line(&t),
                at: a.at,
                sha256: hex::encode(Sha256::digest(a.body.as_bytes())),
                body: a.body,
                signature: a.signature,
            };
            html(StatusCode::OK, &ConsolePage::Sent(Box::new(page)), &c)
        }
        (Ok(_), Ok(_)) => error(StatusCode::NOT_FOUND, "error-not-found", &c),
        (Err(e), _) | (_, Err(e)) => internal(e, &c),
    }
}

/// The body exactly as sent, as `application/json`.
async fn sent_body(State(st): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = signed_in(&st, &headers, true) {
        return *r;
    }
    match st.agent.steward().sent_body(&id) {
        Ok(Some(a)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            a.body,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no answer was sent for this task").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "steward console");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn not_found(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = st.sessions.of(&headers);
    let c = ctx(&st, &headers, &q, s.as_ref(), "", "/");
    error(StatusCode::NOT_FOUND, "error-not-found", &c)
}
