//! Entry-time rules: value validation per type, missing-data codes, form status and required
//! fields, field history with reasons after "complete", locks and 21 CFR 11.50 e-signatures,
//! the data-query state machine with who may fire each step; and a property test: any
//! sequence of steps by any actors leaves the form/query unchanged whenever a step is refused.

use chrono::{DateTime, TimeZone, Utc};
use kakehashi_edc::dictionary::{self, COLUMNS};
use kakehashi_edc::entry::{
    Actor, DataQuery, EntryError, FormData, FormStatus, MissingCode, QueryAction, QueryError,
    QueryStatus, QueryTarget, Reauthenticated, SignatureMeaning, ValueError, validate_value,
};
use kakehashi_edc::study::FormRights;
use proptest::prelude::*;

fn fields() -> Vec<dictionary::Field> {
    let rows = [
        "record_id,enrol,,text,Record ID,,,,,,,,,,,,,",
        "onset,enrol,,text,Onset,,,date_dmy,2020-01-01,,,,y,,,,,",
        "age,enrol,,text,Age,,,integer,0,120,,,y,,,,,",
        "temp,enrol,,text,Temperature,,,number_1dp,30,45,,,,,,,,",
        "email,enrol,,text,E-mail,,,email,,,,,,,,,,",
        "sex,enrol,,radio,Sex,\"1, Male | 2, Female\",,,,,,,,,,,,",
        "pregnant,enrol,,yesno,Pregnant?,,,,,,,[sex] = '2',y,,,,,",
        "sympt,enrol,,checkbox,Symptoms,\"1, Fever | 2, Bleeding\",,,,,,,,,,,,",
        "seen,enrol,,text,Seen at,,,datetime_ymd,,,,,,,,,,",
    ];
    let csv = format!(
        "{}\n{}\n",
        COLUMNS.map(|c| format!("\"{c}\"")).join(","),
        rows.join("\n")
    );
    dictionary::read_csv("t.csv", &csv).expect("valid")
}

fn f(name: &str) -> dictionary::Field {
    fields()
        .into_iter()
        .find(|f| f.variable == name)
        .expect(name)
}

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, min, 0)
        .single()
        .expect("time")
}

fn actor(user: &str, site: &str, rights: FormRights, open_queries: bool, all_sites: bool) -> Actor {
    Actor {
        user: user.into(),
        full_name: format!("Dr. {user}"),
        site: site.into(),
        all_sites,
        open_queries,
        rights,
    }
}

fn entry_rights() -> FormRights {
    FormRights {
        view: true,
        edit: true,
        lock: false,
        resolve_queries: true,
        export: false,
        api: false,
    }
}

fn pi_rights() -> FormRights {
    FormRights {
        lock: true,
        ..entry_rights()
    }
}

fn monitor() -> Actor {
    actor(
        "mon",
        "hub",
        FormRights {
            view: true,
            ..FormRights::default()
        },
        true,
        true,
    )
}

const ALL: &[MissingCode] = &MissingCode::ALL;

#[test]
fn values_are_validated_per_type_and_range() {
    let ok = |n: &str, v: &str| validate_value(&f(n), v, ALL);
    assert_eq!(ok("onset", "31-12-2025"), Ok("2025-12-31".into()));
    assert_eq!(ok("onset", "2025-12-31"), Ok("2025-12-31".into()));
    assert!(matches!(
        ok("onset", "31/02/2025"),
        Err(ValueError::Temporal {
            expected: "DD-MM-YYYY",
            ..
        })
    ));
    assert!(matches!(
        ok("onset", "12-31-2025"),
        Err(ValueError::Temporal { .. })
    ));
    assert!(matches!(
        ok("onset", "01-01-2019"),
        Err(ValueError::BelowMin { .. })
    ));
    assert_eq!(ok("age", "42"), Ok("42".into()));
    assert_eq!(ok("age", "4.5"), Err(ValueError::NotInteger("4.5".into())));
    assert!(matches!(ok("age", "121"), Err(ValueError::AboveMax { .. })));
    assert_eq!(ok("temp", "38.5"), Ok("38.5".into()));
    assert!(matches!(
        ok("temp", "38.55"),
        Err(ValueError::Decimals { decimals: 1, .. })
    ));
    assert_eq!(ok("temp", "hot"), Err(ValueError::NotNumber("hot".into())));
    assert_eq!(ok("email", "a@b.org"), Ok("a@b.org".into()));
    assert_eq!(ok("email", "a@b"), Err(ValueError::Email("a@b".into())));
    assert_eq!(ok("sex", "3"), Err(ValueError::NotAChoice("3".into())));
    assert_eq!(ok("pregnant", "1"), Ok("1".into()));
    assert_eq!(
        ok("seen", "2026-12-07 10:05"),
        Ok("2026-12-07 10:05".into())
    );
    assert!(matches!(
        ok("seen", "2026-12-07 25:05"),
        Err(ValueError::Temporal { .. })
    ));
    // Missing-data codes pass any validation, when the study uses them.
    assert_eq!(ok("age", "UNK"), Ok("UNK".into()));
    assert_eq!(
        validate_value(&f("age"), "NASK", &[MissingCode::Unknown]),
        Err(ValueError::MissingCodeNotEnabled("NASK".into()))
    );
}

