//! Cohort counts over a site snapshot: exact distinct-patient counts of a compiled CCDL plan.
//!
//! The fast path: [`CohortIndex::open`] reads, once per snapshot, the few columns each mapped
//! view needs into compact in-memory columns (patient ordinals, interned codes, times as
//! microseconds, values), with row postings per code and a patient bitmap per code. A
//! criterion without value, time or attribute conditions is the union of its codes' patient
//! bitmaps; other criteria scan only the postings of their codes. Groups combine as roaring
//! bitmaps (AND of ORs, minus OR of ANDs).
//!
//! A context whose rows take codes from a referenced resource (`code_via`: an administration's
//! `Medication` with its ATC code) is joined here, once: the referenced view's codes are read by
//! key and each row gets a row per code of its own and of the resource it references.

use arrow::array::{
    Array, Date32Array, Float64Array, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::DataType;
use chrono::{Datelike, NaiveDate, Utc};
use kakehashi_cohort::plan::{AttrCond, ContextMap, CritPlan, NumCond, Plan, ValueCond};
use kakehashi_cohort::{PlanError, Query};
use kakehashi_model::View;
use kakehashi_store::Snapshot;
use roaring::RoaringBitmap;
use std::collections::{HashMap, HashSet};

mod persist;

/// A cohort evaluation problem.
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    /// The query uses something this site cannot evaluate.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The store could not be read.
    #[error("reading the site's {view} table: {message}")]
    Store {
        /// The view.
        view: String,
        /// What went wrong.
        message: String,
    },
    /// A saved index was asked for patient ids, which it does not keep.
    #[error(
        "this cohort index keeps no patient ids; build it with CohortIndex::open_with_patient_ids"
    )]
    NoPatientIds,
    /// The snapshot's saved cohort index is missing or does not read back.
    #[error(
        "cohort index {path}: {message}; rebuild it with `kakehashi cohort index --site-dir {site}`"
    )]
    Index {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
        /// The site directory (for the rebuild command).
        site: std::path::PathBuf,
    },
}

/// A count and what went into it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortCount {
    /// Distinct patients matching.
    pub count: u64,
    /// Query codes with no data at this site (neither the code nor its mapped equivalents
    /// occur here), reported rather than silently yielding zero.
    pub unmapped: Vec<String>,
    /// Rows whose unit could not be converted to the filter's unit (not counted).
    pub unit_mismatches: u64,
}

#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.map.insert(s.to_owned(), i);
        i
    }
    fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
}

const NONE: u32 = u32::MAX;
const SEP: char = '\u{1f}';

#[derive(Default)]
struct Table {
    patient: Vec<u32>,
    code: Vec<u32>,
    start: Vec<i64>,
    end: Vec<i64>,
    value: Vec<f64>,
    unit: Vec<u32>,
    vcode: Vec<u32>,
    id: Vec<u32>,
    attrs: HashMap<String, Vec<u32>>,
    /// Rows are sorted by code: each code's rows are one contiguous range.
    postings: HashMap<u32, (u32, u32)>,
    code_patients: HashMap<u32, RoaringBitmap>,
}

impl Table {
    /// Reorders every column by (code, patient) so a code's rows are contiguous (sequential
    /// scans), and records each code's range.
    fn sort_by_code(&mut self) {
        let mut order: Vec<u32> = (0..self.patient.len() as u32).collect();
        order.sort_unstable_by_key(|&r| (self.code[r as usize], self.patient[r as usize]));
        fn apply<T: Copy>(v: &mut Vec<T>, order: &[u32]) {
            *v = order.iter().map(|&r| v[r as usize]).collect();
        }
        apply(&mut self.patient, &order);
        apply(&mut self.code, &order);
        apply(&mut self.start, &order);
        apply(&mut self.end, &order);
        apply(&mut self.value, &order);
        apply(&mut self.unit, &order);
        apply(&mut self.vcode, &order);
        apply(&mut self.id, &order);
        for v in self.attrs.values_mut() {
            apply(v, &order);
        }
        self.index_postings();
    }

    /// Records each code's row range (the rows are sorted by code).
    fn index_postings(&mut self) {
        self.postings.clear();
        let mut i = 0;
        while i < self.code.len() {
            let k = self.code[i];
            let start = i;
            while i < self.code.len() && self.code[i] == k {
                i += 1;
            }
            self.postings.insert(k, (start as u32, i as u32));
        }
    }
}

