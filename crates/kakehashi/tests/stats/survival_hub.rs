//! Kaplan–Meier, Cox and the study-level meta-analysis through a real hub and two site agents
//! on loopback, asked with `kakehashi stats km|cox|meta --hub`: the life table equals the local
//! run's over the same stores (suppression included), the Cox fit (Newton, one round of tasks
//! per iteration) equals the fit on the pooled store to 1e-8, the meta-analysis pools each
//! site's own fit as the local run does; a grid with too few leavers per day is refused by
//! each site with its rule, and no result is printed; the Cox rounds are in the audit logs.

use super::hub::{POLICY, incomplete, json_ok};
use super::{dataset, ok, rel, sites};
use crate::common::net::Net;
use serde_json::Value;
use std::path::PathBuf;

/// `kakehashi stats KIND --site-dir A [--site-dir B] ... --format json`, locally.
fn local(kind: &str, stores: &[PathBuf], args: &[&str]) -> Value {
    let data = dataset();
    let mut a = vec!["stats", kind];
    for s in stores {
        a.extend(["--site-dir", s.to_str().unwrap()]);
    }
    a.extend(["--dataset", data.to_str().unwrap(), "--format", "json"]);
    a.extend(args);
    serde_json::from_str(&ok(&a)).unwrap()
}

