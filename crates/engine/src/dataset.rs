//! Analysis datasets at a site: a cohort and declared variables
//! ([`kakehashi_stats::dataset::DatasetSpec`]) compiled against the site's snapshot into a
//! [`Frame`], one row per cohort patient with an index stay. The frame never leaves the
//! site: statistics tasks release only what `kakehashi_stats` computes from it, and
//! `kakehashi stats dataset` writes it for the steward.

mod tables;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use kakehashi_cohort::Query;
use kakehashi_model::View;
use kakehashi_model::coding::systems;
use kakehashi_stats::dataset::{DatasetSpec, Kind, Pick, Window, age_band_of};
use kakehashi_stats::{Column, Frame};
use kakehashi_store::Snapshot;
use std::collections::{HashMap, HashSet};
use tables::{Encounter, Rows};

/// Why a site cannot build a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The cohort could not be evaluated.
    #[error("cohort: {0}")]
    Cohort(#[from] crate::cohort::CohortError),
    /// A table could not be read.
    #[error("reading table {view}: {message}")]
    Read {
        /// The table.
        view: View,
        /// Why.
        message: String,
    },
}

/// A site's analysis dataset and how it came about.
#[derive(Debug, Clone)]
pub struct SiteDataset {
    /// One row per cohort patient with an index stay, columns named as declared.
    pub frame: Frame,
    /// Patients in the cohort.
    pub cohort_patients: u64,
    /// Cohort patients left out because no stay qualifies as their index stay.
    pub without_index_stay: u64,
    /// Cohort codes with no data at this site.
    pub unmapped: Vec<String>,
    /// Lab values left out because their unit does not convert to the declared one.
    pub unit_mismatches: u64,
    /// The patient key of each row, in the frame's order (stays at the site: the site's
    /// differencing rule fingerprints the rows an analysis uses).
    pub keys: Vec<String>,
}

/// Discharge dispositions meaning death: German Entlassungsgrund `07` (Tod), Japan's
/// `deceased`, HL7 `exp` (expired).
const DEATH_DISPOSITIONS: [&str; 3] = ["07", "deceased", "exp"];
/// The encounter type of an ICU stay (kontaktart-de, used by both countries).
const ICU_TYPE: &str = "intensivstationaer";

/// Builds the dataset of `cohort` and `spec` over a snapshot, with ages as of `today` for the
/// cohort's age criteria; `site` fills a `site` variable.
pub fn build(
    snap: &Snapshot,
    cohort: &Query,
    spec: &DatasetSpec,
    site: &str,
    today: NaiveDate,
) -> Result<SiteDataset, DatasetError> {
    let ix = crate::cohort::CohortIndex::open_with_patient_ids(snap)?;
    let (keys, count) = ix.matching_patients_as_of(cohort, today)?;
    drop(ix);
    let set: HashSet<String> = keys.iter().cloned().collect();
    let lab_codes = lab_codes(spec);
    let rows = tables::read(snap, &set, &lab_codes)?;
    let mut out = Builder::new(spec);
    let mut without_index_stay = 0;
    let mut unit_mismatches = 0;
    let mut row_keys = Vec::new();
    for key in &keys {
        let Some(stay) = index_stay(&rows, key, spec) else {
            without_index_stay += 1;
            continue;
        };
        unit_mismatches += out.row(&rows, key, &stay, spec, site);
        row_keys.push(key.clone());
    }
    Ok(SiteDataset {
        frame: out.finish(spec),
        cohort_patients: count.count,
        without_index_stay,
        unmapped: count.unmapped,
        unit_mismatches,
        keys: row_keys,
    })
}

/// The stored (system, code) pairs the lab variables read: each listed code, and its
/// JLAC10 ↔ LOINC counterparts.
fn lab_codes(spec: &DatasetSpec) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for v in &spec.variables {
        if let Kind::Lab { codes, .. } = &v.kind {
            for (s, c) in codes {
                out.extend(lab_equivalents(s, c));
            }
        }
    }
    out
}

fn lab_equivalents(system: &str, code: &str) -> Vec<(String, String)> {
    let mut out = vec![(system.to_owned(), code.to_owned())];
    if system == systems::LOINC {
        for j in kakehashi_terminology::lab::loinc_to_jlac10(code) {
            out.push((systems::JLAC10.to_owned(), j.clone()));
        }
    } else if system == systems::JLAC10
        && let Some(l) = kakehashi_terminology::lab::jlac10_to_loinc(code)
    {
        out.push((systems::LOINC.to_owned(), l.to_owned()));
    }
    out
}

