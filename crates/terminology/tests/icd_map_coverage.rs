//! The ICD-10-GM ↔ WHO/Japan map covers every ICD-10 code the product itself uses: the case
//! definitions, the synthetic sites (their morbidity table, profiles and episode code), the
//! cohort examples of `docs/examples` and the MII CCDL examples in the shared reference data.
//! A code is covered by its own row or, as the map's header says, by the row of its category
//! (a parent row covers GM subcodes that have no row of their own).

use kakehashi_terminology::icd10_map;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `s` reads as an ICD-10 code: a letter, two digits, optionally a dot and 1–3 more.
fn looks_like_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_digit()
    {
        return false;
    }
    match &b[3..] {
        [] => true,
        [b'.', rest @ ..] => {
            (1..=3).contains(&rest.len())
                && rest
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
        _ => false,
    }
}

/// Double-quoted tokens of a text file that read as ICD-10 codes, with `!`/`†`/`*` marks removed.
fn quoted_codes(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(|t| t.trim_end_matches(['!', '*', '†']))
        .filter(|t| looks_like_icd10(t))
        .map(str::to_owned)
        .collect()
}

/// ICD-10 codes in a CCDL / FHIR JSON document: every `code` next to an ICD-10 `system`.
fn json_codes(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            let system = m.get("system").and_then(|s| s.as_str()).unwrap_or_default();
            if (system.contains("icd-10") || system.contains("ICD10"))
                && let Some(c) = m.get("code").and_then(|c| c.as_str())
            {
                out.insert(c.trim_end_matches(['!', '*', '†']).to_owned());
            }
            m.values().for_each(|x| json_codes(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_codes(x, out)),
        _ => {}
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// The two ends of a range such as `J09-J22` (the categories between them are not all codes:
/// J19 does not exist, so only the ends are checked).
fn expand_range(r: &str) -> Vec<String> {
    let Some((a, b)) = r.split_once('-') else {
        return vec![];
    };
    if !(looks_like_icd10(a) && looks_like_icd10(b)) || a.as_bytes()[0] != b.as_bytes()[0] {
        return vec![];
    }
    vec![a.to_owned(), b.to_owned()]
}

fn uncovered(codes: &BTreeSet<String>) -> Vec<String> {
    let map = icd10_map();
    codes
        .iter()
        .filter(|c| map.get(c).is_none() && map.get(&c[..3]).is_none())
        .cloned()
        .collect()
}

#[test]
fn every_code_the_product_uses_is_in_the_map() {
    let root = root();
    let mut used: BTreeSet<String> = BTreeSet::new();

    // synthetic sites: morbidity table (GM codes), profiles, the episodes' hard-coded codes
    let morbidity = std::fs::read_to_string(root.join("crates/synth/data/morbidity.tsv")).unwrap();
    let n_morbidity = morbidity
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .inspect(|c| assert!(looks_like_icd10(c), "morbidity.tsv: {c:?}"))
        .map(|c| used.insert(c.to_owned()))
        .count();
    assert!(
        n_morbidity >= 300,
        "the morbidity table has {n_morbidity} codes"
    );
    for f in files(&root.join("crates/synth/profiles"), "toml")
        .into_iter()
        .chain(files(&root.join("crates/synth/src"), "rs"))
    {
        used.extend(quoted_codes(&std::fs::read_to_string(&f).unwrap()));
    }
    // case definitions: codes and ranges
    for f in files(&root.join("crates/surveillance/data/definitions"), "toml") {
        let text = std::fs::read_to_string(&f).unwrap();
        for t in text.split('"').skip(1).step_by(2) {
            used.extend(expand_range(t));
        }
        used.extend(quoted_codes(&text));
    }
    // cohort examples of this repository and the MII CCDL examples
    let ccdl = root.join("../shared/data/ccdl/cctb-examples");
    let mut json_files = files(&root.join("docs/examples"), "json");
    if ccdl.exists() {
        json_files.extend(files(&ccdl, "json"));
    } else {
        eprintln!(
            "note: {} is absent; the MII CCDL examples are not checked",
            ccdl.display()
        );
    }
    for f in json_files {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or(serde_json::Value::Null);
        json_codes(&v, &mut used);
    }
    used.retain(|c| looks_like_icd10(c));
    assert!(used.len() > 350, "codes gathered: {}", used.len());
    let missing = uncovered(&used);
    assert!(
        missing.is_empty(),
        "{} codes used by the product have no row in icd10gm-who.tsv (nor their category): {missing:?}",
        missing.len()
    );
}

#[test]
fn the_coverage_check_sees_a_missing_code() {
    let set: BTreeSet<String> = ["J18.9", "Q99.8"].iter().map(|s| s.to_string()).collect();
    assert_eq!(uncovered(&set), vec!["Q99.8".to_string()]);
    assert_eq!(expand_range("J09-J22"), vec!["J09", "J22"]);
    assert!(expand_range("2019-2020").is_empty());
    assert_eq!(
        quoted_codes(r#"a = ["U07.1!", "J05AB14", "x", "I10.90"]"#),
        vec!["U07.1", "I10.90"]
    );
}
