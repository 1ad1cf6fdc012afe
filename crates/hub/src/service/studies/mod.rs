//! EDC studies at the hub: the definitions of `kakehashi-edc` stored in the hub's database
//! (`db::studies`), who may do what, and the audit log. The network office (the hub's
//! `admin` role) creates studies (from a study JSON, or from a REDCap data dictionary on the
//! base of an existing study, like `kakehashi study import-dictionary --like`) and assigns
//! each user one of the study's roles at one of its sites (data access groups); members see
//! the studies they belong to, and those whose role may export on some form export it as a
//! REDCap dictionary or ODM 1.3.2 metadata. REDCap API tokens are minted per study and
//! member ([`redcap`] answers the REDCap-compatible API with them). Every change is written
//! to the audit log (`study_*` entries). Blocking: handlers run these through
//! [`crate::Hub::blocking`].

use super::ApiResult;
use crate::db::{Role, StudyMember, User, secret_hash};
use crate::{ApiError, Hub};
use kakehashi_edc::{Study, StudyError, StudyStatus, dictionary, odm};
use serde::{Deserialize, Serialize};

pub mod quality;
pub mod records;
pub mod redcap;
mod redcap_records;

/// A study in a list: what it is, not its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySummary {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Acronym.
    pub acronym: String,
    /// Status.
    pub status: StudyStatus,
    /// How many forms.
    pub forms: usize,
    /// How many fields.
    pub fields: usize,
    /// The sites (data access groups), by unique name.
    pub sites: Vec<String>,
    /// The caller's role in it (none for the network office when not a member).
    pub role: Option<String>,
}

/// Export formats of a study's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The REDCap data dictionary (18-column CSV).
    Redcap,
    /// CDISC ODM 1.3.2 metadata (XML).
    Odm,
}

/// A study problem as a 400 naming the file, line and field.
pub fn refused(e: StudyError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

fn is_office(user: &User) -> bool {
    user.role == Role::Admin
}

fn require_office(user: &User) -> ApiResult<()> {
    if is_office(user) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the network office (admin) may do this",
        ))
    }
}

fn stored(json: &str) -> ApiResult<Study> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::internal(format!("a stored study does not read: {e}")))
}

/// Writes a `study_<what>` entry to the audit log.
fn audit(hub: &Hub, by: &str, what: &str, detail: serde_json::Value) -> ApiResult<()> {
    hub.audit_log(
        &format!("study_{what}"),
        serde_json::json!({"by": by, "detail": detail}),
    )
}

/// A study and its stored JSON, or 404 naming it.
pub(crate) fn load(hub: &Hub, id: &str) -> ApiResult<(Study, String)> {
    let j = hub
        .db
        .study_get(id)?
        .ok_or_else(|| ApiError::not_found(format!("no study {id:?}")))?;
    Ok((stored(&j)?, j))
}

/// The study `id` as `user` may see it: the network office sees every study, others those
/// they hold a role in (404 for the rest, so ids do not leak); with the caller's membership.
pub fn visible(hub: &Hub, user: &User, id: &str) -> ApiResult<(Study, Option<StudyMember>)> {
    let member = hub.db.study_member(id, &user.name)?;
    if member.is_none() && !is_office(user) {
        return Err(ApiError::not_found(format!("no study {id:?}")));
    }
    Ok((load(hub, id)?.0, member))
}

fn summary(s: &Study, role: Option<String>) -> StudySummary {
    StudySummary {
        id: s.id.clone(),
        title: s.title.clone(),
        acronym: s.acronym.clone(),
        status: s.status,
        forms: s.forms().len(),
        fields: s.fields.len(),
        sites: s.sites.iter().map(|d| d.dag.clone()).collect(),
        role,
    }
}

/// The studies `user` sees, by id.
pub fn list(hub: &Hub, user: &User) -> ApiResult<Vec<StudySummary>> {
    let mine = hub.db.studies_of(&user.name)?;
    let mut out = Vec::new();
    for j in hub.db.study_list()? {
        let s = stored(&j)?;
        let role = if mine.contains(&s.id) {
            hub.db.study_member(&s.id, &user.name)?.map(|m| m.role)
        } else {
            None
        };
        if role.is_some() || is_office(user) {
            out.push(summary(&s, role));
        }
    }
    Ok(out)
}

