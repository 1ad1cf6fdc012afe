//! Federated statistics through the binary over synthetic German and Japanese sites:
//! `synth` → `ingest` (each site in its own store, and both in one pooled store) →
//! `kakehashi stats`. The federated fit (each store answers as a site; only its sums are
//! added) equals the fit on the pooled store to 1e-8 for each family; the same fit equals
//! Python statsmodels on the exported dataset (when statsmodels is installed; otherwise the
//! test prints SKIPPED); every disclosure rule and bad input fails with a message per site
//! and overall, and no result.

mod common;
#[path = "stats/hub.rs"]
mod hub;
#[path = "stats/survival_hub.rs"]
mod survival_hub;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");
const PROFILES: [&str; 2] = ["de-berlin", "jp-osaka"];

fn dataset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sari-mortality.json")
}

fn kakehashi(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = kakehashi(args);
    assert!(
        out.status.success(),
        "kakehashi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// (the two site stores, the pooled store), made once per test process.
fn sites() -> &'static (Vec<PathBuf>, PathBuf) {
    static SITES: OnceLock<(Vec<PathBuf>, PathBuf)> = OnceLock::new();
    SITES.get_or_init(|| {
        let dir = common::process_dir("kakehashi-stats");
        let _ = std::fs::remove_dir_all(&dir);
        let mut stores = Vec::new();
        let mut inputs = Vec::new();
        for p in PROFILES {
            let fhir = dir.join("fhir").join(p);
            ok(&[
                "synth",
                "--profile",
                p,
                "--patients",
                "1500",
                "--out",
                fhir.to_str().unwrap(),
            ]);
            let store = dir.join(p);
            ok(&[
                "ingest",
                "--site-dir",
                store.to_str().unwrap(),
                fhir.to_str().unwrap(),
            ]);
            stores.push(store);
            inputs.push(fhir);
        }
        let pooled = dir.join("pooled");
        let mut args = vec!["ingest", "--site-dir", pooled.to_str().unwrap()];
        args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        ok(&args);
        (stores, pooled)
    })
}

fn glm_args<'a>(
    stores: &'a [PathBuf],
    formula: &'a str,
    family: &'a str,
    data: &'a Path,
) -> Vec<&'a str> {
    let mut args = vec!["stats", "glm"];
    for s in stores {
        args.extend(["--site-dir", s.to_str().unwrap()]);
    }
    args.extend([
        "--dataset",
        data.to_str().unwrap(),
        "--formula",
        formula,
        "--family",
        family,
        "--format",
        "json",
    ]);
    args
}

