//! The web UI: server-rendered pages from `kakehashi-web`, in English, German and Japanese.
//! Forms post back to the hub; every form rejects bad input with a message next to the field;
//! every chart's data is downloadable as CSV.

use crate::api::{
    NewTask, create_task_for, merged, site_statuses, start_session, visible_task, wait_merged,
};
use crate::auth::{SESSION_COOKIE, cookie, session_cookie, user_of};
use crate::db::{Role, User};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_federation::{Merged, Note, SiteState, TaskSpec};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::i18n::Arg;
use kakehashi_web::pages::{
    self, Chrome, FeasibilityForm, FeasibilityPage, HistoryRow, LoginPage, Page, QueryResult,
    Released, SiteResult, UserBadge,
};
use kakehashi_web::{Catalog, Locale};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

mod amr;
mod surveillance;

type S = State<Arc<Hub>>;

/// The UI's routes.
pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/language", post(language))
        .route("/network", get(network))
        .route("/feasibility", get(feasibility).post(feasibility_submit))
        .route("/feasibility/{task}", get(feasibility_task))
        .route("/surveillance", get(surveillance::surveillance))
        .route("/surveillance/{file}", get(surveillance::surveillance_csv))
        .route("/amr", get(amr::amr))
        .route("/amr/{file}", get(amr::amr_csv))
        .route("/steward", get(steward))
}

/// Who is asking and in which language.
struct Ctx {
    user: Option<User>,
    locale: Locale,
    csrf: String,
    path: String,
}

const LANG_COOKIE: &str = "kh_lang";

fn csrf_of(headers: &HeaderMap) -> String {
    match session_cookie(headers) {
        Some(s) => hex::encode(&Sha256::digest(format!("kakehashi-csrf\0{s}").as_bytes())[..16]),
        None => String::new(),
    }
}

fn ctx(hub: &Hub, headers: &HeaderMap, path: &str) -> Result<Ctx, ApiError> {
    let user = user_of(hub, headers)?;
    let locale = user
        .as_ref()
        .and_then(|u| Locale::from_code(&u.lang))
        .filter(|_| cookie(headers, LANG_COOKIE).is_none())
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(|c| Locale::from_code(&c)))
        .unwrap_or_else(|| {
            Locale::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        });
    Ok(Ctx {
        user,
        locale,
        csrf: csrf_of(headers),
        path: path.to_owned(),
    })
}

fn chrome(c: &Ctx, active: &str, notice: Option<&str>) -> Chrome {
    Chrome {
        locale: c.locale,
        user: c.user.as_ref().map(|u| UserBadge {
            name: u.name.clone(),
            role: u.role.as_str().to_owned(),
        }),
        active: active.to_owned(),
        path: c.path.clone(),
        csrf: c.csrf.clone(),
        notice: notice.map(str::to_owned),
    }
}

fn html(status: StatusCode, page: &Page, chrome: &Chrome) -> Response {
    match pages::render(page, chrome) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: a page template failed",
            )
                .into_response()
        }
    }
}

fn error_page(c: &Ctx, status: StatusCode, key: &str) -> Response {
    html(
        status,
        &Page::Error {
            status: status.as_u16(),
            key: key.to_owned(),
        },
        &chrome(c, "", None),
    )
}

fn ui_error(c: &Ctx, e: ApiError) -> Response {
    let key = match e.status {
        StatusCode::NOT_FOUND => "error-not-found",
        StatusCode::FORBIDDEN => "error-forbidden",
        StatusCode::UNAUTHORIZED => "error-unauthorized",
        _ => "error-internal",
    };
    error_page(c, e.status, key)
}

/// The request's context and its signed-in user, or the response to send instead (an error,
/// or a redirect to the sign-in page).
#[allow(clippy::result_large_err)] // a handler's early answer is an axum `Response`
fn signed_in_ctx(hub: &Hub, headers: &HeaderMap, path: &str) -> Result<(Ctx, User), Response> {
    let c = ctx(hub, headers, path).map_err(IntoResponse::into_response)?;
    let user = signed_in(&c)?.clone();
    Ok((c, user))
}

