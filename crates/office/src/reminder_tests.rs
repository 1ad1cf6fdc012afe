use super::*;
use crate::agreement::{Party, Renewal};
use crate::event::tests::symposium;
use crate::governance::{BodyRole, Membership};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The MoU's dates: decision due 2028-10-16, notice deadline 2029-01-14.
fn mou() -> Agreement {
    Agreement {
        id: "mou-2026".into(),
        title: "MoU NUM–JIHS".into(),
        parties: ["NUM", "JIHS"]
            .map(|p| Party {
                short: p.into(),
                name: p.into(),
                country: if p == "NUM" { "DE" } else { "JP" }.into(),
            })
            .to_vec(),
        signatories: vec![],
        signed: d("2026-04-15"),
        term_start: d("2026-04-15"),
        term_end: d("2029-04-14"),
        renewal: Renewal::MutualAgreement,
        extension_months: 36,
        notice_days: 90,
        decision_lead_days: 90,
    }
}

fn steering() -> Body {
    Body {
        id: "steering".into(),
        name: "Steering committee".into(),
        kind: BodyKind::SteeringCommittee,
        theme: None,
        members: vec![
            Membership {
                person: "ken".into(),
                role: BodyRole::Chair,
                from: d("2026-04-15"),
                until: None,
            },
            Membership {
                person: "old".into(),
                role: BodyRole::Member,
                from: d("2026-04-15"),
                until: Some(d("2027-04-14")),
            },
        ],
    }
}

fn keys(r: &[Reminder]) -> Vec<(String, String)> {
    r.iter().map(|r| (r.key.clone(), r.to.clone())).collect()
}

fn renewal_keys(day: &str) -> Vec<(String, String)> {
    let r = due(d(day), &[mou()], &[steering()], &[], &["office".into()]);
    keys(&r)
}

#[test]
fn the_renewal_reminds_the_steering_committee_and_the_office_once_per_window() {
    // 91 days ahead: no window yet
    assert!(renewal_keys("2028-07-17").is_empty());
    // 90 days ahead and every day until 31: the same 90-day window
    let first = renewal_keys("2028-07-18");
    assert_eq!(
        first,
        vec![
            ("renewal:mou-2026:2028-10-16:due-90".into(), "ken".into()),
            ("renewal:mou-2026:2028-10-16:due-90".into(), "office".into()),
        ],
        "a member whose term ended ('old') hears nothing"
    );
    assert_eq!(renewal_keys("2028-09-15"), first);
    assert_eq!(
        renewal_keys("2028-09-16")[0].0,
        "renewal:mou-2026:2028-10-16:due-30"
    );
    assert_eq!(
        renewal_keys("2028-10-09")[0].0,
        "renewal:mou-2026:2028-10-16:due-7"
    );
    assert_eq!(
        renewal_keys("2028-10-16")[0].0,
        "renewal:mou-2026:2028-10-16:due-0"
    );
    // past the due day, before the notice deadline: one overdue window
    assert_eq!(
        renewal_keys("2028-10-17")[0].0,
        "renewal:mou-2026:2028-10-16:overdue"
    );
    assert_eq!(
        renewal_keys("2029-01-14")[0].0,
        "renewal:mou-2026:2028-10-16:overdue"
    );
    // past the notice deadline, or ended: nothing
    assert!(renewal_keys("2029-01-15").is_empty());
    assert!(renewal_keys("2029-05-01").is_empty());
}

#[test]
fn open_actions_remind_their_owner_before_and_after_the_due_day() {
    let e = symposium(); // one open action, owner ana, due 2026-06-30
    let at = |day: &str| keys(&due(d(day), &[], &[], std::slice::from_ref(&e), &[]));
    assert!(at("2026-06-22").is_empty());
    assert_eq!(
        at("2026-06-23"),
        vec![(
            "action:symposium-2026:0:2026-06-30:due-7".into(),
            "ana".into()
        )]
    );
    assert_eq!(
        at("2026-06-29")[0].0,
        "action:symposium-2026:0:2026-06-30:due-1"
    );
    assert_eq!(
        at("2026-06-30")[0].0,
        "action:symposium-2026:0:2026-06-30:due-0"
    );
    assert_eq!(
        at("2026-07-01")[0].0,
        "action:symposium-2026:0:2026-06-30:overdue"
    );
    assert_eq!(
        at("2027-01-01")[0].0,
        "action:symposium-2026:0:2026-06-30:overdue"
    );
    // done or dropped: nothing
    let mut done = e.clone();
    done.actions[0].status = ActionStatus::Done;
    assert!(due(d("2026-06-30"), &[], &[], &[done], &[]).is_empty());
    // a new due date is a new reminder
    let mut moved = e.clone();
    moved.actions[0].due = d("2026-07-31");
    assert_eq!(
        keys(&due(d("2026-07-30"), &[], &[], &[moved], &[]))[0].0,
        "action:symposium-2026:0:2026-07-31:due-1"
    );
}

#[test]
fn participants_hear_of_an_event_the_day_before_and_again_when_it_moves() {
    let mut e = symposium(); // 2026-04-15, ana and ken
    e.actions.clear();
    let r = due(d("2026-04-14"), &[], &[], std::slice::from_ref(&e), &[]);
    assert_eq!(
        keys(&r),
        vec![
            ("event:symposium-2026:0:eve".into(), "ana".into()),
            ("event:symposium-2026:0:eve".into(), "ken".into()),
        ]
    );
    assert!(matches!(&r[0].about, About::Event { tz, berlin, tokyo, .. }
        if tz == "Europe/Berlin" && berlin == "2026-04-15 09:00 CEST" && tokyo == "2026-04-15 16:00 JST"));
    assert_eq!(r[0].about.topic(), "event");
    assert!(due(d("2026-04-13"), &[], &[], std::slice::from_ref(&e), &[]).is_empty());
    assert!(due(d("2026-04-15"), &[], &[], std::slice::from_ref(&e), &[]).is_empty());
    e.sequence = 1;
    assert_eq!(
        due(d("2026-04-14"), &[], &[], &[e], &[])[0].key,
        "event:symposium-2026:1:eve"
    );
}
