//! The repository must work wherever it is checked out: no source file, test or script may
//! reach the shared reference data by this workplace's absolute path; they are reached as
//! `../shared` relative to the repository.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !matches!(
                name.as_ref(),
                "target" | ".git" | "node_modules" | "screenshots"
            ) {
                files(&p, out);
            }
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("rs" | "sh" | "py" | "toml")
        ) || name == "run"
        {
            out.push(p);
        }
    }
}

#[test]
fn no_file_names_an_absolute_workplace_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut all = Vec::new();
    for d in ["crates", "bench", ".ci"] {
        let dir = root.join(d);
        if dir.exists() {
            files(&dir, &mut all);
        }
    }
    assert!(
        all.len() > 50,
        "the walk found the sources ({} files)",
        all.len()
    );
    // spelt in two parts so this file does not match itself
    let needle = ["/work", "/shared"].concat();
    let mut bad = Vec::new();
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "absolute workplace paths (use ../shared relative to the repository):\n{}",
        bad.join("\n")
    );
}
