//! How `kakehashi stats` prints results (table, JSON, CSV) and writes a dataset (CSV,
//! Parquet).

use super::Format;
use anyhow::{Context, bail};
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use kakehashi_stats::glm::GlmFit;
use kakehashi_stats::summary::{PooledSummary, SiteSummary};
use kakehashi_stats::table::{Table, chi_square, fisher};
use kakehashi_stats::{Column, Formula, Frame};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Prints a GLM fit.
pub fn glm(
    fit: &GlmFit,
    formula: &Formula,
    sites: &[(String, usize)],
    elapsed: Duration,
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let sites: Vec<_> = sites
                .iter()
                .map(|(s, n)| serde_json::json!({"site": s, "n": n}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "formula": formula.to_string(),
                    "family": fit.family,
                    "n": fit.n,
                    "deviance": fit.deviance,
                    "null_deviance": fit.null_deviance,
                    "df_residual": fit.df_residual,
                    "df_null": fit.df_null,
                    "dispersion": fit.dispersion,
                    "log_likelihood": fit.log_likelihood,
                    "aic": fit.aic,
                    "iterations": fit.iterations,
                    "coefficients": fit.coefficients,
                    "sites": sites,
                    "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
                }))?
            );
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "term",
                "estimate",
                "std_error",
                "z",
                "p_value",
                "ci_low",
                "ci_high",
            ])?;
            for c in &fit.coefficients {
                w.write_record([
                    c.term.clone(),
                    c.estimate.to_string(),
                    c.std_error.to_string(),
                    c.z.to_string(),
                    c.p_value.to_string(),
                    c.ci_low.to_string(),
                    c.ci_high.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            println!(
                "{formula}   family {}, {} rows at {} sites",
                fit.family,
                fit.n,
                sites.len()
            );
            let width = fit
                .coefficients
                .iter()
                .map(|c| c.term.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            println!(
                "{:width$}  {:>11}  {:>10}  {:>8}  {:>9}  {:>23}",
                "term", "estimate", "std.error", "z", "p", "95% CI"
            );
            for c in &fit.coefficients {
                println!(
                    "{:width$}  {:>11.5}  {:>10.5}  {:>8.3}  {:>9.3e}  [{:>10.5}, {:>10.5}]",
                    c.term, c.estimate, c.std_error, c.z, c.p_value, c.ci_low, c.ci_high
                );
            }
            println!(
                "deviance {:.4} on {} df; null deviance {:.4} on {} df; AIC {:.4}; {} iterations, {:.0} ms",
                fit.deviance,
                fit.df_residual,
                fit.null_deviance,
                fit.df_null,
                fit.aic,
                fit.iterations,
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "suppressed".to_owned(), |v| format!("{v:.4}"))
}

/// Prints summaries per site and pooled.
pub fn summary(
    variable: &str,
    sites: &[(String, Vec<SiteSummary>)],
    pooled: &[PooledSummary],
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "variable": variable,
                "pooled": pooled,
                "sites": sites.iter().map(|(s, x)| serde_json::json!({"site": s, "groups": x})).collect::<Vec<_>>(),
            }))?
        ),
        Format::Csv | Format::Table => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == Format::Csv { b',' } else { b'\t' })
                .from_writer(std::io::stdout());
            w.write_record([
                "site", "group", "n", "missing", "mean", "sd", "q1", "median", "q3",
            ])?;
            for (s, groups) in sites {
                for g in groups {
                    let sd = g.moments.map(|m| {
                        if g.n > 1 {
                            (m.m2 / (g.n - 1) as f64).sqrt()
                        } else {
                            f64::NAN
                        }
                    });
                    w.write_record([
                        s.clone(),
                        g.group.clone().unwrap_or_else(|| "(all)".into()),
                        g.n.to_string(),
                        g.missing.to_string(),
                        opt(g.moments.map(|m| m.mean)),
                        opt(sd),
                        opt(g.quartiles.map(|q| q.q1)),
                        opt(g.quartiles.map(|q| q.median)),
                        opt(g.quartiles.map(|q| q.q3)),
                    ])?;
                }
            }
            for g in pooled {
                let withheld = |x: Option<f64>| match x {
                    Some(v) => format!("{v:.4}"),
                    None => format!("withheld ({} sites suppressed)", g.suppressed_sites),
                };
                w.write_record([
                    "pooled".to_owned(),
                    g.group.clone().unwrap_or_else(|| "(all)".into()),
                    g.n.to_string(),
                    g.missing.to_string(),
                    withheld(g.mean),
                    withheld(g.sd),
                    "not pooled".into(),
                    "not pooled".into(),
                    "not pooled".into(),
                ])?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// Prints a pooled table and its tests.
pub fn table(t: &Table, format: Format) -> anyhow::Result<()> {
    let chi = chi_square(t);
    let fis = fisher(t);
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "table": t,
                "chi_square": chi.as_ref().ok(),
                "chi_square_not_given": chi.as_ref().err().map(ToString::to_string),
                "fisher": fis.as_ref().ok(),
            }))?
        ),
        Format::Csv | Format::Table => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == Format::Csv { b',' } else { b'\t' })
                .from_writer(std::io::stdout());
            let mut header = t.variables.clone();
            header.push("count".into());
            w.write_record(&header)?;
            for (i, c) in t.counts.iter().enumerate() {
                let mut rec: Vec<String> = t
                    .cell_name(i)
                    .split(", ")
                    .map(|p| p.split_once('=').map_or(p, |x| x.1).to_owned())
                    .collect();
                rec.push(c.to_string());
                w.write_record(&rec)?;
            }
            w.flush()?;
            if format == Format::Table {
                println!("missing: {}", t.missing);
                match &chi {
                    Ok(c) => println!(
                        "χ² = {:.4}, df {}, p = {:.4e} (Pearson, no continuity correction)",
                        c.statistic, c.df, c.p_value
                    ),
                    Err(e) => println!("χ²: {e}"),
                }
                if let Ok(f) = &fis {
                    println!(
                        "Fisher's exact test: p = {:.4e}, odds ratio {:.4}",
                        f.p_value, f.odds_ratio
                    );
                }
            }
        }
    }
    Ok(())
}

