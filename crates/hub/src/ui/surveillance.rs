//! The surveillance page: weekly cases per country (with rates per 100,000 and the MEM
//! threshold and intensity bands fitted on the earlier seasons) and the share of tests positive
//! per pathogen with its 95 % interval and the tests behind it. Opens on the current season of
//! each country's reporting convention, without pressing "Apply" (a surveillance task is asked,
//! or a recent one reused, on the first visit). Every chart's data downloads as CSV.

use super::{S, chrome, error_page, html, signed_in_ctx, ui_error};
use crate::api::{NewTask, create_task_for, merged, wait_merged};
use crate::db::{Role, User};
use crate::{ApiError, Hub};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kakehashi_federation::TaskSpec;
use kakehashi_federation::surveillance::{self, CountrySeries, SurveillanceResult};
use kakehashi_model::Country;
use kakehashi_surveillance::pooled::{season_label, season_of_date};
use kakehashi_surveillance::{IsoWeek, ReportingConvention};
use kakehashi_web::chart::{Band, LineChart, SecondAxis, Series as Line, Threshold};
use kakehashi_web::i18n::Arg;
use kakehashi_web::pages::{self, Page};
use kakehashi_web::share_chart::{ShareChart, ShareLine, SharePoint};
use kakehashi_web::{Catalog, Locale};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct SurvQuery {
    definition: Option<String>,
    season: Option<String>,
}

/// The newest complete surveillance task for a definition, or a new one (run now, waited for).
async fn surveillance_result(
    hub: &Hub,
    user: &User,
    definition: &str,
) -> Result<SurveillanceResult, ApiError> {
    let recent = hub.db.tasks_for(user, None, 100)?.into_iter().find(|t| {
        matches!(&t.spec, TaskSpec::SurveillanceSeries(r) if r.definition() == definition && r.is_whole())
            && Utc::now() - t.created < chrono::Duration::minutes(30)
    });
    let wait = std::time::Duration::from_secs(hub.cfg.tasks.default_deadline_seconds + 1);
    let m = match recent {
        Some(t) => {
            let m = merged(hub, &t)?;
            if m.complete {
                m
            } else {
                wait_merged(hub, &t, wait).await?
            }
        }
        None => {
            let project = hub
                .db
                .projects_of(user)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::forbidden("you belong to no project"))?;
            let spec = TaskSpec::SurveillanceSeries(
                surveillance::SurveillanceRequest::of(definition)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
            );
            let task = create_task_for(
                hub,
                user,
                NewTask {
                    project: project.id,
                    spec,
                    deadline_seconds: None,
                },
            )?;
            wait_merged(hub, &task, wait).await?
        }
    };
    Ok(surveillance::result(&m, &hub.cfg.rules))
}

