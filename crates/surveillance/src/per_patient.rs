//! Privacy per person in a released weekly series (`docs/privacy.md`).
//!
//! The unit of privacy is a patient. A released series counts **patients per week**, not
//! events: in a week, a patient adds at most 1 to `cases` (admitted that week with a stay that
//! meets the definition), to `icu` and `deaths` (such a stay with intensive care, ending in
//! death), and per pathogen to `{p}_tests` (tested that week) and `{p}_positives` (a positive
//! test that week), all in the stratum of the patient's first event of the week. And a patient
//! counts in at most `k` = [`SeriesSpec::max_weeks_per_patient`](crate::SeriesSpec) weeks of
//! the released range: the patient's earliest `k` weeks with an event.
//!
//! So removing one patient changes the released table by at most
//! [`sensitivity`]` = k × (3 + 2 × pathogens)` in L1, whatever the patient's number of
//! admissions and tests. Counting per patient-week rather than per test also keeps a multiplex
//! swab (influenza A and B, RSV and SARS-CoV-2 from one specimen) from being clipped: clipping
//! events at `k` per patient would drop most of a patient's panel (29 % of the tests of a
//! synthetic 12,000-patient site at `k = 2`), while `k` weeks drop only the weeks after the
//! patient's `k`-th (about 1 % of cases and tests at the default).

use std::collections::BTreeMap;

/// Weeks of one patient counted when a task does not say.
pub const DEFAULT_MAX_WEEKS_PER_PATIENT: u32 = 2;

/// The largest `max_weeks_per_patient` a task may ask for (the noise grows with it).
pub const MAX_WEEKS_PER_PATIENT_LIMIT: u32 = 52;

/// The name of the field, for errors.
pub const FIELD: &str = "max_weeks_per_patient";

/// Measures a patient can add 1 to in one week besides the pathogens': cases, ICU, deaths.
pub const CASE_MEASURES: u32 = 3;

/// Measures per pathogen a patient can add 1 to in one week: tests, positives.
pub const PATHOGEN_MEASURES: u32 = 2;

/// A `max_weeks_per_patient` outside 1 to [`MAX_WEEKS_PER_PATIENT_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{FIELD}: {}", self.problem())]
pub struct MaxWeeksError {
    /// The value asked for.
    pub value: i64,
}

impl MaxWeeksError {
    /// What is wrong, without the field's name.
    pub fn problem(&self) -> String {
        format!(
            "{} is not allowed; give a whole number from 1 to {MAX_WEEKS_PER_PATIENT_LIMIT} (default {DEFAULT_MAX_WEEKS_PER_PATIENT})",
            self.value
        )
    }
}

/// Checks a requested `max_weeks_per_patient`: a whole number from 1 to
/// [`MAX_WEEKS_PER_PATIENT_LIMIT`]. The error names the field.
pub fn check_max_weeks(k: i64) -> Result<u32, MaxWeeksError> {
    u32::try_from(k)
        .ok()
        .filter(|k| (1..=MAX_WEEKS_PER_PATIENT_LIMIT).contains(k))
        .ok_or(MaxWeeksError { value: k })
}

/// How many released counts (L1) one patient can change in a series counted per patient-week
/// with at most `k` weeks per patient.
pub fn sensitivity(k: u32, pathogens: usize) -> u32 {
    let p = u32::try_from(pathogens).unwrap_or(u32::MAX);
    k.saturating_mul(CASE_MEASURES.saturating_add(PATHOGEN_MEASURES.saturating_mul(p)))
}

/// What one patient adds to one week: 0 or 1 per measure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientWeek {
    /// The stratum (index) of the patient's first event of the week.
    pub stratum: usize,
    /// Admitted this week with a stay meeting the definition.
    pub case: bool,
    /// Such a stay in intensive care.
    pub icu: bool,
    /// Such a stay ending in death.
    pub died: bool,
    /// Per pathogen: tested this week.
    pub tested: Vec<bool>,
    /// Per pathogen: a positive test this week.
    pub positive: Vec<bool>,
}

/// One event of a patient, as the clipping sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An admission meeting the definition.
    Case {
        /// Cases in intensive care.
        icu: bool,
        /// Died during the stay.
        died: bool,
    },
    /// A pathogen test with a readable result.
    Test {
        /// Index of the pathogen in the panel.
        pathogen: usize,
        /// Positive.
        positive: bool,
    },
}

