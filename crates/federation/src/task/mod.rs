//! The task contract: one module per task type, typed once and used by site, hub, CLI and UI.
//!
//! Each module ([`cohort`], [`antibiogram`], [`surveillance`]) holds the request (validated on
//! construction, with its canonical form), the table the site releases and the hub reads back
//! into typed rows, its disclosure rules ([`ReleaseRule`]) and the hints the UI draws it with.
//! [`TaskSpec`] holds the typed requests; [`Note`] is the closed set of what a site may say
//! besides its gated table.
//!
//! On the wire a task is a JSON object `{"type": ..., "schema_version": N, ...}` with the
//! fields of its type and no others. An absent `schema_version` means 1 (the format before
//! versions were written). A hub or site refuses a version it does not know with
//! "unsupported task version N (this site supports M)".

pub mod antibiogram;
pub mod cohort;
mod note;
pub mod samples;
pub mod stats;
pub mod surveillance;
mod unreadable;

pub use note::Note;
pub use unreadable::{RowProblem, SiteUnreadable, Unreadable};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The most codes (organisms, drugs, specimen types, CCDL term codes) one task may list. A
/// question with more is refused before any site is asked: it is a work bomb, not a question.
pub const MAX_CODES: usize = 1_000;

/// Why a task's question is not accepted. Every message names the field (`spec.organisms[1]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    /// The task type is known, its version is not.
    #[error(
        "spec.schema_version: unsupported task version {got} (this {here} supports {supported})"
    )]
    UnsupportedVersion {
        /// The task type.
        kind: String,
        /// The version asked.
        got: u64,
        /// The version this software reads.
        supported: u32,
        /// `site`, `hub` or `software`: who says so.
        here: &'static str,
    },
    /// A task type this software does not know.
    #[error("spec.type: unknown task type {kind:?} (this {here} answers {known})")]
    UnknownType {
        /// The type asked.
        kind: String,
        /// The types known.
        known: &'static str,
        /// Who says so.
        here: &'static str,
    },
    /// A list longer than [`MAX_CODES`].
    #[error("spec.{field}: {count} entries; a task may list at most {limit}")]
    TooMany {
        /// The list.
        field: String,
        /// Its length.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A field with a wrong value, an unknown field or a missing one.
    #[error("spec.{field}: {message}")]
    Field {
        /// The field (`ccdl.inclusionCriteria[0][0].termCodes`, `from`, ...).
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl TaskError {
    /// A field error.
    pub fn field(field: impl Into<String>, message: impl std::fmt::Display) -> TaskError {
        TaskError::Field {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// Checks a list's length against [`MAX_CODES`].
    pub fn check_len(field: &str, count: usize) -> Result<(), TaskError> {
        if count > MAX_CODES {
            return Err(TaskError::TooMany {
                field: field.to_owned(),
                count,
                limit: MAX_CODES,
            });
        }
        Ok(())
    }
}

/// How a task's table leaves the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseRule {
    /// A weekly series: released under the gate's series rule (`Gate::release_series`).
    pub series: bool,
    /// Rates need the site's patient count, released as its own question
    /// ([`surveillance::DENOMINATOR_CANONICAL`]).
    pub denominator: bool,
}

/// How the UI draws a task's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// One bar per site and the totals (a count per site).
    Bars,
    /// Organism × drug heat-maps of shares (%R).
    HeatMap,
    /// Weekly lines per country, with bands.
    WeeklyLines,
}

/// What a task asks. Each site compiles the declarative question against its own data.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskSpec {
    /// Cohort feasibility: the number of patients matching an MII CCDL query.
    Cohort(cohort::CohortRequest),
    /// A cumulative antibiogram under one guideline.
    Antibiogram(antibiogram::AntibiogramRequest),
    /// A weekly surveillance series of a case definition.
    SurveillanceSeries(surveillance::SurveillanceRequest),
    /// The sample locator: donors and samples per collection and material type.
    Samples(samples::SamplesRequest),
    /// Federated statistics: a summary, a table or one GLM round over an analysis dataset,
    /// released exact under the statistics rules.
    Statistics(stats::StatsRequest),
}

/// The task types, as named on the wire.
const KNOWN: &str = "cohort, antibiogram, surveillance_series, samples, statistics";

impl TaskSpec {
    /// The task type's name.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskSpec::Cohort(_) => "cohort",
            TaskSpec::Antibiogram(_) => "antibiogram",
            TaskSpec::SurveillanceSeries(_) => "surveillance_series",
            TaskSpec::Samples(_) => "samples",
            TaskSpec::Statistics(_) => "statistics",
        }
    }

    /// The schema version of this task type that this software writes and reads.
    pub fn schema_version(&self) -> u32 {
        match self {
            TaskSpec::Cohort(_) => cohort::SCHEMA_VERSION,
            TaskSpec::Antibiogram(_) => antibiogram::SCHEMA_VERSION,
            TaskSpec::SurveillanceSeries(_) => surveillance::SCHEMA_VERSION,
            TaskSpec::Samples(_) => samples::SCHEMA_VERSION,
            TaskSpec::Statistics(_) => stats::SCHEMA_VERSION,
        }
    }

    /// How its table leaves the site.
    pub fn release_rule(&self) -> ReleaseRule {
        match self {
            TaskSpec::Cohort(_) => cohort::RELEASE,
            TaskSpec::Antibiogram(_) => antibiogram::RELEASE,
            TaskSpec::SurveillanceSeries(_) => surveillance::RELEASE,
            TaskSpec::Samples(_) => samples::RELEASE,
            TaskSpec::Statistics(_) => stats::RELEASE,
        }
    }

    /// How the UI draws it.
    pub fn chart(&self) -> ChartKind {
        match self {
            TaskSpec::Cohort(_) => cohort::CHART,
            TaskSpec::Antibiogram(_) => antibiogram::CHART,
            TaskSpec::SurveillanceSeries(_) => surveillance::CHART,
            TaskSpec::Samples(_) => samples::CHART,
            TaskSpec::Statistics(_) => stats::CHART,
        }
    }

    /// Reads and checks a task's question from JSON text; `here` (`hub`, `site`) names who
    /// refuses an unsupported version.
    pub fn from_json(text: &str, here: &'static str) -> Result<TaskSpec, TaskError> {
        let v: Value = serde_json::from_str(text).map_err(|e| TaskError::field("(spec)", e))?;
        TaskSpec::from_value(v, here)
    }

    fn from_value(v: Value, here: &'static str) -> Result<TaskSpec, TaskError> {
        let Value::Object(mut o) = v else {
            return Err(TaskError::field("(spec)", "a task is a JSON object"));
        };
        let kind = match o.remove("type") {
            Some(Value::String(s)) => s,
            Some(other) => return Err(TaskError::field("type", format!("{other} is not a name"))),
            None => {
                return Err(TaskError::field(
                    "type",
                    format!("missing (one of {KNOWN})"),
                ));
            }
        };
        let version = match o.remove("schema_version") {
            None => 1,
            Some(v) => v.as_u64().ok_or_else(|| {
                TaskError::field("schema_version", format!("{v} is not a version number"))
            })?,
        };
        let supported = match kind.as_str() {
            "cohort" => cohort::SCHEMA_VERSION,
            "antibiogram" => antibiogram::SCHEMA_VERSION,
            "surveillance_series" => surveillance::SCHEMA_VERSION,
            "samples" => samples::SCHEMA_VERSION,
            "statistics" => stats::SCHEMA_VERSION,
            _ => {
                return Err(TaskError::UnknownType {
                    kind,
                    known: KNOWN,
                    here,
                });
            }
        };
        if version != u64::from(supported) {
            return Err(TaskError::UnsupportedVersion {
                kind,
                got: version,
                supported,
                here,
            });
        }
        let rest = Value::Object(o);
        Ok(match kind.as_str() {
            "cohort" => TaskSpec::Cohort(cohort::CohortRequest::from_wire(wire(rest)?)?),
            "antibiogram" => {
                TaskSpec::Antibiogram(antibiogram::AntibiogramRequest::from_wire(rest)?)
            }
            "samples" => TaskSpec::Samples(samples::SamplesRequest::from_wire(wire(rest)?)?),
            "statistics" => TaskSpec::Statistics(stats::StatsRequest::from_wire(wire(rest)?)?),
            _ => TaskSpec::SurveillanceSeries(surveillance::SurveillanceRequest::from_wire(wire(
                rest,
            )?)?),
        })
    }

    fn to_value(&self) -> Result<Value, serde_json::Error> {
        let fields = match self {
            TaskSpec::Cohort(r) => serde_json::to_value(r.to_wire())?,
            TaskSpec::Antibiogram(r) => serde_json::to_value(r.to_wire())?,
            TaskSpec::SurveillanceSeries(r) => serde_json::to_value(r.to_wire())?,
            TaskSpec::Samples(r) => serde_json::to_value(r.to_wire())?,
            TaskSpec::Statistics(r) => serde_json::to_value(r.to_wire())?,
        };
        let mut o = Map::new();
        o.insert("type".into(), self.kind().into());
        o.insert("schema_version".into(), self.schema_version().into());
        if let Value::Object(f) = fields {
            o.extend(f);
        }
        Ok(Value::Object(o))
    }
}

