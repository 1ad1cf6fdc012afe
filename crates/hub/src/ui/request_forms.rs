//! The forms that open an access request and attach its documents, for researchers:
//! `POST /requests` (title, description, the catalogue's collections ticked, and the locator
//! task it comes from or a cohort in CCDL with material types; `/requests?collection=ID`
//! ticks one in advance, as the catalogue's links do) and `POST /requests/{id}/attach`
//! (`multipart/form-data`: the kind and the file). Each is CSRF-checked and handed to the same
//! service call as the API; a refusal shows the form or the request again with the reason.

use super::{S, SignedIn, Ui};
use crate::db::{Role, User};
use crate::service::catalogue;
use crate::service::requests::{self, NewAttachment, NewQuery, NewRequest};
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kakehashi_biobank::request::AttachmentKind;
use kakehashi_web::pages::Page;
use kakehashi_web::requests::{NewRequestForm, RequestsPage};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/requests", post(open))
        .route("/requests/{id}/attach", post(attach))
}

/// The network's collections as the form offers them: id and "name — biobank (site)".
pub(super) fn collections(h: &Hub) -> Result<Vec<(String, String)>, ApiError> {
    let all = catalogue::find(h, &catalogue::search_of(&BTreeMap::new())?)?;
    Ok(all
        .into_iter()
        .map(|x| {
            let label = format!("{} — {} ({})", x.collection.name, x.biobank.name, x.site);
            (x.collection.id.clone(), label)
        })
        .collect())
}

/// The list page of `user` with the form (for a researcher), filled with `form`.
pub(super) async fn list_page(
    hub: &Arc<Hub>,
    ui: Ui,
    user: User,
    form: Option<NewRequestForm>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let site = user.site.clone().filter(|_| user.role == Role::Steward);
    let researcher = user.role == Role::Researcher;
    let (rows, offered) = hub
        .blocking(move |h| {
            let rows = requests::list(h, &user)?
                .iter()
                .map(|r| super::requests::row(r, &BTreeMap::new()))
                .collect::<Vec<_>>();
            let offered = if researcher {
                collections(h)?
            } else {
                Vec::new()
            };
            Ok((rows, offered))
        })
        .await?;
    let new = researcher.then(|| {
        let mut f = form.unwrap_or_default();
        f.collections = offered;
        f
    });
    let page = RequestsPage { rows, site, new };
    Ok(ui.page(status, &Page::Requests(page), "requests"))
}

/// `GET /requests[?collection=ID]`.
pub(super) async fn list(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let form = NewRequestForm {
        chosen: q.get("collection").cloned().into_iter().collect(),
        ..Default::default()
    };
    list_page(&hub, ui, user, Some(form), StatusCode::OK).await
}

/// Opens a draft from the form; the request's page, or the form again with the reason.
async fn open(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    ui.check_csrf(&field("csrf"))?;
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "collection")
        .map(|(_, v)| v.clone())
        .collect();
    let mut form = NewRequestForm {
        chosen: chosen.clone(),
        title: field("title"),
        description: field("description"),
        task: field("task"),
        ccdl: field("ccdl"),
        materials: field("materials"),
        ..Default::default()
    };
    let query = if form.task.is_empty() {
        let specimen = serde_json::json!({
            "material_types": form.materials.split(',').map(str::trim).filter(|m| !m.is_empty()).collect::<Vec<_>>()
        });
        let specimen = serde_json::from_value(specimen)
            .map_err(|e| ApiError::bad_request(format!("materials: {e}")));
        match specimen {
            Ok(specimen) => Some(NewQuery {
                ccdl: form.ccdl.clone(),
                specimen,
            }),
            Err(e) => {
                form.error = Some(e.message);
                return list_page(&hub, ui, user, Some(form), StatusCode::BAD_REQUEST).await;
            }
        }
    } else {
        None
    };
    let n = NewRequest {
        title: form.title.clone(),
        description: form.description.clone(),
        task: Some(form.task.clone()).filter(|t| !t.is_empty()),
        query,
        collections: chosen,
    };
    let u = user.clone();
    match hub.blocking(move |h| requests::create(h, &u, n)).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.id)).into_response()),
        Err(e) if matches!(e.status.as_u16(), 400 | 404 | 409 | 422) => {
            form.error = Some(e.message.clone());
            list_page(&hub, ui, user, Some(form), e.status).await
        }
        Err(e) => Err(e),
    }
}

/// Attaches a protocol, an ethics approval or another document to a draft; the request's page
/// (with the reason when the hub refused it).
async fn attach(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    mut m: Multipart,
) -> Result<Response, ApiError> {
    let (mut csrf, mut kind, mut file) = (String::new(), String::new(), None);
    while let Some(part) = m
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the form does not read: {e}")))?
    {
        match part.name().unwrap_or_default() {
            "file" => {
                let name = part.file_name().unwrap_or_default().to_owned();
                let media = part
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = part
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request(format!("file: {e}")))?;
                file = Some((name, media, bytes));
            }
            "csrf" => csrf = part.text().await.unwrap_or_default(),
            "kind" => kind = part.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    ui.check_csrf(&csrf)?;
    let outcome = match (
        file,
        serde_json::from_value::<AttachmentKind>(kind.clone().into()),
    ) {
        (None, _) => Err(ApiError::bad_request("file: choose a file to attach")),
        (Some((name, _, _)), _) if name.is_empty() => {
            Err(ApiError::bad_request("file: choose a file to attach"))
        }
        (_, Err(_)) => Err(ApiError::bad_request(format!(
            "kind: unknown kind {kind:?}: protocol, ethics_approval or other"
        ))),
        (Some((name, media_type, bytes)), Ok(kind)) => {
            let a = NewAttachment {
                kind,
                name,
                media_type,
                content_base64: B64.encode(&bytes),
            };
            let (u, i) = (user.clone(), id.clone());
            hub.blocking(move |h| requests::attach(h, &u, &i, a))
                .await
                .map(|_| ())
        }
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(e) if e.status != StatusCode::NOT_FOUND => {
            super::requests::show(&hub, ui, user, id, Some(e)).await
        }
        Err(e) => Err(e),
    }
}