/// A snapshot's data prepared for cohort counts. Build once per snapshot; `Send + Sync`.
pub struct CohortIndex {
    tag: String,
    patients: Interner,
    birth: Vec<i32>,
    /// Birth date as (year, month, day), year i32::MIN when unknown.
    birth_ymd: Vec<(i32, u32, u32)>,
    gender: Vec<u8>,
    known: RoaringBitmap,
    codes: Interner,
    /// Units and attribute codes (looked up by name when a query names them).
    strings: Interner,
    /// Resource ids and the references to them (compared as numbers only; the names are not
    /// kept after the build).
    ids: Interner,
    /// One table per (view, term-code column) of the mapping ([`ContextMap::table`]).
    tables: HashMap<(View, String), Table>,
    /// Tables this snapshot cannot give, with the reason (reported, never silently zero).
    unavailable: HashMap<(View, String), String>,
}

fn table_key(m: &ContextMap) -> (View, String) {
    let (v, c) = m.table();
    (v, c.to_owned())
}

fn gender_id(g: &str) -> u8 {
    match g {
        "female" => 1,
        "male" => 2,
        "other" => 3,
        "unknown" => 4,
        _ => 0,
    }
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str, view: View) -> Result<&'a T, CohortError> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| CohortError::Store {
            view: view.name().into(),
            message: format!("column {name} missing or of an unexpected type"),
        })
}

/// An attribute's column: one text per row, or a list of them.
enum AttrColumn<'a> {
    Str(&'a StringArray),
    List(&'a ListArray),
}

impl<'a> AttrColumn<'a> {
    fn of(b: &'a RecordBatch, name: &str, view: View) -> Result<AttrColumn<'a>, CohortError> {
        match b.column_by_name(name).map(|c| c.data_type()) {
            Some(DataType::List(_)) => Ok(AttrColumn::List(col::<ListArray>(b, name, view)?)),
            _ => Ok(AttrColumn::Str(col::<StringArray>(b, name, view)?)),
        }
    }

    /// The texts of row `i` of a list column (`None` for a text column).
    fn list_values(&self, i: usize) -> Option<Vec<&'a str>> {
        let AttrColumn::List(l) = self else {
            return None;
        };
        if l.is_null(i) {
            return Some(Vec::new());
        }
        let (start, end) = (
            l.value_offsets()[i] as usize,
            l.value_offsets()[i + 1] as usize,
        );
        let values = l.values().as_any().downcast_ref::<StringArray>()?;
        Some(
            (start..end)
                .filter(|&j| !values.is_null(j))
                .map(|j| values.value(j))
                .collect(),
        )
    }
}

fn scan(snap: &Snapshot, view: View, cols: &[&str]) -> Result<Vec<RecordBatch>, CohortError> {
    snap.scan(view, Some(cols))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CohortError::Store {
            view: view.name().into(),
            message: e.to_string(),
        })
}

impl CohortIndex {
    /// Reads what the cohort engine needs from a snapshot.
    pub fn open(snap: &Snapshot) -> Result<CohortIndex, CohortError> {
        Self::open_inner(snap, false)
    }

    /// [`Self::open`], keeping the patients' ids for [`Self::matching_patients`] (the sample
    /// locator's index; the count path drops them to save memory).
    pub fn open_with_patient_ids(snap: &Snapshot) -> Result<CohortIndex, CohortError> {
        Self::open_inner(snap, true)
    }

