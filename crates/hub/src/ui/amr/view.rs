//! The antibiogram as the page shows it: heat-maps per country, the Germany–Japan
//! comparison, MDRO shares and the by-year trends.

use kakehashi_amr::Reference;
use kakehashi_amr::pool::{CellStats, MdroStats, Share};
use kakehashi_federation::antibiogram::{AntibiogramResult, MdroMeasure};
use kakehashi_model::Country;
use kakehashi_web::chart::{Cell, HeatMap};
use kakehashi_web::pages::{AmrComparison, AmrForm, AmrMdro, AmrPage, AmrShare, AmrSite, AmrTrend};
use kakehashi_web::{Catalog, Locale};
use std::collections::BTreeSet;

fn organism_name(code: &str) -> String {
    Reference::shared()
        .ok()
        .and_then(|r| r.organism_name(code))
        .unwrap_or(code)
        .to_owned()
}

fn drug_name(code: &str) -> String {
    Reference::shared()
        .ok()
        .and_then(|r| r.antimicrobial_name(code))
        .unwrap_or(code)
        .to_owned()
}

fn amr_share(s: &Share, n: u64, reportable: bool) -> AmrShare {
    AmrShare {
        value: s.value,
        min: s.min,
        max: s.max,
        low: s.ci_low,
        high: s.ci_high,
        n,
        reportable,
    }
}

/// EUCAST reports %R; CLSI M39 reports %S.
fn reports_susceptible(guideline: &str) -> bool {
    guideline.starts_with("CLSI")
}

/// The share shown for a cell; none where no isolate was interpreted for certain (a cell of a
/// named grid nobody tested, or only withheld counts).
fn cell_share(c: &CellStats, susceptible: bool) -> Option<AmrShare> {
    if c.interpreted.lo == 0 {
        return None;
    }
    let s = if susceptible {
        c.susceptible?
    } else {
        c.resistant?
    };
    Some(amr_share(&s, c.interpreted.lo, c.reportable))
}