#[test]
fn saving_status_history_reason_lock_and_signature() {
    let fs = fields();
    let site_a = actor("alice", "site_a", entry_rights(), false, false);
    let pi = actor("paul", "site_a", pi_rights(), false, false);
    let other = actor("bob", "site_b", entry_rights(), false, false);
    let mut form = FormData::new("S-001", "site_a", "baseline_arm_1", "enrol", 1);
    let set = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };

    // Partial save: incomplete with required fields empty is fine.
    form.save(
        &site_a,
        &fs,
        ALL,
        &set(&[("age", "41"), ("sex", "2")]),
        FormStatus::Incomplete,
        None,
        at(1),
    )
    .expect("partial save");
    // Complete needs the shown required fields: onset and (since sex = 2) pregnant.
    let e = form
        .save(&site_a, &fs, ALL, &[], FormStatus::Complete, None, at(2))
        .expect_err("required");
    assert_eq!(
        e,
        EntryError::RequiredMissing {
            form: "enrol".into(),
            fields: vec!["onset".into(), "pregnant".into()]
        }
    );
    // Bad values are refused, each named, and nothing is saved.
    let before = form.clone();
    let e = form
        .save(
            &site_a,
            &fs,
            ALL,
            &set(&[("age", "x"), ("onset", "2026-13-01"), ("temp", "37.0")]),
            FormStatus::Incomplete,
            None,
            at(3),
        )
        .expect_err("invalid");
    let EntryError::Invalid(list) = &e else {
        panic!("{e}")
    };
    assert_eq!(
        list.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        ["age", "onset"]
    );
    assert_eq!(form, before);
    // Other site: refused.
    assert!(matches!(
        form.save(
            &other,
            &fs,
            ALL,
            &set(&[("age", "40")]),
            FormStatus::Incomplete,
            None,
            at(3)
        ),
        Err(EntryError::OtherSite { .. })
    ));
    assert!(matches!(
        form.save(
            &site_a,
            &fs,
            ALL,
            &set(&[("nope", "1")]),
            FormStatus::Incomplete,
            None,
            at(3)
        ),
        Err(EntryError::UnknownField { .. })
    ));
    assert!(matches!(
        form.save(
            &site_a,
            &fs,
            ALL,
            &set(&[("sympt___9", "1")]),
            FormStatus::Incomplete,
            None,
            at(3)
        ),
        Err(EntryError::UnknownField { .. })
    ));
    assert_eq!(form, before);
    // Complete.
    let h = form
        .save(
            &site_a,
            &fs,
            ALL,
            &set(&[
                ("onset", "01-12-2026"),
                ("pregnant", "UNK"),
                ("sympt___1", "1"),
            ]),
            FormStatus::Complete,
            None,
            at(4),
        )
        .expect("complete");
    assert_eq!(h.len(), 3);
    assert_eq!(form.status, FormStatus::Complete);
    assert_eq!(form.values["onset"], "2026-12-01");
    // After complete, a change needs a reason; the history records who, when, old → new, why.
    let before = form.clone();
    assert_eq!(
        form.save(
            &site_a,
            &fs,
            ALL,
            &set(&[("age", "42")]),
            FormStatus::Complete,
            Some("  "),
            at(5)
        ),
        Err(EntryError::ReasonRequired {
            form: "enrol".into()
        })
    );
    assert_eq!(form, before);
    form.save(
        &site_a,
        &fs,
        ALL,
        &set(&[("age", "42")]),
        FormStatus::Complete,
        Some("typo in chart transcription"),
        at(6),
    )
    .expect("with reason");
    let last = form.history.last().expect("history");
    assert_eq!(
        (
            last.user.as_str(),
            last.field.as_str(),
            last.old.as_str(),
            last.new.as_str(),
            last.reason.as_deref(),
            last.at
        ),
        (
            "alice",
            "age",
            "41",
            "42",
            Some("typo in chart transcription"),
            at(6)
        )
    );
    assert_eq!(form.history.len(), 6);
    // Saving unchanged values writes no history and needs no reason.
    assert_eq!(
        form.save(
            &site_a,
            &fs,
            ALL,
            &set(&[("age", "42")]),
            FormStatus::Complete,
            None,
            at(7)
        ),
        Ok(vec![])
    );

    // Lock: data entry may not; the PI may. A locked form takes no edit.
    assert!(matches!(
        form.lock(&site_a, at(8)),
        Err(EntryError::NoRight { right: "lock", .. })
    ));
    form.lock(&pi, at(8)).expect("lock");
    let before = form.clone();
    assert_eq!(
        form.save(
            &pi,
            &fs,
            ALL,
            &set(&[("age", "43")]),
            FormStatus::Complete,
            Some("x"),
            at(9)
        ),
        Err(EntryError::Locked {
            form: "enrol".into()
        })
    );
    // E-signature needs the password re-entered; it records name, time and meaning.
    assert_eq!(
        form.sign(&pi, None, SignatureMeaning::Approval, at(9)),
        Err(EntryError::NotReauthenticated)
    );
    assert_eq!(form, before);
    let s = form
        .sign(
            &pi,
            Some(Reauthenticated::password_verified()),
            SignatureMeaning::Approval,
            at(10),
        )
        .expect("signed");
    assert_eq!(
        (s.full_name.as_str(), s.at, s.meaning),
        ("Dr. paul", at(10), SignatureMeaning::Approval)
    );
    // Unlocking voids the signatures.
    let void = form.unlock(&pi).expect("unlock");
    assert_eq!(void.len(), 1);
    assert!(form.signatures.is_empty() && form.lock.is_none());
    assert!(matches!(
        form.sign(
            &pi,
            Some(Reauthenticated::password_verified()),
            SignatureMeaning::Review,
            at(11)
        ),
        Err(EntryError::NotLocked { .. })
    ));
}

