//! The REDCap-compatible API, record part: `content=record` export (flat: `records[]`,
//! `fields[]`, `forms[]`, `events[]`, `filterLogic`, `rawOrLabel`,
//! `exportDataAccessGroups`; json or csv) and import (a `data` parameter:
//! `overwriteBehavior=normal|overwrite`, `returnContent=count|ids`; refused as a whole,
//! nothing stored, with REDCap's record/field/value wording), and `content=log` (the field
//! history and enrolments as REDCap's logging rows). The flat rows are `kakehashi_edc::flat`'s;
//! each form instance is changed through `edc::FormData::save` with the token user's rights
//! (the API and export or edit right on the form; their own site unless the role sees all).

mod import;

pub(super) use import::import;

use super::records::{Access, read_json, read_values};
use super::redcap::{Answer, Fmt, Params, error};
use crate::Hub;
use kakehashi_edc::entry::{FormData, Subject};
use kakehashi_edc::flat::{self, ExportOptions, FlatRecord, Row};
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
pub(crate) fn visible_data(hub: &Hub, a: &Access) -> Result<Vec<(Subject, Vec<FormData>)>, String> {
    visible_with(hub, a, |j| read_json(j).map_err(|e| e.message))
}

/// The subjects the token user sees, with their saved forms' values and status only (empty
/// history, no lock or signatures).
pub(crate) fn visible_values(
    hub: &Hub,
    a: &Access,
) -> Result<Vec<(Subject, Vec<FormData>)>, String> {
    visible_with(hub, a, |j| read_values(j).map_err(|e| e.message))
}

fn visible_with(
    hub: &Hub,
    a: &Access,
    read: impl Fn(&str) -> Result<FormData, String>,
) -> Result<Vec<(Subject, Vec<FormData>)>, String> {
    let all_forms: Vec<FormData> = hub
        .db
        .forms_of(&a.study.id, None)
        .map_err(|e| e.0)?
        .iter()
        .map(|j| read(j))
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
    let data = match visible_values(hub, a) {
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
