//! The federated command line over real HTTP: `kakehashi query --surveillance` against a real
//! hub and four site agents on loopback (processes of the `kakehashi` binary over the synthetic
//! demo sites), read as a researcher reads its table.

mod common;

use common::net::{Net, country};
use kakehashi_surveillance::per_patient::DEFAULT_MAX_WEEKS_PER_PATIENT;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const SITES: [&str; 4] = ["de-berlin", "de-frankfurt", "jp-tokyo", "jp-osaka"];
const OPEN: &str = "projects = [\"*\"]\nmin_count = 0\nrounding = 1\nnoise = \"off\"";
const PATHOGENS: [&str; 3] = ["influenza", "rsv", "sars-cov-2"];

/// The four demo sites at 2,000 patients each (with their SARI catchments): enough tests per
/// week for shares to be shown (10 or more), made once per test process.
fn sites_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::process_dir("kh-query-cli-sites");
        let out = Command::new(EXE)
            .args(["demo", "--prepare-only", "--patients", "2000", "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A week's cases and, per pathogen, (tests, positives).
type Week = (u64, Vec<(u64, u64)>);

/// A site's exact weekly series through the steward's own command: `week → (cases, [(tests,
/// positives); pathogens])`.
fn local(id: &str) -> BTreeMap<String, Week> {
    let out = Command::new(EXE)
        .args([
            "surveillance",
            "series",
            "--definition",
            "sari-icosari",
            "--by",
            "",
            "--format",
            "json",
            "--max-weeks-per-patient",
            &DEFAULT_MAX_WEEKS_PER_PATIENT.to_string(),
            "--site-dir",
        ])
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["series"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let tests = r["positivity"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["tests"].as_u64().unwrap(),
                        p["positives"].as_u64().unwrap(),
                    )
                })
                .collect();
            (
                r["week"].as_str().unwrap().to_owned(),
                (r["cases"].as_u64().unwrap_or(0), tests),
            )
        })
        .collect()
}

/// One pathogen's cell of a printed week: the tests and, when shown, the share positive and
/// its interval, in percent.
#[derive(Debug)]
struct Cell {
    tests: u64,
    share: Option<(f64, f64, f64)>,
}

/// A printed week row: `week cases /100k` then per pathogen `tests share [lo-hi]` or `tests -`.
fn parse_row(line: &str) -> (String, u64, Vec<Cell>) {
    let t: Vec<&str> = line.split_whitespace().collect();
    let cases = t[1]
        .parse()
        .unwrap_or_else(|_| panic!("cases not exact: {line}"));
    let mut cells = Vec::new();
    let mut i = 3;
    while i < t.len() {
        let tests = t[i]
            .parse()
            .unwrap_or_else(|_| panic!("tests not exact: {line}"));
        if t[i + 1] == "-" {
            cells.push(Cell { tests, share: None });
            i += 2;
            continue;
        }
        let v: f64 = t[i + 1]
            .strip_suffix('%')
            .unwrap_or_else(|| panic!("a share: {line}"))
            .parse()
            .unwrap();
        let (lo, hi) = t[i + 2]
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split_once('-')
            .unwrap_or_else(|| panic!("an interval: {line}"));
        cells.push(Cell {
            tests,
            share: Some((v, lo.parse().unwrap(), hi.parse().unwrap())),
        });
        i += 3;
    }
    (t[0].to_owned(), cases, cells)
}

/// `kakehashi query --surveillance sari-icosari` against a real network of four exact sites
/// (`noise = "off"`, no minimum, no rounding; 2,000 patients each): per country it prints the season shown, and per
/// week the cases and, per pathogen, the tests and the share positive with its 95 % interval.
/// Every printed figure equals the sum of the country's sites' own exact series, computed from
/// their stores by `kakehashi surveillance series`; every share shown is positives / tests and
/// lies inside its interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_command_prints_each_countrys_positivity_as_the_sites_exact_sums() {
    let mut net = Net::start(&[]).await;
    for id in SITES {
        net.start_site_at(id, &sites_dir().join("sites").join(id), OPEN)
            .await;
    }
    net.wait_online(SITES.len()).await;
    let out = tokio::task::spawn_blocking({
        let (url, token) = (net.url.clone(), net.tokens["alice"].clone());
        move || {
            Command::new(EXE)
                .args(["query", "--hub", &url, "--token", &token])
                .args(["--project", "p1", "--surveillance", "sari-icosari"])
                .args(["--deadline", "60"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}: {text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // the exact truth per country and week, from the sites' stores
    let mut truth: BTreeMap<(String, String), Week> = BTreeMap::new();
    for id in SITES {
        for (week, (cases, tests)) in local(id) {
            let t = truth
                .entry((country(id).to_owned(), week))
                .or_insert_with(|| (0, vec![(0, 0); PATHOGENS.len()]));
            t.0 += cases;
            for (a, b) in t.1.iter_mut().zip(tests) {
                a.0 += b.0;
                a.1 += b.1;
            }
        }
    }
    let (mut rows, mut shares, mut tested) = (0, 0, 0);
    for c in ["DE", "JP"] {
        let head = format!("{c} sari-icosari, season ");
        let at = text
            .find(&head)
            .unwrap_or_else(|| panic!("a section for {c}: {text}"));
        let section = &text[at..];
        let mut lines = section.lines();
        let title = lines.next().unwrap();
        assert!(
            title.contains(": 2 sites, ") && title.contains("positivity = positive / tested"),
            "{title}"
        );
        let columns = lines.next().unwrap();
        for p in PATHOGENS {
            assert!(
                columns.contains(&format!("{p} tested, positivity")),
                "{columns}"
            );
        }
        for line in lines.take_while(|l| !l.trim().is_empty()) {
            let (week, cases, cells) = parse_row(line);
            let (want_cases, want) = truth
                .get(&(c.to_owned(), week.clone()))
                .unwrap_or_else(|| panic!("{c} {week}: no such week at the sites"));
            assert_eq!(cases, *want_cases, "{c} {week} cases: {line}");
            assert_eq!(cells.len(), PATHOGENS.len(), "{line}");
            for ((cell, p), (tests, positives)) in cells.iter().zip(PATHOGENS).zip(want) {
                assert_eq!(cell.tests, *tests, "{c} {week} {p} tests: {line}");
                tested += cell.tests;
                if let Some((v, lo, hi)) = cell.share {
                    let exact = 100.0 * *positives as f64 / *tests as f64;
                    assert!(
                        (v - exact).abs() <= 0.05 + 1e-9,
                        "{c} {week} {p}: printed {v}%, exact {exact}%: {line}"
                    );
                    assert!(lo <= v && v <= hi, "{c} {week} {p} interval: {line}");
                    shares += 1;
                }
            }
            rows += 1;
        }
    }
    assert!(rows >= 20, "{rows} weeks printed: {text}");
    assert!(tested > 0, "tests printed: {text}");
    assert!(shares > 0, "some shares printed: {text}");
    println!("{rows} weeks, {tested} tests and {shares} shares checked against the sites' stores");
}
