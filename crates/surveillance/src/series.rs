//! Weekly series: cases of a definition, ICU admissions, deaths, and pathogen positivity, per
//! week and stratum (site, country, age group), from a site's rows.
//!
//! The rows are plain values that the engine reads from the site store ([`SiteRows`]); this
//! module finds the cases ([`find_cases`]) and tests ([`find_tests`]) and counts them by ISO week
//! on each country's local calendar ([`weekly_series`]). Weeks without any case or test inside
//! the series' range are present with zeros, so a series can go straight into MEM.

use crate::definition::{CaseDefinition, CodePattern, Evidence, normalize_icd};
use crate::per_patient;
use crate::week::{IsoWeek, ReportingConvention};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kakehashi_model::Country;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A patient row: what age and death need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatientRow {
    /// Patient key.
    pub id: String,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Time of death, if known.
    pub deceased_at: Option<DateTime<Utc>>,
    /// Country of the patient's address.
    pub country: Option<Country>,
}

/// An encounter row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EncounterRow {
    /// Encounter key.
    pub id: String,
    /// Patient key.
    pub patient_id: String,
    /// v3 ActCode class (`IMP`, `AMB`, `EMER`).
    pub class_code: Option<String>,
    /// Encounter type codes (kontaktart `intensivstationaer` marks an ICU stay).
    pub type_codes: Vec<String>,
    /// Start (admission).
    pub start: Option<DateTime<Utc>>,
    /// End (discharge).
    pub end: Option<DateTime<Utc>>,
    /// Discharge disposition code (`07` Tod in Germany, `deceased` in Japan).
    pub discharge_disposition: Option<String>,
    /// The encounter this one is part of (a ward or ICU stay inside a hospital stay).
    pub part_of: Option<String>,
}

/// A diagnosis row (one coding of a condition).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiagnosisRow {
    /// Patient key.
    pub patient_id: String,
    /// Encounter key, if referenced.
    pub encounter_id: Option<String>,
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Onset, else recorded date.
    pub date: Option<DateTime<Utc>>,
}

/// An observation row (one coding of an observation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservationRow {
    /// Observation key (rows of one observation share it).
    pub id: String,
    /// Patient key.
    pub patient_id: String,
    /// Encounter key, if referenced.
    pub encounter_id: Option<String>,
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Effective time.
    pub effective: Option<DateTime<Utc>>,
    /// Numeric value.
    pub value: Option<f64>,
    /// UCUM unit of the value.
    pub unit: Option<String>,
    /// Code of a coded value (SNOMED CT detected / not detected).
    pub value_code: Option<String>,
    /// Interpretation code (POS, NEG, ...).
    pub interpretation: Option<String>,
    /// Text value.
    pub value_string: Option<String>,
}

/// Everything a series needs from one site.
#[derive(Debug, Clone)]
pub struct SiteRows {
    /// Site name.
    pub site: String,
    /// The site's country (decides the local calendar).
    pub country: Country,
    /// How many patients the site has (the population the series is over).
    pub population: u64,
    /// Patients (may be only those the diagnoses and observations name).
    pub patients: Vec<PatientRow>,
    /// Encounters (may be only those of the patients the diagnoses and observations name).
    pub encounters: Vec<EncounterRow>,
    /// Diagnoses (may be pre-filtered to the definition's codes).
    pub diagnoses: Vec<DiagnosisRow>,
    /// Observations (may be pre-filtered to the definition's and the panel's codes).
    pub observations: Vec<ObservationRow>,
}

/// ICD-10 code systems whose codes the definitions match.
pub const ICD10_SYSTEMS: [&str; 3] = [
    kakehashi_model::systems::ICD10_GM,
    kakehashi_model::systems::ICD10_JP,
    kakehashi_model::systems::ICD10_WHO,
];

/// Discharge disposition codes meaning death: German Entlassungsgrund `07` (Tod, with its
/// three-digit forms `079`) and the `deceased` code Japanese sites send (docs/fhir-conventions.md).
pub const DIED_DISPOSITIONS: [&str; 3] = ["07", "079", "deceased"];

/// Encounter type code of an ICU stay (kontaktart-de; Japanese sites use the same code).
pub const ICU_TYPE: &str = "intensivstationaer";

/// One case: an encounter that meets the definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Patient key.
    pub patient_id: String,
    /// Encounter key.
    pub encounter_id: String,
    /// Admission time.
    pub admitted: DateTime<Utc>,
    /// Reporting week of admission (local calendar of the site's country).
    pub week: IsoWeek,
    /// Age in whole years at admission.
    pub age: Option<u32>,
    /// Whether the stay (or a stay inside it) was in intensive care.
    pub icu: bool,
    /// Whether the patient died during the stay.
    pub died: bool,
}

/// Diagnosis codes with the time each was recorded.
type DatedCodes = Vec<(String, Option<DateTime<Utc>>)>;

