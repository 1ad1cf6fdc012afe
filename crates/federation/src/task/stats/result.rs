//! Pooled statistics as the hub gives them and the CLI (and later the UI) shows them: every
//! site's part, and a result only when every site answered (never a partial one).

use crate::merge::{Merged, SiteState};
use kakehashi_model::SiteId;
use kakehashi_stats::analysis::{OwnFit, SiteAnswer};
use kakehashi_stats::glm::GlmFit;
use kakehashi_stats::meta::{Pooled, Study};
use kakehashi_stats::summary::{PooledSummary, SiteSummary};
use kakehashi_stats::survival::life_table::{PooledInterval, SiteInterval};
use kakehashi_stats::table::{ChiSquare, Fisher, Table, TestNotValid};
use serde::{Deserialize, Serialize};

/// One site's part in a statistics run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SitePart {
    /// The site.
    pub site: SiteId,
    /// Its name.
    pub name: String,
    /// Its state in the last round asked.
    pub state: SiteState,
    /// Why it did not answer (refused with the rule, failed, late, offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Rows it used (GLM complete cases; summary values; table total), when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// A statistics run: each site's part and, only when every site answered, the pooled result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport<T> {
    /// True when every site answered every round and the result is the pooled one.
    pub complete: bool,
    /// Per site.
    pub sites: Vec<SitePart>,
    /// The pooled result (absent unless complete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    /// Why there is no result, overall (the sites' reasons are in `sites`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Rounds of tasks sent (1 for a summary or table; a GLM's iterations).
    pub rounds: u32,
    /// Wall time of the whole run at the hub, in milliseconds.
    pub elapsed_ms: u64,
}

/// A GLM run's report.
pub type GlmReport = StatsReport<GlmFit>;

/// A summary's result: each site's groups and the pooled groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryResult {
    /// Per site: its name and groups.
    pub per_site: Vec<(String, Vec<SiteSummary>)>,
    /// Pooled over the sites.
    pub pooled: Vec<PooledSummary>,
}

/// A table's result: the pooled table and its tests where valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableResult {
    /// The sites' tables added.
    pub table: Table,
    /// Pearson's χ² (two-way tables), or why it is not valid.
    pub chi_square: Result<ChiSquare, TestNotValid>,
    /// Fisher's exact test (2 × 2 tables), or why not.
    pub fisher: Result<Fisher, TestNotValid>,
}

/// A Kaplan–Meier run's result: each site's life table and the pooled one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmResult {
    /// The time variable.
    pub time: String,
    /// The event variable.
    pub event: String,
    /// Per site: its name and intervals (suppressed counts absent).
    pub per_site: Vec<(String, Vec<SiteInterval>)>,
    /// The sites' tables added, survival withheld from the first suppressed interval.
    pub pooled: Vec<PooledInterval>,
}

/// A meta-analysis run's result: each site's own fit and, per term, the pooled estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaResult {
    /// Per site: its name and its own fit.
    pub per_site: Vec<(String, OwnFit)>,
    /// Per term pooled.
    pub terms: Vec<MetaTerm>,
}

/// One term of a meta-analysis: each site's estimate and the pooled ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaTerm {
    /// The term (`sex[male]`).
    pub term: String,
    /// Each site's estimate and standard error.
    pub studies: Vec<Study>,
    /// Fixed effect, DerSimonian–Laird and REML.
    pub pooled: Vec<Pooled>,
}

/// Each site's part in a merged statistics task and, when every site answered, their
/// answers in site order. A site that answered something other than statistics is named as
/// failed.
pub fn parts(m: &Merged) -> (Vec<SitePart>, Option<Vec<(String, SiteAnswer)>>) {
    let mut parts = Vec::new();
    let mut answers = Vec::new();
    for s in &m.sites {
        let mut part = SitePart {
            site: s.site.clone(),
            name: s.name.clone(),
            state: s.state,
            reason: s.reason.clone(),
            rows: None,
        };
        match (&s.state, &s.statistics) {
            (SiteState::Answered, Some(a)) => {
                part.rows = Some(rows(&a.0));
                answers.push((s.name.clone(), a.0.clone()));
            }
            (SiteState::Answered, None) => {
                part.state = SiteState::Failed;
                part.reason = Some("answered without statistics".into());
            }
            _ => {}
        }
        parts.push(part);
    }
    let all = !parts.is_empty() && answers.len() == parts.len();
    (parts, all.then_some(answers))
}

fn rows(a: &SiteAnswer) -> u64 {
    match a {
        SiteAnswer::Summary { groups } => groups.iter().map(|g| g.n).sum(),
        SiteAnswer::Table { table } => table.total(),
        SiteAnswer::GlmRound { answer } => answer.model.n,
        SiteAnswer::LifeTable { intervals } => intervals
            .first()
            .and_then(|i| i.at_risk)
            .unwrap_or_default(),
        SiteAnswer::CoxRound { sums } => sums.n,
        SiteAnswer::SiteFit { fit } => fit.n,
    }
}
