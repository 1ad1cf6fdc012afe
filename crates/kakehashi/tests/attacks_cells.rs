//! The attack suite (issue 26, point 8): complementary cells, over real HTTP against a real hub
//! and site agents. An antibiogram declares, per organism (and year), the isolates as the
//! margin of each drug's five S/I/R categories (`isolates ≥ Σ categories`, equal when every
//! isolate was tested). The attacker subtracts the shown categories from the shown total to
//! recover the withheld ones.

mod common;

use common::net::{Net, site, sites_dir};
use kakehashi_amr::pool::MDRO_MEASURES;
use kakehashi_federation::antibiogram::{CATEGORIES, ORGANISM_ROW};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const MIN: u64 = 5;
/// Publishes exact aggregates: the minimum on the true count, secondary suppression.
const EXACT: &str = "projects = [\"*\"]\nmin_count = 5\nrounding = 1\nnoise = \"off\"";
/// Noise with ε = 1, the minimum on the noisy value, no rounding.
const NOISY: &str = "projects = [\"*\"]\nmin_count = 5\nrounding = 1\nepsilon = 1.0";

/// Six organisms and ten drugs of the synthetic labs' panel, by year or over all years.
fn spec(by_year: bool) -> Value {
    json!({"guideline": "EUCAST 2025",
        "organisms": ["Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus",
                      "Pseudomonas aeruginosa", "Acinetobacter baumannii", "Enterococcus faecium"],
        "antimicrobials": ["AMP", "TZP", "CTX", "CAZ", "MEM", "CIP", "GEN", "OXA", "VAN", "TOB"],
        "by_year": by_year})
}

/// The year of a row: its `year`, or `all` in a table over all years.
fn year(y: &Value) -> String {
    y.as_u64()
        .or_else(|| y.as_str().and_then(|s| s.parse().ok()))
        .map_or("all".into(), |y| format!("{y:04}"))
}

type Table = BTreeMap<Vec<String>, Option<u64>>;

/// The site's true table, keyed as the released rows (`year, organism, drug, statistic`),
/// through the command its steward would run.
fn truth(id: &str, by_year: bool) -> BTreeMap<Vec<String>, u64> {
    let file = sites_dir().join(format!("cells-spec-{id}-{by_year}.json"));
    std::fs::write(&file, spec(by_year).to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["amr", "antibiogram", "--format", "json", "--spec"])
        .arg(&file)
        .arg("--site-dir")
        .arg(sites_dir().join("sites").join(id))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["counts"][0]["counts"];
    let key = |x: &Value, drug: &str, stat: &str| {
        vec![
            year(&x["year"]),
            x["organism"].as_str().unwrap().to_owned(),
            drug.to_owned(),
            stat.to_owned(),
        ]
    };
    let mut t = BTreeMap::new();
    for x in c["cells"].as_array().unwrap() {
        for k in CATEGORIES {
            let drug = x["antimicrobial"].as_str().unwrap();
            t.insert(key(x, drug, k), x[k].as_u64().unwrap());
        }
    }
    for x in c["organisms"].as_array().unwrap() {
        for m in MDRO_MEASURES {
            t.insert(key(x, ORGANISM_ROW, m), x[m].as_u64().unwrap());
        }
    }
    t
}

/// What the attacker reads: every released row, `None` where withheld.
fn released(m: &Value, id: &str) -> (Table, Value) {
    let s = site(m, id);
    assert_eq!(s["state"], "answered", "{s}");
    let rows = s["table"]["rows"].as_array().unwrap();
    let t = rows
        .iter()
        .map(|r| {
            let k = r["key"].as_array().unwrap();
            let mut k: Vec<String> = k.iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            if k.len() == 3 {
                k.insert(0, "all".into());
            }
            (k, r["values"][0].as_u64())
        })
        .collect();
    (t, s["table"]["disclosure"].clone())
}

/// One margin: the total's key and its parts' keys (the five categories of one drug).
struct Margin {
    total: Vec<String>,
    parts: Vec<Vec<String>>,
}

fn margins(t: &Table) -> Vec<Margin> {
    let drugs: BTreeSet<(String, String, String)> = t
        .keys()
        .filter(|k| k[2] != ORGANISM_ROW)
        .map(|k| (k[0].clone(), k[1].clone(), k[2].clone()))
        .collect();
    drugs
        .into_iter()
        .map(|(y, o, d)| Margin {
            total: vec![y.clone(), o.clone(), ORGANISM_ROW.into(), "isolates".into()],
            parts: CATEGORIES
                .iter()
                .map(|c| vec![y.clone(), o.clone(), d.clone(), (*c).to_owned()])
                .collect(),
        })
        .collect()
}

/// The attack on one margin: when the total is shown and some parts are withheld, the total
/// minus the shown parts (the attacker's value for the withheld parts together), and the true
/// sum of the withheld parts it aims at.
fn recover(m: &Margin, shown: &Table, truth: &BTreeMap<Vec<String>, u64>) -> Option<(i64, u64)> {
    let total = shown[&m.total]?;
    let withheld: Vec<&Vec<String>> = m.parts.iter().filter(|p| shown[*p].is_none()).collect();
    if withheld.is_empty() {
        return None;
    }
    let parts: u64 = m.parts.iter().filter_map(|p| shown[p]).sum();
    let target = withheld.iter().map(|p| truth.get(*p).copied().unwrap_or(0));
    Some((total as i64 - parts as i64, target.sum()))
}

