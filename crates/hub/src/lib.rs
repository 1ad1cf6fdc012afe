//! The hub at the network office: HTTP API and web UI, users and roles, the task queue that
//! sites pull from (they never accept connections), answer verification and merging, its
//! audit log and metrics. State lives in SQLite (WAL) under the data directory.

pub mod anchor;
pub mod api;
pub mod auth;
pub mod config;
pub mod criteria;
pub mod db;
pub mod openapi;
pub mod ui;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use config::HubConfig;
use db::{Db, DbError, Role};
use kakehashi_federation::audit::{AuditError, AuditLog};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// A hub failure at startup.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The hub's signing key (`hub.key`).
    #[error(transparent)]
    Key(#[from] kakehashi_federation::sign::SignError),
    /// Network or TLS setup.
    #[error("{0}")]
    Serve(String),
}

/// Counters exported at `/metrics` (Prometheus text format).
#[derive(Default)]
pub struct Metrics {
    /// Tasks created.
    pub tasks: AtomicU64,
    /// Answers accepted, by outcome.
    pub answers_answered: AtomicU64,
    /// Refusals received.
    pub answers_refused: AtomicU64,
    /// Failures received.
    pub answers_failed: AtomicU64,
    /// Answers rejected (bad signature, not asked, duplicate).
    pub answers_rejected: AtomicU64,
    /// Site polls.
    pub polls: AtomicU64,
    /// Requests refused with 401 or 403.
    pub auth_failures: AtomicU64,
}

/// The running hub's shared state.
pub struct Hub {
    /// Settings.
    pub cfg: HubConfig,
    /// Database.
    pub db: Db,
    /// The hub's audit log.
    pub audit: AuditLog,
    /// The hub's Ed25519 key (`hub.key`), which signs its audit head for the sites.
    pub key: kakehashi_federation::sign::SiteKey,
    /// Woken when a task is created (sites' long polls).
    pub new_task: Notify,
    /// Per task: woken when one of its answers arrives (researchers' waits).
    pub task_waiters: std::sync::Mutex<std::collections::HashMap<String, Arc<Notify>>>,
    /// Counters.
    pub metrics: Metrics,
}

impl Hub {
    /// Opens the hub's state in `cfg.data_dir`.
    pub fn open(cfg: HubConfig) -> Result<Arc<Hub>, HubError> {
        let db = Db::open(&cfg.data_dir)?;
        let audit = AuditLog::open(&cfg.data_dir.join("audit"))?;
        let key =
            kakehashi_federation::sign::SiteKey::load_or_create(&cfg.data_dir.join("hub.key"))?;
        Ok(Arc::new(Hub {
            cfg,
            db,
            audit,
            key,
            new_task: Notify::new(),
            task_waiters: Default::default(),
            metrics: Metrics::default(),
        }))
    }

    /// Creates the first administrator when the hub has no users yet. Returns whether it did.
    pub fn bootstrap_admin(&self, name: &str, password: &str) -> Result<bool, ApiError> {
        if self.db.user_count()? > 0 {
            return Ok(false);
        }
        self.db
            .put_user(name, &auth::hash_password(password)?, Role::Admin, None)?;
        self.audit_log(
            "user_created",
            serde_json::json!({"user": name, "role": "admin", "by": "bootstrap"}),
        )?;
        Ok(true)
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

    /// The metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        let m = &self.metrics;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let online = self
            .db
            .sites()
            .map(|s| {
                let cutoff = chrono::Utc::now()
                    - chrono::Duration::seconds(self.cfg.tasks.offline_after_seconds as i64);
                s.iter()
                    .filter(|s| s.last_seen.is_some_and(|t| t >= cutoff))
                    .count()
            })
            .unwrap_or(0);
        format!(
            "# HELP kakehashi_hub_tasks_total Tasks created.\n# TYPE kakehashi_hub_tasks_total counter\nkakehashi_hub_tasks_total {}\n\
             # HELP kakehashi_hub_answers_total Site answers accepted, by outcome.\n# TYPE kakehashi_hub_answers_total counter\n\
             kakehashi_hub_answers_total{{outcome=\"answered\"}} {}\nkakehashi_hub_answers_total{{outcome=\"refused\"}} {}\nkakehashi_hub_answers_total{{outcome=\"failed\"}} {}\n\
             # HELP kakehashi_hub_answers_rejected_total Answers rejected (signature, not asked, duplicate).\n# TYPE kakehashi_hub_answers_rejected_total counter\nkakehashi_hub_answers_rejected_total {}\n\
             # HELP kakehashi_hub_polls_total Site polls.\n# TYPE kakehashi_hub_polls_total counter\nkakehashi_hub_polls_total {}\n\
             # HELP kakehashi_hub_auth_failures_total Requests refused with 401 or 403.\n# TYPE kakehashi_hub_auth_failures_total counter\nkakehashi_hub_auth_failures_total {}\n\
             # HELP kakehashi_hub_sites_online Sites seen within the offline window.\n# TYPE kakehashi_hub_sites_online gauge\nkakehashi_hub_sites_online {}\n",
            g(&m.tasks),
            g(&m.answers_answered),
            g(&m.answers_refused),
            g(&m.answers_failed),
            g(&m.answers_rejected),
            g(&m.polls),
            g(&m.auth_failures),
            online
        )
    }
}

/// An API error: an HTTP status and a JSON body `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError {
    /// Status.
    pub status: StatusCode,
    /// Short code.
    pub code: &'static str,
    /// What went wrong, for the user.
    pub message: String,
}

impl ApiError {
    /// 400 with a message naming the field.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "sign in or send a valid token (Authorization: Bearer ...)".into(),
        }
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: message.into(),
        }
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        tracing::error!(%message, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// The hub's router: the API, metrics, and the web UI, with the body limit and the count of
/// refused callers.
pub fn router(hub: Arc<Hub>) -> axum::Router {
    api::routes()
        .merge(ui::routes())
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            api::count_auth_failures,
        ))
        .with_state(hub)
}

/// Serves the hub until `shutdown` resolves: plain HTTP, or HTTPS when TLS is configured.
pub async fn serve(
    hub: Arc<Hub>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let app = router(hub.clone());
    match hub.cfg.tls.clone() {
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| HubError::Serve(e.to_string())),
        Some(tls) => serve_tls(app, listener, &tls, shutdown).await,
    }
}

async fn serve_tls(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    tls: &config::TlsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| HubError::Serve(format!("{}: {e}", tls.cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| HubError::Serve(format!("{}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::Serve(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| HubError::Serve(format!("TLS certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => r.map_err(|e| HubError::Serve(e.to_string()))?,
            () = &mut shutdown => return Ok(()),
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
        });
    }
}
