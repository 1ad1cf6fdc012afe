use super::*;
use crate::agreement::{Party, Renewal};
use crate::event::tests::symposium;
use crate::exchange::Session;
use crate::governance::Vote;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn mou(renewal: Renewal) -> Agreement {
    Agreement {
        id: "mou-2026".into(),
        title: "MoU NUM–JIHS".into(),
        parties: ["NUM", "JIHS"]
            .map(|p| Party {
                short: p.into(),
                name: p.into(),
                country: "DE".into(),
            })
            .to_vec(),
        signatories: vec![],
        signed: d("2026-04-15"),
        term_start: d("2026-04-15"),
        term_end: d("2029-04-14"),
        renewal,
        extension_months: 36,
        notice_days: 90,
        decision_lead_days: 90,
    }
}

fn exchange(person: &str, start: &str, end: &str, status: ExchangeStatus) -> Exchange {
    Exchange {
        id: format!("x-{person}"),
        person: person.into(),
        home: "Charité".into(),
        host: "JIHS".into(),
        start: d(start),
        end: d(end),
        purpose: "SFTS diagnostics".into(),
        theme: "SFTS".into(),
        funding: "BMBF".into(),
        status,
        report: None,
    }
}

#[test]
fn mou_years_run_from_anniversary_to_anniversary() {
    let a = mou(Renewal::None);
    assert_eq!(
        mou_year(&a, 1).unwrap(),
        MouYear {
            n: 1,
            from: d("2026-04-15"),
            to: d("2027-04-14")
        }
    );
    assert_eq!(mou_year(&a, 3).unwrap().to, d("2029-04-14"));
    assert!(
        mou_year(&a, 4).is_err(),
        "no fourth year without an extension"
    );
    assert!(mou_year(&a, 0).is_err());
    // a mutual extension of 36 months runs the years on
    assert_eq!(
        mou_year(&mou(Renewal::MutualAgreement), 4).unwrap().from,
        d("2029-04-15")
    );
    assert_eq!(year_of(&a, d("2026-12-07")), 1);
    assert_eq!(year_of(&a, d("2027-04-15")), 2);
    assert_eq!(year_of(&a, d("2020-01-01")), 1);
    assert_eq!(year_of(&a, d("2035-01-01")), 3);
}

#[test]
fn the_report_counts_what_happened_in_the_year_and_what_is_still_open() {
    let a = mou(Renewal::MutualAgreement);
    let exchanges = [
        exchange("mia", "2026-09-01", "2026-11-30", ExchangeStatus::Completed),
        // overlaps the year's end: counted in both years
        exchange("yui", "2027-03-01", "2027-06-30", ExchangeStatus::Ongoing),
        exchange("ben", "2026-10-01", "2026-10-31", ExchangeStatus::Cancelled),
        exchange("old", "2025-01-01", "2025-02-01", ExchangeStatus::Completed),
    ];
    let course = Course {
        id: "amr-course".into(),
        title: "AMR surveillance methods".into(),
        curriculum: vec!["EUCAST".into()],
        trainers: vec!["ana".into()],
        participants: vec!["mia".into(), "yui".into()],
        sessions: vec![
            Session {
                date: d("2026-11-02"),
                topic: "Breakpoints".into(),
                attended: vec!["mia".into(), "yui".into()],
            },
            Session {
                date: d("2026-11-09"),
                topic: "First isolates".into(),
                attended: vec!["mia".into()],
            },
        ],
    };
    let mut later = symposium();
    later.id = "steering-2027".into();
    later.kind = EventKind::Meeting;
    later.start = crate::event::tests::at("2027-02-01 16:00");
    later.end = crate::event::tests::at("2027-02-01 17:00");
    later.minutes = None;
    let events = [symposium(), later];
    let decisions = [Decision {
        id: "d1".into(),
        body: "steering".into(),
        date: d("2026-06-01"),
        text: "Five working groups".into(),
        vote: Vote::Counted {
            yes: 5,
            no: 1,
            abstain: 0,
        },
        documents: vec![],
    }];
    let r = activity(
        &a,
        1,
        d("2026-12-07"),
        &exchanges,
        &[course],
        &events,
        &decisions,
    )
    .unwrap();
    let people: Vec<&str> = r.exchanges.iter().map(|x| x.person.as_str()).collect();
    assert_eq!(
        people,
        ["mia", "yui"],
        "cancelled and earlier exchanges are left out"
    );
    assert_eq!(r.courses.len(), 1);
    assert_eq!(
        (
            r.courses[0].sessions,
            r.courses[0].participants,
            r.courses[0].certificates
        ),
        (2, 2, 1)
    );
    // the symposium was held; the February meeting is still to come on 7 December
    assert_eq!(r.meetings.len(), 1);
    assert_eq!(r.meetings[0].kind, "conference");
    assert!(r.meetings[0].minutes);
    assert_eq!(r.upcoming, 1);
    assert_eq!(
        meetings_by_kind(&r),
        vec![
            ("conference".into(), 1),
            ("meeting".into(), 0),
            ("visit".into(), 0)
        ]
    );
    assert_eq!(r.decisions[0].vote, "5/1/0");
    // the symposium's action (due 2026-06-30) is open and overdue, once per event
    assert_eq!(r.open_actions.len(), 2);
    assert!(r.open_actions.iter().all(|x| x.overdue));
    // year 2 sees yui's exchange and the February meeting once it is held
    let r2 = activity(&a, 2, d("2027-05-01"), &exchanges, &[], &events, &decisions).unwrap();
    assert_eq!(r2.exchanges.len(), 1);
    assert!(r2.meetings.is_empty() && r2.decisions.is_empty());
    let r1 = activity(&a, 1, d("2027-05-01"), &exchanges, &[], &events, &decisions).unwrap();
    assert_eq!((r1.meetings.len(), r1.upcoming), (2, 0));
    assert!(matches!(
        activity(&a, 9, d("2027-05-01"), &[], &[], &[], &[]),
        Err(OfficeError::Invalid { field, .. }) if field == "year"
    ));
}
