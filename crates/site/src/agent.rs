//! The site agent: long-polls the hub for tasks (outbound connections only), checks each task's
//! project against the site's policy, answers it over the local store, passes the result
//! through the disclosure gate, logs it in the site's audit chain, signs it and posts it.
//! Reconnects with backoff; a hub restart or an unreachable hub only delays answers.

use crate::admission;
use crate::tasks::{self, Computed};
use chrono::Utc;
use kakehashi_disclosure::{Gate, Policy, Question, Refusal};
use kakehashi_federation::audit::AuditLog;
use kakehashi_federation::sign::SiteKey;
use kakehashi_federation::{
    AnswerOut, IncomingPoll, IncomingTask, Note, OutcomeOut, PROTOCOL_VERSION, PollRequest,
    SnapshotInfo, Task,
};
use kakehashi_model::SiteId;
use kakehashi_store::Store;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod approval;
mod hub_client;
mod release;

pub use hub_client::hub_client;

type Gated = kakehashi_disclosure::Released<kakehashi_disclosure::GatedTable>;
/// The released table, notes, and the released denominator.
type Answered = (Gated, Vec<Note>, Option<Gated>);
/// What a task comes to: released data, a refusal, or the site's error.
type TaskOutcome = Result<Answered, Result<Refusal, String>>;

/// The agent's settings (`site.toml`). `KAKEHASHI_SITE_HUB`, `KAKEHASHI_SITE_TOKEN` and
/// `KAKEHASHI_SITE_DIR` override the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The site's id, as registered at the hub.
    pub site_id: SiteId,
    /// The hub's URL, e.g. `https://hub.example.org`.
    pub hub: String,
    /// The site token from registration (or use `token_file`).
    #[serde(default)]
    pub token: Option<String>,
    /// A file holding the site token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The site's data directory (its store).
    pub site_dir: PathBuf,
    /// Where the agent keeps its key, gate ledger and audit log. Default `<site_dir>/agent`.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// The network's CA certificate(s), PEM: the only roots trusted for the hub (they replace
    /// the system's roots).
    #[serde(default)]
    pub hub_ca: Option<PathBuf>,
    /// The SHA-256 of the hub's certificate (DER, 64 hex digits): the agent talks only to a hub
    /// presenting exactly this certificate. One of `hub_ca` and this, or neither.
    #[serde(default)]
    pub hub_cert_sha256: Option<String>,
    /// Allow a plain `http://` hub (a demo on loopback); without it the agent refuses one.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Seconds the hub may hold a poll open. Default 25.
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// Longest pause between reconnection attempts, seconds. Default 30.
    #[serde(default = "default_backoff")]
    pub max_backoff_seconds: u64,
    /// The disclosure policy.
    #[serde(default)]
    pub disclosure: Policy,
    /// The steward console and the approval mode (`[console]`); none: no console, automatic
    /// approval.
    #[serde(default)]
    pub console: Option<crate::console::ConsoleConfig>,
}

fn default_poll() -> u64 {
    25
}
fn default_backoff() -> u64 {
    30
}

/// An agent failure (at startup; once running, the agent retries instead of failing).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Configuration.
    #[error("{0}")]
    Config(String),
    /// The gate could not be opened.
    #[error(transparent)]
    Gate(#[from] kakehashi_disclosure::GateError),
    /// The audit log is broken or unwritable.
    #[error(transparent)]
    Audit(#[from] kakehashi_federation::audit::AuditError),
    /// The key could not be loaded.
    #[error(transparent)]
    Key(#[from] kakehashi_federation::sign::SignError),
    /// The steward's records could not be opened.
    #[error(transparent)]
    Steward(#[from] crate::steward::StewardError),
}

impl AgentConfig {
    /// Reads a `site.toml` and applies environment overrides.
    pub fn load(path: &Path) -> Result<AgentConfig, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AgentError::Config(format!("{}: {e}", path.display())))?;
        let mut c: AgentConfig = toml::from_str(&text)
            .map_err(|e| AgentError::Config(format!("{}: {e}", path.display())))?;
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_HUB") {
            c.hub = v;
        }
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_TOKEN") {
            c.token = Some(v);
        }
        if let Ok(v) = std::env::var("KAKEHASHI_SITE_DIR") {
            c.site_dir = PathBuf::from(v);
        }
        Ok(c)
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.site_dir.join("agent"))
    }

    fn token(&self) -> Result<String, AgentError> {
        match (&self.token, &self.token_file) {
            (Some(t), _) => Ok(t.trim().to_owned()),
            (None, Some(f)) => std::fs::read_to_string(f).map(|s| s.trim().to_owned()).map_err(|e| AgentError::Config(format!("token_file {}: {e}", f.display()))),
            (None, None) => Err(AgentError::Config("no site token: set `token` or `token_file` in the site configuration, or KAKEHASHI_SITE_TOKEN".into())),
        }
    }
}

