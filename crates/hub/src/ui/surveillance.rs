//! The surveillance page: weekly cases per country (with rates per 100,000 and the MEM
//! threshold and intensity bands fitted on the earlier seasons) and the share of tests positive
//! per pathogen with its 95 % interval and the tests behind it. A GET never asks the network:
//! it shows the newest stored result of an earlier run in the user's projects (whoever asked
//! it; `kakehashi demo` asks one at start), with its date, on the current season of each
//! country's reporting convention without pressing "Apply", or, when there is none yet, says
//! so; beside it the button that asks every site again (a POST with the form's CSRF token,
//! which redirects to the page). Every chart's data downloads as CSV.

use super::{S, SignedIn, download, note_texts};
use crate::db::{Role, User};
use crate::service::tasks::{NewTask, create_task_for, wait_merged};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use charts::page_parts;
use chrono::Utc;
use kakehashi_federation::surveillance::{self, SurveillanceResult};
use kakehashi_federation::{Task, TaskSpec};
use kakehashi_office::library::Governs;
use kakehashi_surveillance::pooled::season_label;
use kakehashi_web::chart::LineChart;
use kakehashi_web::pages::{self, Page};
use kakehashi_web::share_chart::ShareChart;
use serde::Deserialize;
use std::sync::Arc;

mod charts;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/surveillance", get(surveillance).post(surveillance_run))
        .route("/surveillance/{file}", get(surveillance_csv))
}

#[derive(Deserialize, Default)]
struct SurvQuery {
    definition: Option<String>,
    season: Option<String>,
}

/// The user's newest surveillance task for a definition, if any. Blocking.
fn newest_task(hub: &Hub, user: &User, def: &str) -> Result<Option<Task>, ApiError> {
    Ok(hub.db.tasks_for(user, None, 100)?.into_iter().find(|t| {
        matches!(&t.spec, TaskSpec::SurveillanceSeries(r) if r.definition() == def && r.is_whole())
    }))
}

/// The newest stored result for a definition in the user's projects, whoever asked it (waiting
/// for the sites while its task runs), with its task; `None` when no one asked it yet. Asks
/// nothing.
async fn stored_result(
    hub: &Arc<Hub>,
    user: User,
    definition: &str,
) -> Result<Option<(Task, SurveillanceResult)>, ApiError> {
    let def = definition.to_owned();
    let Some(task) = hub.blocking(move |h| newest_task(h, &user, &def)).await? else {
        return Ok(None);
    };
    let wait = std::time::Duration::from_secs(hub.cfg.tasks.default_deadline_seconds + 1);
    let m = wait_merged(hub, &task, wait).await?;
    let result = surveillance::result(&m, &hub.cfg.rules);
    Ok(Some((task, result)))
}

