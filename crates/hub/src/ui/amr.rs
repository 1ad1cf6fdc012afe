//! The resistance page: a researcher states an antibiogram (guideline, organisms, drugs,
//! specimen, period); every site reads its raw values again with that guideline and answers
//! through its gate; the page shows a heat-map per country, Germany against Japan with
//! intervals, and MDRO shares. Every heat-map's data downloads as CSV.

use super::{S, SignedIn, download};
use crate::db::{Role, User};
use crate::service::tasks::{NewTask, create_task_for, visible_task, wait_merged};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_amr::{Guideline, Reference};
use kakehashi_federation::antibiogram::{self, AntibiogramRequest, AntibiogramResult};
use kakehashi_federation::{SiteState, TaskSpec};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::{AmrForm, AmrPage, Page};
use serde::Deserialize;
use std::sync::Arc;
use view::{heat_maps, page_of};

mod view;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/amr", get(amr))
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

#[derive(Deserialize, Default)]
struct AmrQuery {
    #[serde(flatten)]
    form: AmrForm,
    run: Option<String>,
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

/// Runs the antibiogram (or reuses the same question asked in the last 30 minutes) and waits
/// for the sites.
async fn run(
    hub: &Arc<Hub>,
    user: User,
    spec: AntibiogramRequest,
) -> Result<AntibiogramResult, ApiError> {
    let task = hub
        .blocking(move |hub| {
            let recent = hub.db.tasks_for(&user, None, 100)?.into_iter().find(|t| {
                matches!(&t.spec, TaskSpec::Antibiogram(s) if *s == spec)
                    && chrono::Utc::now() - t.created < chrono::Duration::minutes(30)
            });
            if let Some(t) = recent {
                return Ok(t);
            }
            let project = hub
                .db
                .projects_of(&user)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::forbidden("you belong to no project"))?;
            create_task_for(
                hub,
                &user,
                NewTask {
                    project: project.id,
                    spec: TaskSpec::Antibiogram(spec),
                    deadline_seconds: None,
                },
            )
        })
        .await?;
    let wait = std::time::Duration::from_secs(hub.cfg.tasks.default_deadline_seconds + 1);
    let m = wait_merged(hub, &task, wait).await?;
    Ok(antibiogram::result(&m, &hub.cfg.rules))
}

/// `GET /amr`: the form with the default panel; with `run=1` the antibiogram itself.
async fn amr(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<AmrQuery>,
) -> Result<Response, ApiError> {
    let offered = guidelines();
    let mut form = q.form;
    if q.run.is_none() {
        form = AmrForm {
            guideline: if form.guideline.is_empty() {
                offered.first().cloned().unwrap_or_default()
            } else {
                form.guideline
            },
            organisms: DEFAULT_ORGANISMS.into(),
            antimicrobials: DEFAULT_DRUGS.into(),
            ..Default::default()
        };
        let page = AmrPage {
            guidelines: offered,
            specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
            form,
            ..Default::default()
        };
        return Ok(ui.page(StatusCode::OK, &Page::Amr(page), "amr"));
    }
    let mut errors = FieldErrors::default();
    let spec = spec_of(&form, &offered, &mut errors);
    if user.role == Role::Steward {
        errors.add("guideline", "error-forbidden", "");
    }
    let Some(spec) = spec.filter(|_| errors.is_empty()) else {
        let page = AmrPage {
            guidelines: offered,
            specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
            form,
            errors,
            ..Default::default()
        };
        return Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, &Page::Amr(page), "amr"));
    };
    let res = run(&hub, user, spec).await?;
    Ok(ui.page(
        StatusCode::OK,
        &Page::Amr(page_of(&res, form, ui.locale)),
        "amr",
    ))
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
