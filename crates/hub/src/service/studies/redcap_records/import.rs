//! `content=record` with `data`: the import, all or nothing. The rows are read (JSON or
//! CSV), checked as a whole by `kakehashi_edc::flat::import`, new records checked (site-minted
//! pseudonyms, the user's own site unless the role sees all), each form instance saved
//! through `FormData::save_in` (logic reading the whole record) with the user's rights; any refusal answers 400 listing every
//! problem as REDCap words it and stores nothing; else one transaction writes it all.

use super::ok;
use crate::Hub;
use crate::db::{FormWrite, SubjectWrite, Written};
use crate::service::studies::records::{Access, read_json, read_values, to_json};
use crate::service::studies::redcap::{Answer, Fmt, Params, error};
use kakehashi_edc::entry::{FormData, FormKey, RecordContext, Subject, SubjectStatus, subject};
use kakehashi_edc::flat::{self, Overwrite, Row};
use std::collections::BTreeMap;

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
pub(in crate::service::studies) fn import(
    hub: &Hub,
    a: &Access,
    fmt: Fmt,
    data: &str,
    p: &Params,
) -> Answer {
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
    let mut saved: BTreeMap<String, Vec<FormData>> = BTreeMap::new();
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
        // the record as it will be: stored forms, then those imported before in this batch
        if !saved.contains_key(&k.record) {
            let mut forms = Vec::new();
            match hub.db.forms_of(&a.study.id, Some(&k.record)) {
                Ok(js) => {
                    for j in js {
                        match read_values(&j) {
                            Ok(d) => forms.push(d),
                            Err(e) => return error(500, fmt, &e.message),
                        }
                    }
                }
                Err(e) => return error(500, fmt, &e.0),
            }
            saved.insert(k.record.clone(), forms);
        }
        let record = saved.entry(k.record.clone()).or_default();
        let res = d.save_in(
            &RecordContext {
                fields: &a.study.fields,
                missing: &a.study.missing_codes,
                others: record,
            },
            &a.actor(&f.form),
            &f.changes,
            status,
            Some("REDCap API import"),
            now,
        );
        match res {
            Ok(_) => {
                record
                    .retain(|o| (&o.event, &o.form, o.instance) != (&d.event, &d.form, d.instance));
                record.push(d.clone());
                writes.push((d, stored));
            }
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