/// The signed-in user, or a redirect to the sign-in page that comes back here.
#[allow(clippy::result_large_err)] // a handler's early answer is an axum `Response`
fn signed_in(c: &Ctx) -> Result<&User, Response> {
    c.user
        .as_ref()
        .ok_or_else(|| Redirect::to(&format!("/login?next={}", urlencode(&c.path))).into_response())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_./".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Only local paths are followed after sign-in and language changes.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

#[allow(clippy::result_large_err)] // a handler's early answer is an axum `Response`
fn check_csrf(c: &Ctx, sent: &str) -> Result<(), Response> {
    if c.user.is_some() && (c.csrf.is_empty() || sent != c.csrf) && !c.csrf.is_empty() {
        return Err(error_page(c, StatusCode::FORBIDDEN, "error-forbidden"));
    }
    Ok(())
}

// ---- sign-in, language

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(State(hub): S, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let c = match ctx(&hub, &headers, "/login") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let page = LoginPage {
        next: q.next.unwrap_or_else(|| "/".into()),
        ..LoginPage::default()
    };
    html(StatusCode::OK, &Page::Login(page), &chrome(&c, "", None))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(State(hub): S, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let c = match ctx(&hub, &headers, "/login") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let mut errors = FieldErrors::default();
    errors.require("username", f.username.trim());
    errors.require("password", &f.password);
    if errors.is_empty() {
        match start_session(&hub, f.username.trim(), &f.password) {
            Ok((_, cookie)) => {
                return (
                    [(header::SET_COOKIE, cookie)],
                    Redirect::to(safe_next(&f.next)),
                )
                    .into_response();
            }
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                errors.add("form", "err-credentials", "")
            }
            Err(e) => return ui_error(&c, e),
        }
    }
    let page = LoginPage {
        username: f.username,
        errors,
        next: f.next,
    };
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &Page::Login(page),
        &chrome(&c, "", None),
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(hub): S, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let c = match ctx(&hub, &headers, "/logout") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(r) = check_csrf(&c, &f.csrf) {
        return r;
    }
    if let Some(s) = session_cookie(&headers) {
        let _ = hub.db.delete_session(&s);
    }
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

async fn language(State(hub): S, headers: HeaderMap, Form(f): Form<LangForm>) -> Response {
    let c = match ctx(&hub, &headers, "/language") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(r) = check_csrf(&c, &f.csrf) {
        return r;
    }
    let Some(locale) = Locale::from_code(&f.lang) else {
        return error_page(&c, StatusCode::BAD_REQUEST, "error-not-found");
    };
    if let Some(u) = &c.user
        && let Err(e) = hub.db.set_lang(&u.name, locale.code())
    {
        return ui_error(&c, e.into());
    }
    // The cookie covers signed-out pages; signed in, the user's stored choice wins next time.
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.code()
    );
    let clear = c.user.is_some();
    let cookie = if clear {
        format!("{LANG_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax")
    } else {
        cookie
    };
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(safe_next(&f.next)),
    )
        .into_response()
}

// ---- home, network, steward

async fn home(State(hub): S, headers: HeaderMap) -> Response {
    let c = match ctx(&hub, &headers, "/") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let user = match signed_in(&c) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let projects = match hub.db.projects_of(user) {
        Ok(p) => p,
        Err(e) => return ui_error(&c, e.into()),
    };
    let online = site_statuses(&hub).map(|s| s.len() as u64).unwrap_or(0);
    let page = pages::HomePage {
        projects: projects
            .into_iter()
            .map(|p| pages::ProjectRow {
                id: p.id.clone(),
                name: p.title.clone(),
                description: format!("{} · {}", p.id, p.members.join(", ")),
                sites: online,
            })
            .collect(),
    };
    html(StatusCode::OK, &Page::Home(page), &chrome(&c, "home", None))
}

