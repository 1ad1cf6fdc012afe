//! What the disclosure gate costs per task beside the site's own computing, on a real site.
//!
//! For each task type (a three-criteria cohort, a five-drug antibiogram, the SARI weekly
//! series by age), computes the true table `ROUNDS` times and releases it through a real gate
//! (noise on, ε 1, ledger in SQLite) as a *new* question each time (fresh noise, ε spent, the
//! ledger written) and once more as a repeat (the stored answer). Prints the medians.
//!
//! ```sh
//! cargo run --release -p kakehashi-site --example gate_cost -- SITE_DIR [ROUNDS]
//! ```

use kakehashi_disclosure::{KeyParts, Policy, Question, RepeatKey};
use kakehashi_federation::TaskSpec;
use kakehashi_model::ProjectId;
use kakehashi_site::tasks::{Cache, compute};
use kakehashi_store::Store;
use std::time::{Duration, Instant};

const COHORT: &str = include_str!("../../../bench/cohort/three.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let site_dir = args.next().ok_or("usage: gate_cost SITE_DIR [ROUNDS]")?;
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(21);
    let store = Store::open(&site_dir);
    let cache = Cache::default();
    let state = tempfile::tempdir()?;
    let policy = Policy {
        projects: vec!["*".into()],
        project_budget: Some(1e6),
        researcher_budget: Some(1e6),
        tasks_per_minute: u32::MAX,
        cells_per_day: u64::MAX,
        ..Policy::default()
    };
    let gate = kakehashi_site::ledger::open_gate(state.path(), policy)?;
    let project = ProjectId::new("bench")?;
    let today = chrono::Utc::now().date_naive();
    let tasks = [
        (
            "cohort (3 criteria)",
            format!(r#"{{"type":"cohort","ccdl":{COHORT},"evaluation_date":"{today}"}}"#),
        ),
        (
            "antibiogram (3 organisms x 5 drugs)",
            r#"{"type":"antibiogram","spec":{"guideline":"EUCAST 2025","organisms":["Escherichia coli","Klebsiella pneumoniae","Staphylococcus aureus"],"antimicrobials":["Ciprofloxacin","Meropenem","Cefotaxime","Oxacillin","Gentamicin"]}}"#.to_owned(),
        ),
        (
            "surveillance (SARI weekly, by age)",
            r#"{"type":"surveillance_series","definition":"sari-icosari","by":["age"]}"#.to_owned(),
        ),
    ];
    println!(
        "| task | cells | site compute (median) | gate, new question | gate, repeat | gate / compute |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, json) in tasks {
        let spec = TaskSpec::from_json(&json, "site")?;
        // warm: loads the snapshot and builds the cohort index, as the agent's first task does
        compute(&store, &cache, "bench", &spec)?;
        let (mut comp, mut new, mut repeat) = (Vec::new(), Vec::new(), Vec::new());
        let mut cells = 0;
        for round in 0..rounds {
            let t = Instant::now();
            let c = compute(&store, &cache, "bench", &spec)?;
            comp.push(t.elapsed());
            cells = c.table.cells();
            // a new question each round: the same table under a key of its own
            let canonical = format!("{}#{round}", c.key);
            let key = RepeatKey::new(&KeyParts {
                canonical: &canonical,
                evaluation_date: None,
                snapshot: &c.snapshot_tag,
                references: "",
                software: kakehashi_disclosure::software_version(),
            });
            let q = Question {
                project: &project,
                researcher: "bench",
                key: &key,
                sensitivity: c.sensitivity,
            };
            let release = |table| {
                if c.series {
                    gate.release_series(&q, table)
                } else {
                    gate.release(&q, table)
                }
            };
            let t = Instant::now();
            release(c.table).map_err(|r| r.to_string())?;
            new.push(t.elapsed());
            // the same question again (a true table is not `Clone`: computed anew, untimed)
            let again = compute(&store, &cache, "bench", &spec)?.table;
            let t = Instant::now();
            release(again).map_err(|r| r.to_string())?;
            repeat.push(t.elapsed());
        }
        let (c, n, r) = (median(comp), median(new), median(repeat));
        println!(
            "| {name} | {cells} | {:.2} ms | {:.3} ms | {:.3} ms | {:.1} % |",
            ms(c),
            ms(n),
            ms(r),
            100.0 * ms(n) / ms(c)
        );
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
