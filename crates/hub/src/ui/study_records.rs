//! Data entry's subjects: `/studies/{id}/subjects` (the subjects the member sees: their
//! site's unless the role sees all; `POST`, CSRF-checked, enrols a site-minted pseudonym; a
//! refusal shows the list again with the pseudonym as typed and the reason next to it) and
//! `/studies/{id}/subjects/{record}` (the event × form grid). The form pages are in
//! [`super::study_forms`]; who may do what is decided in [`records`].

use super::{S, SignedIn, Ui};
use crate::db::User;
use crate::service::studies::records::{self, Enrolment};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kakehashi_web::pages::Page;
use kakehashi_web::study::subjects::{SubjectPage, SubjectRow, SubjectsPage};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/studies/{id}/subjects", get(list).post(enrol))
        .route("/studies/{id}/subjects/{record}", get(subject))
}

/// The subject list with the enrolment form (kept as typed, with the refusal, when refused).
async fn subjects_page(
    hub: &Arc<Hub>,
    ui: &Ui,
    user: User,
    id: String,
    record: String,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let (a, subjects) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let subjects = records::subjects(h, &user, &id)?;
            Ok((a, subjects))
        })
        .await?;
    let may_enter = a.study.forms().iter().any(|f| a.role.rights(f).edit);
    let enrol_sites = a
        .study
        .sites
        .iter()
        .filter(|d| may_enter && a.sees(&d.dag))
        .map(|d| (d.dag.clone(), d.name.clone()))
        .collect();
    let page = SubjectsPage {
        study: a.study.id.clone(),
        acronym: a.study.acronym.clone(),
        subjects: subjects
            .iter()
            .map(|s| SubjectRow {
                record: s.record.clone(),
                site: s.site.clone(),
                created: s.enrolled_at.to_rfc3339(),
                status: s.status.as_str().to_owned(),
            })
            .collect(),
        all_sites: a.role.all_sites,
        site: a.member.dag.clone().unwrap_or_default(),
        enrol_sites,
        record,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(ui.page(status, &Page::StudySubjects(page), "studies"))
}

async fn list(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    subjects_page(&hub, &ui, user, id, String::new(), None).await
}

#[derive(Deserialize)]
struct EnrolForm {
    csrf: String,
    record: String,
    site: String,
}

async fn enrol(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<EnrolForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let record = f.record.trim().to_owned();
    let (u, i) = (user.clone(), id.clone());
    let e = Enrolment {
        record: record.clone(),
        dag: Some(f.site),
    };
    match hub.blocking(move |h| records::enrol(h, &u, &i, e)).await {
        Ok(s) => Ok(Redirect::to(&format!("/studies/{id}/subjects/{}", s.record)).into_response()),
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::CONFLICT => {
            subjects_page(&hub, &ui, user, id, record, Some(e.message)).await
        }
        Err(e) => Err(e),
    }
}

async fn subject(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path((id, record)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (a, v) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let v = records::subject(h, &user, &id, &record)?;
            Ok((a, v))
        })
        .await?;
    let page = SubjectPage::new(
        &a.study,
        ui.locale,
        &v.subject.record,
        &v.subject.site,
        v.subject.status.as_str(),
        &v.grid,
    );
    Ok(ui.page(StatusCode::OK, &Page::StudySubject(page), "studies"))
}
