//! A statistics report as the analysis page shows it: each site's part, the result table
//! (numbers formatted), the forest plot, CSV, and the R and Python snippets built from the
//! released aggregates.

use kakehashi_federation::task::stats::{
    GlmReport, KmResult, MetaResult, StatsReport, SummaryResult, TableResult,
};
use kakehashi_stats::design::INTERCEPT;
use kakehashi_stats::survival::CoxSummary;
use kakehashi_web::analysis::{
    AnalysisResult, ForestRow, SiteRow, cox_snippets, csv, forest_svg, glm_snippets, km_snippets,
    meta_snippets, table_snippets,
};

fn f(x: f64) -> String {
    format!("{x:.4}")
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map_or("–".to_owned(), |v| v.to_string())
}

/// The parts every report shows: the sites, the problem, the headline.
fn base<T>(r: &StatsReport<T>, what: &str) -> AnalysisResult {
    let n: u64 = r.sites.iter().filter_map(|s| s.rows).sum();
    AnalysisResult {
        headline: format!(
            "{what}: {n} rows at {} sites, {} round(s), {} ms",
            r.sites.len(),
            r.rounds,
            r.elapsed_ms
        ),
        sites: r
            .sites
            .iter()
            .map(|s| SiteRow {
                site: s.name.clone(),
                state: format!("{:?}", s.state).to_lowercase(),
                rows: s.rows,
                reason: s.reason.clone(),
            })
            .collect(),
        problem: r.problem.clone(),
        ..AnalysisResult::default()
    }
}

fn finish(mut a: AnalysisResult, columns: &[&str], rows: Vec<Vec<String>>) -> AnalysisResult {
    a.columns = columns.iter().map(|c| (*c).to_owned()).collect();
    a.csv = csv(&a.columns, &rows);
    a.rows = rows;
    a
}

/// A GLM: coefficients with Wald CIs; the forest plot of its terms; the snippets from the
/// estimates and covariance.
pub(super) fn glm(r: &GlmReport) -> AnalysisResult {
    let mut a = base(r, "GLM");
    let Some(fit) = &r.result else { return a };
    let rows = fit
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.term.clone(),
                f(c.estimate),
                f(c.std_error),
                format!("{:.3}", c.z),
                format!("{:.3e}", c.p_value),
                f(c.ci_low),
                f(c.ci_high),
            ]
        })
        .collect();
    let terms: Vec<String> = fit.coefficients.iter().map(|c| c.term.clone()).collect();
    let est: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
    (a.r, a.python) = glm_snippets(&terms, &est, &fit.covariance);
    let forest: Vec<ForestRow> = fit
        .coefficients
        .iter()
        .filter(|c| c.term != INTERCEPT)
        .map(|c| ForestRow {
            label: c.term.clone(),
            estimate: c.estimate,
            low: c.ci_low,
            high: c.ci_high,
            pooled: true,
        })
        .collect();
    a.forest = Some(forest_svg("GLM coefficients (pooled fit)", &forest, 0.0));
    a.forest_caption = "analysis-forest-glm".into();
    a.headline = format!(
        "{} · {} · deviance {:.4} (null {:.4}) · AIC {:.4} · {} iterations",
        a.headline,
        fit.family.name(),
        fit.deviance,
        fit.null_deviance,
        fit.aic,
        fit.iterations
    );
    finish(
        a,
        &[
            "term",
            "estimate",
            "std_error",
            "z",
            "p",
            "ci_low",
            "ci_high",
        ],
        rows,
    )
}

/// A meta-analysis: every term's site estimates and pooled ones; the forest plot and snippets
/// of the first term that is not the intercept.
pub(super) fn meta(r: &StatsReport<MetaResult>) -> AnalysisResult {
    let mut a = base(r, "Meta-analysis");
    let Some(m) = &r.result else { return a };
    let q = 1.959963984540054;
    let mut rows = Vec::new();
    for t in &m.terms {
        for s in &t.studies {
            rows.push(vec![
                t.term.clone(),
                s.name.clone(),
                f(s.estimate),
                f(s.std_error),
                f(s.estimate - q * s.std_error),
                f(s.estimate + q * s.std_error),
                String::new(),
                String::new(),
            ]);
        }
        for p in &t.pooled {
            rows.push(vec![
                t.term.clone(),
                format!("pooled ({:?})", p.method).to_lowercase(),
                f(p.estimate),
                f(p.std_error),
                f(p.ci_low),
                f(p.ci_high),
                f(p.tau2),
                format!("{:.3}", p.i2),
            ]);
        }
    }
    if let Some(t) = m.terms.iter().find(|t| t.term != INTERCEPT) {
        let mut forest: Vec<ForestRow> = t
            .studies
            .iter()
            .map(|s| ForestRow {
                label: s.name.clone(),
                estimate: s.estimate,
                low: s.estimate - q * s.std_error,
                high: s.estimate + q * s.std_error,
                pooled: false,
            })
            .collect();
        forest.extend(t.pooled.iter().map(|p| ForestRow {
            label: format!("pooled ({:?})", p.method).to_lowercase(),
            estimate: p.estimate,
            low: p.ci_low,
            high: p.ci_high,
            pooled: true,
        }));
        a.forest = Some(forest_svg(&t.term, &forest, 0.0));
        let names: Vec<String> = t.studies.iter().map(|s| s.name.clone()).collect();
        let est: Vec<f64> = t.studies.iter().map(|s| s.estimate).collect();
        let se: Vec<f64> = t.studies.iter().map(|s| s.std_error).collect();
        (a.r, a.python) = meta_snippets(&names, &est, &se);
    }
    finish(
        a,
        &[
            "term",
            "site_or_method",
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "tau2",
            "i2",
        ],
        rows,
    )
}

