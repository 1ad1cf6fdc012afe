//! One form instance of one subject: read it, save values (partial saves allowed; validated
//! by the edc crate; a reason required once the form is complete; 409 when the version sent
//! is no longer the stored one), lock, unlock, e-sign (the password re-entered and checked
//! with the hub's Argon2; a wrong one is refused and audited), and its field history.

use super::{Access, access, read_json, read_values, to_json, version_of, visible_subject};
use crate::db::{FormWrite, User, Written};
use crate::service::ApiResult;
use crate::service::studies::audit;
use crate::{ApiError, Hub};
use kakehashi_edc::entry::{
    EntryError, FormData, FormKey, FormStatus, HistoryEntry, Reauthenticated, RecordContext,
    SignatureMeaning, Subject, SubjectStatus, subject,
};
use kakehashi_edc::study::FormRights;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of a form instance not saved yet.
pub const NEW: &str = "new";

/// A form instance as the caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormView {
    /// The form's data (values, status, lock, signatures, history); empty when not saved yet.
    pub data: FormData,
    /// Its version, to send back with a change ([`NEW`] when not saved yet).
    pub version: String,
    /// The caller's rights on this form.
    pub rights: FormRights,
}

/// A save: the version read, the changed values (`var` or `var___code` → text; empty
/// clears), the new status and, once the form is complete, the reason for the change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Save {
    /// The version read (omitted: whatever is stored now).
    #[serde(default)]
    pub version: Option<String>,
    /// The changed values.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The form status after the save.
    pub status: FormStatus,
    /// Why the values change (required once the form is complete).
    #[serde(default)]
    pub reason: Option<String>,
}

/// An e-signature: the password re-entered, the meaning, and the version read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The signer's password, re-entered.
    pub password: String,
    /// What the signature means.
    pub meaning: SignatureMeaning,
    /// The version read (omitted: whatever is stored now).
    #[serde(default)]
    pub version: Option<String>,
}

/// An edc refusal as an HTTP answer naming the field.
pub(crate) fn entry_refused(e: EntryError) -> ApiError {
    match e {
        EntryError::NoRight { .. } | EntryError::NotReauthenticated => {
            ApiError::forbidden(e.to_string())
        }
        EntryError::OtherSite { .. } => ApiError::not_found(e.to_string()),
        EntryError::Locked { .. } | EntryError::NotLocked { .. } => {
            ApiError::conflict(e.to_string())
        }
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// Checks that the study has the event, that it collects the form, and that the instance
/// is 1 unless the form repeats there.
pub fn check_key(a: &Access, k: &FormKey) -> ApiResult<()> {
    let Some(ev) = a.study.events().find(|e| e.unique_name == k.event) else {
        return Err(ApiError::not_found(format!(
            "event: the study has no event {:?}",
            k.event
        )));
    };
    if !ev.forms.contains(&k.form) {
        return Err(ApiError::not_found(format!(
            "form: the event {} does not collect the form {:?}",
            k.event, k.form
        )));
    }
    if k.instance == 0 || (k.instance > 1 && !a.study.is_repeating(&k.event, &k.form)) {
        return Err(ApiError::bad_request(format!(
            "instance: {} is not an instance of the form {} at {} (it {})",
            k.instance,
            k.form,
            k.event,
            if a.study.is_repeating(&k.event, &k.form) {
                "repeats from 1"
            } else {
                "does not repeat"
            }
        )));
    }
    Ok(())
}

/// The stored form (with its JSON) or a new empty one, for a subject the caller sees.
fn current(hub: &Hub, a: &Access, k: &FormKey) -> ApiResult<(Subject, FormData, Option<String>)> {
    check_key(a, k)?;
    let (s, _) = visible_subject(hub, a, &k.record)?;
    let stored = hub
        .db
        .form_get(&a.study.id, &k.record, &k.event, &k.form, k.instance)?;
    let data = match &stored {
        Some(j) => read_json(j)?,
        None => FormData::new(&k.record, &s.site, &k.event, &k.form, k.instance),
    };
    Ok((s, data, stored))
}

fn view(a: &Access, data: FormData, stored: Option<&str>) -> FormView {
    FormView {
        rights: a.role.rights(&data.form),
        version: stored.map_or_else(|| NEW.to_owned(), version_of),
        data,
    }
}

fn check_version(k: &FormKey, sent: Option<&str>, stored: Option<&str>) -> ApiResult<()> {
    let now = stored.map_or_else(|| NEW.to_owned(), version_of);
    match sent {
        Some(v) if v != now => Err(ApiError::conflict(format!(
            "record {} {} {} #{}: changed by someone else since read (version {v}, now {now}): read it again",
            k.record, k.event, k.form, k.instance
        ))),
        _ => Ok(()),
    }
}

/// Writes the form by compare-and-swap on what was read; 409 when someone was faster.
fn write(hub: &Hub, a: &Access, d: &FormData, old: Option<&str>) -> ApiResult<String> {
    let doc = to_json(d)?;
    let w = FormWrite {
        record: &d.record,
        event: &d.event,
        form: &d.form,
        instance: d.instance,
        doc: &doc,
        old,
    };
    match hub.db.records_write(&a.study.id, &[], &[w])? {
        Written::All => Ok(doc),
        Written::Stale(which) => Err(ApiError::conflict(format!(
            "{which}: changed by someone else meanwhile: read it again"
        ))),
    }
}

fn need_view(a: &Access, form: &str) -> ApiResult<()> {
    if a.role.rights(form).view || a.role.rights(form).edit {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "the study role {} may not view the form {form}",
            a.role.name
        )))
    }
}

