//! One form instance of a subject at
//! `/studies/{id}/subjects/{record}/{event}/{form}/{instance}`: `GET` shows it, `POST` saves
//! (partial saves allowed), `/lock`, `/unlock` and `/sign` (password re-entered) below it;
//! `/prefill` asks the subject's site for values from its own data and `/prefill/accept`
//! saves one proposal as proposed or edited.
//! Every form is CSRF-checked and carries the version read; a step that succeeds redirects
//! back with a notice (`?done=saved`).
//!
//! A refused save shows the form again with what was entered and each problem next to its
//! field: the edc crate's own check is run on the form as read to place the problems
//! (`kakehashi_web::study::errors`), then [`records::save`] decides and stores. Refusals the
//! service alone knows (a stale version, a wrong password) are shown at the top of the form.

use super::{S, SignedIn, Ui};
use crate::db::User;
use crate::service::studies::records::{self, FormView, Save, SignRequest, prefill};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kakehashi_edc::entry::{EntryError, FormKey, RecordContext};
use kakehashi_web::Catalog;
use kakehashi_web::pages::Page;
use kakehashi_web::study::form::{FormContext, form_page, meaning_of};
use kakehashi_web::study::input::FormInput;
use kakehashi_web::study::prefill::{Proposed, prefill_panel};
use serde::Deserialize;
use std::sync::Arc;

/// The pre-fill steps (ask the site, accept a proposal).
#[path = "study_forms_prefill.rs"]
mod pages;

const FORM: &str = "/studies/{id}/subjects/{record}/{event}/{form}/{instance}";

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route(FORM, get(show).post(save))
        .route(&format!("{FORM}/lock"), post(lock))
        .route(&format!("{FORM}/unlock"), post(unlock))
        .route(&format!("{FORM}/sign"), post(sign))
        .route(&format!("{FORM}/prefill"), post(pages::prefill_request))
        .route(
            &format!("{FORM}/prefill/accept"),
            post(pages::prefill_accept),
        )
}

type FormPath = Path<(String, String, String, String, u32)>;

fn key_of((_, record, event, form, instance): &(String, String, String, String, u32)) -> FormKey {
    FormKey {
        record: record.clone(),
        event: event.clone(),
        form: form.clone(),
        instance: *instance,
    }
}

/// What a page shows after a step: a notice (message key), or a refusal to place.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    entered: Option<FormInput>,
    error: Option<EntryError>,
    message: Option<String>,
}

/// The form page of `k` as stored now, with the outcome of the step just taken.
async fn form_page_of(
    hub: &Arc<Hub>,
    ui: &Ui,
    user: User,
    id: String,
    k: FormKey,
    out: Outcome,
) -> Result<Response, ApiError> {
    let (a, view, quality, latest, others) = hub
        .blocking(move |h| {
            let a = records::access(h, &user, &id)?;
            let v = records::form(h, &user, &id, &k)?;
            let q = super::study_forms_quality::form_quality(h, &user, &a, &k)?;
            let p = prefill::latest(h, &user, &id, &k)?;
            let others = records::forms::record_forms(h, &a, &k.record, None)?;
            Ok((a, v, q, p, others))
        })
        .await?;
    let event_label = a
        .study
        .events()
        .find(|e| e.unique_name == view.data.event)
        .map(|e| e.label.clone())
        .unwrap_or_default();
    let c = FormContext {
        study: &a.study,
        data: &view.data,
        locale: ui.locale,
        entered: out.entered.as_ref(),
        error: out.error.as_ref(),
        can_edit: view.rights.edit,
        can_lock: view.rights.lock,
        event_label,
        version: view.version.clone(),
        others: &others,
    };
    let mut page = form_page(&c);
    if let Some(p) = &latest {
        let proposed: Vec<Proposed<'_>> = p
            .proposals
            .iter()
            .map(|x| Proposed {
                field: &x.field,
                value: x.value.as_deref(),
                source: x.source.as_ref().map(|s| s.describe()).unwrap_or_default(),
                note: x.note.as_deref(),
            })
            .collect();
        page.prefill = prefill_panel(
            &a.study,
            ui.locale,
            &view.data,
            Some((
                &p.status,
                &p.requested_by,
                &p.requested_at,
                p.refused.as_deref(),
            )),
            &proposed,
        );
    }
    page.notice = out.notice.map(str::to_owned);
    page.quality = Some(quality.page(&a.study, ui.locale));
    if let Some(m) = out.message {
        page.form_error = Some(m);
    }
    let refused = out.error.is_some() || page.form_error.is_some();
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(ui.page(status, &Page::StudyForm(Box::new(page)), "studies"))
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "saved" => Some("study-saved"),
        "locked" => Some("study-locked-notice"),
        "unlocked" => Some("study-unlocked-notice"),
        "signed" => Some("study-signed-notice"),
        "prefill-requested" => Some("study-prefill-requested"),
        "prefill-accepted" => Some("study-prefill-accepted"),
        _ => None,
    }
}

