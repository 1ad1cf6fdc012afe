//! `kakehashi stats km|cox --site-dir`: survival over one or several site stores, each
//! answering as a site (only its life table or its Cox sums per round are added). Time and
//! event are dataset variables (`--time los --event died`: days from the index admission to
//! in-hospital death, else to discharge, when the patient is censored).

use super::{Format, SiteFrame, fail_per_site};
use anyhow::Context;
use kakehashi_stats::survival::{self, CoxError, life_table};
use kakehashi_stats::{Design, Formula, Levels};
use statrs::distribution::{ContinuousCDF, Normal};
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
    let rhs = if covariates.trim().is_empty() {
        "1".to_owned()
    } else {
        covariates.to_owned()
    };
    let f = Formula::parse(&format!("{event} ~ {rhs} + offset({time})")).context("--covariates")?;
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
    let shown = |x: Option<u64>| x.map_or("suppressed".to_owned(), |v| v.to_string());
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "time": time, "event": event, "pooled": pooled,
                "sites": ds.iter().zip(&tables).map(|((n, _), t)| serde_json::json!({"site": n, "intervals": t})).collect::<Vec<_>>(),
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
            for r in &pooled {
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
    Ok(ExitCode::SUCCESS)
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
    let normal = Normal::standard();
    let coefficients: Vec<serde_json::Value> = terms
        .iter()
        .zip(fit.beta.iter().zip(&fit.std_error))
        .map(|(term, (b, se))| {
            let z = b / se;
            serde_json::json!({"term": term, "estimate": b, "std_error": se, "z": z,
                "p_value": 2.0 * (1.0 - normal.cdf(z.abs())), "hazard_ratio": b.exp(),
                "ci_low": (b - 1.959963984540054 * se).exp(), "ci_high": (b + 1.959963984540054 * se).exp()})
        })
        .collect();
    let n: usize = rows.iter().map(|(_, (_, t, _))| t.len()).sum();
    let events: usize = rows
        .iter()
        .map(|(_, (_, _, e))| e.iter().filter(|x| **x).count())
        .sum();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "n": n, "events": events, "ties": "breslow", "breaks": breaks,
                "log_likelihood": fit.log_likelihood, "null_log_likelihood": fit.null_log_likelihood,
                "iterations": fit.iterations, "coefficients": coefficients,
                "sites": rows.iter().map(|(s, (_, t, _))| serde_json::json!({"site": s, "n": t.len()})).collect::<Vec<_>>(),
            }))?
        ),
        Format::Table | Format::Csv => {
            println!(
                "Cox PH (Breslow ties), {n} rows, {events} events at {} sites; log partial likelihood {:.4} (null {:.4}), {} iterations",
                rows.len(),
                fit.log_likelihood,
                fit.null_log_likelihood,
                fit.iterations
            );
            println!("term\testimate\tstd_error\tz\tp\thazard_ratio\tci_low\tci_high");
            for c in &coefficients {
                println!(
                    "{}\t{:.5}\t{:.5}\t{:.3}\t{:.3e}\t{:.4}\t{:.4}\t{:.4}",
                    c["term"].as_str().unwrap_or_default(),
                    c["estimate"].as_f64().unwrap_or(f64::NAN),
                    c["std_error"].as_f64().unwrap_or(f64::NAN),
                    c["z"].as_f64().unwrap_or(f64::NAN),
                    c["p_value"].as_f64().unwrap_or(f64::NAN),
                    c["hazard_ratio"].as_f64().unwrap_or(f64::NAN),
                    c["ci_low"].as_f64().unwrap_or(f64::NAN),
                    c["ci_high"].as_f64().unwrap_or(f64::NAN)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