    fn open_inner(snap: &Snapshot, keep_patient_ids: bool) -> Result<CohortIndex, CohortError> {
        let mut ix = CohortIndex {
            tag: snap.tag(),
            patients: Interner::default(),
            birth: Vec::new(),
            birth_ymd: Vec::new(),
            gender: Vec::new(),
            known: RoaringBitmap::new(),
            codes: Interner::default(),
            strings: Interner::default(),
            ids: Interner::default(),
            tables: HashMap::new(),
            unavailable: HashMap::new(),
        };
        for b in scan(snap, View::Patient, &["id", "gender", "birth_date"])? {
            let id = col::<StringArray>(&b, "id", View::Patient)?;
            let g = col::<StringArray>(&b, "gender", View::Patient)?;
            let bd = col::<Date32Array>(&b, "birth_date", View::Patient)?;
            for i in 0..b.num_rows() {
                let p = ix.patient(id.value(i));
                ix.known.insert(p);
                ix.birth[p as usize] = if bd.is_null(i) { i32::MIN } else { bd.value(i) };
                ix.gender[p as usize] = if g.is_null(i) {
                    0
                } else {
                    gender_id(g.value(i))
                };
            }
        }
        for m in kakehashi_cohort::plan::mapping() {
            if ix.tables.contains_key(&table_key(m)) || ix.unavailable.contains_key(&table_key(m)) {
                continue;
            }
            match ix.load_table(snap, m) {
                Ok(t) => {
                    ix.tables.insert(table_key(m), t);
                }
                // a snapshot written before a column the mapping reads existed (e.g. a
                // procedure's category): that context has no data here, and says so; every
                // other context still answers
                Err(CohortError::Store { view, message }) if message.contains("no column") => {
                    ix.unavailable.insert(table_key(m), format!("the {view} table of this snapshot lacks a column ({message}); ingest the data again"));
                }
                Err(e) => return Err(e),
            }
        }
        // resource ids and patient keys are compared as numbers from here on
        ix.ids = Interner::default();
        if !keep_patient_ids {
            ix.patients = Interner::default();
        }
        ix.fill_birth_ymd();
        Ok(ix)
    }

    /// Birth dates as (year, month, day), from the days since the epoch.
    fn fill_birth_ymd(&mut self) {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        self.birth_ymd = self
            .birth
            .iter()
            .map(|&d| {
                if d == i32::MIN {
                    return (i32::MIN, 0, 0);
                }
                epoch
                    .checked_add_signed(chrono::Duration::days(d as i64))
                    .map(|b| (b.year(), b.month(), b.day()))
                    .unwrap_or((i32::MIN, 0, 0))
            })
            .collect();
    }

