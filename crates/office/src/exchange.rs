//! Staff exchanges (person, home and host institution, dates, purpose, theme, funding,
//! status) and training courses (curriculum, trainers, sessions, participants, attendance).

use crate::{OfficeError, Result, required};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where an exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeStatus {
    /// Proposed, not yet approved.
    Proposed,
    /// Approved and planned.
    Planned,
    /// Under way.
    Ongoing,
    /// Done (a report may follow).
    Completed,
    /// Called off.
    Cancelled,
}

/// A staff exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Id.
    pub id: String,
    /// Who goes.
    pub person: String,
    /// Their home institution.
    pub home: String,
    /// The host institution.
    pub host: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Why.
    pub purpose: String,
    /// The theme (`AMR`, `SFTS`, ...).
    pub theme: String,
    /// Who pays.
    pub funding: String,
    /// Status.
    pub status: ExchangeStatus,
    /// The report afterwards.
    pub report: Option<String>,
}

impl Exchange {
    /// Checks the exchange; errors name the field.
    pub fn validate(&self) -> Result<()> {
        required("id", &self.id)?;
        required("person", &self.person)?;
        required("home", &self.home)?;
        required("host", &self.host)?;
        if self.home == self.host {
            return Err(OfficeError::Invalid {
                field: "host".into(),
                message: "the host institution is the home institution".into(),
            });
        }
        dates("end", self.start, self.end)?;
        if self.report.is_some() && self.status != ExchangeStatus::Completed {
            return Err(OfficeError::Invalid {
                field: "report".into(),
                message: "a report belongs to a completed exchange".into(),
            });
        }
        Ok(())
    }
}

fn dates(field: &str, start: NaiveDate, end: NaiveDate) -> Result<()> {
    if end < start {
        Err(OfficeError::EndBeforeStart {
            field: field.to_owned(),
            start: start.to_string(),
            end: end.to_string(),
        })
    } else {
        Ok(())
    }
}

/// One session of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The day.
    pub date: NaiveDate,
    /// What it covers.
    pub topic: String,
    /// Who attended (of the course's participants).
    pub attended: Vec<String>,
}

/// A training course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The curriculum, one item a line.
    pub curriculum: Vec<String>,
    /// Trainers.
    pub trainers: Vec<String>,
    /// Participants.
    pub participants: Vec<String>,
    /// Sessions, in order.
    pub sessions: Vec<Session>,
}

impl Course {
    /// Checks the course; errors name the field.
    pub fn validate(&self) -> Result<()> {
        required("id", &self.id)?;
        required("title", &self.title)?;
        if self.trainers.is_empty() {
            return Err(OfficeError::Missing {
                field: "trainers".into(),
            });
        }
        for (i, s) in self.sessions.iter().enumerate() {
            if i > 0 {
                dates(
                    &format!("sessions[{i}].date"),
                    self.sessions[i - 1].date,
                    s.date,
                )?;
            }
            for (j, p) in s.attended.iter().enumerate() {
                if !self.participants.contains(p) {
                    return Err(OfficeError::Invalid {
                        field: format!("sessions[{i}].attended[{j}]"),
                        message: format!("{p:?} is not a participant of this course"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The sessions a participant attended, and whether that is all of them (a certificate
    /// is printed for those who attended every session).
    pub fn attendance(&self, person: &str) -> (usize, bool) {
        let n = self
            .sessions
            .iter()
            .filter(|s| s.attended.iter().any(|p| p == person))
            .count();
        (n, !self.sessions.is_empty() && n == self.sessions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_exchange_ending_before_it_starts_is_refused() {
        let mut x = Exchange {
            id: "x1".into(),
            person: "yui".into(),
            home: "JIHS".into(),
            host: "Charité".into(),
            start: d("2026-09-01"),
            end: d("2026-11-30"),
            purpose: "AMR methods".into(),
            theme: "AMR".into(),
            funding: "JIHS".into(),
            status: ExchangeStatus::Planned,
            report: None,
        };
        x.validate().unwrap();
        x.end = d("2026-08-01");
        assert_eq!(
            x.validate().unwrap_err().to_string(),
            "end: ends (2026-08-01) before it starts (2026-09-01)"
        );
    }

    #[test]
    fn attendance_counts_and_strangers_are_refused() {
        let mut c = Course {
            id: "c1".into(),
            title: "Genomic surveillance".into(),
            curriculum: vec!["Sequencing".into()],
            trainers: vec!["ana".into()],
            participants: vec!["ken".into(), "yui".into()],
            sessions: vec![
                Session {
                    date: d("2026-10-01"),
                    topic: "a".into(),
                    attended: vec!["ken".into(), "yui".into()],
                },
                Session {
                    date: d("2026-10-02"),
                    topic: "b".into(),
                    attended: vec!["ken".into()],
                },
            ],
        };
        c.validate().unwrap();
        assert_eq!(c.attendance("ken"), (2, true));
        assert_eq!(c.attendance("yui"), (1, false));
        c.sessions[1].attended.push("zed".into());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .starts_with("sessions[1].attended[1]:")
        );
    }
}
