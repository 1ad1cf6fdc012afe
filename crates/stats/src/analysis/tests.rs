use super::*;
use crate::frame::Column;

fn frame(n: usize) -> Frame {
    let sex: Vec<Option<String>> = (0..n)
        .map(|i| Some(if i % 2 == 0 { "f" } else { "m" }.to_owned()))
        .collect();
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| Some(i as f64 * 1.5 + (i % 3) as f64))
        .collect();
    let y: Vec<Option<f64>> = (0..n).map(|i| Some(((i * 7) % 5) as f64)).collect();
    Frame::new()
        .with("sex", Column::Factor(sex))
        .and_then(|f| f.with("x", Column::Numeric(x)))
        .and_then(|f| f.with("y", Column::Numeric(y)))
        .unwrap()
}

fn glm(formula: &str) -> Analysis {
    Analysis::GlmRound {
        formula: formula.into(),
        family: Family::Gaussian,
        round: Round {
            iteration: 0,
            beta: vec![0.0; 3],
            null_beta: vec![0.0],
        },
    }
}

#[test]
fn analyses_name_only_declared_variables() {
    let vars = ["sex", "x", "y"];
    assert!(glm("y ~ x + sex").check(&vars).is_ok());
    let e = glm("y ~ x + age").check(&vars).unwrap_err().to_string();
    assert_eq!(
        e,
        "formula: \"age\" is not a variable of the dataset (it has sex, x, y)"
    );
    let t = Analysis::Table {
        variables: vec!["sex".into(), "x".into(), "y".into(), "sex".into()],
    };
    assert_eq!(t.check(&vars), Err(AnalysisError::Ways { got: 4 }));
}

#[test]
fn each_rule_is_named_and_a_clean_answer_passes_its_own_check() {
    let empty = frame(0);
    match answer(&empty, &Levels::new(), &glm("y ~ x + sex"), 3) {
        Err(SiteError::Refused(r)) => assert_eq!(r.rule, "no_rows"),
        other => panic!("{other:?}"),
    }
    // 6 rows, 3 coefficients: 3 > 0.33 × 6
    match answer(&frame(6), &Levels::new(), &glm("y ~ x + sex"), 3) {
        Err(SiteError::Refused(r)) => assert_eq!(r.rule, "too_many_parameters", "{r:?}"),
        other => panic!("{other:?}"),
    }
    let t = Analysis::Table {
        variables: vec!["sex".into(), "y".into()],
    };
    match answer(&frame(12), &Levels::new(), &t, 3) {
        Err(SiteError::Refused(r)) => assert_eq!(r.rule, "small_cell", "{r:?}"),
        other => panic!("{other:?}"),
    }
    let ok = answer(&frame(40), &Levels::new(), &glm("y ~ x + sex"), 3).unwrap();
    assert_eq!(ok.check(3), Ok(()));
    // the same round from 40 rows is refused by a site whose minimum is 50
    assert_eq!(ok.check(50).unwrap_err().rule, "too_few_rows");
    let s = Analysis::Summary {
        variable: "x".into(),
        by: Some("sex".into()),
    };
    let SiteAnswer::Summary { mut groups } = answer(&frame(8), &Levels::new(), &s, 5).unwrap()
    else {
        panic!()
    };
    assert!(groups.iter().all(|g| g.n == 4 && g.moments.is_none()));
    // a summary that carries a small group's mean is caught by the check
    groups[0].moments = Some(crate::summary::Moments { mean: 1.0, m2: 0.0 });
    let bad = SiteAnswer::Summary { groups };
    assert_eq!(bad.check(5).unwrap_err().rule, "small_group");
}

#[test]
fn the_model_columns_follow_the_declared_levels_without_data() {
    let wire: Vec<crate::dataset::VariableWire> = serde_json::from_str(
        r#"[{"name": "died", "kind": "in_hospital_death"},
            {"name": "sex", "kind": "sex", "levels": ["female", "male"]},
            {"name": "site", "kind": "site"},
            {"name": "age", "kind": "age_at_index"}]"#,
    )
    .unwrap();
    let spec = crate::dataset::DatasetSpec::new(Default::default(), wire).unwrap();
    let cols = model_columns(&spec, &Formula::parse("died ~ sex + age").unwrap()).unwrap();
    assert_eq!(cols, ["(Intercept)", "sex[male]", "age"]);
    // a factor without declared levels: each site would code it by what it sees
    let e = model_columns(&spec, &Formula::parse("died ~ site").unwrap()).unwrap_err();
    assert!(e.to_string().contains("factor site"), "{e}");
}

