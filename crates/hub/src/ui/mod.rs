//! The web UI: server-rendered pages from `kakehashi-web`, in English, German and Japanese.
//! Forms post back to the hub; every form rejects bad input with a message next to the field;
//! every chart's data is downloadable as CSV.
//!
//! One module per page area, each with its `routes()`: [`session`] (sign-in, language),
//! [`oidc`] (sign-in with an OpenID Connect issuer), [`admin`] (users),
//! [`home`] (home, network), [`steward`], [`feasibility`], [`surveillance`], [`amr`],
//! [`office`] (the partnership office), [`catalogue`] (the network's biobank catalogue), [`requests`] (access requests), [`studies`] (EDC studies), [`study_records`] (subjects), [`study_forms`] (data entry). Handlers
//! take the page context ([`Ui`], or [`SignedIn`], which sends strangers to the sign-in page)
//! and return [`ApiError`]s, which this module's layer renders as an error page in the
//! reader's language.

use crate::auth::{CSRF_COOKIE, LANG_COOKIE, cookie, session_cookie};
use crate::context::Principal;
use crate::db::User;
use crate::websec::safe_next;
use crate::{ApiError, Hub};
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kakehashi_federation::Note;
use kakehashi_web::i18n::Arg;
use kakehashi_web::pages::{self, Chrome, Page, UserBadge};
use kakehashi_web::{Catalog, Locale};
use sha2::{Digest, Sha256};
use std::sync::Arc;

mod admin;
mod amr;
mod analysis;
mod catalogue;
mod feasibility;
mod home;
mod notify;
mod office;
mod oidc;
mod request_forms;
mod requests;
mod session;
mod steward;
mod studies;
mod study_forms;
mod study_forms_quality;
mod study_quality;
mod study_records;
mod surveillance;

type S = State<Arc<Hub>>;

/// The UI's routes, with the layer that renders errors as pages.
pub fn routes(hub: Arc<Hub>) -> Router<Arc<Hub>> {
    Router::new()
        .merge(session::routes())
        .merge(oidc::routes())
        .merge(admin::routes())
        .merge(home::routes())
        .merge(steward::routes())
        .merge(feasibility::routes())
        .merge(surveillance::routes())
        .merge(amr::routes())
        .merge(office::routes())
        .merge(notify::routes())
        .merge(catalogue::routes())
        .merge(analysis::routes())
        .merge(requests::routes())
        .merge(request_forms::routes())
        .merge(studies::routes())
        .merge(study_records::routes())
        .merge(study_forms::routes())
        .merge(study_quality::routes())
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            render_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            hub,
            crate::websec::csrf_cookie,
        ))
}

/// Who is asking, in which language, and from which page.
pub(crate) struct Ui {
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The page's language.
    pub locale: Locale,
    /// The CSRF token the page's forms carry: bound to the session when signed in, else the
    /// browser's `kh_csrf` cookie (empty when there is neither).
    pub csrf: String,
    /// The page's path.
    pub path: String,
}

impl Ui {
    fn of(user: Option<User>, headers: &HeaderMap, path: &str) -> Ui {
        let lang = cookie(headers, LANG_COOKIE);
        let locale = user
            .as_ref()
            .and_then(|u| Locale::from_code(&u.lang))
            .filter(|_| lang.is_none())
            .or_else(|| lang.and_then(|c| Locale::from_code(&c)))
            .unwrap_or_else(|| {
                Locale::negotiate(
                    headers
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or(""),
                )
            });
        Ui {
            user,
            locale,
            csrf: csrf_of(headers),
            path: path.to_owned(),
        }
    }

    /// The page frame: language, user badge, active menu entry, notice.
    pub fn chrome(&self, active: &str, notice: Option<&str>) -> Chrome {
        Chrome {
            locale: self.locale,
            user: self.user.as_ref().map(|u| UserBadge {
                name: u.name.clone(),
                role: u.role.as_str().to_owned(),
            }),
            active: active.to_owned(),
            path: self.path.clone(),
            csrf: self.csrf.clone(),
            notice: notice.map(str::to_owned),
        }
    }

    /// A page, rendered with this context's frame.
    pub fn page(&self, status: StatusCode, page: &Page, active: &str) -> Response {
        html(status, page, &self.chrome(active, None))
    }

    /// The error page for a status, with an explaining message key.
    pub fn error(&self, status: StatusCode, key: &str) -> Response {
        self.error_with(status, key, None)
    }

    /// The error page with the hub's own message (a refusal of input, naming the field).
    pub fn error_with(&self, status: StatusCode, key: &str, detail: Option<String>) -> Response {
        let page = Page::Error {
            status: status.as_u16(),
            key: key.to_owned(),
            detail,
        };
        html(status, &page, &self.chrome("", None))
    }

    /// Refuses a form whose CSRF token is missing or not this browser's (403 page). Every
    /// state-changing form calls it before it does anything.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        if self.csrf.is_empty() || !crate::websec::same_secret(sent, &self.csrf) {
            return Err(ApiError::forbidden("the form's CSRF token does not match"));
        }
        Ok(())
    }
}

