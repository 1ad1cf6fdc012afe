//! The REDCap-compatible API, record part: `content=record` export (flat: `records[]`,
//! `fields[]`, `forms[]`, `events[]`, `filterLogic`, `rawOrLabel`,
//! `exportDataAccessGroups`; json or csv) and import (a `data` parameter:
//! `overwriteBehavior=normal|overwrite`, `returnContent=count|ids`; refused as a whole,
//! nothing stored, with REDCap's record/field/value wording), and `content=log` (the field
//! history and enrolments as REDCap's logging rows). The flat rows are `kakehashi_edc::flat`'s;
//! each form instance is changed through `edc::FormData::save` with the token user's rights
//! (the API and export or edit right on the form; their own site unless the role sees all).

use super::records::{Access, read_json, to_json};
use super::redcap::{Answer, Fmt, Params, error};
use crate::Hub;
use crate::db::{FormWrite, SubjectWrite, Written};
use kakehashi_edc::entry::{FormData, FormKey, Subject, SubjectStatus, subject};
use kakehashi_edc::flat::{self, ExportOptions, FlatRecord, Overwrite, Row};
use std::collections::BTreeMap;

fn ok(fmt: Fmt, json: String, csv: String) -> Answer {
    match fmt {
        Fmt::Csv => Answer {
            status: 200,
            content_type: "text/csv; charset=utf-8",
            body: csv,
        },
        _ => Answer {
            status: 200,
            content_type: "application/json",
            body: json,
        },
    }
}

/// The subjects the token user sees, with their saved forms.
fn visible_data(hub: &Hub, a: &Access) -> Result<Vec<(Subject, Vec<FormData>)>, String> {
    let all_forms: Vec<FormData> = hub
        .db
        .forms_of(&a.study.id, None)
        .map_err(|e| e.0)?
        .iter()
        .map(|j| read_json(j).map_err(|e| e.message))
        .collect::<Result<_, _>>()?;
    let mut by_record: BTreeMap<String, Vec<FormData>> = BTreeMap::new();
    for d in all_forms {
        by_record.entry(d.record.clone()).or_default().push(d);
    }
    let mut out = Vec::new();
    for j in hub.db.subjects(&a.study.id, None).map_err(|e| e.0)? {
        let s: Subject = read_json(&j).map_err(|e| e.message)?;
        if a.sees(&s.site) {
            let forms = by_record.remove(&s.record).unwrap_or_default();
            out.push((s, forms));
        }
    }
    Ok(out)
}

/// `content=record` without `data`: the flat export.
pub(super) fn export(hub: &Hub, a: &Access, fmt: Fmt, p: &Params) -> Answer {
    if p.get("type").is_some_and(|t| t != "flat") {
        return error(
            400,
            fmt,
            "type: this hub exports records flat only (type=flat)",
        );
    }
    let filter = match p
        .get("filterLogic")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(src) => match kakehashi_edc::logic::parse(src) {
            Ok(e) => Some(e),
            Err(e) => {
                return error(400, fmt, &format!("The filterLogic is not valid: {e}"));
            }
        },
        None => None,
    };
    let (fields, forms, events) = (p.list("fields"), p.list("forms"), p.list("events"));
    let all_columns = flat::columns(&a.study, &ExportOptions::default());
    let rid = flat::record_id_field(&a.study).to_owned();
    for f in &fields {
        let known = a.study.fields.iter().any(|x| &x.variable == f) || all_columns.contains(f);
        if !known {
            return error(
                400,
                fmt,
                &format!("The following values in the parameter \"fields\" are not valid: '{f}'"),
            );
        }
    }
    for f in &forms {
        if !a.study.forms().contains(&f.as_str()) {
            return error(
                400,
                fmt,
                &format!("The following values in the parameter \"forms\" are not valid: '{f}'"),
            );
        }
    }
    for e in &events {
        if !a.study.events().any(|x| &x.unique_name == e) {
            return error(
                400,
                fmt,
                &format!("The following values in the parameter \"events\" are not valid: '{e}'"),
            );
        }
    }
    // forms the role may not export through the API are left out, as REDCap leaves them
    let mut study = a.study.clone();
    study.fields.retain(|f| {
        let r = a.role.rights(&f.form);
        (r.api && r.export) || f.variable == rid
    });
    let data = match visible_data(hub, a) {
        Ok(d) => d,
        Err(e) => return error(500, fmt, &e),
    };
    let records: Vec<FlatRecord<'_>> = data
        .iter()
        .map(|(s, f)| FlatRecord {
            record: &s.record,
            site: &s.site,
            forms: f,
        })
        .collect();
    let o = ExportOptions {
        records: p.list("records"),
        fields: fields.into_iter().filter(|f| f != &rid).collect(),
        forms,
        events,
        labels: p.get("rawOrLabel") == Some("label"),
        dags: p
            .get("exportDataAccessGroups")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        filter,
    };
    let (cols, rows) = flat::export(&study, &records, &o);
    ok(fmt, flat::to_json(&cols, &rows), flat::to_csv(&cols, &rows))
}

