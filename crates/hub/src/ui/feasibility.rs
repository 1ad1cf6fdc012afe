//! The feasibility page: a researcher writes a CCDL query (or builds it from the criteria
//! search), asks the network, and reads each site's gated count and the pooled total; the
//! query exports as JSON and each result as CSV.

use super::{S, SignedIn, Ui, download};
use crate::db::User;
use crate::service::tasks::{NewTask, create_task_for, merged, visible_task, wait_merged};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use criteria::{FeasForm, add_coded, add_patient};
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature, ValueSet};
use kakehashi_federation::TaskSpec;
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_web::Locale;
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::{self, FeasibilityForm, FeasibilityPage, HistoryRow, Page, QueryResult};
use result::{ccdl_summary, query_result};
use std::sync::Arc;

mod criteria;
mod result;
mod samples;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/feasibility", get(feasibility).post(feasibility_submit))
        .route("/feasibility/{task}", get(feasibility_task))
}

/// The page's data: the user's projects, the form, and the recent queries with their totals.
/// Blocking.
fn feasibility_view(
    hub: &Hub,
    user: &User,
    form: FeasibilityForm,
    errors: FieldErrors,
    hits: Vec<pages::CriterionHit>,
    result: Option<QueryResult>,
    samples: Option<kakehashi_web::samples::SamplesResult>,
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
    let tab = if samples.is_some()
        || !form.materials.is_empty()
        || !form.storages.is_empty()
        || !form.anchor.is_empty()
        || !form.min_aliquots.is_empty()
        || !form.min_volume_ul.is_empty()
    {
        "samples"
    } else {
        "cohort"
    };
    Ok(FeasibilityPage {
        projects,
        form,
        errors,
        hits,
        result,
        history,
        tab: tab.to_owned(),
        material_options: MaterialType::ALL
            .iter()
            .map(|m| m.code().to_owned())
            .collect(),
        storage_options: StorageTemperature::ALL
            .iter()
            .map(|m| m.code().to_owned())
            .collect(),
        samples,
    })
}

/// What the page shows besides the user's projects and history.
struct View {
    status: StatusCode,
    form: FeasibilityForm,
    errors: FieldErrors,
    hits: Vec<pages::CriterionHit>,
    result: Option<QueryResult>,
    samples: Option<kakehashi_web::samples::SamplesResult>,
    /// The samples tab, even before anything was entered there.
    samples_tab: bool,
}

impl View {
    fn new(form: FeasibilityForm) -> View {
        View {
            status: StatusCode::OK,
            form,
            errors: FieldErrors::default(),
            hits: Vec::new(),
            result: None,
            samples: None,
            samples_tab: false,
        }
    }
}

/// Renders the page (off the runtime: it reads the history and merges it).
async fn render(hub: &Arc<Hub>, ui: &Ui, user: User, v: View) -> Result<Response, ApiError> {
    let status = v.status;
    let samples_tab = v.samples_tab;
    let mut p = hub
        .blocking(move |h| {
            feasibility_view(h, &user, v.form, v.errors, v.hits, v.result, v.samples)
        })
        .await?;
    if samples_tab {
        p.tab = "samples".to_owned();
    }
    Ok(ui.page(status, &Page::Feasibility(p), "feasibility"))
}

async fn feasibility(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut form = FeasibilityForm::default();
    let u = user.clone();
    if let Ok(p) = hub.blocking(move |h| Ok(h.db.projects_of(&u)?)).await
        && p.len() == 1
    {
        form.project = p[0].id.clone();
    }
    let v = View {
        samples_tab: q.get("tab").is_some_and(|t| t == "samples"),
        ..View::new(form)
    };
    render(&hub, &ui, user, v).await
}