/// `n` rows: time 1..=10 days (each day n/10 times), event every other row, x.
fn survival_frame(n: usize) -> Frame {
    let time: Vec<Option<f64>> = (0..n).map(|i| Some((i % 10 + 1) as f64)).collect();
    let event: Vec<Option<f64>> = (0..n).map(|i| Some((i / 10 % 2) as f64)).collect();
    let x: Vec<Option<f64>> = (0..n).map(|i| Some((i % 7) as f64 / 7.0)).collect();
    Frame::new()
        .with("t", Column::Numeric(time))
        .and_then(|f| f.with("e", Column::Numeric(event)))
        .and_then(|f| f.with("x", Column::Numeric(x)))
        .unwrap()
}

#[test]
fn survival_and_site_fit_answers_keep_their_rules() {
    let cox = |breaks: Vec<u32>| Analysis::CoxRound {
        time: "t".into(),
        event: "e".into(),
        covariates: "x".into(),
        breaks,
        iteration: 0,
        beta: vec![0.0],
    };
    let vars = ["t", "e", "x"];
    assert_eq!(
        cox(vec![5, 5]).check(&vars),
        Err(AnalysisError::Breaks { got: 2 })
    );
    // 40 rows, 4 leavers a day: a minimum of 5 refuses daily intervals, 3 answers them
    let f = survival_frame(40);
    let days: Vec<u32> = (1..=10).collect();
    match answer(&f, &Levels::new(), &cox(days.clone()), 5) {
        Err(SiteError::Refused(r)) => assert_eq!(r.rule, "few_leavers", "{r:?}"),
        other => panic!("{other:?}"),
    }
    let a = answer(&f, &Levels::new(), &cox(days.clone()), 3).unwrap();
    let SiteAnswer::CoxRound { sums } = &a else {
        panic!("{a:?}")
    };
    // at β = 0, S0 is the number at risk at each interval's start
    assert_eq!(sums.s0[0], 40.0);
    assert_eq!(sums.s0[9], 4.0);
    assert_eq!(a.check(3), Ok(()));
    assert_eq!(a.check(41).unwrap_err().rule, "too_few_rows");
    assert_eq!(a.cells(), 1 + 1 + 10 + 10 + 10 + 10);
    // the life table suppresses at the site; a count between 1 and m − 1 is caught by the check
    let km = Analysis::LifeTable {
        time: "t".into(),
        event: "e".into(),
        breaks: vec![1, 6],
    };
    let SiteAnswer::LifeTable { mut intervals } = answer(&f, &Levels::new(), &km, 3).unwrap()
    else {
        panic!()
    };
    assert_eq!(intervals[0].at_risk, Some(40));
    intervals[1].events = Some(2);
    let bad = SiteAnswer::LifeTable { intervals };
    assert_eq!(bad.check(3).unwrap_err().rule, "small_count");
    // a site's own fit: its coefficients and standard errors, under the GLM rules
    let fit = Analysis::SiteFit {
        formula: "t ~ x".into(),
        family: Family::Gaussian,
    };
    let a = answer(&f, &Levels::new(), &fit, 3).unwrap();
    let SiteAnswer::SiteFit { fit: own } = &a else {
        panic!("{a:?}")
    };
    assert_eq!(own.terms, ["(Intercept)", "x"]);
    assert_eq!(own.n, 40);
    assert!(own.std_error.iter().all(|s| *s > 0.0));
    assert_eq!(a.check(100).unwrap_err().rule, "too_few_rows");
    match answer(&survival_frame(5), &Levels::new(), &fit, 3) {
        Err(SiteError::Refused(r)) => assert_eq!(r.rule, "too_many_parameters", "{r:?}"),
        other => panic!("{other:?}"),
    }
}