fn policy_view(p: &kakehashi_disclosure::PolicySummary) -> pages::PolicySummary {
    pages::PolicySummary {
        min_count: p.min_count,
        rounding: p.rounding,
        epsilon: p.epsilon,
        budget: p.project_budget,
    }
}

async fn network(State(hub): S, headers: HeaderMap) -> Response {
    let c = match ctx(&hub, &headers, "/network") {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(r) = signed_in(&c) {
        return r;
    }
    let sites = match site_statuses(&hub) {
        Ok(s) => s,
        Err(e) => return ui_error(&c, e),
    };
    let page = pages::NetworkPage {
        sites: sites
            .into_iter()
            .map(|s| pages::SiteRow {
                id: s.id.to_string(),
                name: s.name,
                country: s.country,
                online: s.status == "online",
                last_seen: s.last_seen,
                snapshot: s.snapshot.map(|x| x.created),
                policy: s
                    .policy
                    .as_ref()
                    .map(policy_view)
                    .unwrap_or(pages::PolicySummary {
                        min_count: 0,
                        rounding: 1,
                        epsilon: None,
                        budget: None,
                    }),
            })
            .collect(),
    };
    html(
        StatusCode::OK,
        &Page::Network(page),
        &chrome(&c, "network", None),
    )
}

async fn steward(
    State(hub): S,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/steward") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let site = match (user.role, &user.site, q.get("site")) {
        (Role::Steward, Some(s), _) => s.clone(),
        (Role::Admin, _, Some(s)) => s.clone(),
        (Role::Admin, _, None) => match hub.db.sites() {
            Ok(s) if !s.is_empty() => s[0].id.to_string(),
            _ => return error_page(&c, StatusCode::NOT_FOUND, "error-not-found"),
        },
        _ => return error_page(&c, StatusCode::FORBIDDEN, "error-forbidden"),
    };
    let status = site_statuses(&hub)
        .ok()
        .and_then(|s| s.into_iter().find(|x| x.id.as_str() == site));
    // the log's index: the site's newest records only, never the whole log
    let entries = hub.audit.tail_for_site(&site, 200).unwrap_or_default();
    let chain_ok = hub.audit.check().is_ok();
    let rows: Vec<pages::AuditRow> = entries
        .into_iter()
        .map(|e| {
            let task = e
                .detail
                .get("task")
                .and_then(|t| t.as_str())
                .unwrap_or("")
                .to_owned();
            let project = e
                .detail
                .get("project")
                .and_then(|t| t.as_str())
                .unwrap_or("")
                .to_owned();
            let summary = match e.kind.as_str() {
                "task_created" => format!(
                    "{} · {}",
                    e.detail.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                    task
                ),
                "answer_received" => format!(
                    "{} · {}",
                    e.detail
                        .get("status")
                        .and_then(|t| t.as_str())
                        .unwrap_or(""),
                    task
                ),
                _ => e
                    .detail
                    .get("name")
                    .and_then(|t| t.as_str())
                    .unwrap_or("")
                    .to_owned(),
            };
            pages::AuditRow {
                seq: e.seq,
                at: kakehashi_federation::audit::entry_time(&e).unwrap_or_default(),
                kind: e.kind.replace('_', "-"),
                project,
                summary,
                hash: e.hash,
            }
        })
        .collect();
    let page = pages::StewardPage {
        site: status.as_ref().map(|s| s.name.clone()).unwrap_or(site),
        chain_ok: Some(chain_ok),
        entries: rows,
        policy: status
            .as_ref()
            .and_then(|s| s.policy.as_ref())
            .map(policy_view),
        projects: Vec::new(),
    };
    html(
        StatusCode::OK,
        &Page::Steward(page),
        &chrome(&c, "steward", None),
    )
}

// ---- feasibility