/// Prints a meta-analysis: each site's estimate, then the pooled estimate by each method.
pub fn meta(
    term: &str,
    studies: &[kakehashi_stats::meta::Study],
    format: Format,
) -> anyhow::Result<()> {
    use kakehashi_stats::meta::{Method, pool};
    let pooled = [Method::Fixed, Method::DerSimonianLaird, Method::Reml]
        .into_iter()
        .map(|m| pool(studies, m))
        .collect::<Result<Vec<_>, _>>()?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"term": term, "sites": studies, "pooled": pooled})
            )?
        ),
        Format::Table | Format::Csv => {
            let sep = if format == Format::Csv { "," } else { "\t" };
            println!(
                "{}",
                [
                    "row",
                    "estimate",
                    "std_error",
                    "ci_low",
                    "ci_high",
                    "tau2",
                    "i2"
                ]
                .join(sep)
            );
            for s in studies {
                println!(
                    "{}",
                    [
                        s.name.clone(),
                        format!("{:.6}", s.estimate),
                        format!("{:.6}", s.std_error),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new()
                    ]
                    .join(sep)
                );
            }
            for p in &pooled {
                println!(
                    "{}",
                    [
                        format!("{:?}", p.method),
                        format!("{:.6}", p.estimate),
                        format!("{:.6}", p.std_error),
                        format!("{:.6}", p.ci_low),
                        format!("{:.6}", p.ci_high),
                        format!("{:.6}", p.tau2),
                        format!("{:.3}", p.i2)
                    ]
                    .join(sep)
                );
            }
        }
    }
    Ok(())
}

/// Writes a dataset as CSV or Parquet (by the file's extension), one column per variable.
pub fn write_frame(f: &Frame, out: &Path) -> anyhow::Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or_default();
    match ext {
        "csv" => {
            let mut w = csv::Writer::from_path(out)
                .with_context(|| format!("creating {}", out.display()))?;
            w.write_record(f.names())?;
            for i in 0..f.rows() {
                let rec: Vec<String> = f
                    .columns()
                    .iter()
                    .map(|c| match c {
                        Column::Numeric(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
                        Column::Factor(v) => v[i].clone().unwrap_or_default(),
                    })
                    .collect();
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        "parquet" => {
            let fields: Vec<Field> = f
                .names()
                .iter()
                .zip(f.columns())
                .map(|(n, c)| {
                    let t = match c {
                        Column::Numeric(_) => DataType::Float64,
                        Column::Factor(_) => DataType::Utf8,
                    };
                    Field::new(n, t, true)
                })
                .collect();
            let arrays: Vec<ArrayRef> = f
                .columns()
                .iter()
                .map(|c| match c {
                    Column::Numeric(v) => Arc::new(Float64Array::from(v.clone())) as ArrayRef,
                    Column::Factor(v) => Arc::new(StringArray::from(v.clone())) as ArrayRef,
                })
                .collect();
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(schema.clone(), arrays)?;
            let file = std::fs::File::create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None)?;
            w.write(&batch)?;
            w.close()?;
        }
        _ => bail!("--out {}: name a .csv or .parquet file", out.display()),
    }
    Ok(())
}