/// The patient's index stay: the earliest top-level encounter of an allowed class (with a
/// diagnosis in the index patterns, linked to it or a stay within it, or with onset during
/// it) that has a start.
fn index_stay(rows: &Rows, key: &str, spec: &DatasetSpec) -> Option<Stay> {
    let encounters = rows.encounters.get(key)?;
    let mut best: Option<&Encounter> = None;
    for e in encounters {
        let (Some(start), Some(class)) = (e.start, e.class.as_deref()) else {
            continue;
        };
        if e.part_of.is_some() || !spec.index.classes.iter().any(|c| c == class) {
            continue;
        }
        if best.is_some_and(|b| b.start.is_some_and(|s| s <= start)) {
            continue;
        }
        if !spec.index_patterns.is_empty() {
            let within = within(encounters, &e.id);
            let dx = rows
                .diagnoses
                .get(key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let hit = dx.iter().any(|d| {
                let linked = d
                    .encounter
                    .as_ref()
                    .is_some_and(|x| within.contains(x.as_str()));
                let during = d
                    .time
                    .is_some_and(|t| t >= start && e.end.is_none_or(|end| t <= end));
                (linked || during) && spec.index_patterns.iter().any(|p| p.matches(&d.code))
            });
            if !hit {
                continue;
            }
        }
        best = Some(e);
    }
    let e = best?;
    Some(Stay {
        within: within(encounters, &e.id)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        encounter: e.clone(),
    })
}

/// The ids of an encounter and every encounter within it (through `partOf`, any depth).
fn within<'a>(encounters: &'a [Encounter], top: &'a str) -> HashSet<&'a str> {
    let mut set: HashSet<&str> = HashSet::from([top]);
    loop {
        let before = set.len();
        for e in encounters {
            if e.part_of.as_deref().is_some_and(|p| set.contains(p)) {
                set.insert(e.id.as_str());
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

struct Stay {
    encounter: Encounter,
    within: HashSet<String>,
}

impl Stay {
    fn start(&self) -> DateTime<Utc> {
        self.encounter.start.unwrap_or_default()
    }

    /// Whether `t` falls in the window around the start (days_after unset: until the end).
    fn in_window(&self, t: DateTime<Utc>, w: &Window) -> bool {
        let start = self.start();
        let from = w.days_before.map(|d| start - TimeDelta::days(i64::from(d)));
        let to = match w.days_after {
            Some(d) => Some(start + TimeDelta::days(i64::from(d))),
            None => Some(self.encounter.end.unwrap_or(start)),
        };
        from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u)
    }
}

/// Completed years from birth to `at`.
fn age(birth: NaiveDate, at: NaiveDate) -> f64 {
    let mut y = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    f64::from(y)
}

enum Values {
    Num(Vec<Option<f64>>),
    Fac(Vec<Option<String>>),
}

struct Builder {
    columns: Vec<Values>,
    by_name: HashMap<String, usize>,
}

impl Builder {
    fn new(spec: &DatasetSpec) -> Builder {
        Builder {
            columns: spec
                .variables
                .iter()
                .map(|v| {
                    if v.kind.is_factor() {
                        Values::Fac(Vec::new())
                    } else {
                        Values::Num(Vec::new())
                    }
                })
                .collect(),
            by_name: spec
                .variables
                .iter()
                .enumerate()
                .map(|(i, v)| (v.name.clone(), i))
                .collect(),
        }
    }

    /// Adds one patient's row; returns the lab values left out for their unit.
    fn row(&mut self, rows: &Rows, key: &str, stay: &Stay, spec: &DatasetSpec, site: &str) -> u64 {
        let patient = rows.patients.get(key).cloned().unwrap_or_default();
        let start = stay.start();
        let end = stay.encounter.end;
        let age_years = patient.birth.map(|b| age(b, start.date_naive()));
        let mut mismatches = 0;
        for (i, v) in spec.variables.iter().enumerate() {
            let level =
                |x: Option<String>| x.filter(|x| v.levels.as_ref().is_none_or(|l| l.contains(x)));
            let num: Option<f64>;
            let fac: Option<String>;
            match &v.kind {
                Kind::AgeAtIndex => (num, fac) = (age_years, None),
                Kind::AgeBand(b) => {
                    (num, fac) = (None, level(age_years.and_then(|a| age_band_of(b, a))))
                }
                Kind::Sex => (num, fac) = (None, level(patient.gender.clone())),
                Kind::Country => (num, fac) = (None, level(patient.country.clone())),
                Kind::Site => (num, fac) = (None, level(Some(site.to_owned()))),
                Kind::Condition { codes, window } => {
                    let hit = rows.diagnoses.get(key).into_iter().flatten().any(|d| {
                        d.time.is_some_and(|t| stay.in_window(t, window))
                            && codes.iter().any(|(_, p)| p.matches(&d.code))
                    });
                    (num, fac) = (Some(f64::from(u8::from(hit))), None);
                }
                Kind::Lab {
                    codes,
                    pick,
                    unit,
                    window,
                } => {
                    let wanted: HashSet<(String, String)> = codes
                        .iter()
                        .flat_map(|(s, c)| lab_equivalents(s, c))
                        .collect();
                    let mut found: Vec<(DateTime<Utc>, f64)> = Vec::new();
                    for l in rows.labs.get(key).into_iter().flatten() {
                        let Some(t) = l.time.filter(|t| stay.in_window(*t, window)) else {
                            continue;
                        };
                        if !wanted.contains(&l.code) {
                            continue;
                        }
                        let from = l.ucum.as_deref().or(l.unit.as_deref()).unwrap_or_default();
                        match kakehashi_terminology::ucum::convert(l.value, from, unit) {
                            Some(x) => found.push((t, x)),
                            None => mismatches += 1,
                        }
                    }
                    found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                    let x = match pick {
                        Pick::First => found.first().map(|f| f.1),
                        Pick::Last => found.last().map(|f| f.1),
                        Pick::Min => found.iter().map(|f| f.1).min_by(f64::total_cmp),
                        Pick::Max => found.iter().map(|f| f.1).max_by(f64::total_cmp),
                    };
                    (num, fac) = (x, None);
                }
                Kind::IcuStay => {
                    let icu = rows.encounters.get(key).into_iter().flatten().any(|e| {
                        stay.within.contains(&e.id) && e.types.iter().any(|t| t == ICU_TYPE)
                    });
                    (num, fac) = (Some(f64::from(u8::from(icu))), None);
                }
                Kind::LengthOfStay => {
                    (num, fac) = (
                        end.map(|e| (e - start).num_seconds() as f64 / 86_400.0),
                        None,
                    )
                }
                Kind::InHospitalDeath => {
                    let by_disposition = stay
                        .encounter
                        .disposition
                        .as_deref()
                        .is_some_and(|d| DEATH_DISPOSITIONS.contains(&d));
                    let by_date = patient.deceased.is_some_and(|d| {
                        d >= start && end.is_none_or(|e| d <= e + TimeDelta::days(1))
                    });
                    // a stay without an end and no death: the outcome is not known yet
                    let died = if by_disposition || by_date {
                        Some(1.0)
                    } else if end.is_some() {
                        Some(0.0)
                    } else {
                        None
                    };
                    (num, fac) = (died, None);
                }
                Kind::Log(of) => {
                    let x = match &self.columns[self.by_name[of]] {
                        Values::Num(v) => v.last().copied().flatten(),
                        Values::Fac(_) => None,
                    };
                    (num, fac) = (x.filter(|x| *x > 0.0).map(f64::ln), None);
                }
            }
            match &mut self.columns[i] {
                Values::Num(c) => c.push(num),
                Values::Fac(c) => c.push(fac),
            }
        }
        mismatches
    }

    fn finish(self, spec: &DatasetSpec) -> Frame {
        let mut f = Frame::new();
        for (v, c) in spec.variables.iter().zip(self.columns) {
            let col = match c {
                Values::Num(x) => Column::Numeric(x),
                Values::Fac(x) => Column::Factor(x),
            };
            // names are checked unique and columns are built row by row alike
            let _ = f.push(v.name.clone(), col);
        }
        f
    }
}

#[cfg(test)]
mod tests;
