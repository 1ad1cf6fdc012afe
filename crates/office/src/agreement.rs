//! Agreements (the MoU): parties, signatories, the term, how it renews and the notice period,
//! and the [`RenewalTimeline`] that follows from them.

use crate::{OfficeError, Result, Warning, required};
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A party to an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Short name (`NUM`, `JIHS`).
    pub short: String,
    /// Full name.
    pub name: String,
    /// Country code (`DE`, `JP`).
    pub country: String,
}

/// Someone who signed for a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    /// The party's short name.
    pub party: String,
    /// Name.
    pub name: String,
    /// Position.
    pub title: String,
}

/// How the agreement continues after its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// Extended only by mutual agreement in writing.
    MutualAgreement,
    /// Extended automatically unless a party gives notice.
    Automatic,
    /// Ends with its term.
    None,
}

/// An agreement between partners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Id (`mou-2026`).
    pub id: String,
    /// Title.
    pub title: String,
    /// The parties, at least two.
    pub parties: Vec<Party>,
    /// Who signed.
    pub signatories: Vec<Signatory>,
    /// The day it was signed.
    pub signed: NaiveDate,
    /// The first day of its term.
    pub term_start: NaiveDate,
    /// The last day of its term.
    pub term_end: NaiveDate,
    /// How it continues.
    pub renewal: Renewal,
    /// Months each extension adds.
    pub extension_months: u32,
    /// Days before the end of the term by which a party must give notice (or, for a
    /// mutual extension, agree).
    pub notice_days: u32,
    /// Days before the notice deadline by which the partners' bodies should have decided.
    pub decision_lead_days: u32,
}

/// Where an agreement stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Signed, term not begun.
    NotStarted,
    /// In its term, the renewal decision not yet due.
    Running,
    /// The renewal decision is due (between its due date and the notice deadline).
    DecisionDue,
    /// Past the notice deadline, before the end of the term.
    NoticePassed,
    /// The term has ended.
    Ended,
}

impl Phase {
    /// The phase's name (message keys and JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::NotStarted => "not_started",
            Phase::Running => "running",
            Phase::DecisionDue => "decision_due",
            Phase::NoticePassed => "notice_passed",
            Phase::Ended => "ended",
        }
    }
}

/// The dates that matter for the renewal, seen from one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalTimeline {
    /// The last day of the term.
    pub term_end: NaiveDate,
    /// The last day to give notice or agree on an extension.
    pub notice_deadline: NaiveDate,
    /// The day the renewal decision should be taken by.
    pub decision_due: NaiveDate,
    /// If extended, the last day of the next term.
    pub extended_end: Option<NaiveDate>,
    /// Where it stands on `today`.
    pub phase: Phase,
    /// Days from `today` to the decision due date (negative: overdue).
    pub days_to_decision: i64,
    /// Days from `today` to the end of the term.
    pub days_to_end: i64,
}

impl Agreement {
    /// Checks the agreement; errors name the field.
    pub fn validate(&self) -> Result<()> {
        required("id", &self.id)?;
        required("title", &self.title)?;
        if self.parties.len() < 2 {
            return Err(OfficeError::Invalid {
                field: "parties".into(),
                message: "an agreement needs at least two parties".into(),
            });
        }
        for (i, p) in self.parties.iter().enumerate() {
            required(&format!("parties[{i}].short"), &p.short)?;
            required(&format!("parties[{i}].name"), &p.name)?;
        }
        for (i, s) in self.signatories.iter().enumerate() {
            required(&format!("signatories[{i}].name"), &s.name)?;
            if !self.parties.iter().any(|p| p.short == s.party) {
                return Err(OfficeError::Invalid {
                    field: format!("signatories[{i}].party"),
                    message: format!("{:?} is not a party to this agreement", s.party),
                });
            }
        }
        if self.term_end < self.term_start {
            return Err(OfficeError::EndBeforeStart {
                field: "term_end".into(),
                start: self.term_start.to_string(),
                end: self.term_end.to_string(),
            });
        }
        if self.signed > self.term_start {
            return Err(OfficeError::Invalid {
                field: "signed".into(),
                message: format!(
                    "signed {} after the term started {}",
                    self.signed, self.term_start
                ),
            });
        }
        let term_days = (self.term_end - self.term_start).num_days();
        if i64::from(self.notice_days) + i64::from(self.decision_lead_days) > term_days {
            return Err(OfficeError::Invalid {
                field: "notice_days".into(),
                message: format!(
                    "notice ({} days) and decision lead ({} days) are longer than the term ({term_days} days)",
                    self.notice_days, self.decision_lead_days
                ),
            });
        }
        if self.renewal != Renewal::None && self.extension_months == 0 {
            return Err(OfficeError::Invalid {
                field: "extension_months".into(),
                message: "a renewable agreement names how many months an extension adds".into(),
            });
        }
        Ok(())
    }

