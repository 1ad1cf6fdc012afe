//! Data quality: the built-in checks, a study's own rules across forms and events, rules
//! refused with their name, queries opened from findings, and the dashboard's figures.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kakehashi_edc::entry::{
    Actor, DataQuery, FormData, FormStatus, QueryAction, QueryStatus, Subject, SubjectStatus,
};
use kakehashi_edc::quality::{self, Finding, QualityRule, dashboard::dashboard};
use kakehashi_edc::study::{Arm, Event, FormRights, Site};
use kakehashi_edc::{Study, StudyError, dictionary};

fn study() -> Study {
    let csv = format!(
        "{}\n{}\n",
        dictionary::COLUMNS.map(|c| format!("\"{c}\"")).join(","),
        [
            "record_id,adm,,text,Record ID,,,,,,,,,,,,,",
            "adm_date,adm,,text,Admission,,,date_ymd,,,,,y,,,,,",
            "fever,adm,,yesno,Fever,,,,,,,,y,,,,,",
            "tmax,adm,,text,Highest temperature,,,number,30,45,,[fever] = '1',y,,,,,",
            "sympt,adm,,checkbox,Symptoms,\"1, Headache | 2, Bleeding\",,,,,,,,,,,,",
            "plt,lab,,text,Platelets,,,number,0,2000,,,,,,,,",
            "alt,lab,,text,ALT,,,number,,,,,,,,,,",
            "out,outcome,,radio,Outcome,\"1, Discharged | 2, Died\",,,,,,,y,,,,,",
            "out_date,outcome,,text,Outcome date,,,date_ymd,,,,,,,,,,",
        ]
        .join("\n")
    );
    let mut s = Study::from_dictionary(
        "reg",
        "Registry",
        dictionary::read_csv("d.csv", &csv).expect("the dictionary reads"),
    );
    s.sites = vec![
        Site {
            dag: "de_berlin".into(),
            name: "Berlin".into(),
            country: "DE".into(),
        },
        Site {
            dag: "jp_tokyo".into(),
            name: "Tokyo".into(),
            country: "JP".into(),
        },
    ];
    let ev = |n: &str, forms: &[&str]| Event {
        unique_name: n.into(),
        label: n.into(),
        day_offset: 0,
        window_before: 0,
        window_after: 0,
        repeating: false,
        forms: forms.iter().map(|f| (*f).into()).collect(),
    };
    s.arms = vec![Arm {
        number: 1,
        name: "Arm 1".into(),
        events: vec![
            ev("enrol_arm_1", &["adm", "lab"]),
            ev("end_arm_1", &["outcome"]),
        ],
    }];
    s.quality_rules = vec![
        QualityRule {
            id: "outcome_before_admission".into(),
            label: "Outcome before admission".into(),
            logic:
                "[out_date] <> '' and datediff([enrol_arm_1][adm_date], [out_date], 'd', true) < 0"
                    .into(),
            field: "out_date".into(),
            realtime: true,
        },
        QualityRule {
            id: "low_platelets_no_fever".into(),
            label: "Very low platelets without fever".into(),
            logic: "[plt] <> '' and [plt] < 20 and [fever] = '0'".into(),
            field: "plt".into(),
            realtime: false,
        },
    ];
    s
}

fn form(record: &str, site: &str, event: &str, form: &str, values: &[(&str, &str)]) -> FormData {
    let mut d = FormData::new(record, site, event, form, 1);
    d.status = FormStatus::Complete;
    for (k, v) in values {
        d.values.insert((*k).into(), (*v).into());
    }
    d
}

fn now() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a date")
}

fn data() -> Vec<FormData> {
    vec![
        // r1: fever, tmax shown and empty; outcome before admission; low platelets with fever.
        form(
            "r1",
            "de_berlin",
            "enrol_arm_1",
            "adm",
            &[("adm_date", "2026-03-10"), ("fever", "1")],
        ),
        form("r1", "de_berlin", "enrol_arm_1", "lab", &[("plt", "12")]),
        form(
            "r1",
            "de_berlin",
            "end_arm_1",
            "outcome",
            &[("out", "1"), ("out_date", "2026-03-01")],
        ),
        // r2: no fever but a tmax kept (hidden with value), low platelets without fever, an
        // out-of-range value (entered before the maximum was lowered), a dropped option.
        form(
            "r2",
            "jp_tokyo",
            "enrol_arm_1",
            "adm",
            &[
                ("adm_date", "2026-04-02"),
                ("fever", "0"),
                ("tmax", "39.5"),
                ("sympt___3", "1"),
            ],
        ),
        form("r2", "jp_tokyo", "enrol_arm_1", "lab", &[("plt", "2500")]),
        form(
            "r2",
            "jp_tokyo",
            "end_arm_1",
            "outcome",
            &[("out", "2"), ("out_date", "2026-04-20")],
        ),
        // r3: a clean record.
        form(
            "r3",
            "jp_tokyo",
            "enrol_arm_1",
            "adm",
            &[("adm_date", "2026-04-05"), ("fever", "1"), ("tmax", "38.2")],
        ),
        form("r3", "jp_tokyo", "enrol_arm_1", "lab", &[("plt", "18")]),
        form(
            "r3",
            "jp_tokyo",
            "end_arm_1",
            "outcome",
            &[("out", "1"), ("out_date", "2026-04-09")],
        ),
    ]
}

