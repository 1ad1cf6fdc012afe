//! The gate: admission, policy, noise, rounding, suppression and the ε ledger, in one place.

use crate::key::RepeatKey;
use crate::ledger::{Charge, Ledger, LedgerEntry, LedgerError, Limits, Remaining, Usage, milli};
use crate::noise::{NoiseStream, Scale};
use crate::policy::{Policy, PolicyError};
use crate::table::{
    CountTable, DimHeader, Disclosure, GatedCount, GatedRow, GatedTable, Margin, Released,
};
use kakehashi_model::ProjectId;
use std::collections::BTreeMap;
use std::time::Instant;

/// The gate could not be made, or its ledger could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The policy is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Why the gate refused a task. The reason is sent to the hub instead of data; a refused task
/// spends no budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The site's policy does not list the task's project.
    #[error("this site does not answer project {project}")]
    ProjectNotAllowed {
        /// The project.
        project: String,
    },
    /// The project's ε budget at this site would be exceeded.
    #[error(
        "the privacy budget of project {project} at this site is exhausted (spent ε = {spent}, this question needs ε = {needed}, budget ε = {budget})"
    )]
    BudgetExhausted {
        /// The project.
        project: String,
        /// ε spent so far.
        spent: f64,
        /// ε this question needs.
        needed: f64,
        /// The budget.
        budget: f64,
    },
    /// The researcher's ε budget at this site would be exceeded.
    #[error(
        "the privacy budget of researcher {researcher} at this site is exhausted (spent ε = {spent}, this question needs ε = {needed}, budget ε = {budget})"
    )]
    ResearcherBudgetExhausted {
        /// The researcher.
        researcher: String,
        /// ε spent so far (all projects).
        spent: f64,
        /// ε this question needs.
        needed: f64,
        /// The budget.
        budget: f64,
    },
    /// The project sent more tasks in the last minute than the site accepts.
    #[error(
        "project {project} sent more than {limit} tasks to this site in the last minute; ask again in a minute"
    )]
    RateLimited {
        /// The project.
        project: String,
        /// Tasks per minute the site accepts.
        limit: u32,
    },
    /// The project's released cells today would exceed the site's daily limit.
    #[error(
        "project {project} has received {used} counts from this site today; this answer has {needed}, the daily limit is {limit}"
    )]
    CellsPerDay {
        /// The project.
        project: String,
        /// Cells released today.
        used: u64,
        /// Cells of this answer (or its estimate).
        needed: u64,
        /// Cells per day the site releases to one project.
        limit: u64,
    },
    /// The task would release more cells than the site allows one task.
    #[error("this task would release {cells} counts; this site releases at most {limit} per task")]
    TooManyCells {
        /// Cells of the answer (or its estimate).
        cells: u64,
        /// The limit.
        limit: u64,
    },
    /// The task would scan more stored rows than the site allows one task.
    #[error(
        "this task would scan about {rows} stored rows; this site scans at most {limit} per task"
    )]
    TooManyRows {
        /// Estimated rows.
        rows: u64,
        /// The limit.
        limit: u64,
    },
    /// The task computed longer than the site allows one task.
    #[error("this task took longer than the {limit_seconds} seconds this site allows one task")]
    TooSlow {
        /// The limit.
        limit_seconds: u64,
    },
    /// The task produced a malformed table (a bug, reported rather than sent).
    #[error("the result table is malformed: {0}")]
    Table(String),
    /// The ledger could not record the spend, so nothing is released.
    #[error("the disclosure ledger failed: {0}")]
    Ledger(String),
    /// The site could not write its audit log, so it releases nothing: a site only sends what
    /// its log records first (the audit fails closed).
    #[error("the site could not write its audit log, so it releases nothing")]
    AuditUnavailable,
    /// The site's policy does not release exact statistics to the task's project.
    #[error(
        "this site does not release exact statistics to project {project} (its steward lists such projects under disclosure.statistics)"
    )]
    StatisticsNotAllowed {
        /// The project.
        project: String,
    },
    /// A statistics rule refuses the answer (`docs/privacy.md`, "Exact statistics").
    #[error("{message}")]
    Statistics {
        /// The rule's code: `no_rows`, `too_few_rows`, `too_many_parameters`, `saturated`,
        /// `separation`, `small_cell`, `small_group`.
        rule: String,
        /// The reason, for the researcher.
        message: String,
    },
    /// The site's data steward refused the task in the steward console (manual approval).
    /// The comment is free text the steward wrote on purpose to be sent; nothing else is.
    #[error("refused by the site's data steward{}", steward_comment(.comment))]
    StewardRefused {
        /// The steward's optional comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
}

fn steward_comment(c: &Option<String>) -> String {
    c.as_deref().map(|c| format!(": {c}")).unwrap_or_default()
}

