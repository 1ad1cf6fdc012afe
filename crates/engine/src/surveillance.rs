//! Surveillance over a site snapshot: weekly series from encounters, diagnoses and labs.
//!
//! Reads the four tables a series needs (patient, encounter, condition, observation) as Arrow
//! record batches, keeps only the rows the case definition and the pathogen panel can use
//! (ICD-10 codes under the definition's prefixes; observation codes the definition or the panel
//! names), and hands them to `kakehashi_surveillance` as plain rows. The projection and the
//! code filter happen while the batches stream past, so a million-patient site is read once
//! and only the relevant rows are materialised.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::functions::expr_fn::{regexp_like, starts_with};
use datafusion::prelude::{Expr, col, lit};
use kakehashi_model::{Country, View, systems};
use kakehashi_surveillance::PathogenPanel;
use kakehashi_surveillance::definition::{CaseDefinition, normalize_icd};
use kakehashi_surveillance::series::{
    self, DiagnosisRow, EncounterRow, ICD10_SYSTEMS, ObservationRow, PatientRow, Series,
    SeriesSpec, SiteRows,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Errors of a surveillance run over a site.
#[derive(Debug, thiserror::Error)]
pub enum SurveillanceError {
    /// The table could not be read.
    #[error("reading table {view}: {message}")]
    Read {
        /// The table.
        view: View,
        /// Why.
        message: String,
    },
    /// A column is missing or has a type that cannot be read as expected.
    #[error("table {view}, column {column}: {message}")]
    Column {
        /// The table.
        view: View,
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
    /// The site's country could not be told.
    #[error(
        "cannot tell the site's country (no patient address country, no ICD-10-GM or JP ICD-10 codes); pass it explicitly"
    )]
    UnknownCountry,
}

/// Where a series reads its tables from: the site store, or batches held in memory.
pub trait TableSource {
    /// All record batches of a view, with at least the named columns.
    fn scan(&self, view: View, columns: &[&str]) -> Result<Vec<RecordBatch>, String>;

    /// The same batches one at a time, so a large view need not sit in memory at once. The
    /// default collects [`Self::scan`]; a store streams.
    fn scan_each(
        &self,
        view: View,
        columns: &[&str],
        f: &mut dyn FnMut(RecordBatch) -> Result<(), String>,
    ) -> Result<(), String> {
        for b in self.scan(view, columns)? {
            f(b)?;
        }
        Ok(())
    }

    /// [`Self::scan_each`], where the source may leave out rows for which `keep` is not true
    /// while it reads (a store evaluates it inside the Parquet decoder). It is only a hint: the
    /// caller still checks every row it gets, so `keep` must hold for every row the caller would
    /// use, and a source that ignores it (the default) is correct, only slower. Rows may come in
    /// any order.
    fn scan_each_where(
        &self,
        view: View,
        columns: &[&str],
        keep: &Expr,
        f: &mut dyn FnMut(RecordBatch) -> Result<(), String>,
    ) -> Result<(), String> {
        let _ = keep;
        self.scan_each(view, columns, f)
    }
}

impl TableSource for HashMap<View, Vec<RecordBatch>> {
    fn scan(&self, view: View, _columns: &[&str]) -> Result<Vec<RecordBatch>, String> {
        Ok(self.get(&view).cloned().unwrap_or_default())
    }
}

impl TableSource for kakehashi_store::Snapshot {
    fn scan(&self, view: View, columns: &[&str]) -> Result<Vec<RecordBatch>, String> {
        kakehashi_store::Snapshot::scan(self, view, Some(columns))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }

    /// In file order (the AMR reader relies on a resource's rows being adjacent).
    fn scan_each(
        &self,
        view: View,
        columns: &[&str],
        f: &mut dyn FnMut(RecordBatch) -> Result<(), String>,
    ) -> Result<(), String> {
        for b in kakehashi_store::Snapshot::scan(self, view, Some(columns)) {
            f(b.map_err(|e| e.to_string())?)?;
        }
        Ok(())
    }

    /// Through DataFusion ([`crate::snapshot`]): both cores decode, and `keep` is evaluated
    /// inside the Parquet decoder, so the other columns are decoded only for the rows that pass.
    /// Rows do not come in file order.
    fn scan_each_where(
        &self,
        view: View,
        columns: &[&str],
        keep: &Expr,
        f: &mut dyn FnMut(RecordBatch) -> Result<(), String>,
    ) -> Result<(), String> {
        crate::snapshot::scan_view(self, view, columns, Some(keep.clone()), f)
            .map_err(|e| e.to_string())?
    }
}