/// Reads one form instance (the role's view right on the form; a subject of the caller's
/// site unless the role sees all).
pub fn form(hub: &Hub, user: &User, study: &str, k: &FormKey) -> ApiResult<FormView> {
    let a = access(hub, user, study)?;
    need_view(&a, &k.form)?;
    let (_, data, stored) = current(hub, &a, k)?;
    Ok(view(&a, data, stored.as_deref()))
}

/// The record's saved form instances (values and status), for logic that reads the whole
/// record; `skip`: the stored JSON of the instance being saved, not read twice.
pub(crate) fn record_forms(
    hub: &Hub,
    a: &Access,
    record: &str,
    skip: Option<&str>,
) -> ApiResult<Vec<FormData>> {
    hub.db
        .forms_of(&a.study.id, Some(record))?
        .iter()
        .filter(|j| Some(j.as_str()) != skip)
        .map(|j| read_values(j))
        .collect()
}

/// Saves values of one form instance (the edit right). Partial saves are allowed; each
/// value is validated, identifying fields are refused, a reason is required once the form
/// is complete, a withdrawn subject takes no new data, and a stale `version` is 409.
pub fn save(hub: &Hub, user: &User, study: &str, k: &FormKey, s: Save) -> ApiResult<FormView> {
    let a = access(hub, user, study)?;
    let ident = subject::identifying(&a.study, s.values.keys().map(String::as_str));
    if !ident.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{}: marked identifying (Identifier? = y); identifying data stay at the site and are never stored at the hub",
            ident.join(", ")
        )));
    }
    let (subj, mut data, stored) = current(hub, &a, k)?;
    if subj.status == SubjectStatus::Withdrawn {
        return Err(ApiError::conflict(format!(
            "record {}: withdrawn, no new data",
            k.record
        )));
    }
    check_version(k, s.version.as_deref(), stored.as_deref())?;
    let changes: Vec<(String, String)> = s.values.into_iter().collect();
    // branching and calculations read the whole record (other forms and events)
    let others = record_forms(hub, &a, &k.record, stored.as_deref())?;
    let ctx = RecordContext {
        fields: &a.study.fields,
        missing: &a.study.missing_codes,
        others: &others,
    };
    let entries = data
        .save_in(
            &ctx,
            &a.actor(&k.form),
            &changes,
            s.status,
            s.reason.as_deref(),
            chrono::Utc::now(),
        )
        .map_err(entry_refused)?;
    let doc = write(hub, &a, &data, stored.as_deref())?;
    audit(
        hub,
        &user.name,
        "form_saved",
        serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form,
            "instance": k.instance, "status": data.status, "changed": entries.iter().map(|e| &e.field).collect::<Vec<_>>(),
            "reason": s.reason}),
    )?;
    Ok(view(&a, data, Some(&doc)))
}

