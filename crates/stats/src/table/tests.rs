use super::*;

fn frame() -> Frame {
    let sex = ["f", "f", "m", "m", "m", "f", "", "m"];
    let died = [
        Some(0.0),
        Some(1.0),
        Some(0.0),
        Some(0.0),
        Some(1.0),
        Some(0.0),
        Some(1.0),
        None,
    ];
    Frame::new()
        .with(
            "sex",
            Column::Factor(
                sex.iter()
                    .map(|s| (!s.is_empty()).then(|| s.to_string()))
                    .collect(),
            ),
        )
        .and_then(|f| f.with("died", Column::Numeric(died.to_vec())))
        .unwrap()
}

fn table(variables: &[&str], levels: &[&[&str]], counts: &[u64]) -> Table {
    Table {
        variables: variables.iter().map(|s| s.to_string()).collect(),
        levels: levels
            .iter()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .collect(),
        counts: counts.to_vec(),
        missing: 0,
    }
}

#[test]
fn counts_two_ways_with_missing_left_out() {
    let t = tabulate(&frame(), &["sex", "died"], &Levels::new()).unwrap();
    assert_eq!(t.levels, [vec!["f", "m"], vec!["0", "1"]]);
    assert_eq!(t.counts, [2, 1, 2, 1]);
    assert_eq!(t.missing, 2);
    assert_eq!(t.cell_name(1), "sex=f, died=1");
    let one = tabulate(&frame(), &["sex"], &Levels::new()).unwrap();
    assert_eq!((one.counts.clone(), one.missing), (vec![3, 4], 1));
}

#[test]
fn declared_levels_and_pooling() {
    let mut given = Levels::new();
    given.insert("sex".into(), vec!["m".into(), "f".into(), "x".into()]);
    let t = tabulate(&frame(), &["sex"], &given).unwrap();
    assert_eq!(t.counts, [4, 3, 0]);
    let p = pool(&[t.clone(), t.clone()]).unwrap();
    assert_eq!((p.counts, p.missing), (vec![8, 6, 0], 2));
    let other = tabulate(&frame(), &["sex"], &Levels::new()).unwrap();
    assert_eq!(pool(&[t, other]), Err(TableError::Mismatch));
    given.insert("sex".into(), vec!["m".into()]);
    assert!(matches!(
        tabulate(&frame(), &["sex"], &given),
        Err(TableError::UnknownLevel { .. })
    ));
}

#[test]
fn the_cell_rule_refuses_the_whole_table() {
    let t = tabulate(&frame(), &["sex", "died"], &Levels::new()).unwrap();
    let e = t.check_cells(3).unwrap_err();
    assert_eq!(
        e,
        TableError::SmallCell {
            cell: "sex=f, died=0".into(),
            count: 2,
            min: 3
        }
    );
    assert!(
        e.to_string()
            .starts_with("refused: cell sex=f, died=0 has 2 rows"),
        "{e}"
    );
    assert_eq!(t.check_cells(1), Ok(()));
    // empty cells are not small cells
    assert_eq!(
        table(&["a"], &[&["x", "y"]], &[0, 5]).check_cells(3),
        Ok(())
    );
}

#[test]
fn bad_variables_are_named() {
    assert_eq!(
        tabulate(&frame(), &[], &Levels::new()),
        Err(TableError::Ways { got: 0 })
    );
    assert_eq!(
        tabulate(&frame(), &["sex"; 4], &Levels::new()),
        Err(TableError::Ways { got: 4 })
    );
    assert!(matches!(
        tabulate(&frame(), &["age"], &Levels::new()),
        Err(TableError::Frame(_))
    ));
    let f = Frame::new()
        .with("bmi", Column::Numeric(vec![Some(21.5)]))
        .unwrap();
    assert_eq!(
        tabulate(&f, &["bmi"], &Levels::new())
            .unwrap_err()
            .to_string(),
        "variable bmi is continuous (21.5 is not a whole number): tabulate a band of it"
    );
}

#[test]
fn chi_square_matches_scipy() {
    // scipy.stats.chi2_contingency([[12,15,9],[20,8,14]], correction=False)
    let t = table(
        &["a", "b"],
        &[&["1", "2"], &["x", "y", "z"]],
        &[12, 15, 9, 20, 8, 14],
    );
    let c = chi_square(&t).unwrap();
    assert!(
        (c.statistic - 4.78416149068323).abs() < 1e-12,
        "{}",
        c.statistic
    );
    assert_eq!(c.df, 2);
    assert!(
        (c.p_value - 0.091439224057531).abs() < 1e-12,
        "{}",
        c.p_value
    );
}

#[test]
fn chi_square_says_why_not() {
    let small = table(&["a", "b"], &[&["1", "2"], &["x", "y"]], &[3, 1, 1, 3]);
    assert!(matches!(
        chi_square(&small),
        Err(TestNotValid::SmallExpected {
            below_five: 4,
            cells: 4,
            ..
        })
    ));
    let empty = table(&["a", "b"], &[&["1", "2"], &["x", "y"]], &[3, 0, 1, 0]);
    assert_eq!(
        chi_square(&empty),
        Err(TestNotValid::EmptyMargin {
            level: "b=y".into()
        })
    );
    let one = table(&["a"], &[&["1", "2"]], &[3, 1]);
    assert_eq!(chi_square(&one), Err(TestNotValid::Ways { ways: 1 }));
    let wide = table(&["a", "b"], &[&["1", "2"], &["x", "y", "z"]], &[1; 6]);
    assert_eq!(fisher(&wide), Err(TestNotValid::NotTwoByTwo));
}

#[test]
fn fisher_matches_scipy() {
    let tea = fisher(&table(
        &["a", "b"],
        &[&["1", "2"], &["x", "y"]],
        &[3, 1, 1, 3],
    ))
    .unwrap();
    assert!(
        (tea.p_value - 0.48571428571428565).abs() < 1e-12,
        "{}",
        tea.p_value
    );
    assert_eq!(tea.odds_ratio, 9.0);
    let f = fisher(&table(
        &["a", "b"],
        &[&["1", "2"], &["x", "y"]],
        &[10, 2, 3, 15],
    ))
    .unwrap();
    assert!(
        (f.p_value - 0.0005367241191434357).abs() < 1e-12,
        "{}",
        f.p_value
    );
    assert_eq!(f.odds_ratio, 25.0);
}
