//! The logic evaluator on hand-picked records with the results REDCap documents (branching
//! examples of REDCap's "Branching Logic" help, calculated-field rules, `datediff` units),
//! the semantics chosen for blanks, and property tests on generated records.

use chrono::NaiveDate;
use kakehashi_edc::logic::{self, LogicErrorKind, Record, Value, eval, parse, shown};
use proptest::prelude::*;

fn rec(pairs: &[(&str, &str)]) -> Record {
    let mut r = Record::from_pairs(pairs.iter().copied());
    r.now = NaiveDate::from_ymd_opt(2026, 12, 7)
        .and_then(|d| d.and_hms_opt(9, 30, 0))
        .expect("date");
    r
}

fn ev(src: &str, r: &Record) -> Value {
    eval(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")), r)
}

fn show(src: &str, r: &Record) -> bool {
    shown(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")), r)
}

#[test]
fn branching_as_redcap_documents_it() {
    // REDCap help: [sex] = "0" shows the field for female (coded 0).
    let female = rec(&[
        ("sex", "0"),
        ("given_birth", "1"),
        ("height", "172"),
        ("weight", "70"),
    ]);
    assert!(show("[sex] = \"0\"", &female));
    assert!(show("[sex] = '0' and [given_birth] = '1'", &female));
    assert!(show(
        "([height] >= 170 or [weight] < 65) and [sex] = '0'",
        &female
    ));
    assert!(!show("[sex] = '1'", &female));
    assert!(show("[sex] <> '1'", &female) && show("[sex] != '1'", &female));
    // Quoted and unquoted numbers compare numerically.
    assert!(show("[height] > 171.5", &female) && show("[height] = '172.0'", &female));
    // Checkboxes: [var(code)] = '1' ticked, '0' not (never blank).
    let cb = rec(&[("sympt___1", "1"), ("sympt___2", "0")]);
    assert!(show("[sympt(1)] = '1'", &cb));
    assert!(show("[sympt(2)] = '0'", &cb) && show("[sympt(3)] = '0'", &cb));
    assert!(!show("[sympt(3)] = ''", &cb));
    // not, precedence: and binds tighter than or.
    assert!(show("not([sympt(2)] = '1')", &cb));
    assert!(show(
        "[sympt(1)] = '1' or [sympt(2)] = '1' and [sympt(3)] = '1'",
        &cb
    ));
    assert!(!show(
        "([sympt(1)] = '1' or [sympt(2)] = '1') and [sympt(3)] = '1'",
        &cb
    ));
}

#[test]
fn blanks_follow_the_documented_choices() {
    let r = rec(&[("a", ""), ("b", "5")]);
    assert!(show("[a] = ''", &r) && show("[never_saved] = \"\"", &r));
    assert!(show("[b] <> ''", &r) && !show("[a] <> ''", &r));
    // A blank never satisfies a threshold, and equals no number (not even 0).
    for op in ["<", ">", "<=", ">="] {
        assert!(!show(&format!("[a] {op} 5"), &r), "{op}");
    }
    assert!(!show("[a] = 0", &r) && show("[a] <> 0", &r));
    // A calculation with a blank operand is blank; sum/mean/min/max ignore blanks.
    assert_eq!(ev("[a] + [b]", &r), Value::Blank);
    assert_eq!(ev("sum([a], [b], 2)", &r), Value::Num(7.0));
    assert_eq!(ev("mean([a], [b], 3)", &r), Value::Num(4.0));
    assert_eq!(ev("max([a], [b], 3)", &r), Value::Num(5.0));
    assert_eq!(ev("sum([a])", &r), Value::Blank);
    // Division by zero: blank, not infinity.
    assert_eq!(ev("[b] / 0", &r), Value::Blank);
    // if() evaluates only its branch.
    assert_eq!(
        ev("if([a] = '', 'none', [a] + 1)", &r),
        Value::Text("none".into())
    );
}

#[test]
fn arithmetic_rounding_and_functions() {
    let r = rec(&[("w", "70"), ("h", "172")]);
    assert_eq!(ev("round([w]/([h]/100)^2, 1)", &r), Value::Num(23.7));
    assert_eq!(ev("2^3^2", &r), Value::Num(512.0));
    assert_eq!(ev("-2^2", &r), Value::Num(-4.0));
    assert_eq!(ev("round(2.5)", &r), Value::Num(3.0));
    assert_eq!(ev("round(-2.5)", &r), Value::Num(-3.0));
    assert_eq!(ev("roundup(1.21, 1)", &r), Value::Num(1.3));
    assert_eq!(ev("rounddown(1.29, 1)", &r), Value::Num(1.2));
    assert_eq!(ev("median(3, 1, 4, 1)", &r), Value::Num(2.0));
    assert_eq!(ev("sqrt(16) + abs(-2)", &r), Value::Num(6.0));
    assert_eq!(ev("min(3, [w], 1)", &r), Value::Num(1.0));
    assert_eq!(logic::eval::format_num(23.7), "23.7");
    assert_eq!(logic::eval::format_num(3.0), "3");
}

#[test]
fn datediff_units_formats_and_today() {
    let r = rec(&[
        ("birth", "2000-03-01"),
        ("adm", "2026-03-01"),
        ("d1", "01-03-2026"),
        ("t0", "2026-03-01 08:00"),
        ("t1", "2026-03-02 10:30"),
    ]);
    assert_eq!(ev("datediff([adm], [birth], 'd')", &r), Value::Num(9496.0));
    let Value::Num(y) = ev("datediff([birth], [adm], 'y')", &r) else {
        panic!()
    };
    assert!((y - 25.999).abs() < 0.01, "{y}");
    assert_eq!(
        ev("rounddown(datediff([birth], [adm], 'y'))", &r),
        Value::Num(25.0)
    );
    // A date entered D-M-Y, with the format argument.
    assert_eq!(
        ev("datediff([d1], '2026-03-11', 'd', 'dmy')", &r),
        Value::Num(10.0)
    );
    // Signed when asked.
    assert_eq!(
        ev("datediff('2026-03-11', [adm], 'd', 'ymd', true)", &r),
        Value::Num(-10.0)
    );
    assert_eq!(ev("datediff([t0], [t1], 'h')", &r), Value::Num(26.5));
    assert_eq!(ev("datediff([t0], [t1], 'm')", &r), Value::Num(1590.0));
    assert_eq!(ev("datediff([adm], 'today', 'd')", &r), Value::Num(281.0));
    // A blank date gives a blank.
    assert_eq!(ev("datediff([nothing], 'today', 'd')", &r), Value::Blank);
    // ARC's age calculation: birth date known → days from birth to presentation.
    let arc = "if([demog_birthknow]='1', datediff([demog_birthdate], if([pres_date]='',\"today\",[pres_date]), \"d\", \"dmy\"), if([demog_age_units]='1', [demog_age]*365, if([demog_age_units]='2', round([demog_age]*365/12,0), if([demog_age_units]='3', [demog_age], ''))))";
    let known = rec(&[
        ("demog_birthknow", "1"),
        ("demog_birthdate", "2026-11-07"),
        ("pres_date", "2026-12-01"),
    ]);
    assert_eq!(ev(arc, &known), Value::Num(24.0));
    let months = rec(&[
        ("demog_birthknow", "0"),
        ("demog_age_units", "2"),
        ("demog_age", "6"),
    ]);
    assert_eq!(ev(arc, &months), Value::Num(183.0));
    let nothing = rec(&[("demog_birthknow", "0")]);
    assert_eq!(ev(arc, &nothing), Value::Blank);
}

#[test]
fn events_instances_and_smart_variables() {
    let mut r = rec(&[("baseline_arm_1:weight", "80"), ("weight", "76")]);
    r.smart.insert("event-name".into(), "day_7_arm_1".into());
    r.smart.insert("current-instance".into(), "3".into());
    assert_eq!(
        ev("[baseline_arm_1][weight] - [weight]", &r),
        Value::Num(4.0)
    );
    assert!(show("[event-name] = 'day_7_arm_1'", &r));
    assert!(show("[current-instance] > 1", &r));
    let e = parse("[baseline_arm_1][weight][2]").expect("instance");
    let v = e.vars()[0];
    assert_eq!(
        (v.event.as_deref(), v.field.as_str(), v.instance.as_deref()),
        (Some("baseline_arm_1"), "weight", Some("2"))
    );
}

/// Whether an error is of the expected kind.
type KindCheck = fn(&LogicErrorKind) -> bool;

#[test]
fn unreadable_logic_names_the_character() {
    let cases: &[(&str, usize, KindCheck)] = &[
        ("[a] = '1' and", 14, |k| {
            matches!(k, LogicErrorKind::UnexpectedEnd)
        }),
        ("[a = '1'", 1, |k| {
            matches!(k, LogicErrorKind::Unexpected('['))
                || matches!(k, LogicErrorKind::UnclosedBracket)
        }),
        ("[a] = '1", 7, |k| {
            matches!(k, LogicErrorKind::UnclosedString)
        }),
        ("([a] = 1", 1, |k| {
            matches!(k, LogicErrorKind::UnclosedParen)
        }),
        ("[a] = 1)", 8, |k| matches!(k, LogicErrorKind::Trailing)),
        ("[a] # 1", 5, |k| {
            matches!(k, LogicErrorKind::Unexpected('#'))
        }),
        ("foo([a])", 1, |k| {
            matches!(k, LogicErrorKind::UnknownFunction(_))
        }),
        ("if([a]=1, 2)", 1, |k| {
            matches!(k, LogicErrorKind::Arity { .. })
        }),
        ("[A] = 1", 1, |k| matches!(k, LogicErrorKind::BadName(_))),
        ("[a] = = 1", 7, |k| {
            matches!(k, LogicErrorKind::UnexpectedOp("="))
        }),
        ("", 1, |k| matches!(k, LogicErrorKind::Empty)),
    ];
    for (src, pos, kind) in cases {
        let e = parse(src).expect_err(src);
        assert_eq!(e.position, *pos, "{src}: {e}");
        assert!(kind(&e.kind), "{src}: {e}");
    }
}

proptest! {
    /// `not` negates, comparisons are complementary, and `a or b` is `not(not a and not b)`,
    /// on generated values (blank, numbers, text).
    #[test]
    fn boolean_laws_hold_on_generated_records(
        a in prop_oneof![Just(String::new()), (-50i32..50).prop_map(|n| n.to_string()), "[a-c]{1,3}"],
        b in prop_oneof![Just(String::new()), (-50i32..50).prop_map(|n| n.to_string()), "[a-c]{1,3}"],
    ) {
        let r = rec(&[("a", &a), ("b", &b)]);
        prop_assert_eq!(show("[a] = [b]", &r), !show("[a] <> [b]", &r));
        prop_assert_eq!(show("[a] = [b]", &r), show("[b] = [a]", &r));
        prop_assert_eq!(show("not([a] < [b])", &r), !show("[a] < [b]", &r));
        prop_assert_eq!(
            show("[a] > 0 or [b] > 0", &r),
            show("not(not([a] > 0) and not([b] > 0))", &r)
        );
        if !a.is_empty() && !b.is_empty() {
            // Without blanks, exactly one of < = > holds.
            let n = [show("[a] < [b]", &r), show("[a] = [b]", &r), show("[a] > [b]", &r)].iter().filter(|x| **x).count();
            prop_assert_eq!(n, 1);
        } else {
            prop_assert!(!show("[a] < [b]", &r) && !show("[a] > [b]", &r));
        }
    }

    /// Arithmetic on numbers matches f64; a blank operand makes any arithmetic blank.
    #[test]
    fn arithmetic_matches_f64_and_blanks_propagate(x in -1000i32..1000, y in 1i32..1000) {
        let r = rec(&[("x", &x.to_string()), ("y", &y.to_string()), ("z", "")]);
        prop_assert_eq!(ev("[x] + [y] * 2", &r), Value::Num(f64::from(x) + f64::from(y) * 2.0));
        prop_assert_eq!(ev("[x] / [y]", &r), Value::Num(f64::from(x) / f64::from(y)));
        prop_assert_eq!(ev("[x] + [z]", &r), Value::Blank);
        prop_assert_eq!(ev("([x] - [z]) * 0", &r), Value::Blank);
        prop_assert_eq!(ev("sum([x], [z], [y])", &r), Value::Num(f64::from(x) + f64::from(y)));
    }
}
