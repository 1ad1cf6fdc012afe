//! Pre-fill of a form instance from the subject's site: a user who may edit the form asks
//! ([`request`]: the study's declared items on the form, `kakehashi_edc::prefill`); the
//! subject's site agent fetches the request after its poll ([`site_pending`]) and answers it
//! ([`site_answer`]: each value with its source, or a refusal with the reason); the form page
//! shows the latest request's proposals ([`latest`]); the user accepts or edits each
//! ([`accept`]), which saves through the normal save path with the field history's reason
//! "pre-filled from site data: <source>". The hub stores requests and answers and never
//! decides what a site sends: the site's steward policy does.

use super::forms::{self, FormView, Save};
use super::{access, read_json, to_json, visible_subject};
use crate::db::{PrefillInsert, User};
use crate::service::ApiResult;
use crate::service::studies::audit;
use crate::{ApiError, Hub};
use kakehashi_edc::entry::{FormKey, SubjectStatus};
use kakehashi_edc::prefill::items_on_form;
use kakehashi_federation::prefill::{
    MAX_REQUESTS, PREFILL_VERSION, PrefillAnswer, PrefillOutcome, PrefillRequest, Proposal,
};
use serde::{Deserialize, Serialize};

/// The latest pre-fill request of a form instance, as the form page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefillView {
    /// The request's id.
    pub id: String,
    /// `pending` (the site has not answered yet), `proposed` or `refused`.
    pub status: String,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// When the site answered.
    pub answered_at: Option<String>,
    /// The site's reason, when it refused.
    pub refused: Option<String>,
    /// The fields asked.
    pub fields: Vec<String>,
    /// The site's proposals, when it proposed.
    pub proposals: Vec<Proposal>,
}

/// An accepted (or edited) proposal: the field and the value to save.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The field.
    pub field: String,
    /// The value to save (the proposal's, or the user's edit of it).
    pub value: String,
}

fn view_of(row: crate::db::PrefillRow) -> ApiResult<PrefillView> {
    let req: PrefillRequest = read_json(&row.request)?;
    let answer: Option<PrefillAnswer> = row.answer.as_deref().map(read_json).transpose()?;
    let (refused, proposals) = match answer.map(|a| a.outcome) {
        Some(PrefillOutcome::Refused { reason }) => (Some(reason), Vec::new()),
        Some(PrefillOutcome::Proposed { proposals }) => (None, proposals),
        None => (None, Vec::new()),
    };
    Ok(PrefillView {
        id: row.id,
        status: row.status,
        requested_by: row.requested_by,
        requested_at: row.requested_at,
        answered_at: row.answered_at,
        refused,
        fields: req.items.into_iter().map(|i| i.field).collect(),
        proposals,
    })
}

/// Asks the subject's site to propose values for the study's pre-fill items on the form
/// (the edit right on the form; a subject the caller sees and not withdrawn). 400 when the
/// study declares no item on the form.
pub fn request(hub: &Hub, user: &User, study: &str, k: &FormKey) -> ApiResult<PrefillView> {
    let a = access(hub, user, study)?;
    forms::check_key(&a, k)?;
    if !a.role.rights(&k.form).edit {
        return Err(ApiError::forbidden(format!(
            "the study role {} may not enter data on the form {}",
            a.role.name, k.form
        )));
    }
    let (s, _) = visible_subject(hub, &a, &k.record)?;
    if s.status == SubjectStatus::Withdrawn {
        return Err(ApiError::conflict(format!(
            "record {}: withdrawn, no new data",
            k.record
        )));
    }
    let items: Vec<_> = items_on_form(&a.study, &k.form)
        .into_iter()
        .cloned()
        .collect();
    if items.is_empty() {
        return Err(ApiError::bad_request(format!(
            "form: the study {} declares no pre-fill items on the form {}",
            study, k.form
        )));
    }
    let now = chrono::Utc::now().to_rfc3339();
    let r = PrefillRequest {
        version: PREFILL_VERSION,
        id: format!("pf-{}", uuid::Uuid::new_v4().simple()),
        study: study.to_owned(),
        record: k.record.clone(),
        event: k.event.clone(),
        form: k.form.clone(),
        instance: k.instance,
        requested_by: user.name.clone(),
        requested_at: now.clone(),
        items,
    };
    let json = to_json(&r)?;
    hub.db.prefill_insert(PrefillInsert {
        id: &r.id,
        study,
        record: &k.record,
        event: &k.event,
        form: &k.form,
        instance: k.instance,
        dag: &s.site,
        requested_by: &user.name,
        requested_at: &now,
        request: &json,
    })?;
    audit(
        hub,
        &user.name,
        "prefill_requested",
        serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form,
            "instance": k.instance, "id": r.id, "site": s.site,
            "fields": r.items.iter().map(|i| &i.field).collect::<Vec<_>>()}),
    )?;
    latest(hub, user, study, k)?
        .ok_or_else(|| ApiError::internal(format!("the pre-fill request {} vanished", r.id)))
}

