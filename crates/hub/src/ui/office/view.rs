//! The office page's model, built from the hub's office records for the reader: what they
//! may change decides which forms the page shows (the hub checks each change again).

use crate::db::User;
use crate::service::office::{self, calendar, library};
use crate::{ApiError, Hub};
use chrono::Utc;
use kakehashi_office::event::{Event, Presence, SHOWN_ZONES};
use kakehashi_office::governance::Body;
use kakehashi_web::office::{
    ActionRow, AgreementRow, BodyRow, CourseRow, DecisionRow, DocumentRow, EventRow, ExchangeRow,
    OfficePage, VersionRow,
};

/// A unit enum's serde name (`in_review`, `planned`): the message keys' suffixes.
pub(super) fn tag<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `2026-04-15 09:00 – 17:30 CEST`, or with both dates when the event spans days there.
fn shown(e: &Event, zone: usize) -> String {
    let (a, b) = e.shown_in(SHOWN_ZONES[zone]);
    if a.date_naive() == b.date_naive() {
        format!("{} – {}", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M %Z"))
    } else {
        format!(
            "{} – {}",
            a.format("%Y-%m-%d %H:%M"),
            b.format("%Y-%m-%d %H:%M %Z")
        )
    }
}

/// An event's row; `can_set` tells whether the reader may change an action's status (with
/// owner `""`: whether they may change the event).
fn event_row(e: &Event, bodies: &[Body], can_set: &dyn Fn(&Event, &str) -> bool) -> EventRow {
    let who = |p: Presence| {
        e.participants
            .iter()
            .filter(|x| x.presence == p)
            .map(|x| x.person.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    EventRow {
        id: e.id.clone(),
        can_edit: can_set(e, ""),
        title: e.title.clone(),
        body: e
            .body
            .as_ref()
            .map(|b| {
                bodies
                    .iter()
                    .find(|x| &x.id == b)
                    .map_or(b.clone(), |x| x.name.clone())
            })
            .unwrap_or_default(),
        location: e.location.clone(),
        berlin: shown(e, 0),
        tokyo: shown(e, 1),
        in_person: who(Presence::InPerson),
        remote: who(Presence::Remote),
        minutes: e.minutes.clone().unwrap_or_default(),
        actions: e
            .actions
            .iter()
            .enumerate()
            .map(|(index, a)| ActionRow {
                text: a.text.clone(),
                owner: a.owner.clone(),
                due: a.due.to_string(),
                status: tag(&a.status),
                event: e.id.clone(),
                index,
                can_set: can_set(e, &a.owner),
            })
            .collect(),
    }
}

/// The page's model for `user`; `feed` is a feed path just made.
pub(super) fn build(h: &Hub, user: &User, feed: Option<String>) -> Result<OfficePage, ApiError> {
    let bodies = office::bodies(h)?;
    let mut chaired = Vec::new();
    for b in &bodies {
        if office::chairs(h, user, &b.id)? {
            chaired.push((b.id.clone(), b.name.clone()));
        }
    }
    let is_office = office::is_office(user);
    let can_set = |e: &Event, owner: &str| {
        (!owner.is_empty() && owner == user.name)
            || match &e.body {
                Some(b) => chaired.iter().any(|(id, _)| id == b),
                None => is_office,
            }
    };
    let name_of = |id: &str| {
        bodies
            .iter()
            .find(|b| b.id == id)
            .map_or(id.to_owned(), |b| b.name.clone())
    };
    let now = Utc::now();
    let events = calendar::events(h, &calendar::EventFilter::default())?;
    let (mut past, upcoming): (Vec<&Event>, Vec<&Event>) =
        events.iter().partition(|e| e.span().end < now);
    past.reverse();
    let day = office::today();
    let mut decisions = office::decisions(h, None)?;
    decisions.sort_by_key(|d| std::cmp::Reverse(d.date));
    let documents = library::documents(h)?
        .into_iter()
        .map(|d| {
            let v = library::document(h, &d.id)?;
            Ok(DocumentRow {
                cited_by: crate::service::office::citation::cited_by(h, &d.id)?,
                governs: d
                    .governs
                    .iter()
                    .map(|g| (g.kind().to_owned(), g.name().to_owned()))
                    .collect(),
                id: d.id.clone(),
                title: d.title,
                kind: tag(&d.kind),
                versions: v
                    .versions
                    .iter()
                    .rev()
                    .map(|x| VersionRow {
                        number: x.number,
                        state: x.review.state.as_str().to_owned(),
                        sha256: x.content.sha256.clone(),
                        translations: v
                            .translations
                            .iter()
                            .filter(|t| t.version == x.number)
                            .map(|t| (t.lang.code().to_owned(), t.review.state.as_str().to_owned()))
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(OfficePage {
        agreements: office::agreements(h)?
            .into_iter()
            .map(|a| AgreementRow {
                id: a.agreement.id.clone(),
                title: a.agreement.title.clone(),
                parties: a
                    .agreement
                    .parties
                    .iter()
                    .map(|p| p.short.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                signed: a.agreement.signed.to_string(),
                term_end: a.timeline.term_end.to_string(),
                notice_deadline: a.timeline.notice_deadline.to_string(),
                decision_due: a.timeline.decision_due.to_string(),
                phase: a.timeline.phase.as_str().to_owned(),
                days_to_decision: a.timeline.days_to_decision,
            })
            .collect(),
        decisions: decisions
            .iter()
            .map(|d| DecisionRow {
                date: d.date.to_string(),
                body: name_of(&d.body),
                text: d.text.clone(),
                vote: d.vote.shown(),
            })
            .collect(),
        documents,
        upcoming: upcoming
            .iter()
            .map(|e| event_row(e, &bodies, &can_set))
            .collect(),
        past: past
            .iter()
            .map(|e| event_row(e, &bodies, &can_set))
            .collect(),
        exchanges: office::exchanges(h, None)?
            .iter()
            .map(|x| ExchangeRow {
                id: x.id.clone(),
                report: x.report.clone().unwrap_or_default(),
                person: x.person.clone(),
                home: x.home.clone(),
                host: x.host.clone(),
                dates: format!("{} – {}", x.start, x.end),
                theme: x.theme.clone(),
                status: tag(&x.status),
            })
            .collect(),
        courses: office::courses(h)?
            .iter()
            .map(|c| {
                let certified: Vec<String> = c
                    .participants
                    .iter()
                    .filter(|p| c.attendance(p).1)
                    .cloned()
                    .collect();
                CourseRow {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    sessions: c.sessions.len(),
                    participants: c.participants.len(),
                    complete: certified.len(),
                    certified,
                    roster: c.participants.clone(),
                    session_list: c
                        .sessions
                        .iter()
                        .map(|x| (x.date.to_string(), x.topic.clone(), x.attended.clone()))
                        .collect(),
                }
            })
            .collect(),
        bodies: bodies
            .iter()
            .map(|b| BodyRow {
                id: b.id.clone(),
                name: b.name.clone(),
                theme: b.theme.clone().unwrap_or_default(),
                chairs: b
                    .members
                    .iter()
                    .filter(|m| m.role.chairs() && m.active_on(day))
                    .map(|m| m.person.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                members: b.members.iter().filter(|m| m.active_on(day)).count(),
            })
            .collect(),
        feed,
        may_add_documents: is_office || !chaired.is_empty(),
        may_plan_events: is_office || !chaired.is_empty(),
        is_office,
        saved: None,
        kinds: ["protocol", "sop", "method", "governance"]
            .map(str::to_owned)
            .to_vec(),
        chaired,
    })
}
