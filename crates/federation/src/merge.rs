//! Merging per-site answers into one result: per site, per country and total, with each
//! site's status, never silently partial; the hub's own disclosure rules on pooled numbers.

use crate::protocol::{Answer, Outcome, SnapshotInfo, Task};
use crate::task::Note;
use chrono::{DateTime, Duration, Utc};
use kakehashi_disclosure::{DimHeader, GatedCount, GatedTable};
use kakehashi_model::{Country, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rules the hub applies to pooled numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubRules {
    /// Pooled totals below this are withheld. Default 0 (sites' own minimums apply).
    pub min_total: u64,
    /// Totals are shown only when at least this many sites answered (so a total never
    /// stands for one identifiable site). Default 2.
    pub min_sites: usize,
}

impl Default for HubRules {
    fn default() -> Self {
        HubRules {
            min_total: 0,
            min_sites: 2,
        }
    }
}

/// A site's state for one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteState {
    /// Still within the deadline, no answer yet.
    Pending,
    /// Answered in time; counted.
    Answered,
    /// The site's gate refused (policy, budget).
    Refused,
    /// The site could not run the task.
    Failed,
    /// Online but answered after the deadline (or not at all by then); not counted.
    Late,
    /// Not seen by the hub around the deadline; not counted.
    Offline,
    /// Within the deadline, held at the site until its data steward approves or refuses it
    /// (manual approval, see [`crate::approval`]).
    AwaitingApproval,
}

/// What the hub knows about a site when merging.
#[derive(Debug, Clone)]
pub struct SiteRef {
    /// Id.
    pub id: SiteId,
    /// Name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// Last time it polled.
    pub last_seen: Option<DateTime<Utc>>,
}

/// An answer with the time the hub received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The answer.
    pub answer: Answer,
    /// When it arrived.
    pub at: DateTime<Utc>,
}

/// One site's part of a merged result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteResult {
    /// Site id.
    pub site: SiteId,
    /// Name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// State.
    pub state: SiteState,
    /// Why refused, failed, late or offline.
    pub reason: Option<String>,
    /// The gated table, when answered (also kept for late answers, not counted).
    pub table: Option<GatedTable>,
    /// The gated denominator of rates, when the task has one (see [`crate::surveillance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<GatedTable>,
    /// The released statistics, when a statistics task was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<crate::task::stats::StatsAnswer>,
    /// Notes from the site.
    pub notes: Vec<Note>,
    /// Site computing time.
    pub elapsed_ms: Option<u64>,
    /// The data snapshot answered on.
    pub snapshot: Option<SnapshotInfo>,
}

/// A pooled count: the sum of the released values and how many sites withheld theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pooled {
    /// Sum of released values (None when the hub withheld it).
    pub sum: Option<u64>,
    /// Sites that answered but withheld this count as below their minimum: the true total
    /// is higher than `sum` by less than their minimums combined.
    pub suppressed_sites: u32,
    /// The most the withheld counts can add (sum of those sites' minimums minus one each).
    pub suppressed_max: u64,
}

/// A pooled row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledRow {
    /// Key.
    pub key: Vec<String>,
    /// One pooled count per measure.
    pub values: Vec<Pooled>,
}

/// Pooled tables over a group of sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledTable {
    /// Sites pooled.
    pub sites: usize,
    /// Dimensions.
    pub dims: Vec<DimHeader>,
    /// Measures.
    pub measures: Vec<String>,
    /// Rows.
    pub rows: Vec<PooledRow>,
    /// Why the hub withheld it (too few sites), if it did.
    pub withheld: Option<String>,
}

impl PooledTable {
    /// The pooled value of a cell.
    pub fn get(&self, key: &[&str], measure: &str) -> Option<Pooled> {
        let m = self.measures.iter().position(|x| x == measure)?;
        self.rows
            .iter()
            .find(|r| r.key.iter().map(String::as_str).eq(key.iter().copied()))
            .map(|r| r.values[m])
    }
}