/// The latest pre-fill request of a form instance and the site's answer (the view right).
pub fn latest(hub: &Hub, user: &User, study: &str, k: &FormKey) -> ApiResult<Option<PrefillView>> {
    // reading the form checks the key, the right and that the subject is visible
    forms::form(hub, user, study, k)?;
    hub.db
        .prefill_latest(study, &k.record, &k.event, &k.form, k.instance)?
        .map(view_of)
        .transpose()
}

/// Saves an accepted (or edited) proposal of the latest answered request through the
/// normal save path (the edit right; the form's status kept), with the reason
/// "pre-filled from site data: <source>" (an edited value says so and keeps the proposal).
pub fn accept(
    hub: &Hub,
    user: &User,
    study: &str,
    k: &FormKey,
    acc: Accept,
) -> ApiResult<FormView> {
    let current = forms::form(hub, user, study, k)?;
    let latest = latest(hub, user, study, k)?
        .ok_or_else(|| ApiError::not_found("no pre-fill request for this form"))?;
    let p = latest
        .proposals
        .iter()
        .find(|p| p.field == acc.field)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "field: the site proposed no value for {:?}",
                acc.field
            ))
        })?;
    let (Some(proposed), Some(source)) = (&p.value, &p.source) else {
        return Err(ApiError::bad_request(format!(
            "field: the site found no value for {:?}",
            acc.field
        )));
    };
    let value = acc.value.trim().to_owned();
    let reason = if &value == proposed {
        format!("pre-filled from site data: {}", source.describe())
    } else {
        format!(
            "pre-filled from site data, edited (the site proposed {proposed}): {}",
            source.describe()
        )
    };
    let save = Save {
        version: Some(current.version),
        values: [(acc.field.clone(), value)].into(),
        status: current.data.status,
        reason: Some(reason),
    };
    forms::save(hub, user, study, k, save)
}

/// The pending requests for the subjects of a site (its agent's fetch, site token; the
/// site's data access group is its id with `_` for `-`), oldest first.
pub fn site_pending(hub: &Hub, site: &str) -> ApiResult<Vec<PrefillRequest>> {
    let dag = site.replace('-', "_");
    hub.db
        .prefill_pending(&dag, MAX_REQUESTS)?
        .iter()
        .map(|r| read_json(&r.request))
        .collect()
}

/// A site's answer to a pending request of its subjects: 409 for another version, 404 when
/// there is no such pending request of this site, 400 when a proposal names a field the
/// request did not ask for.
pub fn site_answer(hub: &Hub, site: &str, a: PrefillAnswer) -> ApiResult<()> {
    if a.version != PREFILL_VERSION {
        return Err(ApiError::conflict(format!(
            "unsupported pre-fill answer version {}: this hub speaks version {PREFILL_VERSION}",
            a.version
        )));
    }
    let dag = site.replace('-', "_");
    let Some(row) = hub
        .db
        .prefill_pending(&dag, usize::MAX >> 1)?
        .into_iter()
        .find(|r| r.id == a.id)
    else {
        return Err(ApiError::not_found(format!(
            "no pending pre-fill request {} for the site {site}",
            a.id
        )));
    };
    let req: PrefillRequest = read_json(&row.request)?;
    let status = match &a.outcome {
        PrefillOutcome::Refused { .. } => "refused",
        PrefillOutcome::Proposed { proposals } => {
            if let Some(p) = proposals
                .iter()
                .find(|p| !req.items.iter().any(|i| i.field == p.field))
            {
                return Err(ApiError::bad_request(format!(
                    "proposals: the request did not ask for the field {:?}",
                    p.field
                )));
            }
            "proposed"
        }
    };
    let json = to_json(&a)?;
    if !hub.db.prefill_answer(&a.id, &dag, status, &json)? {
        return Err(ApiError::not_found(format!(
            "no pending pre-fill request {} for the site {site}",
            a.id
        )));
    }
    let found: Vec<&str> = match &a.outcome {
        PrefillOutcome::Proposed { proposals } => proposals
            .iter()
            .filter(|p| p.value.is_some())
            .map(|p| p.field.as_str())
            .collect(),
        PrefillOutcome::Refused { .. } => Vec::new(),
    };
    audit(
        hub,
        &format!("site:{site}"),
        "prefill_answered",
        serde_json::json!({"study": req.study, "record": req.record, "id": a.id, "status": status,
            "fields_with_values": found}),
    )?;
    Ok(())
}