/// A Cox model: hazard ratios with CIs.
pub(super) fn cox(r: &StatsReport<CoxSummary>) -> AnalysisResult {
    let mut a = base(r, "Cox PH (Breslow ties)");
    let Some(c) = &r.result else { return a };
    let rows = c
        .coefficients
        .iter()
        .map(|x| {
            vec![
                x.term.clone(),
                f(x.estimate),
                f(x.std_error),
                format!("{:.3e}", x.p_value),
                f(x.hazard_ratio),
                f(x.ci_low),
                f(x.ci_high),
            ]
        })
        .collect();
    let terms: Vec<String> = c.coefficients.iter().map(|x| x.term.clone()).collect();
    let est: Vec<f64> = c.coefficients.iter().map(|x| x.estimate).collect();
    let se: Vec<f64> = c.coefficients.iter().map(|x| x.std_error).collect();
    (a.r, a.python) = cox_snippets(&terms, &est, &se);
    a.headline = format!(
        "{} · {} events · log partial likelihood {:.4} (null {:.4}) · {} iterations",
        a.headline, c.events, c.log_likelihood, c.null_log_likelihood, c.iterations
    );
    finish(
        a,
        &[
            "term",
            "estimate",
            "std_error",
            "p",
            "hazard_ratio",
            "ci_low",
            "ci_high",
        ],
        rows,
    )
}

/// A life table: the pooled intervals, survival withheld where a site suppressed a count.
pub(super) fn km(r: &StatsReport<KmResult>) -> AnalysisResult {
    let mut a = base(r, "Kaplan–Meier life table");
    let Some(k) = &r.result else { return a };
    let rows = k
        .pooled
        .iter()
        .map(|i| {
            vec![
                i.from.to_string(),
                opt(i.at_risk),
                opt(i.events),
                opt(i.censored),
                i.survival.map_or("–".into(), f),
                i.std_error.map_or("–".into(), f),
            ]
        })
        .collect();
    let open: Vec<_> = k
        .pooled
        .iter()
        .take_while(|i| i.survival.is_some())
        .collect();
    (a.r, a.python) = km_snippets(
        &open.iter().filter_map(|i| i.at_risk).collect::<Vec<_>>(),
        &open.iter().filter_map(|i| i.events).collect::<Vec<_>>(),
        &open.iter().filter_map(|i| i.censored).collect::<Vec<_>>(),
    );
    finish(
        a,
        &[
            "from_day",
            "at_risk",
            "events",
            "censored",
            "survival",
            "std_error",
        ],
        rows,
    )
}

/// A summary: per group, pooled n, missing, mean and sd.
pub(super) fn summary(r: &StatsReport<SummaryResult>) -> AnalysisResult {
    let mut a = base(r, "Summary");
    let Some(s) = &r.result else { return a };
    let rows = s
        .pooled
        .iter()
        .map(|g| {
            vec![
                g.group.clone().unwrap_or_else(|| "(all)".into()),
                g.n.to_string(),
                g.missing.to_string(),
                g.mean.map_or("–".into(), f),
                g.sd.map_or("–".into(), f),
            ]
        })
        .collect();
    let n: Vec<String> = s.pooled.iter().map(|g| g.n.to_string()).collect();
    let mean: Vec<String> = s
        .pooled
        .iter()
        .map(|g| g.mean.map_or("NA".into(), |m| format!("{m:?}")))
        .collect();
    a.r = format!(
        "# the pooled n and means per group, as released\nn <- c({})\nmean <- c({})\nsum(n * mean) / sum(n)  # the overall mean\n",
        n.join(", "),
        mean.join(", ")
    );
    a.python = format!(
        "import numpy as np\nn = np.array([{}]); mean = np.array([{}])\nprint((n * mean).sum() / n.sum())\n",
        n.join(", "),
        mean.join(", ").replace("NA", "np.nan")
    );
    finish(a, &["group", "n", "missing", "mean", "sd"], rows)
}

/// A table: each cell's pooled count, with χ² and Fisher where valid.
pub(super) fn table(r: &StatsReport<TableResult>) -> AnalysisResult {
    let mut a = base(r, "Contingency table");
    let Some(t) = &r.result else { return a };
    let table = &t.table;
    let mut rows = Vec::new();
    let mut index = vec![0usize; table.levels.len()];
    for count in &table.counts {
        let mut row: Vec<String> = index
            .iter()
            .zip(&table.levels)
            .map(|(i, l)| l.get(*i).cloned().unwrap_or_default())
            .collect();
        row.push(count.to_string());
        rows.push(row);
        for k in (0..index.len()).rev() {
            index[k] += 1;
            if index[k] < table.levels[k].len() {
                break;
            }
            index[k] = 0;
        }
    }
    if let Ok(c) = &t.chi_square {
        a.headline = format!(
            "{} · χ² {:.4} on {} df, p {:.3e}",
            a.headline, c.statistic, c.df, c.p_value
        );
    }
    if let Ok(fi) = &t.fisher {
        a.headline = format!("{} · Fisher p {:.4}", a.headline, fi.p_value);
    }
    (a.r, a.python) = table_snippets(table.levels.first().map_or(1, Vec::len), &table.counts);
    let mut columns: Vec<&str> = table.variables.iter().map(String::as_str).collect();
    columns.push("count");
    finish(a, &columns, rows)
}
