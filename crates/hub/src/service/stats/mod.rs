//! Federated statistics driven by the hub, the one code path for the CLI and the UI: a summary,
//! a table, a life table or a meta-analysis's site fits are one round of `statistics` tasks; a
//! GLM is IRLS and a Cox model Newton's method with one round per iteration (`models.rs`),
//! each round a task to every site at once (answered in parallel), pooled when every site has
//! answered. A site that refuses or fails stops the run: the report names it with its reason
//! and carries no result, since a fit without it would not be the pooled one.

use super::ApiResult;
use super::tasks::{NewTask, create_task_for, wait_merged};
use crate::db::User;
use crate::{ApiError, Hub};
use chrono::{NaiveDate, Utc};
use kakehashi_federation::task::stats::{
    Dataset, GlmReport, SitePart, StatsReport, StatsRequest, SummaryResult, TableResult, parts,
};
use kakehashi_federation::{Merged, TaskSpec};
use kakehashi_stats::analysis::{Analysis, SiteAnswer, model_columns};
use kakehashi_stats::glm::{Irls, Progress, Round, Settings};
use kakehashi_stats::{Family, Formula, summary, table};
use std::sync::Arc;
use std::time::Instant;

/// Seconds the sites have for a run's first round, in which each compiles its dataset.
const FIRST_ROUND_SECONDS: u64 = 120;

/// What every statistics run names: the project, the dataset and the day ages are computed at
/// (today when absent, the same for every round).
#[derive(Debug, Clone)]
pub struct StatsAsk {
    /// The project.
    pub project: String,
    /// The analysis dataset.
    pub dataset: Dataset,
    /// The evaluation date.
    pub evaluation_date: Option<NaiveDate>,
}

/// A run in progress: what it asks and how far it got.
pub(super) struct Run<'a> {
    hub: &'a Arc<Hub>,
    user: &'a User,
    ask: StatsAsk,
    date: NaiveDate,
    started: Instant,
    rounds: u32,
}

