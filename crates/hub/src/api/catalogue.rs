//! The network's catalogue: sites send theirs (`POST /api/site/catalogue`, site token);
//! users search it (`GET /api/catalogue?q=&material=&disease=&country=`) and export it whole
//! as MIABIS JSON (`GET /api/catalogue/miabis`).

use super::{S, json_body};
use crate::context::{Caller, SiteCaller};
use crate::service::catalogue::{self, Received};
use crate::{ApiError, Hub};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_biobank::network::Hit;
use kakehashi_federation::catalogue::CatalogueReport;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/site/catalogue", post(site_catalogue))
        .route("/api/catalogue", get(search))
        .route("/api/catalogue/miabis", get(miabis))
}

async fn site_catalogue(
    State(hub): S,
    SiteCaller(site): SiteCaller,
    body: axum::body::Bytes,
) -> Result<Json<Received>, ApiError> {
    let report: CatalogueReport = json_body(&body, "catalogue report")?;
    Ok(Json(
        hub.blocking(move |h| catalogue::accept(h, &site, report))
            .await?,
    ))
}

async fn search(
    State(hub): S,
    Caller(_): Caller,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Json<Vec<Hit>>, ApiError> {
    let s = catalogue::search_of(&q)?;
    Ok(Json(hub.blocking(move |h| catalogue::find(h, &s)).await?))
}

async fn miabis(State(hub): S, Caller(_): Caller) -> Result<impl IntoResponse, ApiError> {
    let text = hub.blocking(catalogue::miabis).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kakehashi-miabis.json\"",
            ),
        ],
        text,
    ))
}
