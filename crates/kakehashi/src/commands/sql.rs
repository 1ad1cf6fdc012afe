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

/// SQL over a site's tables (DataFusion), for the site's data steward. Local only.
///
/// Tables: patient, encounter, condition, observation, observation_component, specimen,
/// medication, medication_request, medication_administration, medication_statement,
/// procedure, microbiology_isolate, microbiology_susceptibility, consent (columns: see
/// ARCHITECTURE.md or `SELECT * FROM <table> LIMIT 1`). Queries see the current snapshot.
///
/// Examples:
///   kakehashi sql --site-dir /tmp/berlin "SELECT gender, count(*) FROM patient GROUP BY gender"
///   kakehashi sql --site-dir /tmp/berlin --format csv "SELECT code, count(DISTINCT patient_id) n FROM condition GROUP BY 1 ORDER BY n DESC LIMIT 10"
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The site directory.
    #[arg(long, env = "KAKEHASHI_SITE_DIR")]
    site_dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The SQL statement.
    sql: String,
}

/// Runs `kakehashi sql`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let batches = kakehashi_engine::sql::run(&args.site_dir, &args.sql)
        .with_context(|| format!("SQL over {}", args.site_dir.display()))?;
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
