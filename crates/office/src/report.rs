//! The activity report per MoU year: what the partnership did between two anniversaries of
//! the agreement's term — exchanges, training, meetings held, decisions — and the actions
//! still open on the day the report is made.

use crate::agreement::Agreement;
use crate::event::{ActionStatus, Event, EventKind};
use crate::exchange::{Course, Exchange, ExchangeStatus};
use crate::governance::Decision;
use crate::{OfficeError, Result};
use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

/// MoU year `n`: from the `n-1`th anniversary of the term's start to the day before the `n`th.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MouYear {
    /// 1 for the first year.
    pub n: u32,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl MouYear {
    /// Whether `day` lies in the year.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Year `n` of `a`'s term (and of its extension, if it runs on); an error for year 0 or a
/// year that starts after the (extended) term.
pub fn mou_year(a: &Agreement, n: u32) -> Result<MouYear> {
    let years = |k: u32| a.term_start.checked_add_months(Months::new(12 * k));
    let last = a.timeline(a.term_start).extended_end.unwrap_or(a.term_end);
    let (Some(from), Some(next)) = (years(n.saturating_sub(1)), years(n)) else {
        return Err(bad_year(n));
    };
    if n == 0 || from > last {
        return Err(bad_year(n));
    }
    let to = next.checked_sub_days(Days::new(1)).unwrap_or(next);
    Ok(MouYear { n, from, to })
}

fn bad_year(n: u32) -> OfficeError {
    OfficeError::Invalid {
        field: "year".into(),
        message: format!("the agreement has no year {n}"),
    }
}

/// The MoU year `day` falls in (1 before the term starts, the last one after it ends).
pub fn year_of(a: &Agreement, day: NaiveDate) -> u32 {
    let mut n = 1;
    while let Ok(y) = mou_year(a, n + 1) {
        if y.from > day {
            break;
        }
        n += 1;
    }
    n
}

/// An exchange in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeLine {
    /// Who.
    pub person: String,
    /// From where.
    pub home: String,
    /// To where.
    pub host: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Theme.
    pub theme: String,
    /// Where it stands (`completed`, ...).
    pub status: String,
}

/// A course in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseLine {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Its sessions held in the year.
    pub sessions: usize,
    /// People enrolled.
    pub participants: usize,
    /// Participants who attended every session (a certificate each).
    pub certificates: usize,
}

/// A meeting held in the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingLine {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `meeting`, `conference` or `visit`.
    pub kind: String,
    /// The day it started (local).
    pub date: NaiveDate,
    /// Where.
    pub location: String,
    /// People taking part.
    pub participants: usize,
    /// Whether minutes were written.
    pub minutes: bool,
}

/// A decision taken in the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionLine {
    /// The day.
    pub date: NaiveDate,
    /// The body.
    pub body: String,
    /// What was decided.
    pub text: String,
    /// How it was taken: `consensus`, or `yes/no/abstain` counts.
    pub vote: String,
}

/// An action still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionLine {
    /// The event it came from.
    pub event: String,
    /// What to do.
    pub text: String,
    /// Who.
    pub owner: String,
    /// By when.
    pub due: NaiveDate,
    /// Whether it is past due on the report's day.
    pub overdue: bool,
}

/// The activity report of one MoU year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    /// The agreement's id.
    pub agreement: String,
    /// Its title.
    pub title: String,
    /// The year.
    pub year: MouYear,
    /// The day the report was made (meetings after it are upcoming, not held).
    pub as_of: NaiveDate,
    /// Exchanges overlapping the year, not cancelled, by start.
    pub exchanges: Vec<ExchangeLine>,
    /// Courses with sessions in the year.
    pub courses: Vec<CourseLine>,
    /// Events held in the year (started by `as_of`), by date.
    pub meetings: Vec<MeetingLine>,
    /// Events of the year still to come after `as_of`.
    pub upcoming: usize,
    /// Decisions of the year, by date.
    pub decisions: Vec<DecisionLine>,
    /// Actions open on `as_of`, by due date.
    pub open_actions: Vec<ActionLine>,
}