fn read_rows(fmt: Fmt, data: &str) -> Result<Vec<Row>, String> {
    match fmt {
        Fmt::Csv => flat::read_csv(data),
        _ => {
            let v: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(data)
                .map_err(|e| format!("data: not a JSON array of records: {e}"))?;
            Ok(v.into_iter()
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| {
                            let s = match v {
                                serde_json::Value::String(s) => s,
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            (k, s)
                        })
                        .collect()
                })
                .collect())
        }
    }
}

/// `content=record` with `data`: the import, all or nothing.
pub(super) fn import(hub: &Hub, a: &Access, fmt: Fmt, data: &str, p: &Params) -> Answer {
    let overwrite = match p.get("overwriteBehavior").unwrap_or("normal") {
        "normal" => Overwrite::Normal,
        "overwrite" => Overwrite::Overwrite,
        o => {
            return error(
                400,
                fmt,
                &format!("overwriteBehavior: '{o}' is not valid (normal or overwrite)"),
            );
        }
    };
    let content = p.get("returnContent").unwrap_or("count");
    if !matches!(content, "count" | "ids" | "nothing") {
        return error(
            400,
            fmt,
            &format!("returnContent: '{content}' is not offered (count, ids or nothing)"),
        );
    }
    let rows = match read_rows(fmt, data) {
        Ok(r) => r,
        Err(e) => return error(400, fmt, &e),
    };
    let plan = match flat::import(&a.study, &rows, overwrite) {
        Ok(p) => p,
        Err(e) => return error(400, fmt, &e.to_string()),
    };
    let now = chrono::Utc::now();
    let mut problems: Vec<String> = Vec::new();
    let line = |r: &str, f: &str, v: &str, m: &str| format!("\"{r}\",\"{f}\",\"{v}\",\"{m}\"");
    // subjects: stored (and visible), or new at the row's site (or the user's own)
    let mut subjects: BTreeMap<String, (Subject, bool)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for f in &plan {
        if subjects.contains_key(&f.record) {
            continue;
        }
        order.push(f.record.clone());
        match hub.db.subject_get(&a.study.id, &f.record) {
            Err(e) => return error(500, fmt, &e.0),
            Ok(Some(j)) => match read_json::<Subject>(&j) {
                Ok(s) if a.sees(&s.site) => {
                    if s.status == SubjectStatus::Withdrawn {
                        problems.push(line(
                            &f.record,
                            "",
                            "",
                            "The record is withdrawn: no new data",
                        ));
                    }
                    subjects.insert(f.record.clone(), (s, false));
                }
                Ok(_) => problems.push(line(
                    &f.record,
                    "",
                    "",
                    "The record belongs to another data access group",
                )),
                Err(e) => return error(500, fmt, &e.message),
            },
            Ok(None) => {
                let dag = f
                    .dag
                    .clone()
                    .or_else(|| a.member.dag.clone())
                    .unwrap_or_default();
                if !subject::is_pseudonym(&f.record) {
                    problems.push(line(&f.record, flat::record_id_field(&a.study), &f.record,
                        "A new record id must be a site-minted pseudonym (64 lower-case hex digits): enrol the patient at the site"));
                    continue;
                }
                if !a.sees(&dag) {
                    problems.push(line(
                        &f.record,
                        flat::DAG,
                        &dag,
                        "You may not create records in this data access group",
                    ));
                    continue;
                }
                match Subject::enrol(&a.study, &f.record, &dag, &a.member.user, now) {
                    Ok(s) => {
                        subjects.insert(f.record.clone(), (s, true));
                    }
                    Err(e) => problems.push(line(&f.record, flat::DAG, &dag, &e.to_string())),
                }
            }
        }
    }
    // forms: each through the edc rules, with the user's rights
    let mut writes: Vec<(FormData, Option<String>)> = Vec::new();
    for f in &plan {
        let ident = subject::identifying(&a.study, f.changes.iter().map(|(k, _)| k.as_str()));
        for k in ident {
            problems.push(line(
                &f.record,
                &k,
                "",
                "The field is identifying (Identifier? = y): identifying data stay at the site",
            ));
        }
        let r = a.role.rights(&f.form);
        if !(r.api && r.edit) {
            problems.push(line(
                &f.record,
                &format!("{}_complete", f.form),
                "",
                "You do not have API import rights on this form",
            ));
            continue;
        }
        let Some((s, _)) = subjects.get(&f.record) else {
            continue;
        };
        let k = FormKey {
            record: f.record.clone(),
            event: f.event.clone(),
            form: f.form.clone(),
            instance: f.instance,
        };
        let stored = match hub
            .db
            .form_get(&a.study.id, &k.record, &k.event, &k.form, k.instance)
        {
            Ok(s) => s,
            Err(e) => return error(500, fmt, &e.0),
        };
        let mut d = match &stored {
            Some(j) => match read_json::<FormData>(j) {
                Ok(d) => d,
                Err(e) => return error(500, fmt, &e.message),
            },
            None => FormData::new(&k.record, &s.site, &k.event, &k.form, k.instance),
        };
        let status = f.status.unwrap_or(d.status);
        let res = d.save(
            &a.actor(&f.form),
            &a.study.fields,
            &a.study.missing_codes,
            &f.changes,
            status,
            Some("REDCap API import"),
            now,
        );
        match res {
            Ok(_) => writes.push((d, stored)),
            Err(e) => problems.push(line(&f.record, &f.form, "", &e.to_string())),
        }
    }
    if !problems.is_empty() {
        return error(400, fmt, &problems.join("\n"));
    }
    // one transaction: new subjects, then every form
    let subject_docs: Vec<(String, String, &Subject)> = subjects
        .values()
        .filter(|(_, new)| *new)
        .map(|(s, _)| {
            Ok::<_, String>((
                to_json(s).map_err(|e| e.message)?,
                s.enrolled_at.to_rfc3339(),
                s,
            ))
        })
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let sw: Vec<SubjectWrite<'_>> = subject_docs
        .iter()
        .map(|(doc, enrolled, s)| SubjectWrite {
            record: &s.record,
            dag: &s.site,
            status: s.status.as_str(),
            enrolled,
            doc,
            old: None,
        })
        .collect();
    let form_docs: Vec<(String, &FormData, Option<&str>)> = writes
        .iter()
        .map(|(d, old)| {
            (
                serde_json::to_string(d).unwrap_or_default(),
                d,
                old.as_deref(),
            )
        })
        .collect();
    let fw: Vec<FormWrite<'_>> = form_docs
        .iter()
        .map(|(doc, d, old)| FormWrite {
            record: &d.record,
            event: &d.event,
            form: &d.form,
            instance: d.instance,
            doc,
            old: *old,
        })
        .collect();
    match hub.db.records_write(&a.study.id, &sw, &fw) {
        Ok(Written::All) => {}
        Ok(Written::Stale(w)) => {
            return error(
                409,
                fmt,
                &format!(
                    "{w}: changed by someone else during the import: nothing was imported, send it again"
                ),
            );
        }
        Err(e) => return error(500, fmt, &e.0),
    }
    let logged = hub.audit_log(
        "study_api_import",
        serde_json::json!({"by": a.member.user, "detail": {"study": a.study.id,
            "records": order.len(), "new_records": sw.len(), "forms": fw.len()}}),
    );
    if let Err(e) = logged {
        return error(500, fmt, &e.message);
    }
    match (content, fmt) {
        ("ids", Fmt::Csv) => ok(fmt, String::new(), format!("id\n{}\n", order.join("\n"))),
        ("ids", _) => ok(fmt, serde_json::json!(order).to_string(), String::new()),
        ("nothing", _) => ok(fmt, "{}".into(), String::new()),
        (_, Fmt::Csv) => ok(fmt, String::new(), format!("count\n{}\n", order.len())),
        _ => ok(
            fmt,
            serde_json::json!({"count": order.len()}).to_string(),
            String::new(),
        ),
    }
}

