//! `kakehashi query`: ask the network through the hub and print the merged answer.

use anyhow::{Context, bail};
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A table per site with totals.
    Table,
    /// The hub's merged result as JSON.
    Json,
}

/// Arguments of `kakehashi query`.
///
/// Example: kakehashi query --hub http://127.0.0.1:8080 --token kh_... --ccdl query.json
#[derive(clap::Args)]
pub struct Args {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    hub: String,
    /// Your API token (create one on the hub's web page or with POST /api/tokens).
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: String,
    /// A CCDL feasibility query (JSON file): count patients at each site.
    #[arg(long, group = "question")]
    ccdl: Option<PathBuf>,
    /// A surveillance series instead: the case definition's name (e.g. sari-icosari).
    #[arg(long, group = "question")]
    surveillance: Option<String>,
    /// An antibiogram instead: its specification (JSON file).
    #[arg(long, group = "question")]
    antibiogram: Option<PathBuf>,
    /// The project to ask in (default: your only project).
    #[arg(long)]
    project: Option<String>,
    /// Seconds the sites have to answer.
    #[arg(long, default_value_t = 30)]
    deadline: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn read_json(path: &PathBuf) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Runs `kakehashi query`. Exit 0 when every site answered, 2 when some did not.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = match (&a.ccdl, &a.surveillance, &a.antibiogram) {
        (Some(f), _, _) => TaskSpec::Cohort { ccdl: read_json(f)? },
        (_, Some(d), _) => TaskSpec::SurveillanceSeries { definition: d.clone(), by: Vec::new(), from: None, to: None },
        (_, _, Some(f)) => TaskSpec::Antibiogram { spec: read_json(f)? },
        _ => bail!("give the question: --ccdl FILE, --surveillance DEFINITION or --antibiogram FILE"),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let merged = rt.block_on(ask(&a, spec))?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&merged)?)?,
        Format::Table => print_table(&mut out, &merged)?,
    }
    let all = merged.sites.iter().all(|s| s.state == SiteState::Answered);
    Ok(if all { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

async fn ask(a: &Args, spec: TaskSpec) -> anyhow::Result<Merged> {
    let http = reqwest::Client::builder().build()?;
    let base = a.hub.trim_end_matches('/');
    let check = |r: reqwest::Response| async move {
        let status = r.status();
        if status.is_success() {
            return Ok(r);
        }
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        bail!("hub: HTTP {status}: {}", body.get("message").and_then(|m| m.as_str()).unwrap_or("no message"))
    };
    let project = match &a.project {
        Some(p) => p.clone(),
        None => {
            let r = check(http.get(format!("{base}/api/projects")).bearer_auth(&a.token).send().await.context("reaching the hub")?).await?;
            let projects: Vec<serde_json::Value> = r.json().await?;
            let ids: Vec<&str> = projects.iter().filter_map(|p| p["id"].as_str()).collect();
            match ids.as_slice() {
                [one] => (*one).to_owned(),
                [] => bail!("you belong to no project; ask the network office to add you to one"),
                many => bail!("you belong to several projects ({}); choose one with --project", many.join(", ")),
            }
        }
    };
    let body = serde_json::json!({"project": project, "spec": spec, "deadline_seconds": a.deadline});
    let r = check(http.post(format!("{base}/api/tasks")).bearer_auth(&a.token).json(&body).send().await.context("reaching the hub")?).await?;
    let task: serde_json::Value = r.json().await?;
    let id = task["id"].as_str().context("the hub returned no task id")?.to_owned();
    let r = check(
        http.get(format!("{base}/api/tasks/{id}?wait={}", a.deadline + 5))
            .bearer_auth(&a.token)
            .timeout(std::time::Duration::from_secs(a.deadline + 30))
            .send()
            .await?,
    )
    .await?;
    Ok(r.json().await?)
}

fn cell(v: Option<kakehashi_disclosure::GatedCount>) -> String {
    match v {
        Some(kakehashi_disclosure::GatedCount::Value(n)) => n.to_string(),
        Some(kakehashi_disclosure::GatedCount::Suppressed { below }) => format!("< {below}"),
        None => "-".into(),
    }
}

fn pooled(p: Option<kakehashi_federation::Pooled>) -> String {
    match p {
        None => "-".into(),
        Some(p) => match (p.sum, p.suppressed_sites) {
            (None, _) => "withheld".into(),
            (Some(s), 0) => s.to_string(),
            (Some(s), n) => format!("{s} (+ up to {} from {n} site(s) below their minimum)", p.suppressed_max),
        },
    }
}

fn print_table(w: &mut impl Write, m: &Merged) -> anyhow::Result<()> {
    writeln!(w, "task {} ({}, project {})", m.task.id, m.task.spec.kind(), m.task.project)?;
    let scalar = |t: &kakehashi_disclosure::GatedTable| t.rows.first().and_then(|r| r.values.first().copied());
    writeln!(w, "{:<16} {:<3} {:<9} {:>10}  disclosure / note", "site", "", "status", "count")?;
    for s in &m.sites {
        let (count, note) = match &s.table {
            Some(t) if t.dims.is_empty() => {
                let d = &t.disclosure;
                let noise = d.epsilon.map(|e| format!(", noise ε = {e}")).unwrap_or_default();
                (cell(scalar(t)), format!("min {}, rounded to {}{noise}{}", d.min_count, d.rounding, if d.repeated { ", repeated question" } else { "" }))
            }
            Some(t) => (format!("{} rows", t.rows.len()), "a table: see --format json".to_owned()),
            None => ("-".into(), s.reason.clone().unwrap_or_default()),
        };
        writeln!(w, "{:<16} {:<3} {:<9} {:>10}  {note}", s.site.to_string(), s.country.to_string(), format!("{:?}", s.state).to_lowercase(), count)?;
    }
    for (c, t) in &m.countries {
        let v = if t.dims.is_empty() { pooled(t.rows.first().map(|r| r.values[0])) } else { format!("{} rows", t.rows.len()) };
        writeln!(w, "{:<16} {:<3} {:<9} {:>10}  {}", format!("total {c}"), "", format!("{} sites", t.sites), v, t.withheld.clone().unwrap_or_default())?;
    }
    if let Some(t) = &m.total {
        let v = if t.dims.is_empty() { pooled(t.rows.first().map(|r| r.values[0])) } else { format!("{} rows", t.rows.len()) };
        writeln!(w, "{:<16} {:<3} {:<9} {:>10}  {}", "total", "", format!("{} sites", t.sites), v, t.withheld.clone().unwrap_or_default())?;
    }
    Ok(())
}
