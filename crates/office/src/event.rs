//! Meetings, conferences and delegation visits: agenda, participants (in person or remote),
//! location, local start and end in the event's time zone (shown in Europe/Berlin and
//! Asia/Tokyo), minutes and action items. A person in person at two overlapping events in
//! different places is a [`Warning::DoubleBooked`], not an error.

use crate::{OfficeError, Result, Warning, required};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The two zones the network lives in, in the order pages show them.
pub const SHOWN_ZONES: [Tz; 2] = [chrono_tz::Europe::Berlin, chrono_tz::Asia::Tokyo];

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A meeting (of a body, or ad hoc).
    Meeting,
    /// A conference or symposium.
    Conference,
    /// A delegation visit.
    Visit,
}

/// How someone takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// On site.
    InPerson,
    /// By video.
    Remote,
}

/// A participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The person (hub user name).
    pub person: String,
    /// How they take part.
    pub presence: Presence,
}

/// Where an action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// To do.
    Open,
    /// Done.
    Done,
    /// No longer needed.
    Dropped,
}

/// An action item from an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// What to do.
    pub text: String,
    /// Who does it.
    pub owner: String,
    /// By when.
    pub due: NaiveDate,
    /// Where it stands.
    pub status: ActionStatus,
}

/// An event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Id: stable, the calendar UID is made from it.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: EventKind,
    /// The body it is a meeting of, if any.
    pub body: Option<String>,
    /// The IANA time zone of `start` and `end` (`Europe/Berlin`).
    pub tz: String,
    /// Local start, in `tz`.
    pub start: NaiveDateTime,
    /// Local end, in `tz`.
    pub end: NaiveDateTime,
    /// Where (a place, or `online`).
    pub location: String,
    /// Agenda items, in order.
    pub agenda: Vec<String>,
    /// Participants.
    pub participants: Vec<Participant>,
    /// The minutes, once written.
    pub minutes: Option<String>,
    /// Action items.
    pub actions: Vec<Action>,
    /// The calendar revision: 0 when made, one more on each change.
    pub sequence: u32,
}

/// An event's time, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// Reads an IANA zone name; `field` names the input.
pub fn zone(field: &str, name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| OfficeError::Invalid {
        field: field.to_owned(),
        message: format!("{name:?} is not an IANA time zone (e.g. Europe/Berlin, Asia/Tokyo)"),
    })
}

/// A local time in `tz` as UTC: a time skipped by a clock change is an error naming the
/// field; a time that happens twice (the hour the clocks go back) is taken the first time.
pub fn to_utc(field: &str, tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(OfficeError::Invalid {
            field: field.to_owned(),
            message: format!(
                "{local} does not exist in {tz}: the clocks skip it (summer time begins)"
            ),
        }),
    }
}

impl Event {
    /// Checks the event; errors name the field (`end`, `actions[1].owner`, ...).
    pub fn validate(&self) -> Result<Span> {
        required("id", &self.id)?;
        required("title", &self.title)?;
        required("location", &self.location)?;
        let tz = zone("tz", &self.tz)?;
        let span = Span {
            start: to_utc("start", tz, self.start)?,
            end: to_utc("end", tz, self.end)?,
        };
        if span.end <= span.start {
            return Err(OfficeError::EndBeforeStart {
                field: "end".into(),
                start: self.start.to_string(),
                end: self.end.to_string(),
            });
        }
        for (i, p) in self.participants.iter().enumerate() {
            required(&format!("participants[{i}].person"), &p.person)?;
        }
        for (i, a) in self.actions.iter().enumerate() {
            required(&format!("actions[{i}].text"), &a.text)?;
            if a.owner.trim().is_empty() {
                return Err(OfficeError::ActionWithoutOwner {
                    field: format!("actions[{i}].owner"),
                });
            }
        }
        Ok(span)
    }

    /// Its time in UTC (assumes [`Event::validate`] passed; else the local times read as
    /// UTC).
    pub fn span(&self) -> Span {
        self.validate().unwrap_or(Span {
            start: self.start.and_utc(),
            end: self.end.and_utc(),
        })
    }

    /// Start and end shown in `tz`.
    pub fn shown_in(&self, tz: Tz) -> (DateTime<Tz>, DateTime<Tz>) {
        let s = self.span();
        (s.start.with_timezone(&tz), s.end.with_timezone(&tz))
    }

    /// Whether `person` takes part, or owns one of its actions.
    pub fn concerns(&self, person: &str) -> bool {
        self.participants.iter().any(|p| p.person == person)
            || self.actions.iter().any(|a| a.owner == person)
    }

    fn in_person(&self) -> impl Iterator<Item = &str> {
        self.participants
            .iter()
            .filter(|p| p.presence == Presence::InPerson)
            .map(|p| p.person.as_str())
    }
}

/// People in person at two overlapping events in different places: one warning per person
/// and pair of events.
pub fn double_bookings(events: &[Event]) -> Vec<Warning> {
    let spans: Vec<Span> = events.iter().map(Event::span).collect();
    let mut out = Vec::new();
    for i in 0..events.len() {
        for j in i + 1..events.len() {
            let (a, b) = (&events[i], &events[j]);
            let (sa, sb) = (spans[i], spans[j]);
            if a.location == b.location || sa.end <= sb.start || sb.end <= sa.start {
                continue;
            }
            for person in a.in_person().filter(|p| b.in_person().any(|q| q == *p)) {
                out.push(Warning::DoubleBooked {
                    person: person.to_owned(),
                    first: a.id.clone(),
                    second: b.id.clone(),
                    from: sa.start.max(sb.start),
                });
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