/// A site's series and what went into it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SiteSeries {
    /// The series.
    pub series: Series,
    /// The site's country (given or inferred).
    pub country: Country,
    /// Patients in the site's patient table (the denominator of rates).
    pub patients: u64,
    /// Cases found.
    pub cases: u64,
    /// Tests with a readable result.
    pub tests: u64,
}

/// Computes a definition's weekly series over one site.
pub fn site_series(
    src: &dyn TableSource,
    site: &str,
    country: Option<Country>,
    def: &CaseDefinition,
    panel: &PathogenPanel,
    spec: &SeriesSpec,
) -> Result<SiteSeries, SurveillanceError> {
    let rows = site_rows(src, site, country, def, panel)?;
    let cases = series::find_cases(def, &rows);
    let tests = series::find_tests(panel, &rows);
    let mut s = series::weekly_series(def, panel, site, rows.country, &cases, &tests, spec);
    s.population = Some(rows.population);
    Ok(SiteSeries {
        series: s,
        country: rows.country,
        patients: rows.population,
        cases: cases.len() as u64,
        tests: tests.len() as u64,
    })
}

/// Calls `f` with each batch of a view as `src` streams them, stopping at the first error;
/// `read_failed` makes the error of a batch that could not be read. With `keep`, the source may
/// leave out rows for which it is not true ([`TableSource::scan_each_where`]).
pub(crate) fn each_batch<E>(
    src: &dyn TableSource,
    view: View,
    cols: &[&str],
    keep: Option<&Expr>,
    read_failed: impl FnOnce(String) -> E,
    mut f: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    let mut g = |b| {
        f(b).map_err(|e| {
            failed = Some(e);
            String::new()
        })
    };
    let read = match keep {
        Some(k) => src.scan_each_where(view, cols, k, &mut g),
        None => src.scan_each(view, cols, &mut g),
    };
    match failed {
        Some(e) => Err(e),
        None => read.map_err(read_failed),
    }
}

/// [`each_batch`] with this module's errors.
fn each(
    src: &dyn TableSource,
    view: View,
    cols: &[&str],
    keep: Option<&Expr>,
    mut f: impl FnMut(&RecordBatch) -> Result<(), SurveillanceError>,
) -> Result<(), SurveillanceError> {
    each_batch(
        src,
        view,
        cols,
        keep,
        |message| SurveillanceError::Read { view, message },
        |b| f(&b),
    )
}

/// The canonical URI of a code system the panel reads under several (JLAC10's OID for its
/// MEDIS, JP Core and JP-CLINS URIs).
fn canonical_system(s: &str) -> &str {
    if kakehashi_terminology::is_jlac10(s) {
        systems::JLAC10
    } else {
        s
    }
}

