//! The antibiogram task on the wire: how a site turns its [`AntibiogramCounts`] into one count
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
//! releasing it would only add noise and sensitivity. When the spec names its organisms and
//! drugs, every (organism, drug, statistic) row is released, found or not, so the presence of a
//! row reveals nothing; an open spec ("every species found") releases the rows found.

use crate::merge::{HubRules, Merged, SiteState};
use crate::protocol::Task;
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

/// Reads and checks an antibiogram spec as it arrives in a task: JSON shape, guideline with
/// installed breakpoints, every organism and drug name known. Errors name the field
/// (`spec.organisms[1]: unknown organism "..."`), or the reference table that could not be read.
pub fn parse_spec(v: &serde_json::Value) -> Result<AntibiogramSpec, String> {
    let spec: AntibiogramSpec =
        serde_json::from_value(v.clone()).map_err(|e| format!("spec: {e}"))?;
    let r = Reference::shared().map_err(|e| e.to_string())?;
    spec.resolve(r).map_err(|e| match e {
        kakehashi_amr::AmrError::Guideline(m) => format!("spec.guideline: {m}"),
        other => format!("spec.{other}"),
    })?;
    Ok(spec)
}

/// The spec's noise and budget key: `antibiogram:` and its canonical form (names resolved
/// with the reference tables).
pub fn canonical(spec: &AntibiogramSpec) -> Result<String, String> {
    let r = Reference::shared().map_err(|e| e.to_string())?;
    Ok(format!("antibiogram:{}", spec.canonical(r)))
}

