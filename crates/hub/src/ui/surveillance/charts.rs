//! The surveillance page's charts: per country and season the weekly curve with its MEM
//! threshold and intensity bands, and the share of tests positive per pathogen.

use chrono::Utc;
use kakehashi_federation::surveillance::{self, CountrySeries, SurveillanceResult};
use kakehashi_model::Country;
use kakehashi_surveillance::pooled::{season_label, season_of_date};
use kakehashi_surveillance::{IsoWeek, ReportingConvention};
use kakehashi_web::chart::{Band, LineChart, SecondAxis, Series as Line, Threshold};
use kakehashi_web::i18n::Arg;
use kakehashi_web::share_chart::{ShareChart, ShareLine, SharePoint};
use kakehashi_web::{Catalog, Locale};

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
pub(super) fn page_parts(
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
