//! `kakehashi surveillance mem` and `definitions`, run as the real binary.

use std::process::Command;

fn kakehashi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn flucyl() -> String {
    format!(
        "{}/../surveillance/data/flucyl.csv",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn mem_json_names_each_threshold() {
    let out = kakehashi(&[
        "surveillance",
        "mem",
        "--input",
        &flucyl(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let out = kakehashi(&[
        "surveillance",
        "mem",
        "--input",
        &flucyl(),
        "--current",
        "2008/2009",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let text = kakehashi(&[
        "surveillance",
        "mem",
        "--input",
        &flucyl(),
        "--current",
        "2008/2009",
    ]);
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(
        s.contains("Epidemic threshold:")
            && s.contains("very high")
            && s.contains("Season 2008/2009, week by week"),
        "{s}"
    );
}

#[test]
fn bad_csv_is_reported_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "week,2019/2020,2020/2021\n40,1.5,2\n41,2,zwei\n").unwrap();
    let out = kakehashi(&["surveillance", "mem", "--input", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv")
            && err.contains("line 3, column 3 (2020/2021)")
            && err.contains("\"zwei\""),
        "{err}"
    );
    let out = kakehashi(&[
        "surveillance",
        "mem",
        "--input",
        &flucyl(),
        "--current",
        "2099/2100",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such season"));
}

#[test]
fn definitions_are_listed_with_sources() {
    let out = kakehashi(&["surveillance", "definitions", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"sari-icosari")
            && names.contains(&"sari-who")
            && names.contains(&"ili-ecdc")
    );
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|d| !d["source"].as_str().unwrap().is_empty())
    );
}

/// Makes and loads a synthetic site; returns its directory.
fn synthetic_site(dir: &std::path::Path, profile: &str, patients: &str) -> String {
    let fhir = dir.join(format!("{profile}-fhir"));
    let site = dir.join(profile);
    for args in [
        vec![
            "synth",
            "--profile",
            profile,
            "--patients",
            patients,
            "--seed",
            "3",
            "--out",
            fhir.to_str().unwrap(),
        ],
        vec![
            "ingest",
            "--site-dir",
            site.to_str().unwrap(),
            fhir.to_str().unwrap(),
        ],
    ] {
        let out = kakehashi(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    site.to_str().unwrap().to_owned()
}

/// Week of the most influenza-positive tests in each complete season (ISO week 36 to 35),
/// from the site's SARI series read through the store.
fn influenza_peak_weeks(site: &str) -> Vec<i64> {
    let out = kakehashi(&[
        "surveillance",
        "series",
        "--site-dir",
        site,
        "--definition",
        "sari-icosari",
        "--by",
        "",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["series"];
    let flu = s["pathogens"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p == "influenza")
        .unwrap();
    let mut seasons: std::collections::BTreeMap<i64, Vec<(u64, i64)>> = Default::default();
    for r in s["rows"].as_array().unwrap() {
        let (y, w) = r["week"].as_str().unwrap().split_once("-W").unwrap();
        let (y, w): (i64, i64) = (y.parse().unwrap(), w.parse().unwrap());
        seasons
            .entry(if w >= 36 { y } else { y - 1 })
            .or_default()
            .push((r["positivity"][flu]["positives"].as_u64().unwrap(), w));
    }
    // complete seasons only (the last one may stop mid-winter)
    seasons
        .values()
        .filter(|rows| rows.len() >= 50)
        .map(|rows| rows.iter().max_by_key(|(n, w)| (*n, -*w)).unwrap().1)
        .collect()
}

/// Season weeks counted from ISO week 40 (week 40 = 0, week 1 = 13 or so), to compare timing
/// across the new year.
fn season_index(week: i64) -> i64 {
    if week >= 40 { week - 40 } else { week + 13 }
}

fn median(mut v: Vec<i64>) -> i64 {
    v.sort();
    v[v.len() / 2]
}

/// The synthetic seasons against the countries' reports (sources in
/// docs/surveillance-validation.md): Japan's influenza peaks in ISO weeks 4–9 (JIHS/NIID IASR
/// season reports 2004/05: week 9; 2008/09, 2014/15, 2018/19: week 4); Germany's influenza wave
/// usually starts in January and lasts three to four months, peaking in February (RKI
/// Influenza-Saisonbericht 2018/19: weeks 2–14; RKI FAQ Grippesaison). Japan peaks no later than
/// Germany; MEM's thresholds rise in order and the typical epidemic starts around the turn of
/// the year in both countries.
#[test]
fn synthetic_seasons_look_like_the_countries_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let de = synthetic_site(tmp.path(), "de-berlin", "5000");
    let jp = synthetic_site(tmp.path(), "jp-tokyo", "5000");
    let (de_peaks, jp_peaks) = (influenza_peak_weeks(&de), influenza_peak_weeks(&jp));
    assert!(
        de_peaks.len() >= 5 && jp_peaks.len() >= 4,
        "{de_peaks:?} {jp_peaks:?}"
    );
    let (de_med, jp_med) = (median(de_peaks.clone()), median(jp_peaks.clone()));
    eprintln!(
        "influenza peak weeks: DE {de_peaks:?} (median {de_med}), JP {jp_peaks:?} (median {jp_med})"
    );
    assert!(
        (5..=10).contains(&de_med),
        "German influenza peaks in February (weeks 5–10): {de_peaks:?}"
    );
    assert!(
        (3..=9).contains(&jp_med),
        "Japanese influenza peaks in weeks 4–9: {jp_peaks:?}"
    );
    assert!(
        season_index(jp_med) <= season_index(de_med),
        "Japan peaks no later than Germany: JP {jp_med}, DE {de_med}"
    );
    for (country, site) in [("DE", &de), ("JP", &jp)] {
        let table = tmp.path().join(format!("{country}-mem.csv"));
        let out = kakehashi(&[
            "surveillance",
            "series",
            "--site-dir",
            site,
            "--definition",
            "sari-icosari",
            "--by",
            "",
            "--format",
            "mem",
            "--per",
            "100000",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&table, &out.stdout).unwrap();
        let out = kakehashi(&[
            "surveillance",
            "mem",
            "--input",
            table.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = &v["thresholds"];
        let f = |k: &str| t[k].as_f64().unwrap();
        eprintln!(
            "{country} MEM (SARI per 100,000 per week): epidemic {:.1}, medium {:.1}, high {:.1}, very high {:.1}; typical epidemic {}",
            f("epidemic"),
            f("medium"),
            f("high"),
            f("very_high"),
            v["typical_epidemic"]
        );
        assert!(
            f("epidemic") > 0.0
                && f("epidemic") < f("medium")
                && f("medium") < f("high")
                && f("high") < f("very_high"),
            "{country}: {t}"
        );
        let start: i64 = v["typical_epidemic"]["start_week"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // reports: Germany's waves start in December–January, Japan's sentinel onset in weeks 48–3
        assert!(
            (season_index(46)..=season_index(6)).contains(&season_index(start)),
            "{country}: typical epidemic starts in week {start}"
        );
        let len = v["typical_epidemic"]["length_weeks"].as_i64().unwrap();
        assert!(
            (8..=20).contains(&len),
            "{country}: a typical epidemic of {len} weeks (reports: 13 weeks to 3–4 months)"
        );
    }
}
