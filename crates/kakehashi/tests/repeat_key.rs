//! The repeat key on a real (synthetic) site, through the binary: an antibiogram's organism
//! list means the same in any order, so the reversed list of issue 26 gives the same true
//! counts (it used to count an isolate under the first listed organism of its lineage only,
//! so the reversed list had other counts while the key treated it as the same question).

mod common;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

/// The exact local antibiogram (what the site would give the gate) for `organisms`.
fn local(site: &Path, dir: &Path, organisms: &[&str]) -> Value {
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        json!({"guideline": "EUCAST 2025", "organisms": organisms, "antimicrobials": ["Ciprofloxacin", "Cefotaxime", "Meropenem"]})
            .to_string(),
    )
    .unwrap();
    let out = Command::new(EXE)
        .args(["amr", "antibiogram", "--format", "json", "--spec"])
        .arg(&spec)
        .arg("--site-dir")
        .arg(site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["counts"][0]["counts"].clone()
}

#[test]
fn a_reversed_organism_list_gives_the_same_true_counts_at_a_synthetic_site() {
    let dir = common::process_dir("kh-repeat-key");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(EXE)
        .args(["demo", "--prepare-only", "--patients", "300", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = dir.join("sites").join("de-berlin");
    let forward = local(&site, &dir, &["Enterobacterales", "Escherichia coli"]);
    let reversed = local(&site, &dir, &["Escherichia coli", "Enterobacterales"]);
    assert_eq!(forward, reversed);
    // both rows are filled: E. coli isolates count under their species and their order
    let isolates = |org: &str| {
        forward["organisms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["organism"] == org)
            .map(|o| o["isolates"].as_u64().unwrap())
            .unwrap_or(0)
    };
    let (coli, order) = (isolates("B_ESCHR_COLI"), isolates("B_[ORD]_ENTRBCTR"));
    assert!(coli > 0, "{forward}");
    assert!(order > coli, "the order holds E. coli and more: {forward}");
    let _ = std::fs::remove_dir_all(&dir);
}