/// Reads the rows a definition and a panel need from a site.
///
/// The tables stream past one batch at a time, and only the rows a case or a test can reach are
/// kept: diagnoses under the definition's codes and observations of its or the panel's codes
/// first, then the encounters and patient rows of the patients these name (every criterion of a
/// definition needs such evidence, so no other stay can be a case). All patients are counted
/// for the population. So memory follows the evidence, not the size of the site.
pub fn site_rows(
    src: &dyn TableSource,
    site: &str,
    country: Option<Country>,
    def: &CaseDefinition,
    panel: &PathogenPanel,
) -> Result<SiteRows, SurveillanceError> {
    // Diagnoses: only ICD-10 codes under the definition's scan prefixes.
    let prefixes: Vec<String> = def
        .diagnosis_patterns()
        .iter()
        .map(|p| p.scan_prefix())
        .collect();
    let mut diagnoses = Vec::new();
    let dx_keep = diagnosis_hint(&prefixes);
    each(
        src,
        View::Condition,
        &[
            "patient_id",
            "encounter_id",
            "code_system",
            "code",
            "onset_date_time",
            "recorded_date",
        ],
        Some(&dx_keep),
        |b| {
            let v = View::Condition;
            let pid = strings(b, v, "patient_id")?;
            let enc = strings(b, v, "encounter_id")?;
            let sys = strings(b, v, "code_system")?;
            let code = strings(b, v, "code")?;
            let onset = times(b, v, "onset_date_time")?;
            let recorded = times(b, v, "recorded_date")?;
            for i in 0..b.num_rows() {
                let (Some(s), Some(c), Some(p)) = (sys.value(i), code.value(i), pid.value(i))
                else {
                    continue;
                };
                if !ICD10_SYSTEMS.contains(&s) {
                    continue;
                }
                let n = normalize_icd(c);
                if !prefixes.iter().any(|pre| n.starts_with(pre.as_str())) {
                    continue;
                }
                diagnoses.push(DiagnosisRow {
                    patient_id: p.to_string(),
                    encounter_id: enc.value(i).map(str::to_string),
                    system: s.to_string(),
                    code: c.to_string(),
                    date: onset[i].or(recorded[i]),
                });
            }
            Ok(())
        },
    )?;

    // Observations: only the codes the definition or the panel names, and JLAC10 codes the panel
    // does not list whose analyte names a pathogen test (counted as "unmapped"). JLAC10 arrives
    // under several system URIs; rows carry the canonical one.
    let mut wanted: HashSet<(String, String)> = def.observation_codes().into_iter().collect();
    for p in &panel.pathogens {
        wanted.extend(
            p.loinc
                .iter()
                .map(|c| (systems::LOINC.to_string(), c.clone())),
        );
        wanted.extend(
            p.jlac10
                .iter()
                .map(|c| (systems::JLAC10.to_string(), c.clone())),
        );
    }
    let wanted_codes: HashSet<&str> = wanted.iter().map(|(_, c)| c.as_str()).collect();
    let mut observations = Vec::new();
    let obs_cols = [
        "id",
        "patient_id",
        "encounter_id",
        "code_system",
        "code",
        "effective_date_time",
        "value_quantity",
        "value_ucum",
        "value_code",
        "interpretation_code",
        "value_string",
    ];
    let obs_keep = observation_hint(&wanted_codes, panel);
    each(src, View::Observation, &obs_cols, Some(&obs_keep), |b| {
        let v = View::Observation;
        let code = strings(b, v, "code")?;
        let sys = strings(b, v, "code_system")?;
        let keep: Vec<usize> = (0..b.num_rows())
            .filter(|&i| {
                let (Some(s), Some(c)) = (sys.value(i), code.value(i)) else {
                    return false;
                };
                let s = canonical_system(s);
                (wanted_codes.contains(c) && wanted.contains(&(s.to_string(), c.to_string())))
                    || (s == systems::JLAC10 && panel.pathogen_of_jlac10_analyte(c).is_some())
            })
            .collect();
        if keep.is_empty() {
            return Ok(());
        }
        let id = strings(b, v, "id")?;
        let pid = strings(b, v, "patient_id")?;
        let enc = strings(b, v, "encounter_id")?;
        let eff = times(b, v, "effective_date_time")?;
        let val = floats(b, v, "value_quantity")?;
        let unit = strings(b, v, "value_ucum")?;
        let vcode = strings(b, v, "value_code")?;
        let interp = strings(b, v, "interpretation_code")?;
        let vstr = strings(b, v, "value_string")?;
        for i in keep {
            let (Some(oid), Some(p)) = (id.value(i), pid.value(i)) else {
                continue;
            };
            observations.push(ObservationRow {
                id: oid.to_string(),
                patient_id: p.to_string(),
                encounter_id: enc.value(i).map(str::to_string),
                system: canonical_system(sys.value(i).unwrap_or_default()).to_string(),
                code: code.value(i).unwrap_or_default().to_string(),
                effective: eff[i],
                value: val[i],
                unit: unit.value(i).map(str::to_string),
                value_code: vcode.value(i).map(str::to_string),
                interpretation: interp.value(i).map(str::to_string),
                value_string: vstr.value(i).map(str::to_string),
            });
        }
        Ok(())
    })?;

    // The patients with evidence: only their stays can be cases, only their ages are asked for.
    // (A definition without criteria, which parsing refuses, would make every stay a case.)
    let every_stay = def.criteria.is_empty();
    let reached: HashSet<String> = diagnoses
        .iter()
        .map(|d| &d.patient_id)
        .chain(observations.iter().map(|o| &o.patient_id))
        .cloned()
        .collect();

    // Encounters of those patients.
    let mut encounters = Vec::new();
    let enc_cols = [
        "id",
        "patient_id",
        "class_code",
        "type_codes",
        "period_start",
        "period_end",
        "discharge_disposition_code",
        "part_of_id",
    ];
    // The patients' encounters are picked while reading (a hash set of the patient ids,
    // evaluated on the patient_id column before the other columns are decoded).
    let enc_keep = (!every_stay).then(|| {
        col("patient_id").in_list(reached.iter().map(|p| lit(p.as_str())).collect(), false)
    });
    each(src, View::Encounter, &enc_cols, enc_keep.as_ref(), |b| {
        let v = View::Encounter;
        let pid = strings(b, v, "patient_id")?;
        let keep: Vec<usize> = (0..b.num_rows())
            .filter(|&i| {
                pid.value(i)
                    .is_some_and(|p| every_stay || reached.contains(p))
            })
            .collect();
        if keep.is_empty() {
            return Ok(());
        }
        let id = strings(b, v, "id")?;
        let class = strings(b, v, "class_code")?;
        let types = string_lists(b, v, "type_codes")?;
        let start = times(b, v, "period_start")?;
        let end = times(b, v, "period_end")?;
        let disp = strings(b, v, "discharge_disposition_code")?;
        let part = strings(b, v, "part_of_id")?;
        for i in keep {
            let (Some(e), Some(p)) = (id.value(i), pid.value(i)) else {
                continue;
            };
            encounters.push(EncounterRow {
                id: e.to_string(),
                patient_id: p.to_string(),
                class_code: class.value(i).map(str::to_string),
                type_codes: types[i].clone(),
                start: start[i],
                end: end[i],
                discharge_disposition: disp.value(i).map(str::to_string),
                part_of: part.value(i).map(str::to_string),
            });
        }
        Ok(())
    })?;

    // Patients: all counted, the rows of those with evidence kept.
    let mut patients = Vec::new();
    let mut population = 0u64;
    let mut countries: HashMap<Country, u64> = HashMap::new();
    each(
        src,
        View::Patient,
        &["id", "birth_date", "deceased_date_time", "address_country"],
        None,
        |b| {
            let id = strings(b, View::Patient, "id")?;
            let birth = dates(b, View::Patient, "birth_date")?;
            let dead = times(b, View::Patient, "deceased_date_time")?;
            let ctry = strings(b, View::Patient, "address_country")?;
            for i in 0..b.num_rows() {
                let Some(pid) = id.value(i) else { continue };
                population += 1;
                let c = ctry.value(i).and_then(|c| c.parse::<Country>().ok());
                if let Some(c) = c {
                    *countries.entry(c).or_default() += 1;
                }
                if every_stay || reached.contains(pid) {
                    patients.push(PatientRow {
                        id: pid.to_string(),
                        birth_date: birth[i],
                        deceased_at: dead[i],
                        country: c,
                    });
                }
            }
            Ok(())
        },
    )?;

    let country = match country {
        Some(c) => c,
        None => match countries.iter().max_by_key(|(_, n)| **n) {
            Some((c, _)) => *c,
            None => {
                let (icd_gm, icd_jp) = icd_rows(src)?;
                if icd_gm > icd_jp {
                    Country::Germany
                } else if icd_jp > icd_gm {
                    Country::Japan
                } else {
                    return Err(SurveillanceError::UnknownCountry);
                }
            }
        },
    };
    Ok(SiteRows {
        site: site.to_string(),
        country,
        population,
        patients,
        encounters,
        diagnoses,
        observations,
    })
}

