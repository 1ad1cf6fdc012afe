//! `kakehashi stats km|cox --site-dir`: survival over one or several site stores, each
//! answering as a site (only its life table or its Cox sums per round are added). Time and
//! event are dataset variables (`--time los --event died`: days from the index admission to
//! in-hospital death, else to discharge, when the patient is censored).

use super::{Format, SiteFrame, fail_per_site};
use anyhow::Context;
use kakehashi_stats::analysis::survival_formula;
use kakehashi_stats::survival::{self, CoxError, CoxSummary, life_table};
use kakehashi_stats::{Design, Formula, Levels};
use std::process::ExitCode;

/// Each site's problem, by site name.
type Problems = Vec<(String, String)>;

/// The rows of each site as `event ~ covariates + offset(time)` designs.
fn designs(
    frames: &[SiteFrame],
    levels: &Levels,
    time: &str,
    event: &str,
    covariates: &str,
) -> anyhow::Result<Result<Vec<(String, Design)>, Problems>> {
    let f = Formula::parse(&survival_formula(time, event, covariates)).context("--covariates")?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for s in frames {
        match Design::build(&s.frame, &f, levels) {
            Ok(d) if d.rows() > 0 => out.push((s.name.clone(), d)),
            Ok(_) => problems.push((s.name.clone(), "no rows with time and event".to_owned())),
            Err(e) => problems.push((s.name.clone(), e.to_string())),
        }
    }
    Ok(if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    })
}

/// `stats km`: the pooled grouped life table.
pub fn km(
    frames: &[SiteFrame],
    levels: &Levels,
    time: &str,
    event: &str,
    breaks: &[u32],
    min: u64,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let ds = match designs(frames, levels, time, event, "")? {
        Ok(d) => d,
        Err(p) => return fail_per_site(&p, frames.len()),
    };
    let mut tables = Vec::new();
    for (_, d) in &ds {
        let (_, t, e) = survival::rows_of(d)?;
        tables.push(life_table::site_table(&t, &e, breaks, min));
    }
    let pooled = life_table::pool(&tables);
    let per_site: Vec<(String, Vec<life_table::SiteInterval>)> =
        ds.iter().map(|(n, _)| n.clone()).zip(tables).collect();
    print_km(time, event, &per_site, &pooled, format)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a pooled life table (and, as JSON, each site's).
pub fn print_km(
    time: &str,
    event: &str,
    per_site: &[(String, Vec<life_table::SiteInterval>)],
    pooled: &[life_table::PooledInterval],
    format: Format,
) -> anyhow::Result<()> {
    let shown = |x: Option<u64>| x.map_or("suppressed".to_owned(), |v| v.to_string());
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "time": time, "event": event, "pooled": pooled,
                "sites": per_site.iter().map(|(n, t)| serde_json::json!({"site": n, "intervals": t})).collect::<Vec<_>>(),
            }))?
        ),
        Format::Table | Format::Csv => {
            let sep = if format == Format::Csv { "," } else { "\t" };
            println!(
                "{}",
                [
                    "from_day",
                    "at_risk",
                    "events",
                    "censored",
                    "survival",
                    "std_error"
                ]
                .join(sep)
            );
            for r in pooled {
                let est = |x: Option<f64>| x.map_or("withheld".to_owned(), |v| format!("{v:.6}"));
                println!(
                    "{}",
                    [
                        r.from.to_string(),
                        shown(r.at_risk),
                        shown(r.events),
                        shown(r.censored),
                        est(r.survival),
                        est(r.std_error)
                    ]
                    .join(sep)
                );
            }
        }
    }
    Ok(())
}

/// `stats cox`: Cox proportional hazards by federated Newton on the declared grid.
pub fn cox(
    frames: &[SiteFrame],
    levels: &Levels,
    (time, event, covariates): (&str, &str, &str),
    breaks: &[u32],
    min: u64,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let ds = match designs(frames, levels, time, event, covariates)? {
        Ok(d) => d,
        Err(p) => return fail_per_site(&p, frames.len()),
    };
    let mut rows = Vec::new();
    for (name, d) in &ds {
        rows.push((name.clone(), survival::rows_of(d)?));
    }
    let terms: Vec<String> = ds[0].1.columns.iter().skip(1).cloned().collect();
    let mut problems = Vec::new();
    let fit = survival::fit(terms.len(), |beta| {
        let mut sums = Vec::new();
        for (name, (x, t, e)) in &rows {
            match survival::site_sums(x, t, e, breaks, beta, min) {
                Ok(s) => sums.push(s),
                Err(err) => problems.push((name.clone(), err.to_string())),
            }
        }
        if problems.is_empty() {
            Ok(sums)
        } else {
            Err(CoxError::Input("a site refused".into()))
        }
    });
    if !problems.is_empty() {
        return fail_per_site(&problems, rows.len());
    }
    let fit = fit?;
    let n: usize = rows.iter().map(|(_, (_, t, _))| t.len()).sum();
    let events: usize = rows
        .iter()
        .map(|(_, (_, _, e))| e.iter().filter(|x| **x).count())
        .sum();
    let summary = CoxSummary::new(&fit, &terms, n as u64, events as u64, breaks);
    let sites: Vec<(String, u64)> = rows
        .iter()
        .map(|(s, (_, t, _))| (s.clone(), t.len() as u64))
        .collect();
    print_cox(&summary, &sites, format)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a fitted Cox model with each site's rows.
pub fn print_cox(s: &CoxSummary, sites: &[(String, u64)], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(s)?;
            v["sites"] = sites
                .iter()
                .map(|(site, n)| serde_json::json!({"site": site, "n": n}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Table | Format::Csv => {
            let sep = if format == Format::Csv { "," } else { "\t" };
            if format == Format::Table {
                println!(
                    "Cox PH (Breslow ties), {} rows, {} events at {} sites; log partial likelihood {:.4} (null {:.4}), {} iterations",
                    s.n,
                    s.events,
                    sites.len(),
                    s.log_likelihood,
                    s.null_log_likelihood,
                    s.iterations
                );
            }
            println!(
                "{}",
                [
                    "term",
                    "estimate",
                    "std_error",
                    "z",
                    "p",
                    "hazard_ratio",
                    "ci_low",
                    "ci_high"
                ]
                .join(sep)
            );
            for c in &s.coefficients {
                println!(
                    "{}",
                    [
                        c.term.clone(),
                        format!("{:.5}", c.estimate),
                        format!("{:.5}", c.std_error),
                        format!("{:.3}", c.z),
                        format!("{:.3e}", c.p_value),
                        format!("{:.4}", c.hazard_ratio),
                        format!("{:.4}", c.ci_low),
                        format!("{:.4}", c.ci_high)
                    ]
                    .join(sep)
                );
            }
        }
    }
    Ok(())
}
