//! The running hub's shared state: settings, database, audit log, the hub's key, the notifiers that wake
//! long polls and waiting readers, and the counters.

use crate::config::HubConfig;
use crate::db::{Db, Role, Wake};
use crate::error::{ApiError, HubError};
use crate::metrics::Metrics;
use kakehashi_audit::AuditLog;
use kakehashi_federation::sign::SiteKey;
use std::sync::Arc;
use tokio::sync::Notify;

/// The running hub's shared state.
pub struct Hub {
    /// Settings.
    pub cfg: HubConfig,
    /// Database.
    pub db: Db,
    /// The hub's audit log.
    pub audit: AuditLog,
    /// The hub's Ed25519 key (`hub.key`), which signs its audit head for the sites.
    pub key: SiteKey,
    /// Woken when a task is created (sites' long polls).
    pub new_task: Notify,
    /// Per task: woken when one of its answers arrives (researchers' waits).
    pub task_waiters: std::sync::Mutex<std::collections::HashMap<String, Arc<Notify>>>,
    /// Counters.
    pub metrics: Metrics,
    /// Held from storing an answer to logging it, so a retry racing its original is logged
    /// once ([`crate::service::sites::accept_answer`]).
    pub accepting: std::sync::Mutex<()>,
    /// Sign-in failures per account and address.
    pub throttle: crate::throttle::Throttle,
    /// The OpenID Connect issuers users may sign in with (`[[oidc]]`).
    pub oidc: Vec<crate::auth::oidc::Issuer>,
    /// The mail server's client, when `[smtp]` is set.
    pub mailer: Option<crate::mail::Mailer>,
}

impl Hub {
    /// Opens the hub's state in `cfg.data_dir`.
    pub fn open(cfg: HubConfig) -> Result<Arc<Hub>, HubError> {
        let url = cfg.database_url.as_ref().map(|u| u.0.as_str());
        let db = Db::open_url(url, &cfg.data_dir)?;
        tracing::info!(database = %db.describe(), "hub database open");
        let audit = AuditLog::open(&cfg.data_dir.join("audit"))?;
        let key = kakehashi_audit::key::load_or_create(&cfg.data_dir.join("hub.key"))?;
        crate::auth::oidc::check_configs(&cfg.oidc)?;
        let oidc = cfg
            .oidc
            .iter()
            .map(|o| crate::auth::oidc::Issuer::new(o.clone(), &cfg.url()))
            .collect::<Result<Vec<_>, _>>()?;
        let mailer = cfg
            .smtp
            .as_ref()
            .map(crate::mail::Mailer::new)
            .transpose()?;
        let hub = Arc::new(Hub {
            cfg,
            db,
            audit,
            key,
            new_task: Notify::new(),
            task_waiters: Default::default(),
            metrics: Metrics::default(),
            accepting: std::sync::Mutex::new(()),
            throttle: Default::default(),
            oidc,
            mailer,
        });
        hub.listen()?;
        Ok(hub)
    }

    /// Wakes this replica's long polls and waiting readers when another replica on the same
    /// database stores a task or an answer (PostgreSQL `LISTEN`; nothing on SQLite). The
    /// listener ends within a second of the hub being dropped.
    fn listen(self: &Arc<Self>) -> Result<(), HubError> {
        let hub = Arc::downgrade(self);
        self.db.listen(Box::new(move |wake| {
            let Some(hub) = hub.upgrade() else {
                return false;
            };
            match wake {
                None => {}
                Some(Wake::NewTask) => hub.new_task.notify_waiters(),
                Some(Wake::Answer(task)) => hub.answer_arrived(&task),
                Some(Wake::Missed) => {
                    hub.new_task.notify_waiters();
                    let waiting: Vec<_> = hub
                        .task_waiters
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .values()
                        .cloned()
                        .collect();
                    waiting.iter().for_each(|n| n.notify_waiters());
                }
            }
            true
        }))?;
        Ok(())
    }

    /// Runs blocking work (SQLite, Argon2, the audit file) on tokio's blocking pool, so that
    /// it never stalls the threads that serve connections.
    pub async fn blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Hub) -> Result<T, ApiError> + Send + 'static,
    {
        let hub = self.clone();
        tokio::task::spawn_blocking(move || f(&hub))
            .await
            .map_err(|e| ApiError::internal(format!("blocking task: {e}")))?
    }

    /// Creates the first administrator when the hub has no users yet. Returns whether it did.
    pub fn bootstrap_admin(&self, name: &str, password: &str) -> Result<bool, ApiError> {
        if self.db.user_count()? > 0 {
            return Ok(false);
        }
        self.db.put_user(
            name,
            &crate::auth::hash_password(password)?,
            Role::Admin,
            None,
        )?;
        self.audit_log(
            "user_created",
            serde_json::json!({"user": name, "role": "admin", "by": "bootstrap"}),
        )?;
        Ok(true)
    }

    /// The configured OpenID Connect issuer with this id.
    pub fn issuer(&self, id: &str) -> Option<&crate::auth::oidc::Issuer> {
        self.oidc.iter().find(|i| i.cfg.id == id)
    }

    /// The notifier of a task's answers.
    pub fn task_notify(&self, task: &str) -> Arc<Notify> {
        self.task_waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(task.to_owned())
            .or_default()
            .clone()
    }

    /// Wakes the readers waiting on a task.
    pub fn answer_arrived(&self, task: &str) {
        let n = self
            .task_waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(task)
            .cloned();
        if let Some(n) = n {
            n.notify_waiters();
        }
    }

    /// Forgets a task's notifier when nobody waits on it any more.
    pub fn release_notify(&self, task: &str, n: Arc<Notify>) {
        let mut m = self.task_waiters.lock().unwrap_or_else(|p| p.into_inner());
        drop(n);
        if m.get(task).is_some_and(|x| Arc::strong_count(x) == 1) {
            m.remove(task);
        }
    }

    /// Appends to the hub's audit log.
    pub fn audit_log(&self, kind: &str, detail: serde_json::Value) -> Result<(), ApiError> {
        self.audit
            .append(kind, detail)
            .map(|_| ())
            .map_err(|e| ApiError::internal(e.to_string()))
    }
}
