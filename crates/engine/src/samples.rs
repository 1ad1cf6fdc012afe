//! The sample locator over a site snapshot: which specimens of a cohort's patients meet the
//! specimen criteria, counted per collection of the site's catalogue and MIABIS material type,
//! clipped per donor ([`kakehashi_federation`]'s samples task states the caps; this crate
//! applies them and returns true counts that only the gate may release).
//!
//! Tables read (through DataFusion, [`crate::snapshot`]): `specimen` (one row per `type`
//! coding and processing step: collapsed per specimen, its storage taken from the step that
//! started last, its volume per aliquot from the first container's `specimenQuantity`, else
//! the collected quantity; available or status-less specimens only); for a window around a
//! diagnosis, `condition` (the first onset, else recorded date, of a code the window names,
//! per patient, across the ICD-10 family); for a window around a positive test, `observation`
//! (the first effective day of a result of that code read as positive). A specimen counts when it is a leaf (no other
//! specimen names it as parent: a primary sample split into aliquots counts as its aliquots),
//! as `aliquot_count` samples (1 when absent).

use crate::surveillance::{TableSource, each_batch};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate};
use datafusion::prelude::{col, lit};
use kakehashi_biobank::SpecimenCriteria;
use kakehashi_biobank::criteria::{Anchor, Candidate, TestCode, TestSystem, volume_ul};
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature, ValueSet, material_of_coding};
use kakehashi_model::View;
use kakehashi_terminology::lab;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A sample-locator computation that failed.
#[derive(Debug, thiserror::Error)]
pub enum SamplesError {
    /// A table could not be read.
    #[error("reading table {view}: {source}")]
    Read {
        /// The table.
        view: View,
        /// Why.
        source: crate::surveillance::ScanError,
    },
    /// A column could not be read as its type.
    #[error("table {view}, column {column}: {message}")]
    Column {
        /// The table.
        view: View,
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
}

/// One specimen, its codings collapsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecimenRecord {
    /// Its key.
    pub id: String,
    /// The donor.
    pub patient: String,
    /// The MIABIS material of its first coding that has one.
    pub material: Option<MaterialType>,
    /// Collection day.
    pub collected: Option<NaiveDate>,
    /// Current storage range (of the processing step that started last).
    pub storage: Option<StorageTemperature>,
    /// When that step started (µs since the epoch), if dated.
    pub storage_since: Option<i64>,
    /// Samples it stands for (an aliquot group's count, else 1).
    pub aliquots: u64,
    /// Volume per aliquot in microlitres, when recorded in a volume unit.
    pub volume_ul: Option<u64>,
    /// The managing organisation (a collection id of the catalogue, or not).
    pub organisation: Option<String>,
    /// Its parent specimen.
    pub parent: Option<String>,
}

/// One cell of true counts: collection × material, donors and clipped samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// A catalogue collection id, or `-`.
    pub collection: String,
    /// A MIABIS material code, or `-`.
    pub material: String,
    /// Distinct donors.
    pub donors: u64,
    /// Samples, at most `max_samples` per donor.
    pub samples: u64,
}

/// Per-donor caps.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Cells one donor counts in.
    pub cells: u32,
    /// Samples one donor adds to one cell.
    pub samples: u32,
}

fn col_err(view: View, column: &str, e: impl std::fmt::Display) -> SamplesError {
    SamplesError::Column {
        view,
        column: column.into(),
        message: e.to_string(),
    }
}

fn as_type(
    b: &RecordBatch,
    view: View,
    name: &str,
    t: &DataType,
) -> Result<Option<ArrayRef>, SamplesError> {
    match b.column_by_name(name) {
        None => Ok(None),
        Some(a) if a.data_type() == t => Ok(Some(a.clone())),
        Some(a) => cast(a, t).map(Some).map_err(|e| col_err(view, name, e)),
    }
}

fn text(a: &Option<ArrayRef>, i: usize) -> Option<&str> {
    let a = a.as_ref()?;
    (!a.is_null(i)).then(|| a.as_string::<i32>().value(i))
}

fn number(a: &Option<ArrayRef>, i: usize) -> Option<f64> {
    let a = a.as_ref()?;
    (!a.is_null(i)).then(|| a.as_primitive::<Float64Type>().value(i))
}