/// A task's merged result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    /// The task.
    pub task: Task,
    /// True when no site is pending any more.
    pub complete: bool,
    /// Per site.
    pub sites: Vec<SiteResult>,
    /// Per country.
    pub countries: BTreeMap<Country, PooledTable>,
    /// All answering sites.
    pub total: Option<PooledTable>,
    /// Counts of sites by state.
    pub states: BTreeMap<String, usize>,
}

/// Merges the answers of `sites` to `task` as of `now`. A site with no answer is pending
/// before the deadline, and after it late (if seen within `offline_after` of the deadline) or
/// offline.
pub fn merge(
    task: &Task,
    sites: &[SiteRef],
    answers: &[Received],
    now: DateTime<Utc>,
    offline_after: Duration,
    rules: &HubRules,
) -> Merged {
    let by_site: BTreeMap<&SiteId, &Received> =
        answers.iter().map(|r| (&r.answer.site, r)).collect();
    let mut out = Vec::new();
    for s in sites {
        let mut r = SiteResult {
            site: s.id.clone(),
            name: s.name.clone(),
            country: s.country,
            state: SiteState::Pending,
            reason: None,
            table: None,
            denominator: None,
            statistics: None,
            notes: Vec::new(),
            elapsed_ms: None,
            snapshot: None,
        };
        match by_site.get(&s.id) {
            Some(rec) => {
                r.elapsed_ms = Some(rec.answer.elapsed_ms);
                r.snapshot = rec.answer.snapshot.clone();
                let late = rec.at > task.deadline;
                match &rec.answer.outcome {
                    Outcome::Answered {
                        table,
                        notes,
                        denominator,
                    } => {
                        r.table = Some(table.clone());
                        r.denominator = denominator.as_deref().cloned();
                        r.notes = notes.clone();
                        r.state = if late {
                            SiteState::Late
                        } else {
                            SiteState::Answered
                        };
                        if late {
                            r.reason = Some(format!(
                                "answered {} s after the deadline; not counted",
                                (rec.at - task.deadline).num_seconds()
                            ));
                        }
                    }
                    Outcome::Statistics { result, notes } => {
                        r.statistics = Some(result.clone());
                        r.notes = notes.clone();
                        r.state = if late {
                            SiteState::Late
                        } else {
                            SiteState::Answered
                        };
                        if late {
                            r.reason = Some(format!(
                                "answered {} s after the deadline; not counted",
                                (rec.at - task.deadline).num_seconds()
                            ));
                        }
                    }
                    Outcome::Refused { refusal } => {
                        r.state = SiteState::Refused;
                        r.reason = Some(refusal.to_string());
                    }
                    Outcome::Failed { error } => {
                        r.state = SiteState::Failed;
                        r.reason = Some(error.clone());
                    }
                }
            }
            None if now <= task.deadline => {}
            None => {
                let seen_recently = s
                    .last_seen
                    .is_some_and(|t| t + offline_after >= task.deadline.min(now));
                r.state = if seen_recently {
                    SiteState::Late
                } else {
                    SiteState::Offline
                };
                r.reason = Some(match (r.state, s.last_seen) {
                    (SiteState::Late, _) => "no answer by the deadline".to_owned(),
                    (_, Some(t)) => {
                        format!("offline: last seen {}", t.format("%Y-%m-%d %H:%M:%S UTC"))
                    }
                    _ => "offline: never connected".to_owned(),
                });
            }
        }
        out.push(r);
    }
    let answered: Vec<&SiteResult> = out
        .iter()
        .filter(|r| r.state == SiteState::Answered)
        .collect();
    let mut countries = BTreeMap::new();
    for c in answered
        .iter()
        .map(|r| r.country)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let group: Vec<&SiteResult> = answered
            .iter()
            .copied()
            .filter(|r| r.country == c)
            .collect();
        if let Some(t) = pool(&group, rules) {
            countries.insert(c, t);
        }
    }
    let total = pool(&answered, rules);
    let mut states = BTreeMap::new();
    for r in &out {
        *states
            .entry(
                serde_json::to_value(r.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )
            .or_insert(0) += 1;
    }
    Merged {
        task: task.clone(),
        complete: out.iter().all(|r| r.state != SiteState::Pending),
        sites: out,
        countries,
        total,
        states,
    }
}