fn released_of(t: &kakehashi_disclosure::GatedTable) -> Option<Released> {
    let v = t.rows.first()?.values.first().copied()?;
    let d = &t.disclosure;
    Some(match v {
        kakehashi_disclosure::GatedCount::Suppressed { below } => Released::Suppressed { below },
        kakehashi_disclosure::GatedCount::Value(value) => match (d.epsilon, d.rounding) {
            (Some(epsilon), _) => Released::Noisy { value, epsilon },
            (None, step) if step > 1 => Released::Rounded { value, step },
            _ => Released::Exact { value },
        },
    })
}

fn state_name(s: SiteState) -> &'static str {
    match s {
        SiteState::Pending => "pending",
        SiteState::Answered => "answered",
        SiteState::Refused | SiteState::Failed => "refused",
        SiteState::Late => "late",
        SiteState::Offline => "offline",
        SiteState::AwaitingApproval => "awaiting_approval",
    }
}

fn query_result(m: &Merged, locale: Locale) -> QueryResult {
    let total = m
        .total
        .as_ref()
        .and_then(|t| t.rows.first())
        .and_then(|r| r.values.first())
        .and_then(|p| p.sum);
    let withheld = match &m.total {
        Some(t) if t.withheld.is_some() => Some("total-withheld-min-sites".to_owned()),
        Some(_) if total.is_none() => Some("total-withheld-min-total".to_owned()),
        None => Some("total-withheld-min-sites".to_owned()),
        _ => None,
    };
    QueryResult {
        task: m.task.id.to_string(),
        created: m.task.created,
        sites: m
            .sites
            .iter()
            .map(|s| SiteResult {
                site: s.name.clone(),
                country: s.country,
                status: state_name(s.state).to_owned(),
                released: if s.state == SiteState::Answered {
                    s.table.as_ref().and_then(released_of)
                } else {
                    None
                },
                // the status says it ("awaiting approval at the site") in the page's language
                reason: s
                    .reason
                    .clone()
                    .filter(|_| s.state != SiteState::AwaitingApproval),
                notes: note_texts(&s.notes, locale),
                noise_off: s.state == SiteState::Answered
                    && s.table.as_ref().is_some_and(|t| t.disclosure.noise_off()),
            })
            .collect(),
        total,
        total_withheld: withheld,
        chart_svg: String::new(),
    }
}

fn ccdl_summary(spec: &TaskSpec) -> String {
    match spec {
        TaskSpec::Cohort(r) => r.summary(),
        other => other.kind().to_owned(),
    }
}

/// The site's notes in the page's language (the message keys are the notes' own).
pub(crate) fn note_texts(notes: &[Note], locale: Locale) -> Vec<String> {
    let cat = Catalog::global();
    notes
        .iter()
        .map(|n| {
            let (key, args) = n.message();
            let args: Vec<(&str, Arg)> = args.into_iter().map(|(k, v)| (k, Arg::Str(v))).collect();
            cat.text(locale, key, &args)
        })
        .collect()
}

fn feasibility_view(
    hub: &Hub,
    user: &User,
    form: FeasibilityForm,
    errors: FieldErrors,
    hits: Vec<pages::CriterionHit>,
    result: Option<QueryResult>,
) -> Result<FeasibilityPage, ApiError> {
    let projects = hub
        .db
        .projects_of(user)?
        .into_iter()
        .map(|p| (p.id, p.title))
        .collect();
    let history = hub
        .db
        .tasks_for(user, None, 40)?
        .into_iter()
        .filter(|t| matches!(t.spec, TaskSpec::Cohort(_)))
        .take(15)
        .map(|t| {
            let total = merged(hub, &t)
                .ok()
                .and_then(|m| query_result(&m, Locale::En).total);
            HistoryRow {
                task: t.id.to_string(),
                created: t.created,
                summary: ccdl_summary(&t.spec),
                total,
            }
        })
        .collect();
    Ok(FeasibilityPage {
        projects,
        form,
        errors,
        hits,
        result,
        history,
    })
}