/// Characters [`normalize_icd`] drops: a code matches a prefix when the prefix's characters
/// follow each other with only these between them.
const ICD_MARKS: &str = ".!*+† ";

/// What a diagnosis row must satisfy to be of use: an ICD-10 system, and a code that may
/// normalise to one starting with one of `prefixes` (a case-insensitive regular expression
/// allowing the marks [`normalize_icd`] drops anywhere; no code condition when a prefix is
/// empty). The row loop still normalises and checks each code.
fn diagnosis_hint(prefixes: &[String]) -> Expr {
    let systems =
        col("code_system").in_list(ICD10_SYSTEMS.iter().map(|s| lit(*s)).collect(), false);
    if prefixes.is_empty() || prefixes.iter().any(String::is_empty) {
        return systems;
    }
    let marks = format!("[{}]*", regex_escape_class(ICD_MARKS));
    let alternatives: Vec<String> = prefixes
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| format!("{marks}{}", regex_escape(c)))
                .collect::<String>()
        })
        .collect();
    let pattern = format!("^(?:{})", alternatives.join("|"));
    systems.and(regexp_like(col("code"), lit(pattern), Some(lit("i"))))
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:x}}}", c as u32)
    }
}

fn regex_escape_class(chars: &str) -> String {
    chars.chars().map(regex_escape).collect()
}

/// What an observation row must satisfy to be of use: a code the definition or the panel
/// names, or a code starting with a pathogen's JLAC10 analyte (checked in full in the loop).
fn observation_hint(codes: &HashSet<&str>, panel: &PathogenPanel) -> Expr {
    let mut listed: Vec<&str> = codes.iter().copied().collect();
    listed.sort_unstable();
    let mut keep = col("code").in_list(listed.into_iter().map(lit).collect(), false);
    for a in panel.pathogens.iter().flat_map(|p| &p.jlac10_analytes) {
        keep = keep.or(starts_with(col("code"), lit(a.as_str())));
    }
    keep
}

