//! The activity report of a MoU year and course certificates, from the stored records.

use super::{get, is_office, list, refused, today};
use crate::db::{OfficeTable, User};
use crate::service::ApiResult;
use crate::{ApiError, Hub};
use chrono::{DateTime, NaiveDate, Utc};
use kakehashi_biobank::request::activity::RequestActivity;
use kakehashi_edc::Study;
use kakehashi_edc::entry::Subject;
use kakehashi_edc::report::{StudyFacts, StudyLine};
use kakehashi_office::agreement::Agreement;
use kakehashi_office::event::Event;
use kakehashi_office::exchange::{Course, Exchange};
use kakehashi_office::governance::Decision;
use kakehashi_office::report::{self, ActivityReport};

/// A MoU year's activity: the office's report, what the access requests and the studies did
/// in it, and whether the years before and after exist.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The office's own records.
    pub report: ActivityReport,
    /// What the access requests did.
    pub requests: RequestActivity,
    /// What the studies did (started, enrolled, withdrew).
    pub studies: Vec<StudyLine>,
    /// The year before, if there is one.
    pub previous: Option<u32>,
    /// The year after, if the agreement has one.
    pub next: Option<u32>,
}

/// The studies with their creation time and subjects, as the report reads them.
fn studies_with_subjects(hub: &Hub) -> ApiResult<Vec<StudyFacts>> {
    let read = |what: &str, j: &str| -> ApiResult<serde_json::Value> {
        serde_json::from_str(j)
            .map_err(|e| ApiError::internal(format!("a stored {what} does not read: {e}")))
    };
    let mut out = Vec::new();
    for j in hub.db.study_list()? {
        let s: Study = serde_json::from_value(read("study", &j)?)
            .map_err(|e| ApiError::internal(format!("a stored study does not read: {e}")))?;
        let created = hub
            .db
            .study_created(&s.id)?
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc));
        let subjects = hub
            .db
            .subjects(&s.id, None)?
            .iter()
            .map(|j| {
                serde_json::from_value(read("subject", j)?)
                    .map_err(|e| ApiError::internal(format!("a stored subject does not read: {e}")))
            })
            .collect::<ApiResult<Vec<Subject>>>()?;
        out.push(StudyFacts {
            study: s,
            created,
            subjects,
        });
    }
    Ok(out)
}

/// The report of `year` (default: the current one) of `agreement` (default: the first), as of
/// today, with what the access requests and the studies did in that year.
pub fn activity_report(
    hub: &Hub,
    agreement: Option<&str>,
    year: Option<u32>,
) -> ApiResult<Activity> {
    let agreements: Vec<Agreement> = list(hub, OfficeTable::Agreements, None)?;
    let a = match agreement {
        Some(id) => agreements.iter().find(|a| a.id == id),
        None => agreements.first(),
    }
    .ok_or_else(|| {
        ApiError::not_found(match agreement {
            Some(id) => format!("no agreement {id:?}"),
            None => "the office has no agreement yet".to_owned(),
        })
    })?;
    let as_of = today();
    let n = year.unwrap_or_else(|| report::year_of(a, as_of));
    let exchanges: Vec<Exchange> = list(hub, OfficeTable::Exchanges, None)?;
    let courses: Vec<Course> = list(hub, OfficeTable::Courses, None)?;
    let events: Vec<Event> = list(hub, OfficeTable::Events, None)?;
    let decisions: Vec<Decision> = list(hub, OfficeTable::Decisions, None)?;
    let r = report::activity(a, n, as_of, &exchanges, &courses, &events, &decisions)
        .map_err(refused)?;
    let previous = (n > 1).then(|| n - 1);
    let next = report::mou_year(a, n + 1).ok().map(|y| y.n);
    let start = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let (from, to) = (start(r.year.from), start(r.year.to + chrono::Days::new(1)));
    let requests = crate::service::requests::activity(hub, from, to)?;
    let studies = kakehashi_edc::report::activity(&studies_with_subjects(hub)?, from, to);
    Ok(Activity {
        report: r,
        requests,
        studies,
        previous,
        next,
    })
}

/// What a course certificate shows.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The course.
    pub course: Course,
    /// The participant.
    pub person: String,
    /// First session day.
    pub from: NaiveDate,
    /// Last session day.
    pub to: NaiveDate,
    /// The day it is printed.
    pub issued: NaiveDate,
}

/// The certificate of `person` for `course`: for the person, the course's trainers and the
/// network office; only for a participant who attended every session.
pub fn certificate(hub: &Hub, by: &User, course: &str, person: &str) -> ApiResult<Certificate> {
    let (c, _) = get::<Course>(hub, OfficeTable::Courses, course, "course")?;
    if by.name != person && !is_office(by) && !c.trainers.contains(&by.name) {
        return Err(ApiError::forbidden(
            "a certificate is shown to its holder, the course's trainers and the network office",
        ));
    }
    if !c.participants.iter().any(|p| p == person) {
        return Err(ApiError::not_found(format!(
            "{person:?} is not a participant of {course:?}"
        )));
    }
    let (attended, all) = c.attendance(person);
    if !all {
        return Err(ApiError::conflict(format!(
            "{person:?} attended {attended} of {} sessions of {course:?}: a certificate needs every session",
            c.sessions.len()
        )));
    }
    let (Some(from), Some(to)) = (
        c.sessions.iter().map(|s| s.date).min(),
        c.sessions.iter().map(|s| s.date).max(),
    ) else {
        return Err(ApiError::conflict(format!("{course:?} has no sessions")));
    };
    Ok(Certificate {
        person: person.to_owned(),
        from,
        to,
        issued: today(),
        course: c,
    })
}