async fn feasibility(State(hub): S, headers: HeaderMap) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/feasibility") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut form = FeasibilityForm::default();
    if let Ok(p) = hub.db.projects_of(&user)
        && p.len() == 1
    {
        form.project = p[0].id.clone();
    }
    match feasibility_view(&hub, &user, form, FieldErrors::default(), Vec::new(), None) {
        Ok(p) => html(
            StatusCode::OK,
            &Page::Feasibility(p),
            &chrome(&c, "feasibility", None),
        ),
        Err(e) => ui_error(&c, e),
    }
}

#[derive(Deserialize, Default)]
struct FeasForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    add: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    search: String,
    #[serde(default)]
    ccdl: String,
    #[serde(default)]
    min_value: String,
    #[serde(default)]
    max_value: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    age_min: String,
    #[serde(default)]
    age_max: String,
    #[serde(default)]
    sex: String,
}

/// Adds one inclusion criterion (its own AND-group) to a CCDL query, creating the query if
/// the text is empty.
fn add_criterion(ccdl: &str, criterion: serde_json::Value) -> Result<String, String> {
    let mut q: serde_json::Value = if ccdl.trim().is_empty() {
        serde_json::json!({"version": "http://to_be_decided.com/draft-1/schema#", "display": "", "inclusionCriteria": []})
    } else {
        serde_json::from_str(ccdl).map_err(|e| e.to_string())?
    };
    let inc = q
        .as_object_mut()
        .ok_or("the query is not a JSON object")?
        .entry("inclusionCriteria")
        .or_insert_with(|| serde_json::json!([]));
    inc.as_array_mut()
        .ok_or("inclusionCriteria is not a list")?
        .push(serde_json::json!([criterion]));
    serde_json::to_string_pretty(&q).map_err(|e| e.to_string())
}

