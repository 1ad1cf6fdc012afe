//! `kakehashi study list|push|activate|records --hub URL --token T`: the studies at a hub,
//! through its API (`/api/studies`): list those the token's user sees, create one from a study
//! JSON or from a REDCap data dictionary, activate a sleeping study at sites (the network
//! office's token), download a study's data (CSV, Parquet, ODM, FHIR).

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The hub and the caller's token.
#[derive(clap::Args)]
pub struct HubArgs {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    pub hub: String,
    /// Your API token.
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// Arguments of `kakehashi study push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// A study JSON, or a REDCap data dictionary (.csv).
    pub file: PathBuf,
    /// The hub and the network office's token.
    #[command(flatten)]
    pub at: HubArgs,
    /// For a dictionary: the new study's id (default: the file name).
    #[arg(long)]
    pub id: Option<String>,
    /// For a dictionary: its title.
    #[arg(long)]
    pub title: Option<String>,
    /// For a dictionary: the id of a study at the hub to take arms, events, sites, roles and
    /// texts from.
    #[arg(long)]
    pub like: Option<String>,
}

/// Arguments of `kakehashi study activate`.
#[derive(clap::Args)]
pub struct ActivateArgs {
    /// The study's id.
    pub study: String,
    /// A site (data access group) to activate; repeat for several.
    #[arg(long = "site", required = true)]
    pub sites: Vec<String>,
    /// A JSON file with ethics approvals to record with the activation (a list of
    /// {country, committee, reference, approved_on}).
    #[arg(long)]
    pub approvals: Option<PathBuf>,
    /// Why now (the outbreak, the decision).
    #[arg(long, default_value = "")]
    pub note: String,
    /// The hub and the network office's token.
    #[command(flatten)]
    pub at: HubArgs,
}

/// The data export formats of `kakehashi study records`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RecordsFormat {
    /// REDCap's flat CSV.
    Csv,
    /// The flat rows as typed Parquet (labels in the column metadata).
    Parquet,
    /// CDISC ODM 1.3.2 with the audit trail.
    Odm,
    /// FHIR Questionnaire and QuestionnaireResponse (a Bundle).
    Fhir,
}

/// Arguments of `kakehashi study records`.
#[derive(clap::Args)]
pub struct RecordsArgs {
    /// The study's id.
    pub study: String,
    /// The format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: RecordsFormat,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// The hub and your token (a role with the export right).
    #[command(flatten)]
    pub at: HubArgs,
}

/// A study as the hub lists it.
#[derive(Deserialize, serde::Serialize)]
struct Summary {
    id: String,
    title: String,
    acronym: String,
    status: String,
    forms: usize,
    fields: usize,
    sites: Vec<String>,
    role: Option<String>,
}

#[derive(Deserialize, Default)]
struct HubError {
    message: Option<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> anyhow::Result<T> {
    let status = r.status();
    if !status.is_success() {
        let body: HubError = r.json().await.unwrap_or_default();
        bail!(
            "hub: HTTP {status}: {}",
            body.message.as_deref().unwrap_or("no message")
        );
    }
    r.json().await.context("reading the hub's answer")
}

/// `kakehashi study list`: one line per study.
pub fn list(a: HubArgs) -> anyhow::Result<ExitCode> {
    let list: Vec<Summary> = runtime()?.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{}/api/studies", a.hub.trim_end_matches('/')))
            .bearer_auth(&a.token)
            .send()
            .await
            .context("reaching the hub")?;
        answer(r).await
    })?;
    if list.is_empty() {
        println!("no studies");
    }
    for s in list {
        println!(
            "{}\t{}\t{}\t{} forms, {} fields\tsites: {}\trole: {}\t{}",
            s.id,
            s.acronym,
            s.status,
            s.forms,
            s.fields,
            if s.sites.is_empty() {
                "-".into()
            } else {
                s.sites.join(",")
            },
            s.role.as_deref().unwrap_or("-"),
            s.title
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_lowercase().replace(' ', "_"))
        .unwrap_or_else(|| "study".into())
}

/// `kakehashi study push`: creates the study at the hub (checked there; a refusal names the
/// line and field).
pub fn push(a: PushArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let is_csv = a
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let base = a.at.hub.trim_end_matches('/').to_owned();
    let s: Summary = runtime()?.block_on(async {
        let http = reqwest::Client::new();
        let req = if is_csv {
            let body = serde_json::json!({
                "id": a.id.clone().unwrap_or_else(|| stem(&a.file)),
                "title": a.title,
                "like": a.like,
                "csv": text,
            });
            http.post(format!("{base}/api/studies/import")).json(&body)
        } else {
            http.post(format!("{base}/api/studies"))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text)
        };
        let r = req
            .bearer_auth(&a.at.token)
            .send()
            .await
            .context("reaching the hub")?;
        answer(r).await
    })?;
    println!(
        "{}: study {} ({}) created at {}: {} fields in {} forms",
        a.file.display(),
        s.id,
        s.acronym,
        base,
        s.fields,
        s.forms
    );
    Ok(ExitCode::SUCCESS)
}

/// An activation as the hub recorded it.
#[derive(Deserialize)]
struct Activated {
    at: String,
    by: String,
    sites: Vec<String>,
}

/// `kakehashi study activate`: activates a sleeping study (or more sites of an active one)
/// at the hub in one step; a refusal names the site.
pub fn activate(a: ActivateArgs) -> anyhow::Result<ExitCode> {
    let approvals: serde_json::Value = match &a.approvals {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", p.display()))?
        }
        None => serde_json::json!([]),
    };
    let base = a.at.hub.trim_end_matches('/').to_owned();
    let body = serde_json::json!({"sites": a.sites, "approvals": approvals, "note": a.note});
    let done: Activated = runtime()?.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{base}/api/studies/{}/activate", a.study))
            .bearer_auth(&a.at.token)
            .json(&body)
            .send()
            .await
            .context("reaching the hub")?;
        answer(r).await
    })?;
    println!(
        "study {} active at {} (by {} at {})",
        a.study,
        done.sites.join(", "),
        done.by,
        done.at
    );
    Ok(ExitCode::SUCCESS)
}

/// `kakehashi study records`: downloads the study's data as the token's role may export it
/// (its forms, the sites it sees) into a file; the hub audits the export.
pub fn records(a: RecordsArgs) -> anyhow::Result<ExitCode> {
    let format = match a.format {
        RecordsFormat::Csv => "csv",
        RecordsFormat::Parquet => "parquet",
        RecordsFormat::Odm => "odm",
        RecordsFormat::Fhir => "fhir",
    };
    let base = a.at.hub.trim_end_matches('/').to_owned();
    let id = &a.study;
    let body = runtime()?.block_on(async {
        let r = reqwest::Client::new()
            .get(format!(
                "{base}/api/studies/{id}/records/export?format={format}"
            ))
            .bearer_auth(&a.at.token)
            .send()
            .await
            .context("reaching the hub")?;
        let status = r.status();
        if !status.is_success() {
            let e: HubError = r.json().await.unwrap_or_default();
            bail!(
                "hub: HTTP {status}: {}",
                e.message.as_deref().unwrap_or("no message")
            );
        }
        r.bytes().await.context("reading the export")
    })?;
    std::fs::write(&a.out, &body).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{}: {} export of study {} ({} bytes)",
        a.out.display(),
        format,
        a.study,
        body.len()
    );
    Ok(ExitCode::SUCCESS)
}
