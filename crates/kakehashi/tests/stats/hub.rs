//! The same statistics through a real hub and two site agents on loopback (one agent over
//! each site store), asked with `kakehashi stats ... --hub`: each family's GLM equals the fit
//! on the pooled store to 1e-8, summaries and tables equal the pooled store's; sites that
//! refuse are named with their rule and no result is printed; every answer is in the sites'
//! audit logs. The GLM's wall time on the network is printed.

use super::{EXE, MODELS, dataset, glm, rel, sites};
use crate::common::net::Net;
use serde_json::Value;
use std::process::{Command, Output};

/// Exact statistics for p1 only; a minimum of 3 (as the local runs' default); a rate limit a
/// GLM's rounds stay under.
pub(crate) const POLICY: &str = "projects = [\"*\"]\nstatistics = [\"p1\"]\nmin_count = 3\nnoise = \"off\"\nrounding = 1\ntasks_per_minute = 1000";

pub(crate) async fn cli(net: &Net, project: &str, args: &[&str]) -> Output {
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.extend([
        "--hub".into(),
        net.url.clone(),
        "--project".into(),
        project.into(),
    ]);
    let token = net.tokens["alice"].clone();
    tokio::task::spawn_blocking(move || {
        Command::new(EXE)
            .args(&a)
            .env("KAKEHASHI_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub(crate) async fn json_ok(net: &Net, args: &[&str]) -> Value {
    let out = cli(net, "p1", args).await;
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a command that must end "incomplete" (exit 5) with nothing on stdout; its stderr.
pub(crate) async fn incomplete(net: &Net, project: &str, args: &[&str]) -> String {
    let out = cli(net, project, args).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no partial result on stdout");
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_through_the_hub_equal_the_pooled_store_and_refusals_are_named() {
    let (stores, pooled) = sites();
    let data = dataset();
    let d = data.to_str().unwrap();
    let mut net = Net::start(&[]).await;
    net.add_project("p2", &["alice"]).await;
    net.start_site_at("de-berlin", &stores[0], POLICY).await;
    net.start_site_at("jp-osaka", &stores[1], POLICY).await;
    net.wait_online(2).await;

    for (family, formula) in MODELS {
        let started = std::time::Instant::now();
        let fed = json_ok(
            &net,
            &[
                "stats",
                "glm",
                "--dataset",
                d,
                "--formula",
                formula,
                "--family",
                family,
                "--format",
                "json",
            ],
        )
        .await;
        println!(
            "GLM {family} {formula:?} on the network (hub + 2 agents on loopback): {} iterations, {:.0} ms wall time",
            fed["iterations"],
            started.elapsed().as_secs_f64() * 1000.0
        );
        let one = glm(std::slice::from_ref(pooled), formula, family);
        assert_eq!(fed["n"], one["n"], "{family}: rows");
        let per_site: Vec<&str> = fed["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["site"].as_str().unwrap())
            .collect();
        assert_eq!(per_site, ["de-berlin", "jp-osaka"]);
        for key in ["deviance", "null_deviance", "aic"] {
            let (a, b) = (fed[key].as_f64().unwrap(), one[key].as_f64().unwrap());
            assert!(rel(a, b) < 1e-8, "{family} {key}: hub {a}, pooled {b}");
        }
        let (fc, oc) = (
            fed["coefficients"].as_array().unwrap(),
            one["coefficients"].as_array().unwrap(),
        );
        assert_eq!(fc.len(), oc.len());
        for (a, b) in fc.iter().zip(oc) {
            assert_eq!(a["term"], b["term"]);
            for key in ["estimate", "std_error"] {
                let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
                assert!(rel(x, y) < 1e-8, "{family} {} {key}: {x} vs {y}", a["term"]);
            }
        }
    }

    // the README's model again: the sites keep their compiled dataset, so this is the time the
    // rounds take on the network
    let started = std::time::Instant::now();
    let again = json_ok(
        &net,
        &[
            "stats",
            "glm",
            "--dataset",
            d,
            "--formula",
            MODELS[0].1,
            "--family",
            "binomial",
            "--format",
            "json",
        ],
    )
    .await;
    println!(
        "GLM binomial again (datasets compiled): {} iterations, {:.0} ms wall time",
        again["iterations"],
        started.elapsed().as_secs_f64() * 1000.0
    );

    // a summary and a table through the hub equal the pooled store's
    let s = json_ok(
        &net,
        &[
            "stats",
            "summary",
            "--dataset",
            d,
            "--variable",
            "age",
            "--by",
            "sex",
            "--format",
            "json",
        ],
    )
    .await;
    let p = super::ok(&[
        "stats",
        "summary",
        "--site-dir",
        pooled.to_str().unwrap(),
        "--dataset",
        d,
        "--variable",
        "age",
        "--by",
        "sex",
        "--format",
        "json",
    ]);
    let p: Value = serde_json::from_str(&p).unwrap();
    let (a, b) = (
        s["pooled"].as_array().unwrap(),
        p["pooled"].as_array().unwrap(),
    );
    assert_eq!(a.len(), 2, "{s}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x["n"], y["n"]);
        assert!(rel(x["mean"].as_f64().unwrap(), y["mean"].as_f64().unwrap()) < 1e-12);
        assert!(rel(x["sd"].as_f64().unwrap(), y["sd"].as_f64().unwrap()) < 1e-12);
    }
    let t = json_ok(
        &net,
        &[
            "stats",
            "table",
            "--dataset",
            d,
            "--variables",
            "sex,died",
            "--format",
            "json",
        ],
    )
    .await;
    let u: Value = serde_json::from_str(&super::ok(&[
        "stats",
        "table",
        "--site-dir",
        pooled.to_str().unwrap(),
        "--dataset",
        d,
        "--variables",
        "sex,died",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(t["table"]["counts"], u["table"]["counts"]);

    // a saturated model: both sites refuse by that rule, no fit is printed
    let glm_args = |formula: &'static str| {
        [
            "stats",
            "glm",
            "--dataset",
            d,
            "--formula",
            formula,
            "--family",
            "binomial",
        ]
    };
    let e = incomplete(&net, "p1", &glm_args("died ~ age_band * sex")).await;
    for site in ["de-berlin", "jp-osaka"] {
        assert!(e.contains(&format!("site {site}: saturated model:")), "{e}");
    }
    assert!(
        e.contains("error: no result: 2 of 2 sites did not answer round 1"),
        "{e}"
    );
    // a project the sites do not release statistics to
    let e = incomplete(&net, "p2", &glm_args("died ~ sex")).await;
    assert!(
        e.contains("site de-berlin: this site does not release exact statistics to project p2"),
        "{e}"
    );
    // a third site with too few rows for its minimum: named, and the others' fit not shown
    net.start_site_at(
        "jp-kobe",
        &stores[1],
        &POLICY.replace("min_count = 3", "min_count = 1000000"),
    )
    .await;
    net.wait_online(3).await;
    let e = incomplete(&net, "p1", &glm_args("died ~ age_band + sex")).await;
    assert!(
        e.contains("site jp-kobe: too few rows:") && e.contains("the site's minimum is 1000000"),
        "{e}"
    );
    assert!(!e.contains("site de-berlin"), "{e}");
    assert!(e.contains("error: no result: 1 of 3 sites"), "{e}");
    // a bad question is refused by the hub before any site is asked
    let out = cli(&net, "p1", &glm_args("died ~ weight")).await;
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && e.contains("HTTP 400")
            && e.contains("\"weight\" is not a variable of the dataset"),
        "{e}"
    );

    // a researcher cannot send a GLM round with coefficients of her choosing
    let ds: Value = serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
    let r = net
        .http
        .post(format!("{}/api/tasks", net.url))
        .bearer_auth(&net.tokens["alice"])
        .json(
            &serde_json::json!({"project": "p1", "spec": {"type": "statistics", "dataset": ds,
            "analysis": {"kind": "glm_round", "formula": "died ~ sex", "family": "binomial",
                         "round": {"iteration": 0, "beta": [30.0, -30.0], "null_beta": [0.0]}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("the hub drives the rounds")
    );

    // every round's answer is in the sites' audit logs, as sent
    let log = std::fs::read_to_string(
        net.dir
            .path()
            .join("agents/de-berlin/state/audit/audit.log"),
    )
    .unwrap();
    let sent = log
        .lines()
        .filter(|l| l.contains("\"answer_sent\"") && l.contains("xtwx"))
        .count();
    assert!(sent >= 3, "GLM rounds audited at de-berlin: {sent}");
}