const DAYS: &str = "0,1,2,3,4,5,6,7,8,9,10,11,12,13";
const COVARIATES: &str = "age_band + sex + country";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survival_and_meta_analysis_through_the_hub_equal_the_local_and_pooled_fits() {
    let (stores, pooled) = sites();
    let data = dataset();
    let d = data.to_str().unwrap();
    let mut net = Net::start(&[]).await;
    net.start_site_at("de-berlin", &stores[0], POLICY).await;
    net.start_site_at("jp-osaka", &stores[1], POLICY).await;
    net.wait_online(2).await;

    // Kaplan–Meier: the pooled life table and each site's are the local run's, suppression
    // and withheld survival included
    let km_args = ["--time", "los", "--event", "died", "--breaks", "0,7,14"];
    let mut args = vec!["stats", "km", "--dataset", d, "--format", "json"];
    args.extend(km_args);
    let hub_km = json_ok(&net, &args).await;
    let local_km = local("km", stores, &km_args);
    assert_eq!(hub_km["pooled"], local_km["pooled"], "{hub_km}");
    assert_eq!(hub_km["sites"], local_km["sites"]);
    let first = &hub_km["pooled"][0];
    assert!(first["survival"].as_f64().unwrap() < 1.0, "{hub_km}");
    assert!(first["at_risk"].as_u64().unwrap() > 2000, "{hub_km}");
    assert!(
        hub_km["pooled"][2]["survival"].is_null(),
        "day 14 on has a suppressed count at a site: {hub_km}"
    );

    // Cox by federated Newton through the hub equals the fit on the pooled store (same grid)
    let cox_args = [
        "--time",
        "los",
        "--event",
        "died",
        "--covariates",
        COVARIATES,
        "--breaks",
        DAYS,
    ];
    let mut args = vec!["stats", "cox", "--dataset", d, "--format", "json"];
    args.extend(cox_args);
    let started = std::time::Instant::now();
    let fed = json_ok(&net, &args).await;
    println!(
        "Cox through the hub: {} iterations, {:.0} ms wall time",
        fed["iterations"],
        started.elapsed().as_secs_f64() * 1000.0
    );
    let one = local("cox", std::slice::from_ref(pooled), &cox_args);
    assert_eq!(fed["n"], one["n"]);
    assert_eq!(fed["events"], one["events"]);
    assert!(fed["events"].as_u64().unwrap() > 50, "{fed}");
    assert_eq!(fed["ties"], "breslow");
    for key in ["log_likelihood", "null_log_likelihood"] {
        let (a, b) = (fed[key].as_f64().unwrap(), one[key].as_f64().unwrap());
        assert!(rel(a, b) < 1e-10, "cox {key}: hub {a}, pooled {b}");
    }
    let (fc, oc) = (
        fed["coefficients"].as_array().unwrap(),
        one["coefficients"].as_array().unwrap(),
    );
    assert_eq!(fc.len(), 6);
    for (a, b) in fc.iter().zip(oc) {
        assert_eq!(a["term"], b["term"]);
        for key in ["estimate", "std_error", "hazard_ratio", "ci_low", "ci_high"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(
                rel(x, y) < 1e-8,
                "cox {} {key}: hub {x}, pooled {y}",
                a["term"]
            );
        }
    }
    let per_site: Vec<&str> = fed["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(per_site, ["de-berlin", "jp-osaka"]);

    // a daily grid past the last stay: days with one or two leavers are refused at each site
    // by its rule (few_leavers), and there is no fit
    let days: Vec<String> = (0..=60).map(|d| d.to_string()).collect();
    let days = days.join(",");
    let e = incomplete(
        &net,
        "p1",
        &[
            "stats",
            "cox",
            "--dataset",
            d,
            "--time",
            "los",
            "--event",
            "died",
            "--covariates",
            "sex",
            "--breaks",
            &days,
        ],
    )
    .await;
    assert!(
        e.contains("site de-berlin: interval from day")
            && e.contains("fewer than the site's minimum of 3")
            && e.contains("use wider intervals"),
        "{e}"
    );
    assert!(e.contains("error: no result:"), "{e}");
    // a Cox model without covariates is a bad question, refused before any site is asked
    let out = super::hub::cli(
        &net,
        "p1",
        &[
            "stats",
            "cox",
            "--dataset",
            d,
            "--time",
            "los",
            "--event",
            "died",
            "--covariates",
            "",
            "--breaks",
            DAYS,
        ],
    )
    .await;
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("HTTP 400") && e.contains("at least one covariate"),
        "{e}"
    );

    // the meta-analysis: each site's own fit, pooled as the local run pools them
    let meta_args = [
        "--formula",
        "died ~ age + sex",
        "--family",
        "binomial",
        "--term",
        "sex[male]",
    ];
    let mut args = vec!["stats", "meta", "--dataset", d, "--format", "json"];
    args.extend(meta_args);
    let hub_meta = json_ok(&net, &args).await;
    let local_meta = local("meta", stores, &meta_args);
    assert_eq!(hub_meta["term"], "sex[male]");
    let (hs, ls) = (
        hub_meta["sites"].as_array().unwrap(),
        local_meta["sites"].as_array().unwrap(),
    );
    assert_eq!(hs.len(), 2);
    for (a, b) in hs.iter().zip(ls) {
        assert_eq!(a["name"], b["name"]);
        for key in ["estimate", "std_error"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(
                rel(x, y) < 1e-12,
                "meta {} {key}: hub {x}, local {y}",
                a["name"]
            );
        }
    }
    let methods: Vec<&str> = hub_meta["pooled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["fixed", "der_simonian_laird", "reml"]);
    for (a, b) in hub_meta["pooled"]
        .as_array()
        .unwrap()
        .iter()
        .zip(local_meta["pooled"].as_array().unwrap())
    {
        for key in ["estimate", "std_error", "tau2"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1e-12),
                "{key}: {x} vs {y}"
            );
        }
    }

    // the hub's report names every term of the model, pooled, for the forest plot
    let ds: Value = serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
    let r: Value = net
        .http
        .post(format!("{}/api/projects/p1/stats/meta", net.url))
        .bearer_auth(&net.tokens["alice"])
        .json(&serde_json::json!({"dataset": ds, "formula": "died ~ age + sex", "family": "binomial"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["complete"], true, "{r}");
    let terms: Vec<&str> = r["result"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["(Intercept)", "age", "sex[male]"]);

    // every Cox round's sums are in the sites' audit logs, as sent
    let log = std::fs::read_to_string(net.dir.path().join("agents/jp-osaka/state/audit/audit.log"))
        .unwrap();
    let rounds = log
        .lines()
        .filter(|l| l.contains("\"answer_sent\"") && l.contains("\"s2\""))
        .count();
    assert!(
        rounds as u64 >= fed["iterations"].as_u64().unwrap(),
        "Cox rounds audited at jp-osaka: {rounds}"
    );
}
