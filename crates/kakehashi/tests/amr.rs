//! AMR on synthetic sites, through the binary: synth → ingest → `kakehashi amr`.
//! - Read again with the guideline the lab used, the values agree with the lab's own S/I/R.
//! - Japanese CLSI data read with EUCAST changes %S and %R in the direction the two
//!   guidelines' breakpoint rows imply, cell by cell.

use kakehashi_amr::breakpoints::{Method, Resolution};
use kakehashi_amr::{InfectionSite, Interpreter, Options, Reference};
use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

fn run(args: &[&str]) -> String {
    let out = Command::new(EXE).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn site(dir: &Path, profile: &str) -> String {
    let fhir = dir.join(format!("{profile}-fhir"));
    let site = dir.join(profile);
    run(&[
        "synth",
        "--profile",
        profile,
        "--patients",
        "12000",
        "--catchment",
        "0",
        "--seed",
        "11",
        "--out",
        fhir.to_str().unwrap(),
    ]);
    run(&[
        "ingest",
        "--site-dir",
        site.to_str().unwrap(),
        fhir.to_str().unwrap(),
    ]);
    site.to_str().unwrap().to_string()
}

#[test]
fn synthetic_sites_reread() {
    let tmp = tempfile::tempdir().unwrap();
    let jp = site(tmp.path(), "jp-tokyo");
    let de = site(tmp.path(), "de-berlin");

    // same guideline as the lab: complete agreement for the Japanese (CLSI 2025) site
    let ag: serde_json::Value = serde_json::from_str(&run(&[
        "amr",
        "agreement",
        "--site-dir",
        &jp,
        "--guideline",
        "CLSI 2025",
    ]))
    .unwrap();
    assert!(ag["compared"].as_u64().unwrap() > 2000, "{ag}");
    assert_eq!(ag["compared"], ag["agree"], "{ag}");
    // the German (EUCAST 2025) site's panel follows EUCAST 2025 row by row (P. aeruginosa
    // without an S category for piperacillin-tazobactam, ceftazidime and ciprofloxacin, tested
    // with tobramycin): complete agreement too
    let ag: serde_json::Value = serde_json::from_str(&run(&[
        "amr",
        "agreement",
        "--site-dir",
        &de,
        "--guideline",
        "EUCAST 2025",
    ]))
    .unwrap();
    assert!(ag["compared"].as_u64().unwrap() > 2000, "{ag}");
    assert_eq!(ag["compared"], ag["agree"], "{ag}");

    // JP read with its own CLSI and with EUCAST, by cell
    let read = |g: &str| -> serde_json::Value {
        serde_json::from_str(&run(&[
            "amr",
            "antibiogram",
            "--site-dir",
            &jp,
            "--guideline",
            g,
            "--format",
            "json",
        ]))
        .unwrap()
    };
    let clsi = read("CLSI 2025");
    let eucast = read("EUCAST 2025");
    let cells = |v: &serde_json::Value| {
        v["counts"][0]["counts"]["cells"]
            .as_array()
            .unwrap()
            .clone()
    };
    let r = Reference::shared().unwrap();
    let ic = Interpreter::new(r, "CLSI 2025".parse().unwrap(), Options::default()).unwrap();
    let ie = Interpreter::new(r, "EUCAST 2025".parse().unwrap(), Options::default()).unwrap();
    let (mut checked, mut s_drops, mut r_rises) = (0, 0, 0);
    for c in cells(&clsi) {
        let (org, ab) = (
            c["organism"].as_str().unwrap(),
            c["antimicrobial"].as_str().unwrap(),
        );
        let e = cells(&eucast)
            .into_iter()
            .find(|x| x["organism"] == org && x["antimicrobial"] == ab)
            .unwrap();
        assert_eq!(
            c["tested"], e["tested"],
            "same first isolates under both guidelines"
        );
        let (mo, abid) = (
            r.mo_by_code(org).unwrap(),
            r.find_antimicrobial(ab).unwrap(),
        );
        let (
            Resolution::Row {
                s_step: sc,
                r_step: Some(rc),
                ..
            },
            Resolution::Row {
                s_step: se,
                r_step: Some(re),
                ..
            },
        ) = (
            ic.resolve(mo, abid, Method::Mic, InfectionSite::Unspecified),
            ie.resolve(mo, abid, Method::Mic, InfectionSite::Unspecified),
        )
        else {
            continue;
        };
        let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
        if n(&c, "ni") > 0 || n(&e, "ni") > 0 {
            continue;
        }
        // S under EUCAST needs MIC <= se, under CLSI MIC <= sc
        let se = se.unwrap_or(i16::MIN);
        let sc = sc.unwrap_or(i16::MIN);
        if se <= sc {
            assert!(
                n(&e, "s") <= n(&c, "s"),
                "{org} {ab}: EUCAST S bp at or below CLSI's, yet more S"
            );
        } else {
            assert!(n(&e, "s") >= n(&c, "s"), "{org} {ab}");
        }
        // R under EUCAST: MIC > re; under CLSI: MIC >= rc, i.e. > rc - 1
        if re < rc {
            assert!(
                n(&e, "r") >= n(&c, "r"),
                "{org} {ab}: EUCAST R bp at or below CLSI's, yet fewer R"
            );
        } else {
            assert!(n(&e, "r") <= n(&c, "r"), "{org} {ab}");
        }
        s_drops += (n(&e, "s") < n(&c, "s")) as u32;
        r_rises += (n(&e, "r") > n(&c, "r")) as u32;
        checked += 1;
    }
    assert!(checked >= 10, "{checked} cells compared");
    assert!(
        s_drops >= 1,
        "EUCAST's lower S breakpoints (e.g. E. coli ceftazidime 1 vs 4 mg/L) must lower some %S"
    );
    eprintln!(
        "cells compared {checked}, %S lower under EUCAST in {s_drops}, %R higher in {r_rises}"
    );

    // the pooled report has both countries and a DE-vs-JP comparison
    let both: serde_json::Value = serde_json::from_str(&run(&[
        "amr",
        "antibiogram",
        "--site-dir",
        &de,
        "--site-dir",
        &jp,
        "--guideline",
        "EUCAST 2025",
        "--organism",
        "Escherichia coli",
        "--format",
        "json",
    ]))
    .unwrap();
    let groups: Vec<&str> = both["report"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["group"].as_str().unwrap())
        .collect();
    assert!(
        groups.contains(&"DE") && groups.contains(&"JP"),
        "{groups:?}"
    );
    assert!(!both["report"]["comparison"].as_array().unwrap().is_empty());
    // the table names organisms and drugs, where the data carry codes
    let table = run(&[
        "amr",
        "antibiogram",
        "--site-dir",
        &de,
        "--site-dir",
        &jp,
        "--guideline",
        "EUCAST 2025",
        "--organism",
        "Escherichia coli",
    ]);
    let comparison = table
        .split("== DE vs JP")
        .nth(1)
        .expect("a DE vs JP section");
    let first = comparison.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("Escherichia coli "), "{first}");
    let code = both["report"]["comparison"][0]["antimicrobial"]
        .as_str()
        .unwrap();
    assert!(
        !first.contains(&format!(" {code} ")),
        "the drug code {code} instead of its name: {first}"
    );

    // interpret: long CSV in, the same rows out with sir and breakpoint
    let csv = tmp.path().join("in.csv");
    std::fs::write(&csv, "organism,antimicrobial,mic\nKlebsiella pneumoniae,Meropenem,16\nEscherichia coli,Ampicillin,4\n").unwrap();
    let out = run(&[
        "amr",
        "interpret",
        "--guideline",
        "EUCAST 2025",
        "--input",
        csv.to_str().unwrap(),
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "organism,antimicrobial,mic,sir,breakpoint");
    assert!(
        lines[1].starts_with("Klebsiella pneumoniae,Meropenem,16,R,EUCAST 2025 MIC MEM"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("Escherichia coli,Ampicillin,4,S,"),
        "{}",
        lines[2]
    );
    // WHONET-style export from synth
    let w = Path::new(&jp)
        .parent()
        .unwrap()
        .join("jp-tokyo-fhir/whonet.csv");
    let out = run(&[
        "amr",
        "interpret",
        "--guideline",
        "CLSI 2025",
        "--input",
        w.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.as_array().unwrap().len() > 100);
    // bad input names the line and column
    std::fs::write(
        &csv,
        "organism,antimicrobial,mic\nKlebsiella pneumoniae,Meropenem,much\n",
    )
    .unwrap();
    let o = Command::new(EXE)
        .args([
            "amr",
            "interpret",
            "--guideline",
            "EUCAST 2025",
            "--input",
            csv.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 2, column mic"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
