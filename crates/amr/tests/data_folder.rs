//! The reference tables are read at run time from a data folder: a missing or broken table is
//! an error naming the file and line, and the CLSI breakpoints can be removed by a site.

use kakehashi_amr::data::{Located, Origin};
use kakehashi_amr::reference::{BREAKPOINTS_CLSI, BREAKPOINTS_EUCAST, ORGANISMS};
use kakehashi_amr::{Interpreter, Options, Reference, ReferenceError};
use std::path::{Path, PathBuf};

/// The source tree's AMR data folder.
fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/amr")
}

/// A copy of the data folder in a fresh temporary folder.
fn copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kh-amr-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(source()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    dir
}

fn load(dir: &Path) -> Result<Reference, ReferenceError> {
    Reference::load(&Located {
        dir: dir.to_path_buf(),
        origin: Origin::Configured,
    })
}

/// Replaces line `n` (1-based) of a table.
fn set_line(path: &Path, n: usize, text: &str) {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines[n - 1] = text.to_owned();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn the_source_tree_folder_loads_with_both_guideline_bodies() {
    let r = load(&source()).unwrap();
    assert!(r.has_clsi());
    assert!(
        r.guidelines()
            .iter()
            .any(|g| g.to_string() == "EUCAST 2025")
    );
    assert!(r.guidelines().iter().any(|g| g.to_string() == "CLSI 2025"));
    assert_eq!(r.dir(), source());
}

#[test]
fn a_missing_table_is_named() {
    let dir = copy("missing");
    std::fs::remove_file(dir.join(ORGANISMS)).unwrap();
    let e = load(&dir)
        .err()
        .expect("a folder without organisms.tsv must not load")
        .to_string();
    assert!(
        e.contains(&dir.join(ORGANISMS).display().to_string())
            && e.contains("set by --reference-data"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_line_is_named_with_file_and_line() {
    let dir = copy("broken");
    let bp = dir.join(BREAKPOINTS_EUCAST);
    set_line(
        &bp,
        7,
        "EUCAST 2025\tMIC\t\tB_ESCHR_COLI\t2\tAMP\tEnterobacterales\t\tlots\t8\tFALSE\tFALSE",
    );
    let e = load(&dir).err().unwrap().to_string();
    assert!(
        e.starts_with(&format!("{}:7: ", bp.display())) && e.contains("breakpoint_S"),
        "{e}"
    );
    // too few columns in the organism table
    std::fs::copy(source().join(BREAKPOINTS_EUCAST), &bp).unwrap();
    set_line(&dir.join(ORGANISMS), 3, "B_ESCHR_COLI\tEscherichia coli");
    let e = load(&dir).err().unwrap().to_string();
    assert!(
        e.starts_with(&format!("{}:3: ", dir.join(ORGANISMS).display())) && e.contains("17"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_clsi_row_in_the_eucast_file_is_refused() {
    let dir = copy("mixed");
    let clsi_row = std::fs::read_to_string(dir.join(BREAKPOINTS_CLSI))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    set_line(&dir.join(BREAKPOINTS_EUCAST), 2, &clsi_row);
    let e = load(&dir).err().unwrap().to_string();
    assert!(
        e.starts_with(&format!("{}:2: ", dir.join(BREAKPOINTS_EUCAST).display()))
            && e.contains("CLSI"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_the_clsi_file_eucast_works_and_clsi_is_refused_clearly() {
    let dir = copy("no-clsi");
    std::fs::remove_file(dir.join(BREAKPOINTS_CLSI)).unwrap();
    let r = load(&dir).unwrap();
    assert!(!r.has_clsi());
    assert!(
        r.guidelines()
            .iter()
            .all(|g| g.to_string().starts_with("EUCAST"))
    );
    let eco = r.find_organism("E. coli").unwrap();
    let i = Interpreter::new(&r, "EUCAST 2025".parse().unwrap(), Options::default()).unwrap();
    let mem = r.find_antimicrobial("MEM").unwrap();
    let m = kakehashi_amr::Measurement::Mic(kakehashi_amr::Mic::parse("0.125").unwrap());
    assert_eq!(
        i.interpret(eco, mem, &m, kakehashi_amr::InfectionSite::Unspecified)
            .sir,
        kakehashi_amr::Sir::S
    );
    let e = Interpreter::new(&r, "CLSI 2025".parse().unwrap(), Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("not installed")
            && e.contains(&dir.join(BREAKPOINTS_CLSI).display().to_string()),
        "{e}"
    );
    let spec: kakehashi_amr::AntibiogramSpec =
        serde_json::from_value(serde_json::json!({"guideline": "CLSI 2024"})).unwrap();
    let e = spec.resolve(&r).err().unwrap().to_string();
    assert!(e.contains("not installed"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