fn day(a: &Option<ArrayRef>, i: usize) -> Option<NaiveDate> {
    let a = a.as_ref()?;
    if a.is_null(i) {
        return None;
    }
    DateTime::from_timestamp_micros(a.as_primitive::<TimestampMicrosecondType>().value(i))
        .map(|d| d.date_naive())
}

fn micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")))
}

/// The storage range of a measured low/high pair (their middle).
fn storage(low: Option<f64>, high: Option<f64>) -> Option<StorageTemperature> {
    let c = match (low, high) {
        (Some(l), Some(h)) => (l + h) / 2.0,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return None,
    };
    StorageTemperature::of_celsius(c)
}

/// Reads the available specimens of `patients` (all patients when `None`).
pub fn read_specimens(
    src: &dyn TableSource,
    patients: Option<&HashSet<String>>,
) -> Result<Vec<SpecimenRecord>, SamplesError> {
    let v = View::Specimen;
    let cols = [
        "id",
        "patient_id",
        "status",
        "type_system",
        "type_code",
        "collected_date_time",
        "storage_temperature_low",
        "storage_temperature_high",
        "aliquot_count",
        "managing_organization_id",
        "parent_id",
        "processing_start",
        "container_quantity_value",
        "container_quantity_unit",
        "quantity_value",
        "quantity_unit",
    ];
    let keep = col("status")
        .is_null()
        .or(col("status").eq(lit("available")));
    let mut by_id: BTreeMap<String, SpecimenRecord> = BTreeMap::new();
    let utf8 = DataType::Utf8;
    each_batch(
        src,
        v,
        &cols,
        Some(&keep),
        |source| SamplesError::Read { view: v, source },
        |b| {
            let s = |n: &str| as_type(&b, v, n, &utf8);
            let f = |n: &str| as_type(&b, v, n, &DataType::Float64);
            let (id, pid, status, sys, code, org, parent) = (
                s("id")?,
                s("patient_id")?,
                s("status")?,
                s("type_system")?,
                s("type_code")?,
                s("managing_organization_id")?,
                s("parent_id")?,
            );
            let (low, high, count) = (
                f("storage_temperature_low")?,
                f("storage_temperature_high")?,
                f("aliquot_count")?,
            );
            let (cq, cu, q, qu) = (
                f("container_quantity_value")?,
                s("container_quantity_unit")?,
                f("quantity_value")?,
                s("quantity_unit")?,
            );
            let when = as_type(&b, v, "collected_date_time", &micros())?;
            let step = as_type(&b, v, "processing_start", &micros())?;
            for i in 0..b.num_rows() {
                let (Some(id), Some(p)) = (text(&id, i), text(&pid, i)) else {
                    continue;
                };
                if text(&status, i).is_some_and(|s| s != "available") {
                    continue;
                }
                if patients.is_some_and(|ps| !ps.contains(p)) {
                    continue;
                }
                let material = match (text(&sys, i), text(&code, i)) {
                    (Some(s), Some(c)) => material_of_coding(s, c),
                    _ => None,
                };
                let rec = by_id
                    .entry(id.to_owned())
                    .or_insert_with(|| SpecimenRecord {
                        id: id.to_owned(),
                        patient: p.to_owned(),
                        material: None,
                        collected: day(&when, i),
                        storage: None,
                        storage_since: None,
                        aliquots: number(&count, i)
                            .filter(|n| n.is_finite() && *n >= 1.0)
                            .map_or(1, |n| n.min(1e6) as u64),
                        organisation: text(&org, i).map(str::to_owned),
                        parent: text(&parent, i).map(str::to_owned),
                        volume_ul: None,
                    });
                if rec.volume_ul.is_none() {
                    let of = |v: &Option<ArrayRef>, u: &Option<ArrayRef>| {
                        number(v, i)
                            .zip(text(u, i))
                            .and_then(|(v, u)| volume_ul(v, u))
                    };
                    rec.volume_ul = of(&cq, &cu).or_else(|| of(&q, &qu));
                }
                if rec.material.is_none() {
                    rec.material = material;
                }
                // the current storage: the step that started last (in order when undated)
                let start = step.as_ref().and_then(|a| {
                    (!a.is_null(i)).then(|| a.as_primitive::<TimestampMicrosecondType>().value(i))
                });
                // (the MII profile requires a storage step's start)
                if start >= rec.storage_since {
                    rec.storage_since = start;
                    rec.storage = storage(number(&low, i), number(&high, i));
                }
            }
            Ok(())
        },
    )?;
    Ok(by_id.into_values().collect())
}