/// Finds the cases of a definition among a site's encounters.
pub fn find_cases(def: &CaseDefinition, rows: &SiteRows) -> Vec<Case> {
    // Top-level stay of every encounter (following part_of up to 8 levels).
    let by_id: HashMap<&str, &EncounterRow> =
        rows.encounters.iter().map(|e| (e.id.as_str(), e)).collect();
    let clock = LocalClock::new(rows.country);
    let top = |id: &str| -> Option<&str> {
        let mut cur = by_id.get(id)?;
        for _ in 0..8 {
            match cur.part_of.as_deref().and_then(|p| by_id.get(p)) {
                Some(parent) => cur = parent,
                None => break,
            }
        }
        Some(cur.id.as_str())
    };
    let mut icu_stays: HashMap<&str, bool> = HashMap::default();
    for e in &rows.encounters {
        if (e.type_codes.iter().any(|t| t == ICU_TYPE) || e.class_code.as_deref() == Some("ICU"))
            && let Some(t) = top(&e.id)
        {
            icu_stays.insert(t, true);
        }
    }
    // Evidence per top-level stay (linked) and per patient (unlinked, matched by date).
    let patterns: Vec<Vec<Vec<CodePattern>>> = def
        .criteria
        .iter()
        .map(|c| {
            c.any
                .iter()
                .map(|e| match e {
                    Evidence::Diagnosis { diagnosis, .. } => diagnosis
                        .iter()
                        .filter_map(|p| CodePattern::parse(p).ok())
                        .collect(),
                    Evidence::Observation { .. } => Vec::new(),
                })
                .collect()
        })
        .collect();
    let mut dx_by_stay: HashMap<&str, DatedCodes> = HashMap::default();
    let mut dx_by_patient: HashMap<&str, DatedCodes> = HashMap::default();
    for d in &rows.diagnoses {
        if !ICD10_SYSTEMS.contains(&d.system.as_str()) {
            continue;
        }
        let code = normalize_icd(&d.code);
        if !patterns
            .iter()
            .flatten()
            .flatten()
            .any(|p| p.matches(&code))
        {
            continue;
        }
        match d.encounter_id.as_deref().and_then(top) {
            Some(stay) => dx_by_stay.entry(stay).or_default().push((code, d.date)),
            None => dx_by_patient
                .entry(d.patient_id.as_str())
                .or_default()
                .push((code, d.date)),
        }
    }
    let obs_codes: Vec<(String, String)> = def.observation_codes();
    let obs_wanted: HashSet<(&str, &str)> = obs_codes
        .iter()
        .map(|(s, c)| (s.as_str(), c.as_str()))
        .collect();
    let mut obs_by_stay: HashMap<&str, Vec<&ObservationRow>> = HashMap::default();
    let mut obs_by_patient: HashMap<&str, Vec<&ObservationRow>> = HashMap::default();
    for o in &rows.observations {
        if obs_wanted.is_empty() || !obs_wanted.contains(&(o.system.as_str(), o.code.as_str())) {
            continue;
        }
        match o.encounter_id.as_deref().and_then(top) {
            Some(stay) => obs_by_stay.entry(stay).or_default().push(o),
            None => obs_by_patient
                .entry(o.patient_id.as_str())
                .or_default()
                .push(o),
        }
    }

    let mut met_stays: Vec<&EncounterRow> = Vec::new();
    for e in &rows.encounters {
        if e.part_of.as_deref().is_some_and(|p| by_id.contains_key(p)) {
            continue; // counted through its top-level stay
        }
        if !def.encounter.classes.is_empty()
            && !e
                .class_code
                .as_deref()
                .is_some_and(|c| def.encounter.classes.iter().any(|k| k == c))
        {
            continue;
        }
        let Some(start) = e.start else { continue };
        let end = e.end;
        let met = def.criteria.iter().zip(&patterns).all(|(c, pats)| {
            let lo = c
                .days_before_admission
                .map(|d| start - Duration::days(d as i64));
            let hi = match c.days_after_admission {
                Some(d) => Some(start + Duration::days(d as i64)),
                None => end,
            };
            let in_window = |t: Option<DateTime<Utc>>, linked: bool| match t {
                None => linked,
                Some(t) => {
                    lo.is_none_or(|lo| t >= lo)
                        && hi.is_none_or(|hi| t <= hi)
                        && (linked || lo.is_some() || t >= start)
                }
            };
            c.any.iter().zip(pats).any(|(ev, pats)| match ev {
                Evidence::Diagnosis { .. } => {
                    let hit = |list: Option<&DatedCodes>, linked: bool| {
                        list.is_some_and(|l| {
                            l.iter().any(|(code, t)| {
                                pats.iter().any(|p| p.matches(code)) && in_window(*t, linked)
                            })
                        })
                    };
                    hit(dx_by_stay.get(e.id.as_str()), true)
                        || hit(dx_by_patient.get(e.patient_id.as_str()), false)
                }
                Evidence::Observation {
                    observation,
                    at_least,
                    unit,
                } => {
                    let ok = |o: &&ObservationRow, linked: bool| {
                        observation.iter().any(|s| {
                            s.split_once('|') == Some((o.system.as_str(), o.code.as_str()))
                        }) && in_window(o.effective, linked)
                            && match at_least {
                                None => true,
                                Some(b) => o
                                    .value
                                    .and_then(|v| to_unit(v, o.unit.as_deref(), unit.as_deref()))
                                    .is_some_and(|v| v >= *b),
                            }
                    };
                    obs_by_stay
                        .get(e.id.as_str())
                        .is_some_and(|l| l.iter().any(|o| ok(o, true)))
                        || obs_by_patient
                            .get(e.patient_id.as_str())
                            .is_some_and(|l| l.iter().any(|o| ok(o, false)))
                }
            })
        });
        if met {
            met_stays.push(e);
        }
    }
    let patients = patients_of(rows, met_stays.iter().map(|e| e.patient_id.as_str()));
    let mut cases = Vec::with_capacity(met_stays.len());
    for e in met_stays {
        let Some(start) = e.start else { continue };
        let end = e.end;
        let p = patients.get(e.patient_id.as_str());
        let died_disp = e
            .discharge_disposition
            .as_deref()
            .is_some_and(|d| DIED_DISPOSITIONS.contains(&d));
        let died_date = p.and_then(|p| p.deceased_at).is_some_and(|t| {
            t >= start - Duration::days(1) && end.is_none_or(|end| t <= end + Duration::days(1))
        });
        cases.push(Case {
            patient_id: e.patient_id.clone(),
            encounter_id: e.id.clone(),
            admitted: start,
            week: IsoWeek::of(clock.date(start)),
            age: p
                .and_then(|p| p.birth_date)
                .map(|b| age_at(b, clock.date(start))),
            icu: icu_stays.contains_key(e.id.as_str()),
            died: died_disp || died_date,
        });
    }
    cases
}

