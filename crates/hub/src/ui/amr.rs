//! The resistance page: a researcher states an antibiogram (guideline, organisms, drugs,
//! specimen, period); every site reads its raw values again with that guideline and answers
//! through its gate; the page shows a heat-map per country, Germany against Japan with
//! intervals, and MDRO shares. Every heat-map's data downloads as CSV.

use super::{S, chrome, error_page, html, signed_in_ctx, ui_error};
use crate::api::{NewTask, create_task_for, visible_task, wait_merged};
use crate::db::{Role, User};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kakehashi_amr::pool::{CellStats, MdroStats, Share};
use kakehashi_amr::{Guideline, Reference};
use kakehashi_federation::antibiogram::{self, AntibiogramRequest, AntibiogramResult, MdroMeasure};
use kakehashi_federation::{SiteState, TaskSpec};
use kakehashi_model::Country;
use kakehashi_web::chart::{Cell, HeatMap};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::pages::{
    AmrComparison, AmrForm, AmrMdro, AmrPage, AmrShare, AmrSite, AmrTrend, Page,
};
use kakehashi_web::{Catalog, Locale};
use serde::Deserialize;
use std::collections::BTreeSet;

/// Specimen types the form offers.
const SPECIMENS: [&str; 4] = ["blood", "urine", "csf", "sputum"];
/// The default panel: WHO GLASS priority bacteria and the drugs their antibiograms report.
const DEFAULT_ORGANISMS: &str = "Escherichia coli, Klebsiella pneumoniae, Pseudomonas aeruginosa, Acinetobacter baumannii, Staphylococcus aureus, Enterococcus faecium";
const DEFAULT_DRUGS: &str = "Ampicillin, Piperacillin/tazobactam, Cefotaxime, Ceftazidime, Meropenem, Ciprofloxacin, Gentamicin, Oxacillin, Vancomycin";

/// The guidelines on offer: every installed one, newest first, EUCAST before CLSI (none if the
/// reference tables cannot be loaded; the form then says why).
fn guidelines() -> Vec<String> {
    let mut g: Vec<Guideline> = Reference::shared()
        .map(|r| r.guidelines().to_vec())
        .unwrap_or_default();
    g.sort_by_key(|g| std::cmp::Reverse((g.year, g.to_string().starts_with("EUCAST"))));
    g.iter().map(ToString::to_string).collect()
}

#[derive(Deserialize, Default)]
pub(super) struct AmrQuery {
    #[serde(flatten)]
    form: AmrForm,
    run: Option<String>,
}

fn split(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks the form; returns the task's question when it is valid.
fn spec_of(
    form: &AmrForm,
    offered: &[String],
    errors: &mut FieldErrors,
) -> Option<AntibiogramRequest> {
    let r = match Reference::shared() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("AMR reference tables: {e}");
            errors.add("guideline", "err-amr-spec", e.to_string());
            return None;
        }
    };
    if !offered.contains(&form.guideline) {
        errors.add("guideline", "err-choice", form.guideline.clone());
    }
    let orgs = split(&form.organisms);
    if orgs.is_empty() {
        errors.add("organisms", "err-required", "");
    }
    if let Some(bad) = orgs.iter().find(|o| r.find_organism(o).is_none()) {
        errors.add("organisms", "err-unknown-organism", bad.clone());
    }
    let drugs = split(&form.antimicrobials);
    if drugs.is_empty() {
        errors.add("antimicrobials", "err-required", "");
    }
    if let Some(bad) = drugs.iter().find(|d| r.find_antimicrobial(d).is_none()) {
        errors.add("antimicrobials", "err-unknown-antimicrobial", bad.clone());
    }
    if !form.specimen.is_empty() && !SPECIMENS.contains(&form.specimen.as_str()) {
        errors.add("specimen", "err-choice", form.specimen.clone());
    }
    let from = (!form.from.trim().is_empty())
        .then(|| errors.date("from", form.from.trim()))
        .flatten();
    let to = (!form.to.trim().is_empty())
        .then(|| errors.date("to", form.to.trim()))
        .flatten();
    errors.ordered("to", from, to);
    if !errors.is_empty() {
        return None;
    }
    let guideline = match form.guideline.parse() {
        Ok(g) => g,
        Err(e) => {
            errors.add("guideline", "err-amr-spec", format!("{e}"));
            return None;
        }
    };
    let spec = kakehashi_amr::AntibiogramSpec {
        guideline,
        organisms: orgs,
        antimicrobials: drugs,
        period: kakehashi_amr::antibiogram::Period { from, to },
        specimen_types: if form.specimen.is_empty() {
            Vec::new()
        } else {
            vec![form.specimen.clone()]
        },
        first_isolate: Default::default(),
        max_isolates_per_patient: kakehashi_amr::per_patient::DEFAULT_MAX_ISOLATES_PER_PATIENT,
        by_year: form.by_year,
        infection_site: Default::default(),
    };
    // The hub checks again what every site will check (unknown names, guideline years).
    match AntibiogramRequest::new(spec) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.add("guideline", "err-amr-spec", e.to_string());
            None
        }
    }
}