/// The first day each patient has a diagnosis the window's code covers (ICD-10 family).
pub fn first_diagnoses(
    src: &dyn TableSource,
    code: &kakehashi_biobank::icd10::Icd10,
    patients: &HashSet<String>,
) -> Result<HashMap<String, NaiveDate>, SamplesError> {
    let v = View::Condition;
    let cols = [
        "patient_id",
        "code_system",
        "code",
        "onset_date_time",
        "recorded_date",
    ];
    let mut first: HashMap<String, NaiveDate> = HashMap::new();
    each_batch(
        src,
        v,
        &cols,
        None,
        |source| SamplesError::Read { view: v, source },
        |b| {
            let utf8 = DataType::Utf8;
            let pid = as_type(&b, v, "patient_id", &utf8)?;
            let sys = as_type(&b, v, "code_system", &utf8)?;
            let c = as_type(&b, v, "code", &utf8)?;
            let onset = as_type(&b, v, "onset_date_time", &micros())?;
            let recorded = as_type(&b, v, "recorded_date", &micros())?;
            for i in 0..b.num_rows() {
                let (Some(p), Some(s), Some(k)) = (text(&pid, i), text(&sys, i), text(&c, i))
                else {
                    continue;
                };
                if !patients.contains(p)
                    || !kakehashi_terminology::icd::is_icd10(s)
                    || !code.covers(k)
                {
                    continue;
                }
                let Some(d) = day(&onset, i).or_else(|| day(&recorded, i)) else {
                    continue;
                };
                first
                    .entry(p.to_owned())
                    .and_modify(|x| *x = (*x).min(d))
                    .or_insert(d);
            }
            Ok(())
        },
    )?;
    Ok(first)
}

/// The first day each patient has a result of `test` read as positive (effective day, UTC),
/// the test found under its LOINC and its JLAC10 codes alike.
pub fn first_positive_tests(
    src: &dyn TableSource,
    test: &TestCode,
    patients: &HashSet<String>,
) -> Result<HashMap<String, NaiveDate>, SamplesError> {
    let v = View::Observation;
    let cols = [
        "patient_id",
        "code_system",
        "code",
        "effective_date_time",
        "value_code",
        "interpretation_code",
        "value_string",
    ];
    // the test as coded in either system: a LOINC code also finds the JLAC10 codes the
    // terminology table maps to it, a JLAC10 code the LOINC code it maps to (and that code's
    // other JLAC10 codes), so one question finds the same test at German and Japanese sites
    let (mut loinc, mut jlac10): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    match test.system {
        TestSystem::Loinc => loinc.push(test.code.clone()),
        TestSystem::Jlac10 => {
            jlac10.push(test.code.clone());
            if let Some(l) = lab::jlac10_to_loinc(&test.code) {
                loinc.push(l.to_owned());
            }
        }
    }
    for l in &loinc {
        jlac10.extend(lab::loinc_to_jlac10(l).iter().cloned());
    }
    jlac10.sort();
    jlac10.dedup();
    let in_system = |system: TestSystem, codes: &[String]| {
        (!codes.is_empty()).then(|| {
            col("code_system")
                .eq(lit(system.uri()))
                .and(col("code").in_list(codes.iter().map(|c| lit(c.as_str())).collect(), false))
        })
    };
    let keep = in_system(TestSystem::Loinc, &loinc)
        .into_iter()
        .chain(in_system(TestSystem::Jlac10, &jlac10))
        .reduce(|a, b| a.or(b))
        .unwrap_or_else(|| lit(false));
    let mut first: HashMap<String, NaiveDate> = HashMap::new();
    each_batch(
        src,
        v,
        &cols,
        Some(&keep),
        |source| SamplesError::Read { view: v, source },
        |b| {
            let utf8 = DataType::Utf8;
            let s = |n: &str| as_type(&b, v, n, &utf8);
            let (pid, vc, interp, vs) = (
                s("patient_id")?,
                s("value_code")?,
                s("interpretation_code")?,
                s("value_string")?,
            );
            let at = as_type(&b, v, "effective_date_time", &micros())?;
            for i in 0..b.num_rows() {
                let Some(p) = text(&pid, i) else { continue };
                if !patients.contains(p) {
                    continue;
                }
                let result = kakehashi_surveillance::series::result_of(
                    text(&vc, i),
                    text(&interp, i),
                    text(&vs, i),
                );
                let (Some(true), Some(d)) = (result, day(&at, i)) else {
                    continue;
                };
                first
                    .entry(p.to_owned())
                    .and_modify(|x| *x = (*x).min(d))
                    .or_insert(d);
            }
            Ok(())
        },
    )?;
    Ok(first)
}