/// Reads the CCDL text of the form (a JSON object) or says what is wrong with it.
fn parsed_ccdl(text: &str, errors: &mut FieldErrors) -> Option<serde_json::Value> {
    if text.trim().is_empty() {
        errors.add("ccdl", "err-no-criteria", "");
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
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
}

async fn feasibility_submit(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let f = FeasForm::from_pairs(&pairs);
    ui.check_csrf(&f.csrf)?;
    let mut errors = FieldErrors::default();
    let mut form = FeasibilityForm {
        project: f.project.clone(),
        search: f.search.clone(),
        ccdl: f.ccdl.clone(),
        materials: f.materials.clone(),
        min_aliquots: f.min_aliquots.clone(),
        storages: f.storages.clone(),
        anchor: f.anchor.clone(),
        anchor_code: f.anchor_code.clone(),
        days_before: f.days_before.clone(),
        days_after: f.days_after.clone(),
        min_volume_ul: f.min_volume_ul.clone(),
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
                hits = crate::criteria::search(&f.search, ui.locale.code());
            }
        }
        "add" => {
            if let Some(t) = add_coded(&f, ui.locale.code(), &mut errors) {
                form.ccdl = t;
            }
        }
        "add-patient" => {
            if let Some(t) = add_patient(&f, &mut errors) {
                form.ccdl = t;
            }
        }
        "export" => {
            if let Some(v) = parsed_ccdl(&f.ccdl, &mut errors) {
                let body = serde_json::to_string_pretty(&v).unwrap_or_default();
                return Ok(download(
                    "application/json",
                    "attachment; filename=\"kakehashi-query.json\"",
                    body,
                ));
            }
        }
        "run" | "samples" => {
            let parsed = parsed_ccdl(&f.ccdl, &mut errors);
            errors.require("project", &f.project);
            let specimen = if action == "samples" {
                samples::criteria(&f, &mut errors)
            } else {
                None
            };
            let spec = match parsed.filter(|_| errors.is_empty()) {
                None => None,
                Some(v) => match CohortRequest::from_ccdl(v) {
                    Ok(r) => match specimen {
                        Some(c) => samples::spec(r, c, &mut errors),
                        None => Some(TaskSpec::Cohort(r)),
                    },
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
                let u = user.clone();
                match hub.blocking(move |h| create_task_for(h, &u, t)).await {
                    Ok(task) => {
                        let wait = hub.cfg.tasks.default_deadline_seconds + 1;
                        let _ =
                            wait_merged(&hub, &task, std::time::Duration::from_secs(wait)).await;
                        return Ok(
                            Redirect::to(&format!("/feasibility/{}", task.id)).into_response()
                        );
                    }
                    Err(e)
                        if e.status == StatusCode::BAD_REQUEST
                            || e.status == StatusCode::FORBIDDEN
                            || e.status == StatusCode::NOT_FOUND =>
                    {
                        errors.add("project", "err-choice", f.project.clone())
                    }
                    Err(e) => return Err(e),
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
    let v = View {
        status,
        errors,
        hits,
        samples_tab: f.tab == "samples",
        ..View::new(form)
    };
    render(&hub, &ui, user, v).await
}

async fn feasibility_task(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(task): Path<String>,
) -> Result<Response, ApiError> {
    let (id, csv) = match task.strip_suffix(".csv") {
        Some(id) => (id.to_owned(), true),
        None => (task.clone(), false),
    };
    let u = user.clone();
    let m = hub
        .blocking(move |h| visible_task(h, &u, &id).and_then(|t| merged(h, &t)))
        .await?;
    if let TaskSpec::Samples(r) = &m.task.spec {
        let mut form = FeasibilityForm {
            project: m.task.project.to_string(),
            ccdl: r.cohort().ccdl_text(),
            ..Default::default()
        };
        samples::form_of(r.specimen(), &mut form);
        let v = View {
            samples: Some(samples::result(&m)),
            samples_tab: true,
            ..View::new(form)
        };
        return render(&hub, &ui, user, v).await;
    }
    let result = query_result(&m, ui.locale);
    if csv {
        let body = pages::result_chart(&result, ui.locale).csv();
        return Ok(download(
            "text/csv; charset=utf-8",
            "attachment; filename=\"feasibility.csv\"",
            body,
        ));
    }
    let ccdl = match &m.task.spec {
        TaskSpec::Cohort(r) => r.ccdl_text(),
        _ => String::new(),
    };
    let form = FeasibilityForm {
        project: m.task.project.to_string(),
        ccdl,
        ..Default::default()
    };
    let v = View {
        result: Some(result),
        ..View::new(form)
    };
    render(&hub, &ui, user, v).await
}
