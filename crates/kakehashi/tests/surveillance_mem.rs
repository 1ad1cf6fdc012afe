//! `kakehashi surveillance mem` and `definitions`, run as the real binary.

use std::process::Command;

fn kakehashi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kakehashi")).args(args).output().expect("the binary runs")
}

fn flucyl() -> String {
    format!("{}/../surveillance/data/flucyl.csv", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn mem_json_names_each_threshold() {
    let out = kakehashi(&["surveillance", "mem", "--input", &flucyl(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["thresholds"];
    // R mem 2.19 memmodel(flucyl): 53.3364493501 / 60.4864309717 / 249.92 / 441.90 / 568.49.
    assert!((t["epidemic"].as_f64().unwrap() - 53.3364493501).abs() < 1e-8);
    assert!((t["post_epidemic"].as_f64().unwrap() - 60.4864309717).abs() < 1e-8);
    assert!((t["medium"].as_f64().unwrap() - 249.9234334643).abs() < 1e-8);
    assert!((t["high"].as_f64().unwrap() - 441.8986300204).abs() < 1e-8);
    assert!((t["very_high"].as_f64().unwrap() - 568.4895963501).abs() < 1e-8);
    assert_eq!(v["n_max"], 4);
    assert_eq!(v["timings"].as_array().unwrap().len(), 8);
    assert!(v["current"].is_null());
}

#[test]
fn mem_judges_a_current_season_left_out_of_the_model() {
    let out = kakehashi(&["surveillance", "mem", "--input", &flucyl(), "--current", "2008/2009", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seasons"].as_array().unwrap().len(), 7);
    let weeks = v["current"]["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 33);
    let thr = v["thresholds"]["epidemic"].as_f64().unwrap();
    // Every week's level agrees with its value and the thresholds.
    for w in weeks {
        let val = w["value"].as_f64().unwrap();
        let level = w["level"].as_str().unwrap();
        assert_eq!(level == "baseline", val < thr, "{w}");
    }
    assert!(weeks.iter().any(|w| w["phase"] == "epidemic"));
    let text = kakehashi(&["surveillance", "mem", "--input", &flucyl(), "--current", "2008/2009"]);
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(s.contains("Epidemic threshold:") && s.contains("very high") && s.contains("Season 2008/2009, week by week"), "{s}");
}

#[test]
fn bad_csv_is_reported_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "week,2019/2020,2020/2021\n40,1.5,2\n41,2,zwei\n").unwrap();
    let out = kakehashi(&["surveillance", "mem", "--input", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("line 3, column 3 (2020/2021)") && err.contains("\"zwei\""), "{err}");
    let out = kakehashi(&["surveillance", "mem", "--input", &flucyl(), "--current", "2099/2100"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such season"));
}

#[test]
fn definitions_are_listed_with_sources() {
    let out = kakehashi(&["surveillance", "definitions", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"sari-icosari") && names.contains(&"sari-who") && names.contains(&"ili-ecdc"));
    assert!(v.as_array().unwrap().iter().all(|d| !d["source"].as_str().unwrap().is_empty()));
}
