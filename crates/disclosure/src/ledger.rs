//! The disclosure ledger's accounting: what a site has spent (ε per question, project and
//! researcher), the tasks it admitted per project (rate limit) and the cells it released per
//! project and day, and the rules a spend is checked by ([`charge`], [`rate_check`]). Where
//! the ledger is kept is the site's business: [`Ledger`] is the store, the site agent keeps it
//! in SQLite (`gate.sqlite`, `kakehashi_site::ledger`), [`MemoryLedger`] keeps it in memory.

use crate::gate::Refusal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One row of the ledger as the steward sees it: what one researcher spent in one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerEntry {
    /// The project.
    pub project: String,
    /// The researcher (the tasks' `requested_by`; empty for spends recorded before
    /// researchers were).
    pub researcher: String,
    /// New questions answered (repeats are not counted: they cost nothing).
    pub questions: u64,
    /// ε spent.
    pub spent: f64,
    /// When the last new question was answered (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub last: String,
}

/// What a researcher may still spend in a project at this site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Remaining {
    /// ε spent by the project (all its researchers).
    pub project_spent: f64,
    /// The project's budget, if limited.
    pub project_budget: Option<f64>,
    /// ε spent by the researcher (all projects).
    pub researcher_spent: f64,
    /// The researcher's budget, if limited.
    pub researcher_budget: Option<f64>,
    /// The smaller of both remainders (none when neither is limited or noise is off).
    pub remaining: Option<f64>,
}

/// A project's recent use of the site, against the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tasks admitted in the last 60 seconds.
    pub tasks_last_minute: u64,
    /// Cells released today (UTC).
    pub cells_today: u64,
}

/// A ledger could not be read or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("disclosure ledger {location}: {message}")]
pub struct LedgerError {
    /// Where the ledger is kept (its file, or `memory`).
    pub location: String,
    /// What failed (the store's own message).
    pub message: String,
}

/// The outcome of recording a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    /// The question was answered before in this project and snapshot: nothing was spent.
    pub repeated: bool,
    /// ε (thousandths) the project has spent, this release included.
    pub project_milli: u64,
    /// ε (thousandths) the researcher has spent, this release included.
    pub researcher_milli: u64,
    /// ε (thousandths) this release spent and the ledger records (0 for a repeat).
    pub charged_milli: u64,
}

/// Budgets and limits a spend is checked against (thousandths of ε).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The project's budget, if limited.
    pub project_milli: Option<u64>,
    /// The researcher's budget, if limited.
    pub researcher_milli: Option<u64>,
    /// Cells one project may receive per day (UTC).
    pub cells_per_day: u64,
}

/// One release to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct Charge<'a> {
    /// The project.
    pub project: &'a str,
    /// The researcher who asked.
    pub researcher: &'a str,
    /// The question's repeat key.
    pub question: &'a str,
    /// The data snapshot it was answered on.
    pub snapshot: &'a str,
    /// ε (thousandths) a new question costs (0 without noise).
    pub eps_milli: u64,
    /// Cells the answer releases.
    pub cells: u64,
}

/// What the ledger holds for a charge, read in the same transaction that records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Cells the project received today.
    pub cells_today: u64,
    /// Whether the question was answered before in this project and snapshot.
    pub seen: bool,
    /// ε (thousandths) the project has spent.
    pub project_milli: u64,
    /// ε (thousandths) the researcher has spent (all projects).
    pub researcher_milli: u64,
}

/// Whether a release may be recorded: the day's cells, then, for a new question, the
/// project's and the researcher's budgets. A repeat costs nothing. On `Err` nothing may be
/// recorded.
pub fn charge(c: &Charge<'_>, b: &Balance, limits: &Limits) -> Result<Spend, Refusal> {
    if b.cells_today + c.cells > limits.cells_per_day {
        return Err(Refusal::CellsPerDay {
            project: c.project.to_owned(),
            used: b.cells_today,
            needed: c.cells,
            limit: limits.cells_per_day,
        });
    }
    let eps = if b.seen { 0 } else { c.eps_milli };
    if !b.seen {
        if let Some(budget) = limits.project_milli
            && b.project_milli + eps > budget
        {
            return Err(Refusal::BudgetExhausted {
                project: c.project.to_owned(),
                spent: milli(b.project_milli),
                needed: milli(eps),
                budget: milli(budget),
            });
        }
        if let Some(budget) = limits.researcher_milli
            && b.researcher_milli + eps > budget
        {
            return Err(Refusal::ResearcherBudgetExhausted {
                researcher: c.researcher.to_owned(),
                spent: milli(b.researcher_milli),
                needed: milli(eps),
                budget: milli(budget),
            });
        }
    }
    Ok(Spend {
        repeated: b.seen,
        project_milli: b.project_milli + eps,
        researcher_milli: b.researcher_milli + eps,
        charged_milli: eps,
    })
}

/// Whether a project with `recent` tasks admitted in the last minute may have another.
pub fn rate_check(project: &str, recent: u64, tasks_per_minute: u32) -> Result<(), Refusal> {
    if recent >= u64::from(tasks_per_minute) {
        return Err(Refusal::RateLimited {
            project: project.to_owned(),
            limit: tasks_per_minute,
        });
    }
    Ok(())
}

/// Where a site keeps its ledger. Each method is atomic: [`Ledger::admit`] and
/// [`Ledger::record`] check ([`rate_check`], [`charge`]) and record in one step, and record
/// nothing when they refuse.
pub trait Ledger: Send + Sync {
    /// Where the ledger is kept, for messages (its file, or `memory`).
    fn location(&self) -> String;

    /// Records an admitted task if the project is under its rate limit ([`rate_check`]).
    fn admit(&self, project: &str, researcher: &str, tasks_per_minute: u32) -> Result<(), Refusal>;

