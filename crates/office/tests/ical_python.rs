//! The calendar feed read by another implementation: Python's `icalendar` package parses the
//! feed, and each event's start and end, converted to UTC by it (from the feed's own
//! VTIMEZONE, not the zone looked up by name, or the UTC time), must be the instant chrono-tz gives, for weekly meetings across both of
//! Berlin's clock changes in 2026, a Tokyo meeting and one in a zone written as UTC. Skipped
//! (printed as SKIPPED) when python3 or the package is missing; `.ci/run` installs it.

use chrono::{NaiveDateTime, TimeZone, Utc};
use kakehashi_office::event::{Event, EventKind};
use kakehashi_office::ical;
use std::process::Command;

const READER: &str = r#"
import sys, datetime
from icalendar import Calendar
cal = Calendar.from_ical(open(sys.argv[1], 'rb').read())
# the zones as the feed's VTIMEZONE blocks define them, not looked up by name
zones = {str(z['tzid']): z.to_tz(lookup_tzid=False) for z in cal.walk('VTIMEZONE')}
def instant(ev, name):
    t = ev.decoded(name)
    tzid = ev[name].params.get('TZID')
    if tzid is not None:
        t = t.replace(tzinfo=None)
        t = zones[tzid].localize(t) if hasattr(zones[tzid], 'localize') else t.replace(tzinfo=zones[tzid])
    return t.astimezone(datetime.timezone.utc)
for ev in cal.walk('VEVENT'):
    s = instant(ev, 'dtstart')
    e = instant(ev, 'dtend')
    print(str(ev['uid']), int(ev['sequence']), s.strftime('%Y-%m-%dT%H:%M:%SZ'), e.strftime('%Y-%m-%dT%H:%M:%SZ'), str(ev['summary']), sep='|')
"#;

fn python_icalendar() -> bool {
    Command::new("python3")
        .args(["-c", "import icalendar"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A meeting from `start` to `end`, local times in `tz` (`YYYY-MM-DD hh:mm`; an end of
/// `hh:mm` is on the start's day).
fn meeting(id: &str, tz: &str, start: &str, end: &str, sequence: u32) -> Event {
    let end = if end.len() == 5 {
        format!("{} {end}", &start[..10])
    } else {
        end.to_owned()
    };
    let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    Event {
        id: id.into(),
        title: format!("Steering committee, {id}; agenda, minutes"),
        kind: EventKind::Meeting,
        body: Some("steering".into()),
        tz: tz.into(),
        start: t(start),
        end: t(&end),
        location: "online".into(),
        agenda: vec!["Renewal of the MoU".into(), "議題: 薬剤耐性".into()],
        participants: vec![],
        minutes: None,
        actions: vec![],
        sequence,
    }
}

#[test]
fn python_icalendar_reads_the_same_instants_across_berlins_clock_changes() {
    if !python_icalendar() {
        println!(
            "SKIPPED: python3 with the icalendar package is not installed (pip install icalendar)"
        );
        return;
    }
    let events = vec![
        // the Thursday before and after summer time begins (29 March 2026) and ends (25 October)
        meeting("m-0326", "Europe/Berlin", "2026-03-26 09:00", "10:30", 0),
        meeting("m-0402", "Europe/Berlin", "2026-04-02 09:00", "10:30", 2),
        meeting("m-1022", "Europe/Berlin", "2026-10-22 09:00", "10:30", 0),
        meeting("m-1029", "Europe/Berlin", "2026-10-29 09:00", "10:30", 0),
        // the night of the change itself, across it: 01:30 CET to 03:30 CEST is one hour
        meeting("m-0329", "Europe/Berlin", "2026-03-29 01:30", "03:30", 0),
        // 02:30 on 25 October happens twice: taken the first time (CEST)
        meeting("m-1025", "Europe/Berlin", "2026-10-25 02:30", "03:30", 0),
        meeting("t-0402", "Asia/Tokyo", "2026-04-02 17:00", "18:00", 1),
        meeting(
            "ny-0402",
            "America/New_York",
            "2026-04-02 08:00",
            "09:00",
            0,
        ),
    ];
    let mut expected = Vec::new();
    for e in &events {
        let span = e.validate().unwrap();
        expected.push(format!(
            "{}@{}|{}|{}|{}|{}",
            e.id,
            ical::UID_DOMAIN,
            e.sequence,
            span.start.format("%Y-%m-%dT%H:%M:%SZ"),
            span.end.format("%Y-%m-%dT%H:%M:%SZ"),
            e.title
        ));
    }
    // what the expectations are, independently of chrono-tz's reading in `validate`
    assert!(expected[0].contains("|2026-03-26T08:00:00Z|"));
    assert!(expected[1].contains("|2026-04-02T07:00:00Z|"));
    assert!(expected[2].contains("|2026-10-22T07:00:00Z|"));
    assert!(expected[3].contains("|2026-10-29T08:00:00Z|"));
    assert!(expected[4].contains("|2026-03-29T00:30:00Z|2026-03-29T01:30:00Z|"));
    assert!(expected[5].contains("|2026-10-25T00:30:00Z|2026-10-25T02:30:00Z|"));
    assert!(expected[6].contains("|2026-04-02T08:00:00Z|"));
    assert!(expected[7].contains("|2026-04-02T12:00:00Z|"));
    let stamp = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let feed = ical::calendar("Steering committee", &events, stamp);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, &feed).unwrap();
    let out = Command::new("python3")
        .args(["-c", READER])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}\n{feed}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, expected, "{feed}");
}