/// Creates a study (the network office): validated (400 naming the field), 409 when its id
/// is taken.
pub fn create(hub: &Hub, by: &User, s: Study) -> ApiResult<StudySummary> {
    require_office(by)?;
    s.validate("the study").map_err(refused)?;
    if let Some(c) = &s.protocol {
        crate::service::office::citation::cited(hub, c)?;
    }
    let doc = serde_json::to_string(&s).map_err(|e| ApiError::internal(e.to_string()))?;
    if !hub.db.study_insert(&s.id, &s.title, &doc, &by.name)? {
        return Err(ApiError::conflict(format!("a study {:?} exists", s.id)));
    }
    audit(
        hub,
        &by.name,
        "created",
        serde_json::json!({"id": s.id, "fields": s.fields.len(), "forms": s.forms().len()}),
    )?;
    Ok(summary(&s, None))
}

/// Replaces a study's definition (the network office): validated, its id unchanged, and
/// only if nobody changed it since it was read (409 otherwise: read it again). Members whose
/// role or site the new definition no longer has are refused (400 naming them): take their
/// role away first.
pub fn update(hub: &Hub, by: &User, id: &str, s: Study) -> ApiResult<StudySummary> {
    require_office(by)?;
    if s.id != id {
        return Err(ApiError::bad_request(format!(
            "id: the study is {id:?}, the definition says {:?}",
            s.id
        )));
    }
    s.validate("the study").map_err(refused)?;
    if let Some(c) = &s.protocol {
        crate::service::office::citation::cited(hub, c)?;
    }
    let (_, old) = load(hub, id)?;
    for m in hub.db.study_members(id)? {
        let role_gone = !s.roles.iter().any(|r| r.name == m.role);
        let site_gone = m
            .dag
            .as_ref()
            .is_some_and(|d| !s.sites.iter().any(|x| &x.dag == d));
        if role_gone || site_gone {
            return Err(ApiError::bad_request(format!(
                "roles/sites: {} holds the role {} at {} in this study, which the new definition lacks",
                m.user,
                m.role,
                m.dag.as_deref().unwrap_or("every site")
            )));
        }
    }
    let doc = serde_json::to_string(&s).map_err(|e| ApiError::internal(e.to_string()))?;
    if !hub.db.study_swap(id, &old, &s.title, &doc)? {
        return Err(ApiError::conflict(format!(
            "the study {id} was changed by someone else meanwhile: read it again"
        )));
    }
    audit(
        hub,
        &by.name,
        "updated",
        serde_json::json!({"id": id, "fields": s.fields.len(), "status": s.status}),
    )?;
    Ok(summary(&s, None))
}

/// Activating a sleeping study (or more sites of an active one) in one step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationRequest {
    /// The sites (data access groups) to activate.
    pub sites: Vec<String>,
    /// Ethics approvals to record with it (for sites' countries without one yet).
    #[serde(default)]
    pub approvals: Vec<kakehashi_edc::study::EthicsApproval>,
    /// Why now.
    #[serde(default)]
    pub note: String,
}

/// Activates a study at sites (the network office): the study's rules decide
/// (`Study::activate`; refused as a whole with the site named, 400, or 409 for a draft or
/// closed study); written by compare-and-swap, the activation and its approvals audited. From
/// then on those sites' agents and members can enrol subjects.
pub fn activate(
    hub: &Hub,
    by: &User,
    id: &str,
    r: ActivationRequest,
) -> ApiResult<kakehashi_edc::study::Activation> {
    require_office(by)?;
    let (mut s, old) = load(hub, id)?;
    let a = s
        .activate(&r.sites, r.approvals, &by.name, chrono::Utc::now(), &r.note)
        .map_err(|e| match e {
            kakehashi_edc::study::ActivationError::State { .. } => {
                ApiError::conflict(e.to_string())
            }
            e => ApiError::bad_request(e.to_string()),
        })?;
    s.validate("the activated study").map_err(refused)?;
    let doc = serde_json::to_string(&s).map_err(|e| ApiError::internal(e.to_string()))?;
    if !hub.db.study_swap(id, &old, &s.title, &doc)? {
        return Err(ApiError::conflict(format!(
            "the study {id} was changed by someone else meanwhile: try again"
        )));
    }
    audit(
        hub,
        &by.name,
        "activated",
        serde_json::json!({"id": id, "sites": a.sites, "approvals": a.approvals, "note": a.note}),
    )?;
    Ok(a)
}

/// A REDCap data dictionary to create a study from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DictionaryImport {
    /// The new study's id.
    pub id: String,
    /// Its title (default: the base study's, or the id).
    #[serde(default)]
    pub title: Option<String>,
    /// A study at the hub to take everything but the fields from (arms, events, sites,
    /// roles, texts), as `kakehashi study import-dictionary --like`.
    #[serde(default)]
    pub like: Option<String>,
    /// The dictionary CSV (REDCap's 18 columns).
    pub csv: String,
}