/// Runs the antibiogram (or reuses the same question asked in the last 30 minutes) and waits
/// for the sites.
async fn run(
    hub: &Hub,
    user: &User,
    spec: AntibiogramRequest,
) -> Result<AntibiogramResult, ApiError> {
    let recent = hub.db.tasks_for(user, None, 100)?.into_iter().find(|t| {
        matches!(&t.spec, TaskSpec::Antibiogram(s) if *s == spec)
            && chrono::Utc::now() - t.created < chrono::Duration::minutes(30)
    });
    let task = match recent {
        Some(t) => t,
        None => {
            let project = hub
                .db
                .projects_of(user)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::forbidden("you belong to no project"))?;
            create_task_for(
                hub,
                user,
                NewTask {
                    project: project.id,
                    spec: TaskSpec::Antibiogram(spec),
                    deadline_seconds: None,
                },
            )?
        }
    };
    let m = wait_merged(
        hub,
        &task,
        std::time::Duration::from_secs(hub.cfg.tasks.default_deadline_seconds + 1),
    )
    .await?;
    Ok(antibiogram::result(&m, &hub.cfg.rules))
}

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
fn heat_maps(res: &AntibiogramResult, guideline: &str, locale: Locale) -> Vec<HeatMap> {
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

fn page_of(res: &AntibiogramResult, form: AmrForm, locale: Locale) -> AmrPage {
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
                notes: super::note_texts(&s.notes, locale),
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
        guidelines: guidelines(),
        specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
        maps: heat_maps(res, &form.guideline, locale),
        share_label: if susceptible { "% S" } else { "% R" }.to_owned(),
        form,
        errors: FieldErrors::default(),
        task: Some(res.task.id.to_string()),
        sites,
        comparison,
        mdro: mdro_rows(res),
        years,
        trends,
    }
}

/// `GET /amr`: the form with the default panel; with `run=1` the antibiogram itself.
pub(super) async fn amr(State(hub): S, headers: HeaderMap, Query(q): Query<AmrQuery>) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/amr") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let offered = guidelines();
    let mut form = q.form;
    if q.run.is_none() {
        form = AmrForm {
            guideline: if form.guideline.is_empty() {
                offered.first().cloned().unwrap_or_default()
            } else {
                form.guideline
            },
            organisms: DEFAULT_ORGANISMS.into(),
            antimicrobials: DEFAULT_DRUGS.into(),
            ..Default::default()
        };
        let page = AmrPage {
            guidelines: offered,
            specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
            form,
            ..Default::default()
        };
        return html(StatusCode::OK, &Page::Amr(page), &chrome(&c, "amr", None));
    }
    let mut errors = FieldErrors::default();
    let spec = spec_of(&form, &offered, &mut errors);
    if user.role == Role::Steward {
        errors.add("guideline", "error-forbidden", "");
    }
    let Some(spec) = spec.filter(|_| errors.is_empty()) else {
        let page = AmrPage {
            guidelines: offered,
            specimens: SPECIMENS.iter().map(|s| (*s).to_owned()).collect(),
            form,
            errors,
            ..Default::default()
        };
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &Page::Amr(page),
            &chrome(&c, "amr", None),
        );
    };
    match run(&hub, &user, spec).await {
        Ok(res) => html(
            StatusCode::OK,
            &Page::Amr(page_of(&res, form, c.locale)),
            &chrome(&c, "amr", None),
        ),
        Err(e) => ui_error(&c, e),
    }
}

#[derive(Deserialize)]
pub(super) struct CsvQuery {
    task: String,
}

/// `GET /amr/{country}.csv?task=ID`: a heat-map's cells as CSV.
pub(super) async fn amr_csv(
    State(hub): S,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<CsvQuery>,
) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/amr") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = file.strip_suffix(".csv") else {
        return error_page(&c, StatusCode::NOT_FOUND, "error-not-found");
    };
    let task = match visible_task(&hub, &user, &q.task) {
        Ok(t) => t,
        Err(e) => return ui_error(&c, e),
    };
    let TaskSpec::Antibiogram(spec) = &task.spec else {
        return error_page(&c, StatusCode::NOT_FOUND, "error-not-found");
    };
    let guideline = spec.spec().guideline.to_string();
    let m = match wait_merged(&hub, &task, std::time::Duration::ZERO).await {
        Ok(m) => m,
        Err(e) => return ui_error(&c, e),
    };
    let res = antibiogram::result(&m, &hub.cfg.rules);
    match heat_maps(&res, &guideline, c.locale)
        .into_iter()
        .find(|h| h.id == id)
    {
        Some(h) if res.sites.iter().any(|s| s.state == SiteState::Answered) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment"),
            ],
            h.csv(),
        )
            .into_response(),
        _ => error_page(&c, StatusCode::NOT_FOUND, "error-not-found"),
    }
}