async fn show(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    let k = key_of(&p);
    let out = Outcome {
        notice: notice_of(q.done.as_deref()),
        ..Default::default()
    };
    form_page_of(&hub, &ui, user, p.0, k, out).await
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn back_to(p: &(String, String, String, String, u32), done: &str) -> Response {
    let (id, record, event, form, instance) = p;
    Redirect::to(&format!(
        "/studies/{id}/subjects/{record}/{event}/{form}/{instance}?done={done}"
    ))
    .into_response()
}

/// A refusal of the service that the page shows at the top of the form (the entries kept);
/// anything else is an error page.
fn shown_refusal(e: &ApiError) -> bool {
    matches!(
        e.status,
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT | StatusCode::FORBIDDEN
    )
}

async fn save(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&field(&pairs, "csrf"))?;
    let k = key_of(&p);
    let input = FormInput::from_pairs(&pairs).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let version = field(&pairs, "version");
    let (u, id, key, inp) = (user.clone(), p.0.clone(), k.clone(), input.clone());
    // The edc crate's check on the form as read places each problem next to its field; the
    // service then decides again and stores.
    let checked = hub
        .blocking(move |h| {
            let a = records::access(h, &u, &id)?;
            let view: FormView = records::form(h, &u, &id, &key)?;
            let changes = inp.changes(&a.study);
            let status = inp.status.unwrap_or(view.data.status);
            let mut probe = view.data.clone();
            let reason = Some(inp.reason.as_str()).filter(|r| !r.trim().is_empty());
            let others = records::forms::record_forms(h, &a, &key.record, None)?;
            let ctx = RecordContext {
                fields: &a.study.fields,
                missing: &a.study.missing_codes,
                others: &others,
            };
            let local = probe.save_in(
                &ctx,
                &a.actor(&key.form),
                &changes,
                status,
                reason,
                chrono::Utc::now(),
            );
            if let Err(e) = local {
                return Ok(Err(e));
            }
            let s = Save {
                version: Some(version).filter(|v| !v.is_empty()),
                values: changes.into_iter().collect(),
                status,
                reason: reason.map(str::to_owned),
            };
            Ok(Ok(records::save(h, &u, &id, &key, s)))
        })
        .await?;
    let out = match checked {
        Err(e) => Outcome {
            entered: Some(input),
            error: Some(e),
            ..Default::default()
        },
        Ok(Ok(_)) => return Ok(back_to(&p, "saved")),
        Ok(Err(e)) if shown_refusal(&e) => Outcome {
            entered: Some(input),
            message: Some(e.message),
            ..Default::default()
        },
        Ok(Err(e)) => return Err(e),
    };
    form_page_of(&hub, &ui, user, p.0, k, out).await
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    #[serde(default)]
    version: String,
}

async fn lock(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(f): Form<StepForm>,
) -> Result<Response, ApiError> {
    step(hub, ui, user, p, f, true).await
}

async fn unlock(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(f): Form<StepForm>,
) -> Result<Response, ApiError> {
    step(hub, ui, user, p, f, false).await
}

async fn step(
    hub: Arc<Hub>,
    ui: Ui,
    user: User,
    p: (String, String, String, String, u32),
    f: StepForm,
    locking: bool,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let k = key_of(&p);
    let (u, id, key) = (user.clone(), p.0.clone(), k.clone());
    let version = Some(f.version).filter(|v| !v.is_empty());
    let r = hub
        .blocking(move |h| {
            Ok(if locking {
                records::lock(h, &u, &id, &key, version.as_deref())
            } else {
                records::unlock(h, &u, &id, &key, version.as_deref())
            })
        })
        .await?;
    match r {
        Ok(_) => Ok(back_to(&p, if locking { "locked" } else { "unlocked" })),
        Err(e) if shown_refusal(&e) => {
            let out = Outcome {
                message: Some(e.message),
                ..Default::default()
            };
            form_page_of(&hub, &ui, user, p.0, k, out).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct SignForm {
    csrf: String,
    #[serde(default)]
    version: String,
    meaning: String,
    password: String,
}

async fn sign(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(f): Form<SignForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let meaning = meaning_of(&f.meaning)
        .ok_or_else(|| ApiError::bad_request(format!("meaning: {:?} is not one", f.meaning)))?;
    let k = key_of(&p);
    let (u, id, key) = (user.clone(), p.0.clone(), k.clone());
    let r = SignRequest {
        password: f.password,
        meaning,
        version: Some(f.version).filter(|v| !v.is_empty()),
    };
    let done = hub
        .blocking(move |h| Ok(records::sign(h, &u, &id, &key, r)))
        .await?;
    match done {
        Ok(_) => Ok(back_to(&p, "signed")),
        Err(e) if shown_refusal(&e) => {
            let message = if e.status == StatusCode::FORBIDDEN && e.message.contains("password") {
                Catalog::global().text(ui.locale, "study-err-password", &[])
            } else {
                e.message
            };
            let out = Outcome {
                message: Some(message),
                ..Default::default()
            };
            form_page_of(&hub, &ui, user, p.0, k, out).await
        }
        Err(e) => Err(e),
    }
}
