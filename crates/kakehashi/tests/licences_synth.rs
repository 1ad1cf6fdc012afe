//! No CLSI number is compiled into the program through the synthetic labs' panel: the Japanese
//! (CLSI) profiles read their breakpoints at run time from the AMR data folder's removable
//! `breakpoints-clsi.tsv`; without it they are refused with the file named, and the German
//! (EUCAST) profiles generate without any data folder at all.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh temporary folder for this test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kh-licences-synth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `kakehashi synth` of 30 patients of `profile` into `out`, with `KAKEHASHI_DATA_DIR` set:
/// exit code and stderr.
fn synth(profile: &str, out: &Path, data_dir: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["synth", "--profile", profile, "--patients", "30"])
        .args(["--catchment", "0", "--seed", "1", "--out"])
        .arg(out)
        .env("KAKEHASHI_DATA_DIR", data_dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The panel compiled into the program holds, per organism, only `[drug, EUCAST S, EUCAST R]`.
#[test]
fn the_compiled_panel_holds_no_clsi_breakpoints() {
    let panel = std::fs::read_to_string(root().join("crates/synth/data/amr-panel.toml")).unwrap();
    let v: toml::Value = toml::from_str(&panel).unwrap();
    let organisms = v["organism"].as_array().unwrap();
    assert_eq!(organisms.len(), 6);
    let mut pairs = 0;
    for o in organisms {
        for b in o["breakpoints"].as_array().unwrap() {
            let b = b.as_array().unwrap();
            assert_eq!(
                b.len(),
                3,
                "{}: {b:?} must be [drug, EUCAST S, EUCAST R]",
                o["key"]
            );
            pairs += 1;
        }
    }
    assert_eq!(pairs, 28, "organism–drug pairs of the panel");
    assert!(
        !panel
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("clsi")),
        "no CLSI field in the panel"
    );
}

#[test]
fn a_clsi_profile_needs_the_clsi_file_and_eucast_profiles_need_no_data_folder() {
    let dir = tmp("no-clsi");
    let amr = dir.join("amr");
    std::fs::create_dir_all(&amr).unwrap();
    for e in std::fs::read_dir(root().join("data/amr")).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "breakpoints-clsi.tsv" {
            std::fs::copy(e.path(), amr.join(e.file_name())).unwrap();
        }
    }
    let (code, err) = synth("jp-osaka", &dir.join("jp"), &dir);
    assert_eq!(code, 1, "{err}");
    assert!(
        !err.contains("panicked")
            && err.contains("CLSI 2025")
            && err.contains(&amr.join("breakpoints-clsi.tsv").display().to_string())
            && err.contains("reads with EUCAST (de-berlin"),
        "names the guideline, the missing file and what works instead: {err}"
    );
    assert!(
        !dir.join("jp").join("Patient.ndjson").exists(),
        "nothing generated"
    );
    // a German (EUCAST) profile with no data folder at all
    let empty = tmp("empty");
    let (code, err) = synth("de-berlin", &empty.join("de"), &empty);
    assert_eq!(code, 0, "{err}");
    assert!(empty.join("de").join("Patient.ndjson").exists());
    // with the file, the Japanese profile generates
    let (code, err) = synth("jp-osaka", &dir.join("jp"), &root().join("data"));
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("jp").join("Observation.ndjson").exists());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}
