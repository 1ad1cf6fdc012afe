//! `kakehashi samples locate`: ask the network's sites which collections hold specimens of a
//! cohort that meet specimen criteria, and print donors and samples per site, collection and
//! material type as the sites' gates released them.

use super::query::{ask_hub, cell, disclosure_note};
use anyhow::Context;
use kakehashi_biobank::SpecimenCriteria;
use kakehashi_biobank::criteria::{DiagnosisWindow, TestCode, TestSystem};
use kakehashi_biobank::icd10::Icd10;
use kakehashi_biobank::vocab::{MaterialType, StorageTemperature, ValueSet};
use kakehashi_federation::cohort::CohortRequest;
use kakehashi_federation::samples::SamplesRequest;
use kakehashi_federation::{Merged, SiteState, TaskSpec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `kakehashi samples ...`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Locate samples across the network: donors and samples per site, collection and material.
    Locate(LocateArgs),
}

/// Arguments of `kakehashi samples locate`.
///
/// Example: kakehashi samples locate --hub http://127.0.0.1:8080 --token kh_... --ccdl sfts.json
/// --material Serum --storage=-60to-85 --diagnosis A93.8 --days-after 60 --min-aliquots 2
/// --min-volume-ul 500 (or, instead of --diagnosis, --positive-test 94500-6 for the first
/// positive result of a LOINC test; --test-system jlac10 for a JLAC10 code)
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("anchor").args(["diagnosis", "positive_test"]).multiple(false))]
pub struct LocateArgs {
    /// The hub's URL.
    #[arg(long, env = "KAKEHASHI_HUB")]
    hub: String,
    /// Your API token.
    #[arg(long, env = "KAKEHASHI_TOKEN", hide_env_values = true)]
    token: String,
    /// The cohort: a CCDL query (JSON file).
    #[arg(long)]
    ccdl: PathBuf,
    /// A MIABIS material type (code or label; repeat for several; default any).
    #[arg(long = "material")]
    materials: Vec<String>,
    /// A MIABIS storage temperature (RT, 2to10, -18to-35, -60to-85, below-135, LNvapor,
    /// LNliquid; repeat for several; default any). Write it as --storage=-60to-85.
    #[arg(long = "storage", allow_hyphen_values = true)]
    storage: Vec<String>,
    /// Only specimens collected around the first diagnosis of this ICD-10 code.
    #[arg(long)]
    diagnosis: Option<String>,
    /// Only specimens collected around the first positive result of this test (a LOINC code,
    /// or a JLAC10 code with --test-system jlac10).
    #[arg(long)]
    positive_test: Option<String>,
    /// The code system of --positive-test.
    #[arg(long, value_enum, default_value_t = TestSystemArg::Loinc, requires = "positive_test")]
    test_system: TestSystemArg,
    /// Days before the diagnosis or positive test.
    #[arg(long, default_value_t = 0, requires = "anchor")]
    days_before: i64,
    /// Days after it.
    #[arg(long, default_value_t = 30, requires = "anchor")]
    days_after: i64,
    /// A donor counts with at least this many matching aliquots in a collection.
    #[arg(long, default_value_t = 1)]
    min_aliquots: u32,
    /// Only aliquots of at least this volume, in microlitres (500 = 0.5 mL); specimens without
    /// a recorded volume do not count then.
    #[arg(long, default_value_t = 0)]
    min_volume_ul: u32,
    /// The project to ask in (default: your only project).
    #[arg(long)]
    project: Option<String>,
    /// Seconds the sites have to answer.
    #[arg(long, default_value_t = 30)]
    deadline: u64,
    /// Print the hub's merged result as JSON.
    #[arg(long)]
    json: bool,
}

/// The code systems `--positive-test` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestSystemArg {
    /// LOINC.
    Loinc,
    /// JLAC10.
    Jlac10,
}

fn values<V: ValueSet>(flag: &str, given: &[String]) -> anyhow::Result<Vec<V>> {
    given
        .iter()
        .map(|g| {
            V::parse(g).with_context(|| {
                format!(
                    "--{flag} {g:?}: unknown {}; allowed: {}",
                    V::NAME,
                    V::codes()
                )
            })
        })
        .collect()
}

/// The question the flags describe.
pub fn request(a: &LocateArgs) -> anyhow::Result<SamplesRequest> {
    let text = std::fs::read_to_string(&a.ccdl)
        .with_context(|| format!("reading {}", a.ccdl.display()))?;
    let cohort = CohortRequest::from_json(&text)
        .with_context(|| format!("{} is not a question the network answers", a.ccdl.display()))?;
    let icd10 = match &a.diagnosis {
        Some(code) => Some(Icd10::parse(code).with_context(|| "--diagnosis".to_string())?),
        None => None,
    };
    let positive_test = a.positive_test.as_ref().map(|code| TestCode {
        system: match a.test_system {
            TestSystemArg::Loinc => TestSystem::Loinc,
            TestSystemArg::Jlac10 => TestSystem::Jlac10,
        },
        code: code.trim().to_owned(),
    });
    let window = (icd10.is_some() || positive_test.is_some()).then_some(DiagnosisWindow {
        icd10,
        positive_test,
        days_before: a.days_before,
        days_after: a.days_after,
    });
    let criteria = SpecimenCriteria {
        material_types: values::<MaterialType>("material", &a.materials)?,
        storage_temperatures: values::<StorageTemperature>("storage", &a.storage)?,
        window,
        min_aliquots: a.min_aliquots,
        min_volume_ul: a.min_volume_ul,
    };
    Ok(SamplesRequest::new(cohort, criteria)?)
}

/// Runs `kakehashi samples ...`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Locate(a) => locate(a),
    }
}

fn locate(a: LocateArgs) -> anyhow::Result<ExitCode> {
    let spec = TaskSpec::Samples(request(&a)?);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let m = rt.block_on(ask_hub(
        &a.hub,
        &a.token,
        a.project.as_deref(),
        a.deadline,
        spec,
    ))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&m)?)?;
    } else {
        print(&mut out, &m)?;
    }
    let all = m.sites.iter().all(|s| s.state == SiteState::Answered);
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::INCOMPLETE)
    })
}

/// Prints one line per site, collection and material with released donors and samples (cells
/// with neither are left out), and each site's disclosure.
pub fn print(w: &mut impl Write, m: &Merged) -> anyhow::Result<()> {
    writeln!(
        w,
        "task {} (samples, project {})",
        m.task.id, m.task.project
    )?;
    writeln!(
        w,
        "{:<14} {:<3} {:<24} {:<20} {:>8} {:>8}",
        "site", "", "collection", "material", "donors", "samples"
    )?;
    for s in &m.sites {
        let Some(t) = &s.table else {
            writeln!(
                w,
                "{:<14} {:<3} {}",
                s.site.to_string(),
                s.country.to_string(),
                s.reason.as_deref().unwrap_or("no answer")
            )?;
            continue;
        };
        for r in &t.rows {
            let (donors, samples) = (r.values.first().copied(), r.values.get(1).copied());
            if donors.and_then(|d| d.value()) == Some(0)
                && samples.and_then(|d| d.value()) == Some(0)
            {
                continue;
            }
            writeln!(
                w,
                "{:<14} {:<3} {:<24} {:<20} {:>8} {:>8}",
                s.site.to_string(),
                s.country.to_string(),
                r.key.first().map_or("", String::as_str),
                r.key.get(1).map_or("", String::as_str),
                cell(donors),
                cell(samples)
            )?;
        }
        writeln!(w, "{:<14} {:<3} {}", "", "", disclosure_note(&t.disclosure))?;
    }
    Ok(())
}