/// Asks the network for a definition's series (or reuses the user's task of the last 30
/// minutes). Blocking.
fn ask(hub: &Hub, user: &User, def: &str) -> Result<Task, ApiError> {
    if let Some(t) = newest_task(hub, user, def)?
        && Utc::now() - t.created < chrono::Duration::minutes(30)
    {
        return Ok(t);
    }
    let project = hub
        .db
        .projects_of(user)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::forbidden("you belong to no project"))?;
    let spec = TaskSpec::SurveillanceSeries(
        surveillance::SurveillanceRequest::of(def)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
    );
    create_task_for(
        hub,
        user,
        NewTask {
            project: project.id,
            spec,
            deadline_seconds: None,
        },
    )
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    definition: String,
    #[serde(default)]
    season: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /surveillance`: asks every site for the definition's series, then sends the browser
/// to the page (303), which shows the result once the sites answered.
async fn surveillance_run(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<RunForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    if !surveillance::definitions().contains(&f.definition.as_str()) {
        return Err(ApiError::bad_request(format!(
            "definition: no case definition {:?}",
            f.definition
        )));
    }
    if user.role == Role::Steward {
        return Err(ApiError::forbidden("stewards do not ask the network"));
    }
    let def = f.definition.clone();
    hub.blocking(move |h| ask(h, &user, &def)).await?;
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("definition", &f.definition)
        .append_pair("season", &f.season)
        .finish();
    Ok(Redirect::to(&format!("/surveillance?{q}")).into_response())
}

/// A season parameter that is not a year from 1990 to 2100 (the text, to show back in the form).
#[derive(Clone)]
struct NotASeason(String);

fn parse_season(s: Option<&str>) -> Result<Option<i32>, NotASeason> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .map(Some)
            .ok_or_else(|| NotASeason(v.to_owned())),
    }
}

async fn surveillance(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<SurvQuery>,
) -> Result<Response, ApiError> {
    let definition = q
        .definition
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| surveillance::definitions()[0].to_owned());
    let mut page = pages::SurveillancePage {
        definitions: surveillance::definitions()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        definition: definition.clone(),
        season: q.season.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut status = StatusCode::OK;
    let asked = parse_season(q.season.as_deref());
    if !surveillance::definitions().contains(&definition.as_str()) {
        page.errors
            .add("definition", "err-choice", definition.clone());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else if let Err(NotASeason(bad)) = &asked {
        page.errors.add("season", "err-choice", bad.clone());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else if user.role != Role::Steward {
        match stored_result(&hub, user, &definition).await {
            Ok(None) => page.not_run = true,
            Ok(Some((task, r))) => {
                page.run = Some(pages::SurveillanceRun {
                    created: task.created,
                    requested_by: task.requested_by.clone(),
                    project: task.project.to_string(),
                });
                let (charts, shares, levels, shown, seasons) =
                    page_parts(&r, asked.clone().ok().flatten(), Utc::now(), ui.locale);
                page.charts = charts;
                page.share_charts = shares;
                page.levels = levels;
                page.shown = shown;
                let mut notes: Vec<kakehashi_federation::Note> = Vec::new();
                for n in r.sites.iter().flat_map(|s| &s.notes) {
                    if !notes.contains(n) {
                        notes.push(n.clone());
                    }
                }
                page.notes = note_texts(&notes, ui.locale);
                page.noise_off_sites = r
                    .sites
                    .iter()
                    .filter(|s| s.disclosure.as_ref().is_some_and(|d| d.noise_off()))
                    .map(|s| s.name.clone())
                    .collect();
                page.seasons = seasons
                    .into_iter()
                    .map(|s| (s.to_string(), season_label(s)))
                    .collect();
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => {
                page.errors.add("definition", "error-forbidden", "")
            }
            Err(e) => return Err(e),
        }
    }
    if page.errors.is_empty() {
        let subject = Governs::CaseDefinition {
            name: definition.clone(),
        };
        page.in_force = super::office::in_force(&hub, subject).await;
    }
    Ok(ui.page(status, &Page::Surveillance(page), "surveillance"))
}

async fn surveillance_csv(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(file): Path<String>,
    Query(q): Query<SurvQuery>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("no chart {file}"));
    let Some(id) = file.strip_suffix(".csv") else {
        return Err(not_found());
    };
    let def = q
        .definition
        .filter(|d| surveillance::definitions().contains(&d.as_str()))
        .unwrap_or_else(|| surveillance::definitions()[0].to_owned());
    let Ok(asked) = parse_season(q.season.as_deref()) else {
        return Err(not_found());
    };
    let (_, r) = stored_result(&hub, user, &def)
        .await?
        .ok_or_else(not_found)?;
    let (charts, shares, ..) = page_parts(&r, asked, Utc::now(), ui.locale);
    let csv = charts
        .iter()
        .find(|ch| ch.id == id)
        .map(LineChart::csv)
        .or_else(|| shares.iter().find(|s| s.id == id).map(ShareChart::csv));
    match csv {
        Some(body) => Ok(download("text/csv; charset=utf-8", "attachment", body)),
        None => Err(not_found()),
    }
}