/// `content=log`: each enrolment and each field change as REDCap's logging rows
/// (`timestamp`, `username`, `action`, `details`), oldest first, filtered by `user`,
/// `record`, `beginTime`, `endTime` (`YYYY-MM-DD HH:MM`).
pub(super) fn log(hub: &Hub, a: &Access, fmt: Fmt, p: &Params) -> Answer {
    let data = match visible_data(hub, a) {
        Ok(d) => d,
        Err(e) => return error(500, fmt, &e),
    };
    let stamp = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let mut rows: Vec<(String, String, String, String, String)> = Vec::new();
    for (s, forms) in &data {
        rows.push((
            stamp(&s.enrolled_at),
            s.enrolled_by.clone(),
            format!("Create record {}", s.record),
            format!("enrolled at {}", s.site),
            s.record.clone(),
        ));
        for d in forms {
            if !a.role.rights(&d.form).view {
                continue;
            }
            for h in &d.history {
                let mut details = format!("{} = '{}'", h.field, h.new);
                if let Some(r) = &h.reason {
                    details.push_str(&format!(" [reason: {r}]"));
                }
                rows.push((
                    stamp(&h.at),
                    h.user.clone(),
                    format!(
                        "Update record {} ({}, {} #{})",
                        d.record, d.event, d.form, d.instance
                    ),
                    details,
                    d.record.clone(),
                ));
            }
        }
    }
    rows.sort();
    let keep = |r: &(String, String, String, String, String)| {
        p.get("user").is_none_or(|u| u.is_empty() || r.1 == u)
            && p.get("record").is_none_or(|x| x.is_empty() || r.4 == x)
            && p.get("beginTime")
                .is_none_or(|t| t.is_empty() || r.0.as_str() >= &t[..t.len().min(16)])
            && p.get("endTime")
                .is_none_or(|t| t.is_empty() || r.0.as_str() <= &t[..t.len().min(16)])
    };
    let cols: Vec<String> = ["timestamp", "username", "action", "details"]
        .map(String::from)
        .to_vec();
    let out: Vec<Row> = rows
        .into_iter()
        .filter(keep)
        .map(|r| {
            Row::from([
                ("timestamp".to_owned(), r.0),
                ("username".to_owned(), r.1),
                ("action".to_owned(), r.2),
                ("details".to_owned(), r.3),
            ])
        })
        .collect();
    ok(fmt, flat::to_json(&cols, &out), flat::to_csv(&cols, &out))
}