/// The public key of the site's signing key (made on first use), to register at the hub.
pub fn public_key(cfg: &AgentConfig) -> Result<String, AgentError> {
    Ok(SiteKey::load_or_create(&cfg.state_dir().join("site.key"))?.public_key())
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
    running: Mutex<HashSet<String>>,
    steward: crate::steward::Steward,
}

impl Agent {
    /// Opens the agent's state (key, gate, audit log) and HTTP client.
    pub fn open(cfg: AgentConfig) -> Result<Arc<Agent>, AgentError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // first: a hub the agent must not talk to stops it before anything is opened
        let http = hub_client(&cfg)?;
        let state = cfg.state_dir();
        let token = cfg.token()?;
        let gate = Gate::open(&state, cfg.disclosure.clone())?;
        let audit = AuditLog::open(&state.join("audit"))?;
        let key = SiteKey::load_or_create(&state.join("site.key"))?;
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
            running: Mutex::new(HashSet::new()),
            steward,
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

    /// Starts handling a task unless it is already being handled; returns whether it started.
    /// The tasks this agent is answering or holding (told to the hub with every poll).
    fn in_hand(&self) -> Vec<kakehashi_model::TaskId> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .iter()
            .filter_map(|id| kakehashi_model::TaskId::new(id.clone()).ok())
            .collect()
    }

    fn spawn_task(self: &Arc<Self>, task: IncomingTask) -> bool {
        let fresh = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(task.id.to_string());
        if fresh {
            let me = self.clone();
            tokio::spawn(async move {
                let id = task.id.to_string();
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

    /// Polls until `shutdown` is set, answering tasks as they come.
    pub async fn run(self: Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut backoff = 1u64;
        let mut shutdown = shutdown;
        tracing::info!(site = %self.cfg.site_id, hub = %self.cfg.hub, "agent started");
        // tasks held for the steward (or in flight) when the agent stopped: the hub no longer
        // hands out a held task, so the agent picks them up from its own records
        for task in self.steward.unfinished().unwrap_or_default() {
            self.spawn_task(IncomingTask {
                id: task.id,
                project: task.project,
                requested_by: task.requested_by,
                created: task.created,
                deadline: task.deadline,
                spec: Ok(task.spec),
            });
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            let poll = self.poll();
            let res = tokio::select! {
                r = poll => r,
                _ = shutdown.changed() => return,
            };
            match res {
                Ok(tasks) => {
                    backoff = 1;
                    let n = tasks.len();
                    let started = tasks
                        .into_iter()
                        .filter(|t| self.spawn_task(t.clone()))
                        .count();
                    if n > 0 && started == 0 {
                        // every task offered is already in hand (a hub that does not read
                        // `in_hand` returns at once while they run): pause instead of spinning
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {},
                            _ = shutdown.changed() => return,
                        }
                    }
                }
                Err(e) => {
                    let pause = backoff.min(self.cfg.max_backoff_seconds.max(1));
                    tracing::warn!(error = %e, retry_in_s = pause, "hub unreachable");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(pause * 1000 + rand::random_range(0..250))) => {},
                        _ = shutdown.changed() => return,
                    }
                    backoff = (backoff * 2).min(self.cfg.max_backoff_seconds.max(1));
                }
            }
        }
    }

    async fn poll(&self) -> Result<Vec<IncomingTask>, String> {
        let req = PollRequest {
            protocol: PROTOCOL_VERSION,
            version: env!("CARGO_PKG_VERSION").into(),
            snapshot: self.snapshot_info(),
            policy: self.cfg.disclosure.summary(),
            audit_head: self.audit.head(),
            wait_seconds: self.cfg.poll_seconds,
            signed_head: Some(self.signed_head()),
            in_hand: self.in_hand(),
        };
        let resp = self
            .http
            .post(self.url("/api/site/poll"))
            .bearer_auth(&self.token)
            .json(&req)
            .timeout(Duration::from_secs(self.cfg.poll_seconds + 15))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(format!("poll: HTTP {status}: {body}"));
        }
        let poll = resp
            .json::<IncomingPoll>()
            .await
            .map_err(|e| format!("poll response: {e}"))?;
        if let Some(h) = &poll.hub_head {
            self.remember_hub_head(h);
        }
        Ok(poll.tasks)
    }

    /// Handles one task: a question this site cannot read (an unsupported version, an unknown
    /// field, too many codes) is answered with the reason, before anything is computed or
    /// spent; any other is admitted, computed, gated, logged, signed and sent.
    async fn handle(self: &Arc<Self>, incoming: IncomingTask) {
        let log = |kind: &str, detail: serde_json::Value| {
            if let Err(e) = self.audit.append(kind, detail) {
                tracing::error!(error = %e, "audit log append failed");
            }
        };
        let task = match incoming.spec {
            Ok(spec) => Task {
                id: incoming.id,
                project: incoming.project,
                requested_by: incoming.requested_by,
                created: incoming.created,
                deadline: incoming.deadline,
                spec,
            },
            Err(e) => {
                let error = e.to_string();
                log(
                    "task_refused",
                    serde_json::json!({"task": incoming.id, "project": incoming.project, "requested_by": incoming.requested_by, "error": error}),
                );
                let head = self.audit.head();
                let a = AnswerOut {
                    task: &incoming.id,
                    site: &self.cfg.site_id,
                    snapshot: None,
                    elapsed_ms: 0,
                    audit_head: &head,
                    outcome: OutcomeOut::Failed { error: &error },
                };
                let body = serde_json::to_string(&a).expect("an answer serialises");
                let env = self.key.seal(&self.cfg.site_id, body);
                self.send(&incoming.id, incoming.deadline, &env).await;
                return;
            }
        };
        log(
            "task_received",
            serde_json::json!({"task": task.id, "project": task.project, "requested_by": task.requested_by, "type": task.spec.kind(), "deadline": task.deadline, "spec": task.spec}),
        );
        if Utc::now() > task.deadline {
            log(
                "task_skipped",
                serde_json::json!({"task": task.id, "reason": "deadline passed before the site saw it"}),
            );
            let _ = self.steward.expired(task.id.as_str());
            return;
        }
        // the steward's queue: in manual-approval mode the task waits for a decision
        let Some(steward_ok) = self.steward_verdict(&task).await else {
            return;
        };
        let started = std::time::Instant::now();
        let snapshot = self.snapshot_info();
        // Admission: decided before anything is computed (project, rate, estimated work).
        let admitted = steward_ok.and_then(|()| {
            let snap_now = self.cache.snapshot(&self.store).ok();
            self.gate
                .admit(&admission::admission(&task, snap_now.as_deref()))
        });
        let outcome: TaskOutcome = match admitted {
            Err(r) => Err(Ok(r)),
            Ok(()) => {
                let me = self.clone();
                let mut spec = task.spec.clone();
                // a hub that sets no evaluation date: ages as of the day the task was made
                if let kakehashi_federation::TaskSpec::Cohort(r) = &spec
                    && r.evaluation_date().is_none()
                {
                    match r.clone().with_evaluation_date(task.created.date_naive()) {
                        Ok(dated) => spec = kakehashi_federation::TaskSpec::Cohort(dated),
                        Err(e) => tracing::warn!(error = %e, "evaluation date"),
                    }
                }
                let site = self.cfg.site_id.to_string();
                let limit = self.cfg.disclosure.max_seconds;
                // A task past the time bound is refused; its thread finishes in the background
                // and its result is dropped, never released.
                let computed = tokio::time::timeout(
                    admission::compute_limit(limit),
                    tokio::task::spawn_blocking(move || {
                        tasks::compute(&me.store, &me.cache, &site, &spec)
                    }),
                )
                .await;
                match computed {
                    Err(_) => Err(Ok(Refusal::TooSlow {
                        limit_seconds: limit,
                    })),
                    Ok(Err(e)) => Err(Err(format!("the task crashed at the site: {e}"))),
                    Ok(Ok(Err(e))) => Err(Err(e)),
                    Ok(Ok(Ok(Computed {
                        table,
                        key,
                        sensitivity,
                        snapshot_tag,
                        mut notes,
                        series,
                        denominator,
                    }))) => {
                        let q = Question {
                            project: &task.project,
                            researcher: &task.requested_by,
                            key: &key,
                            sensitivity,
                        };
                        let released = if series {
                            self.gate.release_series(&q, table)
                        } else {
                            self.gate.release(&q, table)
                        };
                        released
                            .map(|r| {
                                // The denominator is its own question: spent once per project and snapshot.
                                let den = denominator.and_then(|d| {
                                    let dkey = crate::key::denominator(&snapshot_tag);
                                    let dq = Question {
                                        project: &task.project,
                                        researcher: &task.requested_by,
                                        key: &dkey,
                                        sensitivity: 1,
                                    };
                                    self.gate
                                        .release(&dq, d)
                                        .map_err(|refusal| {
                                            notes.push(Note::DenominatorRefused { refusal })
                                        })
                                        .ok()
                                });
                                (r, notes, den)
                            })
                            .map_err(Ok)
                    }
                }
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let outcome = self.log_release(&task, outcome, elapsed_ms);
        let (status, refusal, error) = match &outcome {
            Ok(_) => ("answered", None, None),
            Err(Ok(r)) => ("refused", Some(r.clone()), None),
            Err(Err(e)) => ("failed", None, Some(e.clone())),
        };
        let head = self.audit.head();
        let body = {
            let outcome = match &outcome {
                Ok((r, notes, den)) => OutcomeOut::Answered {
                    table: r,
                    notes,
                    denominator: den.as_ref(),
                },
                Err(Ok(r)) => OutcomeOut::Refused { refusal: r },
                Err(Err(e)) => OutcomeOut::Failed { error: e },
            };
            let a = AnswerOut {
                task: &task.id,
                site: &self.cfg.site_id,
                snapshot: snapshot.as_ref(),
                elapsed_ms,
                audit_head: &head,
                outcome,
            };
            serde_json::to_string(&a).expect("an answer serialises")
        };
        let env = self.key.seal(&self.cfg.site_id, body);
        let spent = match &outcome {
            Ok((r, _, d)) => Some(approval::spent(r) + d.as_ref().map_or(0.0, approval::spent)),
            _ => None,
        };
        let reason = refusal.as_ref().map(ToString::to_string).or(error);
        self.record_sent(&task, status, reason, spent, &env);
        self.send(&task.id, task.deadline, &env).await;
    }

    /// Posts an answer, retrying on network errors until a minute after the deadline.
    async fn send(
        &self,
        task: &kakehashi_model::TaskId,
        deadline: chrono::DateTime<Utc>,
        env: &kakehashi_federation::Envelope,
    ) {
        let give_up = deadline + chrono::Duration::seconds(60);
        let mut pause = 500u64;
        loop {
            let r = self
                .http
                .post(self.url("/api/site/answer"))
                .bearer_auth(&self.token)
                .json(env)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().is_success() => {
                    tracing::info!(task = %task, "answer sent");
                    return;
                }
                Ok(resp) if resp.status().is_client_error() => {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    tracing::warn!(task = %task, %status, body, "hub refused the answer");
                    return;
                }
                Ok(resp) => {
                    tracing::warn!(task = %task, status = %resp.status(), "hub error; retrying")
                }
                Err(e) => tracing::warn!(task = %task, error = %e, "hub unreachable; retrying"),
            }
            if Utc::now() > give_up {
                tracing::warn!(task = %task, "giving up sending the answer");
                return;
            }
            tokio::time::sleep(Duration::from_millis(pause)).await;
            pause = (pause * 2).min(5000);
        }
    }
}
