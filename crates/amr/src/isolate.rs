//! Isolate records and first-isolate selection.

use crate::breakpoints::{Guideline, Measurement, Sir};
use crate::reference::{AbId, MoId};
use chrono::NaiveDate;

/// One susceptibility test of an isolate.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The drug.
    pub ab: AbId,
    /// The raw value (MIC or zone), if reported.
    pub value: Option<Measurement>,
    /// The lab's own reading.
    pub lab_sir: Option<Sir>,
    /// The guideline the lab read it with.
    pub lab_guideline: Option<Guideline>,
}

/// One isolate: an organism found in a patient's specimen, with its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Isolate {
    /// Isolate key (the isolate Observation, or the CSV row).
    pub id: String,
    /// Patient key.
    pub patient: String,
    /// Specimen date.
    pub date: NaiveDate,
    /// The organism (current name).
    pub organism: MoId,
    /// Specimen type: a SNOMED CT code or a short name (`blood`, `urine`), lower case.
    pub specimen_type: Option<String>,
    /// Susceptibility tests.
    pub tests: Vec<Test>,
}

/// Which isolates count in a cumulative antibiogram.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum FirstIsolateRule {
    /// Every isolate (no de-duplication; not recommended for antibiograms).
    All,
    /// CLSI M39: the first isolate of a species per patient per analysis period (the whole
    /// period, or each calendar year when the antibiogram is by year), whatever the specimen
    /// or the susceptibility result.
    #[default]
    M39,
    /// Episodes: the first isolate of a species per patient, then the next one at least
    /// `days` after the last counted isolate of that patient and species starts a new episode.
    Episode {
        /// The gap, in days, after which a new episode starts (e.g. 30 or 365).
        days: u32,
    },
}

/// Text that is not a first-isolate rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirstIsolateRuleError {
    /// `episode:` without a positive number of days.
    #[error(
        "first-isolate rule {text:?}: episode gap must be a positive number of days, e.g. episode:30"
    )]
    EpisodeDays {
        /// The text read.
        text: String,
    },
    /// No rule of that name.
    #[error("unknown first-isolate rule {text:?} (expected m39, all or episode:DAYS)")]
    Unknown {
        /// The text read.
        text: String,
    },
}

impl FirstIsolateRule {
    /// Parses `m39`, `all`, `episode:30`.
    pub fn parse(s: &str) -> Result<FirstIsolateRule, FirstIsolateRuleError> {
        let t = s.trim().to_lowercase();
        match t.as_str() {
            "m39" | "first" | "clsi" | "clsi-m39" => Ok(FirstIsolateRule::M39),
            "all" | "none" => Ok(FirstIsolateRule::All),
            _ => match t
                .strip_prefix("episode:")
                .or_else(|| t.strip_prefix("episode="))
            {
                Some(d) => d
                    .parse()
                    .ok()
                    .filter(|d| *d > 0)
                    .map(|days| FirstIsolateRule::Episode { days })
                    .ok_or_else(|| FirstIsolateRuleError::EpisodeDays { text: s.to_owned() }),
                None => Err(FirstIsolateRuleError::Unknown { text: s.to_owned() }),
            },
        }
    }
}

/// The isolates that count under `rule`, as indices into `isolates` in input order.
/// `period` gives each isolate's analysis period (e.g. its year, or 0 for one period).
/// Ties on the same day are broken by isolate key, so the choice does not depend on input
/// order.
pub fn first_isolates(
    isolates: &[Isolate],
    rule: FirstIsolateRule,
    period: impl Fn(&Isolate) -> i32,
) -> Vec<usize> {
    let refs: Vec<&Isolate> = isolates.iter().collect();
    select_first(&refs, rule, period)
}

