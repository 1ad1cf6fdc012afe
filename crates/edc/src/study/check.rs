//! What makes a study hold together, and what is wrong when it does not.

use super::{Study, StudyStatus};
use crate::dictionary::{self, DictionaryErrors};
use std::collections::BTreeSet;

/// A study that does not hold together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    /// Its fields do not form a valid dictionary.
    #[error(transparent)]
    Dictionary(#[from] DictionaryErrors),
    /// A structural problem (what and where in the study).
    #[error("{source_name}: {} problem(s):\n{}", .problems.len(), .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Structure {
        /// The file read.
        source_name: String,
        /// The problems.
        problems: Vec<StudyProblem>,
    },
    /// The JSON does not read.
    #[error("{source_name}: line {line}, column {column}: {message}")]
    Json {
        /// The file read.
        source_name: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// serde's message (it names the field).
        message: String,
    },
}

/// One structural problem of a study.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyProblem {
    /// A required text is empty.
    #[error("'{0}' is empty")]
    Empty(&'static str),
    /// Two of something with one name.
    #[error("{what} '{name}' appears twice")]
    Duplicate {
        /// Site, event, role, arm.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A name that is not lower-case letters, digits and `_`.
    #[error(
        "{what} '{name}' is not a name (lower-case letters, digits and '_', starting with a letter)"
    )]
    BadName {
        /// What kind.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A reference to a form the dictionary lacks.
    #[error("{place} names the form '{form}', which has no fields")]
    UnknownForm {
        /// Where (event `x`, role `y`, repeating forms).
        place: String,
        /// The form.
        form: String,
    },
    /// A repeating form at an event that does not collect it.
    #[error("repeating form '{form}' is not collected at event '{event}'")]
    RepeatingNotAtEvent {
        /// The event.
        event: String,
        /// The form.
        form: String,
    },
    /// A reference to an unknown event.
    #[error("{place} names the event '{event}', which no arm has")]
    UnknownEvent {
        /// Where.
        place: String,
        /// The event.
        event: String,
    },
    /// A pre-fill item that cannot be used.
    #[error("{0}")]
    Prefill(crate::prefill::PrefillError),
    /// An active study with a site in a country without an ethics approval.
    #[error("site '{site}' is in {country}, but the study records no ethics approval there")]
    NoApproval {
        /// The site.
        site: String,
        /// Its country.
        country: String,
    },
    /// A form collected at no event.
    #[error("form '{0}' is collected at no event")]
    FormWithoutEvent(String),
    /// The enrolment date field is not a date field of the dictionary.
    #[error("enrolment_date: '{0}' is not a date field of the dictionary")]
    EnrolmentDate(String),
    /// A data-quality rule that cannot be used.
    #[error(transparent)]
    QualityRule(#[from] crate::quality::RuleProblem),
}

fn is_name(s: &str) -> bool {
    crate::logic::valid_name(s)
}

impl Study {
    /// Checks the fields (as a dictionary) and the structure.
    pub fn validate(&self, source_name: &str) -> Result<(), StudyError> {
        dictionary::check_fields(source_name, &self.fields)?;
        let mut p = Vec::new();
        for (what, v) in [
            ("id", &self.id),
            ("title", &self.title),
            ("acronym", &self.acronym),
            ("protocol_version", &self.protocol_version),
            ("sponsor", &self.sponsor),
        ] {
            if v.trim().is_empty() {
                p.push(StudyProblem::Empty(what));
            }
        }
        let forms: BTreeSet<&str> = self.forms().into_iter().collect();
        let dup = |what: &'static str, names: Vec<&str>, p: &mut Vec<StudyProblem>| {
            let mut seen = BTreeSet::new();
            for n in names {
                if !is_name(n) {
                    p.push(StudyProblem::BadName {
                        what,
                        name: n.into(),
                    });
                }
                if !seen.insert(n) {
                    p.push(StudyProblem::Duplicate {
                        what,
                        name: n.into(),
                    });
                }
            }
        };
        dup(
            "site",
            self.sites.iter().map(|s| s.dag.as_str()).collect(),
            &mut p,
        );
        dup(
            "event",
            self.events().map(|e| e.unique_name.as_str()).collect(),
            &mut p,
        );
        dup(
            "role",
            self.roles.iter().map(|r| r.name.as_str()).collect(),
            &mut p,
        );
        let mut arms = BTreeSet::new();
        for a in &self.arms {
            if !arms.insert(a.number) {
                p.push(StudyProblem::Duplicate {
                    what: "arm",
                    name: a.number.to_string(),
                });
            }
        }
        let mut collected = BTreeSet::new();
        for e in self.events() {
            for f in &e.forms {
                collected.insert(f.as_str());
                if !forms.contains(f.as_str()) {
                    p.push(StudyProblem::UnknownForm {
                        place: format!("event '{}'", e.unique_name),
                        form: f.clone(),
                    });
                }
            }
        }
        for f in &forms {
            if !collected.contains(f) {
                p.push(StudyProblem::FormWithoutEvent((*f).into()));
            }
        }
        for r in &self.repeating_forms {
            match self.events().find(|e| e.unique_name == r.event) {
                None => p.push(StudyProblem::UnknownEvent {
                    place: "repeating_forms".into(),
                    event: r.event.clone(),
                }),
                Some(e) if !e.forms.contains(&r.form) => {
                    p.push(StudyProblem::RepeatingNotAtEvent {
                        event: r.event.clone(),
                        form: r.form.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        let events: BTreeSet<&str> = self.events().map(|e| e.unique_name.as_str()).collect();
        for f in &self.fields {
            let mut srcs = vec![f.branching.as_str()];
            if f.field_type == crate::dictionary::FieldType::Calc {
                srcs.push(f.calculation.as_str());
            }
            for src in srcs.into_iter().filter(|s| !s.trim().is_empty()) {
                // The dictionary check above has parsed every expression.
                let Ok(e) = crate::logic::parse(src) else {
                    continue;
                };
                for v in e.vars() {
                    if let Some(ev) = &v.event
                        && crate::logic::SmartVar::from_name(ev).is_none()
                        && !events.contains(ev.as_str())
                    {
                        p.push(StudyProblem::UnknownEvent {
                            place: format!("the logic of field '{}'", f.variable),
                            event: ev.clone(),
                        });
                    }
                }
            }
        }
        for role in &self.roles {
            for f in role.forms.keys() {
                if f != "*" && !forms.contains(f.as_str()) {
                    p.push(StudyProblem::UnknownForm {
                        place: format!("role '{}'", role.name),
                        form: f.clone(),
                    });
                }
            }
        }
        if let Some(f) = &self.enrolment_date {
            let is_date = self
                .fields
                .iter()
                .any(|x| &x.variable == f && x.validation.is_some_and(|v| v.is_temporal()));
            if !is_date {
                p.push(StudyProblem::EnrolmentDate(f.clone()));
            }
        }
        p.extend(
            crate::quality::rule_problems(self)
                .into_iter()
                .map(StudyProblem::QualityRule),
        );
        if let Err(e) = crate::prefill::check(self) {
            p.push(StudyProblem::Prefill(e));
        }
        if self.status == StudyStatus::Active {
            for s in self.sites.iter().filter(|s| self.is_active_at(&s.dag)) {
                if !self.ethics.iter().any(|e| e.country == s.country) {
                    p.push(StudyProblem::NoApproval {
                        site: s.dag.clone(),
                        country: s.country.clone(),
                    });
                }
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(StudyError::Structure {
                source_name: source_name.into(),
                problems: p,
            })
        }
    }
}
