//! Licences: GPL data stay out of the program (read at run time from a data folder that carries
//! its own licence), the program says clearly when that folder is missing or incomplete, and
//! every data file of the repository is listed in LICENSES.md.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn amr_data() -> PathBuf {
    root().join("data/amr")
}

/// A fresh temporary folder for this test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kh-licences-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the program with `KAKEHASHI_DATA_DIR` set (or removed): exit code, stdout, stderr.
fn run(args: &[&str], data_dir: Option<&Path>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    c.args(args);
    match data_dir {
        Some(d) => c.env("KAKEHASHI_DATA_DIR", d),
        None => c.env_remove("KAKEHASHI_DATA_DIR"),
    };
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A small long-form input for `kakehashi amr interpret`.
fn isolates(dir: &Path) -> PathBuf {
    let p = dir.join("isolates.csv");
    std::fs::write(&p, "organism,antimicrobial,mic\nEscherichia coli,Meropenem,0.125\nEscherichia coli,Meropenem,16\n").unwrap();
    p
}

#[test]
fn the_program_does_not_contain_the_gpl_tables() {
    let bin = std::fs::read(env!("CARGO_BIN_EXE_kakehashi")).unwrap();
    // an embedded text file keeps its lines: every inner line sits between two newlines
    let segments: HashSet<&[u8]> = bin.split(|b| *b == b'\n').collect();
    let mut gpl: Vec<PathBuf> = std::fs::read_dir(amr_data())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    assert_eq!(gpl.len(), 7, "the AMR tables in data/amr: {gpl:?}");
    gpl.push(root().join("crates/surveillance/data/flucyl.csv"));
    let mut checked = 0;
    for f in &gpl {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // the inner lines long enough not to occur by chance
        for l in lines
            .iter()
            .skip(1)
            .take(lines.len().saturating_sub(2))
            .filter(|l| l.len() >= 16)
        {
            assert!(
                !segments.contains(l.as_bytes()),
                "{} is compiled into the program (line {l:?}); GPL data must be read at run time",
                f.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 30_000, "checked {checked} lines");
}

#[test]
fn an_empty_data_folder_is_a_clear_error_naming_the_file() {
    let dir = tmp("empty");
    let input = isolates(&dir);
    let input = input.to_str().unwrap();
    let (code, out, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            input,
        ],
        Some(&dir),
    );
    assert_eq!(code, 1, "stdout {out}\nstderr {err}");
    assert!(out.is_empty() && !err.contains("panicked"), "{err}");
    let file = dir.join("amr/organisms.tsv").display().to_string();
    assert!(
        err.contains(&file) && err.contains("KAKEHASHI_DATA_DIR"),
        "names the file and how the folder was chosen: {err}"
    );
    // the flag wins over the environment
    let empty2 = tmp("empty-flag");
    let (code, _, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            input,
            "--reference-data",
            empty2.to_str().unwrap(),
        ],
        Some(&amr_data()),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&empty2.join("amr/organisms.tsv").display().to_string())
            && err.contains("--reference-data"),
        "{err}"
    );
    // the same command with the source tree's data works
    let (code, out, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            input,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().nth(1).is_some_and(|l| l.contains(",S,"))
            && out.lines().nth(2).is_some_and(|l| l.contains(",R,")),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty2).unwrap();
}