/// What identifies a question for noise and budget: project, the question's [`RepeatKey`]
/// (its whole meaning: canonical request, evaluation date, data snapshot, reference data and
/// software versions), who asked, and how many counts one patient can change.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The task's project.
    pub project: &'a ProjectId,
    /// The researcher who asked (the task's `requested_by`): charged for a new question. Not
    /// part of the question's identity: the same question in the same project gets the same
    /// noise whoever asks, so a repeat by a colleague is free too.
    pub researcher: &'a str,
    /// The question's repeat key: the same key gets the stored answer, free.
    pub key: &'a RepeatKey,
    /// How many released counts one patient can change at most (1 for a cohort count).
    pub sensitivity: u32,
}

/// A task as the gate admits it, before anything is computed.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// The task's project.
    pub project: &'a ProjectId,
    /// The researcher who asked.
    pub researcher: &'a str,
    /// Stored rows the task will scan, estimated from the snapshot's row counts.
    pub rows_scanned: u64,
    /// Cells the answer will have, when known before computing (e.g. one for a cohort count).
    pub cells: Option<u64>,
}

/// The disclosure gate of one site. Every result that leaves the site passes
/// [`Gate::release`], the only maker of [`Released`] values.
pub struct Gate {
    policy: Policy,
    secret: [u8; 32],
    ledger: Box<dyn Ledger>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("policy", &self.policy)
            .field("ledger", &self.ledger.location())
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// The gate of a site: its policy (validated), the secret its noise is derived from (the
    /// same secret gives the same noise to the same question, whenever it is asked) and its
    /// ledger. The site agent keeps both in its state directory (`kakehashi_site::ledger`).
    pub fn new(
        policy: Policy,
        secret: [u8; 32],
        ledger: Box<dyn Ledger>,
    ) -> Result<Gate, GateError> {
        policy.validate()?;
        Ok(Gate {
            policy,
            secret,
            ledger,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Admits a task before anything is computed: the project must be listed, the estimated
    /// work within the per-task bounds, the project's cells of the day not used up and its
    /// tasks of the last minute under the rate limit. An admitted task counts towards the rate
    /// limit; a refused one does not, and nothing is spent.
    pub fn admit(&self, a: &Admission<'_>) -> Result<(), Refusal> {
        let p = &self.policy;
        if !p.allows(a.project) {
            return Err(Refusal::ProjectNotAllowed {
                project: a.project.to_string(),
            });
        }
        if a.rows_scanned > p.max_rows_scanned {
            return Err(Refusal::TooManyRows {
                rows: a.rows_scanned,
                limit: p.max_rows_scanned,
            });
        }
        if let Some(cells) = a.cells
            && cells > p.max_cells
        {
            return Err(Refusal::TooManyCells {
                cells,
                limit: p.max_cells,
            });
        }
        let used = self
            .ledger
            .usage(a.project.as_str())
            .map_err(|e| Refusal::Ledger(e.to_string()))?
            .cells_today;
        let needed = a.cells.unwrap_or(1);
        if used + needed > p.cells_per_day {
            return Err(Refusal::CellsPerDay {
                project: a.project.to_string(),
                used,
                needed,
                limit: p.cells_per_day,
            });
        }
        self.ledger
            .admit(a.project.as_str(), a.researcher, p.tasks_per_minute)
    }

    /// ε spent by a project at this site.
    pub fn spent(&self, project: &ProjectId) -> Result<f64, GateError> {
        Ok(milli(self.ledger.spent(project.as_str(), "")?.0))
    }

    /// What a researcher has left to spend in a project at this site (for the steward page and
    /// every answer's [`Disclosure`]).
    pub fn remaining(&self, project: &ProjectId, researcher: &str) -> Result<Remaining, GateError> {
        let (p, r) = self.ledger.spent(project.as_str(), researcher)?;
        Ok(self.remaining_of(p, r))
    }

    fn remaining_of(&self, project_milli: u64, researcher_milli: u64) -> Remaining {
        let noisy = self.policy.epsilon_milli().is_some();
        let left = |budget: Option<u64>, spent: u64| budget.map(|b| b.saturating_sub(spent));
        let remaining = match (
            left(self.policy.budget_milli(), project_milli),
            left(self.policy.researcher_budget_milli(), researcher_milli),
        ) {
            _ if !noisy => None,
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Remaining {
            project_spent: milli(project_milli),
            project_budget: self.policy.project_budget,
            researcher_spent: milli(researcher_milli),
            researcher_budget: self.policy.researcher_budget,
            remaining: remaining.map(milli),
        }
    }

    /// The ledger for the steward: per project and researcher, the new questions answered and
    /// the ε spent.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>, GateError> {
        Ok(self.ledger.entries()?)
    }

    /// A project's use of the site against the rate limits (tasks in the last minute, cells
    /// released today).
    pub fn usage(&self, project: &ProjectId) -> Result<Usage, GateError> {
        Ok(self.ledger.usage(project.as_str())?)
    }

    /// Releases a table of true counts: checks the project and the per-task and daily cell
    /// limits, spends ε for a new question (a repeated one costs nothing and gets the same
    /// answer) from the project's and the researcher's budgets, adds noise derived from the
    /// question, withholds counts whose *noisy* value is below the minimum, and rounds. Without
    /// noise the minimum applies to the true count, and a total that would give away a
    /// single withheld cell is withheld too ([`CountTable::add_margin`]).
    pub fn release(
        &self,
        q: &Question<'_>,
        table: CountTable,
    ) -> Result<Released<GatedTable>, Refusal> {
        self.release_with(q, table, self.policy.min_count, self.policy.rounding, None)
    }

    /// [`Gate::release`] for a task that must be done by `deadline` (the site's time bound):
    /// past it, the table is refused as too slow *before* anything is charged, so a task
    /// refused for its time spends no ε (the noise, which is the slow part of a large table, is
    /// drawn first; drawing it releases nothing).
    pub fn release_before(
        &self,
        q: &Question<'_>,
        table: CountTable,
        deadline: Instant,
    ) -> Result<Released<GatedTable>, Refusal> {
        let (min, step) = (self.policy.min_count, self.policy.rounding);
        self.release_with(q, table, min, step, Some(deadline))
    }

    /// Releases a weekly time series under the series rule (`docs/privacy.md`): when the
    /// site's noise is on, each count leaves with its discrete Laplace noise only, neither
    /// rounded nor withheld below the minimum. Rounding and thresholding after the noise are
    /// post-processing: they add nothing to the ε guarantee, while at weekly hospital counts
    /// they turn a season into spikes of 0/10/20 with gaps. Without noise (`noise = "off"`)
    /// rounding and the minimum are the only protection and apply as for every other count.
    /// The released table's [`Disclosure`] states what was applied (minimum 0 and rounding 1
    /// under the series rule).
    pub fn release_series(
        &self,
        q: &Question<'_>,
        table: CountTable,
    ) -> Result<Released<GatedTable>, Refusal> {
        self.release_series_inner(q, table, None)
    }

    /// [`Gate::release_series`] by a deadline, as [`Gate::release_before`].
    pub fn release_series_before(
        &self,
        q: &Question<'_>,
        table: CountTable,
        deadline: Instant,
    ) -> Result<Released<GatedTable>, Refusal> {
        self.release_series_inner(q, table, Some(deadline))
    }

    fn release_series_inner(
        &self,
        q: &Question<'_>,
        table: CountTable,
        deadline: Option<Instant>,
    ) -> Result<Released<GatedTable>, Refusal> {
        match self.policy.epsilon_milli() {
            Some(_) => self.release_with(q, table, 0, 1, deadline),
            None => {
                let (min, step) = (self.policy.min_count, self.policy.rounding);
                self.release_with(q, table, min, step, deadline)
            }
        }
    }

    fn release_with(
        &self,
        q: &Question<'_>,
        table: CountTable,
        min: u64,
        step: u64,
        deadline: Option<Instant>,
    ) -> Result<Released<GatedTable>, Refusal> {
        if !self.policy.allows(q.project) {
            return Err(Refusal::ProjectNotAllowed {
                project: q.project.to_string(),
            });
        }
        let cells = table.cells();
        if cells > self.policy.max_cells {
            return Err(Refusal::TooManyCells {
                cells,
                limit: self.policy.max_cells,
            });
        }
        let question = q.key.as_str();
        let eps = self.policy.epsilon_milli();
        let limits = Limits {
            project_milli: self.policy.budget_milli(),
            researcher_milli: self.policy.researcher_budget_milli(),
            cells_per_day: self.policy.cells_per_day,
        };
        let scale = eps.map(|e| Scale::from_epsilon(q.sensitivity, e));
        let mut rows: BTreeMap<Vec<String>, Vec<GatedCount>> = table
            .rows
            .iter()
            .map(|(key, values)| {
                let gated = values
                    .iter()
                    .zip(&table.measures)
                    .map(|(&n, measure)| match scale {
                        Some(b) => {
                            let joined = key.join("\u{1f}");
                            let mut s = NoiseStream::derive(
                                &self.secret,
                                &[
                                    q.project.as_str(),
                                    question,
                                    q.key.snapshot(),
                                    &joined,
                                    measure,
                                ],
                            );
                            noisy_threshold(n, s.discrete_laplace(b), min, step)
                        }
                        None => exact_threshold(n, min, step),
                    })
                    .collect();
                (key.clone(), gated)
            })
            .collect();
        if scale.is_none() {
            secondary_suppression(&mut rows, &table.rows, &table.margins, min);
        }
        // the time bound is checked before the ledger: a task refused as too slow spends nothing
        if deadline.is_some_and(|d| Instant::now() > d) {
            return Err(Refusal::TooSlow {
                limit_seconds: self.policy.max_seconds,
            });
        }
        let spend = self.ledger.record(
            &Charge {
                project: q.project.as_str(),
                researcher: q.researcher,
                question,
                snapshot: q.key.snapshot(),
                eps_milli: eps.unwrap_or(0),
                cells,
            },
            &limits,
        )?;
        let dims = table
            .dims
            .iter()
            .map(|d| DimHeader {
                name: d.name.clone(),
                kind: d.kind,
            })
            .collect();
        let left = self.remaining_of(spend.project_milli, spend.researcher_milli);
        tracing::info!(project = %q.project, researcher = q.researcher, question = &question[..12], snapshot = q.key.snapshot(), repeated = spend.repeated, cells, "released");
        Ok(Released(GatedTable {
            dims,
            measures: table.measures.clone(),
            rows: rows
                .into_iter()
                .map(|(key, values)| GatedRow { key, values })
                .collect(),
            disclosure: Disclosure {
                min_count: min,
                rounding: step,
                noise: self.policy.noise,
                epsilon: self.policy.noise_epsilon(),
                sensitivity: q.sensitivity,
                repeated: spend.repeated,
                budget_spent: left.project_spent,
                budget: self.policy.project_budget,
                researcher_spent: left.researcher_spent,
                researcher_budget: self.policy.researcher_budget,
                remaining: left.remaining,
            },
        }))
    }
}

/// The noisy threshold: the count leaves as `n + noise` (clamped at 0, rounded) unless the
/// *noisy* value is below the minimum. The decision is a function of the noisy value only,
/// so it is post-processing and covered by the noise's ε: a true count below the minimum is
/// released with probability `P[X ≥ min − n]`, a count above it withheld with probability
/// `P[X < min − n]`.
fn noisy_threshold(n: u64, noise: i64, min: u64, step: u64) -> GatedCount {
    let noisy = (i128::from(n) + i128::from(noise)).max(0) as u64;
    let released = round_to(noisy, step);
    if noisy < min || released < min {
        GatedCount::Suppressed { below: min }
    } else {
        GatedCount::Value(released)
    }
}

/// Without noise: the deterministic rule on the true count (and on its rounded value).
fn exact_threshold(n: u64, min: u64, step: u64) -> GatedCount {
    let released = round_to(n, step);
    if n < min || released < min {
        GatedCount::Suppressed { below: min }
    } else {
        GatedCount::Value(released)
    }
}

/// Secondary suppression without noise: a released total with withheld parts gives away
/// `total − Σ released parts ≥ Σ withheld parts` (equal when the margin is exact). When that
/// slack is below the minimum, the withheld parts could be bounded below the minimum
/// together (one withheld cell exactly, if it is alone), so the total is withheld too.
/// Repeated until nothing changes (a withheld total may be a part of another margin).
fn secondary_suppression(
    rows: &mut BTreeMap<Vec<String>, Vec<GatedCount>>,
    truth: &BTreeMap<Vec<String>, Vec<u64>>,
    margins: &[Margin],
    min: u64,
) {
    let withheld = |rows: &BTreeMap<Vec<String>, Vec<GatedCount>>,
                    (k, m): &(Vec<String>, usize)| {
        rows.get(k)
            .is_some_and(|v| matches!(v[*m], GatedCount::Suppressed { .. }))
    };
    let true_value = |(k, m): &(Vec<String>, usize)| truth.get(k).map_or(0, |v| v[*m]);
    loop {
        let mut changed = false;
        for margin in margins {
            if withheld(rows, &margin.total) || !margin.parts.iter().any(|p| withheld(rows, p)) {
                continue;
            }
            let released: u64 = margin
                .parts
                .iter()
                .filter(|p| !withheld(rows, p))
                .map(true_value)
                .sum();
            if true_value(&margin.total).saturating_sub(released) < min
                && let Some(v) = rows.get_mut(&margin.total.0)
            {
                v[margin.total.1] = GatedCount::Suppressed { below: min };
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Rounds to the nearest multiple of `step` (halves up).
fn round_to(n: u64, step: u64) -> u64 {
    if step <= 1 {
        return n;
    }
    (n + step / 2) / step * step
}

#[path = "exact.rs"]
mod exact;
pub use exact::{ExactAggregate, StatisticsRule};

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