    /// Reads one context's table: its rows, one per code (its own and those of the resource
    /// it references) and per element of a list attribute, sorted by code.
    fn load_table(&mut self, snap: &Snapshot, m: &ContextMap) -> Result<Table, CohortError> {
        // the codes of the referenced resources, by key (interned "system SEP code")
        let mut via_codes: HashMap<String, Vec<u32>> = HashMap::new();
        if let Some(via) = &m.code_via {
            for b in scan(snap, via.view, &["id", &via.code[0], &via.code[1]])? {
                let id = col::<StringArray>(&b, "id", via.view)?;
                let sys = col::<StringArray>(&b, &via.code[0], via.view)?;
                let code = col::<StringArray>(&b, &via.code[1], via.view)?;
                for i in 0..b.num_rows() {
                    if id.is_null(i) || code.is_null(i) {
                        continue;
                    }
                    let k = self.codes.id(&format!(
                        "{}{SEP}{}",
                        if sys.is_null(i) { "" } else { sys.value(i) },
                        code.value(i)
                    ));
                    let v = via_codes.entry(id.value(i).to_owned()).or_default();
                    if !v.contains(&k) {
                        v.push(k);
                    }
                }
            }
        }
        let mut cols: Vec<&str> = vec!["id", "patient_id", &m.code[1]];
        if !m.code[0].is_empty() {
            cols.push(&m.code[0]);
        }
        cols.extend(m.time_start.iter().map(String::as_str));
        cols.extend(m.time_end.iter().map(String::as_str));
        cols.extend(m.value_quantity.iter().map(String::as_str));
        cols.extend(m.value_unit.iter().map(String::as_str));
        cols.extend(m.value_concept.iter().flatten().map(String::as_str));
        cols.extend(m.fixed.iter().map(|f| f[0].as_str()));
        cols.extend(m.attributes.iter().map(|a| a.column.as_str()));
        cols.extend(m.code_via.iter().map(|v| v.column.as_str()));
        let mut seen = HashSet::new();
        cols.retain(|c| seen.insert(*c));
        let mut t = Table::default();
        for b in scan(snap, m.view, &cols)? {
            let v = m.view;
            let id = col::<StringArray>(&b, "id", v)?;
            let pid = col::<StringArray>(&b, "patient_id", v)?;
            // no system column: the mapping's fixed system
            let sys = if m.code[0].is_empty() {
                None
            } else {
                Some(col::<StringArray>(&b, &m.code[0], v)?)
            };
            let fixed_system = m.system.as_deref().unwrap_or("");
            let code = col::<StringArray>(&b, &m.code[1], v)?;
            let via = m
                .code_via
                .as_ref()
                .map(|c| col::<StringArray>(&b, &c.column, v))
                .transpose()?;
            let starts: Vec<&TimestampMicrosecondArray> = m
                .time_start
                .iter()
                .map(|c| col(&b, c, v))
                .collect::<Result<_, _>>()?;
            let ends: Vec<&TimestampMicrosecondArray> = m
                .time_end
                .iter()
                .map(|c| col(&b, c, v))
                .collect::<Result<_, _>>()?;
            let value = m
                .value_quantity
                .as_ref()
                .map(|c| col::<Float64Array>(&b, c, v))
                .transpose()?;
            let unit = m
                .value_unit
                .as_ref()
                .map(|c| col::<StringArray>(&b, c, v))
                .transpose()?;
            let vc = m
                .value_concept
                .as_ref()
                .map(|[s, c]| {
                    Ok::<_, CohortError>((
                        col::<StringArray>(&b, s, v)?,
                        col::<StringArray>(&b, c, v)?,
                    ))
                })
                .transpose()?;
            let fixed: Vec<(&StringArray, &str)> = m
                .fixed
                .iter()
                .map(|[c, want]| {
                    Ok::<_, CohortError>((col::<StringArray>(&b, c, v)?, want.as_str()))
                })
                .collect::<Result<_, _>>()?;
            // (column, values, whether it holds resource ids)
            let attrs: Vec<(&str, AttrColumn, bool)> = m
                .attributes
                .iter()
                .map(|a| {
                    Ok::<_, CohortError>((
                        a.column.as_str(),
                        AttrColumn::of(&b, &a.column, v)?,
                        a.reference.is_some(),
                    ))
                })
                .collect::<Result<_, _>>()?;
            let first = |arrs: &[&TimestampMicrosecondArray], i: usize| {
                arrs.iter()
                    .find(|a| !a.is_null(i))
                    .map(|a| a.value(i))
                    .unwrap_or(i64::MIN)
            };
            // the list attribute's values of the row and the row's codes (reused: no
            // allocation per row)
            let mut elements: Vec<u32> = Vec::new();
            let mut row_codes: Vec<u32> = Vec::new();
            for i in 0..b.num_rows() {
                if pid.is_null(i)
                    || fixed
                        .iter()
                        .any(|(c, want)| c.is_null(i) || c.value(i) != *want)
                {
                    continue;
                }
                // its own code, and those of the resource it references (code_via)
                row_codes.clear();
                if !code.is_null(i) {
                    let system = match sys {
                        Some(a) if a.is_null(i) => "",
                        Some(a) => a.value(i),
                        None => fixed_system,
                    };
                    row_codes.push(self.codes.id(&format!("{system}{SEP}{}", code.value(i))));
                }
                if let Some(r) = via
                    && !r.is_null(i)
                    && let Some(ks) = via_codes.get(r.value(i))
                {
                    row_codes.extend(
                        ks.iter()
                            .filter(|k| !row_codes.contains(k))
                            .collect::<Vec<_>>(),
                    );
                }
                if row_codes.is_empty() {
                    continue;
                }
                // a list attribute (e.g. an encounter's type codes) gives a row per element,
                // so a filter on it matches when any element does (at most one list per
                // context: the mapping's test holds that)
                elements.clear();
                match attrs
                    .iter()
                    .find_map(|(_, a, r)| Some((a.list_values(i)?, *r)))
                {
                    Some((vals, is_ref)) if !vals.is_empty() => {
                        for x in vals {
                            let e = if is_ref {
                                self.ids.id(x)
                            } else {
                                self.strings.id(x)
                            };
                            elements.push(e);
                        }
                    }
                    _ => elements.push(NONE),
                }
                for (&element, &k) in elements
                    .iter()
                    .flat_map(|e| row_codes.iter().map(move |k| (e, k)))
                {
                    let p = self.patient(pid.value(i));
                    t.patient.push(p);
                    t.code.push(k);
                    let s = first(&starts, i);
                    t.start.push(s);
                    let e = first(&ends, i);
                    t.end.push(if e == i64::MIN { s } else { e });
                    t.value.push(
                        value
                            .map(|a| if a.is_null(i) { f64::NAN } else { a.value(i) })
                            .unwrap_or(f64::NAN),
                    );
                    t.unit.push(
                        unit.map(|a| {
                            if a.is_null(i) {
                                NONE
                            } else {
                                self.strings.id(a.value(i))
                            }
                        })
                        .unwrap_or(NONE),
                    );
                    t.vcode.push(
                        vc.map(|(s, c)| {
                            if c.is_null(i) {
                                NONE
                            } else {
                                self.codes.id(&format!(
                                    "{}{SEP}{}",
                                    if s.is_null(i) { "" } else { s.value(i) },
                                    c.value(i)
                                ))
                            }
                        })
                        .unwrap_or(NONE),
                    );
                    t.id.push(self.ids.id(id.value(i)));
                    for (name, a, is_ref) in &attrs {
                        let val = match a {
                            AttrColumn::List(_) => element,
                            AttrColumn::Str(a) if a.is_null(i) => NONE,
                            AttrColumn::Str(a) if *is_ref => self.ids.id(a.value(i)),
                            AttrColumn::Str(a) => self.strings.id(a.value(i)),
                        };
                        t.attrs.entry((*name).to_owned()).or_default().push(val);
                    }
                    t.code_patients.entry(k).or_default().insert(p);
                }
            }
        }
        t.sort_by_code();
        Ok(t)
    }