    /// The renewal timeline seen from `today`.
    pub fn timeline(&self, today: NaiveDate) -> RenewalTimeline {
        let notice_deadline = self
            .term_end
            .checked_sub_days(Days::new(self.notice_days.into()))
            .unwrap_or(self.term_end);
        let decision_due = notice_deadline
            .checked_sub_days(Days::new(self.decision_lead_days.into()))
            .unwrap_or(notice_deadline);
        let extended_end = match self.renewal {
            Renewal::None => None,
            _ => self
                .term_end
                .checked_add_months(Months::new(self.extension_months)),
        };
        let phase = if today < self.term_start {
            Phase::NotStarted
        } else if today > self.term_end {
            Phase::Ended
        } else if today > notice_deadline {
            Phase::NoticePassed
        } else if today >= decision_due {
            Phase::DecisionDue
        } else {
            Phase::Running
        };
        RenewalTimeline {
            term_end: self.term_end,
            notice_deadline,
            decision_due,
            extended_end,
            phase,
            days_to_decision: (decision_due - today).num_days(),
            days_to_end: (self.term_end - today).num_days(),
        }
    }

    /// A warning when the renewal decision is due on `today` and not yet recorded.
    pub fn reminder(&self, today: NaiveDate, decided: bool) -> Option<Warning> {
        let t = self.timeline(today);
        (!decided && matches!(t.phase, Phase::DecisionDue | Phase::NoticePassed)).then(|| {
            Warning::RenewalDecisionDue {
                agreement: self.id.clone(),
                due: t.decision_due,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The NUM–JIHS MoU as the demo seeds it.
    pub(crate) fn mou() -> Agreement {
        Agreement {
            id: "mou-2026".into(),
            title: "MoU NUM–JIHS".into(),
            parties: vec![
                Party {
                    short: "NUM".into(),
                    name: "Netzwerk Universitätsmedizin".into(),
                    country: "DE".into(),
                },
                Party {
                    short: "JIHS".into(),
                    name: "Japan Institute for Health Security".into(),
                    country: "JP".into(),
                },
            ],
            signatories: vec![Signatory {
                party: "NUM".into(),
                name: "A. Person".into(),
                title: "Speaker".into(),
            }],
            signed: d("2026-04-15"),
            term_start: d("2026-04-15"),
            term_end: d("2029-04-14"),
            renewal: Renewal::MutualAgreement,
            extension_months: 36,
            notice_days: 90,
            decision_lead_days: 90,
        }
    }

    #[test]
    fn the_mou_timeline_has_its_deadlines_before_the_end() {
        let t = mou().timeline(d("2027-01-01"));
        assert_eq!(t.notice_deadline, d("2029-01-14"));
        assert_eq!(t.decision_due, d("2028-10-16"));
        assert_eq!(t.extended_end, Some(d("2032-04-14")));
        assert_eq!(t.phase, Phase::Running);
        assert_eq!(mou().timeline(d("2028-11-01")).phase, Phase::DecisionDue);
        assert_eq!(mou().timeline(d("2029-02-01")).phase, Phase::NoticePassed);
        assert_eq!(mou().timeline(d("2029-04-15")).phase, Phase::Ended);
        assert_eq!(mou().timeline(d("2026-04-14")).phase, Phase::NotStarted);
        assert!(mou().reminder(d("2028-11-01"), false).is_some());
        assert!(mou().reminder(d("2028-11-01"), true).is_none());
        assert!(mou().reminder(d("2027-11-01"), false).is_none());
    }

    #[test]
    fn bad_agreements_name_the_field() {
        mou().validate().unwrap();
        let mut a = mou();
        a.term_end = d("2025-01-01");
        assert!(
            matches!(a.validate(), Err(OfficeError::EndBeforeStart { field, .. }) if field == "term_end")
        );
        let mut a = mou();
        a.signatories[0].party = "XYZ".into();
        assert_eq!(
            a.validate().unwrap_err().to_string(),
            "signatories[0].party: \"XYZ\" is not a party to this agreement"
        );
        let mut a = mou();
        a.parties.pop();
        assert!(
            a.validate()
                .unwrap_err()
                .to_string()
                .starts_with("parties:")
        );
        let mut a = mou();
        a.notice_days = 2000;
        assert!(
            a.validate()
                .unwrap_err()
                .to_string()
                .starts_with("notice_days:")
        );
    }
}
