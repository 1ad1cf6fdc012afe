//! The resistance page: a researcher states an antibiogram (guideline, organisms, drugs,
//! specimen, period); every site reads its raw values again with that guideline and answers
//! through its gate; the page shows a heat-map per country, Germany against Japan with
//! intervals, and MDRO shares. Every heat-map's data downloads as CSV. Asking is a POST (the
//! form with its CSRF token) that redirects to `GET /amr?task=ID`; a GET never asks the network.

use super::{S, SignedIn, download};
use crate::db::{Role, User};
use crate::service::tasks::{NewTask, create_task_for, visible_task, wait_merged};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kakehashi_amr::{Guideline, Reference};
use kakehashi_federation::antibiogram::{self, AntibiogramRequest};
use kakehashi_federation::{SiteState, Task, TaskSpec};
use kakehashi_office::library::Governs;
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::{AmrForm, AmrPage, Page};
use serde::Deserialize;
use std::sync::Arc;
use view::{heat_maps, page_of};

mod view;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/amr", get(amr).post(amr_run))
        .route("/amr/{file}", get(amr_csv))
}

/// Specimen types the form offers.
const SPECIMENS: [&str; 4] = ["blood", "urine", "csf", "sputum"];
/// The default panel: WHO GLASS priority bacteria and the drugs their antibiograms report.
const DEFAULT_ORGANISMS: &str = "Escherichia coli, Klebsiella pneumoniae, Pseudomonas aeruginosa, Acinetobacter baumannii, Staphylococcus aureus, Enterococcus faecium";
const DEFAULT_DRUGS: &str = "Ampicillin, Piperacillin/tazobactam, Cefotaxime, Ceftazidime, Meropenem, Ciprofloxacin, Gentamicin, Oxacillin, Vancomycin";

/// The guidelines on offer: every installed one, newest first, EUCAST before CLSI (none if the
/// reference tables cannot be loaded; the form then says why).
fn guidelines() -> Vec<String> {
    let mut g: Vec<Guideline> = Reference::shared()
        .map(|r| r.guidelines().to_vec())
        .unwrap_or_default();
    g.sort_by_key(|g| std::cmp::Reverse((g.year, g.to_string().starts_with("EUCAST"))));
    g.iter().map(ToString::to_string).collect()
}

fn split(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks the form; returns the task's question when it is valid.
fn spec_of(
    form: &AmrForm,
    offered: &[String],
    errors: &mut FieldErrors,
) -> Option<AntibiogramRequest> {
    let r = match Reference::shared() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("AMR reference tables: {e}");
            errors.add("guideline", "err-amr-spec", e.to_string());
            return None;
        }
    };
    if !offered.contains(&form.guideline) {
        errors.add("guideline", "err-choice", form.guideline.clone());
    }
    let orgs = split(&form.organisms);
    if orgs.is_empty() {
        errors.add("organisms", "err-required", "");
    }
    if let Some(bad) = orgs.iter().find(|o| r.find_organism(o).is_none()) {
        errors.add("organisms", "err-unknown-organism", bad.clone());
    }
    let drugs = split(&form.antimicrobials);
    if drugs.is_empty() {
        errors.add("antimicrobials", "err-required", "");
    }
    if let Some(bad) = drugs.iter().find(|d| r.find_antimicrobial(d).is_none()) {
        errors.add("antimicrobials", "err-unknown-antimicrobial", bad.clone());
    }
    if !form.specimen.is_empty() && !SPECIMENS.contains(&form.specimen.as_str()) {
        errors.add("specimen", "err-choice", form.specimen.clone());
    }
    let from = (!form.from.trim().is_empty())
        .then(|| errors.date("from", form.from.trim()))
        .flatten();
    let to = (!form.to.trim().is_empty())
        .then(|| errors.date("to", form.to.trim()))
        .flatten();
    errors.ordered("to", from, to);
    if !errors.is_empty() {
        return None;
    }
    let guideline = match form.guideline.parse() {
        Ok(g) => g,
        Err(e) => {
            errors.add("guideline", "err-amr-spec", format!("{e}"));
            return None;
        }
    };
    let spec = kakehashi_amr::AntibiogramSpec {
        guideline,
        organisms: orgs,
        antimicrobials: drugs,
        period: kakehashi_amr::antibiogram::Period { from, to },
        specimen_types: if form.specimen.is_empty() {
            Vec::new()
        } else {
            vec![form.specimen.clone()]
        },
        first_isolate: Default::default(),
        max_isolates_per_patient: kakehashi_amr::per_patient::DEFAULT_MAX_ISOLATES_PER_PATIENT,
        by_year: form.by_year,
        infection_site: Default::default(),
    };
    // The hub checks again what every site will check (unknown names, guideline years).
    match AntibiogramRequest::new(spec) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.add("guideline", "err-amr-spec", e.to_string());
            None
        }
    }
}

/// Asks the antibiogram (or reuses the same question asked in the last 30 minutes by this
/// user), without waiting for the sites. Blocking.
fn ask(hub: &Hub, user: &User, spec: AntibiogramRequest) -> Result<Task, ApiError> {
    let recent = hub.db.tasks_for(user, None, 100)?.into_iter().find(|t| {
        matches!(&t.spec, TaskSpec::Antibiogram(s) if *s == spec)
            && chrono::Utc::now() - t.created < chrono::Duration::minutes(30)
    });
    if let Some(t) = recent {
        return Ok(t);
    }
    let project = hub
        .db
        .projects_of(user)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::forbidden("you belong to no project"))?;
    create_task_for(
        hub,
        user,
        NewTask {
            project: project.id,
            spec: TaskSpec::Antibiogram(spec),
            deadline_seconds: None,
        },
    )
}

