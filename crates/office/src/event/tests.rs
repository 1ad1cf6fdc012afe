use super::*;

pub(crate) fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

/// The first bilateral symposium, Berlin, 15 April 2026.
pub(crate) fn symposium() -> Event {
    Event {
        id: "symposium-2026".into(),
        title: "First bilateral JIHS–NUM symposium".into(),
        kind: EventKind::Conference,
        body: None,
        tz: "Europe/Berlin".into(),
        start: at("2026-04-15 09:00"),
        end: at("2026-04-15 17:30"),
        location: "Berlin".into(),
        agenda: vec!["Welcome".into(), "Signing of the MoU".into()],
        participants: vec![
            Participant {
                person: "ana".into(),
                presence: Presence::InPerson,
            },
            Participant {
                person: "ken".into(),
                presence: Presence::Remote,
            },
        ],
        minutes: Some("The MoU was signed.".into()),
        actions: vec![Action {
            text: "Set up the working groups".into(),
            owner: "ana".into(),
            due: "2026-06-30".parse().unwrap(),
            status: ActionStatus::Open,
        }],
        sequence: 0,
    }
}

#[test]
fn times_show_in_berlin_and_tokyo() {
    let e = symposium();
    let s = e.validate().unwrap();
    assert_eq!(s.start.to_rfc3339(), "2026-04-15T07:00:00+00:00");
    let (b, _) = e.shown_in(chrono_tz::Europe::Berlin);
    let (t, _) = e.shown_in(chrono_tz::Asia::Tokyo);
    assert_eq!(b.format("%H:%M %Z").to_string(), "09:00 CEST");
    assert_eq!(t.format("%H:%M %Z").to_string(), "16:00 JST");
}

#[test]
fn bad_events_name_the_field() {
    let mut e = symposium();
    e.end = at("2026-04-15 08:00");
    assert_eq!(
        e.validate().unwrap_err().to_string(),
        "end: ends (2026-04-15 08:00:00) before it starts (2026-04-15 09:00:00)"
    );
    let mut e = symposium();
    e.actions[0].owner = " ".into();
    assert_eq!(
        e.validate().unwrap_err().to_string(),
        "actions[0].owner: an action needs an owner"
    );
    let mut e = symposium();
    e.tz = "Mars/Olympus".into();
    assert!(e.validate().unwrap_err().to_string().starts_with("tz:"));
    let mut e = symposium();
    e.start = at("2026-03-29 02:30");
    e.end = at("2026-03-29 04:00");
    assert!(
        e.validate()
            .unwrap_err()
            .to_string()
            .starts_with("start: 2026-03-29 02:30:00 does not exist in Europe/Berlin")
    );
}

#[test]
fn in_person_at_two_places_at_once_is_warned() {
    let a = symposium();
    let mut b = symposium();
    b.id = "tokyo-call".into();
    b.location = "Tokyo".into();
    b.tz = "Asia/Tokyo".into();
    // 15:00-16:00 in Tokyo is 08:00-09:00 in Berlin: no overlap with 09:00 Berlin
    b.start = at("2026-04-15 15:00");
    b.end = at("2026-04-15 16:00");
    assert!(double_bookings(&[a.clone(), b.clone()]).is_empty());
    // 16:30 Tokyo is 09:30 Berlin: overlaps, ana in person at both
    b.start = at("2026-04-15 16:30");
    b.end = at("2026-04-15 18:00");
    let w = double_bookings(&[a.clone(), b.clone()]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(matches!(&w[0], Warning::DoubleBooked { person, .. } if person == "ana"));
    // remote at one of them: no warning
    b.participants[0].presence = Presence::Remote;
    assert!(double_bookings(&[a, b]).is_empty());
}