/// Local calendar dates of UTC instants, caching each year's summer-time bounds.
struct LocalClock {
    country: Country,
    cache: std::cell::Cell<Option<(i32, i64, i64)>>,
}

impl LocalClock {
    fn new(country: Country) -> Self {
        Self {
            country,
            cache: std::cell::Cell::new(None),
        }
    }

    fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        use chrono::Datelike;
        let hours = match self.country {
            Country::Japan => 9,
            Country::Germany => {
                let y = t.year();
                let (start, end) = match self.cache.get() {
                    Some((cy, s, e)) if cy == y => (s, e),
                    _ => {
                        // The first instants of summer and of winter time, read from the tz
                        // database once per year (the same table local_date uses).
                        let s = crate::week::summer_time_bounds(y);
                        self.cache.set(Some((y, s.0, s.1)));
                        s
                    }
                };
                let ts = t.timestamp();
                if ts >= start && ts < end { 2 } else { 1 }
            }
        };
        (t + Duration::hours(hours)).date_naive()
    }
}

/// The patient rows of the given ids (one pass over the patients, keeping only those needed).
fn patients_of<'a>(
    rows: &'a SiteRows,
    ids: impl Iterator<Item = &'a str>,
) -> HashMap<&'a str, &'a PatientRow> {
    let wanted: HashSet<&str> = ids.collect();
    rows.patients
        .iter()
        .filter(|p| wanted.contains(p.id.as_str()))
        .map(|p| (p.id.as_str(), p))
        .collect()
}

fn to_unit(v: f64, from: Option<&str>, to: Option<&str>) -> Option<f64> {
    match (from, to) {
        (_, None) => Some(v),
        (Some(a), Some(b)) if a == b => Some(v),
        (Some("[degF]"), Some("Cel")) => Some((v - 32.0) * 5.0 / 9.0),
        (Some("Cel"), Some("[degF]")) => Some(v * 9.0 / 5.0 + 32.0),
        // A temperature without a unit: read by its magnitude.
        (None, Some("Cel")) if (30.0..45.0).contains(&v) => Some(v),
        _ => None,
    }
}

