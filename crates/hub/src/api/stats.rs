//! Federated statistics under a project: `/api/projects/{project}/stats/summary`, `.../table`,
//! `.../glm`, `.../km`, `.../cox` and `.../meta`. Each reads its body, checks the question (a bad one is a `400` naming the
//! field, before any site is asked) and runs [`crate::service::stats`]; the answer is the
//! report: every site's part and, only when all answered, the pooled result.

use super::{S, json_body};
use crate::context::Caller;
use crate::db::Role;
use crate::service::stats::{self, CoxAsk, StatsAsk};
use crate::{ApiError, Hub};
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use kakehashi_federation::task::stats::{
    Dataset, DatasetWire, GlmReport, KmResult, MetaResult, StatsReport, SummaryResult, TableResult,
};
use kakehashi_stats::Family;
use kakehashi_stats::survival::CoxSummary;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/projects/{project}/stats/summary", post(summary))
        .route("/api/projects/{project}/stats/table", post(table))
        .route("/api/projects/{project}/stats/glm", post(glm))
        .route("/api/projects/{project}/stats/km", post(km))
        .route("/api/projects/{project}/stats/cox", post(cox))
        .route("/api/projects/{project}/stats/meta", post(meta))
}

/// What every statistics request carries, besides its analysis.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<A> {
    dataset: DatasetWire,
    #[serde(default)]
    evaluation_date: Option<NaiveDate>,
    #[serde(flatten)]
    analysis: A,
}

#[derive(Deserialize)]
struct SummaryBody {
    variable: String,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Deserialize)]
struct TableBody {
    variables: Vec<String>,
}

#[derive(Deserialize)]
struct GlmBody {
    formula: String,
    #[serde(default = "gaussian")]
    family: String,
}

#[derive(Deserialize)]
struct KmBody {
    time: String,
    event: String,
    breaks: Vec<u32>,
}

#[derive(Deserialize)]
struct CoxBody {
    time: String,
    event: String,
    covariates: String,
    breaks: Vec<u32>,
}

#[derive(Deserialize)]
struct MetaBody {
    formula: String,
    #[serde(default = "gaussian")]
    family: String,
    #[serde(default)]
    term: Option<String>,
}

fn gaussian() -> String {
    "gaussian".into()
}

/// Checks the role, then reads the body and the dataset (errors name `dataset.<field>`).
fn read<A: serde::de::DeserializeOwned>(
    user: &crate::db::User,
    project: String,
    body: &[u8],
) -> Result<(StatsAsk, A), ApiError> {
    crate::context::require(user, Role::Researcher)?;
    let b: Body<A> = json_body(body, "request body")?;
    let dataset = Dataset::from_wire(b.dataset)
        .map_err(|e| ApiError::bad_request(format!("dataset: {e}")))?;
    Ok((
        StatsAsk {
            project,
            dataset,
            evaluation_date: b.evaluation_date,
        },
        b.analysis,
    ))
}

async fn summary(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StatsReport<SummaryResult>>, ApiError> {
    let (ask, a) = read::<SummaryBody>(&user, project, &body)?;
    Ok(Json(
        stats::summary(&hub, &user, ask, a.variable, a.by).await?,
    ))
}

async fn table(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StatsReport<TableResult>>, ApiError> {
    let (ask, a) = read::<TableBody>(&user, project, &body)?;
    Ok(Json(stats::table(&hub, &user, ask, a.variables).await?))
}

async fn glm(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<GlmReport>, ApiError> {
    let (ask, a) = read::<GlmBody>(&user, project, &body)?;
    let family = family(&a.family)?;
    Ok(Json(stats::glm(&hub, &user, ask, a.formula, family).await?))
}

fn family(name: &str) -> Result<Family, ApiError> {
    Family::from_name(name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "family: {name:?} is not a family (gaussian, binomial or poisson)"
        ))
    })
}

async fn km(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StatsReport<KmResult>>, ApiError> {
    let (ask, a) = read::<KmBody>(&user, project, &body)?;
    Ok(Json(
        stats::km(&hub, &user, ask, a.time, a.event, a.breaks).await?,
    ))
}

async fn cox(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StatsReport<CoxSummary>>, ApiError> {
    let (ask, a) = read::<CoxBody>(&user, project, &body)?;
    let c = CoxAsk {
        time: a.time,
        event: a.event,
        covariates: a.covariates,
        breaks: a.breaks,
    };
    Ok(Json(stats::cox(&hub, &user, ask, c).await?))
}

async fn meta(
    State(hub): S,
    Caller(user): Caller,
    Path(project): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StatsReport<MetaResult>>, ApiError> {
    let (ask, a) = read::<MetaBody>(&user, project, &body)?;
    let family = family(&a.family)?;
    Ok(Json(
        stats::meta(&hub, &user, ask, a.formula, family, a.term).await?,
    ))
}
