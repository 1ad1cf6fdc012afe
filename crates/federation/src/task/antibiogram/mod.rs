//! The antibiogram task: a cumulative antibiogram under one guideline, per site, per country
//! and in total, and Germany against Japan.
//!
//! Wire: `{"type": "antibiogram", "schema_version": 1, "spec": {...}}` with the fields of
//! [`AntibiogramSpec`]. The site releases the long table of [`count_table`] under the gate's
//! ordinary rule (no denominator); the hub reads it back with [`site_counts`] and pools it with
//! [`result`]. The UI draws organism × drug heat-maps of %R and a table of MDRO shares.

mod wire;

pub use wire::*;

use super::{ChartKind, Note, ReleaseRule, TaskError};
use kakehashi_amr::pool::{Bounds, MdroStats, Share};
use kakehashi_amr::{AmrError, AntibiogramSpec, Reference};
use serde::{Deserialize, Serialize};

/// The version of the antibiogram task's wire format.
pub const SCHEMA_VERSION: u32 = 1;
/// A count table leaves under the ordinary rule; no denominator.
pub const RELEASE: ReleaseRule = ReleaseRule {
    series: false,
    denominator: false,
};
/// Organism × drug heat-maps.
pub const CHART: ChartKind = ChartKind::HeatMap;

/// An antibiogram question, checked against the reference tables: a guideline with installed
/// breakpoints, every organism and drug known, at most [`super::MAX_CODES`] of each.
#[derive(Debug, Clone, PartialEq)]
pub struct AntibiogramRequest {
    spec: AntibiogramSpec,
}

/// The wire fields of an antibiogram task.
#[derive(Serialize)]
pub(super) struct Wire {
    spec: AntibiogramSpec,
}

impl AntibiogramRequest {
    /// Checks a spec. Errors name the field (`spec.spec.organisms[1]: unknown organism
    /// "..."`), or the reference table that could not be read.
    pub fn new(spec: AntibiogramSpec) -> Result<AntibiogramRequest, TaskError> {
        TaskError::check_len("spec.organisms", spec.organisms.len())?;
        TaskError::check_len("spec.antimicrobials", spec.antimicrobials.len())?;
        TaskError::check_len("spec.specimen_types", spec.specimen_types.len())?;
        // An open list would release the species and drugs a site has: the grid is declared.
        for (field, empty) in [
            ("spec.organisms", spec.organisms.is_empty()),
            ("spec.antimicrobials", spec.antimicrobials.is_empty()),
        ] {
            if empty {
                return Err(TaskError::field(
                    field,
                    "an antibiogram across sites names its organisms and antimicrobials (an open list would release the species and drugs a site has)",
                ));
            }
        }
        let r = Reference::shared().map_err(|e| TaskError::field("spec", e))?;
        spec.resolve(r).map_err(|e| match e {
            AmrError::Guideline(m) => TaskError::field("spec.guideline", m),
            AmrError::Field { field, problem } => {
                TaskError::field(format!("spec.{field}"), problem)
            }
            other => TaskError::field("spec", other),
        })?;
        Ok(AntibiogramRequest { spec })
    }

    /// Reads a spec from JSON text (a file given to the CLI or the UI's form) and checks it.
    pub fn from_json(text: &str) -> Result<AntibiogramRequest, TaskError> {
        let spec: AntibiogramSpec =
            serde_json::from_str(text).map_err(|e| super::serde_error("spec.", &e))?;
        AntibiogramRequest::new(spec)
    }

    /// Reads the wire fields (`{"spec": {...}}`): read in two steps so that an error inside the
    /// spec names its field under `spec.` (serde's own errors carry no path).
    pub(super) fn from_wire(w: serde_json::Value) -> Result<AntibiogramRequest, TaskError> {
        let serde_json::Value::Object(mut o) = w else {
            return Err(TaskError::field("(spec)", "a task is a JSON object"));
        };
        let spec = o
            .remove("spec")
            .ok_or_else(|| TaskError::field("spec", "missing field `spec`"))?;
        if let Some(k) = o.keys().next() {
            return Err(TaskError::field(
                k.clone(),
                format!("unknown field `{k}`, expected `spec`"),
            ));
        }
        let spec =
            AntibiogramSpec::deserialize(spec).map_err(|e| super::serde_error("spec.", &e))?;
        AntibiogramRequest::new(spec)
    }

    pub(super) fn to_wire(&self) -> Wire {
        Wire {
            spec: self.spec.clone(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &AntibiogramSpec {
        &self.spec
    }

    /// The noise and budget key: `antibiogram:` and the spec's canonical form.
    pub fn canonical(&self) -> Result<String, TaskError> {
        canonical(&self.spec).map_err(|e| TaskError::field("spec", e))
    }

    /// The notes every site gives with this question.
    pub fn notes(&self) -> Vec<Note> {
        vec![Note::GuidelineReread {
            guideline: self.spec.guideline,
        }]
    }
}

/// An organism-level count of the released table (the `statistic` of organism rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MdroMeasure {
    /// First isolates.
    Isolates,
    /// Multidrug-resistant (Magiorakos 2012).
    Mdr,
    /// Extensively drug-resistant.
    Xdr,
    /// Pandrug-resistant.
    Pdr,
    /// KRINKO 3MRGN.
    Mrgn3,
    /// KRINKO 4MRGN.
    Mrgn4,
    /// Methicillin-resistant S. aureus.
    Mrsa,
    /// Vancomycin-resistant enterococci.
    Vre,
    /// Third-generation cephalosporin resistant.
    G3cr,
    /// Carbapenem resistant.
    CarbapenemR,
}

impl MdroMeasure {
    /// The MDRO classes in the order the UI lists them (every measure but the isolates).
    pub const CLASSES: [MdroMeasure; 9] = [
        MdroMeasure::Mrsa,
        MdroMeasure::Vre,
        MdroMeasure::G3cr,
        MdroMeasure::CarbapenemR,
        MdroMeasure::Mrgn3,
        MdroMeasure::Mrgn4,
        MdroMeasure::Mdr,
        MdroMeasure::Xdr,
        MdroMeasure::Pdr,
    ];

    /// Its name in the released table.
    pub fn name(self) -> &'static str {
        match self {
            MdroMeasure::Isolates => "isolates",
            MdroMeasure::Mdr => "mdr",
            MdroMeasure::Xdr => "xdr",
            MdroMeasure::Pdr => "pdr",
            MdroMeasure::Mrgn3 => "mrgn3",
            MdroMeasure::Mrgn4 => "mrgn4",
            MdroMeasure::Mrsa => "mrsa",
            MdroMeasure::Vre => "vre",
            MdroMeasure::G3cr => "g3cr",
            MdroMeasure::CarbapenemR => "carbapenem_r",
        }
    }

    /// The UI's message key of its label (`mdro-mrsa`, ...).
    pub fn label_key(self) -> String {
        format!("mdro-{}", self.name())
    }

    /// Its pooled count and share of the isolates in a group's MDRO row.
    pub fn of(self, m: &MdroStats) -> Option<&(Bounds, Option<Share>)> {
        m.measures.get(self.name())
    }
}

#[cfg(test)]
mod tests;