/// Whole years from `birth` to `on`.
pub fn age_at(birth: NaiveDate, on: NaiveDate) -> u32 {
    use chrono::Datelike;
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Pathogens whose tests are counted, with the codes of their tests (from `data/pathogens.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathogenPanel {
    /// The pathogens.
    #[serde(rename = "pathogen")]
    pub pathogens: Vec<Pathogen>,
    /// JLAC10 identification codes (characters 6-9) of tests for an infection → test kind
    /// (`1410` antigen, `1450` nucleic acid); with a pathogen's analyte code they make a JLAC10
    /// code the table does not list countable (as "unmapped").
    #[serde(default)]
    pub jlac10_identification: BTreeMap<String, String>,
}

/// One pathogen and its test codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pathogen {
    /// Short name (`influenza`, `rsv`, `sars-cov-2`).
    pub name: String,
    /// Title.
    pub title: String,
    /// LOINC codes of its tests.
    pub loinc: Vec<String>,
    /// JLAC10 codes of its tests (filled from the terminology table by [`PathogenPanel::shipped`]).
    #[serde(default)]
    pub jlac10: Vec<String>,
    /// JLAC10 analyte codes (first 5 characters) of the pathogen.
    #[serde(default)]
    pub jlac10_analytes: Vec<String>,
}

/// The text of `data/pathogens.toml`.
pub(crate) const PATHOGENS_TOML: &str = include_str!("../data/pathogens.toml");

impl PathogenPanel {
    /// The shipped panel (influenza, RSV, SARS-CoV-2 NAA and antigen tests) with the JLAC10
    /// codes of the terminology table (`crates/terminology/data/jlac10-loinc.tsv`).
    pub fn shipped() -> Self {
        let panel: PathogenPanel =
            toml::from_str(PATHOGENS_TOML).expect("the shipped pathogen panel parses (tested)");
        panel.with_terminology()
    }

    /// Adds the JLAC10 codes of the terminology table: those mapping to a LOINC code of a
    /// pathogen, and those the table assigns to a pathogen by name.
    pub fn with_terminology(self) -> Self {
        let tests = kakehashi_terminology::lab::pathogen_tests();
        let mut p = self.with_jlac10(kakehashi_terminology::jlac10_map().rows.iter().filter_map(
            |r| {
                let l = kakehashi_terminology::jlac10_to_loinc(r.source())?;
                Some((r.source(), l))
            },
        ));
        for t in tests {
            if let Some(q) = p.pathogens.iter_mut().find(|q| q.name == t.pathogen)
                && !q.jlac10.iter().any(|c| c == t.jlac10)
            {
                q.jlac10.push(t.jlac10.to_string());
            }
        }
        p
    }

    /// The pathogen of a JLAC10 code the panel does not list, by its analyte (characters 1-5)
    /// and a test identification (characters 6-9): such a result is counted as "unmapped".
    pub fn pathogen_of_jlac10_analyte(&self, code: &str) -> Option<usize> {
        if code.len() != 17
            || !code.is_ascii()
            || !self.jlac10_identification.contains_key(&code[5..9])
        {
            return None;
        }
        self.pathogens
            .iter()
            .position(|p| p.jlac10_analytes.iter().any(|a| *a == code[..5]))
    }

    /// Which pathogen a coded test is for.
    pub fn pathogen_of(&self, system: &str, code: &str) -> Option<usize> {
        self.pathogens.iter().position(|p| {
            (system == kakehashi_model::systems::LOINC && p.loinc.iter().any(|c| c == code))
                || (system == kakehashi_model::systems::JLAC10
                    && p.jlac10.iter().any(|c| c == code))
        })
    }

    /// (system, code) → pathogen index, for lookups in a scan.
    pub fn index(&self) -> HashMap<(&str, &str), usize> {
        let mut m = HashMap::default();
        for (i, p) in self.pathogens.iter().enumerate() {
            for c in &p.loinc {
                m.entry((kakehashi_model::systems::LOINC, c.as_str()))
                    .or_insert(i);
            }
            for c in &p.jlac10 {
                m.entry((kakehashi_model::systems::JLAC10, c.as_str()))
                    .or_insert(i);
            }
        }
        m
    }

    /// Adds JLAC10 codes to each pathogen through a JLAC10 → LOINC map.
    pub fn with_jlac10<'a>(mut self, map: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (jlac, loinc) in map {
            for p in &mut self.pathogens {
                if p.loinc.iter().any(|c| c == loinc) && !p.jlac10.iter().any(|c| c == jlac) {
                    p.jlac10.push(jlac.to_string());
                }
            }
        }
        self
    }
}

/// SNOMED CT codes of a positive result: 260373001 Detected, 10828004 Positive.
pub const POSITIVE_VALUES: [&str; 2] = ["260373001", "10828004"];
/// SNOMED CT codes of a negative result: 260415000 Not detected, 260385009 Negative.
pub const NEGATIVE_VALUES: [&str; 2] = ["260415000", "260385009"];

/// Reads a test's result: `Some(true)` positive, `Some(false)` negative, `None` unreadable.
pub fn test_result(o: &ObservationRow) -> Option<bool> {
    result_of(
        o.value_code.as_deref(),
        o.interpretation.as_deref(),
        o.value_string.as_deref(),
    )
}

/// Reads a test's result from its coded value (SNOMED CT), its interpretation code and its
/// text value, in that order: `Some(true)` positive, `Some(false)` negative, `None` unreadable.
pub fn result_of(
    value_code: Option<&str>,
    interpretation: Option<&str>,
    value_string: Option<&str>,
) -> Option<bool> {
    if let Some(v) = value_code {
        if POSITIVE_VALUES.contains(&v) {
            return Some(true);
        }
        if NEGATIVE_VALUES.contains(&v) {
            return Some(false);
        }
    }
    match interpretation {
        Some("POS" | "DET" | "A") => return Some(true),
        Some("NEG" | "ND" | "N") => return Some(false),
        _ => {}
    }
    match value_string.map(|s| s.trim().to_lowercase()) {
        Some(s) if matches!(s.as_str(), "positive" | "detected" | "pos" | "+" | "陽性") => {
            Some(true)
        }
        Some(s)
            if matches!(
                s.as_str(),
                "negative" | "not detected" | "neg" | "-" | "陰性"
            ) =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// One pathogen test with a readable result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    /// Patient key.
    pub patient_id: String,
    /// Effective time of the test.
    pub at: DateTime<Utc>,
    /// Index into the panel's pathogens.
    pub pathogen: usize,
    /// Positive or negative.
    pub positive: bool,
    /// Reporting week of the specimen (effective time).
    pub week: IsoWeek,
    /// Age at the test.
    pub age: Option<u32>,
    /// Coded only with a JLAC10 code the terminology table does not list (counted by its
    /// analyte; reported in the series' notes).
    pub unmapped: bool,
}

/// Finds the pathogen tests with a readable result. An observation with several codings (JLAC10
/// and LOINC) counts once. A JLAC10 code the panel does not list but whose analyte and
/// identification name a pathogen test counts too, marked `unmapped`, unless the same
/// observation has a listed coding.
pub fn find_tests(panel: &PathogenPanel, rows: &SiteRows) -> Vec<Test> {
    let clock = LocalClock::new(rows.country);
    let index = panel.index();
    let mut seen: HashSet<(&str, usize)> = HashSet::default();
    let mut found = Vec::new();
    for unmapped in [false, true] {
        for o in &rows.observations {
            let pi = if unmapped {
                if o.system != kakehashi_model::systems::JLAC10
                    || index.contains_key(&(o.system.as_str(), o.code.as_str()))
                {
                    continue;
                }
                let Some(pi) = panel.pathogen_of_jlac10_analyte(&o.code) else {
                    continue;
                };
                pi
            } else {
                let Some(&pi) = index.get(&(o.system.as_str(), o.code.as_str())) else {
                    continue;
                };
                pi
            };
            let Some(t) = o.effective else { continue };
            if !seen.insert((o.id.as_str(), pi)) {
                continue;
            }
            let Some(positive) = test_result(o) else {
                continue;
            };
            found.push((o, pi, positive, t, unmapped));
        }
    }
    let patients = patients_of(rows, found.iter().map(|f| f.0.patient_id.as_str()));
    found
        .into_iter()
        .map(|(o, pi, positive, at, unmapped)| {
            let day = clock.date(at);
            Test {
                patient_id: o.patient_id.clone(),
                at,
                pathogen: pi,
                positive,
                week: IsoWeek::of(day),
                age: patients
                    .get(o.patient_id.as_str())
                    .and_then(|p| p.birth_date)
                    .map(|b| age_at(b, day)),
                unmapped,
            }
        })
        .collect()
}

/// Age bands, e.g. ICOSARI's `0-4,5-14,15-34,35-59,60-79,80+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBands {
    /// Lower bounds (inclusive) of each band, increasing, starting at 0.
    pub lower: Vec<u32>,
}

impl Default for AgeBands {
    /// RKI ICOSARI's bands: 0–4, 5–14, 15–34, 35–59, 60–79, 80+.
    fn default() -> Self {
        Self {
            lower: vec![0, 5, 15, 35, 60, 80],
        }
    }
}

/// Text that is not a list of age bands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgeBandsError {
    /// Nothing given.
    #[error("no age bands given")]
    Empty,
    /// An open band (`N+`) before the last.
    #[error("age band {band:?}: only the last band may be open (N+)")]
    OpenNotLast {
        /// The band.
        band: String,
    },
    /// Neither `N-M` nor `N+`.
    #[error("age band {band:?} is not N-M or N+")]
    Syntax {
        /// The band.
        band: String,
    },
    /// A bound is not a whole number.
    #[error("age band {band:?}: {text:?} is not a whole number")]
    NotWhole {
        /// The band.
        band: String,
        /// The bound's text.
        text: String,
    },
    /// The band ends before it starts.
    #[error("age band {band:?} ends before it starts")]
    Reversed {
        /// The band.
        band: String,
    },
    /// A gap or overlap with the band before.
    #[error("age band {band:?} should start at {expected} (bands must be contiguous from 0)")]
    Gap {
        /// The band.
        band: String,
        /// Where it should start.
        expected: u32,
    },
    /// The last band is closed.
    #[error("the last age band must be open, e.g. {next}+")]
    LastNotOpen {
        /// Where the open band would start.
        next: u32,
    },
}

/// A breakdown that is not site, country or age.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown breakdown {text:?}: expected site, country or age")]
pub struct StratumError {
    /// The text read.
    pub text: String,
}

impl AgeBands {
    /// Parses `0-4,5-14,15-34,35-59,60-79,80+`: contiguous bands from 0, the last open.
    pub fn parse(s: &str) -> Result<Self, AgeBandsError> {
        let parts: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(AgeBandsError::Empty);
        }
        let mut lower = Vec::new();
        let mut expect = 0u32;
        for (i, p) in parts.iter().enumerate() {
            let band = || (*p).to_owned();
            let last = i + 1 == parts.len();
            let (lo, hi) = if let Some(lo) = p.strip_suffix('+') {
                if !last {
                    return Err(AgeBandsError::OpenNotLast { band: band() });
                }
                let lo = lo
                    .parse::<u32>()
                    .map_err(|_| AgeBandsError::Syntax { band: band() })?;
                (lo, None)
            } else {
                let (a, b) = p
                    .split_once('-')
                    .ok_or_else(|| AgeBandsError::Syntax { band: band() })?;
                let whole = |t: &str| {
                    t.trim()
                        .parse::<u32>()
                        .map_err(|_| AgeBandsError::NotWhole {
                            band: band(),
                            text: t.to_owned(),
                        })
                };
                let (a, b) = (whole(a)?, whole(b)?);
                if b < a {
                    return Err(AgeBandsError::Reversed { band: band() });
                }
                (a, Some(b))
            };
            if lo != expect {
                return Err(AgeBandsError::Gap {
                    band: band(),
                    expected: expect,
                });
            }
            lower.push(lo);
            match hi {
                Some(h) => expect = h + 1,
                None => return Ok(Self { lower }),
            }
        }
        Err(AgeBandsError::LastNotOpen { next: expect })
    }

    /// Label of the band an age falls in (`0-4`, `80+`).
    pub fn label(&self, age: u32) -> String {
        let i = self.lower.iter().rposition(|&l| age >= l).unwrap_or(0);
        self.label_at(i)
    }

    fn label_at(&self, i: usize) -> String {
        match self.lower.get(i + 1) {
            Some(next) => format!("{}-{}", self.lower[i], next - 1),
            None => format!("{}+", self.lower[i]),
        }
    }

    /// Every band label, in order.
    pub fn labels(&self) -> Vec<String> {
        (0..self.lower.len()).map(|i| self.label_at(i)).collect()
    }
}

