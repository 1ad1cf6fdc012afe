//! The office page's forms for the network office: a proposed exchange
//! (`POST /office/exchanges`), an exchange moved on with its report
//! (`POST /office/exchanges/ID`) and a course's attendance (`POST /office/courses/ID/attendance`).

use super::super::super::{S, SignedIn};
use super::named;
use crate::ApiError;
use crate::service::office;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kakehashi_office::exchange::{Exchange, ExchangeStatus};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct ExchangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    home: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    funding: String,
}

/// A day from a form; 400 naming `field`.
fn day(field: &str, v: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{field}: not a date (YYYY-MM-DD): {v:?}")))
}

/// A proposed exchange (the office); the end before the start is refused naming `end`.
pub(super) async fn new_exchange(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Form(f): Form<ExchangeForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let start = day("start", &f.start)?;
    let x = Exchange {
        id: format!("x-{}-{start}", f.person.trim()),
        person: f.person.trim().to_owned(),
        home: f.home.trim().to_owned(),
        host: f.host.trim().to_owned(),
        start,
        end: day("end", &f.end)?,
        purpose: f.purpose.trim().to_owned(),
        theme: f.theme.trim().to_owned(),
        funding: f.funding.trim().to_owned(),
        status: ExchangeStatus::Proposed,
        report: None,
    };
    hub.blocking(move |h| office::put_exchange(h, &user, x))
        .await?;
    Ok(Redirect::to("/office#exchanges").into_response())
}

#[derive(Deserialize)]
pub(super) struct ExchangeStatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    report: String,
}

/// An exchange's new status and report (the office).
pub(super) async fn exchange_status(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ExchangeStatusForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let status: ExchangeStatus = named("status", &f.status)?;
    hub.blocking(move |h| {
        let mut x = office::exchanges(h, None)?
            .into_iter()
            .find(|x| x.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no exchange {id:?}")))?;
        x.status = status;
        x.report = Some(f.report.trim().to_owned()).filter(|r| !r.is_empty());
        office::put_exchange(h, &user, x)
    })
    .await?;
    Ok(Redirect::to("/office#exchanges").into_response())
}

/// A course's attendance (the office): the form sends `s<i>=<person>` for each session `i`
/// and participant who attended; each session's list is replaced by what was ticked.
pub(super) async fn attendance(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    ui.check_csrf(csrf)?;
    let mut ticked: Vec<(usize, String)> = Vec::new();
    for (k, v) in &pairs {
        if let Some(i) = k.strip_prefix('s') {
            let i = i
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("{k}: not a session")))?;
            ticked.push((i, v.clone()));
        }
    }
    hub.blocking(move |h| {
        let mut c = office::courses(h)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no course {id:?}")))?;
        if let Some((i, _)) = ticked.iter().find(|(i, _)| *i >= c.sessions.len()) {
            return Err(ApiError::bad_request(format!(
                "s{i}: the course has {} sessions",
                c.sessions.len()
            )));
        }
        for (i, s) in c.sessions.iter_mut().enumerate() {
            s.attended = ticked
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, p)| p.clone())
                .collect();
        }
        office::put_course(h, &user, c)
    })
    .await?;
    Ok(Redirect::to("/office#training").into_response())
}