/// The page's charts for one country and season: the curve and the positivity.
fn country_charts(
    r: &SurveillanceResult,
    c: &CountrySeries,
    season: i32,
    locale: Locale,
) -> (LineChart, ShareChart, Option<String>) {
    let cat = Catalog::global();
    let t = |k: &str| cat.text(locale, k, &[]);
    let country_name = t(&format!("country-{}", c.country.iso()));
    let code = c.country.iso().to_lowercase();
    let conv = ReportingConvention::of(c.country);
    let (weeks, stats): (Vec<IsoWeek>, Vec<Option<&surveillance::WeekStats>>) =
        c.season(season).into_iter().unzip();
    let x_labels: Vec<(f64, String)> = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| (i as f64, w.to_string()))
        .collect();
    let points: Vec<(f64, Option<f64>)> = stats
        .iter()
        .enumerate()
        .map(|(i, s)| (i as f64, s.map(|s| s.cases.mid())))
        .collect();
    // MEM on the seasons before the shown one (the shown season is judged, not fitted)
    let rows: Vec<kakehashi_surveillance::series::SeriesRow> = c
        .weeks
        .iter()
        .filter_map(|w| {
            let week: IsoWeek = w.week.parse().ok()?;
            (kakehashi_surveillance::pooled::chart_season(&conv, week) < season).then(|| {
                kakehashi_surveillance::series::SeriesRow {
                    site: None,
                    country: Some(c.country),
                    age_group: None,
                    week,
                    cases: w.cases.mid().round() as u64,
                    icu: 0,
                    deaths: 0,
                    positivity: Vec::new(),
                }
            })
        })
        .collect();
    let refs: Vec<&kakehashi_surveillance::series::SeriesRow> = rows.iter().collect();
    let input =
        kakehashi_surveillance::series::Series::mem_input(&refs, &conv, |r| r.cases as f64, false);
    let model = (input.seasons.len() >= 2)
        .then(|| {
            kakehashi_surveillance::mem::mem_model(
                &input,
                &kakehashi_surveillance::mem::MemParams::default(),
            )
            .ok()
        })
        .flatten();
    let population = c.population.map(|p| p.lo.midpoint(p.hi)).filter(|p| *p > 0);
    let mut chart = LineChart {
        id: format!("curve-{code}"),
        title: format!(
            "{country_name} · {} · {}",
            r.definition,
            season_label(season)
        ),
        description: t("surv-intro"),
        x_label: t("surv-week"),
        y_label: t("surv-cases"),
        x_ticks: Vec::new(),
        series: vec![Line {
            name: country_name.clone(),
            points,
        }],
        bands: Vec::new(),
        thresholds: Vec::new(),
        x_labels: x_labels.clone(),
        y2: population.map(|p| SecondAxis {
            label: t("surv-rate"),
            factor: surveillance::PER / p as f64,
            places: 1,
        }),
    };
    let mut level = None;
    if let Some(model) = &model {
        let th = &model.thresholds;
        if let Some(e) = th.epidemic {
            chart.thresholds.push(Threshold {
                y: e,
                label: t("surv-epidemic-threshold"),
            });
        }
        let edges = [
            (th.medium, 2usize, "level-medium"),
            (th.high, 3, "level-high"),
            (th.very_high, 4, "level-very-high"),
        ];
        for (i, (from, lvl, key)) in edges.iter().enumerate() {
            if let Some(from) = from {
                let to = edges.get(i + 1).and_then(|e| e.0);
                chart.bands.push(Band {
                    from: *from,
                    to,
                    label: t(key),
                    level: *lvl,
                });
            }
        }
        if let Some(last) = stats.iter().rev().find_map(|s| s.map(|s| s.cases.mid()))
            && let Some(l) = th.level(last)
        {
            level = Some(format!(
                "level-{}",
                serde_json::to_value(l)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
    }
    let lines = r
        .pathogens
        .iter()
        .enumerate()
        .map(|(pi, p)| ShareLine {
            name: t(&format!("pathogen-{p}")),
            points: stats
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let pw = s.and_then(|s| s.pathogens.get(pi));
                    let share = pw.filter(|p| p.reportable).and_then(|p| p.positivity);
                    SharePoint {
                        x: i as f64,
                        share: share.map(|s| s.value.unwrap_or((s.min + s.max) / 2.0)),
                        low: share.map_or(0.0, |s| s.ci_low),
                        high: share.map_or(0.0, |s| s.ci_high),
                        tests: pw.map(|p| p.tests.mid()),
                    }
                })
                .collect(),
        })
        .collect();
    let share = ShareChart {
        id: format!("positivity-{code}"),
        title: cat.text(
            locale,
            "surv-positivity-title",
            &[
                ("country", Arg::Str(country_name.clone())),
                ("season", Arg::Str(season_label(season))),
            ],
        ),
        description: t("surv-positivity-desc"),
        x_label: t("surv-week"),
        y_label: t("surv-share-positive"),
        y2_label: t("surv-tests-week"),
        count_label: t("surv-tests"),
        band_label: t("surv-interval"),
        x_labels,
        lines,
    };
    (chart, share, level)
}

/// Everything the page shows: curves, positivity charts, MEM levels, the season each country
/// shows in words, and the seasons with data (newest first).
type Parts = (
    Vec<LineChart>,
    Vec<ShareChart>,
    Vec<(Country, String)>,
    Vec<String>,
    Vec<i32>,
);

