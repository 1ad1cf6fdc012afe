use super::*;
use crate::design::{Design, Levels};
use crate::formula::Formula;
use crate::frame::{Column, Frame};

#[path = "testdata.rs"]
mod testdata;
use testdata::*;

fn frame(rows: std::ops::Range<usize>) -> Frame {
    let num = |v: &[f64]| Column::Numeric(v[rows.clone()].iter().map(|&x| Some(x)).collect());
    let fac = |v: &[&str]| {
        Column::Factor(
            v[rows.clone()]
                .iter()
                .map(|s| Some(s.to_string()))
                .collect(),
        )
    };
    Frame::new()
        .with("grp", fac(&GRP))
        .and_then(|f| f.with("sex", fac(&SEX)))
        .and_then(|f| f.with("x", num(&X)))
        .and_then(|f| f.with("yb", num(&YB)))
        .and_then(|f| f.with("yg", num(&YG)))
        .and_then(|f| f.with("yp", num(&YP)))
        .and_then(|f| {
            f.with(
                "lexpo",
                Column::Numeric(EXPO[rows.clone()].iter().map(|&x| Some(x.ln())).collect()),
            )
        })
        .unwrap()
}

fn design(rows: std::ops::Range<usize>, formula: &str) -> Design {
    let mut levels = Levels::new();
    levels.insert("grp".into(), vec!["a".into(), "b".into(), "c".into()]);
    levels.insert("sex".into(), vec!["f".into(), "m".into()]);
    Design::build(&frame(rows), &Formula::parse(formula).unwrap(), &levels).unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        err <= rel,
        "{what}: got {got:e}, want {want:e} (relative error {err:e})"
    );
}

/// (term, estimate, std error) from statsmodels, with its term names mapped to ours.
fn check(fit: &GlmFit, want: &[(&str, f64, f64)], dev: f64, null: f64, aic: f64) {
    assert_eq!(fit.coefficients.len(), want.len());
    for (term, est, se) in want {
        let c = fit
            .coefficients
            .iter()
            .find(|c| c.term == *term)
            .unwrap_or_else(|| panic!("no term {term}"));
        close(c.estimate, *est, 1e-8, &format!("{term} estimate"));
        close(c.std_error, *se, 1e-8, &format!("{term} std error"));
        close(c.z, est / se, 1e-8, &format!("{term} z"));
        assert!(c.ci_low < c.estimate && c.estimate < c.ci_high);
        close(c.ci_high - c.estimate, 1.959963984540054 * se, 1e-12, "ci");
    }
    close(fit.deviance, dev, 1e-8, "deviance");
    close(fit.null_deviance, null, 1e-8, "null deviance");
    close(fit.aic, aic, 1e-8, "aic");
}