fn user_of(p: Option<Principal>) -> Option<User> {
    match p {
        Some(Principal::User(u)) => Some(u),
        _ => None,
    }
}

impl FromRequestParts<Arc<Hub>> for Ui {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let p = <Principal as OptionalFromRequestParts<_>>::from_request_parts(parts, hub).await?;
        Ok(Ui::of(user_of(p), &parts.headers, parts.uri.path()))
    }
}

/// A page that needs a signed-in user: strangers are sent to the sign-in page, which brings
/// them back here.
pub(crate) struct SignedIn(pub Ui, pub User);

impl FromRequestParts<Arc<Hub>> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Response> {
        let ui = Ui::from_request_parts(parts, hub)
            .await
            .map_err(IntoResponse::into_response)?;
        match ui.user.clone() {
            Some(u) => Ok(SignedIn(ui, u)),
            None => {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &ui.path)
                    .finish();
                Err(Redirect::to(&format!("/login?{q}")).into_response())
            }
        }
    }
}

/// Renders the [`ApiError`] a UI handler returned as an error page in the reader's language.
async fn render_errors(
    State(hub): S,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (headers, path) = (req.headers().clone(), req.uri().path().to_owned());
    let res = next.run(req).await;
    let Some(e) = res.extensions().get::<ApiError>().cloned() else {
        return res;
    };
    let h = headers.clone();
    let user = user_of(
        hub.blocking(move |hub| crate::context::resolve(hub, &h, true))
            .await
            .ok()
            .flatten(),
    );
    let (key, detail) = match e.status {
        StatusCode::NOT_FOUND => ("error-not-found", None),
        // a refusal of what was sent: the hub's message names the field at fault
        StatusCode::BAD_REQUEST
        | StatusCode::CONFLICT
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNPROCESSABLE_ENTITY => ("error-refused", Some(e.message.clone())),
        StatusCode::FORBIDDEN => ("error-forbidden", None),
        StatusCode::UNAUTHORIZED => ("error-unauthorized", None),
        _ => ("error-internal", None),
    };
    Ui::of(user, &headers, &path).error_with(e.status, key, detail)
}

/// The CSRF token of a browser: derived from its session (synchronizer token: a form made for
/// one session is void in another), else its pre-session `kh_csrf` cookie (double submit).
fn csrf_of(headers: &HeaderMap) -> String {
    match session_cookie(headers) {
        Some(s) => hex::encode(&Sha256::digest(format!("kakehashi-csrf\0{s}").as_bytes())[..16]),
        None => cookie(headers, CSRF_COOKIE)
            .filter(|c| crate::websec::valid_token(c))
            .unwrap_or_default(),
    }
}

fn html(status: StatusCode, page: &Page, chrome: &Chrome) -> Response {
    match pages::render(page, chrome) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: a page template failed",
            )
                .into_response()
        }
    }
}

/// A download: the body with its content type and `Content-Disposition`.
pub(crate) fn download(
    content_type: &'static str,
    disposition: &'static str,
    body: impl IntoResponse,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

fn policy_view(p: &kakehashi_disclosure::PolicySummary) -> pages::PolicySummary {
    pages::PolicySummary {
        min_count: p.min_count,
        rounding: p.rounding,
        epsilon: p.epsilon,
        budget: p.project_budget,
    }
}

/// The site's notes in the page's language (the message keys are the notes' own).
pub(crate) fn note_texts(notes: &[Note], locale: Locale) -> Vec<String> {
    let cat = Catalog::global();
    notes
        .iter()
        .map(|n| {
            let (key, args) = n.message();
            let args: Vec<(&str, Arg)> = args.into_iter().map(|(k, v)| (k, Arg::Str(v))).collect();
            cat.text(locale, key, &args)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every note a site can send reads in English, German and Japanese, with its parameter.
    #[test]
    fn every_note_reads_in_every_language() {
        let notes = [
            Note::UnitsNotConverted { criterion_index: 6 },
            Note::GuidelineReread {
                guideline: "CLSI 2024".parse().unwrap(),
            },
            Note::MainDiagnosisAsAnyDiagnosis,
            Note::DenominatorRefused {
                refusal: kakehashi_disclosure::Refusal::ProjectNotAllowed {
                    project: "p9".into(),
                },
            },
        ];
        let keys: Vec<&str> = notes.iter().map(|n| n.message().0).collect();
        assert_eq!(keys, Note::KEYS, "one sample per note");
        for locale in [Locale::En, Locale::De, Locale::Ja] {
            let texts = note_texts(&notes, locale);
            for (n, t) in notes.iter().zip(&texts) {
                assert!(!t.contains('⟦'), "{locale:?} {n:?}: {t}");
                for (_, arg) in n.message().1 {
                    assert!(t.contains(&arg), "{locale:?}: {t} lacks {arg}");
                }
            }
            assert!(
                texts[0].contains('7'),
                "criteria count from 1: {}",
                texts[0]
            );
        }
    }
}
