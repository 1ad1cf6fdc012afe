//! The surveillance series on the wire: the table a site releases for a weekly series, its
//! denominator, and the hub's pooled result per country (cases, rates per 100,000, ICU, deaths,
//! and positivity per pathogen with 95 % intervals). Both directions live here so they cannot
//! drift apart.
//!
//! The series table has the dimension `week` (ISO week), optionally `age_group`, and the
//! measures `cases`, `icu`, `deaths` and, per pathogen of the shipped panel, `{p}_tests` and
//! `{p}_positives`. It leaves the site through the gate's series rule
//! ([`kakehashi_disclosure::Gate::release_series`], `docs/privacy.md`). The denominator is a
//! separate one-count table, the site's patient count (`patients`), released through the gate as
//! its own question ([`DENOMINATOR_CANONICAL`]) with the site's ordinary rule (noise, rounding,
//! minimum); being the same question on the same data, it is spent once per project and
//! snapshot and every later task gets the same value.

use crate::merge::{HubRules, Merged, SiteState};
use crate::protocol::Task;
use crate::task::{Note, TaskSpec};
use crate::task::{RowProblem, Unreadable};
use kakehashi_disclosure::{
    CountTable, Dim, DimKind, Disclosure, GatedCount, GatedTable, TableError,
};
use kakehashi_model::Country;
use kakehashi_surveillance::pooled::{self, Bounds, Share};
use kakehashi_surveillance::series::Series;
use kakehashi_surveillance::{IsoWeek, ReportingConvention};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Measures every series table has, before the pathogens'.
pub const BASE_MEASURES: [&str; 3] = ["cases", "icu", "deaths"];
/// The measure of the denominator table.
pub const DENOMINATOR_MEASURE: &str = "patients";
/// The denominator's question (noise and budget key): the same for every task, so the count is
/// released once per project and data snapshot.
pub const DENOMINATOR_CANONICAL: &str = "denominator:patients";
/// Rates are given per this many patients.
pub const PER: f64 = 100_000.0;

/// The measure of a pathogen's tests.
pub fn tests_measure(pathogen: &str) -> String {
    format!("{pathogen}_tests")
}

/// The measure of a pathogen's positive tests.
pub fn positives_measure(pathogen: &str) -> String {
    format!("{pathogen}_positives")
}

/// How many released counts (L1) one patient can change in a series counted per patient-week
/// with at most `max_weeks_per_patient` weeks per patient: in each of those weeks cases, ICU,
/// deaths, and tests and positives of each pathogen, by 1 each (patient-level noise, as the
/// released table's disclosure states; [`kakehashi_surveillance::per_patient`]).
pub fn sensitivity(max_weeks_per_patient: u32, pathogens: usize) -> u32 {
    kakehashi_surveillance::per_patient::sensitivity(max_weeks_per_patient, pathogens)
}

/// A site's series as the table the gate releases, and the table's sensitivity. Only a series
/// counted per patient ([`Series::max_weeks_per_patient`]) can be released: another is refused.
pub fn count_table(series: &Series, by_age: bool) -> Result<(CountTable, u32), TableError> {
    let Some(k) = series.max_weeks_per_patient else {
        return Err(TableError::Measure(
            "the series counts events, not patients (no max_weeks_per_patient): it cannot be released".into(),
        ));
    };
    let mut dims = vec![Dim::new("week", DimKind::Week)];
    if by_age {
        dims.push(Dim::new("age_group", DimKind::AgeBand));
    }
    let mut measures: Vec<String> = BASE_MEASURES.iter().map(|m| (*m).to_owned()).collect();
    for p in &series.pathogens {
        measures.push(tests_measure(p));
        measures.push(positives_measure(p));
    }
    let mrefs: Vec<&str> = measures.iter().map(String::as_str).collect();
    let mut table = CountTable::new(dims, &mrefs);
    // The declared grid: every week × every age band, and the "unknown" band always (the
    // series has it only when some case or test lacks an age: its presence would tell).
    if by_age {
        let weeks: BTreeSet<String> = series.rows.iter().map(|r| r.week.to_string()).collect();
        let mut bands: BTreeSet<&str> = series
            .rows
            .iter()
            .filter_map(|r| r.age_group.as_deref())
            .collect();
        bands.insert("unknown");
        for w in &weeks {
            for b in &bands {
                table.ensure_row(&[w, b])?;
            }
        }
    }
    for r in &series.rows {
        let w = r.week.to_string();
        let mut key = vec![w.as_str()];
        if by_age {
            key.push(r.age_group.as_deref().unwrap_or("unknown"));
        }
        table.ensure_row(&key)?;
        table.add(&key, "cases", r.cases)?;
        table.add(&key, "icu", r.icu)?;
        table.add(&key, "deaths", r.deaths)?;
        for (p, pos) in series.pathogens.iter().zip(&r.positivity) {
            table.add(&key, &tests_measure(p), pos.tests)?;
            table.add(&key, &positives_measure(p), pos.positives)?;
        }
    }
    Ok((table, sensitivity(k, series.pathogens.len())))
}

