//! The form page's pre-fill steps: `POST …/prefill` asks the subject's site for values from
//! its own data (its agent answers after its next poll); `POST …/prefill/accept` saves one
//! proposal, as proposed or edited, through the normal save path
//! ([`prefill::accept`]).

use super::{FormPath, Outcome, StepForm, back_to, form_page_of, key_of, shown_refusal};
use crate::ApiError;
use crate::service::studies::records::prefill;
use crate::ui::{S, SignedIn};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct AcceptForm {
    csrf: String,
    field: String,
    value: String,
}

/// Asks the subject's site for values (the agent answers after its next poll).
pub(super) async fn prefill_request(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(f): Form<StepForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let k = key_of(&p);
    let (u, id, key) = (user.clone(), p.0.clone(), k.clone());
    let r = hub
        .blocking(move |h| Ok(prefill::request(h, &u, &id, &key)))
        .await?;
    settle(&hub, &ui, user, &p, k, r.map(|_| ()), "prefill-requested").await
}

/// Saves one proposal, as proposed or as edited, through the normal save path.
pub(super) async fn prefill_accept(
    State(hub): S,
    SignedIn(ui, user): SignedIn,
    Path(p): FormPath,
    Form(f): Form<AcceptForm>,
) -> Result<Response, ApiError> {
    ui.check_csrf(&f.csrf)?;
    let k = key_of(&p);
    let (u, id, key) = (user.clone(), p.0.clone(), k.clone());
    let acc = prefill::Accept {
        field: f.field,
        value: f.value,
    };
    let r = hub
        .blocking(move |h| Ok(prefill::accept(h, &u, &id, &key, acc)))
        .await?;
    settle(&hub, &ui, user, &p, k, r.map(|_| ()), "prefill-accepted").await
}

/// After a pre-fill step: back to the form with `notice`, or the form again with a refusal
/// the page shows; other errors as error pages.
async fn settle(
    hub: &std::sync::Arc<crate::Hub>,
    ui: &crate::ui::Ui,
    user: crate::db::User,
    p: &(String, String, String, String, u32),
    k: kakehashi_edc::entry::FormKey,
    r: Result<(), ApiError>,
    notice: &str,
) -> Result<Response, ApiError> {
    match r {
        Ok(()) => Ok(back_to(p, notice)),
        Err(e) if shown_refusal(&e) => {
            let out = Outcome {
                message: Some(e.message),
                ..Default::default()
            };
            form_page_of(hub, ui, user, p.0.clone(), k, out).await
        }
        Err(e) => Err(e),
    }
}
