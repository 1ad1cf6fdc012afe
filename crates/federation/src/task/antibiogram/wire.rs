//! The antibiogram table on the wire: how a site turns its [`AntibiogramCounts`] into one count
//! table for the disclosure gate, and how the hub reads the released table back into
//! [`SiteCounts`] for pooling. Both directions live here so they cannot drift apart.
//!
//! The table is in long form, one count per row:
//!
//! | dimension | kind | values |
//! |---|---|---|
//! | `year` (only when by year) | year | calendar year |
//! | `organism` | code | the spec's organisms (codes), or every organism of the shipped reference |
//! | `antimicrobial` | code | the spec's drugs, or every drug of the shipped reference; `-` for organism rows |
//! | `statistic` | code | `s`, `i`, `r`, `sdd`, `ni` for drug rows; [`MDRO_MEASURES`] for organism rows |
//!
//! with one measure, `n`. `tested` is not released: it is the sum of the five categories, so
//! releasing it would only add noise and sensitivity (the hub derives it from the same cells).
//! The task declares its grid: every (organism, drug, statistic) row of the named organisms
//! and drugs is released, found or not, so the presence of a row reveals nothing. An open spec
//! ("every species found") is refused across sites, since its rows would be the species the
//! site has. By year, the years are those of the spec's period when it has both bounds, else
//! every year from the first to the last with an isolate (no gaps). An organism's `isolates`
//! bounds each drug's five categories: it is declared as their margin, so that without noise
//! the gate withholds it where it would give a withheld category away.

use crate::merge::{HubRules, Merged, SiteState};
use crate::protocol::Task;
use crate::task::{Note, RowProblem, SiteUnreadable, Unreadable};
use kakehashi_amr::pool::{
    self, MDRO_MEASURES, ReleasedCell, ReleasedOrganism, Report, SiteCounts, Trend,
};
use kakehashi_amr::{AntibiogramCounts, AntibiogramSpec, Reference};
use kakehashi_disclosure::{CountTable, Dim, DimKind, Disclosure, GatedTable, TableError};
use std::collections::{BTreeMap, BTreeSet};

/// The S/I/R categories released per (organism, drug).
pub const CATEGORIES: [&str; 5] = ["s", "i", "r", "sdd", "ni"];
/// The `antimicrobial` value of organism-level (MDRO) rows.
pub const ORGANISM_ROW: &str = "-";
/// The single measure of the table.
pub const MEASURE: &str = "n";

/// The spec's noise and budget key: `antibiogram:` and its canonical form (names resolved
/// with the reference tables).
pub fn canonical(spec: &AntibiogramSpec) -> Result<String, kakehashi_amr::ReferenceError> {
    let r = Reference::shared()?;
    Ok(format!("antibiogram:{}", spec.canonical(r)))
}

/// How many released counts (L1) one patient can change: at most `max_isolates_per_patient`
/// of the patient's first isolates are counted, each under at most `organism_chain` listed
/// organisms, and each changes one category per drug row and at most five organism counts
/// (isolates; one of MDR/XDR/PDR; one of 3MRGN/4MRGN; at most two of MRSA, VRE, 3GC-R,
/// carbapenem-R). The unit of privacy is the patient ([`kakehashi_amr::per_patient`],
/// `docs/privacy.md`).
pub fn sensitivity(max_isolates_per_patient: u32, drugs: usize, organism_chain: u32) -> u32 {
    kakehashi_amr::per_patient::sensitivity(max_isolates_per_patient, drugs, organism_chain)
}

/// The counts the declared grid of `spec` releases, known before anything is computed, so that
/// a site refuses a grid over its cell limits without computing it: per year, each listed
/// organism's five categories for each listed drug and its organism rows ([`count_table`]
/// makes exactly these rows). By year, the years of the period when it has both bounds;
/// otherwise the years come from the data and one year is counted (a lower bound). `None` for
/// a spec that does not resolve or lists no organism or no drug (which [`count_table`]
/// refuses).
pub fn declared_cells(spec: &AntibiogramSpec) -> Option<u64> {
    use chrono::Datelike;
    let r = Reference::shared().ok()?;
    let resolved = spec.resolve(r).ok()?;
    if resolved.organisms.is_empty() || resolved.antimicrobials.is_empty() {
        return None;
    }
    let years = match (spec.by_year, spec.period.from, spec.period.to) {
        (true, Some(f), Some(t)) => u64::try_from(t.year() - f.year() + 1).ok()?,
        _ => 1,
    };
    let per_organism =
        (resolved.antimicrobials.len() * CATEGORIES.len() + MDRO_MEASURES.len()) as u64;
    Some(
        years
            .saturating_mul(resolved.organisms.len() as u64)
            .saturating_mul(per_organism),
    )
}

