//! A site's disclosure policy: what may leave the site, decided by the site.

use kakehashi_model::ProjectId;
use serde::{Deserialize, Serialize};

/// Whether the site adds noise to what it releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// Discrete Laplace noise of the policy's ε on every count; thresholds decided on the
    /// noisy value (the default).
    #[default]
    On,
    /// No noise: the site publishes exact aggregates (rounded and withheld below the minimum
    /// on the true count) by its own decision. Every answer says so.
    Off,
}

/// The site's rules for every outgoing count. Read from the `[disclosure]` table of the site's
/// configuration; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Counts below this are withheld (released as "< min_count"). Default 5. With noise on,
    /// decided on the noisy value; with noise off, on the true count.
    pub min_count: u64,
    /// Released values are rounded to the nearest multiple of this. Default 10; 1 disables.
    pub rounding: u64,
    /// `"on"` (default) or `"off"`: a site that publishes exact aggregates says so explicitly.
    pub noise: Noise,
    /// ε of the Laplace noise added to each count of a new question, between 0.001 and 100.
    /// Default 1.0. 0 or absent (`None`) is not a policy: use `noise = "off"`. Ignored when
    /// noise is off. Precision: thousandths.
    pub epsilon: Option<f64>,
    /// Total ε a project may spend at this site. Default 20.
    pub project_budget: Option<f64>,
    /// Total ε one researcher (the task's `requested_by`) may spend at this site, over all
    /// projects. Default 10.
    pub researcher_budget: Option<f64>,
    /// Projects this site answers; `"*"` answers every project. Default: none (the site
    /// answers nothing until its steward lists projects).
    pub projects: Vec<String>,
    /// Tasks one project may send to this site per minute (refused beyond). Default 30.
    pub tasks_per_minute: u32,
    /// Released counts ("cells") one project may receive from this site per UTC day.
    /// Default 1,000,000.
    pub cells_per_day: u64,
    /// Largest number of cells one task may release. Default 100,000.
    pub max_cells: u64,
    /// Largest number of stored rows one task may scan (estimated before computing from the
    /// snapshot's row counts of the tables the task type reads). Default 50,000,000.
    pub max_rows_scanned: u64,
    /// Longest a task may compute, in seconds (the answer is refused after). Default 120.
    pub max_seconds: u64,
    /// Projects this site releases exact statistics to (summaries, contingency tables, GLM
    /// rounds: sums without noise, under the statistics rules of `docs/privacy.md`, with
    /// `min_count` as the site's minimum); `"*"` for every project it answers. Default: none
    /// (a statistics task is refused until the steward lists the project here).
    pub statistics: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_count: 5,
            rounding: 10,
            noise: Noise::On,
            epsilon: Some(1.0),
            project_budget: Some(20.0),
            researcher_budget: Some(10.0),
            projects: Vec::new(),
            tasks_per_minute: 30,
            cells_per_day: 1_000_000,
            max_cells: 100_000,
            max_rows_scanned: 50_000_000,
            max_seconds: 120,
            statistics: Vec::new(),
        }
    }
}

