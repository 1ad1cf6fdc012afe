//! `kakehashi sql`: DataFusion SQL over the site's tables, for the site's data steward.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned text table.
    Table,
    /// Comma-separated with header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// SQL over a site's tables (DataFusion), for the site's data steward. Local only, or over
/// the snapshot the site published to its own object storage (`--site-url`).
///
/// Tables: patient, encounter, condition, observation, observation_component, specimen,
/// medication, medication_request, medication_administration, medication_statement,
/// procedure, microbiology_isolate, microbiology_susceptibility, consent (columns: see
/// ARCHITECTURE.md or `SELECT * FROM <table> LIMIT 1`). Queries see the current snapshot.
///
/// Examples:
///   kakehashi sql --site-dir /tmp/berlin "SELECT gender, count(*) FROM patient GROUP BY gender"
///   kakehashi sql --site-dir /tmp/berlin --format csv "SELECT code, count(DISTINCT patient_id) n FROM condition GROUP BY 1 ORDER BY n DESC LIMIT 10"
///   AWS_ENDPOINT=http://127.0.0.1:9000 AWS_ALLOW_HTTP=true kakehashi sql --site-url s3://berlin-fhir/site "SELECT count(*) FROM patient"
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The site directory.
    #[arg(long, env = "KAKEHASHI_SITE_DIR", required_unless_present = "site_url")]
    site_dir: Option<PathBuf>,
    /// The site's snapshot in object storage instead (`s3://BUCKET/PREFIX`, published with
    /// `kakehashi site publish`; credentials and endpoint from the AWS_* environment). Read
    /// instead of the site directory, also when KAKEHASHI_SITE_DIR is set.
    #[arg(long)]
    site_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The SQL statement.
    sql: String,
}

/// Runs `kakehashi sql`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let batches = match (&args.site_url, &args.site_dir) {
        (Some(url), _) => {
            let url = kakehashi_engine::remote::SiteUrl::parse(url)?;
            let site = kakehashi_engine::remote::RemoteSite::open(&url)
                .with_context(|| format!("opening the snapshot at {url}"))?;
            site.sql(&args.sql)
                .with_context(|| format!("SQL over {url}"))?
        }
        (None, Some(dir)) => kakehashi_engine::sql::run(dir, &args.sql)
            .with_context(|| format!("SQL over {}", dir.display()))?,
        (None, None) => anyhow::bail!("give --site-dir or --site-url"),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            use std::io::Write;
            writeln!(
                out,
                "{}",
                arrow::util::pretty::pretty_format_batches(&batches)?
            )?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in &batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut out);
            for b in &batches {
                w.write(b)?;
            }
            w.finish()?;
            use std::io::Write;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
