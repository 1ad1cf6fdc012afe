//! EDC study data at the hub: subjects and their form instances, stored by `db::records`,
//! every rule decided by `kakehashi-edc` (value validation, form status, reasons for change,
//! locks, e-signatures, field history). This module: who may see which subjects, the subject
//! list, one subject with its event × form grid, enrolment (by the site agent, which mints
//! the pseudonym, or by a study member who brings one the site minted) and withdrawal;
//! [`forms`]: reading, saving, locking, unlocking and e-signing one form instance, and its
//! field history; [`prefill`]: values proposed by the subject's site from its own data.
//!
//! Who: only members of the study act on its data (the network office too only as a
//! member); a member sees the subjects of their own site (data access group) unless their
//! role sees every site; each form needs the role's right on it (view, edit, lock).
//! Identifying fields (`Identifier? = y`) are refused: they stay at the site. Every change
//! is written to the audit log (`study_subject_*`, `study_form_*`). Blocking: handlers run
//! these through [`crate::Hub::blocking`]. These functions are the stable surface the
//! data-entry pages build on.

pub mod export;
pub mod forms;
pub mod parquet;
pub mod prefill;

pub use forms::{FormView, Save, SignRequest, form, history, lock, save, sign, unlock};

use super::{audit, load};
use crate::db::{StudyMember, SubjectWrite, User, Written};
use crate::service::ApiResult;
use crate::{ApiError, Hub};
use kakehashi_edc::Study;
use kakehashi_edc::entry::{Actor, FormData, FormStatus, GridRow, Subject, SubjectError, subject};
use kakehashi_edc::study::Role as StudyRole;
use kakehashi_federation::enrolment::{
    ENROLMENT_VERSION, EnrolmentAnswer, EnrolmentOutcome, EnrolmentReport, MAX_ENROLMENTS,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A member's access to a study's data: the study, their membership and role.
#[derive(Debug, Clone)]
pub struct Access {
    /// The study.
    pub study: Study,
    /// The caller's membership (role, site).
    pub member: StudyMember,
    /// The caller's study role.
    pub role: StudyRole,
}

impl Access {
    /// Whether the caller sees the records of site `dag`.
    pub fn sees(&self, dag: &str) -> bool {
        self.role.all_sites || self.member.dag.as_deref() == Some(dag)
    }

    /// Which site's rows the caller reads: `Some(None)` every site's, `Some(Some(dag))` their
    /// own site's, `None` nothing (a member tied to no site whose role does not see all).
    pub fn site_scope(&self) -> Option<Option<&str>> {
        if self.role.all_sites {
            Some(None)
        } else {
            self.member.dag.as_deref().map(Some)
        }
    }

    /// The caller as the edc crate's actor on `form`.
    pub fn actor(&self, form: &str) -> Actor {
        Actor {
            user: self.member.user.clone(),
            full_name: self.member.user.clone(),
            site: self.member.dag.clone().unwrap_or_default(),
            all_sites: self.role.all_sites,
            open_queries: self.role.open_queries,
            rights: self.role.rights(form),
        }
    }
}

/// The caller's access to `study`'s data: 404 unless they hold a role in it (so ids do
/// not leak), 403 when the role has no right on any form.
pub fn access(hub: &Hub, user: &User, study: &str) -> ApiResult<Access> {
    let member = hub
        .db
        .study_member(study, &user.name)?
        .ok_or_else(|| ApiError::not_found(format!("no study {study:?}")))?;
    let (s, _) = load(hub, study)?;
    let role = s
        .roles
        .iter()
        .find(|r| r.name == member.role)
        .cloned()
        .ok_or_else(|| {
            ApiError::forbidden(format!("the study has no role {:?} any more", member.role))
        })?;
    Ok(Access {
        study: s,
        member,
        role,
    })
}

/// A short fingerprint of a stored JSON: the version a client sends back to save (409 when
/// it is no longer the stored one).
pub fn version_of(json: &str) -> String {
    hex::encode(&Sha256::digest(json.as_bytes())[..8])
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(json: &str) -> ApiResult<T> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::internal(format!("a stored record does not read: {e}")))
}

/// A stored form instance without its history, lock and signatures: what the flat exports
/// and the logic of other forms read (the history is most of a stored form).
#[derive(Deserialize)]
struct FormValues {
    record: String,
    site: String,
    event: String,
    form: String,
    instance: u32,
    status: FormStatus,
    values: std::collections::BTreeMap<String, String>,
}

/// Reads a stored form's values and status only (empty history, no lock or signatures).
pub(crate) fn read_values(json: &str) -> ApiResult<FormData> {
    let v: FormValues = read_json(json)?;
    let mut d = FormData::new(&v.record, &v.site, &v.event, &v.form, v.instance);
    d.status = v.status;
    d.values = v.values;
    Ok(d)
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))
}

