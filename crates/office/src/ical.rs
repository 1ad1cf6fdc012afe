//! The iCalendar (RFC 5545) writer for the office's calendar feeds: one VCALENDAR with a
//! VEVENT per event. Events in Europe/Berlin or Asia/Tokyo keep their local times with a
//! `TZID` and that zone's VTIMEZONE (Berlin's by the EU summer-time rule, in force since
//! 1996; Tokyo has no summer time); events in any other zone are written in UTC. UIDs are
//! made from the event's id, so they are stable across feeds and updates; `SEQUENCE` is the
//! event's revision. Lines end in CRLF and are folded at 75 octets without splitting a
//! character; text values are escaped (`\\`, `\;`, `\,`, `\n`).

use crate::event::Event;
use chrono::{DateTime, NaiveDateTime, Utc};
use std::fmt::Write;

/// The zones written with a VTIMEZONE, and that VTIMEZONE.
const ZONES: [(&str, &str); 2] = [
    (
        "Europe/Berlin",
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    ),
    (
        "Asia/Tokyo",
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    ),
];

/// The domain part of every UID.
pub const UID_DOMAIN: &str = "office.kakehashi";

/// Escapes a TEXT value (RFC 5545 3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line is longer than 75 octets (a
/// continuation line starts with a space, which counts), never inside a UTF-8 character.
pub fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The event's description: agenda, minutes, actions.
fn description(e: &Event) -> String {
    let mut d = String::new();
    if !e.agenda.is_empty() {
        d.push_str("Agenda:\n");
        for (i, a) in e.agenda.iter().enumerate() {
            let _ = writeln!(d, "{}. {a}", i + 1);
        }
    }
    if let Some(m) = &e.minutes {
        let _ = writeln!(d, "\nMinutes:\n{m}");
    }
    if !e.actions.is_empty() {
        d.push_str("\nActions:\n");
        for a in &e.actions {
            let _ = writeln!(d, "- {} ({}, due {})", a.text, a.owner, a.due);
        }
    }
    d.trim_end().to_owned()
}

/// A calendar named `name` holding `events` (each checked with [`Event::validate`] by the
/// caller), stamped `stamp`.
pub fn calendar(name: &str, events: &[Event], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//kakehashi//partnership office//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, l);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for (zone, block) in ZONES {
        if events.iter().any(|e| e.tz == zone) {
            out.push_str(block);
        }
    }
    for e in events {
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}@{UID_DOMAIN}", escape(&e.id)));
        push_line(&mut out, &format!("DTSTAMP:{}", utc(stamp)));
        push_line(&mut out, &format!("SEQUENCE:{}", e.sequence));
        if ZONES.iter().any(|(z, _)| *z == e.tz) {
            push_line(
                &mut out,
                &format!("DTSTART;TZID={}:{}", e.tz, local(e.start)),
            );
            push_line(&mut out, &format!("DTEND;TZID={}:{}", e.tz, local(e.end)));
        } else {
            let s = e.span();
            push_line(&mut out, &format!("DTSTART:{}", utc(s.start)));
            push_line(&mut out, &format!("DTEND:{}", utc(s.end)));
        }
        push_line(&mut out, &format!("SUMMARY:{}", escape(&e.title)));
        push_line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        let d = description(e);
        if !d.is_empty() {
            push_line(&mut out, &format!("DESCRIPTION:{}", escape(&d)));
        }
        push_line(&mut out, "STATUS:CONFIRMED");
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::{at, symposium};
    use proptest::prelude::*;

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    #[test]
    fn a_feed_has_stable_uids_local_times_and_its_zone() {
        let stamp = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 5, 1, 0, 0, 0).unwrap();
        let mut e = symposium();
        let a = calendar("Office", std::slice::from_ref(&e), stamp);
        assert!(a.contains("UID:symposium-2026@office.kakehashi\r\n"));
        assert!(a.contains("DTSTART;TZID=Europe/Berlin:20260415T090000\r\n"));
        assert!(a.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"));
        assert!(!a.contains("TZID:Asia/Tokyo"));
        assert!(a.contains("SEQUENCE:0\r\n"));
        e.sequence = 1;
        e.title = "Symposium; Berlin, 2026".into();
        let b = calendar("Office", &[e.clone()], stamp);
        assert!(b.contains("UID:symposium-2026@office.kakehashi\r\n"));
        assert!(b.contains("SEQUENCE:1\r\n"));
        assert!(b.contains("SUMMARY:Symposium\\; Berlin\\, 2026\r\n"));
        e.tz = "America/New_York".into();
        e.start = at("2026-04-15 09:00");
        let c = calendar("Office", &[e], stamp);
        assert!(c.contains("DTSTART:20260415T130000Z\r\n"), "{c}");
        assert!(!c.contains("VTIMEZONE"));
    }

    #[test]
    fn long_lines_fold_within_75_octets_and_unfold_back() {
        let mut e = symposium();
        e.minutes = Some("議事録: ".repeat(40) + "done\nnext line, with; marks\\");
        let stamp = Utc::now();
        let cal = calendar("Office", &[e.clone()], stamp);
        for l in cal.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = unfold(&cal);
        assert!(unfolded.contains(&escape(e.minutes.as_ref().unwrap())));
    }

    proptest! {
        /// Any line folds into physical lines of at most 75 octets that unfold to it.
        #[test]
        fn folding_round_trips(line in "\\PC{0,300}") {
            let mut out = String::new();
            push_line(&mut out, &line);
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(l.len() <= 75);
            }
            prop_assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
    }
}