    fn patient(&mut self, key: &str) -> u32 {
        let p = self.patients.id(key);
        if p as usize >= self.birth.len() {
            self.birth.push(i32::MIN);
            self.gender.push(0);
        }
        p
    }

    /// The snapshot this index was built from (`Snapshot::tag`).
    pub fn snapshot_tag(&self) -> &str {
        &self.tag
    }

    /// Patients in the site's patient table.
    pub fn patients(&self) -> u64 {
        self.known.len()
    }

    /// Counts the distinct patients matching a query, with ages as of today (UTC), for local
    /// use; a task's answer is counted as of its evaluation date ([`Self::count_as_of`]), which
    /// is part of the question.
    pub fn count(&self, q: &Query) -> Result<CohortCount, CohortError> {
        self.count_as_of(q, Utc::now().date_naive())
    }

    /// Counts with ages as of `today`.
    pub fn count_as_of(&self, q: &Query, today: NaiveDate) -> Result<CohortCount, CohortError> {
        let plan = kakehashi_cohort::compile(q)?;
        let mut stats = Stats::default();
        let bits = self.eval_plan(&plan, today, &mut stats);
        Ok(CohortCount {
            count: bits.len(),
            unmapped: stats.unmapped.into_iter().collect(),
            unit_mismatches: stats.unit_mismatches,
        })
    }

    /// The ids of the patients matching a query with ages as of `today`, sorted, and their
    /// count with what was unmapped: the rows of a site's analysis dataset and what the sample
    /// locator joins with the specimens (site-internal: only aggregates leave the site). Only
    /// an index built by [`Self::open_with_patient_ids`] knows the ids; others keep ordinals
    /// only ([`CohortError::NoPatientIds`]).
    pub fn matching_patients_as_of(
        &self,
        q: &Query,
        today: NaiveDate,
    ) -> Result<(Vec<String>, CohortCount), CohortError> {
        if self.patients.names.is_empty() && !self.known.is_empty() {
            return Err(CohortError::NoPatientIds);
        }
        let plan = kakehashi_cohort::compile(q)?;
        let mut stats = Stats::default();
        let bits = self.eval_plan(&plan, today, &mut stats);
        let mut keys: Vec<String> = bits
            .iter()
            .filter_map(|p| self.patients.names.get(p as usize).cloned())
            .collect();
        keys.sort();
        let count = CohortCount {
            count: bits.len(),
            unmapped: stats.unmapped.into_iter().collect(),
            unit_mismatches: stats.unit_mismatches,
        };
        Ok((keys, count))
    }

    /// [`Self::matching_patients_as_of`], the ids only.
    pub fn matching_patients(
        &self,
        q: &Query,
        today: NaiveDate,
    ) -> Result<Vec<String>, CohortError> {
        self.matching_patients_as_of(q, today).map(|(ids, _)| ids)
    }