/// Counts the specimens of `cohort` that meet `criteria`, per catalogue collection
/// (`collections`; others under `-`) and material (`-` when unknown), clipped by `caps`.
/// Every returned cell has at least one donor.
pub fn site_samples(
    src: &dyn TableSource,
    cohort: &[String],
    criteria: &SpecimenCriteria,
    collections: &[String],
    caps: Caps,
) -> Result<Vec<Cell>, SamplesError> {
    let patients: HashSet<String> = cohort.iter().cloned().collect();
    let specimens = read_specimens(src, Some(&patients))?;
    let diagnosed = match criteria.window.as_ref().and_then(|w| w.anchor()) {
        Some(Anchor::Diagnosis(code)) => Some(first_diagnoses(src, code, &patients)?),
        Some(Anchor::PositiveTest(test)) => Some(first_positive_tests(src, test, &patients)?),
        None => None,
    };
    Ok(count(
        &specimens,
        diagnosed.as_ref(),
        criteria,
        collections,
        caps,
    ))
}

/// The counting itself, over records in memory; `diagnosed` holds each donor's anchor day
/// (first diagnosis or first positive test) when the criteria have a window.
pub fn count(
    specimens: &[SpecimenRecord],
    diagnosed: Option<&HashMap<String, NaiveDate>>,
    criteria: &SpecimenCriteria,
    collections: &[String],
    caps: Caps,
) -> Vec<Cell> {
    let parents: HashSet<&str> = specimens
        .iter()
        .filter_map(|s| s.parent.as_deref())
        .collect();
    let known: HashSet<&str> = collections.iter().map(String::as_str).collect();
    // donor → (collection, material) → samples
    let mut per_donor: BTreeMap<&str, BTreeMap<(String, String), u64>> = BTreeMap::new();
    for s in specimens {
        if parents.contains(s.id.as_str()) {
            continue;
        }
        let days = match (diagnosed, s.collected) {
            (Some(d), Some(c)) => d.get(&s.patient).map(|first| (c - *first).num_days()),
            _ => None,
        };
        let candidate = Candidate {
            material: s.material,
            storage: s.storage,
            days_from_anchor: days,
            volume_ul: s.volume_ul,
        };
        if !criteria.admits(&candidate) {
            continue;
        }
        let collection = match s.organisation.as_deref() {
            Some(o) if known.contains(o) => o.to_owned(),
            _ => "-".to_owned(),
        };
        let material = s.material.map_or("-", |m| m.code()).to_owned();
        *per_donor
            .entry(s.patient.as_str())
            .or_default()
            .entry((collection, material))
            .or_default() += s.aliquots;
    }
    let min = u64::from(criteria.min_aliquots.max(1));
    let mut cells: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (_, donor) in per_donor {
        for (key, n) in donor
            .into_iter()
            .filter(|(_, n)| *n >= min)
            .take(caps.cells as usize)
        {
            let c = cells.entry(key).or_default();
            c.0 += 1;
            c.1 += n.min(u64::from(caps.samples));
        }
    }
    cells
        .into_iter()
        .map(|((collection, material), (donors, samples))| Cell {
            collection,
            material,
            donors,
            samples,
        })
        .collect()
}

#[cfg(test)]
mod tests;