/// What a series is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stratum {
    /// Per site.
    Site,
    /// Per country.
    Country,
    /// Per age band.
    Age,
}

impl std::str::FromStr for Stratum {
    type Err = StratumError;
    fn from_str(s: &str) -> Result<Self, StratumError> {
        match s.trim() {
            "site" => Ok(Stratum::Site),
            "country" => Ok(Stratum::Country),
            "age" => Ok(Stratum::Age),
            o => Err(StratumError { text: o.to_owned() }),
        }
    }
}

/// Options of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// Breakdowns; empty: one series for everything given.
    pub by: Vec<Stratum>,
    /// Age bands for [`Stratum::Age`].
    pub age_bands: AgeBands,
    /// First week to report (default: the first week with data).
    pub from: Option<IsoWeek>,
    /// Last week to report (default: the last week with data).
    pub to: Option<IsoWeek>,
    /// Count patients per week, each in at most this many weeks ([`crate::per_patient`]): the
    /// form a site releases. `None` counts every admission and test (the site's own analyses;
    /// such a series cannot be released).
    #[serde(default)]
    pub max_weeks_per_patient: Option<u32>,
}

impl Default for SeriesSpec {
    fn default() -> Self {
        Self {
            by: vec![Stratum::Site],
            age_bands: AgeBands::default(),
            from: None,
            to: None,
            max_weeks_per_patient: None,
        }
    }
}

