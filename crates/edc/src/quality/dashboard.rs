//! The study dashboard: enrolment per site over time (cumulative, per calendar week), how
//! complete each form is, and the pending data queries by age and site.

use super::view::RecordView;
use crate::Study;
use crate::dictionary::FieldType;
use crate::entry::{DataQuery, FormData, FormStatus, QueryStatus, Subject, SubjectStatus};
use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// The query age bands, in days since a query was opened: 0–7, 8–14, 15–30, more than 30.
pub const AGE_BANDS: [&str; 4] = ["0-7", "8-14", "15-30", ">30"];

/// Cumulative enrolment of one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteEnrolment {
    /// The site (data access group).
    pub site: String,
    /// Subjects enrolled by the end of each week of [`Dashboard::weeks`].
    pub cumulative: Vec<u32>,
    /// Enrolled in all (withdrawn ones included).
    pub total: u32,
    /// Of them withdrawn.
    pub withdrawn: u32,
}

/// How far one form is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormCompleteness {
    /// The form.
    pub form: String,
    /// Instances expected: one per participating subject and event collecting the form (a
    /// repeating form: each saved instance, at least one).
    pub expected: u32,
    /// Expected but never saved.
    pub not_started: u32,
    /// Saved as incomplete.
    pub incomplete: u32,
    /// Saved as unverified.
    pub unverified: u32,
    /// Saved as complete.
    pub complete: u32,
    /// Of the saved ones, locked.
    pub locked: u32,
    /// Of the fields shown on saved instances, the share holding a value (a missing-data
    /// code counts); `None` when nothing is saved.
    pub filled: Option<f64>,
}

/// The pending queries of one site by age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryAges {
    /// The site.
    pub site: String,
    /// Open queries per age band ([`AGE_BANDS`]).
    pub open: [u32; 4],
    /// Answered (waiting for the monitor) per age band.
    pub answered: [u32; 4],
}

/// The dashboard of one study (or of the sites the viewer sees).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// The Mondays of the weeks from the first enrolment to `today`'s week.
    pub weeks: Vec<NaiveDate>,
    /// Per site, in the study's site order (sites without subjects included).
    pub enrolment: Vec<SiteEnrolment>,
    /// Per form, in the study's form order.
    pub completeness: Vec<FormCompleteness>,
    /// Per site with pending queries.
    pub queries: Vec<QueryAges>,
    /// Closed queries.
    pub closed: u32,
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The age band of a query opened `days` days ago.
pub fn age_band(days: i64) -> usize {
    match days {
        ..=7 => 0,
        8..=14 => 1,
        15..=30 => 2,
        _ => 3,
    }
}

/// Builds the dashboard from the subjects, their saved forms and the queries the viewer
/// sees; `today` ends the enrolment weeks and ages the queries. A subject counts from its
/// study's enrolment date field when entered, else from the day the hub received it.
pub fn dashboard(
    study: &Study,
    subjects: &[Subject],
    forms: &[FormData],
    queries: &[DataQuery],
    today: NaiveDate,
) -> Dashboard {
    let enrolled = |s: &Subject| -> NaiveDate {
        study
            .enrolment_date
            .as_deref()
            .and_then(|f| {
                forms
                    .iter()
                    .filter(|d| d.record == s.record)
                    .find_map(|d| d.values.get(f))
                    .and_then(|v| NaiveDate::parse_from_str(v.get(..10)?, "%Y-%m-%d").ok())
            })
            .unwrap_or_else(|| s.enrolled_at.date_naive())
    };
    let weeks: Vec<NaiveDate> = match subjects.iter().map(enrolled).min() {
        None => Vec::new(),
        Some(first) => {
            let (mut w, end) = (monday(first), monday(today.max(first)));
            let mut v = Vec::new();
            while w <= end {
                v.push(w);
                w = w + Days::new(7);
            }
            v
        }
    };
    let mut sites: Vec<String> = study.sites.iter().map(|s| s.dag.clone()).collect();
    for s in subjects {
        if !sites.contains(&s.site) {
            sites.push(s.site.clone());
        }
    }
    let enrolment = sites
        .iter()
        .map(|site| {
            let mine: Vec<&Subject> = subjects.iter().filter(|s| &s.site == site).collect();
            SiteEnrolment {
                site: site.clone(),
                cumulative: weeks
                    .iter()
                    .map(|w| {
                        let end = *w + Days::new(7);
                        mine.iter().filter(|s| enrolled(s) < end).count() as u32
                    })
                    .collect(),
                total: mine.len() as u32,
                withdrawn: mine
                    .iter()
                    .filter(|s| s.status == SubjectStatus::Withdrawn)
                    .count() as u32,
            }
        })
        .collect();
    Dashboard {
        weeks,
        enrolment,
        completeness: completeness(study, subjects, forms),
        queries: ages(queries, today),
        closed: queries
            .iter()
            .filter(|q| q.status == QueryStatus::Closed)
            .count() as u32,
    }
}