/// How many released counts one first isolate can change: one category per drug row, and at
/// most five organism counts (isolates; one of MDR/XDR/PDR; one of 3MRGN/4MRGN; at most two of
/// MRSA, VRE, 3GC-R, carbapenem-R). The unit is the first isolate (one per patient, species and
/// period under CLSI M39), so the noise is isolate-level, as the gate's output states. An
/// isolate counts under every listed organism of its lineage, so [`count_table`] multiplies
/// this by how many listed organisms one isolate can fall under
/// (`kakehashi_amr::antibiogram::max_rows_per_isolate`).
pub fn sensitivity(drugs: usize) -> u32 {
    drugs as u32 + 5
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
    // A named spec releases the full grid for every year the answer has (or the one pooled year).
    let mut years: BTreeSet<Option<String>> = counts
        .cells
        .iter()
        .map(|c| year_text(c.year))
        .chain(counts.organisms.iter().map(|o| year_text(o.year)))
        .collect();
    if !spec.by_year {
        years = BTreeSet::from([None]);
    }
    if !listed_orgs.is_empty() && !listed_drugs.is_empty() {
        for y in &years {
            for o in &listed_orgs {
                for d in &listed_drugs {
                    for c in CATEGORIES {
                        add(&mut t, key(y, o, d, c), 0)?;
                    }
                }
                for m in MDRO_MEASURES {
                    add(&mut t, key(y, o, ORGANISM_ROW, m), 0)?;
                }
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
    // an isolate counts under every listed organism of its lineage: it moves that many rows
    let rows = kakehashi_amr::antibiogram::max_rows_per_isolate(r, &resolved.organisms);
    Ok((t, sensitivity(drugs_released.len()) * rows))
}

/// The hub's reading of a site's released table: cells and organism rows with suppressed
/// counts as `None`, and the site's minimum (from the table's disclosure). `tested` is the sum
/// of the five categories when none is suppressed, else unknown.
pub fn site_counts(site: &str, country: &str, t: &GatedTable) -> Result<SiteCounts, String> {
    let names: Vec<&str> = t.dims.iter().map(|d| d.name.as_str()).collect();
    let by_year = match names.as_slice() {
        ["year", "organism", "antimicrobial", "statistic"] => true,
        ["organism", "antimicrobial", "statistic"] => false,
        other => {
            return Err(format!(
                "{site}: not an antibiogram table (dimensions {other:?})"
            ));
        }
    };
    if t.measures != [MEASURE] {
        return Err(format!(
            "{site}: not an antibiogram table (measures {:?})",
            t.measures
        ));
    }
    type Key = (Option<i32>, String, String);
    let mut cells: BTreeMap<Key, BTreeMap<&str, Option<u64>>> = BTreeMap::new();
    let mut orgs: BTreeMap<(Option<i32>, String), BTreeMap<String, Option<u64>>> = BTreeMap::new();
    for (i, row) in t.rows.iter().enumerate() {
        let k = &row.key;
        let (year, rest) = if by_year {
            let y = k
                .first()
                .and_then(|y| y.parse::<i32>().ok())
                .ok_or_else(|| format!("{site}: row {i}: bad year"))?;
            (Some(y), &k[1..])
        } else {
            (None, &k[..])
        };
        let [org, drug, stat] = rest else {
            return Err(format!("{site}: row {i}: {} key values", k.len()));
        };
        let v = row
            .values
            .first()
            .ok_or_else(|| format!("{site}: row {i}: no value"))?
            .value();
        if drug == ORGANISM_ROW {
            let m = MDRO_MEASURES
                .iter()
                .find(|m| *m == stat)
                .ok_or_else(|| format!("{site}: row {i}: unknown organism statistic {stat:?}"))?;
            orgs.entry((year, org.clone()))
                .or_default()
                .insert((*m).to_owned(), v);
        } else {
            let c = CATEGORIES
                .iter()
                .find(|c| *c == stat)
                .ok_or_else(|| format!("{site}: row {i}: unknown category {stat:?}"))?;
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
#[derive(Debug, Clone, serde::Serialize)]
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
    pub notes: Vec<String>,
    /// What the site's gate did to its numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<Disclosure>,
}

/// The hub's antibiogram result: per site, per country, total, MDRO shares, the comparison of
/// Germany with Japan, and trends when by year.
#[derive(Debug, Clone, serde::Serialize)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_amr::{CellCounts, MdroCounts};
    use kakehashi_disclosure::{Gate, Policy, Question};
    use kakehashi_model::ProjectId;

    fn spec(v: serde_json::Value) -> AntibiogramSpec {
        parse_spec(&v).unwrap()
    }

    fn counts() -> AntibiogramCounts {
        AntibiogramCounts {
            guideline: "EUCAST 2025".parse().unwrap(),
            cells: vec![
                CellCounts {
                    year: None,
                    organism: "B_ESCHR_COLI".into(),
                    antimicrobial: "CIP".into(),
                    tested: 60,
                    s: 40,
                    i: 2,
                    r: 17,
                    sdd: 0,
                    ni: 1,
                },
                CellCounts {
                    year: None,
                    organism: "B_ESCHR_COLI".into(),
                    antimicrobial: "MEM".into(),
                    tested: 58,
                    s: 57,
                    i: 0,
                    r: 1,
                    sdd: 0,
                    ni: 0,
                },
            ],
            organisms: vec![MdroCounts {
                year: None,
                organism: "B_ESCHR_COLI".into(),
                isolates: 61,
                mdr: 9,
                mrgn3: 4,
                g3cr: 7,
                ..Default::default()
            }],
        }
    }

    fn open(min_count: u64) -> serde_json::Value {
        serde_json::json!({"projects": ["*"], "min_count": min_count, "rounding": 1, "epsilon": 0.0})
    }

    fn release(policy: serde_json::Value, t: CountTable, sens: u32) -> GatedTable {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::open(
            dir.path(),
            serde_json::from_value::<Policy>(policy).unwrap(),
        )
        .unwrap();
        let p = ProjectId::new("p1").unwrap();
        gate.release(
            &Question {
                project: &p,
                key: &kakehashi_disclosure::RepeatKey::of_data("q", "s1"),
                sensitivity: sens,
            },
            t,
        )
        .unwrap()
        .into_inner()
    }

    #[test]
    fn nested_organisms_multiply_the_sensitivity_by_the_rows_one_isolate_moves() {
        let sens = |orgs: serde_json::Value| {
            let s = spec(
                serde_json::json!({"guideline": "EUCAST 2025", "organisms": orgs, "antimicrobials": ["Ciprofloxacin"]}),
            );
            let none = AntibiogramCounts {
                guideline: s.guideline,
                cells: Vec::new(),
                organisms: Vec::new(),
            };
            count_table(&s, &none).unwrap().1
        };
        assert_eq!(sens(serde_json::json!(["Escherichia coli"])), 6);
        assert_eq!(
            sens(serde_json::json!([
                "Escherichia coli",
                "Staphylococcus aureus"
            ])),
            6
        );
        assert_eq!(
            sens(serde_json::json!(["Enterobacterales", "Escherichia coli"])),
            12
        );
    }

    #[test]
    fn exact_release_round_trips_to_the_sites_counts() {
        let s = spec(
            serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["Escherichia coli"], "antimicrobials": ["Ciprofloxacin", "MEM", "Gentamicin"]}),
        );
        let (t, sens) = count_table(&s, &counts()).unwrap();
        assert_eq!(sens, 3 + 5);
        let g = release(open(0), t, sens);
        let back = site_counts("a", "DE", &g).unwrap();
        let want = SiteCounts::exact("a", "DE", &counts());
        for c in &want.cells {
            assert!(back.cells.contains(c), "{c:?} not in {:?}", back.cells);
        }
        // the named grid: gentamicin is released as zeros although no isolate was tested
        let genta = back
            .cells
            .iter()
            .find(|c| c.antimicrobial == "GEN")
            .unwrap();
        assert_eq!((genta.tested, genta.r), (Some(0), Some(0)));
        assert_eq!(back.organisms, want.organisms);
    }

    #[test]
    fn suppressed_counts_come_back_as_unknown_with_the_sites_minimum() {
        let s = spec(
            serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP", "MEM"]}),
        );
        let (t, sens) = count_table(&s, &counts()).unwrap();
        let g = release(open(5), t, sens);
        let back = site_counts("a", "DE", &g).unwrap();
        assert_eq!(back.min_count, 5);
        let mem = back
            .cells
            .iter()
            .find(|c| c.antimicrobial == "MEM")
            .unwrap();
        assert_eq!((mem.s, mem.r, mem.tested), (Some(57), None, None));
        let cip = back
            .cells
            .iter()
            .find(|c| c.antimicrobial == "CIP")
            .unwrap();
        assert_eq!((cip.s, cip.i, cip.r), (Some(40), None, Some(17)));
    }

    #[test]
    fn an_open_spec_releases_only_codes_of_the_reference_and_by_year_keys_parse() {
        let s = spec(serde_json::json!({"guideline": "EUCAST 2025", "by_year": true}));
        let mut c = counts();
        for x in &mut c.cells {
            x.year = Some(2024);
        }
        c.organisms[0].year = Some(2024);
        let (t, sens) = count_table(&s, &c).unwrap();
        assert_eq!(sens, 2 + 5);
        assert_eq!(t.len(), 2 * CATEGORIES.len() + MDRO_MEASURES.len());
        let g = release(open(0), t, sens);
        let back = site_counts("a", "JP", &g).unwrap();
        assert!(back.cells.iter().all(|c| c.year == Some(2024)));
        // an organism code the reference does not know cannot become a row key
        c.cells[0].organism = "patient-123".into();
        assert!(count_table(&s, &c).is_err());
    }

    #[test]
    fn bad_specs_name_the_field() {
        let e = parse_spec(&serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli", "Unobtainium"]})).unwrap_err();
        assert!(
            e.contains("organisms[1]") && e.contains("Unobtainium"),
            "{e}"
        );
        let e = parse_spec(&serde_json::json!({"guideline": "EUCAST 1999"})).unwrap_err();
        assert!(e.contains("1999"), "{e}");
        let e = parse_spec(&serde_json::json!({"guideline": "EUCAST 2025", "colour": "red"}))
            .unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn a_table_of_another_task_is_not_read_as_an_antibiogram() {
        let g = release(open(0), CountTable::scalar("patients", 3), 1);
        assert!(
            site_counts("a", "DE", &g)
                .unwrap_err()
                .contains("not an antibiogram table")
        );
    }
}
