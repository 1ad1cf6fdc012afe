//! Without the AMR reference data folder, the hub's check of an antibiogram question and the
//! site's answer to it fail with an error naming the missing table, never a panic. (Its own test
//! process: the data folder is chosen once per process.)

use kakehashi_amr::{AntibiogramCounts, AntibiogramSpec};
use kakehashi_federation::antibiogram::{AntibiogramRequest, canonical, count_table};

#[test]
fn antibiogram_questions_are_refused_with_the_missing_file_named() {
    let empty = std::env::temp_dir().join(format!("kh-fed-no-reference-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    kakehashi_amr::data::set_data_dir(&empty);
    let missing = empty
        .join("amr")
        .join("organisms.tsv")
        .display()
        .to_string();
    let spec = serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["MEM"]});
    let e = AntibiogramRequest::from_json(&spec.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&missing) && e.contains("--reference-data"),
        "hub and site check: {e}"
    );
    let s: AntibiogramSpec = serde_json::from_value(spec).unwrap();
    let e = canonical(&s).unwrap_err().to_string();
    assert!(e.contains(&missing), "{e}");
    let counts = AntibiogramCounts {
        guideline: s.guideline,
        cells: Vec::new(),
        organisms: Vec::new(),
    };
    let e = count_table(&s, &counts).unwrap_err().to_string();
    assert!(e.contains(&missing), "{e}");
    std::fs::remove_dir_all(&empty).unwrap();
}