/// One heat-map per country: organisms × antimicrobials, %R (EUCAST) or %S (CLSI).
pub(super) fn heat_maps(res: &AntibiogramResult, guideline: &str, locale: Locale) -> Vec<HeatMap> {
    let cat = Catalog::global();
    let susceptible = reports_susceptible(guideline);
    let label = if susceptible { "% S" } else { "% R" };
    let mut maps = Vec::new();
    for country in [Country::Germany, Country::Japan] {
        let code = country.to_string();
        // a by-year antibiogram has no whole-period cells: its years are the trend table's
        let cells: Vec<&CellStats> = res
            .report
            .countries
            .iter()
            .filter(|c| c.group == code && c.year.is_none())
            .collect();
        if cells.is_empty() {
            continue;
        }
        let orgs: Vec<String> = cells
            .iter()
            .map(|c| c.organism.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let drugs: Vec<String> = cells
            .iter()
            .map(|c| c.antimicrobial.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let grid = orgs
            .iter()
            .map(|o| {
                drugs
                    .iter()
                    .map(|d| {
                        let c = cells
                            .iter()
                            .find(|c| &c.organism == o && &c.antimicrobial == d)?;
                        let s = cell_share(c, susceptible)?;
                        Some(Cell {
                            share: s.value.unwrap_or(s.min),
                            max: s.value.is_none().then_some(s.max),
                            n: s.n,
                            reportable: s.reportable,
                        })
                    })
                    .collect()
            })
            .collect();
        let name = cat.text(locale, &format!("country-{code}"), &[]);
        maps.push(HeatMap {
            id: code.to_lowercase(),
            title: format!("{name}: {label} ({guideline})"),
            description: cat.text(locale, "amr-map-description", &[]),
            rows: orgs.iter().map(|o| organism_name(o)).collect(),
            cols: drugs.iter().map(|d| drug_name(d)).collect(),
            cells: grid,
            share_label: label.to_owned(),
        });
    }
    maps
}

fn mdro_rows(res: &AntibiogramResult) -> Vec<AmrMdro> {
    let share_of = |m: Option<&MdroStats>, class: MdroMeasure| -> Option<AmrShare> {
        let m = m?;
        let iso = MdroMeasure::Isolates.of(m)?.0;
        let (b, s) = class.of(m)?;
        let s = s.as_ref()?;
        (b.hi > 0 && iso.lo > 0)
            .then(|| amr_share(s, iso.lo, iso.lo >= kakehashi_amr::pool::MIN_ISOLATES))
    };
    let whole: Vec<&MdroStats> = res
        .report
        .mdro
        .iter()
        .filter(|m| m.year.is_none())
        .collect();
    let orgs: BTreeSet<&str> = whole.iter().map(|m| m.organism.as_str()).collect();
    let mut out = Vec::new();
    for o in orgs {
        let de = whole
            .iter()
            .copied()
            .find(|m| m.organism == o && m.group == "DE");
        let jp = whole
            .iter()
            .copied()
            .find(|m| m.organism == o && m.group == "JP");
        // a class is listed for an organism when some country certainly has one such isolate
        // (MRSA for Acinetobacter or VRE for E. coli would only be rows of zeros)
        let seen = |m: Option<&MdroStats>, class: MdroMeasure| {
            m.and_then(|m| class.of(m)).is_some_and(|(b, _)| b.lo > 0)
        };
        for class in MdroMeasure::CLASSES {
            let (a, b) = (share_of(de, class), share_of(jp, class));
            if (a.is_some() || b.is_some()) && (seen(de, class) || seen(jp, class)) {
                out.push(AmrMdro {
                    organism: organism_name(o),
                    class: class.name().to_owned(),
                    de: a,
                    jp: b,
                });
            }
        }
    }
    out
}

/// The by-year table: per organism, antimicrobial and country the share in each year, and the
/// test for trend.
fn trend_rows(res: &AntibiogramResult, susceptible: bool) -> (Vec<i32>, Vec<AmrTrend>) {
    let by_year: Vec<&CellStats> = res
        .report
        .countries
        .iter()
        .filter(|c| c.year.is_some())
        .collect();
    let years: Vec<i32> = by_year
        .iter()
        .filter_map(|c| c.year)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let pairs: BTreeSet<(&str, &str)> = by_year
        .iter()
        .map(|c| (c.organism.as_str(), c.antimicrobial.as_str()))
        .collect();
    let mut rows = Vec::new();
    for (o, d) in pairs {
        for country in [Country::Germany, Country::Japan] {
            let code = country.to_string();
            let cells: Vec<Option<AmrShare>> = years
                .iter()
                .map(|y| {
                    let c = by_year.iter().find(|c| {
                        c.group == code
                            && c.organism == o
                            && c.antimicrobial == d
                            && c.year == Some(*y)
                    })?;
                    cell_share(c, susceptible)
                })
                .collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let p_trend = res
                .trends
                .iter()
                .find(|t| t.group == code && t.organism == o && t.antimicrobial == d)
                .and_then(|t| t.p_trend);
            rows.push(AmrTrend {
                organism: organism_name(o),
                antimicrobial: drug_name(d),
                country,
                years: cells,
                p_trend,
            });
        }
    }
    (years, rows)
}

pub(super) fn page_of(res: &AntibiogramResult, form: AmrForm, locale: Locale) -> AmrPage {
    let susceptible = reports_susceptible(&form.guideline);
    let (years, trends) = trend_rows(res, susceptible);
    let sites = res
        .sites
        .iter()
        .map(|s| {
            let note = match (&s.reason, &s.disclosure) {
                (Some(r), _) => r.clone(),
                (None, Some(d)) => {
                    let noise = d.epsilon.map(|e| format!(", ε = {e}")).unwrap_or_default();
                    format!("min {}, ×{}{noise}", d.min_count, d.rounding)
                }
                (None, None) => String::new(),
            };
            AmrSite {
                name: s.name.clone(),
                country: s.country.parse().unwrap_or(Country::Germany),
                status: serde_json::to_value(s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                note,
                notes: super::super::note_texts(&s.notes, locale),
                noise_off: s.disclosure.as_ref().is_some_and(|d| d.noise_off()),
            }
        })
        .collect();
    let comparison = res
        .report
        .comparison
        .iter()
        .filter(|c| c.year.is_none())
        .map(|c| AmrComparison {
            organism: organism_name(&c.organism),
            antimicrobial: drug_name(&c.antimicrobial),
            de: cell_share(&c.a, false),
            jp: cell_share(&c.b, false),
            difference: c.difference,
            difference_exact: c.difference_exact,
        })
        .collect();
    AmrPage {
        guidelines: super::guidelines(),
        specimens: super::SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
        maps: heat_maps(res, &form.guideline, locale),
        share_label: if susceptible { "% S" } else { "% R" }.to_owned(),
        form,
        errors: kakehashi_web::form::FieldErrors::default(),
        task: Some(res.task.id.to_string()),
        sites,
        comparison,
        mdro: mdro_rows(res),
        years,
        trends,
        in_force: None,
    }
}
