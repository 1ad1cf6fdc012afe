//! Data quality of a study at the hub: its checks (`kakehashi-edc`'s built-in ones and the
//! study's own rules) run over the stored records, the data queries (discrepancies) stored
//! by `db::quality` and moved through `kakehashi-edc`'s workflow, queries opened in bulk from
//! a check's findings, and the study dashboard.
//!
//! Who: members only; a member sees the records, findings and queries of their own site
//! unless their role sees all, and only on forms their role may view; opening, closing and
//! re-opening queries needs a role that opens queries (monitor, data manager); answering
//! needs the "resolve queries" right on the form and the record's site. Every step is in the
//! audit log (`study_query_*`). Blocking: handlers run these through [`crate::Hub::blocking`].

use super::audit;
use super::records::{Access, access, read_json, to_json, visible_subject};
use crate::db::{QueryInsert, User};
use crate::service::ApiResult;
use crate::{ApiError, Hub};
use chrono::Utc;
use kakehashi_edc::entry::{
    DataQuery, FormData, QueryAction, QueryError, QueryStatus, QueryTarget, Subject,
};
use kakehashi_edc::quality::{self, CheckInfo, Finding, dashboard::Dashboard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A stored query as the lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryView {
    /// Its number in the study (`#12`).
    pub num: i64,
    /// Days since it was opened.
    pub age_days: i64,
    /// The query.
    #[serde(flatten)]
    pub query: DataQuery,
}

/// Which queries to list (all given conditions hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryFilter {
    /// One site.
    #[serde(default)]
    pub site: Option<String>,
    /// One state.
    #[serde(default)]
    pub status: Option<QueryStatus>,
    /// One record.
    #[serde(default)]
    pub record: Option<String>,
    /// One form.
    #[serde(default)]
    pub form: Option<String>,
}

/// A query opened by hand on one field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    /// The record.
    pub record: String,
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
    /// The repeat instance.
    #[serde(default = "one")]
    pub instance: u32,
    /// The field.
    pub field: String,
    /// The question to the site.
    pub text: String,
}

fn one() -> u32 {
    1
}

/// A step on a query: answer (the site), close or re-open (the monitor), with its message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `answer`, `close` or `reopen`.
    pub action: QueryAction,
    /// The message.
    pub text: String,
}

/// A finding with the pending query already open on it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingView {
    /// Its id in this check's results (`record/event/form/instance/field`), used to select it.
    pub id: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The number of a pending query opened from the same check on the same field.
    pub query: Option<i64>,
}

/// One check's results over the records the caller sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRun {
    /// The check.
    pub check: CheckInfo,
    /// The findings, by record, event, form, instance.
    pub findings: Vec<FindingView>,
    /// How many records were checked.
    pub records: usize,
}

/// Queries to open from a check's findings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bulk {
    /// The findings' ids ([`FindingView::id`]); none: every finding without a pending query.
    #[serde(default)]
    pub findings: Option<Vec<String>>,
    /// The question (default: the finding's message).
    #[serde(default)]
    pub text: Option<String>,
}

/// What a bulk opening did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// The new queries' numbers.
    pub opened: Vec<i64>,
    /// Findings left out because a query from the same check is pending on them.
    pub already_pending: usize,
}

fn refused(e: QueryError) -> ApiError {
    match e {
        QueryError::Transition { .. } => ApiError::conflict(e.to_string()),
        QueryError::NotAllowed { .. } | QueryError::OtherSite { .. } => {
            ApiError::forbidden(e.to_string())
        }
        QueryError::EmptyText => ApiError::bad_request(format!("text: {e}")),
    }
}

fn finding_id(f: &Finding) -> String {
    format!(
        "{}/{}/{}/{}/{}",
        f.record, f.event, f.form, f.instance, f.field
    )
}