/// Complementary cells in two released antibiograms (six organisms and ten drugs, by year and
/// over all years), at a site that publishes exact aggregates and at one that adds noise.
///
/// Without noise (de-berlin), every count below 5 is withheld, and secondary suppression
/// withholds an organism's isolates wherever the total minus a drug's shown categories would be
/// below 5: exactly those cells are withheld (checked against the site's own local table), the
/// margins where the subtraction would have given the withheld cells away are counted (the
/// attack needs them), and wherever a total is still shown the attacker's subtraction is at
/// least 5, so it is never a withheld count (each below 5).
///
/// With noise (de-frankfurt, ε = 1), the totals are noisy cells like the parts, so the
/// subtraction is off by their noises. For one margin per total (totals have independent
/// noises), the chance that it hits the true withheld sum exactly is at most the largest
/// probability of one noisy total's value given that it was shown, `1 − q` with
/// `q = e^(−ε/sensitivity)` (the discrete Laplace tail is geometric). The exact hits stay below
/// what that rate reaches with a chance of one in a million; exact totals would give nearly
/// every one away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_minus_the_shown_cells_does_not_recover_a_withheld_cell() {
    let net = Net::start(&[("de-berlin", EXACT), ("de-frankfurt", NOISY)]).await;
    let (mut would_leak, mut tries, mut hits, mut allowed) = (0, 0, 0, 0.0);
    for by_year in [true, false] {
        let m = net
            .ask(
                "alice",
                json!({"type": "antibiogram", "spec": spec(by_year)}),
            )
            .await;
        would_leak += attack_exact(&m, by_year);
        let (t, h, p) = attack_noisy(&m, by_year);
        (tries, hits, allowed) = (tries + t, hits + h, allowed + f64::from(t) * p);
    }
    assert!(
        would_leak > 0,
        "the tables have totals that secondary suppression must withhold"
    );
    // one rate for both tables (the same drugs, so the same sensitivity)
    let bound = most_hits(tries, allowed / f64::from(tries));
    println!(
        "de-frankfurt: {hits} of {tries} totals minus shown cells hit the withheld sum exactly (the noise allows {bound})"
    );
    assert!(tries >= 10, "{tries} margins to attack");
    assert!(
        hits <= bound,
        "{hits} of {tries} subtractions recover the withheld cells exactly; the noise allows {bound}"
    );
}

/// The most hits that `n` tries, each a hit with probability at most `p`, reach with a chance
/// of at least one in a million: the largest `k` with `P[Binomial(n, p) ≥ k] ≥ 10⁻⁶`.
fn most_hits(n: u32, p: f64) -> u32 {
    let pmf = |k: u32| {
        let choose: f64 = (0..k)
            .map(|i| f64::from(n - i) / f64::from(i + 1))
            .product();
        choose * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
    };
    let mut tail = 0.0;
    for k in (0..=n).rev() {
        tail += pmf(k);
        if tail >= 1e-6 {
            return k;
        }
    }
    0
}

/// The attack on the exact site's table; returns the totals withheld only because they would
/// give a withheld cell away.
fn attack_exact(m: &Value, by_year: bool) -> usize {
    let exact = truth("de-berlin", by_year);
    let (shown, d) = released(m, "de-berlin");
    assert_eq!(d["noise"], "off", "{d}");
    let true_of = |k: &Vec<String>| exact.get(k).copied().unwrap_or(0);
    let ms = margins(&shown);
    let mut expected: BTreeSet<Vec<String>> =
        shown.keys().filter(|k| true_of(k) < MIN).cloned().collect();
    let mut would_leak = 0;
    for mg in &ms {
        let parts_shown: u64 = mg
            .parts
            .iter()
            .filter(|p| !expected.contains(*p))
            .map(true_of)
            .sum();
        if mg.parts.iter().any(|p| expected.contains(p))
            && true_of(&mg.total).saturating_sub(parts_shown) < MIN
        {
            would_leak += usize::from(!expected.contains(&mg.total));
            expected.insert(mg.total.clone());
        }
    }
    let withheld: BTreeSet<Vec<String>> = shown
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        withheld, expected,
        "withheld: the counts below 5 and the totals that would give one away"
    );
    for (k, v) in &shown {
        if let Some(v) = v {
            assert_eq!(*v, true_of(k), "{k:?}: an exact site shows the true count");
        }
    }
    let mut attacked = 0;
    for mg in &ms {
        if let Some((recovered, target)) = recover(mg, &shown, &exact) {
            attacked += 1;
            assert!(
                recovered >= MIN as i64,
                "{:?}: total − shown = {recovered} bounds withheld cells below 5 (true {target})",
                mg.total
            );
        }
    }
    println!(
        "de-berlin (by year {by_year}): {} withheld, {would_leak} totals withheld because they gave a cell away, {attacked} margins with a shown total attacked",
        withheld.len()
    );
    would_leak
}

/// The attack on the noisy site's table, one margin per shown total: the margins tried, the
/// exact hits, and the largest chance of a hit per margin (`1 − q`).
fn attack_noisy(m: &Value, by_year: bool) -> (u32, u32, f64) {
    let noisy = truth("de-frankfurt", by_year);
    let (shown, d) = released(m, "de-frankfurt");
    let q = (-d["epsilon"].as_f64().unwrap() / d["sensitivity"].as_f64().unwrap()).exp();
    let mut seen = BTreeSet::new();
    let (mut tries, mut hits) = (0u32, 0u32);
    for mg in margins(&shown) {
        if seen.contains(&mg.total) {
            continue;
        }
        if let Some((recovered, target)) = recover(&mg, &shown, &noisy) {
            seen.insert(mg.total.clone());
            tries += 1;
            hits += u32::from(recovered == target as i64);
        }
    }
    (tries, hits, 1.0 - q)
}