/// A policy that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// Rounding step zero.
    #[error("disclosure.rounding must be at least 1 (1 means no rounding)")]
    Rounding,
    /// ε zero or absent while noise is on.
    #[error(
        "disclosure.epsilon = 0 (or no epsilon) is not a policy: it would answer unlimited questions for free. Set an ε between 0.001 and 100, or say noise = \"off\" to publish exact aggregates (every answer is then marked as exact)"
    )]
    EpsilonZero,
    /// ε outside the usable range.
    #[error("disclosure.epsilon must be between 0.001 and 100, got {0}")]
    Epsilon(f64),
    /// Budget negative or not a number.
    #[error("disclosure.{0} must be a positive number, got {1}")]
    Budget(&'static str, f64),
    /// A limit is zero.
    #[error("disclosure.{0} must be at least 1")]
    Limit(&'static str),
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
        if self.noise == Noise::On {
            match self.epsilon {
                None | Some(0.0) => return Err(PolicyError::EpsilonZero),
                Some(e) if !(0.001..=100.0).contains(&e) => return Err(PolicyError::Epsilon(e)),
                Some(_) => {}
            }
        }
        for (name, b) in [
            ("project_budget", self.project_budget),
            ("researcher_budget", self.researcher_budget),
        ] {
            if let Some(b) = b
                && !(b > 0.0 && b.is_finite())
            {
                return Err(PolicyError::Budget(name, b));
            }
        }
        for (name, v) in [
            ("tasks_per_minute", u64::from(self.tasks_per_minute)),
            ("cells_per_day", self.cells_per_day),
            ("max_cells", self.max_cells),
            ("max_rows_scanned", self.max_rows_scanned),
            ("max_seconds", self.max_seconds),
        ] {
            if v == 0 {
                return Err(PolicyError::Limit(name));
            }
        }
        for p in self.projects.iter().chain(&self.statistics) {
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

    /// Whether the site releases exact statistics to this project (it must answer the
    /// project too).
    pub fn allows_statistics(&self, project: &ProjectId) -> bool {
        self.allows(project)
            && self
                .statistics
                .iter()
                .any(|p| p == "*" || p == project.as_str())
    }

    /// ε in thousandths, if noise is on.
    pub fn epsilon_milli(&self) -> Option<u64> {
        if self.noise == Noise::Off {
            return None;
        }
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

    /// The researcher budget in thousandths of ε.
    pub fn researcher_budget_milli(&self) -> Option<u64> {
        self.researcher_budget.map(|b| (b * 1000.0).round() as u64)
    }

    /// The policy as the network page shows it: minimum, rounding, noise, budgets.
    pub fn summary(&self) -> PolicySummary {
        PolicySummary {
            min_count: self.min_count,
            rounding: self.rounding,
            epsilon: self.noise_epsilon(),
            project_budget: self.project_budget,
            noise: self.noise,
            researcher_budget: self.researcher_budget,
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
    /// ε when noise is on.
    pub epsilon: Option<f64>,
    /// See [`Policy::project_budget`].
    pub project_budget: Option<f64>,
    /// See [`Policy::noise`] (absent in an older site's summary: read as on; its `epsilon`
    /// is then what tells).
    #[serde(default)]
    pub noise: Noise,
    /// See [`Policy::researcher_budget`].
    #[serde(default)]
    pub researcher_budget: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_like(json: &str) -> Result<Policy, serde_json::Error> {
        serde_json::from_str(json)
    }

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
        assert_eq!(
            Policy {
                tasks_per_minute: 0,
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Limit("tasks_per_minute"))
        );
        assert_eq!(
            Policy {
                researcher_budget: Some(-1.0),
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Budget("researcher_budget", -1.0))
        );
        assert!(matches!(
            Policy {
                projects: vec!["a b".into()],
                ..Policy::default()
            }
            .validate(),
            Err(PolicyError::Project(_))
        ));
        let p = toml_like(r#"{"min_count": 10, "projects": ["sfts-2026"]}"#).unwrap();
        assert_eq!(
            (p.rounding, p.noise, p.tasks_per_minute),
            (10, Noise::On, 30)
        );
        assert!(
            p.allows(&ProjectId::new("sfts-2026").unwrap())
                && !p.allows(&ProjectId::new("other").unwrap())
        );
    }

    /// ε = 0 (or no ε) used to mean "no noise, unlimited free questions"; it is refused now,
    /// and exact publishing needs the explicit `noise = "off"`.
    #[test]
    fn epsilon_zero_is_not_a_policy_and_noise_off_is_explicit() {
        for p in [
            toml_like(r#"{"epsilon": 0}"#).unwrap(),
            toml_like(r#"{"epsilon": null}"#).unwrap(),
        ] {
            assert_eq!(p.validate(), Err(PolicyError::EpsilonZero), "{p:?}");
        }
        assert!(
            PolicyError::EpsilonZero
                .to_string()
                .contains("noise = \"off\"")
        );
        let off = toml_like(r#"{"noise": "off", "epsilon": 0}"#).unwrap();
        assert!(off.validate().is_ok());
        assert_eq!(off.epsilon_milli(), None);
        let s = off.summary();
        assert_eq!((s.noise, s.epsilon), (Noise::Off, None));
        let on = Policy::default();
        assert_eq!(on.epsilon_milli(), Some(1000));
        assert_eq!(on.summary().noise, Noise::On);
        assert!(toml_like(r#"{"noise": "maybe"}"#).is_err());
        // an older site's summary (no noise field) reads as noise on
        let old: PolicySummary = serde_json::from_str(
            r#"{"min_count": 5, "rounding": 10, "epsilon": 1.0, "project_budget": 20.0}"#,
        )
        .unwrap();
        assert_eq!(old.noise, Noise::On);
    }
}