fn view(num: i64, query: DataQuery) -> QueryView {
    let age_days = query
        .opened_at()
        .map_or(0, |at| (Utc::now() - at).num_days());
    QueryView {
        num,
        age_days,
        query,
    }
}

/// The stored queries the caller sees (their sites, forms they may view).
fn visible_queries(hub: &Hub, a: &Access) -> ApiResult<Vec<(i64, DataQuery)>> {
    let dag = if a.role.all_sites {
        None
    } else {
        match &a.member.dag {
            Some(d) => Some(d.as_str()),
            None => return Ok(Vec::new()),
        }
    };
    let mut out = Vec::new();
    for (num, j) in hub.db.queries(&a.study.id, dag)? {
        let q: DataQuery = read_json(&j)?;
        if a.sees(&q.site) && a.role.rights(&q.form).view {
            out.push((num, q));
        }
    }
    Ok(out)
}

/// The queries the caller sees, newest first, filtered.
pub fn queries(
    hub: &Hub,
    user: &User,
    study: &str,
    filter: &QueryFilter,
) -> ApiResult<Vec<QueryView>> {
    let a = access(hub, user, study)?;
    Ok(visible_queries(hub, &a)?
        .into_iter()
        .filter(|(_, q)| {
            filter.site.as_ref().is_none_or(|s| &q.site == s)
                && filter.status.is_none_or(|s| q.status == s)
                && filter.record.as_ref().is_none_or(|r| &q.record == r)
                && filter.form.as_ref().is_none_or(|f| &q.form == f)
        })
        .map(|(n, q)| view(n, q))
        .collect())
}

/// One query the caller sees; 404 otherwise.
pub fn query(hub: &Hub, user: &User, study: &str, num: i64) -> ApiResult<QueryView> {
    let a = access(hub, user, study)?;
    let (q, _) = visible_query(hub, &a, num)?;
    Ok(view(num, q))
}

fn visible_query(hub: &Hub, a: &Access, num: i64) -> ApiResult<(DataQuery, String)> {
    let not_found = || ApiError::not_found(format!("no query #{num} in the study {}", a.study.id));
    let j = hub.db.query_get(&a.study.id, num)?.ok_or_else(not_found)?;
    let q: DataQuery = read_json(&j)?;
    if !a.sees(&q.site) || !a.role.rights(&q.form).view {
        return Err(not_found());
    }
    Ok((q, j))
}

fn store(hub: &Hub, study: &str, qs: &[DataQuery]) -> ApiResult<Vec<i64>> {
    let docs: Vec<(String, String)> = qs
        .iter()
        .map(|q| {
            let opened = q.opened_at().unwrap_or_else(Utc::now).to_rfc3339();
            Ok((to_json(q)?, opened))
        })
        .collect::<ApiResult<_>>()?;
    let rows: Vec<QueryInsert<'_>> = qs
        .iter()
        .zip(&docs)
        .map(|(q, (doc, opened))| QueryInsert {
            record: &q.record,
            dag: &q.site,
            form: &q.form,
            status: "open",
            opened,
            doc,
        })
        .collect();
    Ok(hub.db.queries_insert(study, &rows)?)
}

