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
