//! `kakehashi ingest`: load FHIR into a site store.

use anyhow::Context;
use kakehashi_ingest::{IngestOptions, OnError, Progress, ingest};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// What to do with a rejected resource.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OnErrorArg {
    /// Report it (file, line, element) and load the rest.
    Skip,
    /// Stop at the first one; load nothing.
    Fail,
}

/// Load FHIR R4 data (NDJSON, .ndjson.gz, Bundles, folders) into a site store.
///
/// Every resource is flattened through the 14 standard views (patient, encounter, condition,
/// observation, ..., microbiology, consent) into the site's Parquet tables. A load is atomic:
/// until it completes, the store answers with its previous snapshot. Re-loading a resource
/// with the same type and id replaces it when its meta.lastUpdated is the same or later.
///
/// References between the entries of a Bundle (urn:uuid: and absolute fullUrls) resolve to
/// the entry they name. A reference that names nothing (an urn:uuid: that is no entry's fullUrl
/// in its Bundle, or one in NDJSON) leaves its key empty; the resource is stored, and the
/// reference is counted per column and listed with file, entry and element.
///
/// Lab results coded in JLAC10 with a code the JLAC10 → LOINC map does not list are counted
/// per code and reported (no question reads them as a known test).
///
/// Exit code: 0 all loaded, 3 loaded but some records rejected or some references unresolved
/// (listed), 1 nothing loaded (with --on-error fail, also for an unresolved reference).
///
/// Example:
///   kakehashi synth --profile de-berlin --patients 1000 --out /tmp/berlin-fhir
///   kakehashi ingest --site-dir /tmp/berlin /tmp/berlin-fhir
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The site directory (created if missing).
    #[arg(long, env = "KAKEHASHI_SITE_DIR")]
    site_dir: PathBuf,
    /// What to do with a rejected resource.
    #[arg(long, value_enum, default_value = "skip")]
    on_error: OnErrorArg,
    /// Worker threads (default: number of CPUs).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Do not build the snapshot's cohort index now. For a large site loaded in parts
    /// (`synth --shard`, an export split by month): each part's load would otherwise rebuild
    /// the index over everything loaded so far; give this to every load but the last (or run
    /// `kakehashi cohort index --site-dir DIR` after it). Counts on a snapshot without its
    /// index are refused with that command named.
    #[arg(long)]
    defer_index: bool,
    /// FHIR input files or folders.
    #[arg(required = true)]
    input: Vec<PathBuf>,
}

/// Runs `kakehashi ingest`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut opts = IngestOptions {
        on_error: match args.on_error {
            OnErrorArg::Skip => OnError::Skip,
            OnErrorArg::Fail => OnError::Fail,
        },
        ..IngestOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    let bar = if std::io::stderr().is_terminal() && !args.json {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} read · {msg} · {elapsed}",
            )
            .expect("static template"),
        );
        Some(b)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_length(p.total_bytes.max(p.bytes));
            b.set_position(p.bytes);
            let rate = p.resources as f64 / started.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!("{} resources ({:.0}/s)", p.resources, rate));
        }
    };
    let summary = ingest(&args.site_dir, &args.input, &opts, &progress)
        .with_context(|| format!("loading into {}", args.site_dir.display()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    // the cohort index is part of the snapshot: built now, so no count ever waits for it
    let index_started = std::time::Instant::now();
    if summary.snapshot.is_some() && !args.defer_index {
        let snap = kakehashi_store::Store::open(&args.site_dir).current()?;
        kakehashi_engine::cohort::CohortIndex::build_and_save(&snap)
            .context("building the snapshot's cohort index")?;
    }
    let index_secs = index_started.elapsed().as_secs_f64();
    // lab results coded in JLAC10 with a code the JLAC10 → LOINC map does not know: counted and
    // reported, never dropped silently (no question reads them as a known test)
    let jlac10 = if summary.snapshot.is_some() {
        kakehashi_engine::lab_codes::unmapped_jlac10(&args.site_dir)
            .context("counting JLAC10 codes not in the map")?
    } else {
        Default::default()
    };
    if args.json {
        let j = serde_json::json!({
            "snapshot": summary.snapshot,
            "files": summary.files,
            "bytes": summary.bytes,
            "stored": summary.stored,
            "not_viewed": summary.not_viewed,
            "rows": summary.rows.iter().map(|(v, n)| (v.name().to_owned(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "rejected": summary.rejected,
            "problems": summary.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "unresolved": summary.unresolved,
            "unresolved_by_column": summary.unresolved_by_column,
            "unresolved_refs": summary.unresolved_refs.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "live": summary.live,
            "seconds": secs,
            "cohort_index_seconds": (!args.defer_index).then_some(index_secs),
            "jlac10_unmapped": {"results": jlac10.results, "by_code": jlac10.by_code},
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!(
            "snapshot {} of {}",
            summary.snapshot.unwrap_or(0),
            args.site_dir.display()
        );
        println!(
            "{} files, {:.1} MB, {} resources stored in {:.2} s ({:.0} resources/s)",
            summary.files,
            summary.bytes as f64 / 1e6,
            summary.stored_total(),
            secs,
            (summary.stored_total() + summary.rejected) as f64 / secs
        );
        if args.defer_index {
            println!(
                "cohort index not built (--defer-index): build it with `kakehashi cohort index --site-dir {}` before counting",
                args.site_dir.display()
            );
        } else {
            println!("cohort index built in {index_secs:.2} s");
        }
        println!("resources by type:");
        for (t, n) in &summary.stored {
            println!("  {t:<28} {n:>10}");
        }
        for (t, n) in &summary.not_viewed {
            println!("  {t:<28} {n:>10}  (no standard view reads this type: not stored)");
        }
        println!("rows by view:");
        for (v, n) in &summary.rows {
            println!("  {:<28} {n:>10}", v.name());
        }
        if summary.rejected > 0 {
            println!("rejected: {} record(s)", summary.rejected);
            for p in &summary.problems {
                println!("  {p}");
            }
            if (summary.problems.len() as u64) < summary.rejected {
                println!(
                    "  ... and {} more",
                    summary.rejected - summary.problems.len() as u64
                );
            }
        }
        if jlac10.results > 0 {
            println!(
                "lab results with a JLAC10 code not in the JLAC10 → LOINC map: {} ({} codes; \
                 no question reads them as a known test, surveillance counts a pathogen's among \
                 them as unmapped):",
                jlac10.results,
                jlac10.by_code.len()
            );
            let mut top: Vec<(&String, &u64)> = jlac10.by_code.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (code, n) in top.iter().take(10) {
                println!("  {code:<28} {n:>10}");
            }
            if top.len() > 10 {
                println!("  ... and {} more codes (--json lists all)", top.len() - 10);
            }
        }
        if summary.unresolved > 0 {
            println!(
                "unresolved references: {} (stored with the key empty), by column:",
                summary.unresolved
            );
            for (c, n) in &summary.unresolved_by_column {
                println!("  {c:<40} {n:>10}");
            }
            const SHOWN: usize = 20;
            for p in summary.unresolved_refs.iter().take(SHOWN) {
                println!("  {p}");
            }
            if summary.unresolved > SHOWN as u64 {
                println!(
                    "  ... and {} more (--json lists up to 1000)",
                    summary.unresolved - SHOWN.min(summary.unresolved_refs.len()) as u64
                );
            }
        }
    }
    Ok(if summary.rejected > 0 || summary.unresolved > 0 {
        ExitCode::from(crate::exit::PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}
