//! The binary's exit codes are the ones README's "Exit codes" table documents: each row is read
//! from README, and a command with bad input of that kind exits with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn kh(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

/// README's table: code → meaning.
fn documented() -> BTreeMap<i32, String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let table = readme
        .split("### Exit codes")
        .nth(1)
        .expect("README has an \"Exit codes\" section");
    table
        .lines()
        .filter_map(|l| {
            let mut cells = l.strip_prefix("| ")?.split(" | ");
            let code = cells.next()?.trim().parse().ok()?;
            Some((code, cells.next()?.to_owned()))
        })
        .collect()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    let docs = documented();
    let meaning = docs
        .get(&code)
        .unwrap_or_else(|| panic!("README documents no exit code {code}"));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: README says {code} means {meaning:?}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_documents_codes_0_to_5() {
    assert_eq!(
        documented().keys().copied().collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
}

/// An unknown option is a usage error.
#[test]
fn an_unknown_option_exits_2() {
    let out = kh(&["ingest", "--no-such-option"]);
    assert_exit(&out, 2, "kakehashi ingest --no-such-option");
}

/// A missing input file stops the command, and the message names the file.
#[test]
fn a_missing_input_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-input.ndjson");
    let site = dir.path().join("site");
    let out = kh(&[
        "ingest",
        "--site-dir",
        site.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_exit(&out, 1, "kakehashi ingest of a missing file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("no-such-input.ndjson"),
        "{err}"
    );
}

/// A rejected record: the rest is loaded, the record is listed, and the code says so.
#[test]
fn a_rejected_record_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(
        &input,
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\"}\n{\"resourceType\":\"NoSuchType\",\"id\":\"x\"}\n",
    )
    .unwrap();
    let site = dir.path().join("site");
    let out = kh(&[
        "ingest",
        "--site-dir",
        site.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_exit(&out, 3, "kakehashi ingest with a rejected record");
}