/// Counts of one pathogen in one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Positivity {
    /// Tests with a readable result.
    pub tests: u64,
    /// Positive tests.
    pub positives: u64,
}

impl Positivity {
    /// positives / tests, if any tests.
    pub fn share(&self) -> Option<f64> {
        (self.tests > 0).then(|| self.positives as f64 / self.tests as f64)
    }
}

/// One row of a series: a stratum and a week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRow {
    /// Site name, when broken down by site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Country, when broken down by country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// Age band, when broken down by age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_group: Option<String>,
    /// The week.
    pub week: IsoWeek,
    /// Cases (admissions meeting the definition).
    pub cases: u64,
    /// Cases with intensive care.
    pub icu: u64,
    /// Cases who died in hospital.
    pub deaths: u64,
    /// Per pathogen (in the panel's order): tests and positives.
    pub positivity: Vec<Positivity>,
}

/// A weekly series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The definition's name.
    pub definition: String,
    /// Pathogen names, in the order of each row's `positivity`.
    pub pathogens: Vec<String>,
    /// Breakdowns.
    pub by: Vec<Stratum>,
    /// Rows ordered by stratum, then week.
    pub rows: Vec<SeriesRow>,
    /// Caveats the reader must know (e.g. a main-diagnosis rule read as any diagnosis).
    pub notes: Vec<String>,
    /// Patients the series' sites hold (the denominator of rates), when known.
    #[serde(default)]
    pub population: Option<u64>,
    /// Counted per patient-week with at most this many weeks per patient
    /// ([`crate::per_patient`]); `None`: admissions and tests counted as events.
    #[serde(default)]
    pub max_weeks_per_patient: Option<u32>,
}

type Key = (Option<String>, Option<Country>, Option<String>);

/// One stratum's week: cases, cases in intensive care, deaths, and tests by pathogen.
type WeekTally = (u64, u64, u64, Vec<Positivity>);