/// Creates a study from a REDCap data dictionary (the network office); every problem of
/// the dictionary is refused naming its line, field and column.
pub fn import_dictionary(hub: &Hub, by: &User, d: DictionaryImport) -> ApiResult<StudySummary> {
    require_office(by)?;
    let fields = dictionary::read_csv("the dictionary", &d.csv)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let s = match d.like {
        Some(like) => {
            let (mut s, _) = load(hub, &like)?;
            s.id = d.id;
            if let Some(t) = d.title {
                s.title = t;
            }
            s.with_fields(fields)
        }
        None => {
            let title = d.title.unwrap_or_else(|| d.id.clone());
            Study::from_dictionary(&d.id, &title, fields)
        }
    };
    create(hub, by, s)
}

/// A study's definition exported (a member whose role may export some form, or the
/// network office).
pub fn export(hub: &Hub, user: &User, id: &str, format: ExportFormat) -> ApiResult<String> {
    let (s, member) = visible(hub, user, id)?;
    if !may_export(hub, user, &s)? {
        return Err(ApiError::forbidden(format!(
            "the study role {} may not export",
            member.map(|m| m.role).unwrap_or_default()
        )));
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    Ok(match format {
        ExportFormat::Redcap => dictionary::write_csv(&s.fields),
        ExportFormat::Odm => odm::write_metadata(&s, &now),
    })
}

/// Whether `user` may export the study's definition: the network office, or a member whose
/// role may export some form.
pub fn may_export(hub: &Hub, user: &User, s: &Study) -> ApiResult<bool> {
    if is_office(user) {
        return Ok(true);
    }
    let Some(m) = hub.db.study_member(&s.id, &user.name)? else {
        return Ok(false);
    };
    let role = s.roles.iter().find(|r| r.name == m.role);
    Ok(role.is_some_and(|r| s.forms().iter().any(|f| r.rights(f).export)))
}

/// Gives `m.user` one of the study's roles, at one of its sites (the network office). The
/// role and site must be the study's and the user must exist (400 naming which).
pub fn assign(hub: &Hub, by: &User, study: &str, m: StudyMember) -> ApiResult<()> {
    require_office(by)?;
    let (s, _) = load(hub, study)?;
    if !s.roles.iter().any(|r| r.name == m.role) {
        return Err(ApiError::bad_request(format!(
            "role: the study {study} has no role {:?} (it has: {})",
            m.role,
            s.roles
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(dag) = &m.dag
        && !s.sites.iter().any(|d| &d.dag == dag)
    {
        return Err(ApiError::bad_request(format!(
            "dag: the study {study} has no site {dag:?}"
        )));
    }
    if hub.db.user_with_hash(&m.user)?.is_none() {
        return Err(ApiError::bad_request(format!("user: no user {:?}", m.user)));
    }
    hub.db.study_member_put(study, &m)?;
    audit(
        hub,
        &by.name,
        "role_assigned",
        serde_json::json!({"study": study, "user": m.user, "role": m.role, "dag": m.dag}),
    )
}

/// Takes a user's role in a study away, with their API tokens for it (the network office).
pub fn unassign(hub: &Hub, by: &User, study: &str, user: &str) -> ApiResult<()> {
    require_office(by)?;
    if !hub.db.study_member_remove(study, user)? {
        return Err(ApiError::not_found(format!(
            "{user} holds no role in the study {study}"
        )));
    }
    audit(
        hub,
        &by.name,
        "role_removed",
        serde_json::json!({"study": study, "user": user}),
    )
}

/// The members of a study (the network office, or members).
pub fn members(hub: &Hub, user: &User, study: &str) -> ApiResult<Vec<StudyMember>> {
    visible(hub, user, study)?;
    Ok(hub.db.study_members(study)?)
}

/// Mints a REDCap API token (32 upper-case hex characters, as REDCap's) for `for_user` in
/// `study`: by the network office for anyone, or by a member for themself; the member's
/// study role must have the API right on some form. Only its hash is stored.
pub fn new_api_token(hub: &Hub, by: &User, study: &str, for_user: &str) -> ApiResult<String> {
    if by.name != for_user {
        require_office(by)?;
    }
    let (s, _) = load(hub, study)?;
    let m = hub.db.study_member(study, for_user)?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "user: {for_user} holds no role in the study {study}"
        ))
    })?;
    let role = s.roles.iter().find(|r| r.name == m.role);
    if !role.is_some_and(|r| s.forms().iter().any(|f| r.rights(f).api)) {
        return Err(ApiError::forbidden(format!(
            "the study role {} has no API right",
            m.role
        )));
    }
    let mut b = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    let token = hex::encode_upper(b);
    hub.db
        .study_token_put(&secret_hash(&token), study, for_user)?;
    audit(
        hub,
        &by.name,
        "api_token_created",
        serde_json::json!({"study": study, "user": for_user}),
    )?;
    Ok(token)
}
