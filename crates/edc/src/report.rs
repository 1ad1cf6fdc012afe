//! What the studies did in a span of time, for the partnership's activity report: which
//! started (their first activation at a site, or the day an active study was created), and
//! whom they enrolled and withdrew, per study and per site country.

use crate::entry::{Subject, SubjectStatus};
use crate::{Study, StudyStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One study's line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyLine {
    /// Its id.
    pub id: String,
    /// Its acronym.
    pub acronym: String,
    /// Its title.
    pub title: String,
    /// Its status now (`draft`, `sleeping`, `active`, `closed`).
    pub status: &'static str,
    /// When it started collecting: its first activation, else (an active or closed study
    /// without recorded activations) the day it was created at the hub.
    pub started: Option<DateTime<Utc>>,
    /// Whether it started within the span.
    pub started_in_span: bool,
    /// Subjects enrolled within the span.
    pub enrolled: usize,
    /// Of those, per country of their site (ISO 3166-1 alpha-2), by country.
    pub enrolled_by_country: Vec<(String, usize)>,
    /// Subjects enrolled up to the end of the span.
    pub enrolled_to_date: usize,
    /// Subjects withdrawn within the span.
    pub withdrawn: usize,
    /// Sites collecting now.
    pub active_sites: usize,
}

/// A study as the report reads it: its definition, when it was created at the hub, and its
/// subjects.
#[derive(Debug, Clone)]
pub struct StudyFacts {
    /// The definition (status, sites, activations).
    pub study: Study,
    /// When the hub created it.
    pub created: Option<DateTime<Utc>>,
    /// Its subjects.
    pub subjects: Vec<Subject>,
}

/// The lines of `studies` for the span `from` (inclusive) to `to` (exclusive): studies that never collected (draft,
/// sleeping) are listed too, with no start, so the report shows what stands ready.
pub fn activity(studies: &[StudyFacts], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<StudyLine> {
    let within = |t: DateTime<Utc>| from <= t && t < to;
    studies
        .iter()
        .map(|f| {
            let (s, created, subjects) = (&f.study, &f.created, &f.subjects);
            let started = s.activations.iter().map(|a| a.at).min().or_else(|| {
                matches!(s.status, StudyStatus::Active | StudyStatus::Closed)
                    .then_some(*created)
                    .flatten()
            });
            let country = |dag: &str| {
                s.sites
                    .iter()
                    .find(|x| x.dag == dag)
                    .map_or_else(|| "-".to_owned(), |x| x.country.clone())
            };
            let mut by_country: BTreeMap<String, usize> = BTreeMap::new();
            let mut enrolled = 0;
            for x in subjects.iter().filter(|x| within(x.enrolled_at)) {
                enrolled += 1;
                *by_country.entry(country(&x.site)).or_default() += 1;
            }
            StudyLine {
                id: s.id.clone(),
                acronym: s.acronym.clone(),
                title: s.title.clone(),
                status: s.status.as_str(),
                started,
                started_in_span: started.is_some_and(within),
                enrolled,
                enrolled_by_country: by_country.into_iter().collect(),
                enrolled_to_date: subjects.iter().filter(|x| x.enrolled_at < to).count(),
                withdrawn: subjects
                    .iter()
                    .filter(|x| {
                        x.status == SubjectStatus::Withdrawn
                            && x.withdrawal.as_ref().is_some_and(|w| within(w.at))
                    })
                    .count(),
                active_sites: s.active_sites().len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Withdrawal;
    use crate::study::Site;
    use chrono::TimeZone;

    fn day(m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap()
    }

    fn subject(site: &str, at: DateTime<Utc>, withdrawn: Option<DateTime<Utc>>) -> Subject {
        Subject {
            record: "r".into(),
            site: site.into(),
            enrolled_at: at,
            enrolled_by: "site:x".into(),
            status: if withdrawn.is_some() {
                SubjectStatus::Withdrawn
            } else {
                SubjectStatus::Enrolled
            },
            withdrawal: withdrawn.map(|at| Withdrawal {
                by: "dm".into(),
                at,
                reason: "consent withdrawn".into(),
            }),
        }
    }

    #[test]
    fn a_year_counts_starts_enrolment_per_country_and_withdrawals_within_it() {
        let mut s = crate::arc::registry::vhf_study().unwrap();
        s.sites = vec![
            Site {
                dag: "de_berlin".into(),
                name: "B".into(),
                country: "DE".into(),
            },
            Site {
                dag: "jp_tokyo".into(),
                name: "T".into(),
                country: "JP".into(),
            },
        ];
        s.status = StudyStatus::Active;
        let subjects = vec![
            subject("de_berlin", day(3, 1), None),
            subject("de_berlin", day(5, 1), Some(day(6, 1))),
            subject("jp_tokyo", day(5, 2), None),
            subject("jp_tokyo", day(9, 2), None),
        ];
        let mut sleeping = s.clone();
        sleeping.id = "outbreak".into();
        sleeping.status = StudyStatus::Sleeping;
        let lines = activity(
            &[
                StudyFacts {
                    study: s,
                    created: Some(day(4, 15)),
                    subjects,
                },
                StudyFacts {
                    study: sleeping,
                    created: Some(day(1, 2)),
                    subjects: vec![],
                },
            ],
            day(4, 15),
            day(9, 1),
        );
        let l = &lines[0];
        assert_eq!(l.started, Some(day(4, 15)));
        assert!(l.started_in_span);
        assert_eq!((l.enrolled, l.enrolled_to_date, l.withdrawn), (2, 3, 1));
        assert_eq!(
            l.enrolled_by_country,
            [("DE".to_string(), 1), ("JP".to_string(), 1)]
        );
        assert_eq!(l.active_sites, 2);
        let o = &lines[1];
        assert_eq!((o.status, o.started, o.enrolled), ("sleeping", None, 0));
    }
}
