//! Federated statistics: the analysis dataset definition every statistics task names.
//!
//! A dataset is a cohort in CCDL (read as [`CohortRequest`] reads it), an index stay and the
//! declared variables ([`kakehashi_stats::dataset`]); each site compiles it against its own
//! tables (`engine::dataset`). File or wire:
//!
//! ```json
//! {"name": "sari-mortality", "title": "...", "cohort": {CCDL},
//!  "index": {"classes": ["IMP"], "diagnosis": ["J09-J22"]},
//!  "variables": [{"name": "died", "kind": "in_hospital_death"}, ...]}
//! ```

mod request;
mod result;

pub use request::{CHART, RELEASE, SCHEMA_VERSION, StatsAnswer, StatsRequest, StatsWire};
pub use result::{
    GlmReport, KmResult, MetaResult, MetaTerm, SitePart, StatsReport, SummaryResult, TableResult,
    parts,
};

use super::TaskError;
use super::cohort::CohortRequest;
use kakehashi_stats::dataset::{DatasetSpec, IndexStay, VariableWire};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An analysis dataset, checked: its cohort, index stay and variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    title: Option<String>,
    cohort: CohortRequest,
    spec: DatasetSpec,
}

/// A dataset as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetWire {
    /// A short name (`sari-mortality`).
    pub name: String,
    /// What it is, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The cohort, MII CCDL.
    pub cohort: Value,
    /// The index stay.
    #[serde(default)]
    pub index: IndexStay,
    /// The variables.
    pub variables: Vec<VariableWire>,
}

impl Dataset {
    /// Reads a dataset from JSON text; errors name the field (`variables[1].breaks`,
    /// `cohort.inclusionCriteria[0][0].termCodes`).
    pub fn from_json(text: &str) -> Result<Dataset, TaskError> {
        let w: DatasetWire = serde_json::from_str(text).map_err(|e| {
            let m = e.to_string();
            match m.split('`').nth(1) {
                Some(f) if m.starts_with("unknown field") || m.starts_with("missing field") => {
                    TaskError::field(f, &m)
                }
                _ => TaskError::field("(dataset)", m),
            }
        })?;
        Dataset::from_wire(w)
    }

    /// Checks a dataset as written.
    pub fn from_wire(w: DatasetWire) -> Result<Dataset, TaskError> {
        let name_ok = !w.name.is_empty()
            && w.name.len() <= 100
            && w.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(TaskError::field(
                "name",
                format!("{:?}: letters, digits, - _ and . (at most 100)", w.name),
            ));
        }
        let cohort = CohortRequest::from_ccdl(w.cohort).map_err(|e| match e {
            TaskError::Field { field, message } => TaskError::Field {
                field: field.replacen("ccdl", "cohort", 1),
                message,
            },
            other => other,
        })?;
        let spec = DatasetSpec::new(w.index, w.variables).map_err(|e| TaskError::Field {
            field: e.field,
            message: e.message,
        })?;
        Ok(Dataset {
            name: w.name,
            title: w.title,
            cohort,
            spec,
        })
    }

    /// The dataset as written.
    pub fn to_wire(&self) -> DatasetWire {
        DatasetWire {
            name: self.name.clone(),
            title: self.title.clone(),
            cohort: serde_json::from_str(&self.cohort.ccdl_text()).unwrap_or(Value::Null),
            index: self.spec.index.clone(),
            variables: self.spec.wire.clone(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its title, if written.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The cohort.
    pub fn cohort(&self) -> &CohortRequest {
        &self.cohort
    }

    /// The index stay and variables.
    pub fn spec(&self) -> &DatasetSpec {
        &self.spec
    }
}

#[cfg(test)]
mod tests;