fn subject_refused(e: SubjectError) -> ApiError {
    match e {
        SubjectError::AlreadyWithdrawn(_) => ApiError::conflict(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// A stored subject the caller may see, with its JSON; 404 otherwise.
pub(crate) fn visible_subject(hub: &Hub, a: &Access, record: &str) -> ApiResult<(Subject, String)> {
    let not_found =
        || ApiError::not_found(format!("no record {record:?} in the study {}", a.study.id));
    let j = hub
        .db
        .subject_get(&a.study.id, record)?
        .ok_or_else(not_found)?;
    let s: Subject = read_json(&j)?;
    if !a.sees(&s.site) {
        return Err(not_found());
    }
    Ok((s, j))
}

/// The subjects the caller sees: their own site's, or every site's when their role sees
/// all; by record id.
pub fn subjects(hub: &Hub, user: &User, study: &str) -> ApiResult<Vec<Subject>> {
    let a = access(hub, user, study)?;
    let Some(dag) = a.site_scope() else {
        return Ok(Vec::new());
    };
    hub.db
        .subjects(study, dag)?
        .iter()
        .map(|j| read_json(j))
        .collect()
}

/// One subject and its event × form grid (status per cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectView {
    /// The subject.
    pub subject: Subject,
    /// The grid: each event with the forms it collects and the instances saved, each cell
    /// limited to the forms the caller's role may view (others show no instances).
    pub grid: Vec<GridRow>,
}

/// One subject the caller sees, with its grid.
pub fn subject(hub: &Hub, user: &User, study: &str, record: &str) -> ApiResult<SubjectView> {
    let a = access(hub, user, study)?;
    let (s, _) = visible_subject(hub, &a, record)?;
    let saved: Vec<FormData> = hub
        .db
        .forms_of(study, Some(record))?
        .iter()
        .map(|j| read_json(j))
        .collect::<ApiResult<_>>()?;
    let mut grid = subject::grid(&a.study, record, &saved);
    for row in &mut grid {
        for cell in &mut row.cells {
            if !a.role.rights(&cell.form).view {
                cell.instances.clear();
            }
        }
    }
    Ok(SubjectView { subject: s, grid })
}

/// A subject to enrol: the pseudonym the site minted and, for a member whose role sees
/// every site, the site (default: the member's own).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The record id: the site-minted pseudonym (64 lower-case hex digits).
    pub record: String,
    /// The site (data access group).
    #[serde(default)]
    pub dag: Option<String>,
}

fn pseudonym_only(record: &str) -> ApiResult<()> {
    if subject::is_pseudonym(record) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "record: {record:?} is not a site-minted pseudonym (64 lower-case hex digits); enrol the patient at the site (`kakehashi site enrol`), which mints it"
        )))
    }
}

/// Stores a new subject, or answers the stored one when the same site enrolled the same
/// pseudonym before (an enrolment is repeatable); whether it was new. 409 when the
/// pseudonym is another site's.
fn put_subject(hub: &Hub, study: &Study, new: Subject) -> ApiResult<(Subject, bool)> {
    if let Some(j) = hub.db.subject_get(&study.id, &new.record)? {
        let old: Subject = read_json(&j)?;
        if old.site != new.site {
            return Err(ApiError::conflict(format!(
                "record {}: enrolled at another site",
                new.record
            )));
        }
        return Ok((old, false));
    }
    let doc = to_json(&new)?;
    let enrolled = new.enrolled_at.to_rfc3339();
    let w = SubjectWrite {
        record: &new.record,
        dag: &new.site,
        status: new.status.as_str(),
        enrolled: &enrolled,
        doc: &doc,
        old: None,
    };
    match hub.db.records_write(&study.id, &[w], &[])? {
        Written::All => Ok((new, true)),
        // enrolled meanwhile by a second request: answer what is stored
        Written::Stale(_) => {
            let j = hub
                .db
                .subject_get(&study.id, &new.record)?
                .ok_or_else(|| ApiError::internal(format!("record {} vanished", new.record)))?;
            Ok((read_json(&j)?, false))
        }
    }
}

/// 409 unless the study collects data at `dag` now (active, and activated there when it was
/// activated site by site: a sleeping protocol's sites wait for their activation).
fn not_collecting(s: &Study, dag: &str) -> ApiResult<()> {
    if s.is_active_at(dag) {
        return Ok(());
    }
    Err(ApiError::conflict(
        if s.status == kakehashi_edc::StudyStatus::Active {
            format!(
                "the study {} is not activated at {dag} yet: no enrolment there",
                s.id
            )
        } else {
            format!(
                "the study {} is not active (it is {}): no enrolment",
                s.id,
                s.status.as_str()
            )
        },
    ))
}