/// Opens a query by hand on one field of a record the caller sees.
pub fn open(hub: &Hub, user: &User, study: &str, n: NewQuery) -> ApiResult<QueryView> {
    let a = access(hub, user, study)?;
    let (subject, _) = visible_subject(hub, &a, &n.record)?;
    let var = n
        .field
        .split_once("___")
        .map_or(n.field.as_str(), |(v, _)| v);
    if !a
        .study
        .fields
        .iter()
        .any(|f| f.variable == var && f.form == n.form)
    {
        return Err(ApiError::bad_request(format!(
            "field: {:?} is not a field of form {:?}",
            n.field, n.form
        )));
    }
    if !a
        .study
        .events()
        .any(|e| e.unique_name == n.event && e.forms.contains(&n.form))
    {
        return Err(ApiError::bad_request(format!(
            "event: {:?} does not collect form {:?}",
            n.event, n.form
        )));
    }
    if !a.role.rights(&n.form).view {
        return Err(ApiError::forbidden(format!(
            "no right to view form {:?}",
            n.form
        )));
    }
    let q = DataQuery::open(
        &a.actor(&n.form),
        QueryTarget {
            record: &n.record,
            site: &subject.site,
            event: &n.event,
            form: &n.form,
            instance: n.instance,
            field: &n.field,
        },
        &n.text,
        Utc::now(),
    )
    .map_err(refused)?;
    let num = store(hub, study, std::slice::from_ref(&q))?[0];
    audit(
        hub,
        &user.name,
        "query_open",
        serde_json::json!({"study": study, "query": num, "record": q.record, "form": q.form, "field": q.field}),
    )?;
    Ok(view(num, q))
}

/// Answers, closes or re-opens a query; 409 when the step does not apply in its state (or
/// someone else moved it first), 403 when the caller may not take it.
pub fn act(hub: &Hub, user: &User, study: &str, num: i64, step: Step) -> ApiResult<QueryView> {
    let a = access(hub, user, study)?;
    let (mut q, old) = visible_query(hub, &a, num)?;
    let status = q
        .act(&a.actor(&q.form), step.action, &step.text, Utc::now())
        .map_err(refused)?;
    let name = status.as_str();
    if !hub.db.query_swap(study, num, name, &to_json(&q)?, &old)? {
        return Err(ApiError::conflict(format!(
            "query #{num} was changed by someone else meanwhile: read it again"
        )));
    }
    let what = format!("query_{}", step.action.as_str());
    audit(
        hub,
        &user.name,
        &what,
        serde_json::json!({"study": study, "query": num, "status": name}),
    )?;
    Ok(view(num, q))
}

/// The study's checks.
pub fn checks(hub: &Hub, user: &User, study: &str) -> ApiResult<Vec<CheckInfo>> {
    Ok(quality::checks(&access(hub, user, study)?.study))
}

/// The saved forms the caller sees (their sites, forms they may view) and the subjects.
fn visible_data(hub: &Hub, a: &Access) -> ApiResult<(Vec<Subject>, Vec<FormData>)> {
    let subjects: Vec<Subject> = hub
        .db
        .subjects(&a.study.id, None)?
        .iter()
        .map(|j| read_json::<Subject>(j))
        .filter(|s| s.as_ref().map_or(true, |s| a.sees(&s.site)))
        .collect::<ApiResult<_>>()?;
    let forms = hub
        .db
        .forms_of(&a.study.id, None)?
        .iter()
        .map(|j| read_json::<FormData>(j))
        .filter(|d| {
            d.as_ref()
                .map_or(true, |d| a.sees(&d.site) && a.role.rights(&d.form).view)
        })
        .collect::<ApiResult<_>>()?;
    Ok((subjects, forms))
}

/// Runs one check over the records the caller sees.
pub fn run(hub: &Hub, user: &User, study: &str, check: &str) -> ApiResult<CheckRun> {
    let a = access(hub, user, study)?;
    run_with(hub, &a, check)
}

fn run_with(hub: &Hub, a: &Access, check: &str) -> ApiResult<CheckRun> {
    let info = quality::checks(&a.study)
        .into_iter()
        .find(|c| c.id == check)
        .ok_or_else(|| {
            ApiError::not_found(format!("the study has no data-quality check {check:?}"))
        })?;
    let (subjects, forms) = visible_data(hub, a)?;
    let findings = quality::run(&a.study, check, &forms, Utc::now().naive_utc())
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let pending: Vec<(DataQuery, i64)> = visible_queries(hub, a)?
        .into_iter()
        .filter(|(_, q)| q.is_pending() && q.check.as_deref() == Some(check))
        .map(|(n, q)| (q, n))
        .collect();
    let findings = findings
        .into_iter()
        .map(|f| {
            let query = pending
                .iter()
                .find(|(q, _)| {
                    q.record == f.record
                        && q.event == f.event
                        && q.form == f.form
                        && q.instance == f.instance
                        && q.field == f.field
                })
                .map(|(_, n)| *n);
            FindingView {
                id: finding_id(&f),
                finding: f,
                query,
            }
        })
        .collect();
    Ok(CheckRun {
        check: info,
        findings,
        records: subjects.len(),
    })
}

