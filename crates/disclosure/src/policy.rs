//! A site's disclosure policy: what may leave the site, decided by the site.

use kakehashi_model::ProjectId;
use serde::{Deserialize, Serialize};

/// The site's rules for every outgoing count. Read from the `[disclosure]` table of the site's
/// configuration; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Counts below this are withheld (released as "< min_count"). Default 5.
    pub min_count: u64,
    /// Released values are rounded to the nearest multiple of this. Default 10; 1 disables.
    pub rounding: u64,
    /// ε of the Laplace noise added to each count of a new question; 0 (or absent in a
    /// serialised summary) disables noise. Default 1.0. Precision: thousandths.
    pub epsilon: Option<f64>,
    /// Total ε a project may spend at this site; none for no limit. Default 20.
    pub project_budget: Option<f64>,
    /// Projects this site answers; `"*"` answers every project. Default: none (the site
    /// answers nothing until its steward lists projects).
    pub projects: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_count: 5,
            rounding: 10,
            epsilon: Some(1.0),
            project_budget: Some(20.0),
            projects: Vec::new(),
        }
    }
}

/// A policy that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// Rounding step zero.
    #[error("disclosure.rounding must be at least 1 (1 means no rounding)")]
    Rounding,
    /// ε outside the usable range.
    #[error("disclosure.epsilon must be 0 (no noise) or between 0.001 and 100, got {0}")]
    Epsilon(f64),
    /// Budget negative or not a number.
    #[error("disclosure.project_budget must be a positive number, got {0}")]
    Budget(f64),
    /// A listed project is not a valid id.
    #[error("disclosure.projects: {0}")]
    Project(String),
}

impl Policy {
    /// Checks the policy's values.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.rounding == 0 {
            return Err(PolicyError::Rounding);
        }
        if let Some(e) = self.epsilon
            && e != 0.0
            && !(0.001..=100.0).contains(&e)
        {
            return Err(PolicyError::Epsilon(e));
        }
        if let Some(b) = self.project_budget
            && !(b > 0.0 && b.is_finite())
        {
            return Err(PolicyError::Budget(b));
        }
        for p in &self.projects {
            if p != "*" {
                ProjectId::new(p.clone()).map_err(|e| PolicyError::Project(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Whether the site answers tasks of this project.
    pub fn allows(&self, project: &ProjectId) -> bool {
        self.projects
            .iter()
            .any(|p| p == "*" || p == project.as_str())
    }

    /// ε in thousandths, if noise is on.
    pub fn epsilon_milli(&self) -> Option<u64> {
        self.epsilon
            .map(|e| (e * 1000.0).round() as u64)
            .filter(|&m| m > 0)
    }

    /// ε if noise is on.
    pub fn noise_epsilon(&self) -> Option<f64> {
        self.epsilon_milli().map(|m| m as f64 / 1000.0)
    }

    /// The project budget in thousandths of ε.
    pub fn budget_milli(&self) -> Option<u64> {
        self.project_budget.map(|b| (b * 1000.0).round() as u64)
    }

    /// The policy as the network page shows it: minimum, rounding, noise, budget.
    pub fn summary(&self) -> PolicySummary {
        PolicySummary {
            min_count: self.min_count,
            rounding: self.rounding,
            epsilon: self.noise_epsilon(),
            project_budget: self.project_budget,
        }
    }
}

/// What a site publishes about its policy (the project list stays at the site).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// See [`Policy::min_count`].
    pub min_count: u64,
    /// See [`Policy::rounding`].
    pub rounding: u64,
    /// See [`Policy::epsilon`].
    pub epsilon: Option<f64>,
    /// See [`Policy::project_budget`].
    pub project_budget: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_values_are_checked() {
        assert!(
            Policy {
                projects: vec!["*".into()],
                ..Policy::default()
            }
            .validate()
            .is_ok()
        );
        assert_eq!(
            Policy {
                rounding: 0,
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Rounding)
        );
        assert_eq!(
            Policy {
                epsilon: Some(0.0001),
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Epsilon(0.0001))
        );
        let off = Policy {
            epsilon: Some(0.0),
            ..Policy::default()
        };
        assert!(
            off.validate().is_ok()
                && off.epsilon_milli().is_none()
                && off.summary().epsilon.is_none()
        );
        assert!(matches!(
            Policy {
                projects: vec!["a b".into()],
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Project(_))
        ));
        let p: Policy = toml_like(r#"{"min_count": 10, "projects": ["sfts-2026"]}"#);
        assert_eq!(p.rounding, 10);
        assert!(
            p.allows(&ProjectId::new("sfts-2026").unwrap())
                && !p.allows(&ProjectId::new("other").unwrap())
        );
    }

    fn toml_like(json: &str) -> Policy {
        serde_json::from_str(json).unwrap()
    }
}
