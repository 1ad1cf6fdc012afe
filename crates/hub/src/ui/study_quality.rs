//! Data quality pages of a study: `/studies/{id}/queries` (the queries the member sees,
//! filtered by site and state), `/studies/{id}/queries/{num}` (the thread; `POST` takes a
//! step), `/studies/{id}/queries/new` (a query on one field of a form, reached from the form
//! page), `/studies/{id}/quality` (the checks; `?check=` runs one and lists its findings;
//! `POST /studies/{id}/quality/{check}` opens queries on the chosen findings or all), and
//! `/studies/{id}/dashboard`. Every form is CSRF-checked and works without JavaScript; who
//! may do what is decided in [`quality`].

use super::{S, SignedIn, Ui};
use crate::db::User;
use crate::service::studies::quality::{self, Bulk, NewQuery, QueryFilter, Step};
use crate::service::studies::records::{self, Access};
use crate::{ApiError, Hub};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_edc::entry::{QueryAction, QueryStatus};
use kakehashi_web::Catalog;
use kakehashi_web::pages::Page;
use kakehashi_web::study::quality::{
    CheckRow, DashboardPage, FindingRow, MessageRow, NewQueryPage, Place, QualityPage, QueriesPage,
    QueryPage, QueryRow, field_label,
};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/studies/{id}/queries", get(list))
        .route("/studies/{id}/queries/new", get(new_page).post(new_post))
        .route("/studies/{id}/queries/{num}", get(show).post(step))
        .route("/studies/{id}/quality", get(checks))
        .route("/studies/{id}/quality/{check}", post(bulk))
        .route("/studies/{id}/dashboard", get(dashboard))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    status: String,
}