/// A site's counts as the table the gate releases, and the table's sensitivity.
pub fn count_table(
    spec: &AntibiogramSpec,
    counts: &AntibiogramCounts,
) -> Result<(CountTable, u32), TableError> {
    let r = Reference::shared().map_err(|e| TableError::Measure(e.to_string()))?;
    let resolved = spec
        .resolve(r)
        .map_err(|e| TableError::Measure(e.to_string()))?;
    let listed_orgs: Vec<String> = resolved
        .organisms
        .iter()
        .map(|m| r.organism(*m).code.clone())
        .collect();
    let listed_drugs: Vec<String> = resolved
        .antimicrobials
        .iter()
        .map(|a| r.antimicrobial(*a).code.clone())
        .collect();
    if listed_orgs.is_empty() || listed_drugs.is_empty() {
        return Err(TableError::Undeclared(
            "an antibiogram across sites names its organisms and antimicrobials (an open list would release the species and drugs a site has)".into(),
        ));
    }
    let org_domain: BTreeSet<String> = if listed_orgs.is_empty() {
        r.organisms.iter().map(|o| o.code.clone()).collect()
    } else {
        listed_orgs.iter().cloned().collect()
    };
    let mut drug_domain: BTreeSet<String> = if listed_drugs.is_empty() {
        r.antimicrobials.iter().map(|a| a.code.clone()).collect()
    } else {
        listed_drugs.iter().cloned().collect()
    };
    drug_domain.insert(ORGANISM_ROW.to_owned());
    let stats: BTreeSet<String> = CATEGORIES
        .iter()
        .chain(MDRO_MEASURES.iter())
        .map(|s| (*s).to_owned())
        .collect();
    let mut dims = Vec::new();
    if spec.by_year {
        dims.push(Dim::new("year", DimKind::Year));
    }
    dims.push(Dim::codes("organism", org_domain));
    dims.push(Dim::codes("antimicrobial", drug_domain));
    dims.push(Dim::codes("statistic", stats));
    let mut t = CountTable::new(dims, &[MEASURE]);
    let year_text = |y: Option<i32>| y.map(|y| format!("{y:04}"));
    let key = |year: &Option<String>, org: &str, drug: &str, stat: &str| -> Vec<String> {
        year.iter()
            .cloned()
            .chain([org.to_owned(), drug.to_owned(), stat.to_owned()])
            .collect()
    };
    let add = |t: &mut CountTable, k: Vec<String>, n: u64| -> Result<(), TableError> {
        let k: Vec<&str> = k.iter().map(String::as_str).collect();
        t.ensure_row(&k)?;
        if n > 0 { t.add(&k, MEASURE, n) } else { Ok(()) }
    };
    // The full grid for every declared year (or the one pooled year).
    let found: BTreeSet<i32> = counts
        .cells
        .iter()
        .filter_map(|c| c.year)
        .chain(counts.organisms.iter().filter_map(|o| o.year))
        .collect();
    let years: Vec<Option<String>> = if !spec.by_year {
        vec![None]
    } else {
        use chrono::Datelike;
        let span = match (spec.period.from, spec.period.to) {
            (Some(f), Some(t)) => Some((f.year(), t.year())),
            _ => found.first().zip(found.last()).map(|(a, b)| (*a, *b)),
        };
        span.map(|(a, b)| (a..=b).map(|y| year_text(Some(y))).collect())
            .unwrap_or_default()
    };
    for y in &years {
        for o in &listed_orgs {
            let total = key(y, o, ORGANISM_ROW, MDRO_MEASURES[0]);
            let total: Vec<&str> = total.iter().map(String::as_str).collect();
            for d in &listed_drugs {
                let parts: Vec<Vec<String>> = CATEGORIES.iter().map(|c| key(y, o, d, c)).collect();
                let parts: Vec<Vec<&str>> = parts
                    .iter()
                    .map(|k| k.iter().map(String::as_str).collect())
                    .collect();
                t.add_margin(MEASURE, &total, &parts)?;
            }
            for m in MDRO_MEASURES {
                add(&mut t, key(y, o, ORGANISM_ROW, m), 0)?;
            }
        }
    }
    let mut drugs_released: BTreeSet<&str> = listed_drugs.iter().map(String::as_str).collect();
    for c in &counts.cells {
        let y = year_text(c.year);
        for (name, n) in CATEGORIES.iter().zip([c.s, c.i, c.r, c.sdd, c.ni]) {
            add(&mut t, key(&y, &c.organism, &c.antimicrobial, name), n)?;
        }
        drugs_released.insert(&c.antimicrobial);
    }
    for o in &counts.organisms {
        let y = year_text(o.year);
        let values = [
            o.isolates,
            o.mdr,
            o.xdr,
            o.pdr,
            o.mrgn3,
            o.mrgn4,
            o.mrsa,
            o.vre,
            o.g3cr,
            o.carbapenem_r,
        ];
        for (name, n) in MDRO_MEASURES.iter().zip(values) {
            add(&mut t, key(&y, &o.organism, ORGANISM_ROW, name), n)?;
        }
    }
    let chain = kakehashi_amr::per_patient::organism_chain(r, &resolved.organisms);
    Ok((
        t,
        sensitivity(spec.max_isolates_per_patient, drugs_released.len(), chain),
    ))
}

