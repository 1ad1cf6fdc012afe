//! `kakehashi cohort`: feasibility counts at this site, for its own data steward.

use anyhow::Context;
use kakehashi_cohort::Query;
use kakehashi_engine::cohort::CohortIndex;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A sentence.
    Text,
    /// `{"count": N, ...}`.
    Json,
}

/// Subcommands of `kakehashi cohort`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Count the distinct patients matching an MII CCDL query (exact, local: for the site's
    /// own data steward; nothing leaves the site).
    ///
    /// Example: kakehashi cohort count --site-dir /tmp/site --ccdl docs/examples/sari-adults.json
    Count {
        /// The site directory.
        #[arg(long, env = "KAKEHASHI_SITE_DIR")]
        site_dir: PathBuf,
        /// The CCDL query (JSON file; v2 or structured-query form).
        #[arg(long)]
        ccdl: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Build (again) the cohort index of the site's current snapshot and save it next to the
    /// snapshot (`kakehashi ingest` does this after each load; run it when the index is missing
    /// or damaged).
    ///
    /// Example: kakehashi cohort index --site-dir /tmp/site
    Index {
        /// The site directory.
        #[arg(long, env = "KAKEHASHI_SITE_DIR")]
        site_dir: PathBuf,
    },
    /// Show how the site reads a query: each criterion's view, the codes it expanded to
    /// (ICD-10 subcodes, German/Japanese equivalents), the codes found here and their patients.
    ///
    /// Example: kakehashi cohort explain --site-dir /tmp/site --ccdl docs/examples/sfts-thrombocytopenia.json
    Explain {
        /// The site directory.
        #[arg(long, env = "KAKEHASHI_SITE_DIR")]
        site_dir: PathBuf,
        /// The CCDL query.
        #[arg(long)]
        ccdl: PathBuf,
    },
}

fn load(site_dir: &Path, ccdl: &Path) -> anyhow::Result<(CohortIndex, Query)> {
    let text =
        std::fs::read_to_string(ccdl).with_context(|| format!("reading {}", ccdl.display()))?;
    let q = Query::parse(&text)
        .with_context(|| format!("{} is not a valid CCDL query", ccdl.display()))?;
    kakehashi_cohort::compile(&q)
        .with_context(|| format!("{} cannot be evaluated at this site", ccdl.display()))?;
    let store = kakehashi_store::Store::open(site_dir);
    anyhow::ensure!(
        store.current_id()?.is_some(),
        "{} holds no data yet: load FHIR with `kakehashi ingest --site-dir {} FILES`",
        site_dir.display(),
        site_dir.display()
    );
    let snap = store.current()?;
    let ix = CohortIndex::load(&snap)?;
    Ok((ix, q))
}

/// Runs `kakehashi cohort`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Count {
            site_dir,
            ccdl,
            format,
        } => {
            let (ix, q) = load(&site_dir, &ccdl)?;
            let started = std::time::Instant::now();
            let c = ix.count(&q)?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({"count": c.count, "patients_at_site": ix.patients(), "unmapped": c.unmapped, "unit_mismatches": c.unit_mismatches, "snapshot": ix.snapshot_tag(), "elapsed_ms": ms})
                ),
                Format::Text => {
                    println!(
                        "{} of {} patients match ({:.1} ms, snapshot {})",
                        c.count,
                        ix.patients(),
                        ms,
                        ix.snapshot_tag()
                    );
                    for u in &c.unmapped {
                        println!("note: no data at this site for {u}");
                    }
                    if c.unit_mismatches > 0 {
                        println!(
                            "note: {} results had units that do not convert to the filter's unit and were not counted",
                            c.unit_mismatches
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Index { site_dir } => {
            let snap = kakehashi_store::Store::open(&site_dir).current()?;
            let started = std::time::Instant::now();
            let ix = CohortIndex::build_and_save(&snap)?;
            println!(
                "cohort index of snapshot {} ({} patients) built in {:.2} s",
                snap.id,
                ix.patients(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { site_dir, ccdl } => {
            let (ix, q) = load(&site_dir, &ccdl)?;
            println!("{}", serde_json::to_string_pretty(&ix.explain(&q)?)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
