//! The transport: HTTP/1.1 over plain TCP or TLS, served by hyper's connection builder with
//! tokio-rustls, so that one slow or hostile client cannot take the hub down:
//!
//! - a connection cap (a semaphore: past it, new connections wait in the listen backlog);
//! - a TLS handshake timeout;
//! - a header read timeout, which is also the keep-alive idle timeout (hyper starts it when it
//!   waits for the next request on a connection);
//! - a request-body read timeout between chunks; the body size limit (413) is the router's
//!   ([`crate::router`]), inside the security headers, so that the 413 carries them too;
//! - a request-header size limit (431);
//! - graceful shutdown: on the signal, stop accepting, let requests in flight finish within
//!   the grace period, then close;
//! - a failed accept, handshake or connection is logged and dropped; it never ends the server.

use crate::config::{LimitsConfig, TlsConfig};
use crate::{Hub, HubError, router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Serves the hub until `shutdown` resolves: plain HTTP, or HTTPS when TLS is configured.
pub async fn serve(
    hub: Arc<Hub>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let tls = match &hub.cfg.tls {
        Some(t) => Some(acceptor(t)?),
        None => None,
    };
    let limits = hub.cfg.limits.clone();
    crate::service::notify::spawn_loop(&hub);
    serve_app(router(hub), listener, tls, limits, shutdown).await
}

/// The TLS acceptor for the configured certificate and key (HTTP/1.1 by ALPN).
pub fn acceptor(tls: &TlsConfig) -> Result<TlsAcceptor, HubError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| HubError::TlsFile {
            file: tls.cert.clone(),
            reason: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| HubError::TlsFile {
        file: tls.key.clone(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::Tls {
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| HubError::Tls {
            reason: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves any router with the transport's limits, the body size limit left to the router
/// (the hub's [`serve`] uses it; tests serve small routers through it).
pub async fn serve_app(
    app: axum::Router,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: LimitsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let service = ServiceBuilder::new()
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            limits.body_read_timeout_seconds,
        )))
        .service(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_seconds))
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192) + 8192)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let handshake = Duration::from_secs(limits.tls_handshake_timeout_seconds);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // a free slot first: past the cap, connections wait in the kernel's backlog
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // e.g. too many open files: wait a little, never give up serving
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        // each request knows the client's address (sign-in throttling per address)
        let service = TowerToHyperService::new(tower::util::MapRequest::new(
            service.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let (http, tls, watcher) = (http.clone(), tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => {
                    let conn = http.serve_connection(TokioIo::new(tcp), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                Some(acceptor) => {
                    let Some(stream) = handshake_within(&acceptor, tcp, handshake).await else {
                        return;
                    };
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
            }
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.shutdown_grace_seconds);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period; closing");
    }
    Ok(())
}

/// The TLS handshake, or `None` when it fails or takes longer than `limit`.
async fn handshake_within(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    limit: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}