/// The denominator table: the site's patient count.
pub fn denominator_table(patients: u64) -> CountTable {
    CountTable::scalar(DENOMINATOR_MEASURE, patients)
}

/// One pathogen in one week of a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathogenWeek {
    /// Pathogen name (`influenza`, `rsv`, `sars-cov-2`).
    pub pathogen: String,
    /// Tests with a result.
    pub tests: Bounds,
    /// Positive tests.
    pub positives: Bounds,
    /// Share positive with its 95 % interval (Wilson, widened by the sites' noise and rounding).
    pub positivity: Option<Share>,
    /// At least [`pooled::MIN_TESTS`] tests for certain: the share is shown.
    pub reportable: bool,
}

/// One week of a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekStats {
    /// ISO week, `2025-W50`.
    pub week: String,
    /// Admissions meeting the definition.
    pub cases: Bounds,
    /// Cases per 100,000 patients of the answering sites (the middle of the range), when
    /// every answering site released its denominator.
    pub rate: Option<f64>,
    /// Cases with intensive care.
    pub icu: Bounds,
    /// Cases who died in hospital.
    pub deaths: Bounds,
    /// Per pathogen.
    pub pathogens: Vec<PathogenWeek>,
}

/// A country's pooled series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountrySeries {
    /// The country.
    pub country: Country,
    /// Sites pooled.
    pub sites: usize,
    /// Patients of those sites (the denominator of `rate`), when every one released it.
    pub population: Option<Bounds>,
    /// Weeks in order (all weeks any site released).
    pub weeks: Vec<WeekStats>,
}

impl CountrySeries {
    /// Seasons (by first year) whose chart weeks hold at least one case or test.
    pub fn seasons_with_data(&self) -> Vec<i32> {
        let conv = ReportingConvention::of(self.country);
        let mut s: Vec<i32> = self
            .weeks
            .iter()
            .filter(|w| w.cases.hi > 0 || w.pathogens.iter().any(|p| p.tests.hi > 0))
            .filter_map(|w| w.week.parse::<IsoWeek>().ok())
            .map(|w| pooled::chart_season(&conv, w))
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The season to show at `now`: the asked one, else the current one on the country's
    /// calendar, else the latest with data ([`pooled::shown_season`]); `true` when it is not
    /// the asked (or current) one.
    pub fn shown_season(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        asked: Option<i32>,
    ) -> (i32, bool) {
        let conv = ReportingConvention::of(self.country);
        pooled::shown_season(
            &conv,
            conv.local_date(now),
            asked,
            &self.seasons_with_data(),
        )
    }

    /// The weeks of a season (its whole year of weeks), each with its stats when released.
    pub fn season(&self, season: i32) -> Vec<(IsoWeek, Option<&WeekStats>)> {
        let conv = ReportingConvention::of(self.country);
        let (first, last) = pooled::season_weeks(&conv, season);
        let by_week: BTreeMap<&str, &WeekStats> =
            self.weeks.iter().map(|w| (w.week.as_str(), w)).collect();
        first
            .range_inclusive(last)
            .map(|w| (w, by_week.get(w.to_string().as_str()).copied()))
            .collect()
    }
}

/// One site's part in a surveillance result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteLine {
    /// Site id.
    pub site: String,
    /// Display name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// Its state for this task.
    pub state: SiteState,
    /// Why it is not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The site's notes.
    pub notes: Vec<Note>,
    /// What the site's gate did to its series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<Disclosure>,
    /// The site's released patient count (the denominator of rates), if released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patients: Option<GatedCount>,
}

/// The hub's surveillance result: per site, per country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveillanceResult {
    /// The task.
    pub task: Task,
    /// Every site has answered, refused, failed or passed the deadline.
    pub complete: bool,
    /// The case definition.
    pub definition: String,
    /// Pathogens, in the order of each week's `pathogens`.
    pub pathogens: Vec<String>,
    /// Rates are per this many patients.
    pub per: f64,
    /// The sites.
    pub sites: Vec<SiteLine>,
    /// Per country (only where enough sites answered).
    pub countries: Vec<CountrySeries>,
    /// Pooled groups withheld by the hub's rules, and why.
    pub withheld: Vec<String>,
}

impl SurveillanceResult {
    /// A country's series.
    pub fn country(&self, c: Country) -> Option<&CountrySeries> {
        self.countries.iter().find(|s| s.country == c)
    }
}

/// Per-week accumulators of one country: cases, icu, deaths, then tests and positives per pathogen.
type WeekAcc = BTreeMap<String, Vec<Bounds>>;