fn places(f: &[Finding]) -> Vec<(String, String)> {
    f.iter()
        .map(|x| (x.record.clone(), x.field.clone()))
        .collect()
}

fn run(check: &str) -> Vec<Finding> {
    quality::run(&study(), check, &data(), now()).expect("the check exists")
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
}

#[test]
fn required_fields_are_missing_only_where_their_branching_shows_them() {
    // r1 has fever: tmax is shown and empty; r2 has none: tmax is hidden (not missing).
    assert_eq!(places(&run("missing_required")), pairs(&[("r1", "tmax")]));
}

#[test]
fn values_the_dictionary_no_longer_accepts_are_found_with_the_reason() {
    let f = run("invalid_value");
    assert_eq!(places(&f), pairs(&[("r2", "sympt___3"), ("r2", "plt")]));
    assert!(
        f[1].message.contains("above the maximum 2000"),
        "{}",
        f[1].message
    );
    assert_eq!(f[1].value, "2500");
    assert!(
        f[0].message.contains("'3' is not one of the field's codes"),
        "{}",
        f[0].message
    );
}

#[test]
fn a_value_in_a_hidden_field_is_found() {
    let f = run("hidden_with_value");
    assert_eq!(places(&f), pairs(&[("r2", "tmax")]));
    assert_eq!(f[0].value, "39.5");
}

#[test]
fn a_rule_reads_another_event_of_the_same_record() {
    let f = run("outcome_before_admission");
    assert_eq!(places(&f), pairs(&[("r1", "out_date")]));
    assert_eq!(
        (f[0].event.as_str(), f[0].form.as_str()),
        ("end_arm_1", "outcome")
    );
    assert_eq!(f[0].site, "de_berlin");
    assert_eq!(f[0].message, "Outcome before admission");
}

#[test]
fn a_rule_reads_another_form_of_the_same_event() {
    // r1 and r3 have low platelets, but with fever; r2 has none but 2500: nothing found,
    // until r2's platelets are low.
    assert!(run("low_platelets_no_fever").is_empty());
    let mut d = data();
    d[4].values.insert("plt".into(), "9".into());
    let f = quality::run(&study(), "low_platelets_no_fever", &d, now()).expect("a rule");
    assert_eq!(places(&f), pairs(&[("r2", "plt")]));
    assert_eq!(f[0].value, "9");
}

#[test]
fn an_unknown_check_is_named() {
    let e = quality::run(&study(), "nope", &data(), now()).expect_err("no such check");
    assert_eq!(e.to_string(), "the study has no data-quality check 'nope'");
}

#[test]
fn the_shipped_registries_rules_are_valid_and_find_a_reversed_outcome_date() {
    let s = kakehashi_edc::arc::vhf_study().expect("the VHF registry builds");
    s.validate("vhf")
        .expect("the registry with its rules is valid");
    assert!(
        quality::checks(&s)
            .iter()
            .any(|c| c.id == "outcome_before_admission")
    );
    let rec = |event: &str, form_name: &str, values: &[(&str, &str)]| {
        form("v1", "de_charite", event, form_name, values)
    };
    let forms = vec![
        rec(
            "initial_assessment_arm_1",
            "presentation",
            &[
                ("pres_date", "2026-05-10"),
                ("pres_onsetdate", "2026-05-12"),
            ],
        ),
        rec(
            "outcome__end_of_st_arm_1",
            "outcome",
            &[("outco_date", "2026-05-02")],
        ),
    ];
    let all = quality::run_all(&s, &forms, now());
    let ids: Vec<&str> = all
        .iter()
        .filter(|f| !quality::BUILT_IN.contains(&f.check.as_str()))
        .map(|f| f.check.as_str())
        .collect();
    assert_eq!(ids, ["outcome_before_admission", "onset_after_admission"]);
}