/// Counts cases and tests per stratum and week.
pub fn weekly_series(
    def: &CaseDefinition,
    panel: &PathogenPanel,
    site: &str,
    country: Country,
    cases: &[Case],
    tests: &[Test],
    spec: &SeriesSpec,
) -> Series {
    let by_age = spec.by.contains(&Stratum::Age);
    // Strata are the age bands (plus "unknown") when broken down by age, else one; site and
    // country are constant within one site's series.
    let mut labels: Vec<Option<String>> = if by_age {
        spec.age_bands
            .labels()
            .into_iter()
            .map(Some)
            .chain([Some("unknown".to_string())])
            .collect()
    } else {
        vec![None]
    };
    let nb = spec.age_bands.lower.len();
    let slot = |age: Option<u32>| -> usize {
        if !by_age {
            return 0;
        }
        match age {
            Some(a) => spec
                .age_bands
                .lower
                .iter()
                .rposition(|&l| a >= l)
                .unwrap_or(0),
            None => nb,
        }
    };
    let np = panel.pathogens.len();
    let mut acc: Vec<BTreeMap<IsoWeek, WeekTally>> = vec![BTreeMap::new(); labels.len()];
    let inside = |w: IsoWeek| spec.from.is_none_or(|f| w >= f) && spec.to.is_none_or(|t| w <= t);
    let fresh = || (0, 0, 0, vec![Positivity::default(); np]);
    if let Some(k) = spec.max_weeks_per_patient {
        // released form: patients per week, at most k weeks per patient (crate::per_patient)
        let events = cases
            .iter()
            .filter(|c| inside(c.week))
            .map(|c| {
                let e = per_patient::Event::Case {
                    icu: c.icu,
                    died: c.died,
                };
                (c.patient_id.as_str(), c.week, c.admitted, slot(c.age), e)
            })
            .chain(tests.iter().filter(|t| inside(t.week)).map(|t| {
                let e = per_patient::Event::Test {
                    pathogen: t.pathogen,
                    positive: t.positive,
                };
                (t.patient_id.as_str(), t.week, t.at, slot(t.age), e)
            }));
        for (week, pw) in per_patient::patient_weeks(events, np, k) {
            let r = acc[pw.stratum].entry(week).or_insert_with(fresh);
            r.0 += u64::from(pw.case);
            r.1 += u64::from(pw.icu);
            r.2 += u64::from(pw.died);
            for (x, (t, p)) in r.3.iter_mut().zip(pw.tested.iter().zip(&pw.positive)) {
                x.tests += u64::from(*t);
                x.positives += u64::from(*p);
            }
        }
    } else {
        for c in cases.iter().filter(|c| inside(c.week)) {
            let r = acc[slot(c.age)].entry(c.week).or_insert_with(fresh);
            r.0 += 1;
            r.1 += u64::from(c.icu);
            r.2 += u64::from(c.died);
        }
        for t in tests.iter().filter(|t| inside(t.week)) {
            let r = acc[slot(t.age)].entry(t.week).or_insert_with(fresh);
            r.3[t.pathogen].tests += 1;
            r.3[t.pathogen].positives += u64::from(t.positive);
        }
    }
    // The "unknown" age stratum appears only when some row has no age.
    if by_age && acc[nb].is_empty() {
        acc.pop();
        labels.pop();
    }
    // Every stratum covers the same weeks: from the first to the last week seen anywhere.
    let first = spec
        .from
        .or_else(|| acc.iter().filter_map(|m| m.keys().next().copied()).min());
    let last = spec.to.or_else(|| {
        acc.iter()
            .filter_map(|m| m.keys().next_back().copied())
            .max()
    });
    let site_label = spec.by.contains(&Stratum::Site).then(|| site.to_string());
    let country_label = spec.by.contains(&Stratum::Country).then_some(country);
    let mut rows = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        for (mut weeks, label) in acc.into_iter().zip(labels) {
            for w in first.range_inclusive(last) {
                let (cases, icu, deaths, positivity) = weeks
                    .remove(&w)
                    .unwrap_or_else(|| (0, 0, 0, vec![Positivity::default(); np]));
                rows.push(SeriesRow {
                    site: site_label.clone(),
                    country: country_label,
                    age_group: label.clone(),
                    week: w,
                    cases,
                    icu,
                    deaths,
                    positivity,
                });
            }
        }
    }
    let mut notes = Vec::new();
    if def.needs_diagnosis_rank() {
        notes.push(format!(
            "{}: the main-diagnosis rule was applied as 'any diagnosis of the stay' (the site tables hold no diagnosis rank)",
            def.name
        ));
    }
    let unmapped = tests.iter().filter(|t| t.unmapped).count();
    if unmapped > 0 {
        notes.push(format!(
            "unmapped: {unmapped} test results carried only a JLAC10 code that the JLAC10-LOINC table does not list; they were counted by their JLAC10 analyte and identification codes"
        ));
    }
    Series {
        definition: def.name.clone(),
        pathogens: panel.pathogens.iter().map(|p| p.name.clone()).collect(),
        by: spec.by.clone(),
        rows,
        notes,
        population: None,
        max_weeks_per_patient: spec.max_weeks_per_patient,
    }
}

impl Series {
    /// Merges series of the same definition from several sites (rows of equal stratum and week
    /// are added; populations add up, and are unknown if any part's is). Used to pool sites per
    /// country.
    pub fn merge(parts: &[Series]) -> Option<Series> {
        let first = parts.first()?;
        let mut acc: BTreeMap<(Key, IsoWeek), SeriesRow> = BTreeMap::new();
        for p in parts {
            for r in &p.rows {
                let k = ((r.site.clone(), r.country, r.age_group.clone()), r.week);
                match acc.get_mut(&k) {
                    Some(a) => {
                        a.cases += r.cases;
                        a.icu += r.icu;
                        a.deaths += r.deaths;
                        for (x, y) in a.positivity.iter_mut().zip(&r.positivity) {
                            x.tests += y.tests;
                            x.positives += y.positives;
                        }
                    }
                    None => {
                        acc.insert(k, r.clone());
                    }
                }
            }
        }
        let mut notes: Vec<String> = parts.iter().flat_map(|p| p.notes.iter().cloned()).collect();
        notes.dedup();
        Some(Series {
            definition: first.definition.clone(),
            pathogens: first.pathogens.clone(),
            by: first.by.clone(),
            rows: acc.into_values().collect(),
            notes,
            population: parts.iter().map(|p| p.population).sum(),
            // parts counted alike keep their bound per part; mixed parts have none
            max_weeks_per_patient: parts
                .iter()
                .all(|p| p.max_weeks_per_patient == first.max_weeks_per_patient)
                .then_some(first.max_weeks_per_patient)
                .flatten(),
        })
    }

