//! The analysis page, `/analysis`: a form (project, a shipped example dataset or pasted JSON,
//! model, variables) posted without JavaScript; the hub runs the analysis through
//! [`crate::service::stats`] (the same runs as the API) and the page shows each site's part,
//! the result with CIs, a forest plot, and CSV, R and Python copies (`analysis/view.rs`).

use super::{S, SignedIn};
use crate::service::stats::{self, CoxAsk, StatsAsk};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_federation::task::stats::Dataset;
use kakehashi_stats::Family;
use kakehashi_web::analysis::{AnalysisForm, AnalysisPage, AnalysisResult};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::Page;
use serde::Deserialize;
use std::sync::Arc;

mod view;

/// The shipped example datasets, by name (`docs/examples/NAME.json`).
const EXAMPLES: [(&str, &str); 4] = [
    (
        "sari-mortality",
        include_str!("../../../../docs/examples/sari-mortality.json"),
    ),
    (
        "sari-adults",
        include_str!("../../../../docs/examples/sari-adults.json"),
    ),
    ("sfts", include_str!("../../../../docs/examples/sfts.json")),
    (
        "sfts-thrombocytopenia",
        include_str!("../../../../docs/examples/sfts-thrombocytopenia.json"),
    ),
];

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/analysis", get(page).post(submit))
}

/// The form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Posted {
    csrf: String,
    project: String,
    example: String,
    dataset: String,
    model: String,
    formula: String,
    family: String,
    variable: String,
    by: String,
    variables: String,
    time: String,
    event: String,
    covariates: String,
    breaks: String,
}

/// The README's example, ready to run.
fn default_form() -> AnalysisForm {
    AnalysisForm {
        example: "sari-mortality".into(),
        model: "glm".into(),
        formula: "died ~ age_band + sex + country".into(),
        family: "binomial".into(),
        variable: "age".into(),
        by: "sex".into(),
        variables: "sex,died".into(),
        time: "los".into(),
        event: "died".into(),
        covariates: "age_band + sex + country".into(),
        breaks: "0,7,14".into(),
        ..AnalysisForm::default()
    }
}

async fn render(
    hub: &Arc<Hub>,
    ui: &super::Ui,
    user: crate::db::User,
    status: StatusCode,
    form: AnalysisForm,
    errors: FieldErrors,
    result: Option<AnalysisResult>,
) -> Result<Response, ApiError> {
    let projects = hub
        .blocking(move |h| {
            Ok(h.db
                .projects_of(&user)?
                .into_iter()
                .map(|p| (p.id, p.title))
                .collect::<Vec<_>>())
        })
        .await?;
    let mut form = form;
    if form.project.is_empty() && projects.len() == 1 {
        form.project = projects[0].0.clone();
    }
    let page = AnalysisPage {
        projects,
        examples: EXAMPLES.iter().map(|(n, _)| (*n).to_owned()).collect(),
        form,
        errors,
        result,
    };
    Ok(ui.page(status, &Page::Analysis(Box::new(page)), "analysis"))
}

async fn page(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    render(
        &hub,
        &ui,
        user,
        StatusCode::OK,
        default_form(),
        FieldErrors::default(),
        None,
    )
    .await
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn submit(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(p): Form<Posted>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&p.csrf)?;
    let form = AnalysisForm {
        project: p.project,
        example: p.example,
        dataset: p.dataset,
        model: p.model,
        formula: p.formula,
        family: p.family,
        variable: p.variable,
        by: p.by,
        variables: p.variables,
        time: p.time,
        event: p.event,
        covariates: p.covariates,
        breaks: p.breaks,
    };
    let mut errors = FieldErrors::default();
    if form.project.is_empty() {
        errors.add("project", "err-required", "");
    }
    let text = match EXAMPLES.iter().find(|(n, _)| *n == form.example) {
        Some((_, t)) => Some(*t),
        None if form.example.is_empty() && !form.dataset.trim().is_empty() => {
            Some(form.dataset.as_str())
        }
        None if form.example.is_empty() => {
            errors.add("dataset", "err-required", "");
            None
        }
        None => {
            errors.add("example", "err-choice", form.example.clone());
            None
        }
    };
    let dataset = text.and_then(|t| match Dataset::from_json(t) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("dataset", "err-dataset", e.to_string());
            None
        }
    });
    let family = Family::from_name(&form.family);
    if family.is_none() && matches!(form.model.as_str(), "glm" | "meta") {
        errors.add("family", "err-choice", form.family.clone());
    }
    let breaks: Result<Vec<u32>, _> = list(&form.breaks).iter().map(|b| b.parse()).collect();
    if breaks.is_err() && matches!(form.model.as_str(), "km" | "cox") {
        errors.add(
            "breaks",
            "err-analysis",
            "breaks: whole days, comma-separated",
        );
    }
    let (Some(dataset), true) = (dataset, errors.is_empty()) else {
        return render(&hub, &ui, user, StatusCode::BAD_REQUEST, form, errors, None).await;
    };
    let ask = StatsAsk {
        project: form.project.clone(),
        dataset,
        evaluation_date: None,
    };
    let family = family.unwrap_or(Family::Gaussian);
    let breaks = breaks.unwrap_or_default();
    let f = &form;
    let run = match f.model.as_str() {
        "glm" => stats::glm(&hub, &user, ask, f.formula.clone(), family)
            .await
            .map(|r| view::glm(&r)),
        "summary" => {
            let by = (!f.by.trim().is_empty()).then(|| f.by.trim().to_owned());
            stats::summary(&hub, &user, ask, f.variable.trim().to_owned(), by)
                .await
                .map(|r| view::summary(&r))
        }
        "table" => stats::table(&hub, &user, ask, list(&f.variables))
            .await
            .map(|r| view::table(&r)),
        "km" => stats::km(
            &hub,
            &user,
            ask,
            f.time.trim().to_owned(),
            f.event.trim().to_owned(),
            breaks,
        )
        .await
        .map(|r| view::km(&r)),
        "cox" => {
            let c = CoxAsk {
                time: f.time.trim().to_owned(),
                event: f.event.trim().to_owned(),
                covariates: f.covariates.clone(),
                breaks,
            };
            stats::cox(&hub, &user, ask, c).await.map(|r| view::cox(&r))
        }
        "meta" => stats::meta(&hub, &user, ask, f.formula.clone(), family, None)
            .await
            .map(|r| view::meta(&r)),
        other => Err(ApiError::bad_request(format!(
            "model: {other:?} is not a model"
        ))),
    };
    match run {
        Ok(result) => render(&hub, &ui, user, StatusCode::OK, form, errors, Some(result)).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            errors.add("model", "err-analysis", e.message);
            render(&hub, &ui, user, StatusCode::BAD_REQUEST, form, errors, None).await
        }
        Err(e) => Err(e),
    }
}