/// Rows coded in ICD-10-GM and in JP ICD-10 (with a patient and a code), to tell a site's
/// country when no patient address says it.
fn icd_rows(src: &dyn TableSource) -> Result<(u64, u64), SurveillanceError> {
    let (mut gm, mut jp) = (0u64, 0u64);
    let keep =
        col("code_system").in_list(vec![lit(systems::ICD10_GM), lit(systems::ICD10_JP)], false);
    each(
        src,
        View::Condition,
        &["patient_id", "code_system", "code"],
        Some(&keep),
        |b| {
            let v = View::Condition;
            let pid = strings(b, v, "patient_id")?;
            let sys = strings(b, v, "code_system")?;
            let code = strings(b, v, "code")?;
            for i in 0..b.num_rows() {
                if pid.value(i).is_none() || code.value(i).is_none() {
                    continue;
                }
                match sys.value(i) {
                    Some(systems::ICD10_GM) => gm += 1,
                    Some(systems::ICD10_JP) => jp += 1,
                    _ => {}
                }
            }
            Ok(())
        },
    )?;
    Ok((gm, jp))
}

/// A string column read as UTF-8, whatever its Arrow string type.
struct Strings(Option<ArrayRef>);

impl Strings {
    fn value(&self, i: usize) -> Option<&str> {
        let a = self.0.as_ref()?;
        if a.is_null(i) {
            return None;
        }
        Some(a.as_string::<i32>().value(i))
    }
}

fn column<'a>(b: &'a RecordBatch, view: View, name: &str) -> Option<&'a ArrayRef> {
    let _ = view;
    b.column_by_name(name)
}

fn col_err(view: View, column: &str, e: impl ToString) -> SurveillanceError {
    SurveillanceError::Column {
        view,
        column: column.to_string(),
        message: e.to_string(),
    }
}

/// A missing column reads as all null (a store may omit columns that are null throughout).
fn strings(b: &RecordBatch, view: View, name: &str) -> Result<Strings, SurveillanceError> {
    match column(b, view, name) {
        None => Ok(Strings(None)),
        Some(a) if a.data_type() == &DataType::Utf8 => Ok(Strings(Some(a.clone()))),
        Some(a) => cast(a, &DataType::Utf8)
            .map(|a| Strings(Some(a)))
            .map_err(|e| col_err(view, name, e)),
    }
}

fn times(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<DateTime<Utc>>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![None; n]);
    };
    let a = match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = cast(a, &DataType::Utf8).map_err(|e| col_err(view, name, e))?;
            let s = s.as_string::<i32>();
            return Ok((0..n)
                .map(|i| {
                    (!s.is_null(i)).then(|| s.value(i)).and_then(|t| {
                        DateTime::parse_from_rfc3339(t)
                            .ok()
                            .map(|d| d.with_timezone(&Utc))
                            .or_else(|| {
                                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                                    .ok()
                                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                                    .map(|d| d.and_utc())
                            })
                    })
                })
                .collect());
        }
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
                .then(|| DateTime::from_timestamp_micros(t.value(i)))
                .flatten()
        })
        .collect())
}

fn dates(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Option<NaiveDate>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
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
                    NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .ok()
                        .or_else(|| NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d").ok())
                        .or_else(|| {
                            NaiveDate::parse_from_str(&format!("{t}-01-01"), "%Y-%m-%d").ok()
                        })
                })
            })
            .collect());
    }
    let a = cast(a, &DataType::Date32).map_err(|e| col_err(view, name, e))?;
    let d = a.as_primitive::<arrow::datatypes::Date32Type>();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
    Ok((0..n)
        .map(|i| (!d.is_null(i)).then(|| epoch + chrono::Duration::days(d.value(i) as i64)))
        .collect())
}

fn floats(b: &RecordBatch, view: View, name: &str) -> Result<Vec<Option<f64>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![None; n]);
    };
    let a = cast(a, &DataType::Float64).map_err(|e| col_err(view, name, e))?;
    let f = a.as_primitive::<arrow::datatypes::Float64Type>();
    Ok((0..n)
        .map(|i| (!f.is_null(i)).then(|| f.value(i)))
        .collect())
}