fn completeness(study: &Study, subjects: &[Subject], forms: &[FormData]) -> Vec<FormCompleteness> {
    let taking_part: Vec<&Subject> = subjects
        .iter()
        .filter(|s| s.status == SubjectStatus::Enrolled)
        .collect();
    let mut by_record: BTreeMap<&str, Vec<&FormData>> = BTreeMap::new();
    for d in forms {
        by_record.entry(d.record.as_str()).or_default().push(d);
    }
    let events: Vec<&str> = study.events().map(|e| e.unique_name.as_str()).collect();
    study
        .forms()
        .into_iter()
        .map(|form| {
            let mut c = FormCompleteness {
                form: form.into(),
                expected: 0,
                not_started: 0,
                incomplete: 0,
                unverified: 0,
                complete: 0,
                locked: 0,
                filled: None,
            };
            let (mut shown, mut filled) = (0u64, 0u64);
            // The record id field (the dictionary's first) is the record's name, not a value.
            let fields: Vec<_> = study
                .fields
                .iter()
                .skip(1)
                .filter(|f| {
                    f.form == form
                        && !matches!(f.field_type, FieldType::Descriptive | FieldType::Calc)
                })
                .collect();
            for s in &taking_part {
                let record = by_record
                    .get(s.record.as_str())
                    .map_or(&[][..], Vec::as_slice);
                for e in study.events().filter(|e| e.forms.iter().any(|f| f == form)) {
                    let saved: Vec<&&FormData> = record
                        .iter()
                        .filter(|d| d.event == e.unique_name && d.form == form)
                        .collect();
                    if saved.is_empty() {
                        c.expected += 1;
                        c.not_started += 1;
                        continue;
                    }
                    for d in saved {
                        c.expected += 1;
                        match d.status {
                            FormStatus::Incomplete => c.incomplete += 1,
                            FormStatus::Unverified => c.unverified += 1,
                            FormStatus::Complete => c.complete += 1,
                        }
                        c.locked += u32::from(d.lock.is_some());
                        let view = RecordView {
                            forms: record,
                            at: d,
                            events: &events,
                            now: chrono::NaiveDateTime::MIN,
                        };
                        for f in &fields {
                            if super::shown(f, &view) {
                                shown += 1;
                                filled += u64::from(!super::stored(f, d).is_empty());
                            }
                        }
                    }
                }
            }
            c.filled = (shown > 0).then(|| filled as f64 / shown as f64);
            c
        })
        .collect()
}

fn ages(queries: &[DataQuery], today: NaiveDate) -> Vec<QueryAges> {
    let mut by_site: BTreeMap<&str, QueryAges> = BTreeMap::new();
    for q in queries.iter().filter(|q| q.is_pending()) {
        let days = q
            .opened_at()
            .map_or(0, |at| (today - at.date_naive()).num_days());
        let a = by_site.entry(q.site.as_str()).or_insert_with(|| QueryAges {
            site: q.site.clone(),
            open: [0; 4],
            answered: [0; 4],
        });
        let band = age_band(days);
        if q.status == QueryStatus::Open {
            a.open[band] += 1;
        } else {
            a.answered[band] += 1;
        }
    }
    by_site.into_values().collect()
}