#[test]
fn a_broken_rule_is_refused_with_its_name() {
    let mut s = study();
    s.quality_rules.push(QualityRule {
        id: "broken".into(),
        label: "Broken".into(),
        logic: "[plt] < (3".into(),
        field: "plt".into(),
        realtime: false,
    });
    s.quality_rules.push(QualityRule {
        id: "missing_required".into(),
        label: "Shadowing a built-in".into(),
        logic: "[nosuch] = 1".into(),
        field: "nosuch".into(),
        realtime: false,
    });
    let Err(StudyError::Structure { problems, .. }) = s.validate("s.json") else {
        panic!("a study with broken rules is refused");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("quality rule 'broken': at character")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("quality rule 'missing_required': the id must")),
        "{text:?}"
    );
    assert!(
        text.iter().any(
            |t| t == "quality rule 'missing_required': field 'nosuch' is not in the dictionary"
        ),
        "{text:?}"
    );
}

fn monitor() -> Actor {
    Actor {
        user: "monitor".into(),
        full_name: "monitor".into(),
        site: String::new(),
        all_sites: true,
        open_queries: true,
        rights: FormRights {
            view: true,
            ..Default::default()
        },
    }
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0)
        .single()
        .expect("a time")
}

#[test]
fn a_query_opened_from_a_finding_carries_its_place_and_check() {
    let f = &run("outcome_before_admission")[0];
    let q = DataQuery::from_finding(&monitor(), f, None, at(2026, 11, 1)).expect("a monitor opens");
    assert_eq!(
        (
            q.record.as_str(),
            q.site.as_str(),
            q.event.as_str(),
            q.form.as_str(),
            q.field.as_str()
        ),
        ("r1", "de_berlin", "end_arm_1", "outcome", "out_date")
    );
    assert_eq!(q.check.as_deref(), Some("outcome_before_admission"));
    assert_eq!(q.thread[0].text, "Outcome before admission");
    let mut clerk = monitor();
    clerk.open_queries = false;
    assert!(DataQuery::from_finding(&clerk, f, Some("look"), at(2026, 11, 1)).is_err());
}

#[test]
fn the_dashboard_counts_enrolment_completeness_and_query_ages() {
    let s = study();
    let subject = |record: &str, site: &str, day: u32, withdrawn: bool| Subject {
        record: record.into(),
        site: site.into(),
        enrolled_at: at(2026, 3, day),
        enrolled_by: "x".into(),
        status: if withdrawn {
            SubjectStatus::Withdrawn
        } else {
            SubjectStatus::Enrolled
        },
        withdrawal: None,
    };
    // 2026-03-02 is a Monday.
    let subjects = vec![
        subject("r1", "de_berlin", 3, false),
        subject("r2", "jp_tokyo", 10, false),
        subject("r3", "jp_tokyo", 11, false),
        subject("r4", "jp_tokyo", 12, true),
        subject("r5", "de_berlin", 16, false),
    ];
    let mut forms = data();
    forms[0].status = FormStatus::Incomplete;
    forms[3].status = FormStatus::Unverified;
    forms[6].lock = Some(kakehashi_edc::entry::Lock {
        user: "pi".into(),
        at: at(2026, 4, 6),
    });
    let m = monitor();
    let mut qs = Vec::new();
    for (i, (f, opened)) in run("invalid_value")
        .iter()
        .chain(run("missing_required").iter())
        .zip([at(2026, 11, 29), at(2026, 11, 10), at(2026, 9, 1)])
        .enumerate()
    {
        let mut q = DataQuery::from_finding(&m, f, None, opened).expect("opened");
        if i == 1 {
            q.status = QueryStatus::Answered;
        }
        qs.push(q);
    }
    let mut closed =
        DataQuery::from_finding(&m, &run("hidden_with_value")[0], None, at(2026, 10, 1))
            .expect("opened");
    closed
        .act(&m, QueryAction::Close, "fine", at(2026, 10, 2))
        .expect("closed");
    qs.push(closed);
    let d = dashboard(
        &s,
        &subjects,
        &forms,
        &qs,
        NaiveDate::from_ymd_opt(2026, 3, 20).expect("a day"),
    );
    let mondays: Vec<String> = d.weeks.iter().map(ToString::to_string).collect();
    assert_eq!(mondays, ["2026-03-02", "2026-03-09", "2026-03-16"]);
    let e: Vec<(&str, &[u32], u32, u32)> = d
        .enrolment
        .iter()
        .map(|e| {
            (
                e.site.as_str(),
                e.cumulative.as_slice(),
                e.total,
                e.withdrawn,
            )
        })
        .collect();
    assert_eq!(
        e,
        [
            ("de_berlin", &[1, 1, 2][..], 2, 0),
            ("jp_tokyo", &[0, 3, 3][..], 3, 1)
        ]
    );
    // Four taking part (r4 withdrawn); r5 has nothing saved.
    let adm = &d.completeness[0];
    assert_eq!(adm.form, "adm");
    assert_eq!(
        (
            adm.expected,
            adm.not_started,
            adm.incomplete,
            adm.unverified,
            adm.complete,
            adm.locked
        ),
        (4, 1, 1, 1, 1, 1)
    );
    // adm's shown fields (the record id field aside): r1 adm_date fever tmax sympt (tmax and
    // sympt empty),
    // r2 adm_date fever sympt (tmax hidden; sympt's only ticked code is not an option),
    // r3 adm_date fever tmax sympt (sympt empty): filled 2 + 2 + 3 = 7 of 11.
    let filled = adm.filled.expect("saved forms");
    assert!((filled - 7.0 / 11.0).abs() < 1e-12, "{filled}");
    let out = &d.completeness[2];
    assert_eq!((out.expected, out.not_started, out.complete), (4, 1, 3));
    // Pending queries are aged from their opening to the dashboard's day.
    let d = dashboard(
        &s,
        &subjects,
        &forms,
        &qs,
        NaiveDate::from_ymd_opt(2026, 12, 1).expect("a day"),
    );
    let ages: Vec<(&str, [u32; 4], [u32; 4])> = d
        .queries
        .iter()
        .map(|q| (q.site.as_str(), q.open, q.answered))
        .collect();
    // jp_tokyo: sympt___3 opened 11-29 (2 days, open), plt opened 11-10 (21 days, answered);
    // de_berlin: tmax opened 09-01 (91 days, open); the closed one is only counted as closed.
    assert_eq!(
        ages,
        [
            ("de_berlin", [0, 0, 0, 1], [0; 4]),
            ("jp_tokyo", [1, 0, 0, 0], [0, 0, 1, 0])
        ]
    );
    assert_eq!(d.closed, 1);
}