fn string_lists(
    b: &RecordBatch,
    view: View,
    name: &str,
) -> Result<Vec<Vec<String>>, SurveillanceError> {
    let n = b.num_rows();
    let Some(a) = column(b, view, name) else {
        return Ok(vec![Vec::new(); n]);
    };
    let target = DataType::List(Arc::new(arrow::datatypes::Field::new(
        "item",
        DataType::Utf8,
        true,
    )));
    let a = match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            // A plain string column: one value per row.
            let s = strings(b, view, name)?;
            return Ok((0..n)
                .map(|i| s.value(i).map(|v| vec![v.to_string()]).unwrap_or_default())
                .collect());
        }
        _ => cast(a, &target).map_err(|e| col_err(view, name, e))?,
    };
    let l = a.as_list::<i32>();
    Ok((0..n)
        .map(|i| {
            if l.is_null(i) {
                return Vec::new();
            }
            let v = l.value(i);
            let s = v.as_string::<i32>();
            (0..s.len())
                .filter(|&j| !s.is_null(j))
                .map(|j| s.value(j).to_string())
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        Date32Array, Float64Array, ListBuilder, StringArray, StringBuilder,
        TimestampMicrosecondArray,
    };
    use kakehashi_surveillance::series::Stratum;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    fn strs(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn times(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(v.iter().map(|s| s.map(ts)).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    }

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(cols).unwrap()
    }

    /// A tiny German site as Arrow batches in the site schema's types: two SARI stays (one with
    /// an ICU ward stay inside it, one in another week), one stay without J09–J22, and three
    /// PCR results, one of them a second coding row of the same observation.
    fn site() -> HashMap<View, Vec<RecordBatch>> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let days = |y, m, d| (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days() as i32;
        let patient = batch(vec![
            ("id", strs(&[Some("p1"), Some("p2"), Some("p3")])),
            (
                "birth_date",
                Arc::new(Date32Array::from(vec![
                    Some(days(1941, 3, 2)),
                    Some(days(2022, 7, 1)),
                    None,
                ])) as ArrayRef,
            ),
            (
                "deceased_date_time",
                times(&[Some("2024-01-15T08:00:00Z"), None, None]),
            ),
            (
                "address_country",
                strs(&[Some("DE"), Some("DE"), Some("DE")]),
            ),
        ]);
        let mut types = ListBuilder::new(StringBuilder::new());
        for t in [
            vec!["normalstationaer"],
            vec!["intensivstationaer"],
            vec![],
            vec![],
        ] {
            for v in t {
                types.values().append_value(v);
            }
            types.append(true);
        }
        let encounter = batch(vec![
            (
                "id",
                strs(&[Some("e1"), Some("e1-icu"), Some("e2"), Some("e3")]),
            ),
            (
                "patient_id",
                strs(&[Some("p1"), Some("p1"), Some("p2"), Some("p3")]),
            ),
            (
                "class_code",
                strs(&[Some("IMP"), Some("IMP"), Some("IMP"), Some("IMP")]),
            ),
            ("type_codes", Arc::new(types.finish()) as ArrayRef),
            (
                "period_start",
                times(&[
                    Some("2024-01-08T10:00:00Z"),
                    Some("2024-01-09T10:00:00Z"),
                    Some("2024-01-29T10:00:00Z"),
                    Some("2024-01-10T10:00:00Z"),
                ]),
            ),
            (
                "period_end",
                times(&[
                    Some("2024-01-15T08:00:00Z"),
                    Some("2024-01-12T10:00:00Z"),
                    Some("2024-02-02T10:00:00Z"),
                    Some("2024-01-12T10:00:00Z"),
                ]),
            ),
            (
                "discharge_disposition_code",
                strs(&[Some("07"), None, Some("01"), Some("01")]),
            ),
            ("part_of_id", strs(&[None, Some("e1"), None, None])),
        ]);
        let gm = Some(systems::ICD10_GM);
        let condition = batch(vec![
            (
                "patient_id",
                strs(&[Some("p1"), Some("p2"), Some("p3"), Some("p3")]),
            ),
            (
                "encounter_id",
                strs(&[Some("e1"), Some("e2"), Some("e3"), Some("e3")]),
            ),
            ("code_system", strs(&[gm, gm, gm, gm])),
            (
                "code",
                strs(&[Some("J18.9"), Some("J21.0"), Some("J06.9"), Some("I10.00")]),
            ),
            ("onset_date_time", times(&[None, None, None, None])),
            ("recorded_date", times(&[None, None, None, None])),
        ]);
        let ln = Some(systems::LOINC);
        let observation = batch(vec![
            (
                "id",
                strs(&[Some("o1"), Some("o2"), Some("o3"), Some("o3"), Some("o4")]),
            ),
            (
                "patient_id",
                strs(&[Some("p1"), Some("p2"), Some("p3"), Some("p3"), Some("p3")]),
            ),
            (
                "encounter_id",
                strs(&[Some("e1"), Some("e2"), Some("e3"), Some("e3"), Some("e3")]),
            ),
            (
                "code_system",
                strs(&[ln, ln, ln, Some(systems::JLAC10), ln]),
            ),
            (
                "code",
                strs(&[
                    Some("92142-9"),
                    Some("92131-2"),
                    Some("94500-6"),
                    Some("5F??"),
                    Some("718-7"),
                ]),
            ),
            (
                "effective_date_time",
                times(&[
                    Some("2024-01-08T11:00:00Z"),
                    Some("2024-01-29T11:00:00Z"),
                    Some("2024-01-10T11:00:00Z"),
                    Some("2024-01-10T11:00:00Z"),
                    Some("2024-01-10T11:00:00Z"),
                ]),
            ),
            (
                "value_quantity",
                Arc::new(Float64Array::from(vec![None, None, None, None, Some(13.5)])) as ArrayRef,
            ),
            ("value_ucum", strs(&[None, None, None, None, Some("g/dL")])),
            (
                "value_code",
                strs(&[
                    Some("260373001"),
                    Some("260373001"),
                    Some("260415000"),
                    Some("260415000"),
                    None,
                ]),
            ),
            ("interpretation_code", strs(&[None, None, None, None, None])),
            ("value_string", strs(&[None, None, None, None, None])),
        ]);
        HashMap::from([
            (View::Patient, vec![patient]),
            (View::Encounter, vec![encounter]),
            (View::Condition, vec![condition]),
            (View::Observation, vec![observation]),
        ])
    }

    #[test]
    fn series_over_arrow_batches() {
        let src = site();
        let def = CaseDefinition::shipped("sari-icosari").unwrap();
        let panel = PathogenPanel::shipped();
        let spec = SeriesSpec {
            by: vec![Stratum::Site, Stratum::Age],
            ..SeriesSpec::default()
        };
        let out = site_series(&src, "de-a", None, &def, &panel, &spec).unwrap();
        assert_eq!(out.country, Country::Germany);
        assert_eq!((out.patients, out.cases, out.tests), (3, 2, 3));
        let row = |band: &str, w: u32| {
            out.series
                .rows
                .iter()
                .find(|r| r.age_group.as_deref() == Some(band) && r.week.week() == w)
                .unwrap()
        };
        // p1, 82 years old, admitted in 2024-W02, ICU via the ward stay, died in hospital.
        let r = row("80+", 2);
        assert_eq!((r.cases, r.icu, r.deaths), (1, 1, 1));
        assert_eq!(r.positivity[0].positives, 1);
        // p2, 1 year old, admitted in 2024-W05 with bronchiolitis, RSV positive.
        let r = row("0-4", 5);
        assert_eq!((r.cases, r.icu, r.deaths), (1, 0, 0));
        assert_eq!((r.positivity[1].tests, r.positivity[1].positives), (1, 1));
        // p3 has no birth date: its SARS-CoV-2 test (two coding rows) counts once, under "unknown".
        let r = row("unknown", 2);
        assert_eq!(
            (r.cases, r.positivity[2].tests, r.positivity[2].positives),
            (0, 1, 0)
        );
        assert_eq!(out.series.rows.iter().map(|r| r.cases).sum::<u64>(), 2);
    }

    #[test]
    fn jlac10_only_results_are_counted_and_unknown_codes_reported_as_unmapped() {
        let mut src = site();
        // p2's and p3's patients get more tests coded only in JLAC10: under JP Core's MEDIS URI
        // (a listed code), an unlisted SARS-CoV-2 nucleic-acid code (analyte 5F625, identification
        // 1450) and an antibody code of the same analyte (identification 1430, not a test for
        // infection, so not counted).
        let medis = Some("http://medis.or.jp/CodeSystem/master-JLAC10-17digits");
        src.get_mut(&View::Observation).unwrap().push(batch(vec![
            ("id", strs(&[Some("j1"), Some("j2"), Some("j3")])),
            ("patient_id", strs(&[Some("p2"), Some("p3"), Some("p3")])),
            ("encounter_id", strs(&[Some("e2"), Some("e3"), Some("e3")])),
            (
                "code_system",
                strs(&[medis, Some(systems::JLAC10), Some(systems::JLAC10)]),
            ),
            (
                "code",
                strs(&[
                    Some("5F625141006319011"),
                    Some("5F625145001987511"),
                    Some("5F625143002314101"),
                ]),
            ),
            (
                "effective_date_time",
                times(&[
                    Some("2024-01-29T11:00:00Z"),
                    Some("2024-01-10T12:00:00Z"),
                    Some("2024-01-10T12:00:00Z"),
                ]),
            ),
            (
                "value_quantity",
                Arc::new(Float64Array::from(vec![None, None, None])) as ArrayRef,
            ),
            ("value_ucum", strs(&[None, None, None])),
            (
                "value_code",
                strs(&[Some("260373001"), Some("260373001"), Some("260373001")]),
            ),
            ("interpretation_code", strs(&[None, None, None])),
            ("value_string", strs(&[None, None, None])),
        ]));
        let def = CaseDefinition::shipped("sari-icosari").unwrap();
        let panel = PathogenPanel::shipped();
        let out = site_series(&src, "de-a", None, &def, &panel, &SeriesSpec::default()).unwrap();
        assert_eq!(
            out.tests, 5,
            "3 LOINC tests + the MEDIS-coded antigen + the unmapped PCR"
        );
        let sars: (u64, u64) = out.series.rows.iter().fold((0, 0), |a, r| {
            (a.0 + r.positivity[2].tests, a.1 + r.positivity[2].positives)
        });
        assert_eq!(sars, (3, 2));
        let note = out
            .series
            .notes
            .iter()
            .find(|n| n.starts_with("unmapped:"))
            .expect("the unmapped result is reported");
        assert!(note.contains("unmapped: 1 test results"), "{note}");
    }

    #[test]
    fn only_rows_evidence_reaches_are_kept_but_every_patient_counts() {
        let mut src = site();
        // p4: an inpatient stay and a diagnosis outside the definition (hypertension), in batches
        // of their own (the tables stream batch by batch)
        let mut types = ListBuilder::new(StringBuilder::new());
        types.append(true);
        src.get_mut(&View::Patient).unwrap().push(batch(vec![
            ("id", strs(&[Some("p4")])),
            (
                "birth_date",
                Arc::new(Date32Array::from(vec![Some(7000)])) as ArrayRef,
            ),
            ("deceased_date_time", times(&[None])),
            ("address_country", strs(&[Some("DE")])),
        ]));
        src.get_mut(&View::Encounter).unwrap().push(batch(vec![
            ("id", strs(&[Some("e4")])),
            ("patient_id", strs(&[Some("p4")])),
            ("class_code", strs(&[Some("IMP")])),
            ("type_codes", Arc::new(types.finish()) as ArrayRef),
            ("period_start", times(&[Some("2024-01-09T10:00:00Z")])),
            ("period_end", times(&[Some("2024-01-19T10:00:00Z")])),
            ("discharge_disposition_code", strs(&[Some("01")])),
            ("part_of_id", strs(&[None])),
        ]));
        src.get_mut(&View::Condition).unwrap().push(batch(vec![
            ("patient_id", strs(&[Some("p4")])),
            ("encounter_id", strs(&[Some("e4")])),
            ("code_system", strs(&[Some(systems::ICD10_GM)])),
            ("code", strs(&[Some("I10.00")])),
            ("onset_date_time", times(&[None])),
            ("recorded_date", times(&[None])),
        ]));
        let def = CaseDefinition::shipped("sari-icosari").unwrap();
        let panel = PathogenPanel::shipped();
        let rows = site_rows(&src, "de-a", None, &def, &panel).unwrap();
        assert_eq!(rows.population, 4);
        let mut patients: Vec<&str> = rows.patients.iter().map(|p| p.id.as_str()).collect();
        patients.sort();
        assert_eq!(patients, ["p1", "p2", "p3"]);
        let mut stays: Vec<&str> = rows.encounters.iter().map(|e| e.id.as_str()).collect();
        stays.sort();
        assert_eq!(stays, ["e1", "e1-icu", "e2", "e3"]);
        // the series is that of the site without the filter, over four patients
        let out = site_series(&src, "de-a", None, &def, &panel, &SeriesSpec::default()).unwrap();
        assert_eq!((out.patients, out.cases, out.tests), (4, 2, 3));
        assert_eq!(out.series.population, Some(4));
    }

    #[test]
    fn a_column_of_the_wrong_type_is_named() {
        let mut src = site();
        let bad = batch(vec![
            ("id", strs(&[Some("p1")])),
            (
                "birth_date",
                Arc::new(Float64Array::from(vec![Some(1.5)])) as ArrayRef,
            ),
        ]);
        src.insert(View::Patient, vec![bad]);
        let def = CaseDefinition::shipped("sari-icosari").unwrap();
        let e = site_series(
            &src,
            "x",
            None,
            &def,
            &PathogenPanel::shipped(),
            &SeriesSpec::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("patient") && e.contains("birth_date"), "{e}");
    }
}
