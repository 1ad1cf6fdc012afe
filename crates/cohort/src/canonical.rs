//! The canonical form of a cohort query: every part that can change the count, and nothing
//! that cannot. The disclosure gate keys noise and budget on it (with the evaluation date,
//! snapshot and versions, `kakehashi_disclosure::key`), so two queries must give the same text
//! exactly when they count the same patients on every site's data.
//!
//! Dropped, because the engine never reads them: displays, ids, the query's form, the order of
//! criteria, groups and code lists (all sets), duplicates, the context's system and alias
//! (`Diagnose` = `Condition` = `diagnosis`), an attribute's system and alias, the systems of an
//! attribute's concepts, a `$lookup` or empty system of a selected value concept.
//!
//! Normalised, because the engine reads them the same way: criteria of an OR list that differ
//! only in their codes are one criterion with the union of the codes (a resource matching any
//! of the codes and every filter); an inclusion group that holds whenever another does is
//! dropped (a superset of another AND-ed OR group), as is an exclusion group that implies
//! another (a superset of another OR-ed AND group); a Patient criterion is its compiled
//! condition (age in years, the set of genders), so `216 mo` is `18 a` and `M` is `male`;
//! `-0` is `0`.

use crate::ccdl::{Criterion, Filter, Query, TermCode};
use crate::plan::{self, CritPlan};
use kakehashi_model::View;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The canonical text of a query.
pub fn query(q: &Query) -> String {
    let inclusion: Vec<Vec<String>> = q.inclusion.iter().map(|g| any_of(g)).collect();
    // exclusion: OR of AND groups; single-criterion groups form one OR list
    let (single, multi): (Vec<&Vec<Criterion>>, Vec<&Vec<Criterion>>) =
        q.exclusion.iter().partition(|g| g.len() == 1);
    let singles: Vec<Criterion> = single.into_iter().map(|g| g[0].clone()).collect();
    let mut exclusion: Vec<Vec<String>> = any_of(&singles).into_iter().map(|c| vec![c]).collect();
    exclusion.extend(multi.into_iter().map(|g| set(g.iter().map(crit))));
    json!({"inclusion": minimal(inclusion), "exclusion": minimal(exclusion)}).to_string()
}

/// Whether the query's count depends on the day it is evaluated (it has an age criterion).
pub fn depends_on_evaluation_date(q: &Query) -> bool {
    fn any(c: &Criterion) -> bool {
        plan::is_age(c)
            || c.attribute_filters.iter().any(|a| match &a.filter {
                Filter::Reference { criteria } => criteria.iter().any(any),
                _ => false,
            })
    }
    q.criteria().any(any)
}

/// Sorted, without duplicates.
fn set(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v.dedup();
    v
}

/// Groups that are sets of criteria, sorted, without duplicates, minus any group that is a
/// strict superset of another.
fn minimal(mut groups: Vec<Vec<String>>) -> Vec<Vec<String>> {
    groups.sort();
    groups.dedup();
    let keep: Vec<bool> = groups
        .iter()
        .map(|g| {
            !groups
                .iter()
                .any(|h| h.len() < g.len() && h.iter().all(|c| g.contains(c)))
        })
        .collect();
    groups
        .into_iter()
        .zip(keep)
        .filter_map(|(g, k)| k.then_some(g))
        .collect()
}

/// An OR list of criteria: criteria equal but for their codes merged, then as a set.
fn any_of(list: &[Criterion]) -> Vec<String> {
    let mut merged: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut out = Vec::new();
    for c in list {
        if mergeable(c) {
            merged
                .entry(crit_without_codes(c).to_string())
                .or_default()
                .extend(codes(&c.term_codes));
        } else {
            out.push(crit(c));
        }
    }
    for (rest, mut codes) in merged {
        codes.sort();
        codes.dedup();
        let mut v: Value = serde_json::from_str(&rest).unwrap_or(Value::Null);
        v["codes"] = json!(codes);
        out.push(v.to_string());
    }
    set(out.into_iter())
}

/// Criteria whose codes are alternatives of one resource match: not Patient criteria (their
/// codes say what is compared) and not consent (a combined code stands for several provisions).
fn mergeable(c: &Criterion) -> bool {
    plan::find_context(&c.context.code).is_some_and(|m| m.view != View::Consent)
}

/// (system, code) pairs, sorted, without duplicates.
fn codes(list: &[TermCode]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|t| (t.system.clone(), t.code.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn crit(c: &Criterion) -> String {
    if let Some(p) = patient(c) {
        return p.to_string();
    }
    let mut v = crit_without_codes(c);
    v["codes"] = json!(codes(&c.term_codes));
    v.to_string()
}

/// A Patient criterion as the engine evaluates it, if it compiles.
fn patient(c: &Criterion) -> Option<Value> {
    if !c.context.code.eq_ignore_ascii_case("Patient") {
        return None;
    }
    match plan::compile_criterion(c).ok()? {
        CritPlan::Age { cond, .. } => Some(json!({"age_years": cond})),
        CritPlan::Gender { allowed, .. } => Some(json!({"gender": allowed})),
        _ => None,
    }
}

fn crit_without_codes(c: &Criterion) -> Value {
    let context = context_key(&c.context.code);
    let attrs = set(c.attribute_filters.iter().map(|a| {
        let attribute = plan::find_context(&c.context.code)
            .and_then(|m| {
                m.attributes.iter().find(|am| {
                    am.codes
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(&a.attribute.code))
                })
            })
            .map(|am| format!("column:{}", am.column))
            .unwrap_or_else(|| a.attribute.code.to_lowercase());
        let filter = match &a.filter {
            // an attribute's concepts are matched by code alone
            Filter::Concept { concepts } => {
                json!({"concept": set(concepts.iter().map(|k| k.code.clone()))})
            }
            f => filter(f),
        };
        json!({"attribute": attribute, "filter": filter}).to_string()
    }));
    json!({
        "context": context,
        "value": c.value_filter.as_ref().map(filter),
        "attributes": attrs,
        "time": c.time_restriction,
    })
}

/// The context as the engine reads it: the first name of its mapping (`Patient` for patients),
/// else the name in lower case (a context this site does not know is refused anyway).
fn context_key(code: &str) -> String {
    if code.eq_ignore_ascii_case("Patient") {
        return "Patient".into();
    }
    plan::find_context(code)
        .map(|m| m.names[0].clone())
        .unwrap_or_else(|| code.to_lowercase())
}

fn filter(f: &Filter) -> Value {
    // -0 and 0 are the same bound
    let n = |x: f64| x + 0.0;
    match f {
        Filter::Concept { concepts } => {
            let mut c: Vec<(String, String)> = concepts
                .iter()
                .map(|k| {
                    let system = if k.system.contains("$lookup") {
                        String::new()
                    } else {
                        k.system.clone()
                    };
                    (system, k.code.clone())
                })
                .collect();
            c.sort();
            c.dedup();
            json!({"concept": c})
        }
        Filter::QuantityComparator {
            comparator,
            value,
            unit,
        } => json!({"comparator": comparator, "value": n(*value), "unit": unit}),
        Filter::QuantityRange { min, max, unit } => {
            json!({"min": n(*min), "max": n(*max), "unit": unit})
        }
        Filter::Reference { criteria } => json!({"reference": any_of(criteria)}),
    }
}

#[cfg(test)]
mod tests;
