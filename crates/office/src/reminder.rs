//! Reminders the office owes its people on a given day: the MoU's renewal decision, action
//! items coming due or overdue, and events starting the next day.
//!
//! Each reminder has a stable `key` naming what it reminds of and which window it belongs to
//! (`action:symposium-2026:2:due-7`), so the hub can store it once however often it asks and
//! whichever replica asks: a day missed still gets the current window's reminder, a window
//! passed is not sent late, and a rescheduled event reminds again (its `SEQUENCE` is in the key).

use crate::agreement::{Agreement, Phase};
use crate::event::{ActionStatus, Event};
use crate::governance::{Body, BodyKind};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeSet;

/// Days before an agreement's renewal decision is due at which its reminders start a window.
pub const RENEWAL_WINDOWS: [i64; 4] = [90, 30, 7, 0];
/// Days before an action's due date at which its reminders start a window.
pub const ACTION_WINDOWS: [i64; 3] = [7, 1, 0];

/// What a reminder is about, with what its message shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum About {
    /// An agreement's renewal decision is due in `days` days (negative: overdue, before the
    /// notice deadline).
    Renewal {
        /// The agreement's id.
        agreement: String,
        /// Its title.
        title: String,
        /// The day the decision is due.
        decision_due: NaiveDate,
        /// The last day to give notice or agree.
        notice_deadline: NaiveDate,
        /// Days from today to `decision_due`.
        days: i64,
    },
    /// An open action item is due in `days` days (negative: overdue).
    Action {
        /// The event it came from.
        event: String,
        /// That event's title.
        event_title: String,
        /// What to do.
        text: String,
        /// By when.
        due: NaiveDate,
        /// Days from today to `due`.
        days: i64,
    },
    /// An event the person takes part in starts tomorrow.
    Event {
        /// The event's id.
        event: String,
        /// Its title.
        title: String,
        /// Local start, in `tz`.
        start: NaiveDateTime,
        /// Its time zone.
        tz: String,
        /// Its start in Berlin (`2026-04-15 09:00 CEST`).
        berlin: String,
        /// Its start in Tokyo (`2026-04-15 16:00 JST`).
        tokyo: String,
        /// Where.
        location: String,
    },
}

impl About {
    /// The topic, as users choose how they hear of it (`renewal`, `action`, `event`).
    pub fn topic(&self) -> &'static str {
        match self {
            About::Renewal { .. } => "renewal",
            About::Action { .. } => "action",
            About::Event { .. } => "event",
        }
    }
}

/// One reminder for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// Names the thing and the window; the same on every run within the window.
    pub key: String,
    /// The person (hub user name).
    pub to: String,
    /// What it is about.
    pub about: About,
}

/// The window `days` falls in: the smallest of `windows` (given largest first) that is at
/// least `days`; `None` when `days` is past the largest window or below zero.
fn window(days: i64, windows: &[i64]) -> Option<i64> {
    if days < 0 {
        return None;
    }
    windows.iter().rev().copied().find(|w| days <= *w)
}

/// The reminders due on `today`. `office` are the network office's users, who hear of every
/// renewal; the steering committee's members on `today` hear of it too.
pub fn due(
    today: NaiveDate,
    agreements: &[Agreement],
    bodies: &[Body],
    events: &[Event],
    office: &[String],
) -> Vec<Reminder> {
    let mut out = Vec::new();
    let steering: BTreeSet<&str> = bodies
        .iter()
        .filter(|b| b.kind == BodyKind::SteeringCommittee)
        .flat_map(|b| b.members.iter().filter(|m| m.active_on(today)))
        .map(|m| m.person.as_str())
        .chain(office.iter().map(String::as_str))
        .collect();
    for a in agreements {
        let t = a.timeline(today);
        let slot = match t.phase {
            Phase::Running | Phase::DecisionDue => {
                match window(t.days_to_decision, &RENEWAL_WINDOWS) {
                    Some(w) => format!("due-{w}"),
                    // decided neither by the due day: one more reminder before the notice deadline
                    None if t.days_to_decision < 0 && today <= t.notice_deadline => {
                        "overdue".into()
                    }
                    None => continue,
                }
            }
            Phase::NotStarted | Phase::NoticePassed | Phase::Ended => continue,
        };
        for person in &steering {
            out.push(Reminder {
                key: format!("renewal:{}:{}:{slot}", a.id, t.decision_due),
                to: (*person).to_owned(),
                about: About::Renewal {
                    agreement: a.id.clone(),
                    title: a.title.clone(),
                    decision_due: t.decision_due,
                    notice_deadline: t.notice_deadline,
                    days: t.days_to_decision,
                },
            });
        }
    }
    for e in events {
        for (i, act) in e.actions.iter().enumerate() {
            if act.status != ActionStatus::Open || act.owner.trim().is_empty() {
                continue;
            }
            let days = (act.due - today).num_days();
            let slot = match window(days, &ACTION_WINDOWS) {
                Some(w) => format!("due-{w}"),
                None if days < 0 => "overdue".into(),
                None => continue,
            };
            out.push(Reminder {
                key: format!("action:{}:{i}:{}:{slot}", e.id, act.due),
                to: act.owner.clone(),
                about: About::Action {
                    event: e.id.clone(),
                    event_title: e.title.clone(),
                    text: act.text.clone(),
                    due: act.due,
                    days,
                },
            });
        }
        if (e.start.date() - today).num_days() == 1 {
            let people: BTreeSet<&str> = e.participants.iter().map(|p| p.person.as_str()).collect();
            for person in people {
                out.push(Reminder {
                    key: format!("event:{}:{}:eve", e.id, e.sequence),
                    to: person.to_owned(),
                    about: About::Event {
                        event: e.id.clone(),
                        title: e.title.clone(),
                        start: e.start,
                        tz: e.tz.clone(),
                        berlin: shown(e, chrono_tz::Europe::Berlin),
                        tokyo: shown(e, chrono_tz::Asia::Tokyo),
                        location: e.location.clone(),
                    },
                });
            }
        }
    }
    out
}

/// An event's start in `tz`, with the zone's abbreviation.
fn shown(e: &Event, tz: chrono_tz::Tz) -> String {
    e.shown_in(tz).0.format("%Y-%m-%d %H:%M %Z").to_string()
}

#[cfg(test)]
#[path = "reminder_tests.rs"]
mod tests;