#[test]
fn new_fields_drop_the_rules_that_cannot_run() {
    let s = study();
    let fields: Vec<_> = s
        .fields
        .iter()
        .filter(|f| f.variable != "fever")
        .cloned()
        .collect();
    let s = s.with_fields(fields);
    let ids: Vec<&str> = s.quality_rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["outcome_before_admission"],
        "the rule reading [fever] is dropped"
    );
}

#[test]
fn enrolment_counts_by_the_studys_enrolment_date_field_when_entered() {
    let mut s = study();
    s.enrolment_date = Some("adm_date".into());
    s.validate("s.json").expect("a date field");
    let subject = |record: &str, site: &str| Subject {
        record: record.into(),
        site: site.into(),
        enrolled_at: at(2026, 5, 1),
        enrolled_by: "x".into(),
        status: SubjectStatus::Enrolled,
        withdrawal: None,
    };
    // r1 admitted 2026-03-10, r2 2026-04-02; r4 has no form: counted from 2026-05-01
    let subjects = [
        subject("r1", "de_berlin"),
        subject("r2", "jp_tokyo"),
        subject("r4", "jp_tokyo"),
    ];
    let d = dashboard(
        &s,
        &subjects,
        &data(),
        &[],
        NaiveDate::from_ymd_opt(2026, 5, 3).expect("a day"),
    );
    assert_eq!(
        d.weeks.first().map(ToString::to_string).as_deref(),
        Some("2026-03-09")
    );
    let at_week = |site: &str, monday: &str| {
        let i = d
            .weeks
            .iter()
            .position(|w| w.to_string() == monday)
            .expect("the week");
        d.enrolment
            .iter()
            .find(|e| e.site == site)
            .expect("the site")
            .cumulative[i]
    };
    assert_eq!(at_week("de_berlin", "2026-03-09"), 1);
    assert_eq!(at_week("jp_tokyo", "2026-03-30"), 1);
    assert_eq!(at_week("jp_tokyo", "2026-04-27"), 2);
    s.enrolment_date = Some("fever".into());
    let Err(StudyError::Structure { problems, .. }) = s.validate("s.json") else {
        panic!("a yes/no field is no date");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.to_string()
                == "enrolment_date: 'fever' is not a date field of the dictionary")
    );
}