/// [`first_isolates`] over references.
pub fn select_first(
    isolates: &[&Isolate],
    rule: FirstIsolateRule,
    period: impl Fn(&Isolate) -> i32,
) -> Vec<usize> {
    if rule == FirstIsolateRule::All {
        return (0..isolates.len()).collect();
    }
    // Sort on integer keys: patients numbered as first seen (one hash lookup per isolate
    // instead of string comparisons inside the sort; only grouping matters, not the order of
    // patients); the isolate id breaks exact ties.
    let mut number: rustc_hash::FxHashMap<&str, u32> = rustc_hash::FxHashMap::default();
    let mut keyed: Vec<(u32, MoId, NaiveDate, usize)> = Vec::with_capacity(isolates.len());
    for (i, x) in isolates.iter().enumerate() {
        let next = number.len() as u32;
        keyed.push((
            *number.entry(x.patient.as_str()).or_insert(next),
            x.organism,
            x.date,
            i,
        ));
    }
    keyed.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| isolates[a.3].id.cmp(&isolates[b.3].id))
    });
    let idx = keyed.into_iter().map(|k| k.3);
    let mut keep = Vec::new();
    let mut last: Option<(&str, MoId, i32, NaiveDate)> = None;
    for i in idx {
        let x: &Isolate = isolates[i];
        let p = period(x);
        let take = match (rule, last) {
            (_, None) => true,
            (_, Some((lp, lm, _, _))) if lp != x.patient || lm != x.organism => true,
            (FirstIsolateRule::M39, Some((_, _, lper, _))) => lper != p,
            (FirstIsolateRule::Episode { days }, Some((_, _, _, ld))) => {
                (x.date - ld).num_days() >= days as i64
            }
            (FirstIsolateRule::All, _) => true,
        };
        if take {
            keep.push(i);
            last = Some((&x.patient, x.organism, p, x.date));
        }
    }
    keep.sort_unstable();
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(id: &str, patient: &str, mo: u32, date: &str) -> Isolate {
        Isolate {
            id: id.into(),
            patient: patient.into(),
            date: date.parse().unwrap(),
            organism: MoId(mo),
            specimen_type: None,
            tests: vec![],
        }
    }

    #[test]
    fn m39_first_per_patient_species_period() {
        let v = vec![
            iso("a", "p1", 1, "2024-03-01"),
            iso("b", "p1", 1, "2024-01-10"), // earlier: this one is first
            iso("c", "p1", 2, "2024-03-01"), // other species
            iso("d", "p2", 1, "2024-03-01"), // other patient
            iso("e", "p1", 1, "2025-01-02"), // next year
        ];
        let one = first_isolates(&v, FirstIsolateRule::M39, |_| 0);
        assert_eq!(one, vec![1, 2, 3]);
        let yearly = first_isolates(&v, FirstIsolateRule::M39, |i| {
            chrono::Datelike::year(&i.date)
        });
        assert_eq!(yearly, vec![1, 2, 3, 4]);
        assert_eq!(first_isolates(&v, FirstIsolateRule::All, |_| 0).len(), 5);
    }

    #[test]
    fn episodes_restart_after_the_gap() {
        let v = vec![
            iso("a", "p1", 1, "2024-01-01"),
            iso("b", "p1", 1, "2024-01-20"), // 19 days: same episode
            iso("c", "p1", 1, "2024-01-31"), // 30 days after a: new episode
            iso("d", "p1", 1, "2024-02-15"), // 15 days after c
            iso("e", "p1", 1, "2024-03-01"), // 30 days after c
        ];
        assert_eq!(
            first_isolates(&v, FirstIsolateRule::Episode { days: 30 }, |_| 0),
            vec![0, 2, 4]
        );
        assert_eq!(
            first_isolates(&v, FirstIsolateRule::Episode { days: 365 }, |_| 0),
            vec![0]
        );
    }

    #[test]
    fn same_day_ties_do_not_depend_on_order() {
        let a = vec![
            iso("x2", "p", 1, "2024-01-01"),
            iso("x1", "p", 1, "2024-01-01"),
        ];
        let b = vec![a[1].clone(), a[0].clone()];
        let pick = |v: &Vec<Isolate>| {
            first_isolates(v, FirstIsolateRule::M39, |_| 0)
                .into_iter()
                .map(|i| v[i].id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&a), vec!["x1"]);
        assert_eq!(pick(&b), vec!["x1"]);
    }

    #[test]
    fn rule_parsing() {
        assert_eq!(
            FirstIsolateRule::parse("episode:30").unwrap(),
            FirstIsolateRule::Episode { days: 30 }
        );
        assert!(FirstIsolateRule::parse("episode:0").is_err());
        let e = FirstIsolateRule::parse("bogus").unwrap_err();
        assert_eq!(
            e,
            FirstIsolateRuleError::Unknown {
                text: "bogus".into()
            }
        );
        assert!(e.to_string().contains("bogus"), "{e}");
    }
}
