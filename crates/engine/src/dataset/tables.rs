//! The rows an analysis dataset reads, for the cohort's patients only: patients, encounters,
//! ICD-10 diagnoses and (when a lab variable asks) the labs of the listed codes.

use super::DatasetError;
use crate::surveillance::columns::{dates, floats, string_lists, strings, times};
use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_model::View;
use kakehashi_store::Snapshot;
use std::collections::{HashMap, HashSet};

/// A patient's facts.
#[derive(Debug, Clone, Default)]
pub(super) struct Patient {
    pub gender: Option<String>,
    pub birth: Option<NaiveDate>,
    pub country: Option<String>,
    pub deceased: Option<DateTime<Utc>>,
}

/// An encounter.
#[derive(Debug, Clone)]
pub(super) struct Encounter {
    pub id: String,
    pub class: Option<String>,
    pub types: Vec<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub disposition: Option<String>,
    pub part_of: Option<String>,
}

/// An ICD-10 diagnosis (code normalised).
#[derive(Debug, Clone)]
pub(super) struct Diagnosis {
    pub encounter: Option<String>,
    pub code: String,
    pub time: Option<DateTime<Utc>>,
}

/// A lab value with its UCUM unit.
#[derive(Debug, Clone)]
pub(super) struct Lab {
    /// `system|code` as stored.
    pub code: (String, String),
    pub time: Option<DateTime<Utc>>,
    pub value: f64,
    pub ucum: Option<String>,
    pub unit: Option<String>,
}

/// Everything a dataset reads, per patient key.
#[derive(Debug, Default)]
pub(super) struct Rows {
    pub patients: HashMap<String, Patient>,
    pub encounters: HashMap<String, Vec<Encounter>>,
    pub diagnoses: HashMap<String, Vec<Diagnosis>>,
    pub labs: HashMap<String, Vec<Lab>>,
}

fn each(
    snap: &Snapshot,
    view: View,
    columns: &[&str],
    mut f: impl FnMut(&RecordBatch) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    for b in snap.scan(view, Some(columns)) {
        let b = b.map_err(|e| DatasetError::Read {
            view,
            message: e.to_string(),
        })?;
        f(&b)?;
    }
    Ok(())
}

fn read_err(view: View) -> impl Fn(crate::surveillance::SurveillanceError) -> DatasetError {
    move |e| DatasetError::Read {
        view,
        message: e.to_string(),
    }
}