/// The hub's reading of a site's released table: cells and organism rows with suppressed
/// counts as `None`, and the site's minimum (from the table's disclosure). `tested` is the sum
/// of the five categories when none is suppressed, else unknown.
pub fn site_counts(
    site: &str,
    country: &str,
    t: &GatedTable,
) -> Result<SiteCounts, SiteUnreadable> {
    let fail = |error| SiteUnreadable {
        site: site.to_owned(),
        error,
    };
    let bad_row = |row: usize, problem| fail(Unreadable::Row { row, problem });
    let names: Vec<&str> = t.dims.iter().map(|d| d.name.as_str()).collect();
    let by_year = match names.as_slice() {
        ["year", "organism", "antimicrobial", "statistic"] => Some(true),
        ["organism", "antimicrobial", "statistic"] => Some(false),
        _ => None,
    };
    let Some(by_year) = by_year.filter(|_| t.measures == [MEASURE]) else {
        return Err(fail(Unreadable::Shape {
            expected: "an antibiogram table",
            dims: names.iter().map(|n| (*n).to_owned()).collect(),
            measures: t.measures.clone(),
        }));
    };
    type Key = (Option<i32>, String, String);
    let mut cells: BTreeMap<Key, BTreeMap<&str, Option<u64>>> = BTreeMap::new();
    let mut orgs: BTreeMap<(Option<i32>, String), BTreeMap<String, Option<u64>>> = BTreeMap::new();
    for (i, row) in t.rows.iter().enumerate() {
        let k = &row.key;
        let (year, rest) = if by_year {
            let y = k
                .first()
                .and_then(|y| y.parse::<i32>().ok())
                .ok_or_else(|| {
                    bad_row(
                        i,
                        RowProblem::Key {
                            dim: "year",
                            value: k.first().cloned().unwrap_or_default(),
                        },
                    )
                })?;
            (Some(y), &k[1..])
        } else {
            (None, &k[..])
        };
        let [org, drug, stat] = rest else {
            return Err(bad_row(i, RowProblem::KeyLength { found: k.len() }));
        };
        let v = row
            .values
            .first()
            .ok_or_else(|| bad_row(i, RowProblem::Values))?
            .value();
        if drug == ORGANISM_ROW {
            let m = MDRO_MEASURES.iter().find(|m| *m == stat).ok_or_else(|| {
                bad_row(
                    i,
                    RowProblem::Statistic {
                        what: "organism statistic",
                        value: stat.clone(),
                    },
                )
            })?;
            orgs.entry((year, org.clone()))
                .or_default()
                .insert((*m).to_owned(), v);
        } else {
            let c = CATEGORIES.iter().find(|c| *c == stat).ok_or_else(|| {
                bad_row(
                    i,
                    RowProblem::Statistic {
                        what: "category",
                        value: stat.clone(),
                    },
                )
            })?;
            cells
                .entry((year, org.clone(), drug.clone()))
                .or_default()
                .insert(c, v);
        }
    }
    let cells = cells
        .into_iter()
        .map(|((year, organism, antimicrobial), m)| {
            let g = |c: &str| m.get(c).copied().flatten();
            let all: Option<u64> = CATEGORIES.iter().map(|c| g(c)).sum();
            ReleasedCell {
                year,
                organism,
                antimicrobial,
                tested: all,
                s: g("s"),
                i: g("i"),
                r: g("r"),
                sdd: g("sdd"),
                ni: g("ni"),
            }
        })
        .collect();
    let organisms = orgs
        .into_iter()
        .map(|((year, organism), counts)| ReleasedOrganism {
            year,
            organism,
            counts,
        })
        .collect();
    let d = &t.disclosure;
    let count_variance = pool::release_variance(d.epsilon, d.sensitivity, d.rounding);
    Ok(SiteCounts {
        site: site.to_owned(),
        country: country.to_owned(),
        min_count: d.min_count,
        count_variance,
        cells,
        organisms,
    })
}

