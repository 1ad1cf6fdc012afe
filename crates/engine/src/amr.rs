//! AMR over a site snapshot: reads the microbiology views into the amr crate's isolate records
//! and answers an antibiogram question with integer counts only.
//!
//! Tables read: `microbiology_isolate` (organism coding: SNOMED CT, AMR code, or name),
//! `microbiology_susceptibility` (one row per coding of the test code: the drug is found by its
//! ATC or LOINC coding; value, comparator, unit, the lab's S/I/R and guideline), and `specimen`
//! (its type, for the specimen filter). A susceptibility in `mm` (or with a disk-diffusion
//! method) is a zone; its disk's guideline is the lab's.

use crate::surveillance::TableSource;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate};
use kakehashi_amr::antibiogram::{Agreement, agreement, antibiogram};
use kakehashi_amr::value::{Cmp, Mic};
use kakehashi_amr::{
    AbId, AntibiogramCounts, AntibiogramSpec, Guideline, InfectionSite, Interpreter, Isolate,
    Measurement, MoId, Options, Reference, Sir, Test, Zone,
};
use kakehashi_model::View;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Errors of an AMR computation over a site.
#[derive(Debug, thiserror::Error)]
pub enum AmrEngineError {
    /// The table could not be read.
    #[error("reading table {view}: {source}")]
    Read {
        /// The table.
        view: View,
        /// Why.
        source: crate::surveillance::ScanError,
    },
    /// A column has a type that cannot be read as expected.
    #[error("table {view}, column {column}: {message}")]
    Column {
        /// The table.
        view: View,
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
    /// The question is invalid (unknown guideline, organism, drug...), or the reference tables
    /// could not be loaded.
    #[error(transparent)]
    Spec(#[from] kakehashi_amr::AmrError),
}

/// A site's isolates and what could not be used.
#[derive(Debug, Clone, Default)]
pub struct SiteIsolates {
    /// Isolates with a recognised organism, each with its tests.
    pub isolates: Vec<Isolate>,
    /// Isolate rows whose organism no coding identifies.
    pub unknown_organisms: u64,
    /// Susceptibility results whose drug no coding identifies.
    pub unknown_drugs: u64,
    /// Susceptibility results whose isolate is not in the isolate table.
    pub orphan_results: u64,
}

fn col_err(view: View, name: &str, e: impl std::fmt::Display) -> AmrEngineError {
    AmrEngineError::Column {
        view,
        column: name.into(),
        message: e.to_string(),
    }
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    b.schema().index_of(name).ok().map(|i| b.column(i))
}

fn strings(b: &RecordBatch, view: View, name: &str) -> Result<Option<ArrayRef>, AmrEngineError> {
    match column(b, name) {
        None => Ok(None),
        Some(a) if a.data_type() == &DataType::Utf8 => Ok(Some(a.clone())),
        Some(a) => cast(a, &DataType::Utf8)
            .map(Some)
            .map_err(|e| col_err(view, name, e)),
    }
}

fn str_at(a: &Option<ArrayRef>, i: usize) -> Option<&str> {
    let a = a.as_ref()?;
    let s = a.as_string::<i32>();
    (!s.is_null(i)).then(|| s.value(i))
}

fn floats(b: &RecordBatch, view: View, name: &str) -> Result<Option<ArrayRef>, AmrEngineError> {
    match column(b, name) {
        None => Ok(None),
        Some(a) => cast(a, &DataType::Float64)
            .map(Some)
            .map_err(|e| col_err(view, name, e)),
    }
}

fn dates(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<NaiveDate>>, AmrEngineError> {
    let n = b.num_rows();
    let Some(a) = column(b, name) else {
        return Ok(vec![None; n]);
    };
    if matches!(
        a.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        let s = cast(a, &DataType::Utf8).map_err(|e| col_err(view, name, e))?;
        let s = s.as_string::<i32>();
        return Ok((0..n)
            .map(|i| {
                (!s.is_null(i)).then(|| s.value(i)).and_then(|t| {
                    NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d").ok()
                })
            })
            .collect());
    }
    let a = match a.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => a.clone(),
        _ => cast(
            a,
            &DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
        )
        .map_err(|e| col_err(view, name, e))?,
    };
    let t = a.as_primitive::<TimestampMicrosecondType>();
    Ok((0..n)
        .map(|i| {
            (!t.is_null(i))
                .then(|| DateTime::from_timestamp_micros(t.value(i)).map(|d| d.date_naive()))
                .flatten()
        })
        .collect())
}

/// Streams a view's batches through `f`, turning read failures into [`AmrEngineError::Read`].
fn each(
    src: &dyn TableSource,
    view: View,
    cols: &[&str],
    f: impl FnMut(RecordBatch) -> Result<(), AmrEngineError>,
) -> Result<(), AmrEngineError> {
    crate::surveillance::each_batch(
        src,
        view,
        cols,
        None,
        |source| AmrEngineError::Read { view, source },
        f,
    )
}

/// Reads a site's isolates and their susceptibility results.
pub fn read_isolates(src: &dyn TableSource) -> Result<SiteIsolates, AmrEngineError> {
    let r = Reference::shared().map_err(kakehashi_amr::AmrError::from)?;
    let mut out = SiteIsolates::default();

    // specimen types
    let mut specimen_type: FxHashMap<String, String> = FxHashMap::default();
    each(src, View::Specimen, &["id", "type_code"], |b| {
        let (id, ty) = (
            strings(&b, View::Specimen, "id")?,
            strings(&b, View::Specimen, "type_code")?,
        );
        for i in 0..b.num_rows() {
            if let (Some(id), Some(t)) = (str_at(&id, i), str_at(&ty, i)) {
                specimen_type.insert(id.to_string(), t.to_lowercase());
            }
        }
        Ok(())
    })?;

    // isolates (one row per organism coding: the first that identifies an organism wins)
    let v = View::MicrobiologyIsolate;
    let mut index: FxHashMap<Box<str>, usize> = FxHashMap::default();
    let mut seen_unknown: FxHashSet<Box<str>> = FxHashSet::default();
    let mut organism_cache: FxHashMap<Box<str>, Option<MoId>> = FxHashMap::default();
    let mut find = |t: Option<&str>| -> Option<MoId> {
        let t = t?;
        if let Some(m) = organism_cache.get(t) {
            return *m;
        }
        let m = r.find_organism(t);
        organism_cache.insert(t.into(), m);
        m
    };
    each(
        src,
        v,
        &[
            "id",
            "patient_id",
            "specimen_id",
            "effective_date_time",
            "test_code",
            "organism_code",
            "organism_display",
        ],
        |b| {
            let id = strings(&b, v, "id")?;
            let pid = strings(&b, v, "patient_id")?;
            let sid = strings(&b, v, "specimen_id")?;
            let test = strings(&b, v, "test_code")?;
            let code = strings(&b, v, "organism_code")?;
            let disp = strings(&b, v, "organism_display")?;
            let when = dates(&b, v, "effective_date_time")?;
            for (i, when) in when.iter().enumerate().take(b.num_rows()) {
                let Some(key) = str_at(&id, i) else { continue };
                if index.contains_key(key) {
                    continue;
                }
                let Some(mo) = find(str_at(&code, i)).or_else(|| find(str_at(&disp, i))) else {
                    seen_unknown.insert(key.into());
                    continue;
                };
                let Some(date) = *when else { continue };
                seen_unknown.remove(key);
                let spec = str_at(&sid, i)
                    .and_then(|s| specimen_type.get(s).cloned())
                    .or_else(|| str_at(&test, i).map(str::to_lowercase));
                index.insert(key.into(), out.isolates.len());
                out.isolates.push(Isolate {
                    id: key.to_string(),
                    patient: str_at(&pid, i).unwrap_or("").to_string(),
                    date,
                    organism: mo,
                    specimen_type: spec,
                    tests: Vec::new(),
                });
            }
            Ok(())
        },
    )?;
    out.unknown_organisms = seen_unknown.len() as u64;

    // Susceptibility results: one row per coding of the test code, and a result's rows are
    // adjacent in a scan (a view writes all rows of a resource together, and a replaced
    // resource's new rows are again together), so each result is decided when its run of rows
    // ends, without a map over every result id. The drug is taken from the ATC coding when
    // there is one (it names the drug alone), else LOINC, else any other coding.
    let v = View::MicrobiologySusceptibility;
    let mut drug_cache: FxHashMap<Box<str>, Option<AbId>> = FxHashMap::default();
    let mut guideline_cache: FxHashMap<Box<str>, Option<Guideline>> = FxHashMap::default();
    // the run being read: its result id, and the best candidate so far (priority, isolate, test)
    let mut run_key = String::new();
    let mut run_best: Option<(u8, Option<usize>, Test)> = None;
    let mut run_unresolved = false;
    let finish = |best: Option<(u8, Option<usize>, Test)>,
                  unresolved: bool,
                  out: &mut SiteIsolates| match best {
        Some((_, Some(ix), t)) => out.isolates[ix].tests.push(t),
        Some((_, None, _)) => out.orphan_results += 1,
        None if unresolved => out.unknown_drugs += 1,
        None => {}
    };
    let cols = [
        "id",
        "isolate_id",
        "code_system",
        "code",
        "display",
        "value_quantity",
        "value_comparator",
        "value_unit",
        "value_ucum",
        "interpretation_code",
        "method_code",
        "guideline",
    ];
    each(src, v, &cols, |b| {
        let id = strings(&b, v, "id")?;
        let iso = strings(&b, v, "isolate_id")?;
        let system = strings(&b, v, "code_system")?;
        let code = strings(&b, v, "code")?;
        let display = strings(&b, v, "display")?;
        let value = floats(&b, v, "value_quantity")?;
        let value = value
            .as_ref()
            .map(|a| a.as_primitive::<Float64Type>().clone());
        let cmp = strings(&b, v, "value_comparator")?;
        let unit = strings(&b, v, "value_ucum")?;
        let unit_text = strings(&b, v, "value_unit")?;
        let interp = strings(&b, v, "interpretation_code")?;
        let method = strings(&b, v, "method_code")?;
        let guideline = strings(&b, v, "guideline")?;
        for i in 0..b.num_rows() {
            let Some(key) = str_at(&id, i) else { continue };
            if key != run_key {
                finish(run_best.take(), run_unresolved, &mut out);
                run_key.clear();
                run_key.push_str(key);
                run_unresolved = false;
            }
            let sys = str_at(&system, i).unwrap_or("");
            let prio = if sys == "http://www.whocc.no/atc" || sys.contains("whocc.no/atc") {
                0
            } else if sys.contains("loinc") {
                1
            } else {
                2
            };
            if run_best.as_ref().is_some_and(|(p, _, _)| *p <= prio) {
                continue;
            }
            let ab = str_at(&code, i).and_then(|c| match drug_cache.get(c) {
                Some(a) => *a,
                None => {
                    let a = r.find_antimicrobial(c);
                    drug_cache.insert(c.into(), a);
                    a
                }
            });
            let Some(ab) = ab.or_else(|| str_at(&display, i).and_then(|d| r.find_antimicrobial(d)))
            else {
                run_unresolved = true;
                continue;
            };
            let lab_guideline = str_at(&guideline, i).and_then(|g| match guideline_cache.get(g) {
                Some(x) => *x,
                None => {
                    let x = g.parse().ok();
                    guideline_cache.insert(g.into(), x);
                    x
                }
            });
            let u = str_at(&unit, i).or(str_at(&unit_text, i)).unwrap_or("");
            let is_zone = u == "mm"
                || str_at(&method, i).is_some_and(|m| {
                    m.as_bytes()
                        .windows(4)
                        .any(|w| w.eq_ignore_ascii_case(b"disk"))
                        || m == "424217001"
                        || m == "703515004"
                });
            let raw = value
                .as_ref()
                .and_then(|a| (!a.is_null(i)).then(|| a.value(i)));
            let measurement = raw.and_then(|x| {
                if is_zone {
                    Some(Measurement::Zone(
                        Zone { mm: x },
                        lab_guideline.map(|g| g.body),
                    ))
                } else {
                    let c = str_at(&cmp, i).and_then(Cmp::parse).unwrap_or(Cmp::Eq);
                    Mic::new(c, x).map(Measurement::Mic)
                }
            });
            let ix = str_at(&iso, i).and_then(|s| index.get(s)).copied();
            run_best = Some((
                prio,
                ix,
                Test {
                    ab,
                    value: measurement,
                    lab_sir: str_at(&interp, i).and_then(Sir::parse),
                    lab_guideline,
                },
            ));
        }
        Ok(())
    })?;
    finish(run_best.take(), run_unresolved, &mut out);
    Ok(out)
}

/// A site's answer to an antibiogram question: integer counts only (see
/// [`AntibiogramCounts`]). Every raw value is read again with the spec's guideline.
pub fn site_antibiogram(
    snap: &kakehashi_store::Snapshot,
    spec: &AntibiogramSpec,
) -> Result<AntibiogramCounts, AmrEngineError> {
    site_antibiogram_from(snap, spec)
}

/// [`site_antibiogram`] over any table source.
pub fn site_antibiogram_from(
    src: &dyn TableSource,
    spec: &AntibiogramSpec,
) -> Result<AntibiogramCounts, AmrEngineError> {
    let r = Reference::shared().map_err(kakehashi_amr::AmrError::from)?;
    spec.resolve(r)?;
    let interp = Interpreter::new(r, spec.guideline, Options::default())?;
    let site = read_isolates(src)?;
    Ok(antibiogram(&site.isolates, spec, &interp)?)
}

/// How re-reading a site's values with `guideline` agrees with the lab's own readings, over
/// the results the lab read with that same guideline (a site-internal quality check).
pub fn lab_agreement(
    src: &dyn TableSource,
    guideline: Guideline,
) -> Result<Agreement, AmrEngineError> {
    let interp = Interpreter::new(
        Reference::shared().map_err(kakehashi_amr::AmrError::from)?,
        guideline,
        Options::default(),
    )?;
    let site = read_isolates(src)?;
    Ok(agreement(
        &site.isolates,
        &interp,
        InfectionSite::Unspecified,
    ))
}
