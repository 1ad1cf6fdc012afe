//! Surveillance over a site snapshot: weekly series from encounters, diagnoses and labs.
//!
//! Reads the four tables a series needs (patient, encounter, condition, observation) as Arrow
//! record batches, keeps only the rows the case definition and the pathogen panel can use
//! (ICD-10 codes under the definition's prefixes; observation codes the definition or the panel
//! names), and hands them to `kakehashi_surveillance` as plain rows. The projection and the
//! code filter happen while the batches stream past, so a million-patient site is read once
//! and only the relevant rows are materialised.

use arrow::array::RecordBatch;
use columns::{dates, floats, string_lists, strings, times};
use datafusion::prelude::{Expr, col, lit};
use hints::{diagnosis_hint, icd_rows, observation_hint};
use kakehashi_model::{Country, View, systems};
use kakehashi_surveillance::PathogenPanel;
use kakehashi_surveillance::definition::{CaseDefinition, normalize_icd};
use kakehashi_surveillance::series::{
    self, DiagnosisRow, EncounterRow, ICD10_SYSTEMS, ObservationRow, PatientRow, Series,
    SeriesSpec, SiteRows,
};
use std::collections::{HashMap, HashSet};

/// Errors of a surveillance run over a site.
#[derive(Debug, thiserror::Error)]
pub enum SurveillanceError {
    /// The table could not be read.
    #[error("reading table {view}: {source}")]
    Read {
        /// The table.
        view: View,
        /// Why.
        source: ScanError,
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

/// A table that could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The store could not read the view's files.
    #[error(transparent)]
    Store(#[from] kakehashi_store::StoreError),
    /// DataFusion could not plan or run the scan.
    #[error(transparent)]
    Plan(#[from] crate::snapshot::PlanError),
    /// The reader of the batches stopped the scan (the caller holds the reader's own error).
    #[error("the reader of the batches stopped the scan")]
    Stopped,
}

/// Where a series reads its tables from: the site store, or batches held in memory.
pub trait TableSource {
    /// All record batches of a view, with at least the named columns.
    fn scan(&self, view: View, columns: &[&str]) -> Result<Vec<RecordBatch>, ScanError>;

    /// The same batches one at a time, so a large view need not sit in memory at once. The
    /// default collects [`Self::scan`]; a store streams.
    fn scan_each(
        &self,
        view: View,
        columns: &[&str],
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
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
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        let _ = keep;
        self.scan_each(view, columns, f)
    }
}

impl TableSource for HashMap<View, Vec<RecordBatch>> {
    fn scan(&self, view: View, _columns: &[&str]) -> Result<Vec<RecordBatch>, ScanError> {
        Ok(self.get(&view).cloned().unwrap_or_default())
    }
}

impl TableSource for kakehashi_store::Snapshot {
    fn scan(&self, view: View, columns: &[&str]) -> Result<Vec<RecordBatch>, ScanError> {
        Ok(kakehashi_store::Snapshot::scan(self, view, Some(columns))
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// In file order (the AMR reader relies on a resource's rows being adjacent).
    fn scan_each(
        &self,
        view: View,
        columns: &[&str],
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        for b in kakehashi_store::Snapshot::scan(self, view, Some(columns)) {
            f(b?)?;
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
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        crate::snapshot::scan_view(self, view, columns, Some(keep.clone()), f)?
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
    read_failed: impl FnOnce(ScanError) -> E,
    mut f: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    let mut g = |b| {
        f(b).map_err(|e| {
            failed = Some(e);
            ScanError::Stopped
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
        |source| SurveillanceError::Read { view, source },
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
    // The patients' encounters are picked while reading when they are few (a literal list on
    // the patient_id column, evaluated before the other columns are decoded). A list of many
    // thousand literals costs more to plan than it saves (measured: 200,000 patients, ~150,000
    // reached, 2.5x slower), so then every encounter is read and the hash set below decides.
    const MAX_LISTED: usize = 2_000;
    let enc_keep = (!every_stay && reached.len() <= MAX_LISTED).then(|| {
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

pub(crate) mod columns;
mod hints;
#[cfg(test)]
mod tests;
