//! The network's catalogue page, `/catalogue` (a GET form: words, material type, ICD-10 code,
//! country; a bad criterion is shown next to its field), and the whole catalogue as MIABIS
//! JSON for signed-in users, `/catalogue/miabis.json` (the API's `/api/catalogue/miabis`
//! for a browser session).

use super::{S, SignedIn};
use crate::service::catalogue;
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kakehashi_biobank::network::{Hit, Search, SearchError};
use kakehashi_biobank::vocab::{MaterialType, ValueSet};
use kakehashi_web::catalogue::{CatalogueForm, CataloguePage, CollectionRow};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::Page;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/catalogue", get(page))
        .route("/catalogue/miabis.json", get(miabis))
}

fn labels<V: ValueSet>(vs: &[V]) -> Vec<String> {
    vs.iter().map(|v| v.label().to_owned()).collect()
}

fn row(h: Hit) -> CollectionRow {
    let c = h.collection;
    CollectionRow {
        site: h.site,
        biobank: h.biobank.name,
        country: h.biobank.country,
        materials: labels(&c.material_types),
        diseases: c.diseases.iter().map(|d| d.as_str().to_owned()).collect(),
        subjects: c.number_of_subjects,
        samples: c.number_of_samples,
        access: labels(&c.access_conditions),
        contact: c.contact.email,
        id: c.id,
        name: c.name,
        description: c.description,
    }
}

async fn page(
    State(hub): S,
    SignedIn(ui, _user): SignedIn,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let form = CatalogueForm {
        q: get("q"),
        material: get("material"),
        disease: get("disease"),
        country: get("country"),
    };
    let mut errors = FieldErrors::default();
    let search = match Search::parse(
        Some(&form.q),
        Some(&form.material),
        Some(&form.disease),
        Some(&form.country),
    ) {
        Ok(s) => Some(s),
        Err(e) => {
            match e {
                SearchError::Material { value, .. } => errors.add("material", "err-choice", value),
                SearchError::Disease(e) => errors.add("disease", "err-icd10", e.text),
                SearchError::Country { value } => errors.add("country", "err-country", value),
            }
            None
        }
    };
    let (rows, sites) = hub
        .blocking(move |h| {
            let sites = h.db.catalogues()?.len();
            let rows = match search {
                Some(s) => catalogue::find(h, &s)?.into_iter().map(row).collect(),
                None => Vec::new(),
            };
            Ok((rows, sites))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = CataloguePage {
        form,
        materials: MaterialType::ALL
            .iter()
            .map(|m| (m.code().to_owned(), m.label().to_owned()))
            .collect(),
        countries: vec!["DE".into(), "JP".into()],
        errors,
        rows,
        sites,
    };
    Ok(ui.page(status, &Page::Catalogue(page), "catalogue"))
}

async fn miabis(State(hub): S, SignedIn(_ui, _user): SignedIn) -> Result<Response, ApiError> {
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
    )
        .into_response())
}