/// Enrols a subject by a study member whose role may edit some form, at their own site
/// (or, for a role that sees every site, at `dag`). The record id must be a site-minted
/// pseudonym. Repeating it answers the stored subject.
pub fn enrol(hub: &Hub, user: &User, study: &str, e: Enrolment) -> ApiResult<Subject> {
    let a = access(hub, user, study)?;
    if !a.study.forms().iter().any(|f| a.role.rights(f).edit) {
        return Err(ApiError::forbidden(format!(
            "the study role {} may not enter data",
            a.role.name
        )));
    }
    pseudonym_only(&e.record)?;
    let dag = match (e.dag, &a.member.dag) {
        (Some(d), _) if a.role.all_sites => d,
        (Some(d), Some(own)) if &d == own => d,
        (Some(d), _) => {
            return Err(ApiError::forbidden(format!(
                "dag: you enter data for {} only, not {d}",
                a.member.dag.as_deref().unwrap_or("no site")
            )));
        }
        (None, Some(own)) => own.clone(),
        (None, None) => {
            return Err(ApiError::bad_request(
                "dag: name the site the subject is enrolled at",
            ));
        }
    };
    not_collecting(&a.study, &dag)?;
    let s = Subject::enrol(&a.study, &e.record, &dag, &user.name, chrono::Utc::now())
        .map_err(subject_refused)?;
    let (s, new) = put_subject(hub, &a.study, s)?;
    if new {
        audit(
            hub,
            &user.name,
            "subject_enrolled",
            serde_json::json!({"study": study, "record": s.record, "dag": s.site}),
        )?;
    }
    Ok(s)
}

/// Enrols a subject pushed by a site's agent over its authenticated connection: the site is
/// the caller (its id, `-` read as `_`, must be one of the study's data access groups), the
/// record the pseudonym it minted; the hub never sees the patient id. Repeating it answers
/// the stored subject (false: not new).
pub fn enrol_from_site(
    hub: &Hub,
    site: &str,
    study: &str,
    record: &str,
) -> ApiResult<(Subject, bool)> {
    let (s, _) = load(hub, study)?;
    pseudonym_only(record)?;
    let by = format!("site:{site}");
    // a data access group's name is the site id with `_` for `-` (REDCap's rule)
    let dag = site.replace('-', "_");
    not_collecting(&s, &dag)?;
    let new = Subject::enrol(&s, record, &dag, &by, chrono::Utc::now()).map_err(|e| match e {
        SubjectError::UnknownSite { .. } => ApiError::forbidden(format!(
            "the site {site} is not a site of the study {study}"
        )),
        e => subject_refused(e),
    })?;
    let (subj, fresh) = put_subject(hub, &s, new)?;
    if fresh {
        audit(
            hub,
            &by,
            "subject_enrolled",
            serde_json::json!({"study": study, "record": subj.record, "dag": subj.site}),
        )?;
    }
    Ok((subj, fresh))
}

/// Withdraws a subject (a member whose role may lock some form, at the subject's site or
/// seeing all): the data stay, no new data are entered; a reason is required.
pub fn withdraw(
    hub: &Hub,
    user: &User,
    study: &str,
    record: &str,
    reason: &str,
) -> ApiResult<Subject> {
    let a = access(hub, user, study)?;
    if !a.study.forms().iter().any(|f| a.role.rights(f).lock) {
        return Err(ApiError::forbidden(format!(
            "the study role {} may not withdraw subjects",
            a.role.name
        )));
    }
    let (mut s, old) = visible_subject(hub, &a, record)?;
    s.withdraw(&user.name, reason, chrono::Utc::now())
        .map_err(subject_refused)?;
    let doc = to_json(&s)?;
    let enrolled = s.enrolled_at.to_rfc3339();
    let w = SubjectWrite {
        record,
        dag: &s.site,
        status: s.status.as_str(),
        enrolled: &enrolled,
        doc: &doc,
        old: Some(&old),
    };
    if let Written::Stale(_) = hub.db.records_write(study, &[w], &[])? {
        return Err(ApiError::conflict(format!(
            "record {record} was changed meanwhile: read it again"
        )));
    }
    audit(
        hub,
        &user.name,
        "subject_withdrawn",
        serde_json::json!({"study": study, "record": record, "reason": reason.trim()}),
    )?;
    Ok(s)
}

/// A site agent's enrolment report: each enrolment through [`enrol_from_site`], answered
/// one by one (a refusal names its reason and stops no other); 409 for another report
/// version, 400 for more than [`MAX_ENROLMENTS`].
pub fn site_enrolments(hub: &Hub, site: &str, r: EnrolmentReport) -> ApiResult<EnrolmentAnswer> {
    if r.version != ENROLMENT_VERSION {
        return Err(ApiError::conflict(format!(
            "unsupported enrolment report version {}: this hub speaks version {ENROLMENT_VERSION}",
            r.version
        )));
    }
    if r.enrolments.len() > MAX_ENROLMENTS {
        return Err(ApiError::bad_request(format!(
            "enrolments: {} in one report, at most {MAX_ENROLMENTS}",
            r.enrolments.len()
        )));
    }
    let mut results = Vec::with_capacity(r.enrolments.len());
    for e in r.enrolments {
        let outcome = match enrol_from_site(hub, site, &e.study, &e.record) {
            Ok((_, true)) => EnrolmentOutcome::Enrolled,
            Ok((_, false)) => EnrolmentOutcome::Already,
            Err(err) if err.status.is_server_error() => return Err(err),
            Err(err) => EnrolmentOutcome::Refused {
                reason: err.message,
            },
        };
        results.push((e, outcome));
    }
    Ok(EnrolmentAnswer { results })
}