#[test]
fn the_query_workflow_and_who_may_fire_each_step() {
    let site_a = actor("alice", "site_a", entry_rights(), false, false);
    let site_b = actor("bob", "site_b", entry_rights(), false, false);
    let reader = actor(
        "rita",
        "site_a",
        FormRights {
            view: true,
            ..FormRights::default()
        },
        false,
        false,
    );
    let target = QueryTarget {
        record: "S-001",
        site: "site_a",
        event: "baseline_arm_1",
        form: "enrol",
        instance: 1,
        field: "age",
    };
    assert!(matches!(
        DataQuery::open(&site_a, target.clone(), "age?", at(1)),
        Err(QueryError::NotAllowed {
            action: QueryAction::Open,
            ..
        })
    ));
    assert_eq!(
        DataQuery::open(&monitor(), target.clone(), " ", at(1)),
        Err(QueryError::EmptyText)
    );
    let mut q = DataQuery::open(&monitor(), target, "Age 41 but born 1990?", at(1)).expect("open");
    assert_eq!(q.status, QueryStatus::Open);
    // Only the record's site, with the resolve right, answers.
    assert!(matches!(
        q.act(&site_b, QueryAction::Answer, "ok", at(2)),
        Err(QueryError::OtherSite { .. })
    ));
    assert!(matches!(
        q.act(&reader, QueryAction::Answer, "ok", at(2)),
        Err(QueryError::NotAllowed { .. })
    ));
    assert!(matches!(
        q.act(&site_a, QueryAction::Close, "ok", at(2)),
        Err(QueryError::NotAllowed { .. })
    ));
    assert_eq!(
        q.act(&monitor(), QueryAction::Reopen, "again", at(2)),
        Err(QueryError::Transition {
            from: QueryStatus::Open,
            action: QueryAction::Reopen
        })
    );
    assert_eq!(
        q.act(
            &site_a,
            QueryAction::Answer,
            "Birth year is 1985, corrected",
            at(3)
        ),
        Ok(QueryStatus::Answered)
    );
    assert_eq!(
        q.act(&site_a, QueryAction::Answer, "again", at(3)),
        Err(QueryError::Transition {
            from: QueryStatus::Answered,
            action: QueryAction::Answer
        })
    );
    // The monitor re-opens (answer not accepted), the site answers again, the monitor closes.
    assert_eq!(
        q.act(
            &monitor(),
            QueryAction::Reopen,
            "Please attach the source",
            at(4)
        ),
        Ok(QueryStatus::Open)
    );
    assert_eq!(
        q.act(&site_a, QueryAction::Answer, "Source checked", at(5)),
        Ok(QueryStatus::Answered)
    );
    assert_eq!(
        q.act(&monitor(), QueryAction::Close, "Resolved", at(6)),
        Ok(QueryStatus::Closed)
    );
    assert_eq!(
        q.act(&site_a, QueryAction::Answer, "late", at(7)),
        Err(QueryError::Transition {
            from: QueryStatus::Closed,
            action: QueryAction::Answer
        })
    );
    assert_eq!(
        q.act(&monitor(), QueryAction::Reopen, "New information", at(8)),
        Ok(QueryStatus::Open)
    );
    assert_eq!(
        q.thread.iter().map(|m| m.action).collect::<Vec<_>>(),
        [
            QueryAction::Open,
            QueryAction::Answer,
            QueryAction::Reopen,
            QueryAction::Answer,
            QueryAction::Close,
            QueryAction::Reopen
        ]
    );
}

