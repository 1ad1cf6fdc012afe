//! The EDC's study pages: `/studies` (the studies the user holds a role in; the network
//! office: all), `/studies/{id}` (forms, events, sites, members, export links) and
//! `/studies/{id}/export?format=redcap|odm` (the definition as a download). Who may see and
//! export what is decided in [`crate::service::studies`]; the pages are rendered by
//! `kakehashi_web::study`.

use super::{S, SignedIn, download};
use crate::service::studies::{self, ExportFormat};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use kakehashi_web::pages::Page;
use kakehashi_web::study::{MemberRow, StudiesPage, StudyPage, StudyRow};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/studies", get(list))
        .route("/studies/{id}", get(one))
        .route("/studies/{id}/export", get(export))
        .route("/studies/{id}/records/export", get(export_records))
}

async fn list(State(hub): S, SignedIn(ui, user): SignedIn) -> Result<Response, ApiError> {
    let rows = hub.blocking(move |h| studies::list(h, &user)).await?;
    let page = StudiesPage {
        studies: rows
            .iter()
            .map(|s| {
                StudyRow::new(
                    &s.id,
                    &s.title,
                    &s.acronym,
                    s.status,
                    s.forms,
                    s.fields,
                    s.sites.len(),
                    s.role.as_deref(),
                )
            })
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, &Page::Studies(page), "studies"))
}

async fn one(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (s, member, members, can_export) = hub
        .blocking(move |h| {
            let (s, member) = studies::visible(h, &user, &id)?;
            let members = studies::members(h, &user, &id)?;
            let can_export = studies::may_export(h, &user, &s)?;
            Ok((s, member, members, can_export))
        })
        .await?;
    let members = members
        .into_iter()
        .map(|m| MemberRow {
            user: m.user,
            role: m.role,
            site: m.dag.unwrap_or_default(),
        })
        .collect();
    let mut page = StudyPage::new(&s, ui.locale, members, can_export);
    // only members enter data (the network office too only as one)
    page.subjects = member.is_some();
    Ok(ui.page(StatusCode::OK, &Page::Study(Box::new(page)), "studies"))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: ExportFormat,
}

async fn export(
    State(hub): S,
    SignedIn(_ui, user): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let body = hub
        .blocking(move |h| studies::export(h, &user, &id, q.format))
        .await?;
    Ok(match q.format {
        ExportFormat::Redcap => download(
            "text/csv; charset=utf-8",
            "attachment; filename=\"data-dictionary.csv\"",
            body,
        ),
        ExportFormat::Odm => download(
            "application/xml; charset=utf-8",
            "attachment; filename=\"study-odm.xml\"",
            body,
        ),
    })
}

#[derive(Deserialize)]
struct RecordsQuery {
    format: crate::service::studies::records::export::RecordsFormat,
}

/// The study's clinical data as a download (flat CSV or ODM with the audit trail).
async fn export_records(
    State(hub): S,
    SignedIn(_ui, user): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<RecordsQuery>,
) -> Result<Response, ApiError> {
    use crate::service::studies::records::export::{RecordsFormat, export};
    let name = match q.format {
        RecordsFormat::Csv => "attachment; filename=\"records.csv\"",
        RecordsFormat::Odm => "attachment; filename=\"records-odm.xml\"",
        RecordsFormat::Fhir => "attachment; filename=\"records-fhir.json\"",
        RecordsFormat::Parquet => "attachment; filename=\"records.parquet\"",
    };
    let e = hub
        .blocking(move |h| export(h, &user, &id, q.format))
        .await?;
    Ok(download(e.content_type, name, e.body))
}