    /// The matching patients' bitmap (site-internal; never leaves the engine).
    fn eval_plan(&self, plan: &Plan, today: NaiveDate, stats: &mut Stats) -> RoaringBitmap {
        let mut result: Option<RoaringBitmap> = None;
        for group in &plan.inclusion {
            let mut any = RoaringBitmap::new();
            for c in group {
                any |= self.eval(c, today, stats);
            }
            result = Some(match result {
                None => any,
                Some(r) => r & any,
            });
        }
        let mut result = result.unwrap_or_default();
        for group in &plan.exclusion {
            let mut all: Option<RoaringBitmap> = None;
            for c in group {
                let b = self.eval(c, today, stats);
                all = Some(match all {
                    None => b,
                    Some(a) => a & b,
                });
            }
            if let Some(a) = all {
                result -= a;
            }
        }
        result
    }

    /// The table a criterion reads.
    fn table(&self, map: &ContextMap) -> Option<&Table> {
        self.tables.get(&table_key(map))
    }

    /// The interned codes a criterion matches that occur in its table.
    fn code_ids(&self, plan: &CritPlan, stats: &mut Stats) -> Vec<u32> {
        let CritPlan::Resource {
            codes, path, map, ..
        } = plan
        else {
            return Vec::new();
        };
        let t = self.table(map);
        let ids: Vec<u32> = self
            .codes
            .names
            .iter()
            .enumerate()
            .filter(|(i, _)| t.is_some_and(|t| t.postings.contains_key(&(*i as u32))))
            .filter(|(_, k)| k.split_once(SEP).is_some_and(|(s, c)| codes.matches(s, c)))
            .map(|(i, _)| i as u32)
            .collect();
        if ids.is_empty() {
            match self.unavailable.get(&table_key(map)) {
                Some(why) => stats.unmapped.insert(format!("{path}: {why}")),
                None => stats
                    .unmapped
                    .insert(format!("{path}: {}", codes.describe().join(", "))),
            };
        }
        ids
    }

