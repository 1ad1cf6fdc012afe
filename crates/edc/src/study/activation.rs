//! Sleeping protocols and their activation (ISARIC's model of pre-approved outbreak studies):
//! a study is prepared and approved in advance as `sleeping` — forms, roles and sites ready —
//! and activated at chosen sites in one step when an outbreak starts. Each activation is
//! recorded (who, when, which sites, the ethics approvals it brought); a site collects data only
//! once an activation named it.

use super::{EthicsApproval, Study, StudyStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One activation of a study at some of its sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the network office's user).
    pub by: String,
    /// The sites (data access groups) activated.
    pub sites: Vec<String>,
    /// Ethics approvals recorded with this activation (the sites' countries without one
    /// before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<EthicsApproval>,
    /// Why now (the outbreak, the decision).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// An activation the study's state or definition does not allow; nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError {
    /// A draft or closed study.
    #[error("the study is {status}: only a sleeping or active study can be activated at sites")]
    State {
        /// Its status.
        status: &'static str,
    },
    /// No site named.
    #[error("sites: name at least one site to activate")]
    NoSites,
    /// A site the study does not have.
    #[error("sites[{index}]: the study has no site '{site}'")]
    UnknownSite {
        /// Its position in the request.
        index: usize,
        /// The name given.
        site: String,
    },
    /// A site already collecting.
    #[error("sites[{index}]: '{site}' is active already")]
    AlreadyActive {
        /// Its position in the request.
        index: usize,
        /// The site.
        site: String,
    },
    /// A site in a country without an ethics approval.
    #[error(
        "sites[{index}]: '{site}' is in {country}, and neither the study nor this activation records an ethics approval there"
    )]
    NoApproval {
        /// Its position in the request.
        index: usize,
        /// The site.
        site: String,
        /// Its country.
        country: String,
    },
    /// An approval with an empty field.
    #[error("approvals[{index}].{field}: required")]
    Approval {
        /// Its position in the request.
        index: usize,
        /// The empty field.
        field: &'static str,
    },
}

impl StudyStatus {
    /// The status's name as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StudyStatus::Draft => "draft",
            StudyStatus::Sleeping => "sleeping",
            StudyStatus::Active => "active",
            StudyStatus::Closed => "closed",
        }
    }
}

impl Study {
    /// Whether the study collects data at site `dag`: active, and (when it was activated
    /// site by site) named by an activation. An active study without recorded activations
    /// collects at every site (studies activated whole, before activations were recorded).
    pub fn is_active_at(&self, dag: &str) -> bool {
        self.status == StudyStatus::Active
            && (self.activations.is_empty()
                || self
                    .activations
                    .iter()
                    .any(|a| a.sites.iter().any(|s| s == dag)))
    }

    /// The sites collecting data now.
    pub fn active_sites(&self) -> Vec<&str> {
        self.sites
            .iter()
            .map(|s| s.dag.as_str())
            .filter(|d| self.is_active_at(d))
            .collect()
    }

    /// Activates the study at `sites` in one step: checks every site (the study's, not yet
    /// active, its country approved by the study or by `approvals`), records the approvals
    /// and the activation, and sets the study active. Refused as a whole: on an error the
    /// study is unchanged.
    pub fn activate(
        &mut self,
        sites: &[String],
        approvals: Vec<EthicsApproval>,
        by: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<Activation, ActivationError> {
        if !matches!(self.status, StudyStatus::Sleeping | StudyStatus::Active) {
            return Err(ActivationError::State {
                status: self.status.as_str(),
            });
        }
        if sites.is_empty() {
            return Err(ActivationError::NoSites);
        }
        for (index, a) in approvals.iter().enumerate() {
            for (field, v) in [
                ("country", &a.country),
                ("committee", &a.committee),
                ("reference", &a.reference),
                ("approved_on", &a.approved_on),
            ] {
                if v.trim().is_empty() {
                    return Err(ActivationError::Approval { index, field });
                }
            }
        }
        for (index, dag) in sites.iter().enumerate() {
            let Some(site) = self.sites.iter().find(|s| &s.dag == dag) else {
                return Err(ActivationError::UnknownSite {
                    index,
                    site: dag.clone(),
                });
            };
            let earlier = sites[..index].contains(dag);
            if earlier || (self.status == StudyStatus::Active && self.is_active_at(dag)) {
                return Err(ActivationError::AlreadyActive {
                    index,
                    site: dag.clone(),
                });
            }
            let approved = self
                .ethics
                .iter()
                .chain(&approvals)
                .any(|e| e.country == site.country);
            if !approved {
                return Err(ActivationError::NoApproval {
                    index,
                    site: dag.clone(),
                    country: site.country.clone(),
                });
            }
        }
        for a in &approvals {
            if !self.ethics.contains(a) {
                self.ethics.push(a.clone());
            }
        }
        let activation = Activation {
            at,
            by: by.to_owned(),
            sites: sites.to_vec(),
            approvals,
            note: note.to_owned(),
        };
        self.activations.push(activation.clone());
        self.status = StudyStatus::Active;
        Ok(activation)
    }
}