/// The form as it asked an antibiogram (to show beside its result).
fn form_of(spec: &kakehashi_amr::AntibiogramSpec) -> AmrForm {
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    AmrForm {
        guideline: spec.guideline.to_string(),
        organisms: spec.organisms.join(", "),
        antimicrobials: spec.antimicrobials.join(", "),
        specimen: spec.specimen_types.first().cloned().unwrap_or_default(),
        from: day(spec.period.from),
        to: day(spec.period.to),
        by_year: spec.by_year,
    }
}

/// The form page (with the default panel, or the rejected form and its errors).
fn form_page(offered: Vec<String>, form: AmrForm, errors: FieldErrors) -> Page {
    Page::Amr(AmrPage {
        guidelines: offered,
        specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
        form,
        errors,
        ..Default::default()
    })
}

#[derive(Deserialize, Default)]
struct AmrQuery {
    guideline: Option<String>,
    task: Option<String>,
}

/// `GET /amr`: the form with the default panel; with `task=ID` that antibiogram's result
/// (waiting for the sites up to the task's deadline). A GET never asks the network.
async fn amr(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<AmrQuery>,
) -> Result<Response, ApiError> {
    let offered = guidelines();
    let Some(id) = q.task else {
        let form = AmrForm {
            guideline: q
                .guideline
                .filter(|g| !g.is_empty())
                .or_else(|| offered.first().cloned())
                .unwrap_or_default(),
            organisms: DEFAULT_ORGANISMS.into(),
            antimicrobials: DEFAULT_DRUGS.into(),
            ..Default::default()
        };
        let mut page = form_page(offered, form, FieldErrors::default());
        with_in_force(&hub, &mut page).await;
        return Ok(ui.page(StatusCode::OK, &page, "amr"));
    };
    let task = hub.blocking(move |h| visible_task(h, &user, &id)).await?;
    let TaskSpec::Antibiogram(spec) = &task.spec else {
        return Err(ApiError::not_found(format!("no antibiogram {}", task.id)));
    };
    let form = form_of(spec.spec());
    let wait = std::time::Duration::from_secs(hub.cfg.tasks.default_deadline_seconds + 1);
    let m = wait_merged(&hub, &task, wait).await?;
    let res = antibiogram::result(&m, &hub.cfg.rules);
    let mut page = Page::Amr(page_of(&res, form, ui.locale));
    with_in_force(&hub, &mut page).await;
    Ok(ui.page(StatusCode::OK, &page, "amr"))
}

/// Adds the library document in force for the page's guideline.
async fn with_in_force(hub: &Arc<Hub>, page: &mut Page) {
    if let Page::Amr(p) = page
        && !p.form.guideline.is_empty()
    {
        let subject = Governs::Breakpoints {
            guideline: p.form.guideline.clone(),
        };
        p.in_force = super::office::in_force(hub, subject).await;
    }
}

/// The antibiogram form as posted, with its CSRF token.
#[derive(Deserialize, Default)]
struct AmrPost {
    #[serde(flatten)]
    form: AmrForm,
    #[serde(default)]
    csrf: String,
}

/// `POST /amr`: checks the form and asks the network, then sends the browser to the result
/// (303 to `GET /amr?task=ID`); a rejected form comes back with its errors (422).
async fn amr_run(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(p): Form<AmrPost>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&p.csrf)?;
    let offered = guidelines();
    let form = p.form;
    let mut errors = FieldErrors::default();
    let spec = spec_of(&form, &offered, &mut errors);
    if user.role == Role::Steward {
        errors.add("guideline", "error-forbidden", "");
    }
    let Some(spec) = spec.filter(|_| errors.is_empty()) else {
        let page = form_page(offered, form, errors);
        return Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, &page, "amr"));
    };
    let task = hub.blocking(move |h| ask(h, &user, spec)).await?;
    Ok(Redirect::to(&format!("/amr?task={}", task.id)).into_response())
}

#[derive(Deserialize)]
struct CsvQuery {
    task: String,
}

/// `GET /amr/{country}.csv?task=ID`: a heat-map's cells as CSV.
async fn amr_csv(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(file): Path<String>,
    Query(q): Query<CsvQuery>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("no chart {file}"));
    let Some(id) = file.strip_suffix(".csv") else {
        return Err(not_found());
    };
    let task = hub
        .blocking(move |h| visible_task(h, &user, &q.task))
        .await?;
    let TaskSpec::Antibiogram(spec) = &task.spec else {
        return Err(not_found());
    };
    let guideline = spec.spec().guideline.to_string();
    let m = wait_merged(&hub, &task, std::time::Duration::ZERO).await?;
    let res = antibiogram::result(&m, &hub.cfg.rules);
    match heat_maps(&res, &guideline, ui.locale)
        .into_iter()
        .find(|h| h.id == id)
    {
        Some(h) if res.sites.iter().any(|s| s.state == SiteState::Answered) => {
            Ok(download("text/csv; charset=utf-8", "attachment", h.csv()))
        }
        _ => Err(not_found()),
    }
}