    fn rows(&self, plan: &CritPlan, stats: &mut Stats) -> Vec<u32> {
        let CritPlan::Resource {
            map,
            value,
            time,
            attrs,
            path,
            ..
        } = plan
        else {
            return Vec::new();
        };
        let Some(t) = self.table(map) else {
            return Vec::new();
        };
        let ids = self.code_ids(plan, stats);
        // an attribute value that occurs nowhere here (e.g. a contact level the site's encounters
        // do not record) is reported like a code without data, not silently zero
        for a in attrs {
            if let AttrCond::Concept { column, codes } = a
                && codes.iter().all(|c| self.strings.get(c).is_none())
            {
                stats.unmapped.insert(format!(
                    "{path}: {column} = {}",
                    codes.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let vcodes: Option<HashSet<u32>> = match value {
            Some(ValueCond::Concept(set)) => Some(
                self.codes
                    .names
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| {
                        k.split_once(SEP).is_some_and(|(s, c)| {
                            set.contains(&(s.to_owned(), c.to_owned()))
                                || set.contains(&(String::new(), c.to_owned()))
                        })
                    })
                    .map(|(i, _)| i as u32)
                    .collect(),
            ),
            _ => None,
        };
        let unit_target = match value {
            Some(ValueCond::Quantity { unit: Some(u), .. }) => Some(u.as_str()),
            _ => None,
        };
        let refs: Vec<(&Vec<u32>, HashSet<u32>)> = attrs
            .iter()
            .filter_map(|a| match a {
                AttrCond::Reference { column, targets } => {
                    let mut ok = HashSet::new();
                    for tp in targets {
                        if let CritPlan::Resource { map: tm, .. } = tp
                            && let Some(tt) = self.table(tm)
                        {
                            ok.extend(self.rows(tp, stats).into_iter().map(|r| tt.id[r as usize]));
                        }
                    }
                    Some((t.attrs.get(column)?, ok))
                }
                AttrCond::Concept { .. } => None,
            })
            .collect();
        let concepts: Vec<(&Vec<u32>, HashSet<u32>)> = attrs
            .iter()
            .filter_map(|a| match a {
                AttrCond::Concept { column, codes } => Some((
                    t.attrs.get(column)?,
                    codes.iter().filter_map(|c| self.strings.get(c)).collect(),
                )),
                AttrCond::Reference { .. } => None,
            })
            .collect();
        // Linear conversion (factor, offset) from each recorded unit to the filter's unit.
        let mut conv: HashMap<u32, Option<(f64, f64)>> = HashMap::new();
        let mut last_unit: (u32, Option<(f64, f64)>) = (u32::MAX - 1, None);
        let mut out = Vec::new();
        for id in ids {
            let (from, to) = t.postings.get(&id).copied().unwrap_or((0, 0));
            for r in from..to {
                let i = r as usize;
                if let Some(w) = time
                    && (t.start[i] == i64::MIN || t.start[i] > w.to || t.end[i] < w.from)
                {
                    continue;
                }
                match value {
                    Some(ValueCond::Concept(_))
                        if !vcodes.as_ref().is_some_and(|s| s.contains(&t.vcode[i])) =>
                    {
                        continue;
                    }
                    Some(ValueCond::Concept(_)) => {}
                    Some(ValueCond::Quantity { cond, .. }) => {
                        let v = t.value[i];
                        if v.is_nan() {
                            continue;
                        }
                        let v = match unit_target {
                            None => v,
                            Some(target) => {
                                let u = t.unit[i];
                                let f = if u == last_unit.0 {
                                    last_unit.1
                                } else {
                                    let f = *conv.entry(u).or_insert_with(|| {
                                        let from = if t.unit[i] == NONE {
                                            ""
                                        } else {
                                            self.strings.names[t.unit[i] as usize].as_str()
                                        };
                                        let a = kakehashi_terminology::ucum::convert(
                                            0.0, from, target,
                                        )?;
                                        Some((
                                            kakehashi_terminology::ucum::convert(
                                                1.0, from, target,
                                            )? - a,
                                            a,
                                        ))
                                    });
                                    last_unit = (u, f);
                                    f
                                };
                                match f {
                                    Some((mul, add)) => v * mul + add,
                                    None => {
                                        stats.unit_mismatches += 1;
                                        continue;
                                    }
                                }
                            }
                        };
                        if !cond.holds(v) {
                            continue;
                        }
                    }
                    None => {}
                }
                if concepts.iter().any(|(col, ok)| !ok.contains(&col[i]))
                    || refs.iter().any(|(col, ok)| !ok.contains(&col[i]))
                {
                    continue;
                }
                out.push(r);
            }
        }
        out
    }

    fn eval(&self, c: &CritPlan, today: NaiveDate, stats: &mut Stats) -> RoaringBitmap {
        match c {
            CritPlan::Resource {
                map,
                value: None,
                time: None,
                attrs,
                ..
            } if attrs.is_empty() => {
                let Some(t) = self.table(map) else {
                    return RoaringBitmap::new();
                };
                let mut b = RoaringBitmap::new();
                for id in self.code_ids(c, stats) {
                    if let Some(p) = t.code_patients.get(&id) {
                        b |= p;
                    }
                }
                b
            }
            CritPlan::Resource { map, .. } => {
                let Some(t) = self.table(map) else {
                    return RoaringBitmap::new();
                };
                // A plain bitset while scanning (one store per row), then a roaring bitmap.
                let mut bits = vec![0u64; self.birth.len().div_ceil(64)];
                for r in self.rows(c, stats) {
                    let p = t.patient[r as usize] as usize;
                    bits[p >> 6] |= 1 << (p & 63);
                }
                let ones = bits.iter().enumerate().flat_map(|(w, &word)| {
                    let mut x = word;
                    std::iter::from_fn(move || {
                        (x != 0).then(|| {
                            let b = x.trailing_zeros();
                            x &= x - 1;
                            (w as u32) * 64 + b
                        })
                    })
                });
                RoaringBitmap::from_sorted_iter(ones).unwrap_or_default()
            }
            CritPlan::SameResource { alternatives, .. } => {
                let mut any = RoaringBitmap::new();
                for alt in alternatives {
                    // resources (by key) matching every criterion of the alternative, with their patient
                    let mut both: Option<HashMap<u32, u32>> = None;
                    for part in alt {
                        let CritPlan::Resource { map, .. } = part else {
                            continue;
                        };
                        let Some(t) = self.table(map) else {
                            both = Some(HashMap::new());
                            continue;
                        };
                        let hits: HashMap<u32, u32> = self
                            .rows(part, stats)
                            .into_iter()
                            .map(|r| (t.id[r as usize], t.patient[r as usize]))
                            .collect();
                        both = Some(match both {
                            None => hits,
                            Some(mut b) => {
                                b.retain(|id, _| hits.contains_key(id));
                                b
                            }
                        });
                    }
                    any.extend(both.unwrap_or_default().into_values());
                }
                any
            }
            CritPlan::Age { cond, .. } => {
                let (ty, tm, td) = (today.year(), today.month(), today.day());
                // Patients without a birth date (year i32::MIN) never match; every patient of
                // the patient table has an entry, referenced-only patients have none.
                let ones = self
                    .birth_ymd
                    .iter()
                    .enumerate()
                    .filter_map(|(p, &(by, bm, bd))| {
                        if by == i32::MIN {
                            return None;
                        }
                        let age = ty - by - i32::from((tm, td) < (bm, bd));
                        holds(cond, age as f64).then_some(p as u32)
                    });
                RoaringBitmap::from_sorted_iter(ones).unwrap_or_default() & &self.known
            }
            CritPlan::Gender { allowed, .. } => {
                let mut ok = [false; 5];
                for g in allowed {
                    ok[gender_id(g) as usize] = true;
                }
                let ones = self
                    .gender
                    .iter()
                    .enumerate()
                    .filter_map(|(p, &g)| ok[g as usize].then_some(p as u32));
                RoaringBitmap::from_sorted_iter(ones).unwrap_or_default() & &self.known
            }
        }
    }

    /// The plan with the codes each criterion expanded to, for `cohort explain`, with ages as
    /// of today (UTC).
    pub fn explain(&self, q: &Query) -> Result<serde_json::Value, CohortError> {
        self.explain_as_of(q, Utc::now().date_naive())
    }

    /// The plan and its counts with ages as of `today`.
    pub fn explain_as_of(
        &self,
        q: &Query,
        today: NaiveDate,
    ) -> Result<serde_json::Value, CohortError> {
        let plan = kakehashi_cohort::compile(q)?;
        let mut stats = Stats::default();
        let describe = |c: &CritPlan, stats: &mut Stats| -> serde_json::Value {
            match c {
                CritPlan::Resource {
                    path,
                    map,
                    codes,
                    value,
                    time,
                    attrs,
                } => {
                    let found: Vec<String> = self
                        .code_ids(c, stats)
                        .into_iter()
                        .map(|i| self.codes.names[i as usize].replace(SEP, "|"))
                        .collect();
                    serde_json::json!({"criterion": path, "view": map.view.name(), "codes": codes.describe(), "codes_at_this_site": found,
                        "value": value, "time": time, "attributes": attrs.len(), "patients": self.eval(c, today, stats).len()})
                }
                CritPlan::SameResource { path, alternatives } => {
                    let alts: Vec<Vec<Vec<String>>> = alternatives
                        .iter()
                        .map(|a| {
                            a.iter()
                                .map(|p| {
                                    if let CritPlan::Resource { codes, .. } = p {
                                        codes.describe()
                                    } else {
                                        Vec::new()
                                    }
                                })
                                .collect()
                        })
                        .collect();
                    serde_json::json!({"criterion": path, "any_of_all_on_one_resource": alts, "patients": self.eval(c, today, stats).len()})
                }
                CritPlan::Age { path, cond } => {
                    serde_json::json!({"criterion": path, "age_years": cond, "patients": self.eval(c, today, stats).len()})
                }
                CritPlan::Gender { path, allowed } => {
                    serde_json::json!({"criterion": path, "gender": allowed, "patients": self.eval(c, today, stats).len()})
                }
            }
        };
        let inc: Vec<Vec<serde_json::Value>> = plan
            .inclusion
            .iter()
            .map(|g| g.iter().map(|c| describe(c, &mut stats)).collect())
            .collect();
        let exc: Vec<Vec<serde_json::Value>> = plan
            .exclusion
            .iter()
            .map(|g| g.iter().map(|c| describe(c, &mut stats)).collect())
            .collect();
        let count = self.eval_plan(&plan, today, &mut stats).len();
        Ok(serde_json::json!({
            "rule": "inclusion: every group (AND) of which any criterion (OR) holds; minus exclusion: any group (OR) of which every criterion (AND) holds",
            "inclusion": inc, "exclusion": exc, "count": count, "unmapped": stats.unmapped, "snapshot": self.tag, "as_of": today,
        }))
    }
}

fn holds(c: &NumCond, v: f64) -> bool {
    c.holds(v)
}

#[derive(Default)]
struct Stats {
    unmapped: std::collections::BTreeSet<String>,
    unit_mismatches: u64,
}
