//! The site agent: long-polls the hub for tasks (outbound connections only), checks each task's
//! project against the site's policy, answers it over the local store, passes the result
//! through the disclosure gate, logs it in the site's audit chain, signs it and posts it.
//! Every call to the hub backs off with jitter on failure ([`backoff`]); a hub restart or an
//! unreachable hub only delays answers; a refusal by the hub is final.
//!
//! Modules: [`config`] (settings), `poll` (the poll loop), `handle` (one task), `send`
//! (posting and uploading answers), [`backoff`] (retries), `approval` (the steward's queue),
//! `release` (the audit at the boundary), `hub_client` (TLS and pinning), `catalogue` (the
//! site's MIABIS catalogue, sent to the hub on start and when it changes), `enrolment` (study
//! enrolments), `prefill` (pre-fill requests for enrolled subjects, under the steward's policy).

use crate::tasks;
use chrono::{DateTime, Utc};
use kakehashi_audit::AuditLog;
use kakehashi_disclosure::{Gate, Refusal};
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{IncomingTask, Note, SnapshotInfo};
use kakehashi_model::TaskId;
use kakehashi_store::Store;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

mod approval;
pub mod backoff;
mod catalogue;
pub mod config;
mod enrolment;
mod handle;
mod hub_client;
mod poll;
mod prefill;
mod release;
mod send;

pub use config::{AgentConfig, AgentError};
pub use hub_client::hub_client;

/// How many finished tasks the agent remembers (within their deadlines) to tell the hub.
const MAX_FINISHED: usize = 10_000;

type Gated = kakehashi_disclosure::Released<kakehashi_disclosure::GatedTable>;
/// What leaves the site for a task: a gated count table, or exact statistics released by the
/// gate's statistics path. Both only as `Released` values.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Payload {
    /// A gated count table.
    Table(Gated),
    /// Exact statistics.
    Statistics(kakehashi_disclosure::Released<kakehashi_federation::task::stats::StatsAnswer>),
}
/// The released payload, notes, and the released denominator.
type Answered = (Payload, Vec<Note>, Option<Gated>);
/// What a task comes to: released data, a refusal, or the site's error. The error stays a
/// `String`: it is the wire text (`OutcomeOut::Failed { error }`) the hub shows and the audit
/// records, already rendered from the typed error where the task failed.
type TaskOutcome = Result<Answered, Result<Refusal, String>>;

/// The public key of the site's signing key (made on first use), to register at the hub.
pub fn public_key(cfg: &AgentConfig) -> Result<String, AgentError> {
    Ok(kakehashi_audit::key::load_or_create(&cfg.state_dir().join("site.key"))?.public_key())
}

/// A running agent's parts.
pub struct Agent {
    cfg: AgentConfig,
    token: String,
    http: reqwest::Client,
    gate: Gate,
    audit: AuditLog,
    key: SiteKey,
    store: Store,
    cache: tasks::Cache,
    /// The row sets statistics were released over (the differencing rule).
    row_sets: tasks::RowSets,
    running: Mutex<HashSet<String>>,
    /// Tasks answered, refused by the hub or given up, with their deadlines: told to the hub
    /// as in hand, and never started again.
    finished: Mutex<HashMap<String, DateTime<Utc>>>,
    steward: crate::steward::Steward,
    /// The SHA-256 of the catalogue file last settled with the hub (sent, refused, or failing
    /// its checks): the file is sent again only when it changes.
    catalogue_settled: Mutex<Option<String>>,
}

impl Agent {
    /// Opens the agent's state (key, gate, audit log) and HTTP client.
    pub fn open(cfg: AgentConfig) -> Result<Arc<Agent>, AgentError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        cfg.check()?;
        // first: a hub the agent must not talk to stops it before anything is opened
        let http = hub_client(&cfg)?;
        let state = cfg.state_dir();
        let token = cfg.token()?;
        let gate = crate::ledger::open_gate(&state, cfg.disclosure.clone())?;
        let audit = AuditLog::open(&state.join("audit"))?;
        let key = kakehashi_audit::key::load_or_create(&state.join("site.key"))?;
        let approval = cfg.console.as_ref().map(|c| c.approval).unwrap_or_default();
        let steward = crate::steward::Steward::open(&state, approval)?;
        let store = Store::open(&cfg.site_dir);
        Ok(Arc::new(Agent {
            cfg,
            token,
            http,
            gate,
            audit,
            key,
            store,
            cache: tasks::Cache::default(),
            row_sets: tasks::RowSets::open(&state),
            running: Mutex::new(HashSet::new()),
            finished: Mutex::new(HashMap::new()),
            steward,
            catalogue_settled: Mutex::new(None),
        }))
    }

    /// The agent's settings.
    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    /// The disclosure gate (policy and ledger).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The steward's records and queue.
    pub fn steward(&self) -> &crate::steward::Steward {
        &self.steward
    }

    /// Appends to the site's audit log (failures are logged, never fatal).
    pub(crate) fn audit_event(&self, kind: &str, detail: serde_json::Value) {
        if let Err(e) = self.audit.append(kind, detail) {
            tracing::error!(error = %e, "audit log append failed");
        }
    }

    /// The tasks this agent is answering, holding or has finished within their deadlines
    /// (told to the hub with every poll, which leaves them out).
    fn in_hand(&self) -> Vec<TaskId> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now();
        finished.retain(|_, deadline| *deadline > now);
        running
            .iter()
            .chain(finished.keys())
            .filter_map(|id| TaskId::new(id.clone()).ok())
            .collect()
    }

    /// Keeps a task as finished until its deadline: a poll does not bring it back and it is
    /// never started again.
    fn finish(&self, task: &TaskId, deadline: DateTime<Utc>) {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        if finished.len() >= MAX_FINISHED {
            let now = Utc::now();
            finished.retain(|_, d| *d > now);
        }
        if finished.len() < MAX_FINISHED {
            finished.insert(task.to_string(), deadline);
        }
    }

    /// Starts handling a task unless it is in hand or finished; returns whether it started.
    fn spawn_task(self: &Arc<Self>, task: IncomingTask) -> bool {
        let id = task.id.to_string();
        if self
            .finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&id)
        {
            return false;
        }
        let fresh = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone());
        if fresh {
            let me = self.clone();
            tokio::spawn(async move {
                me.handle(task).await;
                me.running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
            });
        }
        fresh
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.hub.trim_end_matches('/'))
    }

    fn snapshot_info(&self) -> Option<SnapshotInfo> {
        let snap = self.store.current().ok()?;
        let patients = snap.resources.get("Patient").copied().unwrap_or(0);
        let step = self.cfg.disclosure.rounding.max(1);
        Some(SnapshotInfo {
            id: snap.id,
            created: snap.created,
            patients_rounded: (patients + step / 2) / step * step,
        })
    }
}