fn glm(stores: &[PathBuf], formula: &str, family: &str) -> Value {
    let data = dataset();
    serde_json::from_str(&ok(&glm_args(stores, formula, family, &data))).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

const MODELS: [(&str, &str); 3] = [
    ("binomial", "died ~ age_band + sex + country"),
    ("gaussian", "los ~ age_band + sex + country"),
    ("poisson", "died ~ age_band + sex + offset(log_los)"),
];

#[test]
fn federated_glm_equals_the_pooled_fit_for_each_family() {
    let (stores, pooled) = sites();
    for (family, formula) in MODELS {
        let fed = glm(stores, formula, family);
        let one = glm(std::slice::from_ref(pooled), formula, family);
        assert_eq!(fed["n"], one["n"], "{family}: rows");
        assert!(fed["n"].as_u64().unwrap() > 500, "{family}: {}", fed["n"]);
        assert_eq!(fed["sites"].as_array().unwrap().len(), 2);
        for key in ["deviance", "null_deviance", "aic"] {
            let (a, b) = (fed[key].as_f64().unwrap(), one[key].as_f64().unwrap());
            assert!(rel(a, b) < 1e-8, "{family} {key}: {a} vs {b}");
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
}

/// statsmodels' name of a term (`C(age_band, Treatment(reference='<18'))[T.80+]`) in ours.
const STATSMODELS: &str = r#"
import json, re, sys
import numpy as np, pandas as pd, statsmodels.api as sm, statsmodels.formula.api as smf
data, family, formula, refs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
df = pd.read_csv(data, dtype={"age_band": str, "sex": str, "country": str, "site": str})
lhs, rhs = formula.split("~")
offset = None
terms = []
for t in rhs.split("+"):
    t = t.strip()
    m = re.fullmatch(r"offset\((\w+)\)", t)
    if m:
        offset = m.group(1)
    elif t in refs:
        terms.append("C(%s, Treatment(reference=%r))" % (t, refs[t]))
    else:
        terms.append(t)
used = [lhs.strip()] + [t.strip() for t in rhs.split("+") if not t.strip().startswith("offset")] + ([offset] if offset else [])
df = df.dropna(subset=used)
fam = {"binomial": sm.families.Binomial(), "gaussian": sm.families.Gaussian(), "poisson": sm.families.Poisson()}[family]
model = smf.glm(lhs.strip() + " ~ " + " + ".join(terms), df, family=fam, offset=df[offset] if offset else None)
# IRLS, then Newton from there: statsmodels' IRLS gives the standard errors of the weights one
# iteration before the last (1e-8 off for a badly determined term); Newton's are at the estimate
res = model.fit(tol=1e-13, maxiter=100)
res = model.fit(method="newton", start_params=res.params, tol=1e-14, maxiter=100)
out = {}
for name in res.params.index:
    m = re.fullmatch(r"C\((\w+),.*\)\[T\.(.+)\]", name)
    ours = "(Intercept)" if name == "Intercept" else ("%s[%s]" % m.groups() if m else name)
    out[ours] = [res.params[name], res.bse[name]]
print(json.dumps({"n": int(res.nobs), "deviance": res.deviance, "null_deviance": res.null_deviance, "coefficients": out}))
"#;

#[test]
fn the_glm_equals_statsmodels_on_the_exported_dataset() {
    let have = Command::new("python3")
        .args(["-c", "import statsmodels"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("SKIPPED: python3 with statsmodels is not installed (pip install statsmodels)");
        return;
    }
    let (_, pooled) = sites();
    let csv = pooled.with_extension("csv");
    let data = dataset();
    ok(&[
        "stats",
        "dataset",
        "--site-dir",
        pooled.to_str().unwrap(),
        "--dataset",
        data.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    let header = std::fs::read_to_string(&csv).unwrap();
    assert!(
        header.starts_with("died,age_band,sex,country,age,icu,los,log_los\n"),
        "one column per variable, named as in formulas: {}",
        header.lines().next().unwrap_or_default()
    );
    let refs = r#"{"age_band": "<18", "sex": "female", "country": "DE"}"#;
    for (family, formula) in MODELS {
        let ours = glm(std::slice::from_ref(pooled), formula, family);
        let out = Command::new("python3")
            .args([
                "-c",
                STATSMODELS,
                csv.to_str().unwrap(),
                family,
                formula,
                refs,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "statsmodels: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sm: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ours["n"], sm["n"], "{family}: rows");
        for key in ["deviance", "null_deviance"] {
            let (a, b) = (ours[key].as_f64().unwrap(), sm[key].as_f64().unwrap());
            assert!(
                rel(a, b) < 1e-8,
                "{family} {key}: ours {a}, statsmodels {b}"
            );
        }
        let coefs = ours["coefficients"].as_array().unwrap();
        assert_eq!(
            coefs.len(),
            sm["coefficients"].as_object().unwrap().len(),
            "{family}: {sm}"
        );
        for c in coefs {
            let term = c["term"].as_str().unwrap();
            let want = &sm["coefficients"][term];
            assert!(want.is_array(), "{family}: statsmodels has no {term}: {sm}");
            for (i, key) in ["estimate", "std_error"].iter().enumerate() {
                let (x, y) = (c[key].as_f64().unwrap(), want[i].as_f64().unwrap());
                assert!(
                    rel(x, y) < 1e-8,
                    "{family} {term} {key}: ours {x}, statsmodels {y}"
                );
            }
        }
    }
}

/// Runs a command that must fail with exit 1 and returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = kakehashi(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "kakehashi {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "no partial result on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn refusals_and_bad_input_say_why_per_site_and_give_no_result() {
    let (stores, _) = sites();
    let data = dataset();
    let base =
        |formula: &'static str, family: &'static str| glm_args(stores, formula, family, &data);

    // too few rows at every site
    let mut args = base("died ~ age_band + sex", "binomial");
    args.extend(["--min-rows", "100000"]);
    let e = fails(&args);
    for p in PROFILES {
        assert!(
            e.contains(&format!("site {p}: refused: too few rows:")),
            "{e}"
        );
    }
    assert!(
        e.contains("error: no result: 2 of 2 sites could not answer"),
        "{e}"
    );

    // an unknown variable
    let e = fails(&base("died ~ age_band + weight", "binomial"));
    assert!(
        e.contains("site de-berlin: unknown variable \"weight\" (the dataset has: died, age_band"),
        "{e}"
    );

    // a factor with one level: the site at one store (a dataset with a site variable)
    let mut with_site: Value =
        serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
    with_site["variables"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "site", "kind": "site"}));
    let data_site = stores[0].with_extension("site.json");
    std::fs::write(&data_site, with_site.to_string()).unwrap();
    let data_s = data.to_str().unwrap();
    let one = [
        "stats",
        "glm",
        "--site-dir",
        stores[0].to_str().unwrap(),
        "--dataset",
        data_site.to_str().unwrap(),
        "--formula",
        "died ~ site",
        "--family",
        "binomial",
    ];
    let e = fails(&one);
    assert!(
        e.contains("site de-berlin: factor site has only one level (\"de-berlin\")"),
        "{e}"
    );

    // no rows at a site: a cohort no patient matches
    let mut nobody: Value = serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
    nobody["index"]["diagnosis"] = serde_json::json!(["A98"]);
    let data_nobody = stores[0].with_extension("nobody.json");
    std::fs::write(&data_nobody, nobody.to_string()).unwrap();
    let e = fails(&[
        "stats",
        "glm",
        "--site-dir",
        stores[0].to_str().unwrap(),
        "--site-dir",
        stores[1].to_str().unwrap(),
        "--dataset",
        data_nobody.to_str().unwrap(),
        "--formula",
        "died ~ age_band",
        "--family",
        "binomial",
    ]);
    for p in PROFILES {
        assert!(
            e.contains(&format!(
                "site {p}: no rows: the dataset has no rows at this site"
            )),
            "{e}"
        );
    }

    // a saturated model at a site
    let e = fails(&base("died ~ age_band * sex", "binomial"));
    assert!(e.contains("refused: saturated model"), "{e}");

    // a response outside the family
    let e = fails(&base("los ~ sex", "binomial"));
    assert!(e.contains("the binomial family needs 0 or 1"), "{e}");

    // a table cell below the minimum is refused whole
    let e = fails(&[
        "stats",
        "table",
        "--site-dir",
        stores[0].to_str().unwrap(),
        "--dataset",
        data_s,
        "--variables",
        "age_band,died",
        "--min-rows",
        "50",
    ]);
    assert!(e.contains("site de-berlin: refused: cell age_band="), "{e}");
}

#[test]
fn summaries_and_tables_pool_the_sites() {
    let (stores, pooled) = sites();
    let data = dataset();
    let d = data.to_str().unwrap();
    let s: Value = serde_json::from_str(&ok(&[
        "stats",
        "summary",
        "--site-dir",
        stores[0].to_str().unwrap(),
        "--site-dir",
        stores[1].to_str().unwrap(),
        "--dataset",
        d,
        "--variable",
        "age",
        "--by",
        "sex",
        "--format",
        "json",
    ]))
    .unwrap();
    let p: Value = serde_json::from_str(&ok(&[
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
    ]))
    .unwrap();
    let (a, b) = (&s["pooled"], &p["pooled"]);
    assert_eq!(a.as_array().unwrap().len(), 2, "{a}");
    for (x, y) in a.as_array().unwrap().iter().zip(b.as_array().unwrap()) {
        assert_eq!(x["n"], y["n"]);
        assert!(rel(x["mean"].as_f64().unwrap(), y["mean"].as_f64().unwrap()) < 1e-12);
        assert!(rel(x["sd"].as_f64().unwrap(), y["sd"].as_f64().unwrap()) < 1e-12);
    }
    let t: Value = serde_json::from_str(&ok(&[
        "stats",
        "table",
        "--site-dir",
        stores[0].to_str().unwrap(),
        "--site-dir",
        stores[1].to_str().unwrap(),
        "--dataset",
        d,
        "--variables",
        "sex,died",
        "--format",
        "json",
    ]))
    .unwrap();
    let u: Value = serde_json::from_str(&ok(&[
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
    assert!(t["chi_square"]["p_value"].as_f64().is_some(), "{t}");
    assert!(t["fisher"]["p_value"].as_f64().is_some(), "{t}");
}

const PHREG: &str = r#"
import json, sys
import numpy as np, pandas as pd
from statsmodels.duration.hazard_regression import PHReg
df = pd.read_csv(sys.argv[1], dtype={"age_band": str, "sex": str, "country": str})
df = df.dropna(subset=["los", "died", "age_band", "sex", "country"])
cols, names = [], []
for var, ref in [("age_band", "<18"), ("sex", "female"), ("country", "DE")]:
    for level in sorted(set(df[var]) - {ref}, key=lambda l: (l[0].isdigit(), l)):
        cols.append((df[var] == level).astype(float)); names.append("%s[%s]" % (var, level))
X = np.column_stack(cols)
m = PHReg(np.floor(df["los"]).astype(int), X, status=df["died"].astype(int), ties="breslow").fit(method="newton", tol=1e-14, maxiter=100)
print(json.dumps({"n": len(df), "log_likelihood": float(m.llf), "coefficients": {n: [float(b), float(s)] for n, b, s in zip(names, m.params, m.bse)}}))
"#;

fn cox(stores: &[PathBuf], breaks: &str) -> Value {
    let data = dataset();
    let mut args = vec!["stats", "cox"];
    for s in stores {
        args.extend(["--site-dir", s.to_str().unwrap()]);
    }
    args.extend([
        "--dataset",
        data.to_str().unwrap(),
        "--time",
        "los",
        "--event",
        "died",
        "--covariates",
        "age_band + sex + country",
        "--breaks",
        breaks,
        "--min-rows",
        "1",
        "--format",
        "json",
    ]);
    serde_json::from_str(&ok(&args)).unwrap()
}

#[test]
fn federated_cox_equals_the_pooled_fit_and_statsmodels_phreg() {
    let (stores, pooled) = sites();
    let days: Vec<String> = (0..=400).map(|d| d.to_string()).collect();
    let days = days.join(",");
    let fed = cox(stores, &days);
    let one = cox(std::slice::from_ref(pooled), &days);
    assert_eq!(fed["n"], one["n"]);
    assert!(fed["events"].as_u64().unwrap() > 50, "{fed}");
    assert!(
        rel(
            fed["log_likelihood"].as_f64().unwrap(),
            one["log_likelihood"].as_f64().unwrap()
        ) < 1e-10
    );
    let (fc, oc) = (
        fed["coefficients"].as_array().unwrap(),
        one["coefficients"].as_array().unwrap(),
    );
    assert_eq!(fc.len(), 6);
    for (a, b) in fc.iter().zip(oc) {
        assert_eq!(a["term"], b["term"]);
        for key in ["estimate", "std_error"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(rel(x, y) < 1e-8, "cox {} {key}: {x} vs {y}", a["term"]);
        }
    }
    // a site refuses days with fewer leavers than its minimum, named, and there is no result
    let data = dataset();
    let mut args = vec!["stats", "cox"];
    for s in stores {
        args.extend(["--site-dir", s.to_str().unwrap()]);
    }
    args.extend([
        "--dataset",
        data.to_str().unwrap(),
        "--time",
        "los",
        "--event",
        "died",
        "--covariates",
        "sex",
        "--breaks",
        &days,
        "--min-rows",
        "3",
    ]);
    let e = fails(&args);
    assert!(
        e.contains("site de-berlin: refused: interval from day")
            && e.contains("fewer than the site's minimum of 3"),
        "{e}"
    );

    let have = Command::new("python3")
        .args(["-c", "import statsmodels"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("SKIPPED: python3 with statsmodels is not installed (pip install statsmodels)");
        return;
    }
    let csv = pooled.with_extension("cox.csv");
    ok(&[
        "stats",
        "dataset",
        "--site-dir",
        pooled.to_str().unwrap(),
        "--dataset",
        data.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    let out = Command::new("python3")
        .args(["-c", PHREG, csv.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "statsmodels: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sm: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["n"], sm["n"]);
    assert!(
        rel(
            one["log_likelihood"].as_f64().unwrap(),
            sm["log_likelihood"].as_f64().unwrap()
        ) < 1e-8,
        "{sm}"
    );
    for c in oc {
        let want = &sm["coefficients"][c["term"].as_str().unwrap()];
        assert!(want.is_array(), "statsmodels has no {}: {sm}", c["term"]);
        for (i, key) in ["estimate", "std_error"].iter().enumerate() {
            let (x, y) = (c[key].as_f64().unwrap(), want[i].as_f64().unwrap());
            assert!(
                rel(x, y) < 1e-8,
                "cox {} {key}: ours {x}, statsmodels {y}",
                c["term"]
            );
        }
    }
}

#[test]
fn meta_analysis_pools_each_sites_own_fit() {
    let (stores, _) = sites();
    let data = dataset();
    let mut args = vec!["stats", "meta"];
    for s in stores {
        args.extend(["--site-dir", s.to_str().unwrap()]);
    }
    args.extend([
        "--dataset",
        data.to_str().unwrap(),
        "--formula",
        "died ~ age + sex",
        "--family",
        "binomial",
        "--term",
        "sex[male]",
        "--format",
        "json",
    ]);
    let m: Value = serde_json::from_str(&ok(&args)).unwrap();
    // each site's estimate is its own store's fit; the fixed effect is their inverse-variance mean
    let (mut sw, mut swy) = (0.0, 0.0);
    for (s, store) in m["sites"].as_array().unwrap().iter().zip(stores) {
        let own = glm(std::slice::from_ref(store), "died ~ age + sex", "binomial");
        let c = own["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["term"] == "sex[male]")
            .unwrap();
        assert_eq!(s["estimate"], c["estimate"]);
        let w = 1.0 / c["std_error"].as_f64().unwrap().powi(2);
        sw += w;
        swy += w * c["estimate"].as_f64().unwrap();
    }
    let fixed = &m["pooled"][0];
    assert_eq!(fixed["method"], "fixed");
    assert!(rel(fixed["estimate"].as_f64().unwrap(), swy / sw) < 1e-12);
    assert!(rel(fixed["std_error"].as_f64().unwrap(), 1.0 / sw.sqrt()) < 1e-12);
    assert_eq!(m["pooled"][2]["method"], "reml");
}