/// Opens a query on each chosen finding of a check (all of them when none are chosen) that
/// has no pending query from the same check; one transaction.
pub fn open_from_check(
    hub: &Hub,
    user: &User,
    study: &str,
    check: &str,
    bulk: Bulk,
) -> ApiResult<Opened> {
    let a = access(hub, user, study)?;
    if !a.role.open_queries {
        return Err(ApiError::forbidden(format!(
            "user {:?} may not open queries in study {study}",
            user.name
        )));
    }
    let run = run_with(hub, &a, check)?;
    let chosen: Option<BTreeSet<&str>> = bulk
        .findings
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    if let Some(c) = &chosen {
        let known: BTreeSet<&str> = run.findings.iter().map(|f| f.id.as_str()).collect();
        if let Some(missing) = c.iter().find(|id| !known.contains(*id)) {
            return Err(ApiError::bad_request(format!(
                "findings: {missing:?} is not a finding of check {check:?} (run it again: the data may have changed)"
            )));
        }
    }
    let now = Utc::now();
    let mut already_pending = 0;
    let mut new = Vec::new();
    for f in &run.findings {
        if chosen.as_ref().is_some_and(|c| !c.contains(f.id.as_str())) {
            continue;
        }
        if f.query.is_some() {
            already_pending += 1;
            continue;
        }
        new.push(
            DataQuery::from_finding(
                &a.actor(&f.finding.form),
                &f.finding,
                bulk.text.as_deref(),
                now,
            )
            .map_err(refused)?,
        );
    }
    let opened = store(hub, study, &new)?;
    audit(
        hub,
        &user.name,
        "queries_open_from_check",
        serde_json::json!({"study": study, "check": check, "queries": opened, "already_pending": already_pending}),
    )?;
    Ok(Opened {
        opened,
        already_pending,
    })
}

/// The findings of the study's real-time rules (and the built-in checks) on one record the
/// caller sees: what the form page shows after a save.
pub fn record_findings(hub: &Hub, a: &Access, record: &str) -> ApiResult<Vec<Finding>> {
    visible_subject(hub, a, record)?;
    let forms: Vec<FormData> = hub
        .db
        .forms_of(&a.study.id, Some(record))?
        .iter()
        .map(|j| read_json(j))
        .collect::<ApiResult<_>>()?;
    let realtime: BTreeSet<&str> = a
        .study
        .quality_rules
        .iter()
        .filter(|r| r.realtime)
        .map(|r| r.id.as_str())
        .chain(["invalid_value", "hidden_with_value"])
        .collect();
    Ok(quality::run_all(&a.study, &forms, Utc::now().naive_utc())
        .into_iter()
        .filter(|f| realtime.contains(f.check.as_str()) && a.role.rights(&f.form).view)
        .collect())
}

/// The study dashboard over the records and queries the caller sees.
pub fn dashboard(hub: &Hub, user: &User, study: &str) -> ApiResult<Dashboard> {
    let a = access(hub, user, study)?;
    let (subjects, forms) = visible_data(hub, &a)?;
    let queries: Vec<DataQuery> = visible_queries(hub, &a)?
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    let mut d = quality::dashboard::dashboard(
        &a.study,
        &subjects,
        &forms,
        &queries,
        Utc::now().date_naive(),
    );
    d.enrolment.retain(|e| a.sees(&e.site));
    Ok(d)
}