    /// A project's use against the rate limits.
    fn usage(&self, project: &str) -> Result<Usage, LedgerError>;

    /// Records a release if [`charge`] allows it: the spend (0 for a repeat, recorded for a
    /// new question even when 0) and the cells.
    fn record(&self, c: &Charge<'_>, limits: &Limits) -> Result<Spend, Refusal>;

    /// ε spent (thousandths) by a project and by a researcher.
    fn spent(&self, project: &str, researcher: &str) -> Result<(u64, u64), LedgerError>;

    /// Every (project, researcher) with what they spent, ordered by project and researcher.
    fn entries(&self) -> Result<Vec<LedgerEntry>, LedgerError>;
}

/// A shared ledger: gates made one after the other on the same ledger see the same spends.
impl<L: Ledger + ?Sized> Ledger for std::sync::Arc<L> {
    fn location(&self) -> String {
        (**self).location()
    }
    fn admit(&self, project: &str, researcher: &str, tasks_per_minute: u32) -> Result<(), Refusal> {
        (**self).admit(project, researcher, tasks_per_minute)
    }
    fn usage(&self, project: &str) -> Result<Usage, LedgerError> {
        (**self).usage(project)
    }
    fn record(&self, c: &Charge<'_>, limits: &Limits) -> Result<Spend, Refusal> {
        (**self).record(c, limits)
    }
    fn spent(&self, project: &str, researcher: &str) -> Result<(u64, u64), LedgerError> {
        (**self).spent(project, researcher)
    }
    fn entries(&self) -> Result<Vec<LedgerEntry>, LedgerError> {
        (**self).entries()
    }
}

/// Thousandths of ε as ε.
pub fn milli(m: u64) -> f64 {
    m as f64 / 1000.0
}

/// Milliseconds since 1970, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A ledger kept in memory for the life of the process: for tests and tools that need a
/// [`Gate`](crate::Gate) but keep nothing. Same rules as the site's stored ledger.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    state: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    /// (project, question, snapshot) → (researcher, ε thousandths, when).
    spent: BTreeMap<(String, String, String), (String, u64, String)>,
    /// (project, researcher, ms) of admitted tasks.
    admitted: Vec<(String, String, i64)>,
    /// (project, day) → cells.
    cells: BTreeMap<(String, String), u64>,
}

impl Memory {
    fn spent_by(&self, pick: impl Fn(&(String, String, String), &str) -> bool) -> u64 {
        self.spent
            .iter()
            .filter(|(k, (r, _, _))| pick(k, r))
            .map(|(_, (_, e, _))| e)
            .sum()
    }

    fn cells_today(&self, project: &str) -> u64 {
        self.cells
            .get(&(project.to_owned(), today()))
            .copied()
            .unwrap_or(0)
    }

    fn recent(&self, project: &str, now: i64) -> u64 {
        self.admitted
            .iter()
            .filter(|(p, _, at)| p == project && *at > now - 60_000)
            .count() as u64
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> MemoryLedger {
        MemoryLedger::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Ledger for MemoryLedger {
    fn location(&self) -> String {
        "memory".into()
    }

    fn admit(&self, project: &str, researcher: &str, tasks_per_minute: u32) -> Result<(), Refusal> {
        let mut m = self.lock();
        let now = now_ms();
        m.admitted
            .retain(|(_, _, at)| *at >= now - 24 * 3600 * 1000);
        rate_check(project, m.recent(project, now), tasks_per_minute)?;
        m.admitted
            .push((project.to_owned(), researcher.to_owned(), now));
        Ok(())
    }

    fn usage(&self, project: &str) -> Result<Usage, LedgerError> {
        let m = self.lock();
        Ok(Usage {
            tasks_last_minute: m.recent(project, now_ms()),
            cells_today: m.cells_today(project),
        })
    }

    fn record(&self, c: &Charge<'_>, limits: &Limits) -> Result<Spend, Refusal> {
        let mut m = self.lock();
        let key = (
            c.project.to_owned(),
            c.question.to_owned(),
            c.snapshot.to_owned(),
        );
        let balance = Balance {
            cells_today: m.cells_today(c.project),
            seen: m.spent.contains_key(&key),
            project_milli: m.spent_by(|k, _| k.0 == c.project),
            researcher_milli: m.spent_by(|_, r| r == c.researcher),
        };
        let spend = charge(c, &balance, limits)?;
        if !spend.repeated {
            let at = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
            m.spent
                .insert(key, (c.researcher.to_owned(), spend.charged_milli, at));
        }
        *m.cells.entry((c.project.to_owned(), today())).or_insert(0) += c.cells;
        Ok(spend)
    }

    fn spent(&self, project: &str, researcher: &str) -> Result<(u64, u64), LedgerError> {
        let m = self.lock();
        Ok((
            m.spent_by(|k, _| k.0 == project),
            m.spent_by(|_, r| r == researcher),
        ))
    }

    fn entries(&self) -> Result<Vec<LedgerEntry>, LedgerError> {
        let m = self.lock();
        // (project, researcher) → (questions, ε thousandths, last)
        let mut by: BTreeMap<(&str, &str), (u64, u64, &str)> = BTreeMap::new();
        for ((project, _, _), (researcher, eps, at)) in &m.spent {
            let e = by.entry((project, researcher)).or_insert((0, 0, ""));
            e.0 += 1;
            e.1 += eps;
            e.2 = e.2.max(at.as_str());
        }
        let by =
            by.into_iter().map(
                |((project, researcher), (questions, eps, last))| LedgerEntry {
                    project: project.to_owned(),
                    researcher: researcher.to_owned(),
                    questions,
                    spent: milli(eps),
                    last: last.to_owned(),
                },
            );
        Ok(by.collect())
    }
}
