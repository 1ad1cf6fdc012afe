//! The steward's enrolment page (`/enrol`): a form to enrol a local patient in a study
//! (the site mints the pseudonym, [`crate::enrolment`]) and the enrolments kept at the
//! site with the hub's answers. The patient id is never shown back, logged or sent: the
//! list and the site's audit log (`patient_enrolled`) name the study and the pseudonym.

use super::ConsoleState;
use super::auth::Session;
use super::{Ctx, Q, S, checked_post, ctx, html, signed_in};
use crate::enrolment::Enrolments;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kakehashi_web::console::{ConsolePage, EnrolLine, EnrolPage};
use serde::Deserialize;
use std::collections::HashMap;

fn page(st: &ConsoleState, c: &Ctx, status: StatusCode, mut p: EnrolPage) -> Response {
    match Enrolments::open(&st.agent.config().site_dir).and_then(|m| m.list()) {
        Ok(rows) => {
            p.rows = rows
                .into_iter()
                .map(|e| EnrolLine {
                    study: e.study,
                    record: e.record,
                    at: e.enrolled_at,
                    hub: e.hub,
                })
                .collect();
            html(status, &ConsolePage::Enrol(p), c)
        }
        Err(e) => {
            tracing::error!(error = %e, "the enrolment mapping cannot be read");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &ConsolePage::Error {
                    status: 500,
                    key: "console-err-enrol".into(),
                },
                c,
            )
        }
    }
}

fn view(st: &ConsoleState, headers: &HeaderMap, q: &HashMap<String, String>, s: &Session) -> Ctx {
    ctx(st, headers, q, Some(s), "enrol", "/enrol")
}

/// `GET /enrol`.
pub(super) async fn show(State(st): S, headers: HeaderMap, Query(q): Q) -> Response {
    let s = match signed_in(&st, &headers, true) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let c = view(&st, &headers, &q, &s);
    let done = match (q.get("study"), q.get("record")) {
        (Some(study), Some(record)) => Some((study.clone(), record.clone(), q.contains_key("new"))),
        _ => None,
    };
    let p = EnrolPage {
        study: q.get("study").cloned().unwrap_or_default(),
        done,
        ..EnrolPage::default()
    };
    page(&st, &c, StatusCode::OK, p)
}

#[derive(Deserialize)]
pub(super) struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    study: String,
    #[serde(default)]
    patient: String,
}

/// `POST /enrol`: enrols, audits (study and pseudonym only) and shows the pseudonym.
pub(super) async fn enrol(State(st): S, headers: HeaderMap, Form(f): Form<EnrolForm>) -> Response {
    let s = match checked_post(&st, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let study = f.study.trim().to_owned();
    let result =
        Enrolments::open(&st.agent.config().site_dir).and_then(|m| m.enrol(&study, &f.patient));
    match result {
        Ok(e) => {
            st.agent.audit_event(
                "patient_enrolled",
                serde_json::json!({"study": e.study, "record": e.record, "by": s.user, "new": e.new}),
            );
            let new = if e.new { "&new=1" } else { "" };
            Redirect::to(&format!(
                "/enrol?study={}&record={}{new}",
                enc(&e.study),
                e.record
            ))
            .into_response()
        }
        Err(e) => {
            let c = view(&st, &headers, &HashMap::new(), &s);
            let p = EnrolPage {
                study,
                error: Some(("console-err-enrol".into(), e.to_string())),
                ..EnrolPage::default()
            };
            page(&st, &c, StatusCode::BAD_REQUEST, p)
        }
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
