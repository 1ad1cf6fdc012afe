//! `kakehashi stats ... --hub URL`: the same statistics asked of the network's sites through
//! the hub, which drives the rounds (`/api/projects/{project}/stats/...`). Printed as the
//! local run prints them; a run without a result names each site that did not answer with
//! its reason and ends with the "incomplete" exit code, never with a partial result.

use super::{Format, output};
use anyhow::{Context, bail};
use kakehashi_federation::task::stats::{
    GlmReport, KmResult, MetaResult, StatsReport, SummaryResult, TableResult,
};
use kakehashi_stats::Formula;
use kakehashi_stats::survival::CoxSummary;
use serde::de::DeserializeOwned;
use std::process::ExitCode;

/// The hub, the caller and the project.
pub struct Remote<'a> {
    /// The hub's URL.
    pub url: &'a str,
    /// The caller's API token.
    pub token: &'a str,
    /// The project.
    pub project: &'a str,
}

/// The hub's error body.
#[derive(serde::Deserialize, Default)]
struct HubError {
    message: Option<String>,
}

/// Posts one statistics request and reads the report.
fn post<T: DeserializeOwned>(
    r: &Remote<'_>,
    kind: &str,
    body: serde_json::Value,
) -> anyhow::Result<StatsReport<T>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let http = reqwest::Client::builder().build()?;
        let url = format!(
            "{}/api/projects/{}/stats/{kind}",
            r.url.trim_end_matches('/'),
            r.project
        );
        let resp = http
            .post(url)
            .bearer_auth(r.token)
            .json(&body)
            .send()
            .await
            .context("reaching the hub")?;
        let status = resp.status();
        if !status.is_success() {
            let e: HubError = resp.json().await.unwrap_or_default();
            bail!(
                "hub: HTTP {status}: {}",
                e.message.as_deref().unwrap_or("no message")
            );
        }
        Ok(resp.json().await?)
    })
}

/// Prints why a run has no result (each site's reason) and gives the exit code.
fn incomplete<T: serde::Serialize>(
    report: &StatsReport<T>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(report)?);
    }
    for s in &report.sites {
        if s.rows.is_none() {
            eprintln!(
                "site {}: {}",
                s.site,
                s.reason.as_deref().unwrap_or("no answer")
            );
        }
    }
    eprintln!(
        "error: {}",
        report
            .problem
            .as_deref()
            .unwrap_or("no result: not every site answered")
    );
    Ok(ExitCode::from(crate::exit::INCOMPLETE))
}

/// `stats glm --hub`.
pub fn glm(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    formula: &str,
    family: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let f = Formula::parse(formula)?;
    let started = std::time::Instant::now();
    let report: GlmReport = post(
        r,
        "glm",
        serde_json::json!({"dataset": dataset, "formula": formula, "family": family}),
    )?;
    let Some(fit) = &report.result else {
        return incomplete(&report, format);
    };
    let sites: Vec<(String, usize)> = report
        .sites
        .iter()
        .map(|s| (s.site.to_string(), s.rows.unwrap_or(0) as usize))
        .collect();
    output::glm(fit, &f, &sites, started.elapsed(), format)?;
    Ok(ExitCode::SUCCESS)
}

/// `stats summary --hub`.
pub fn summary(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    variable: &str,
    by: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let report: StatsReport<SummaryResult> = post(
        r,
        "summary",
        serde_json::json!({"dataset": dataset, "variable": variable, "by": by}),
    )?;
    let Some(s) = &report.result else {
        return incomplete(&report, format);
    };
    output::summary(variable, &s.per_site, &s.pooled, format)?;
    Ok(ExitCode::SUCCESS)
}

/// `stats table --hub`.
pub fn table(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    variables: &[String],
    format: Format,
) -> anyhow::Result<ExitCode> {
    let report: StatsReport<TableResult> = post(
        r,
        "table",
        serde_json::json!({"dataset": dataset, "variables": variables}),
    )?;
    let Some(t) = &report.result else {
        return incomplete(&report, format);
    };
    output::table(&t.table, format)?;
    Ok(ExitCode::SUCCESS)
}

/// The rows each site used, by name.
fn site_rows<T>(report: &StatsReport<T>) -> Vec<(String, u64)> {
    report
        .sites
        .iter()
        .map(|s| (s.site.to_string(), s.rows.unwrap_or(0)))
        .collect()
}

/// `stats km --hub`.
pub fn km(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    (time, event): (&str, &str),
    breaks: &[u32],
    format: Format,
) -> anyhow::Result<ExitCode> {
    let report: StatsReport<KmResult> = post(
        r,
        "km",
        serde_json::json!({"dataset": dataset, "time": time, "event": event, "breaks": breaks}),
    )?;
    let Some(k) = &report.result else {
        return incomplete(&report, format);
    };
    super::survival::print_km(time, event, &k.per_site, &k.pooled, format)?;
    Ok(ExitCode::SUCCESS)
}

/// `stats cox --hub`.
pub fn cox(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    (time, event, covariates): (&str, &str, &str),
    breaks: &[u32],
    format: Format,
) -> anyhow::Result<ExitCode> {
    let report: StatsReport<CoxSummary> = post(
        r,
        "cox",
        serde_json::json!({"dataset": dataset, "time": time, "event": event,
            "covariates": covariates, "breaks": breaks}),
    )?;
    let Some(c) = &report.result else {
        return incomplete(&report, format);
    };
    super::survival::print_cox(c, &site_rows(&report), format)?;
    Ok(ExitCode::SUCCESS)
}

/// `stats meta --hub`.
pub fn meta(
    r: &Remote<'_>,
    dataset: serde_json::Value,
    (formula, family, term): (&str, &str, &str),
    format: Format,
) -> anyhow::Result<ExitCode> {
    let report: StatsReport<MetaResult> = post(
        r,
        "meta",
        serde_json::json!({"dataset": dataset, "formula": formula, "family": family,
            "term": term}),
    )?;
    let Some(m) = &report.result else {
        return incomplete(&report, format);
    };
    let Some(t) = m.terms.iter().find(|t| t.term == term) else {
        bail!("the hub's result has no term {term}");
    };
    output::meta(term, &t.studies, format)?;
    Ok(ExitCode::SUCCESS)
}