async fn feasibility_submit(
    State(hub): S,
    headers: HeaderMap,
    Form(f): Form<FeasForm>,
) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/feasibility") {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(&c, &f.csrf) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let mut form = FeasibilityForm {
        project: f.project.clone(),
        search: f.search.clone(),
        ccdl: f.ccdl.clone(),
    };
    let mut hits = Vec::new();
    let action = if f.add.is_empty() {
        f.action.as_str()
    } else {
        "add"
    };
    match action {
        "search" => {
            if f.search.trim().chars().count() < 2 {
                errors.add("search", "err-required", "");
            } else {
                hits = crate::criteria::search(&f.search, c.locale.code());
            }
        }
        "add" => {
            let mut parts = f.add.splitn(3, '|');
            let (ctx_code, system, code) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let min = errors.number("min_value", &f.min_value);
            let max = errors.number("max_value", &f.max_value);
            errors.ordered("max_value", min, max);
            let from = errors.date("from", &f.from);
            let to = errors.date("to", &f.to);
            errors.ordered("to", from, to);
            if (min.is_some() || max.is_some()) && f.unit.trim().is_empty() {
                errors.add("unit", "err-required", "");
            }
            if errors.is_empty() {
                let display = crate::criteria::display(system, code, c.locale.code())
                    .unwrap_or_else(|| code.to_owned());
                let mut crit = serde_json::json!({
                    "context": {"code": ctx_code, "system": "fdpg.mii.cds", "display": ctx_code, "version": "1.0.0"},
                    "termCodes": [{"code": code, "system": system, "display": display}]
                });
                let unit = serde_json::json!({"code": f.unit.trim(), "display": f.unit.trim()});
                match (min, max) {
                    (Some(a), Some(b)) => {
                        crit["valueFilter"] = serde_json::json!({"type": "quantity-range", "minValue": a, "maxValue": b, "unit": unit})
                    }
                    (Some(a), None) => {
                        crit["valueFilter"] = serde_json::json!({"type": "quantity-comparator", "comparator": "gt", "value": a, "unit": unit})
                    }
                    (None, Some(b)) => {
                        crit["valueFilter"] = serde_json::json!({"type": "quantity-comparator", "comparator": "lt", "value": b, "unit": unit})
                    }
                    (None, None) => {}
                }
                if from.is_some() || to.is_some() {
                    let mut tr = serde_json::Map::new();
                    if let Some(d) = from {
                        tr.insert("afterDate".into(), d.to_string().into());
                    }
                    if let Some(d) = to {
                        tr.insert("beforeDate".into(), d.to_string().into());
                    }
                    crit["timeRestriction"] = tr.into();
                }
                match add_criterion(&f.ccdl, crit) {
                    Ok(t) => form.ccdl = t,
                    Err(e) => errors.add("ccdl", "err-ccdl", e),
                }
            }
        }
        "add-patient" => {
            let amin = errors.number("age_min", &f.age_min);
            let amax = errors.number("age_max", &f.age_max);
            errors.ordered("age_max", amin, amax);
            if !f.sex.is_empty() {
                errors.one_of("sex", &f.sex, &["female", "male", "other"]);
            }
            if amin.is_none() && amax.is_none() && f.sex.is_empty() && errors.is_empty() {
                errors.add("age_min", "err-required", "");
            }
            if errors.is_empty() {
                let mut text = f.ccdl.clone();
                if amin.is_some() || amax.is_some() {
                    let age = serde_json::json!({
                        "context": {"code": "Patient", "system": "fdpg.mii.cds", "display": "Patient", "version": "1.0.0"},
                        "termCodes": [{"code": "424144002", "system": "http://snomed.info/sct", "display": "Current chronological age"}],
                        "valueFilter": {"type": "quantity-range", "minValue": amin.unwrap_or(0.0), "maxValue": amax.unwrap_or(150.0), "unit": {"code": "a", "display": "a"}}
                    });
                    match add_criterion(&text, age) {
                        Ok(t) => text = t,
                        Err(e) => errors.add("ccdl", "err-ccdl", e),
                    }
                }
                if !f.sex.is_empty() {
                    let sex = serde_json::json!({
                        "context": {"code": "Patient", "system": "fdpg.mii.cds", "display": "Patient", "version": "1.0.0"},
                        "termCodes": [{"code": "263495000", "system": "http://snomed.info/sct", "display": "Gender"}],
                        "valueFilter": {"type": "concept", "selectedConcepts": [{"code": f.sex, "system": "http://hl7.org/fhir/administrative-gender", "display": f.sex}]}
                    });
                    match add_criterion(&text, sex) {
                        Ok(t) => text = t,
                        Err(e) => errors.add("ccdl", "err-ccdl", e),
                    }
                }
                form.ccdl = text;
            }
        }
        "run" | "export" => {
            let parsed: Option<serde_json::Value> = if f.ccdl.trim().is_empty() {
                errors.add("ccdl", "err-no-criteria", "");
                None
            } else {
                match serde_json::from_str::<serde_json::Value>(&f.ccdl) {
                    Ok(v) if v.is_object() => Some(v),
                    Ok(_) => {
                        errors.add("ccdl", "err-ccdl", "a CCDL query is a JSON object");
                        None
                    }
                    Err(e) => {
                        errors.add("ccdl", "err-ccdl", e.to_string());
                        None
                    }
                }
            };
            if action == "export"
                && let Some(v) = &parsed
                && errors.is_empty()
            {
                let body = serde_json::to_string_pretty(v).unwrap_or_default();
                return (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"kakehashi-query.json\"",
                        ),
                    ],
                    body,
                )
                    .into_response();
            }
            if action == "run" {
                errors.require("project", &f.project);
                let spec = match parsed.filter(|_| errors.is_empty()) {
                    None => None,
                    Some(v) => match CohortRequest::from_ccdl(v) {
                        Ok(r) => Some(TaskSpec::Cohort(r)),
                        Err(e) => {
                            let m = e.to_string();
                            let m = m.strip_prefix("spec.ccdl.").unwrap_or(&m).to_owned();
                            errors.add("ccdl", "err-ccdl", m);
                            None
                        }
                    },
                };
                if let Some(spec) = spec {
                    let t = NewTask {
                        project: f.project.clone(),
                        spec,
                        deadline_seconds: Some(hub.cfg.tasks.default_deadline_seconds),
                    };
                    match create_task_for(&hub, &user, t) {
                        Ok(task) => {
                            let _ = wait_merged(
                                &hub,
                                &task,
                                std::time::Duration::from_secs(
                                    hub.cfg.tasks.default_deadline_seconds + 1,
                                ),
                            )
                            .await;
                            return Redirect::to(&format!("/feasibility/{}", task.id))
                                .into_response();
                        }
                        Err(e)
                            if e.status == StatusCode::BAD_REQUEST
                                || e.status == StatusCode::FORBIDDEN
                                || e.status == StatusCode::NOT_FOUND =>
                        {
                            errors.add("project", "err-choice", f.project.clone())
                        }
                        Err(e) => return ui_error(&c, e),
                    }
                }
            }
        }
        other => errors.add("form", "err-choice", other.to_owned()),
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    match feasibility_view(&hub, &user, form, errors, hits, None) {
        Ok(p) => html(
            status,
            &Page::Feasibility(p),
            &chrome(&c, "feasibility", None),
        ),
        Err(e) => ui_error(&c, e),
    }
}

