//! The `kakehashi` binary: command line, settings, exit codes.
//!
//! Only this crate knows clap, environment variables and process exit codes. Each subcommand
//! lives in `commands/<name>.rs` with its clap `Args` and a `run` function; library crates do
//! the work and return typed errors, which are reported here with their context chain.

mod commands;
mod cpu;
mod exit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// kakehashi (架け橋): federated research for the German-Japanese infection research network.
///
/// Patient-level data stays at each hospital site. Sites load their FHIR data into a local
/// store, answer declarative questions (cohort counts, antibiograms, surveillance series) and
/// send only aggregates, after their own disclosure control, to the hub.
#[derive(Parser)]
#[command(name = "kakehashi", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Start here:\n  \
    kakehashi synth --profile de-berlin --patients 1000 --out /tmp/de   make synthetic FHIR data\n  \
    kakehashi ingest --site-dir /tmp/site /tmp/de                        load it into a site store\n  \
    kakehashi sql --site-dir /tmp/site \"SELECT count(*) FROM patient\"   ask the store in SQL\n\n\
    Each command has its own --help with examples.")]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Folder of the reference data files (the AMR tables are in its `amr/` folder, GPL-2, see
    /// LICENSES.md). Default: KAKEHASHI_DATA_DIR, else <folder of this program>/../share/kakehashi,
    /// else the source tree's `data/` (development builds).
    #[arg(long, global = true, value_name = "DIR")]
    reference_data: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load FHIR R4 data (NDJSON, .ndjson.gz, Bundles, folders) into a site store.
    Ingest(commands::ingest::Args),
    /// SQL-on-FHIR v2: run ViewDefinitions over FHIR input.
    #[command(subcommand)]
    Sof(commands::sof::Command),
    /// SQL over a site's tables (DataFusion), for the site's data steward. Local only.
    Sql(commands::sql::Args),
    /// Make a synthetic German or Japanese hospital site as FHIR R4 NDJSON.
    Synth(commands::synth::Args),
    /// Cohort feasibility: count patients matching an MII CCDL query at this site.
    #[command(subcommand)]
    Cohort(commands::cohort::Command),
    /// Antimicrobial resistance: interpret MICs and zones, antibiograms.
    #[command(subcommand)]
    Amr(commands::amr::Command),
    /// ARI/SARI surveillance: weekly series and epidemic thresholds (MEM).
    #[command(subcommand)]
    Surveillance(commands::surveillance::Command),
    /// Federated statistics over an analysis dataset: summaries, tables, GLMs; dataset export.
    #[command(subcommand)]
    Stats(commands::stats::Command),
    /// Run the hub: HTTP API, web UI, task queue, audit.
    Hub(commands::hub::Args),
    /// Run a site agent: pulls tasks from the hub (outbound only) and answers them.
    Site(commands::site::Args),
    /// Ask the network a feasibility question through the hub.
    Query(commands::query::Args),
    /// Start a whole local network: hub, two German and two Japanese synthetic sites, web UI.
    Demo(commands::demo::Args),
    /// Verify the hash-chained audit log of a site or the hub.
    #[command(subcommand)]
    Audit(commands::audit::Command),
    /// The sample locator: donors and samples of a cohort per site and collection.
    #[command(subcommand)]
    Samples(commands::samples::Command),
    /// A site's MIABIS catalogue: validate it, export it as MIABIS JSON.
    #[command(subcommand)]
    Catalogue(commands::catalogue::Command),
    /// Access requests for samples and data: list yours, show one, through the hub.
    #[command(subcommand)]
    Request(commands::request::Command),
    /// The partnership office: events and their calendar, through the hub.
    #[command(subcommand)]
    Office(commands::office::Command),
    /// EDC studies: import a REDCap data dictionary, validate, export (REDCap, ODM 1.3.2),
    /// and the VHF and SFTS registries built from ISARIC ARC.
    #[command(subcommand)]
    Study(commands::study::Command),
}

fn main() -> ExitCode {
    // before any code that may use the instructions this build assumes
    if let Err(why) = cpu::check() {
        eprintln!("error: {why}");
        return exit::FAILURE;
    }
    run()
}

#[inline(never)]
fn run() -> ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    if let Some(d) = cli.reference_data.filter(|d| !d.as_os_str().is_empty()) {
        kakehashi_amr::data::set_data_dir(d);
    }
    let result = match cli.command {
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Sof(cmd) => commands::sof::run(cmd),
        Command::Sql(args) => commands::sql::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Cohort(cmd) => commands::cohort::run(cmd),
        Command::Amr(cmd) => commands::amr::run(cmd),
        Command::Surveillance(cmd) => commands::surveillance::run(cmd),
        Command::Stats(cmd) => commands::stats::run(cmd),
        Command::Hub(args) => commands::hub::run(args),
        Command::Site(args) => commands::site::run(args),
        Command::Query(args) => commands::query::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Audit(cmd) => commands::audit::run(cmd),
        Command::Samples(cmd) => commands::samples::run(cmd),
        Command::Catalogue(cmd) => commands::catalogue::run(cmd),
        Command::Request(cmd) => commands::request::run(cmd),
        Command::Office(cmd) => commands::office::run(cmd),
        Command::Study(cmd) => commands::study::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            exit::report(&err);
            exit::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// `kakehashi ... | head` closes stdout early; Rust's `println!` then panics. Exit quietly
/// instead, as command-line tools do (the reader has what it wanted).
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