/// Reads the cohort's rows; `lab_codes` (stored `system|code` pairs, JLAC10 ones already
/// given with their LOINC targets by the caller) limits the observations read.
pub(super) fn read(
    snap: &Snapshot,
    cohort: &HashSet<String>,
    lab_codes: &HashSet<(String, String)>,
) -> Result<Rows, DatasetError> {
    let mut rows = Rows::default();
    let v = View::Patient;
    each(
        snap,
        v,
        &[
            "id",
            "gender",
            "birth_date",
            "address_country",
            "deceased_date_time",
        ],
        |b| {
            let id = strings(b, v, "id").map_err(read_err(v))?;
            let gender = strings(b, v, "gender").map_err(read_err(v))?;
            let birth = dates(b, v, "birth_date").map_err(read_err(v))?;
            let country = strings(b, v, "address_country").map_err(read_err(v))?;
            let deceased = times(b, v, "deceased_date_time").map_err(read_err(v))?;
            for i in 0..b.num_rows() {
                let Some(key) = id.value(i).filter(|k| cohort.contains(*k)) else {
                    continue;
                };
                rows.patients.insert(
                    key.to_owned(),
                    Patient {
                        gender: gender.value(i).map(str::to_owned),
                        birth: birth[i],
                        country: country.value(i).map(str::to_owned),
                        deceased: deceased[i],
                    },
                );
            }
            Ok(())
        },
    )?;
    let v = View::Encounter;
    each(
        snap,
        v,
        &[
            "id",
            "patient_id",
            "class_code",
            "type_codes",
            "period_start",
            "period_end",
            "discharge_disposition_code",
            "part_of_id",
        ],
        |b| {
            let id = strings(b, v, "id").map_err(read_err(v))?;
            let patient = strings(b, v, "patient_id").map_err(read_err(v))?;
            let class = strings(b, v, "class_code").map_err(read_err(v))?;
            let types = string_lists(b, v, "type_codes").map_err(read_err(v))?;
            let start = times(b, v, "period_start").map_err(read_err(v))?;
            let end = times(b, v, "period_end").map_err(read_err(v))?;
            let disposition = strings(b, v, "discharge_disposition_code").map_err(read_err(v))?;
            let part_of = strings(b, v, "part_of_id").map_err(read_err(v))?;
            for i in 0..b.num_rows() {
                let Some(p) = patient.value(i).filter(|k| cohort.contains(*k)) else {
                    continue;
                };
                rows.encounters
                    .entry(p.to_owned())
                    .or_default()
                    .push(Encounter {
                        id: id.value(i).unwrap_or_default().to_owned(),
                        class: class.value(i).map(str::to_owned),
                        types: types[i].clone(),
                        start: start[i],
                        end: end[i],
                        disposition: disposition.value(i).map(str::to_owned),
                        part_of: part_of.value(i).map(str::to_owned),
                    });
            }
            Ok(())
        },
    )?;
    let v = View::Condition;
    each(
        snap,
        v,
        &[
            "patient_id",
            "encounter_id",
            "code_system",
            "code",
            "onset_date_time",
            "recorded_date",
        ],
        |b| {
            let patient = strings(b, v, "patient_id").map_err(read_err(v))?;
            let encounter = strings(b, v, "encounter_id").map_err(read_err(v))?;
            let system = strings(b, v, "code_system").map_err(read_err(v))?;
            let code = strings(b, v, "code").map_err(read_err(v))?;
            let onset = times(b, v, "onset_date_time").map_err(read_err(v))?;
            let recorded = times(b, v, "recorded_date").map_err(read_err(v))?;
            for i in 0..b.num_rows() {
                let Some(p) = patient.value(i).filter(|k| cohort.contains(*k)) else {
                    continue;
                };
                if !system
                    .value(i)
                    .is_some_and(kakehashi_terminology::icd::is_icd10)
                {
                    continue;
                }
                let Some(c) = code.value(i) else { continue };
                rows.diagnoses
                    .entry(p.to_owned())
                    .or_default()
                    .push(Diagnosis {
                        encounter: encounter.value(i).map(str::to_owned),
                        code: kakehashi_stats::dataset::normalize_icd(c),
                        time: onset[i].or(recorded[i]),
                    });
            }
            Ok(())
        },
    )?;
    if lab_codes.is_empty() {
        return Ok(rows);
    }
    let v = View::Observation;
    each(
        snap,
        v,
        &[
            "patient_id",
            "code_system",
            "code",
            "effective_date_time",
            "value_quantity",
            "value_ucum",
            "value_unit",
        ],
        |b| {
            let patient = strings(b, v, "patient_id").map_err(read_err(v))?;
            let system = strings(b, v, "code_system").map_err(read_err(v))?;
            let code = strings(b, v, "code").map_err(read_err(v))?;
            let time = times(b, v, "effective_date_time").map_err(read_err(v))?;
            let value = floats(b, v, "value_quantity").map_err(read_err(v))?;
            let ucum = strings(b, v, "value_ucum").map_err(read_err(v))?;
            let unit = strings(b, v, "value_unit").map_err(read_err(v))?;
            for i in 0..b.num_rows() {
                let Some(p) = patient.value(i).filter(|k| cohort.contains(*k)) else {
                    continue;
                };
                let (Some(s), Some(c), Some(x)) = (system.value(i), code.value(i), value[i]) else {
                    continue;
                };
                let key = (s.to_owned(), c.to_owned());
                if !lab_codes.contains(&key) {
                    continue;
                }
                rows.labs.entry(p.to_owned()).or_default().push(Lab {
                    code: key,
                    time: time[i],
                    value: x,
                    ucum: ucum.value(i).map(str::to_owned),
                    unit: unit.value(i).map(str::to_owned),
                });
            }
            Ok(())
        },
    )?;
    Ok(rows)
}