impl Run<'_> {
    /// Asks every site one analysis and waits for all answers (or the deadline).
    pub(super) async fn round(&mut self, analysis: Analysis) -> ApiResult<Merged> {
        let req = StatsRequest::new(self.ask.dataset.clone(), Some(self.date), analysis)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        // the first round compiles each site's dataset (seconds to minutes on a large store);
        // later rounds reuse it and get the hub's default deadline
        let deadline = (self.rounds == 0).then(|| {
            FIRST_ROUND_SECONDS
                .max(self.hub.cfg.tasks.default_deadline_seconds)
                .min(self.hub.cfg.tasks.max_deadline_seconds)
        });
        let t = NewTask {
            project: self.ask.project.clone(),
            spec: TaskSpec::Statistics(req),
            deadline_seconds: deadline,
        };
        let user = self.user.clone();
        let task = self
            .hub
            .blocking(move |h| create_task_for(h, &user, t))
            .await?;
        self.rounds += 1;
        let wait = (task.deadline - Utc::now()).to_std().unwrap_or_default()
            + std::time::Duration::from_secs(1);
        wait_merged(self.hub, &task, wait).await
    }

    pub(super) fn report<T>(
        &self,
        sites: Vec<SitePart>,
        result: Option<T>,
        problem: Option<String>,
    ) -> StatsReport<T> {
        StatsReport {
            complete: result.is_some(),
            sites,
            result,
            problem,
            rounds: self.rounds,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    /// The report of a round not every site answered.
    pub(super) fn incomplete<T>(&self, sites: Vec<SitePart>) -> StatsReport<T> {
        let missing = sites.iter().filter(|s| s.rows.is_none()).count();
        let problem = format!(
            "no result: {missing} of {} sites did not answer round {} (each is listed with its reason); a result from the others would not be the pooled one",
            sites.len(),
            self.rounds
        );
        self.report(sites, None, Some(problem))
    }
}

pub(super) fn start<'a>(hub: &'a Arc<Hub>, user: &'a User, ask: StatsAsk) -> Run<'a> {
    let date = ask
        .evaluation_date
        .unwrap_or_else(|| Utc::now().date_naive());
    Run {
        hub,
        user,
        ask,
        date,
        started: Instant::now(),
        rounds: 0,
    }
}

mod models;

pub use models::{CoxAsk, cox, km, meta};

/// A numeric variable's summary per group, per site and pooled.
pub async fn summary(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    variable: String,
    by: Option<String>,
) -> ApiResult<StatsReport<SummaryResult>> {
    let mut run = start(hub, user, ask);
    let m = run.round(Analysis::Summary { variable, by }).await?;
    let (sites, answers) = parts(&m);
    let Some(answers) = answers else {
        return Ok(run.incomplete(sites));
    };
    let per_site: Vec<(String, Vec<kakehashi_stats::summary::SiteSummary>)> = answers
        .into_iter()
        .filter_map(|(name, a)| match a {
            SiteAnswer::Summary { groups } => Some((name, groups)),
            _ => None,
        })
        .collect();
    let pooled = summary::pool(&per_site.iter().map(|(_, g)| g.clone()).collect::<Vec<_>>());
    Ok(run.report(sites, Some(SummaryResult { per_site, pooled }), None))
}

/// A contingency table of 1–3 variables, added over the sites, with its tests.
pub async fn table(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    variables: Vec<String>,
) -> ApiResult<StatsReport<TableResult>> {
    let mut run = start(hub, user, ask);
    let m = run.round(Analysis::Table { variables }).await?;
    let (sites, answers) = parts(&m);
    let Some(answers) = answers else {
        return Ok(run.incomplete(sites));
    };
    let tables: Vec<table::Table> = answers
        .into_iter()
        .filter_map(|(_, a)| match a {
            SiteAnswer::Table { table } => Some(table),
            _ => None,
        })
        .collect();
    match table::pool(&tables) {
        Ok(t) => {
            let result = TableResult {
                chi_square: table::chi_square(&t),
                fisher: table::fisher(&t),
                table: t,
            };
            Ok(run.report(sites, Some(result), None))
        }
        Err(e) => Ok(run.report(sites, None, Some(e.to_string()))),
    }
}

/// A GLM by federated IRLS: one round of tasks per iteration, until it converges.
pub async fn glm(
    hub: &Arc<Hub>,
    user: &User,
    ask: StatsAsk,
    formula: String,
    family: Family,
) -> ApiResult<GlmReport> {
    // the question as the sites will read it, checked before any site is asked
    let first = Analysis::GlmRound {
        formula: formula.clone(),
        family,
        round: Round {
            iteration: 0,
            beta: Vec::new(),
            null_beta: Vec::new(),
        },
    };
    StatsRequest::new(ask.dataset.clone(), None, first)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let f = Formula::parse(&formula).map_err(|e| ApiError::bad_request(format!("formula: {e}")))?;
    // the columns every site codes alike, from the declared levels (no data needed)
    let columns = model_columns(ask.dataset.spec(), &f)
        .map_err(|e| ApiError::bad_request(format!("formula: {e}")))?;
    let mut irls = Irls::new(family, columns, f.intercept, Settings::default());
    let mut run = start(hub, user, ask);
    loop {
        let analysis = Analysis::GlmRound {
            formula: formula.clone(),
            family,
            round: irls.round(),
        };
        let m = run.round(analysis).await?;
        let (sites, answers) = parts(&m);
        let Some(answers) = answers else {
            return Ok(run.incomplete(sites));
        };
        let sums: Vec<_> = answers
            .into_iter()
            .filter_map(|(_, a)| match a {
                SiteAnswer::GlmRound { answer } => Some(answer),
                _ => None,
            })
            .collect();
        match irls.absorb(&sums) {
            Ok(Progress::Next) => {}
            Ok(Progress::Done(fit)) => return Ok(run.report(sites, Some(*fit), None)),
            Err(e) => return Ok(run.report(sites, None, Some(e.to_string()))),
        }
    }
}