/// Reads a type's wire fields (unknown fields refused, naming them).
fn wire<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, TaskError> {
    serde_json::from_value(v).map_err(|e| serde_error("", &e))
}

/// A serde error as a field error. serde names an unknown or missing field in backticks
/// (`unknown field `x`, expected ...`); our own checks inside deserializers start their message
/// with the field (`max_isolates_per_patient: 0 is not allowed`). `prefix` is prepended to the
/// field (`spec.` for a nested spec); anything else is reported under `prefix(spec)`.
pub(crate) fn serde_error(prefix: &str, e: &serde_json::Error) -> TaskError {
    let m = e.to_string();
    let named = m
        .split('`')
        .nth(1)
        .filter(|_| m.starts_with("unknown field") || m.starts_with("missing field"));
    if let Some(field) = named {
        return TaskError::field(format!("{prefix}{field}"), &m);
    }
    let own = m.split_once(": ").filter(|(f, _)| {
        !f.is_empty()
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    });
    match own {
        Some((field, message)) => TaskError::field(format!("{prefix}{field}"), message),
        None => TaskError::field(format!("{prefix}(spec)"), m),
    }
}

impl Serialize for TaskSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TaskSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TaskSpec, D::Error> {
        TaskSpec::from_value(Value::deserialize(d)?, "software").map_err(serde::de::Error::custom)
    }
}

/// Reads a task's question as a site does: a question this site cannot read (an unsupported
/// version, an unknown type or field, too many codes) is kept as the error, so the site can
/// answer it with the reason instead of dropping the whole poll.
pub fn deserialize_at_site<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Result<TaskSpec, TaskError>, D::Error> {
    Ok(TaskSpec::from_value(Value::deserialize(d)?, "site"))
}

#[cfg(test)]
mod tests;
