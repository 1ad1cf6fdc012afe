//! Governance bodies (the steering committee, theme working groups) with members, their roles
//! and terms, and the decisions log.

use crate::{OfficeError, Result, required};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What kind of body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// The steering committee.
    SteeringCommittee,
    /// A theme working group.
    WorkingGroup,
    /// Any other board or committee.
    Committee,
}

/// A member's role in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyRole {
    /// Chairs the body (edits it, records its decisions).
    Chair,
    /// Co-chairs (same rights as the chair).
    CoChair,
    /// Keeps minutes.
    Secretary,
    /// Member.
    Member,
}

impl BodyRole {
    /// Whether the role may edit the body's records.
    pub fn chairs(self) -> bool {
        matches!(self, BodyRole::Chair | BodyRole::CoChair)
    }
}

/// A person's membership of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The person (hub user name).
    pub person: String,
    /// Their role.
    pub role: BodyRole,
    /// First day of their term.
    pub from: NaiveDate,
    /// Last day of their term, if it has one.
    pub until: Option<NaiveDate>,
}

impl Membership {
    /// Whether the term covers `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }
}

/// A governance body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// Id (`steering`, `wg-amr`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: BodyKind,
    /// For a working group: its theme (`VHF`, `SFTS`, `AMR`, ...).
    pub theme: Option<String>,
    /// Members.
    pub members: Vec<Membership>,
}

impl Body {
    /// Checks the body; errors name the field.
    pub fn validate(&self) -> Result<()> {
        required("id", &self.id)?;
        if !self
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(OfficeError::Invalid {
                field: "id".into(),
                message: "use lower-case letters, digits and '-'".into(),
            });
        }
        required("name", &self.name)?;
        for (i, m) in self.members.iter().enumerate() {
            required(&format!("members[{i}].person"), &m.person)?;
            if let Some(u) = m.until
                && u < m.from
            {
                return Err(OfficeError::EndBeforeStart {
                    field: format!("members[{i}].until"),
                    start: m.from.to_string(),
                    end: u.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The person's role on `day`, if they are a member then.
    pub fn role_of(&self, person: &str, day: NaiveDate) -> Option<BodyRole> {
        self.members
            .iter()
            .filter(|m| m.person == person && m.active_on(day))
            .map(|m| m.role)
            .min_by_key(|r| match r {
                BodyRole::Chair => 0,
                BodyRole::CoChair => 1,
                BodyRole::Secretary => 2,
                BodyRole::Member => 3,
            })
    }
}

/// How a decision was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Vote {
    /// By consensus, no vote.
    Consensus,
    /// By a vote.
    Counted {
        /// In favour.
        yes: u32,
        /// Against.
        no: u32,
        /// Abstentions.
        abstain: u32,
    },
}

impl Vote {
    /// As the log shows it: `consensus`, or the counts `yes/no/abstain`.
    pub fn shown(&self) -> String {
        match self {
            Vote::Consensus => "consensus".into(),
            Vote::Counted { yes, no, abstain } => format!("{yes}/{no}/{abstain}"),
        }
    }
}

/// An entry of the decisions log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Id.
    pub id: String,
    /// The body that decided.
    pub body: String,
    /// The day.
    pub date: NaiveDate,
    /// What was decided.
    pub text: String,
    /// How.
    pub vote: Vote,
    /// Documents it refers to (document ids, optionally `id@version`).
    pub documents: Vec<String>,
}

impl Decision {
    /// Checks the decision against its body (the voters cannot outnumber its members on
    /// the day).
    pub fn validate(&self, body: &Body) -> Result<()> {
        required("text", &self.text)?;
        if let Vote::Counted { yes, no, abstain } = self.vote {
            let voters = body
                .members
                .iter()
                .filter(|m| m.active_on(self.date))
                .count() as u64;
            let votes = u64::from(yes) + u64::from(no) + u64::from(abstain);
            if votes > voters {
                return Err(OfficeError::Invalid {
                    field: "vote".into(),
                    message: format!(
                        "{votes} votes but {} has {voters} members on {}",
                        body.id, self.date
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn body() -> Body {
        Body {
            id: "wg-amr".into(),
            name: "Working group AMR".into(),
            kind: BodyKind::WorkingGroup,
            theme: Some("AMR".into()),
            members: vec![
                Membership {
                    person: "ana".into(),
                    role: BodyRole::Chair,
                    from: d("2026-04-15"),
                    until: Some(d("2027-04-14")),
                },
                Membership {
                    person: "ken".into(),
                    role: BodyRole::Member,
                    from: d("2026-04-15"),
                    until: None,
                },
            ],
        }
    }

    #[test]
    fn roles_follow_the_terms() {
        let b = body();
        b.validate().unwrap();
        assert_eq!(b.role_of("ana", d("2026-05-01")), Some(BodyRole::Chair));
        assert_eq!(b.role_of("ana", d("2027-04-15")), None);
        assert_eq!(b.role_of("ken", d("2030-01-01")), Some(BodyRole::Member));
        assert_eq!(b.role_of("ken", d("2026-01-01")), None);
    }

    #[test]
    fn bad_bodies_and_votes_name_the_field() {
        let mut b = body();
        b.members[0].until = Some(d("2020-01-01"));
        assert!(
            matches!(b.validate(), Err(OfficeError::EndBeforeStart { field, .. }) if field == "members[0].until")
        );
        let mut b = body();
        b.id = "WG AMR".into();
        assert!(b.validate().unwrap_err().to_string().starts_with("id:"));
        let dec = Decision {
            id: "d1".into(),
            body: "wg-amr".into(),
            date: d("2026-05-01"),
            text: "Adopt EUCAST 2025".into(),
            vote: Vote::Counted {
                yes: 2,
                no: 1,
                abstain: 0,
            },
            documents: vec![],
        };
        assert!(
            dec.validate(&body())
                .unwrap_err()
                .to_string()
                .starts_with("vote: 3 votes")
        );
        let ok = Decision {
            vote: Vote::Consensus,
            ..dec
        };
        ok.validate(&body()).unwrap();
    }
}