    /// The series of one stratum as MEM seasons: weekly values from the season's first to last
    /// week (the country's convention, e.g. weeks 40–20), one season per column; week 53 is
    /// folded into week 52 as their mean, so every season has the same rows. `value` maps a row
    /// to the number modelled (cases, or a rate). Seasons without all their weeks are left out
    /// unless `partial` is set (then the missing weeks are missing).
    pub fn mem_input(
        rows: &[&SeriesRow],
        conv: &ReportingConvention,
        value: impl Fn(&SeriesRow) -> f64,
        partial: bool,
    ) -> crate::mem::MemInput {
        let (s0, s1) = (conv.season_start_week, conv.season_end_week);
        let week_order: Vec<u32> = if s0 > s1 {
            (s0..=52).chain(1..=s1).collect()
        } else {
            (s0..=s1).collect()
        };
        let mut by_season: BTreeMap<i32, BTreeMap<u32, Vec<f64>>> = BTreeMap::new();
        for r in rows {
            let w = r.week.week();
            let season = if w >= s0 {
                r.week.year()
            } else {
                r.week.year() - 1
            };
            let in_season = if s0 > s1 {
                w >= s0 || w <= s1
            } else {
                w >= s0 && w <= s1
            };
            if !in_season {
                continue;
            }
            let slot = if w == 53 { 52 } else { w };
            by_season
                .entry(season)
                .or_default()
                .entry(slot)
                .or_default()
                .push(value(r));
        }
        let mut seasons = Vec::new();
        for (season, weeks) in by_season {
            let values: Vec<Option<f64>> = week_order
                .iter()
                .map(|w| weeks.get(w).map(|v| v.iter().sum::<f64>() / v.len() as f64))
                .collect();
            if !partial && values.iter().any(Option::is_none) {
                continue;
            }
            let name = if s0 > s1 {
                format!("{}/{}", season, season + 1)
            } else {
                season.to_string()
            };
            seasons.push(crate::mem::SeasonSeries { name, values });
        }
        crate::mem::MemInput {
            weeks: week_order.iter().map(u32::to_string).collect(),
            seasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_clock_agrees_with_the_calendar_rule() {
        let de = LocalClock::new(Country::Germany);
        let start = NaiveDate::from_ymd_opt(2019, 1, 1)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap()
            .and_utc();
        // Every 30 minutes across 2019–2025, including both switches each year.
        for i in 0..(7 * 366 * 48) {
            let t = start + Duration::minutes(30 * i);
            assert_eq!(
                de.date(t),
                crate::week::local_date(Country::Germany, t),
                "{t}"
            );
        }
        let jp = LocalClock::new(Country::Japan);
        assert_eq!(
            jp.date(start),
            crate::week::local_date(Country::Japan, start)
        );
    }

    #[test]
    fn icosari_age_bands() {
        let b = AgeBands::parse("0-4,5-14,15-34,35-59,60-79,80+").unwrap();
        assert_eq!(b, AgeBands::default());
        assert_eq!(b.label(0), "0-4");
        assert_eq!(b.label(4), "0-4");
        assert_eq!(b.label(5), "5-14");
        assert_eq!(b.label(79), "60-79");
        assert_eq!(b.label(80), "80+");
        assert_eq!(b.label(104), "80+");
        assert_eq!(
            b.labels(),
            vec!["0-4", "5-14", "15-34", "35-59", "60-79", "80+"]
        );
        assert_eq!(
            AgeBands::parse("0-4,6-14,15+").unwrap_err(),
            AgeBandsError::Gap {
                band: "6-14".into(),
                expected: 5
            }
        );
        assert!(
            AgeBands::parse("0-4,6-14,15+")
                .unwrap_err()
                .to_string()
                .contains("start at 5")
        );
        assert_eq!(
            AgeBands::parse("0-4,5-14").unwrap_err(),
            AgeBandsError::LastNotOpen { next: 15 }
        );
        assert_eq!(
            AgeBands::parse("0-4,5+,10+").unwrap_err(),
            AgeBandsError::OpenNotLast { band: "5+".into() }
        );
        let e = AgeBands::parse("0-x,5+").unwrap_err();
        assert!(e.to_string().contains("\"x\""), "{e}");
        assert_eq!(AgeBands::parse(" , ").unwrap_err(), AgeBandsError::Empty);
    }

    #[test]
    fn age_counts_birthdays() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(age_at(d(2000, 3, 1), d(2005, 2, 28)), 4);
        assert_eq!(age_at(d(2000, 3, 1), d(2005, 3, 1)), 5);
        assert_eq!(age_at(d(2000, 2, 29), d(2001, 2, 28)), 0);
    }

    #[test]
    fn pathogen_panel_and_results() {
        let p = PathogenPanel::shipped();
        let names: Vec<_> = p.pathogens.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["influenza", "rsv", "sars-cov-2"]);
        assert_eq!(
            p.pathogen_of(kakehashi_model::systems::LOINC, "94500-6"),
            Some(2)
        );
        assert_eq!(
            p.pathogen_of(kakehashi_model::systems::LOINC, "8310-5"),
            None
        );
        let p = p.with_jlac10([("5F625-1430-...", "94500-6")]);
        assert_eq!(
            p.pathogen_of(kakehashi_model::systems::JLAC10, "5F625-1430-..."),
            Some(2)
        );
        let mut o = ObservationRow {
            value_code: Some("260373001".into()),
            ..Default::default()
        };
        assert_eq!(test_result(&o), Some(true));
        o.value_code = Some("260415000".into());
        assert_eq!(test_result(&o), Some(false));
        o.value_code = None;
        o.value_string = Some("陽性".into());
        assert_eq!(test_result(&o), Some(true));
        o.value_string = Some("pending".into());
        assert_eq!(test_result(&o), None);
    }
}