/// Everything the page shows for a result and an asked season (None: the current one).
fn page_parts(
    r: &SurveillanceResult,
    asked: Option<i32>,
    today: chrono::DateTime<Utc>,
    locale: Locale,
) -> Parts {
    let cat = Catalog::global();
    let (mut charts, mut shares, mut levels, mut shown, mut all) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &r.countries {
        let conv = ReportingConvention::of(c.country);
        all.extend(c.seasons_with_data());
        let current = season_of_date(&conv, conv.local_date(today));
        let (season, fell_back) = c.shown_season(today, asked);
        let name = cat.text(locale, &format!("country-{}", c.country.iso()), &[]);
        let key = match (fell_back, season == current) {
            (true, _) => "surv-season-fallback",
            (false, true) => "surv-season-current",
            (false, false) => "surv-season-shown",
        };
        let asked_label = season_label(asked.unwrap_or(current));
        shown.push(cat.text(
            locale,
            key,
            &[
                ("country", Arg::Str(name)),
                ("season", Arg::Str(season_label(season))),
                ("asked", Arg::Str(asked_label)),
            ],
        ));
        let (chart, share, level) = country_charts(r, c, season, locale);
        charts.push(chart);
        shares.push(share);
        if let Some(l) = level {
            levels.push((c.country, l));
        }
    }
    all.sort_unstable();
    all.dedup();
    all.reverse();
    (charts, shares, levels, shown, all)
}

fn parse_season(s: Option<&str>) -> Result<Option<i32>, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .map(Some)
            .ok_or_else(|| v.to_owned()),
    }
}

pub(super) async fn surveillance(
    State(hub): S,
    headers: HeaderMap,
    Query(q): Query<SurvQuery>,
) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/surveillance") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let definition = q
        .definition
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| surveillance::definitions()[0].to_owned());
    let mut page = pages::SurveillancePage {
        definitions: surveillance::definitions()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        definition: definition.clone(),
        season: q.season.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut status = StatusCode::OK;
    let asked = parse_season(q.season.as_deref());
    if !surveillance::definitions().contains(&definition.as_str()) {
        page.errors
            .add("definition", "err-choice", definition.clone());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else if let Err(bad) = &asked {
        page.errors.add("season", "err-choice", bad.clone());
        status = StatusCode::UNPROCESSABLE_ENTITY;
    } else if user.role != Role::Steward {
        match surveillance_result(&hub, &user, &definition).await {
            Ok(r) => {
                let (charts, shares, levels, shown, seasons) =
                    page_parts(&r, asked.clone().ok().flatten(), Utc::now(), c.locale);
                page.charts = charts;
                page.share_charts = shares;
                page.levels = levels;
                page.shown = shown;
                let mut notes: Vec<kakehashi_federation::Note> = Vec::new();
                for n in r.sites.iter().flat_map(|s| &s.notes) {
                    if !notes.contains(n) {
                        notes.push(n.clone());
                    }
                }
                page.notes = super::note_texts(&notes, c.locale);
                page.noise_off_sites = r
                    .sites
                    .iter()
                    .filter(|s| s.disclosure.as_ref().is_some_and(|d| d.noise_off()))
                    .map(|s| s.name.clone())
                    .collect();
                page.seasons = seasons
                    .into_iter()
                    .map(|s| (s.to_string(), season_label(s)))
                    .collect();
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => {
                page.errors.add("definition", "error-forbidden", "")
            }
            Err(e) => return ui_error(&c, e),
        }
    }
    html(
        status,
        &Page::Surveillance(page),
        &chrome(&c, "surveillance", None),
    )
}

pub(super) async fn surveillance_csv(
    State(hub): S,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<SurvQuery>,
) -> Response {
    let (c, user) = match signed_in_ctx(&hub, &headers, "/surveillance") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = file.strip_suffix(".csv") else {
        return error_page(&c, StatusCode::NOT_FOUND, "error-not-found");
    };
    let def = q
        .definition
        .filter(|d| surveillance::definitions().contains(&d.as_str()))
        .unwrap_or_else(|| surveillance::definitions()[0].to_owned());
    let Ok(asked) = parse_season(q.season.as_deref()) else {
        return error_page(&c, StatusCode::NOT_FOUND, "error-not-found");
    };
    let r = match surveillance_result(&hub, &user, &def).await {
        Ok(r) => r,
        Err(e) => return ui_error(&c, e),
    };
    let (charts, shares, ..) = page_parts(&r, asked, Utc::now(), c.locale);
    let csv = charts
        .iter()
        .find(|ch| ch.id == id)
        .map(LineChart::csv)
        .or_else(|| shares.iter().find(|s| s.id == id).map(ShareChart::csv));
    match csv {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment"),
            ],
            body,
        )
            .into_response(),
        None => error_page(&c, StatusCode::NOT_FOUND, "error-not-found"),
    }
}