/// Adds one site's released series to its country's weeks (age strata, if any, summed).
fn add_site(weeks: &mut WeekAcc, t: &GatedTable, pathogens: &[String]) -> Result<(), Unreadable> {
    let measures: Vec<String> = BASE_MEASURES
        .iter()
        .map(|m| (*m).to_owned())
        .chain(
            pathogens
                .iter()
                .flat_map(|p| [tests_measure(p), positives_measure(p)]),
        )
        .collect();
    let idx: Vec<usize> = measures
        .iter()
        .map(|m| {
            t.measures
                .iter()
                .position(|x| x == m)
                .ok_or_else(|| Unreadable::NoMeasure { measure: m.clone() })
        })
        .collect::<Result<_, _>>()?;
    let wd = t
        .dims
        .iter()
        .position(|d| d.kind == DimKind::Week)
        .ok_or(Unreadable::NoDimension { dim: "week" })?;
    let d = &t.disclosure;
    let variance = pooled::release_variance(d.epsilon, d.sensitivity, d.rounding);
    for (r, row) in t.rows.iter().enumerate() {
        let bad = |problem| Unreadable::Row { row: r, problem };
        let week = row.key.get(wd).ok_or_else(|| {
            bad(RowProblem::KeyLength {
                found: row.key.len(),
            })
        })?;
        let acc = weeks
            .entry(week.clone())
            .or_insert_with(|| vec![Bounds::default(); measures.len()]);
        for (b, &i) in acc.iter_mut().zip(&idx) {
            let v = row.values.get(i).ok_or_else(|| bad(RowProblem::Values))?;
            b.add(v.value(), d.min_count, variance);
        }
    }
    Ok(())
}

/// Builds the surveillance result from a merged task: decodes every answered site's released
/// series, pools per country (a week's count is the sum over the sites, each withheld count
/// adding up to its site's minimum − 1 and each released one its noise variance), derives rates
/// per 100,000 patients and positivity with 95 % intervals, and withholds a country with fewer
/// answering sites than the hub's rules allow.
pub fn result(m: &Merged, rules: &HubRules) -> SurveillanceResult {
    let definition = match &m.task.spec {
        TaskSpec::SurveillanceSeries(r) => r.definition().to_owned(),
        other => other.kind().to_owned(),
    };
    // The pathogens are those of the released tables (the shipped panel's order).
    let pathogens: Vec<String> = m
        .sites
        .iter()
        .filter_map(|s| s.table.as_ref())
        .next()
        .map(|t| {
            t.measures
                .iter()
                .filter_map(|x| x.strip_suffix("_tests").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut sites = Vec::new();
    let mut by_country: BTreeMap<Country, (usize, WeekAcc, Option<Bounds>)> = BTreeMap::new();
    for s in &m.sites {
        let patients = s
            .denominator
            .as_ref()
            .and_then(|d| d.rows.first())
            .and_then(|r| r.values.first().copied());
        let mut line = SiteLine {
            site: s.site.to_string(),
            name: s.name.clone(),
            country: s.country,
            state: s.state,
            reason: s.reason.clone(),
            notes: s.notes.clone(),
            disclosure: s.table.as_ref().map(|t| t.disclosure.clone()),
            patients,
        };
        if s.state == SiteState::Answered
            && let Some(t) = &s.table
        {
            let entry = by_country
                .entry(s.country)
                .or_insert_with(|| (0, WeekAcc::new(), Some(Bounds::default())));
            let mut weeks = entry.1.clone();
            match add_site(&mut weeks, t, &pathogens) {
                Ok(()) => {
                    entry.0 += 1;
                    entry.1 = weeks;
                    entry.2 = match (entry.2, s.denominator.as_ref(), patients) {
                        (Some(mut b), Some(d), Some(v)) => {
                            let dd = &d.disclosure;
                            b.add(
                                v.value(),
                                dd.min_count,
                                pooled::release_variance(dd.epsilon, dd.sensitivity, dd.rounding),
                            );
                            Some(b)
                        }
                        _ => None,
                    };
                }
                Err(e) => {
                    line.state = SiteState::Failed;
                    line.reason = Some(format!("the hub could not read this site's table: {e}"));
                }
            }
        }
        sites.push(line);
    }
    let mut countries = Vec::new();
    let mut withheld = Vec::new();
    for (country, (n, weeks, population)) in by_country {
        if n == 0 {
            continue;
        }
        if n < rules.min_sites {
            withheld.push(format!(
                "{country}: pooled numbers need answers from at least {} sites; {n} answered",
                rules.min_sites
            ));
            continue;
        }
        let population = population.filter(|p| p.lo > 0);
        let weeks = weeks
            .into_iter()
            .map(|(week, b)| {
                let per_pathogen = pathogens
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let (tests, positives) = (b[3 + 2 * i], b[4 + 2 * i]);
                        PathogenWeek {
                            pathogen: p.clone(),
                            tests,
                            positives,
                            positivity: pooled::positivity(positives, tests),
                            reportable: tests.lo >= pooled::MIN_TESTS,
                        }
                    })
                    .collect();
                let rate =
                    population.and_then(|p| pooled::rate(b[0].mid(), p.lo.midpoint(p.hi), PER));
                WeekStats {
                    week,
                    cases: b[0],
                    rate,
                    icu: b[1],
                    deaths: b[2],
                    pathogens: per_pathogen,
                }
            })
            .collect();
        countries.push(CountrySeries {
            country,
            sites: n,
            population,
            weeks,
        });
    }
    SurveillanceResult {
        task: m.task.clone(),
        complete: m.complete,
        definition,
        pathogens,
        per: PER,
        sites,
        countries,
        withheld,
    }
}