async fn feasibility_task(State(hub): S, headers: HeaderMap, Path(task): Path<String>) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, &format!("/feasibility/{task}")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (id, csv) = match task.strip_suffix(".csv") {
        Some(id) => (id.to_owned(), true),
        None => (task.clone(), false),
    };
    let m = match visible_task(&hub, &user, &id).and_then(|t| merged(&hub, &t)) {
        Ok(m) => m,
        Err(e) => return ui_error(&c, e),
    };
    let result = query_result(&m, c.locale);
    if csv {
        let body = pages::result_chart(&result, c.locale).csv();
        return (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"feasibility.csv\"",
                ),
            ],
            body,
        )
            .into_response();
    }
    let ccdl = match &m.task.spec {
        TaskSpec::Cohort(r) => r.ccdl_text(),
        _ => String::new(),
    };
    let form = FeasibilityForm {
        project: m.task.project.to_string(),
        search: String::new(),
        ccdl,
    };
    match feasibility_view(
        &hub,
        &user,
        form,
        FieldErrors::default(),
        Vec::new(),
        Some(result),
    ) {
        Ok(p) => html(
            StatusCode::OK,
            &Page::Feasibility(p),
            &chrome(&c, "feasibility", None),
        ),
        Err(e) => ui_error(&c, e),
    }
}

// ---- surveillance: see `ui/surveillance.rs`

// ---- AMR: see `ui/amr.rs`

#[cfg(test)]
mod tests {
    use super::*;

    /// Every note a site can send reads in English, German and Japanese, with its parameter.
    #[test]
    fn every_note_reads_in_every_language() {
        let notes = [
            Note::UnitsNotConverted { criterion_index: 6 },
            Note::GuidelineReread {
                guideline: "CLSI 2024".parse().unwrap(),
            },
            Note::MainDiagnosisAsAnyDiagnosis,
            Note::DenominatorRefused {
                refusal: kakehashi_disclosure::Refusal::ProjectNotAllowed {
                    project: "p9".into(),
                },
            },
        ];
        let keys: Vec<&str> = notes.iter().map(|n| n.message().0).collect();
        assert_eq!(keys, Note::KEYS, "one sample per note");
        for locale in [Locale::En, Locale::De, Locale::Ja] {
            let texts = note_texts(&notes, locale);
            for (n, t) in notes.iter().zip(&texts) {
                assert!(!t.contains('⟦'), "{locale:?} {n:?}: {t}");
                for (_, arg) in n.message().1 {
                    assert!(t.contains(&arg), "{locale:?}: {t} lacks {arg}");
                }
            }
            assert!(
                texts[0].contains('7'),
                "criteria count from 1: {}",
                texts[0]
            );
        }
    }
}