fn exchange_status(s: ExchangeStatus) -> &'static str {
    match s {
        ExchangeStatus::Proposed => "proposed",
        ExchangeStatus::Planned => "planned",
        ExchangeStatus::Ongoing => "ongoing",
        ExchangeStatus::Completed => "completed",
        ExchangeStatus::Cancelled => "cancelled",
    }
}

fn event_kind(k: EventKind) -> &'static str {
    match k {
        EventKind::Meeting => "meeting",
        EventKind::Conference => "conference",
        EventKind::Visit => "visit",
    }
}

/// The report of year `n` of `a`, as of `as_of`.
pub fn activity(
    a: &Agreement,
    n: u32,
    as_of: NaiveDate,
    exchanges: &[Exchange],
    courses: &[Course],
    events: &[Event],
    decisions: &[Decision],
) -> Result<ActivityReport> {
    let year = mou_year(a, n)?;
    let mut ex: Vec<ExchangeLine> = exchanges
        .iter()
        .filter(|x| x.status != ExchangeStatus::Cancelled)
        .filter(|x| x.start <= year.to && x.end >= year.from)
        .map(|x| ExchangeLine {
            person: x.person.clone(),
            home: x.home.clone(),
            host: x.host.clone(),
            start: x.start,
            end: x.end,
            theme: x.theme.clone(),
            status: exchange_status(x.status).to_owned(),
        })
        .collect();
    ex.sort_by(|a, b| (a.start, &a.person).cmp(&(b.start, &b.person)));
    let co = courses
        .iter()
        .filter_map(|c| {
            let sessions = c.sessions.iter().filter(|s| year.contains(s.date)).count();
            (sessions > 0).then(|| CourseLine {
                id: c.id.clone(),
                title: c.title.clone(),
                sessions,
                participants: c.participants.len(),
                certificates: c.participants.iter().filter(|p| c.attendance(p).1).count(),
            })
        })
        .collect();
    let in_year: Vec<&Event> = events
        .iter()
        .filter(|e| year.contains(e.start.date()))
        .collect();
    let mut meetings: Vec<MeetingLine> = in_year
        .iter()
        .filter(|e| e.start.date() <= as_of)
        .map(|e| MeetingLine {
            id: e.id.clone(),
            title: e.title.clone(),
            kind: event_kind(e.kind).to_owned(),
            date: e.start.date(),
            location: e.location.clone(),
            participants: e.participants.len(),
            minutes: e.minutes.as_deref().is_some_and(|m| !m.trim().is_empty()),
        })
        .collect();
    meetings.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let upcoming = in_year.iter().filter(|e| e.start.date() > as_of).count();
    let mut de: Vec<DecisionLine> = decisions
        .iter()
        .filter(|d| year.contains(d.date))
        .map(|d| DecisionLine {
            date: d.date,
            body: d.body.clone(),
            text: d.text.clone(),
            vote: d.vote.shown(),
        })
        .collect();
    de.sort_by(|a, b| (a.date, &a.body).cmp(&(b.date, &b.body)));
    let mut open: Vec<ActionLine> = events
        .iter()
        .flat_map(|e| {
            e.actions
                .iter()
                .filter(|x| x.status == ActionStatus::Open)
                .map(|x| ActionLine {
                    event: e.title.clone(),
                    text: x.text.clone(),
                    owner: x.owner.clone(),
                    due: x.due,
                    overdue: x.due < as_of,
                })
        })
        .collect();
    open.sort_by(|a, b| (a.due, &a.text).cmp(&(b.due, &b.text)));
    Ok(ActivityReport {
        agreement: a.id.clone(),
        title: a.title.clone(),
        year,
        as_of,
        exchanges: ex,
        courses: co,
        meetings,
        upcoming,
        decisions: de,
        open_actions: open,
    })
}

/// Counts by kind of meeting (`conference`, `meeting`, `visit`), for the report's summary.
pub fn meetings_by_kind(r: &ActivityReport) -> Vec<(String, usize)> {
    [EventKind::Conference, EventKind::Meeting, EventKind::Visit]
        .iter()
        .map(|k| {
            let k = event_kind(*k);
            let n = r.meetings.iter().filter(|m| m.kind == k).count();
            (k.to_owned(), n)
        })
        .collect()
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