async fn list(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match q.status.as_str() {
        "" => None,
        "open" => Some(QueryStatus::Open),
        "answered" => Some(QueryStatus::Answered),
        "closed" => Some(QueryStatus::Closed),
        other => {
            return Err(ApiError::bad_request(format!(
                "status: {other:?} is not open, answered or closed"
            )));
        }
    };
    let filter = QueryFilter {
        site: Some(q.site.clone()).filter(|s| !s.is_empty()),
        status,
        ..Default::default()
    };
    let (a, rows) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let rows = quality::queries(h, &user, &id, &filter)?;
            Ok((a, rows))
        })
        .await?;
    let page = QueriesPage {
        study: a.study.id.clone(),
        acronym: a.study.acronym.clone(),
        rows: rows
            .iter()
            .map(|v| QueryRow {
                num: v.num,
                place: Place::of(&a.study, ui.locale, &v.query),
                status: v.query.status.as_str().into(),
                age_days: v.age_days,
                check: v.query.check.clone().unwrap_or_default(),
                last: v
                    .query
                    .thread
                    .last()
                    .map(|m| m.text.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        sites: a
            .study
            .sites
            .iter()
            .filter(|s| a.sees(&s.dag))
            .map(|s| s.dag.clone())
            .collect(),
        site: q.site,
        status: q.status,
    };
    Ok(ui.page(StatusCode::OK, &Page::StudyQueries(page), "studies"))
}

/// The steps `a` may take on a query in `status` on `form` of site `site`.
fn steps(a: &Access, status: QueryStatus, form: &str, site: &str) -> Vec<String> {
    let mut v = Vec::new();
    if status == QueryStatus::Open && a.role.rights(form).resolve_queries && a.sees(site) {
        v.push("answer".to_owned());
    }
    if a.role.open_queries {
        if status != QueryStatus::Closed {
            v.push("close".into());
        }
        if status != QueryStatus::Open {
            v.push("reopen".into());
        }
    }
    v
}

async fn query_page(
    hub: &Arc<Hub>,
    ui: &Ui,
    user: User,
    id: String,
    num: i64,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let (a, v) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let v = quality::query(h, &user, &id, num)?;
            Ok((a, v))
        })
        .await?;
    let q = &v.query;
    let page = QueryPage {
        study: a.study.id.clone(),
        acronym: a.study.acronym.clone(),
        num,
        place: Place::of(&a.study, ui.locale, q),
        status: q.status.as_str().into(),
        check: q.check.clone().unwrap_or_default(),
        thread: q
            .thread
            .iter()
            .map(|m| MessageRow {
                user: m.user.clone(),
                at: m.at.to_rfc3339(),
                action: m.action.as_str().into(),
                text: m.text.clone(),
            })
            .collect(),
        steps: steps(&a, q.status, &q.form, &q.site),
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(ui.page(status, &Page::StudyQuery(Box::new(page)), "studies"))
}

async fn show(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((id, num)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    query_page(&hub, &ui, user, id, num, None).await
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    action: QueryAction,
    #[serde(default)]
    text: String,
}

async fn step(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((id, num)): Path<(String, i64)>,
    Form(f): Form<StepForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let (u, i) = (user.clone(), id.clone());
    let s = Step {
        action: f.action,
        text: f.text,
    };
    match hub.blocking(move |h| quality::act(h, &u, &i, num, s)).await {
        Ok(_) => Ok(Redirect::to(&format!("/studies/{id}/queries/{num}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            query_page(&hub, &ui, user, id, num, Some(e.message)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct Target {
    record: String,
    event: String,
    form: String,
    #[serde(default = "one")]
    instance: u32,
    #[serde(default)]
    field: String,
}

fn one() -> u32 {
    1
}

fn new_query_page(a: &Access, ui: &Ui, t: &Target, text: String, error: Option<String>) -> Page {
    let s = &a.study;
    Page::StudyQueryNew(Box::new(NewQueryPage {
        study: s.id.clone(),
        acronym: s.acronym.clone(),
        place: Place::new(
            s, ui.locale, &t.record, "", &t.event, &t.form, t.instance, &t.field,
        ),
        fields: s
            .fields
            .iter()
            .filter(|f| f.form == t.form)
            .filter(|f| {
                !matches!(
                    f.field_type,
                    kakehashi_edc::FieldType::Descriptive | kakehashi_edc::FieldType::Calc
                )
            })
            .map(|f| (f.variable.clone(), field_label(s, ui.locale, &f.variable)))
            .collect(),
        field: t.field.clone(),
        text,
        error,
    }))
}

async fn new_page(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Query(t): Query<Target>,
) -> Result<Response, ApiError> {
    let a = hub
        .blocking(move |h| records::access(h, &user, &id))
        .await?;
    if !a.role.open_queries {
        return Ok(ui.error(StatusCode::FORBIDDEN, "error-forbidden"));
    }
    let page = new_query_page(&a, &ui, &t, String::new(), None);
    Ok(ui.page(StatusCode::OK, &page, "studies"))
}

/// The posted query form (the target's fields inline: serde's form reader cannot read
/// numbers inside a flattened struct).
#[derive(Deserialize)]
struct NewForm {
    csrf: String,
    record: String,
    event: String,
    form: String,
    #[serde(default = "one")]
    instance: u32,
    #[serde(default)]
    field: String,
    #[serde(default)]
    text: String,
}

async fn new_post(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NewForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let t = Target {
        record: f.record,
        event: f.event,
        form: f.form,
        instance: f.instance,
        field: f.field,
    };
    let n = NewQuery {
        record: t.record.clone(),
        event: t.event.clone(),
        form: t.form.clone(),
        instance: t.instance,
        field: t.field.clone(),
        text: f.text.clone(),
    };
    let (u, i) = (user.clone(), id.clone());
    match hub.blocking(move |h| quality::open(h, &u, &i, n)).await {
        Ok(v) => Ok(Redirect::to(&format!("/studies/{id}/queries/{}", v.num)).into_response()),
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::FORBIDDEN => {
            let a = hub
                .blocking(move |h| records::access(h, &user, &id))
                .await?;
            let page = new_query_page(&a, &ui, &t, f.text, Some(e.message));
            Ok(ui.page(StatusCode::BAD_REQUEST, &page, "studies"))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct ChecksQuery {
    #[serde(default)]
    check: String,
    #[serde(default)]
    opened: Option<usize>,
    #[serde(default)]
    pending: Option<usize>,
}

async fn checks(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ChecksQuery>,
) -> Result<Response, ApiError> {
    let check = q.check.clone();
    let (a, list, run) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let list = quality::checks(h, &user, &id)?;
            let run = if check.is_empty() {
                None
            } else {
                Some(quality::run(h, &user, &id, &check)?)
            };
            Ok((a, list, run))
        })
        .await?;
    let row = |c: &kakehashi_edc::quality::CheckInfo| CheckRow {
        id: c.id.clone(),
        built_in: c.built_in,
        label: c.label.clone(),
        logic: c.logic.clone(),
    };
    let s = &a.study;
    let page = QualityPage {
        study: s.id.clone(),
        acronym: s.acronym.clone(),
        checks: list.iter().map(row).collect(),
        check: run.as_ref().map(|r| row(&r.check)),
        findings: run
            .as_ref()
            .map(|r| {
                r.findings
                    .iter()
                    .map(|f| {
                        let x = &f.finding;
                        FindingRow {
                            id: f.id.clone(),
                            place: Place::new(
                                s, ui.locale, &x.record, &x.site, &x.event, &x.form, x.instance,
                                &x.field,
                            ),
                            value: x.value.clone(),
                            message: x.message.clone(),
                            query: f.query,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        records: run.as_ref().map_or(0, |r| r.records),
        can_open: a.role.open_queries,
        opened: q.opened.zip(q.pending),
    };
    Ok(ui.page(StatusCode::OK, &Page::StudyQuality(page), "studies"))
}

/// `csrf`, `scope` (`all` or `selected`), `text` and any number of `finding` fields (an HTML
/// form sends a checkbox group as repeated names, which serde's form reader does not take).
async fn bulk(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((id, check)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (mut csrf, mut scope, mut text, mut chosen) =
        (String::new(), String::new(), String::new(), Vec::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "scope" => scope = v.into_owned(),
            "text" => text = v.into_owned(),
            "finding" => chosen.push(v.into_owned()),
            _ => {}
        }
    }
    ui.check_csrf(&csrf)?;
    let b = Bulk {
        findings: (scope != "all").then_some(chosen),
        text: Some(text).filter(|t| !t.trim().is_empty()),
    };
    let (i, c) = (id.clone(), check.clone());
    let o = hub
        .blocking(move |h| quality::open_from_check(h, &user, &i, &c, b))
        .await?;
    let to = format!(
        "/studies/{id}/quality?check={}&opened={}&pending={}#findings",
        form_urlencoded::byte_serialize(check.as_bytes()).collect::<String>(),
        o.opened.len(),
        o.already_pending
    );
    Ok(Redirect::to(&to).into_response())
}

async fn dashboard(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (a, d) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let d = quality::dashboard(h, &user, &id)?;
            Ok((a, d))
        })
        .await?;
    let t = |k: &str| Catalog::global().text(ui.locale, k, &[]);
    let page = DashboardPage::new(
        &a.study,
        ui.locale,
        &d,
        &t("quality-chart-title"),
        &t("quality-chart-desc"),
        (&t("quality-chart-x"), &t("quality-chart-y")),
    );
    Ok(ui.page(
        StatusCode::OK,
        &Page::StudyDashboard(Box::new(page)),
        "studies",
    ))
}