/// Folds events into patient-weeks and keeps each patient's `k` earliest weeks.
///
/// `events` are `(patient, week, time, stratum, event)`, in any order; the time orders a
/// patient's events within a week (ties: cases before tests, then pathogen order), and the
/// stratum of the first one is the patient-week's. Returns `(week, PatientWeek)` per kept
/// patient-week, ordered by patient and week.
pub fn patient_weeks<P: Ord + Clone, W: Ord + Copy, T: Ord + Copy>(
    events: impl IntoIterator<Item = (P, W, T, usize, Event)>,
    pathogens: usize,
    k: u32,
) -> Vec<(W, PatientWeek)> {
    let rank = |e: &Event| match e {
        Event::Case { .. } => 0,
        Event::Test { pathogen, .. } => 1 + *pathogen,
    };
    // per (patient, week): (time, tie rank, stratum, event)
    type Timed<T> = (T, usize, usize, Event);
    let mut by: BTreeMap<(P, W), Vec<Timed<T>>> = BTreeMap::new();
    for (p, w, t, s, e) in events {
        by.entry((p, w)).or_default().push((t, rank(&e), s, e));
    }
    let mut out = Vec::new();
    let mut current: Option<P> = None;
    let mut weeks_of_patient = 0u32;
    for ((p, w), mut evs) in by {
        if current.as_ref() != Some(&p) {
            current = Some(p.clone());
            weeks_of_patient = 0;
        }
        if weeks_of_patient >= k {
            continue;
        }
        weeks_of_patient += 1;
        evs.sort_by_key(|e| (e.0, e.1));
        let mut pw = PatientWeek {
            stratum: evs[0].2,
            tested: vec![false; pathogens],
            positive: vec![false; pathogens],
            ..PatientWeek::default()
        };
        for (_, _, _, e) in evs {
            match e {
                Event::Case { icu, died } => {
                    pw.case = true;
                    pw.icu |= icu;
                    pw.died |= died;
                }
                Event::Test { pathogen, positive } => {
                    if let Some(t) = pw.tested.get_mut(pathogen) {
                        *t = true;
                    }
                    if positive && let Some(x) = pw.positive.get_mut(pathogen) {
                        *x = true;
                    }
                }
            }
        }
        out.push((w, pw));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(icu: bool, died: bool) -> Event {
        Event::Case { icu, died }
    }

    fn test(pathogen: usize, positive: bool) -> Event {
        Event::Test { pathogen, positive }
    }

    #[test]
    fn a_patient_counts_once_per_week_and_in_k_weeks() {
        // patient "a": week 1 a case and three tests (influenza twice, one positive), week 2 a
        // test, week 5 a second case; patient "b": one test in week 2
        let ev = vec![
            ("a", 5, 50, 1, case(true, true)),
            ("a", 1, 12, 0, test(0, false)),
            ("a", 1, 10, 0, case(false, false)),
            ("a", 1, 13, 1, test(0, true)), // a birthday: still the week's first stratum
            ("a", 1, 11, 0, test(2, false)),
            ("a", 2, 20, 0, test(1, true)),
            ("b", 2, 21, 3, test(1, false)),
        ];
        let all = patient_weeks(ev.clone(), 3, 10);
        assert_eq!(all.len(), 4);
        let w1 = &all[0];
        assert_eq!(w1.0, 1);
        assert_eq!(
            w1.1,
            PatientWeek {
                stratum: 0,
                case: true,
                icu: false,
                died: false,
                tested: vec![true, false, true],
                positive: vec![true, false, false],
            }
        );
        assert_eq!(all[2].0, 5);
        assert!(all[2].1.case && all[2].1.icu && all[2].1.died && all[2].1.stratum == 1);
        // k = 2: "a" keeps weeks 1 and 2, loses week 5; "b" keeps its week
        let two = patient_weeks(ev.clone(), 3, 2);
        let weeks: Vec<i32> = two.iter().map(|x| x.0).collect();
        assert_eq!(weeks, vec![1, 2, 2]);
        // k = 1: only the earliest week
        let one = patient_weeks(ev, 3, 1);
        assert_eq!(one.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn ties_do_not_depend_on_input_order() {
        let ev = vec![
            ("a", 1, 10, 4, test(1, true)),
            ("a", 1, 10, 2, case(false, false)),
        ];
        let mut rev = ev.clone();
        rev.reverse();
        let x = patient_weeks(ev, 2, 1);
        assert_eq!(x, patient_weeks(rev, 2, 1));
        assert_eq!(x[0].1.stratum, 2, "at equal times the case comes first");
    }

    #[test]
    fn the_field_is_checked_and_named() {
        assert_eq!(check_max_weeks(1), Ok(1));
        assert_eq!(
            check_max_weeks(i64::from(MAX_WEEKS_PER_PATIENT_LIMIT)),
            Ok(MAX_WEEKS_PER_PATIENT_LIMIT)
        );
        for bad in [0, -3, i64::from(MAX_WEEKS_PER_PATIENT_LIMIT) + 1] {
            let e = check_max_weeks(bad).unwrap_err();
            assert_eq!(e.value, bad);
            let e = e.to_string();
            assert!(e.starts_with(FIELD) && e.contains(&bad.to_string()), "{e}");
        }
        assert_eq!(sensitivity(1, 3), 9);
        assert_eq!(sensitivity(2, 3), 18);
        assert_eq!(sensitivity(u32::MAX, 3), u32::MAX);
    }
}