#[test]
fn a_broken_table_is_named_with_its_line() {
    let dir = tmp("broken");
    let amr = dir.join("amr");
    std::fs::create_dir_all(&amr).unwrap();
    for e in std::fs::read_dir(amr_data()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), amr.join(e.file_name())).unwrap();
    }
    let bp = amr.join("breakpoints-eucast.tsv");
    let text = std::fs::read_to_string(&bp).unwrap();
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 4 {
                l.replacen("\tMIC\t", "\tETEST?\t", 1)
                    .replacen("\tDISK\t", "\tETEST?\t", 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&bp, broken.join("\n")).unwrap();
    let input = isolates(&dir);
    let (code, _, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            input.to_str().unwrap(),
        ],
        Some(&dir),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{}:5: ", bp.display()))
            && err.contains("ETEST?")
            && !err.contains("panicked"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_the_clsi_file_clsi_is_refused_and_eucast_works() {
    let dir = tmp("no-clsi");
    let amr = dir.join("amr");
    std::fs::create_dir_all(&amr).unwrap();
    for e in std::fs::read_dir(amr_data()).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "breakpoints-clsi.tsv" {
            std::fs::copy(e.path(), amr.join(e.file_name())).unwrap();
        }
    }
    let input = isolates(&dir);
    let input = input.to_str().unwrap();
    let (code, _, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "CLSI 2025",
            "--input",
            input,
        ],
        Some(&dir),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not installed")
            && err.contains(&amr.join("breakpoints-clsi.tsv").display().to_string()),
        "{err}"
    );
    let (code, out, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            input,
        ],
        Some(&dir),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().nth(1).is_some_and(|l| l.contains(",S,")),
        "{out}"
    );
    // and with the file, the same CLSI question is answered
    let (code, _, err) = run(
        &[
            "amr",
            "interpret",
            "--guideline",
            "CLSI 2025",
            "--input",
            input,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- LICENSES.md lists every data file ----

/// Files that describe data rather than being data.
fn is_note(name: &str) -> bool {
    matches!(name, "README.md" | "SOURCES.md" | "NOTES.md" | "COPYING")
        || name.starts_with("LICENSE")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !matches!(
                e.file_name().to_str(),
                Some("target" | ".git" | "node_modules" | "screenshots")
            ) {
                walk(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

/// Every data file of the repository, relative to its root, with `/` separators.
fn data_files() -> Vec<String> {
    let root = root();
    let mut all = Vec::new();
    for d in ["data", "docs/examples", "bench"] {
        walk(&root.join(d), &mut all);
    }
    for c in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        for e in std::fs::read_dir(c.path()).unwrap().flatten() {
            let name = e.file_name();
            if e.path().is_dir() && !matches!(name.to_str(), Some("src" | "templates")) {
                walk(&e.path(), &mut all);
            }
        }
    }
    let rel = |p: &Path| {
        p.strip_prefix(&root)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    all.iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            let ext = p
                .extension()
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = rel(p);
            !is_note(&name)
                && ext != "rs"
                // trybuild's expected compiler output beside its compile-fail cases
                && !(ext == "stderr" && rel.contains("/tests/compile-fail/"))
                && (!rel.starts_with("bench/")
                    || matches!(ext.as_str(), "toml" | "json" | "tsv" | "csv"))
        })
        .map(|p| rel(p))
        .collect()
}

/// `*` matches within one path segment, `**` any number of segments.
fn glob(pattern: &str, path: &str) -> bool {
    fn seg(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| seg(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && seg(rest, &s[1..]),
        }
    }
    fn segs(p: &[&str], s: &[&str]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((&"**", rest)) => (0..=s.len()).any(|i| segs(rest, &s[i..])),
            Some((first, rest)) => {
                !s.is_empty() && seg(first.as_bytes(), s[0].as_bytes()) && segs(rest, &s[1..])
            }
        }
    }
    segs(
        &pattern.split('/').collect::<Vec<_>>(),
        &path.split('/').collect::<Vec<_>>(),
    )
}

/// The first column of every table row of LICENSES.md, without its backticks.
fn listed() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("LICENSES.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(p, _)| p.to_owned()))
        .collect()
}

#[test]
fn every_data_file_is_listed_in_licenses_md() {
    let files = data_files();
    assert!(
        files.len() > 60,
        "the walk found the data files ({})",
        files.len()
    );
    assert!(
        files.iter().any(|f| f == "data/amr/breakpoints-clsi.tsv")
            && files.iter().any(|f| f == "crates/web/i18n/ja.ftl"),
        "{files:?}"
    );
    let rows = listed();
    assert!(rows.len() > 20, "LICENSES.md rows: {rows:?}");
    let unlisted: Vec<&String> = files
        .iter()
        .filter(|f| !rows.iter().any(|r| glob(r, f)))
        .collect();
    assert!(
        unlisted.is_empty(),
        "data files without a row in LICENSES.md (add one: path, what, source, terms, in the program):\n{unlisted:#?}"
    );
    let stale: Vec<&String> = rows
        .iter()
        .filter(|r| !files.iter().any(|f| glob(r, f)))
        .collect();
    assert!(
        stale.is_empty(),
        "LICENSES.md rows that match no file: {stale:?}"
    );
}

#[test]
fn the_glob_of_licenses_md_means_what_it_says() {
    assert!(glob(
        "crates/fhir/views/*.json",
        "crates/fhir/views/patient.json"
    ));
    assert!(!glob(
        "crates/fhir/views/*.json",
        "crates/fhir/views/sub/patient.json"
    ));
    assert!(glob(
        "crates/**/*.json",
        "crates/fhir/views/sub/patient.json"
    ));
    assert!(!glob(
        "data/amr/organisms.tsv",
        "data/amr/organisms.tsv.bak"
    ));
}