impl Merged {
    /// Marks `site` as holding the task for its steward's approval since `since`: a pending
    /// site becomes [`SiteState::AwaitingApproval`] ("awaiting approval at de-berlin"); a site
    /// that was still holding it at the deadline is late because its steward did not decide.
    /// Answered, refused and failed sites are left as they are (the answer supersedes).
    pub fn mark_held(&mut self, site: &SiteId, since: DateTime<Utc>) {
        let Some(r) = self.sites.iter_mut().find(|r| &r.site == site) else {
            return;
        };
        let (before, after) = match r.state {
            SiteState::Pending => {
                r.reason = Some(format!(
                    "awaiting approval at {site} since {}",
                    since.format("%Y-%m-%d %H:%M:%S UTC")
                ));
                ("pending", SiteState::AwaitingApproval)
            }
            SiteState::Late | SiteState::Offline if r.table.is_none() => {
                r.reason = Some(format!(
                    "held for approval at {site} since {}; its data steward did not decide before the deadline",
                    since.format("%Y-%m-%d %H:%M:%S UTC")
                ));
                (
                    if r.state == SiteState::Late {
                        "late"
                    } else {
                        "offline"
                    },
                    SiteState::Late,
                )
            }
            _ => return,
        };
        r.state = after;
        if let Some(n) = self.states.get_mut(before) {
            *n -= 1;
            if *n == 0 {
                self.states.remove(before);
            }
        }
        let name = serde_json::to_value(after)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *self.states.entry(name).or_insert(0) += 1;
        self.complete = self
            .sites
            .iter()
            .all(|r| !matches!(r.state, SiteState::Pending | SiteState::AwaitingApproval));
    }
}

/// Pools gated tables of the same shape. Rows are matched by key; a site without a row
/// contributes nothing to it.
fn pool(group: &[&SiteResult], rules: &HubRules) -> Option<PooledTable> {
    let first = group.first()?.table.as_ref()?;
    let width = first.measures.len();
    let mut rows: BTreeMap<Vec<String>, Vec<Pooled>> = BTreeMap::new();
    for t in group.iter().filter_map(|r| r.table.as_ref()) {
        if t.measures != first.measures || t.dims != first.dims {
            continue;
        }
        for row in &t.rows {
            let cell = rows.entry(row.key.clone()).or_insert_with(|| {
                vec![
                    Pooled {
                        sum: Some(0),
                        suppressed_sites: 0,
                        suppressed_max: 0
                    };
                    width
                ]
            });
            for (p, v) in cell.iter_mut().zip(&row.values) {
                match v {
                    GatedCount::Value(n) => p.sum = p.sum.map(|s| s + n),
                    GatedCount::Suppressed { below } => {
                        p.suppressed_sites += 1;
                        p.suppressed_max += below.saturating_sub(1);
                    }
                }
            }
        }
    }
    let withheld = (group.len() < rules.min_sites).then(|| {
        format!(
            "pooled numbers need answers from at least {} sites; {} answered",
            rules.min_sites,
            group.len()
        )
    });
    let rows = rows
        .into_iter()
        .map(|(key, mut values)| {
            for p in &mut values {
                if withheld.is_some() || p.sum.is_some_and(|s| s < rules.min_total) {
                    p.sum = None;
                }
            }
            PooledRow { key, values }
        })
        .collect();
    Some(PooledTable {
        sites: group.len(),
        dims: first.dims.clone(),
        measures: first.measures.clone(),
        rows,
        withheld,
    })
}