#[derive(Debug, Clone)]
enum Step {
    Save(usize, Vec<(String, String)>, FormStatus, Option<String>),
    Lock(usize),
    Unlock(usize),
    Sign(usize, bool),
    Query(usize, QueryAction, bool),
}

fn actors() -> Vec<Actor> {
    vec![
        actor("alice", "site_a", entry_rights(), false, false),
        actor("paul", "site_a", pi_rights(), false, false),
        actor("bob", "site_b", pi_rights(), false, false),
        actor(
            "rita",
            "site_a",
            FormRights {
                view: true,
                ..FormRights::default()
            },
            false,
            false,
        ),
        monitor(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let var = prop_oneof![
        Just("age"),
        Just("onset"),
        Just("sex"),
        Just("pregnant"),
        Just("sympt___1"),
        Just("temp"),
        Just("nope")
    ];
    let val = prop_oneof![
        Just(""),
        Just("2"),
        Just("41"),
        Just("x"),
        Just("01-12-2026"),
        Just("1"),
        Just("UNK"),
        Just("38.5")
    ];
    let status = prop_oneof![
        Just(FormStatus::Incomplete),
        Just(FormStatus::Unverified),
        Just(FormStatus::Complete)
    ];
    let action = prop_oneof![
        Just(QueryAction::Answer),
        Just(QueryAction::Close),
        Just(QueryAction::Reopen),
        Just(QueryAction::Open)
    ];
    prop_oneof![
        4 => (0..5usize, prop::collection::vec((var, val).prop_map(|(a, b)| (a.to_owned(), b.to_owned())), 0..4), status, prop::option::of(Just("reason".to_owned()))).prop_map(|(a, c, s, r)| Step::Save(a, c, s, r)),
        1 => (0..5usize).prop_map(Step::Lock),
        1 => (0..5usize).prop_map(Step::Unlock),
        1 => (0..5usize, any::<bool>()).prop_map(|(a, p)| Step::Sign(a, p)),
        2 => (0..5usize, action, any::<bool>()).prop_map(|(a, x, t)| Step::Query(a, x, t)),
    ]
}

proptest! {
    /// Whatever happens, a refused step changes nothing; an accepted one keeps the
    /// invariants: history grows by the changes, a locked form is unchanged by saves,
    /// signatures exist only on a locked form, the query thread grows by one per step.
    #[test]
    fn refused_steps_change_nothing(steps in prop::collection::vec(step(), 1..40)) {
        let fs = fields();
        let actors = actors();
        let mut form = FormData::new("S-001", "site_a", "baseline_arm_1", "enrol", 1);
        let target = QueryTarget { record: "S-001", site: "site_a", event: "baseline_arm_1", form: "enrol", instance: 1, field: "age" };
        let mut q = DataQuery::open(&monitor(), target, "check", at(0)).expect("open");
        for (i, s) in steps.into_iter().enumerate() {
            let t = at((i % 59) as u32);
            let (before_form, before_q) = (form.clone(), q.clone());
            let ok = match s {
                Step::Save(a, changes, status, reason) => {
                    let r = form.save(&actors[a], &fs, ALL, &changes, status, reason.as_deref(), t);
                    if let Ok(h) = &r {
                        prop_assert_eq!(form.history.len(), before_form.history.len() + h.len());
                        prop_assert!(before_form.lock.is_none());
                        prop_assert_eq!(form.status, status);
                    }
                    r.is_ok()
                }
                Step::Lock(a) => form.lock(&actors[a], t).is_ok(),
                Step::Unlock(a) => form.unlock(&actors[a]).is_ok(),
                Step::Sign(a, p) => form.sign(&actors[a], p.then(Reauthenticated::password_verified), SignatureMeaning::Review, t).is_ok(),
                Step::Query(a, action, text) => {
                    let r = q.act(&actors[a], action, if text { "note" } else { "" }, t);
                    if r.is_ok() {
                        prop_assert_eq!(q.thread.len(), before_q.thread.len() + 1);
                    }
                    r.is_ok()
                }
            };
            if !ok {
                prop_assert_eq!(&form, &before_form);
                prop_assert_eq!(&q, &before_q);
            }
            prop_assert!(form.signatures.is_empty() || form.lock.is_some());
            if form.status == FormStatus::Complete {
                prop_assert!(form.values.contains_key("onset") && form.values.contains_key("age"));
            }
        }
    }
}
