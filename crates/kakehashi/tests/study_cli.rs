//! `kakehashi study`: the shipped registries are written out, their dictionaries validate and
//! import into study files, a study exports to REDCap and ODM 1.3.2 (validated against the
//! shipped XSD with xmllint when installed; SKIPPED visibly otherwise), and a bad dictionary
//! is refused naming its line, field and column, with nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn kh(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .output()
        .expect("kakehashi runs")
}

fn ok(args: &[&str]) -> String {
    let out = kh(args);
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A visible skip, unless CI requires xmllint (`KAKEHASHI_REQUIRE_XMLLINT`, set by `.ci/run`).
fn skipped(msg: &str) {
    assert!(
        std::env::var_os("KAKEHASHI_REQUIRE_XMLLINT").is_none(),
        "KAKEHASHI_REQUIRE_XMLLINT is set but xmllint is not installed"
    );
    println!("SKIPPED: {msg}");
}

fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../edc/schema/odm-1.3.2/ODM1-3-2.xsd")
}

#[test]
fn registries_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sfts");
    let printed = ok(&["study", "forms", "sfts", "--out", s(&out)]);
    println!("{printed}");
    assert!(printed.contains("SFTS") && printed.contains("de:") && printed.contains("ja:"));
    for f in ["study.json", "dictionary.csv", "odm.xml", "coverage.md"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let v = ok(&["study", "validate", s(&out.join("dictionary.csv"))]);
    assert!(
        v.contains("valid REDCap data dictionary") && v.contains("6 forms"),
        "{v}"
    );
    let v = ok(&["study", "validate", s(&out.join("study.json"))]);
    assert!(
        v.contains("valid study 'SFTS-REG'") && v.contains("5 events"),
        "{v}"
    );

    // The dictionary imports into a study, which exports back to the same dictionary.
    let imported = dir.path().join("imported.json");
    // Without events, the dictionary's [initial_assessment_arm_1][…] logic names an event the
    // one-event study lacks: refused, naming it, nothing written.
    let o = kh(&[
        "study",
        "import-dictionary",
        s(&out.join("dictionary.csv")),
        "--out",
        s(&imported),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("names the event 'initial_assessment_arm_1', which no arm has"),
        "{err}"
    );
    assert!(!imported.exists());
    // With the events of the registry's study file, it imports.
    ok(&[
        "study",
        "import-dictionary",
        s(&out.join("dictionary.csv")),
        "--out",
        s(&imported),
        "--id",
        "sfts_copy",
        "--like",
        s(&out.join("study.json")),
    ]);
    let back = ok(&["study", "export", s(&imported), "--format", "redcap"]);
    let original = std::fs::read_to_string(out.join("dictionary.csv")).expect("read");
    assert_eq!(back, original);

    let odm = dir.path().join("imported.xml");
    ok(&[
        "study",
        "export",
        s(&imported),
        "--format",
        "odm",
        "--out",
        s(&odm),
    ]);
    let xml = std::fs::read_to_string(&odm).expect("odm");
    assert!(xml.contains("ODMVersion=\"1.3.2\""));
    match Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd())
        .arg(&odm)
        .output()
    {
        Err(_) => skipped(
            "xmllint not installed (apt-get install libxml2-utils); ODM schema validation not run",
        ),
        Ok(o) => {
            assert!(
                o.status.success(),
                "ODM invalid: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            println!("imported.xml: valid ODM 1.3.2");
        }
    }
}

#[test]
fn a_bad_dictionary_is_refused_with_line_field_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("vhf");
    ok(&["study", "forms", "vhf", "--out", s(&out)]);
    let text = std::fs::read_to_string(out.join("dictionary.csv")).expect("read");
    // Break one field type and one branching logic.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("demog_age,"))
        .expect("demog_age row");
    lines[i] = lines[i].replacen(",text,", ",numeric,", 1);
    let j = lines
        .iter()
        .position(|l| l.contains("[labs_dailydata]='1'"))
        .expect("a labs row");
    lines[j] = lines[j].replacen("[labs_dailydata]='1'", "[labs_dailydata]='1' and (", 1);
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, lines.join("\n")).expect("write");
    let json = dir.path().join("bad.json");
    let o = kh(&["study", "import-dictionary", s(&file), "--out", s(&json)]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    println!("{err}");
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(
        err.contains(&format!(
            "line {}, field 'demog_age', column 'Field Type': unknown field type 'numeric'",
            i + 1
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("line {}, field '", j + 1))
            && err.contains("column 'Branching Logic (Show field only if...)': at character"),
        "{err}"
    );
    assert!(!json.exists(), "nothing written");
    let o = kh(&["study", "validate", s(&file)]);
    assert_eq!(o.status.code(), Some(1));
}