/// Locks one form instance (the lock right); a form never saved cannot be locked.
pub fn lock(
    hub: &Hub,
    user: &User,
    study: &str,
    k: &FormKey,
    version: Option<&str>,
) -> ApiResult<FormView> {
    let a = access(hub, user, study)?;
    let (_, mut data, stored) = current(hub, &a, k)?;
    if stored.is_none() {
        return Err(ApiError::conflict(format!(
            "record {} {} {} #{}: nothing saved to lock",
            k.record, k.event, k.form, k.instance
        )));
    }
    check_version(k, version, stored.as_deref())?;
    data.lock(&a.actor(&k.form), chrono::Utc::now())
        .map_err(entry_refused)?;
    let doc = write(hub, &a, &data, stored.as_deref())?;
    audit(
        hub,
        &user.name,
        "form_locked",
        serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form, "instance": k.instance}),
    )?;
    Ok(view(&a, data, Some(&doc)))
}

/// Unlocks one form instance (the lock right); its signatures are void (kept in the audit
/// log).
pub fn unlock(
    hub: &Hub,
    user: &User,
    study: &str,
    k: &FormKey,
    version: Option<&str>,
) -> ApiResult<FormView> {
    let a = access(hub, user, study)?;
    let (_, mut data, stored) = current(hub, &a, k)?;
    check_version(k, version, stored.as_deref())?;
    let void = data.unlock(&a.actor(&k.form)).map_err(entry_refused)?;
    let doc = write(hub, &a, &data, stored.as_deref())?;
    audit(
        hub,
        &user.name,
        "form_unlocked",
        serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form,
            "instance": k.instance, "signatures_void": void}),
    )?;
    Ok(view(&a, data, Some(&doc)))
}

/// E-signs a locked form instance (the lock right): the caller's password is checked
/// against the hub's Argon2 hash first; a wrong one is refused (403) and audited
/// (`study_form_sign_refused`). The signature records name, time and meaning.
pub fn sign(
    hub: &Hub,
    user: &User,
    study: &str,
    k: &FormKey,
    r: SignRequest,
) -> ApiResult<FormView> {
    let a = access(hub, user, study)?;
    let (_, mut data, stored) = current(hub, &a, k)?;
    check_version(k, r.version.as_deref(), stored.as_deref())?;
    let hash = hub.db.user_with_hash(&user.name)?.map(|(_, h)| h);
    let ok = hash.is_some_and(|h| crate::auth::password_ok(&r.password, &h));
    if !ok {
        audit(
            hub,
            &user.name,
            "form_sign_refused",
            serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form,
                "instance": k.instance, "why": "wrong password"}),
        )?;
        return Err(ApiError::forbidden(
            "the password is not right: the form is not signed",
        ));
    }
    let sig = data
        .sign(
            &a.actor(&k.form),
            Some(Reauthenticated::password_verified()),
            r.meaning,
            chrono::Utc::now(),
        )
        .map_err(entry_refused)?;
    let doc = write(hub, &a, &data, stored.as_deref())?;
    audit(
        hub,
        &user.name,
        "form_signed",
        serde_json::json!({"study": study, "record": k.record, "event": k.event, "form": k.form,
            "instance": k.instance, "signature": sig}),
    )?;
    Ok(view(&a, data, Some(&doc)))
}

/// The field history of one form instance (who, when, old → new, reason), oldest first
/// (the view right).
pub fn history(hub: &Hub, user: &User, study: &str, k: &FormKey) -> ApiResult<Vec<HistoryEntry>> {
    Ok(form(hub, user, study, k)?.data.history)
}
