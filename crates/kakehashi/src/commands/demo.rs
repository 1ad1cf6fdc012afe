//! `kakehashi demo`: the demo network's sites.
//!
//! Today the demo makes the four synthetic sites (two German, two Japanese) and loads each into
//! its own site store, reusing them on later runs; the hub, the site agents and the web UI join
//! it as the federation issue lands.

use anyhow::Context;
use kakehashi_site::ingest::{IngestOptions, ingest};
use kakehashi_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

/// The demo sites: profile and patients.
const SITES: [(&str, u64); 4] = [("de-berlin", 20_000), ("de-frankfurt", 15_000), ("jp-tokyo", 20_000), ("jp-osaka", 15_000)];

/// Start a local network: two German and two Japanese synthetic sites.
///
/// On first run makes the four sites' FHIR data (kakehashi synth) and loads each into its
/// site store (kakehashi ingest) under --data-dir; later runs reuse them and start in seconds.
/// Then prints what each site holds and commands to explore them.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Where the demo keeps its sites.
    #[arg(long, default_value = "kakehashi-demo", env = "KAKEHASHI_DEMO_DIR")]
    data_dir: PathBuf,
    /// Port for the hub's web UI (used once the hub is part of the demo).
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

/// Runs `kakehashi demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    for (profile, patients) in SITES {
        let site_dir = args.data_dir.join("sites").join(profile);
        let store = Store::open(&site_dir);
        if store.current_id()?.is_none() {
            let fhir = args.data_dir.join("fhir").join(profile);
            eprintln!("making {profile}: {patients} synthetic patients ...");
            let p = kakehashi_synth::Profile::load(profile)?;
            kakehashi_synth::generate(&p, patients, 1, &fhir, &|_| {})?;
            eprintln!("loading {profile} ...");
            let s = ingest(&site_dir, &[fhir], &IngestOptions::default(), &|_| {})?;
            anyhow::ensure!(s.rejected == 0, "{profile}: {} records rejected", s.rejected);
        }
        let snap = store.current()?;
        println!(
            "{profile:<13} snapshot {} of {}: {} patients, {} resources",
            snap.id,
            snap.created.format("%Y-%m-%d %H:%M"),
            snap.resources.get("Patient").copied().unwrap_or(0),
            snap.resources.values().sum::<u64>()
        );
    }
    let berlin = args.data_dir.join("sites").join("de-berlin");
    println!("\nExplore a site's own tables (local SQL, for its data steward):");
    println!("  kakehashi sql --site-dir {} \"SELECT gender, count(*) FROM patient GROUP BY gender\"", berlin.display());
    println!("The hub, the site agents and the web UI (port {}) join the demo with the federation issue.", args.port);
    Ok(ExitCode::SUCCESS)
}