#[test]
fn gaussian_matches_statsmodels() {
    let fit = fit_local(
        &design(0..60, "yg ~ x + grp + sex"),
        Family::Gaussian,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap();
    check(
        &fit,
        &[
            ("(Intercept)", 8.337864825169133, 2.0809233262410647),
            ("grp[b]", 2.836967955646619, 0.9332209521451952),
            ("grp[c]", 0.29292176279865956, 0.9235202817754101),
            ("sex[m]", 1.5519592255802186, 0.7625299525412662),
            ("x", 0.30674058478164357, 0.037056832867502394),
        ],
        434.03754634127995,
        1073.2758849999998,
        // statsmodels' 298.99981281116635 does not count the variance; R's glm does (+2)
        300.99981281116635,
    );
    assert_eq!((fit.n, fit.df_residual, fit.df_null), (60, 55, 59));
    close(
        fit.log_likelihood,
        -144.49990640558318,
        1e-10,
        "log-likelihood",
    );
    assert!(
        fit.iterations <= 3,
        "least squares takes one step: {}",
        fit.iterations
    );
}

#[test]
fn binomial_matches_statsmodels() {
    let fit = fit_local(
        &design(0..60, "yb ~ x + grp + sex + x:sex"),
        Family::Binomial,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap();
    check(
        &fit,
        &[
            ("(Intercept)", -1.941348290582349, 2.830585575991939),
            ("grp[b]", 1.187450130610229, 0.7389485981343137),
            ("grp[c]", 0.18976143404531465, 0.7808638556756948),
            ("sex[m]", 1.3345262620630742, 3.2699643025392913),
            ("x", 0.006234502440051026, 0.05420984239187986),
            ("x:sex[m]", -0.009491718165218543, 0.06463657495091978),
        ],
        71.21233762950379,
        77.6935966841559,
        83.21233762950379,
    );
    close(
        fit.log_likelihood,
        -35.606168814751896,
        1e-10,
        "log-likelihood",
    );
}

#[test]
fn poisson_with_offset_matches_statsmodels() {
    let fit = fit_local(
        &design(0..60, "yp ~ x + sex + offset(lexpo)"),
        Family::Poisson,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap();
    check(
        &fit,
        &[
            ("(Intercept)", -0.9178386310575977, 0.3550002595552005),
            ("sex[m]", 0.18481826441279686, 0.13845748223677665),
            ("x", 0.011300115061150466, 0.006316933195277434),
        ],
        57.50481192170361,
        61.48951067616192,
        236.09174619066613,
    );
}

/// Runs the driver over several sites' designs, as the hub does.
fn federated(sites: &[Design], family: Family, rules: &GlmRules) -> Result<GlmFit, GlmError> {
    let mut irls = Irls::new(family, sites[0].columns.clone(), true, Settings::default());
    loop {
        let round = irls.round();
        let answers = sites
            .iter()
            .map(|d| site_round(d, family, &round, rules))
            .collect::<Result<Vec<_>, _>>()?;
        if let Progress::Done(fit) = irls.absorb(&answers)? {
            return Ok(*fit);
        }
    }
}

#[test]
fn federated_equals_pooled_for_each_family() {
    for (family, formula) in [
        (Family::Gaussian, "yg ~ x + grp + sex"),
        (Family::Binomial, "yb ~ x + grp + sex"),
        (Family::Poisson, "yp ~ x + sex + offset(lexpo)"),
    ] {
        let pooled = fit_local(
            &design(0..60, formula),
            family,
            &GlmRules::default(),
            Settings::default(),
        )
        .unwrap();
        let sites = [
            design(0..17, formula),
            design(17..40, formula),
            design(40..60, formula),
        ];
        let fed = federated(&sites, family, &GlmRules::default()).unwrap();
        assert_eq!(fed.n, 60);
        for (a, b) in fed.coefficients.iter().zip(&pooled.coefficients) {
            assert_eq!(a.term, b.term);
            close(
                a.estimate,
                b.estimate,
                1e-10,
                &format!("{family} {}", a.term),
            );
            close(
                a.std_error,
                b.std_error,
                1e-10,
                &format!("{family} {} se", a.term),
            );
        }
        close(fed.deviance, pooled.deviance, 1e-10, "deviance");
        close(
            fed.null_deviance,
            pooled.null_deviance,
            1e-10,
            "null deviance",
        );
        close(fed.aic, pooled.aic, 1e-10, "aic");
    }
}

#[test]
fn each_disclosure_rule_refuses_with_its_reason() {
    let rules = GlmRules {
        min_rows: 5,
        max_parameter_share: 0.33,
    };
    let round = |d: &Design| Round {
        iteration: 0,
        beta: vec![0.0; d.parameters()],
        null_beta: vec![0.0],
    };
    let few = design(0..4, "yg ~ x");
    let e = site_round(&few, Family::Gaussian, &round(&few), &rules).unwrap_err();
    assert_eq!(
        e,
        GlmError::Refused(GlmRefusal::TooFewRows { rows: 4, min: 5 })
    );
    assert_eq!(
        e.to_string(),
        "refused: too few rows: 4 complete cases, the site's minimum is 5"
    );

    let many = design(0..12, "yg ~ x + grp + sex");
    let e = site_round(&many, Family::Gaussian, &round(&many), &rules).unwrap_err();
    assert!(
        matches!(
            e,
            GlmError::Refused(GlmRefusal::TooManyParameters {
                parameters: 5,
                rows: 12,
                ..
            })
        ),
        "{e}"
    );

    let saturated = design(0..60, "yg ~ grp");
    let e = site_round(
        &saturated,
        Family::Gaussian,
        &round(&saturated),
        &GlmRules::default(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        GlmError::Refused(GlmRefusal::Saturated {
            patterns: 3,
            rank: 3
        })
    );
    assert!(
        e.to_string().contains("each pattern's outcome total"),
        "{e}"
    );
    // the intercept alone is a mean, not a saturated model
    let mean = design(0..60, "yg ~ 1");
    assert!(site_round(&mean, Family::Gaussian, &round(&mean), &GlmRules::default()).is_ok());

    let none = design(0..0, "yg ~ x");
    let e = site_round(&none, Family::Gaussian, &round(&none), &rules).unwrap_err();
    assert_eq!(e, GlmError::Refused(GlmRefusal::NoRows));
}

#[test]
fn a_checked_design_answers_every_round_as_site_round_does() {
    // a site keeps the checked design between the rounds of one model: each round's answer
    // must be exactly the one the unchecked path gives, and the rules must refuse as before
    let rules = GlmRules::default();
    for (family, formula) in [
        (Family::Gaussian, "yg ~ x + grp + sex"),
        (Family::Binomial, "yb ~ x + grp + sex"),
        (Family::Poisson, "yp ~ x + sex + offset(lexpo)"),
    ] {
        let d = design(0..60, formula);
        let checked = CheckedDesign::new(design(0..60, formula), family, &rules).unwrap();
        assert_eq!(checked.family(), family);
        let mut irls = Irls::new(family, d.columns.clone(), true, Settings::default());
        let mut rounds = 0;
        loop {
            let round = irls.round();
            let answer = site_round(&d, family, &round, &rules).unwrap();
            assert_eq!(
                checked.round(&round).unwrap(),
                answer,
                "{family} round {rounds}"
            );
            rounds += 1;
            if let Progress::Done(_) = irls.absorb(&[answer]).unwrap() {
                break;
            }
        }
        assert!(rounds > 1, "{family}: {rounds} rounds");
        let wrong = Round {
            iteration: 3,
            beta: vec![0.0; 2],
            null_beta: vec![0.0],
        };
        assert_eq!(
            checked.round(&wrong).unwrap_err(),
            site_round(&d, family, &wrong, &rules).unwrap_err()
        );
    }
    let refused = |d: Design, family: Family, rules: &GlmRules| {
        CheckedDesign::new(d, family, rules).unwrap_err()
    };
    let strict = GlmRules {
        min_rows: 5,
        ..rules
    };
    assert_eq!(
        refused(design(0..4, "yg ~ x"), Family::Gaussian, &strict),
        GlmError::Refused(GlmRefusal::TooFewRows { rows: 4, min: 5 })
    );
    assert_eq!(
        refused(design(0..60, "yg ~ grp"), Family::Gaussian, &rules),
        GlmError::Refused(GlmRefusal::Saturated {
            patterns: 3,
            rank: 3
        })
    );
    assert!(matches!(
        refused(design(0..60, "yg ~ x"), Family::Binomial, &rules),
        GlmError::Response { .. }
    ));
}

#[test]
fn separation_is_refused_not_fitted() {
    // every row of group "b" has the outcome 1: its coefficient runs off to infinity
    let mut f = frame(0..60);
    let grp = match f.get("grp").unwrap() {
        Column::Factor(v) => v.clone(),
        Column::Numeric(_) => unreachable!(),
    };
    let y: Vec<Option<f64>> = grp
        .iter()
        .zip(YB.iter())
        .map(|(g, &y)| Some(if g.as_deref() == Some("b") { 1.0 } else { y }))
        .collect();
    f.push("ysep", Column::Numeric(y)).unwrap();
    let d = Design::build(
        &f,
        &Formula::parse("ysep ~ x + grp").unwrap(),
        &Levels::new(),
    )
    .unwrap();
    let e = fit_local(
        &d,
        Family::Binomial,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            GlmError::Refused(GlmRefusal::Separation {
                family: Family::Binomial,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("separation"), "{e}");
}

#[test]
fn bad_models_give_a_clear_error() {
    // a response outside the family
    let d = design(0..60, "yp ~ x");
    let e = fit_local(
        &d,
        Family::Binomial,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            GlmError::Response {
                family: Family::Binomial,
                needs: "0 or 1",
                ..
            }
        ),
        "{e}"
    );
    // too few iterations allowed: not converged, no result
    let d = design(0..60, "yb ~ x + grp");
    let e = fit_local(
        &d,
        Family::Binomial,
        &GlmRules::default(),
        Settings {
            max_iterations: 2,
            tolerance: 1e-10,
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, GlmError::NotConverged { iterations: 2, .. }),
        "{e}"
    );
    // a declared level no row has
    let mut levels = Levels::new();
    levels.insert(
        "grp".into(),
        vec!["a".into(), "b".into(), "c".into(), "d".into()],
    );
    let d = Design::build(
        &frame(0..60),
        &Formula::parse("yg ~ x + grp").unwrap(),
        &levels,
    )
    .unwrap();
    let e = fit_local(
        &d,
        Family::Gaussian,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the model cannot be estimated: grp[d] have no rows"
    );
    // a column that repeats another
    let mut f = frame(0..60);
    f.push(
        "x2",
        Column::Numeric(X.iter().map(|&x| Some(2.0 * x)).collect()),
    )
    .unwrap();
    let d = Design::build(&f, &Formula::parse("yg ~ x + x2").unwrap(), &Levels::new()).unwrap();
    let e = fit_local(
        &d,
        Family::Gaussian,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the model cannot be estimated: x2 are collinear with earlier terms"
    );
}

#[test]
fn a_site_with_one_country_adds_to_the_pool() {
    // sites whose own rows have one level of a factor still answer: only the pooled model
    // needs every level
    let formula = "yg ~ x + sex";
    let sites: Vec<Design> = ["f", "m"]
        .iter()
        .map(|s| {
            let rows: Vec<usize> = (0..60).filter(|&i| SEX[i] == *s).collect();
            let mut f = Frame::new();
            f.push(
                "x",
                Column::Numeric(rows.iter().map(|&i| Some(X[i])).collect()),
            )
            .unwrap();
            f.push(
                "yg",
                Column::Numeric(rows.iter().map(|&i| Some(YG[i])).collect()),
            )
            .unwrap();
            f.push(
                "sex",
                Column::Factor(rows.iter().map(|_| Some(s.to_string())).collect()),
            )
            .unwrap();
            let mut levels = Levels::new();
            levels.insert("sex".into(), vec!["f".into(), "m".into()]);
            Design::build(&f, &Formula::parse(formula).unwrap(), &levels).unwrap()
        })
        .collect();
    let fed = federated(&sites, Family::Gaussian, &GlmRules::default()).unwrap();
    let pooled = fit_local(
        &design(0..60, formula),
        Family::Gaussian,
        &GlmRules::default(),
        Settings::default(),
    )
    .unwrap();
    for (a, b) in fed.coefficients.iter().zip(&pooled.coefficients) {
        close(a.estimate, b.estimate, 1e-10, &a.term);
    }
}