/// One site's part in an antibiogram result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SiteLine {
    /// Site id.
    pub site: String,
    /// Display name.
    pub name: String,
    /// Country code.
    pub country: String,
    /// Its state for this task.
    pub state: SiteState,
    /// Why it is not counted (refused, failed, late, offline, unreadable table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The site's notes.
    pub notes: Vec<Note>,
    /// What the site's gate did to its numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<Disclosure>,
}

/// The hub's antibiogram result: per site, per country, total, MDRO shares, the comparison of
/// Germany with Japan, and trends when by year.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AntibiogramResult {
    /// The task.
    pub task: Task,
    /// Every site has answered, refused, failed or passed the deadline.
    pub complete: bool,
    /// The sites.
    pub sites: Vec<SiteLine>,
    /// Statistics (countries and total only where enough sites answered).
    pub report: Report,
    /// %R by year per country, with the test for trend (by-year specs only).
    pub trends: Vec<Trend>,
    /// Pooled groups withheld by the hub's rules, and why.
    pub withheld: Vec<String>,
}

/// Builds the antibiogram result from a merged task: decodes every answered site's released
/// table ([`site_counts`]), pools per site, per country and in total ([`pool::report`], DE vs
/// JP), and withholds any pooled group with fewer answering sites than the hub's rules allow.
pub fn result(m: &Merged, rules: &HubRules) -> AntibiogramResult {
    let mut sites = Vec::new();
    let mut counts = Vec::new();
    for s in &m.sites {
        let mut line = SiteLine {
            site: s.site.to_string(),
            name: s.name.clone(),
            country: s.country.to_string(),
            state: s.state,
            reason: s.reason.clone(),
            notes: s.notes.clone(),
            disclosure: s.table.as_ref().map(|t| t.disclosure.clone()),
        };
        if s.state == SiteState::Answered
            && let Some(t) = &s.table
        {
            match site_counts(&line.site, &line.country, t) {
                Ok(c) => counts.push(c),
                Err(e) => {
                    line.state = SiteState::Failed;
                    line.reason = Some(format!("the hub could not read this site's table: {e}"));
                }
            }
        }
        sites.push(line);
    }
    let mut report = pool::report(&counts, "DE", "JP");
    let mut withheld = Vec::new();
    let mut per_country: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &counts {
        *per_country.entry(c.country.as_str()).or_default() += 1;
    }
    let too_few: BTreeSet<String> = per_country
        .iter()
        .filter(|(_, n)| **n < rules.min_sites)
        .map(|(c, _)| (*c).to_owned())
        .collect();
    for c in &too_few {
        withheld.push(format!(
            "{c}: pooled numbers need answers from at least {} sites; {} answered",
            rules.min_sites,
            per_country[c.as_str()]
        ));
    }
    report.countries.retain(|c| !too_few.contains(&c.group));
    report.mdro.retain(|c| !too_few.contains(&c.group));
    // A named spec releases its whole grid: pairs a country has no certainly interpreted
    // isolate of (untested, or only withheld counts) are not compared.
    report.comparison.retain(|c| {
        !too_few.contains(&c.a.group)
            && !too_few.contains(&c.b.group)
            && c.a.interpreted.lo > 0
            && c.b.interpreted.lo > 0
    });
    if counts.len() < rules.min_sites {
        report.total.clear();
        withheld.push(format!(
            "total: pooled numbers need answers from at least {} sites; {} answered",
            rules.min_sites,
            counts.len()
        ));
    }
    let by_year = report.countries.iter().any(|c| c.year.is_some());
    let trends = if by_year {
        pool::trends(&report.countries)
    } else {
        Vec::new()
    };
    AntibiogramResult {
        task: m.task.clone(),
        complete: m.complete,
        sites,
        report,
        trends,
        withheld,
    }
}
