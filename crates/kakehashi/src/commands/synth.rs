//! `kakehashi synth`: synthetic German and Japanese hospital sites as FHIR R4 NDJSON.

use anyhow::Context;
use kakehashi_synth::{Profile, Shard, builtin_profiles, generate_shard};
use std::path::PathBuf;
use std::process::ExitCode;

/// Make a synthetic German or Japanese hospital site as FHIR R4 NDJSON.
///
/// Writes one NDJSON file per resource type (Patient, Encounter, Condition, Observation,
/// Specimen, Consent, Procedure, Medication, MedicationAdministration, MedicationRequest,
/// MedicationStatement) in the country's conventions (MII core data set with ICD-10-GM, OPS,
/// ATC and LOINC in Germany; JP Core with ICD-10 and JLAC10 in Japan), plus whonet.csv with the
/// isolates. A background population of 430 diagnoses (crates/synth/data/morbidity.tsv, with
/// sources) sits behind the respiratory, SFTS, VHF and AMR themes.
/// Deterministic: the same profile, size and seed give identical files.
///
/// Built-in profiles: de-berlin, de-frankfurt, jp-tokyo, jp-osaka. Pass a path to a .toml
/// file to use your own (copy one from crates/synth/profiles/ and change the figures).
///
/// Example:
///   kakehashi synth --profile jp-osaka --patients 10000 --seed 1 --out /tmp/osaka-fhir
///   kakehashi ingest --site-dir /tmp/osaka /tmp/osaka-fhir
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A built-in profile name or a path to a profile .toml.
    #[arg(long)]
    profile: String,
    /// Number of patients.
    #[arg(long, default_value_t = 10_000)]
    patients: u64,
    /// The catchment for respiratory admissions as a multiple of --patients: people of a
    /// population this many times as large enter the records only when admitted with SARI
    /// (default: the profile's `respiratory.catchment`, 20 in the built-in profiles; 0: none).
    #[arg(long)]
    catchment: Option<f64>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Only part K of N of the site (`K/N`, 0-based: the patients whose number leaves K when
    /// divided by N). The parts of a site together are exactly the whole site, so a site too
    /// large for the disk's NDJSON is made and loaded part by part into one store.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).ok_or_else(|| format!("`{text}`: give K/N with 0 <= K < N, e.g. 3/10"))
}

/// Runs `kakehashi synth`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut profile = Profile::load(&args.profile).with_context(|| {
        format!(
            "loading the profile {:?} (built in: {})",
            args.profile,
            builtin_profiles().join(", ")
        )
    })?;
    if let Some(c) = args.catchment {
        anyhow::ensure!(
            (0.0..=1000.0).contains(&c),
            "--catchment {c}: give a multiple of --patients from 0 to 1000"
        );
        profile.respiratory.catchment = c;
    }
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(args.patients);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let summary = generate_shard(
        &profile,
        args.patients,
        args.seed,
        shard,
        &args.out,
        &|done| bar.set_position(done),
    )
    .with_context(|| format!("generating into {}", args.out.display()))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let part = match args.shard {
        Some(s) => format!(" part {}/{}:", s.index, s.of),
        None => String::new(),
    };
    println!(
        "{} ({}):{part} {} patients ({} admitted from the catchment), {} resources in {:.2} s ({:.0} resources/s)",
        profile.site.name,
        profile.site.code,
        summary.patients,
        summary.patients
            - args
                .patients
                .checked_sub(shard.index)
                .map_or(0, |n| n.div_ceil(shard.of)),
        summary.total(),
        secs,
        summary.total() as f64 / secs.max(1e-9)
    );
    for (t, n) in &summary.resources {
        println!("  {t:<24} {n:>10}");
    }
    println!(
        "  {:<24} {:>10} isolates",
        "whonet.csv", summary.whonet_rows
    );
    println!("written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
