//! The hub's transport over real sockets on loopback: a slow client is cut off while others
//! are served, bad TLS handshakes leave the server serving, the connection cap holds,
//! oversized heads and bodies get 431 and 413, and shutdown lets requests in flight finish.

use kakehashi_hub::config::{HubConfig, LimitsConfig, TlsConfig};
use kakehashi_hub::{Hub, HubError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

fn certs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

/// A hub served on a free loopback port, stopped on drop.
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<JoinHandle<Result<(), HubError>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            d.abort();
        }
    }
}

async fn start(limits: LimitsConfig, tls: bool) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let cfg = HubConfig {
        data_dir: dir.path().join("hub"),
        limits,
        tls: tls.then(|| TlsConfig {
            cert: certs().join("hub.pem"),
            key: certs().join("hub.key"),
        }),
        ..HubConfig::default()
    };
    let hub = Hub::open(cfg).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(kakehashi_hub::serve(hub, listener, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        done: Some(done),
        _dir: dir,
    }
}

/// Sends a request and returns the status code of the answer (0 when the connection closed
/// without one).
async fn status<S: AsyncRead + AsyncWrite + Unpin>(s: S, request: &[u8]) -> u16 {
    let head = response_head(s, request).await;
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Sends a raw request and reads the response's head (status line and headers).
async fn response_head<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, request: &[u8]) -> String {
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n";

async fn healthz(addr: SocketAddr) -> u16 {
    status(TcpStream::connect(addr).await.unwrap(), HEALTHZ).await
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs().join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

async fn healthz_tls(addr: SocketAddr) -> u16 {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let s = tls_connector().connect(name, tcp).await.unwrap();
    status(s, HEALTHZ).await
}

/// Waits for the server to do something to a connection (close it, reset it, or answer);
/// `None` if it did nothing within `limit`.
async fn closed_within(s: &mut (impl AsyncRead + Unpin), limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = [0u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| t.elapsed())
}

/// A client that sends its headers a byte at a time and never finishes is cut off after the
/// header timeout (not before), while another client's request still answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_off_while_others_are_served() {
    let limits = LimitsConfig {
        header_read_timeout_seconds: 1,
        ..LimitsConfig::default()
    };
    let hub = start(limits, false).await;
    let slow = TcpStream::connect(hub.addr).await.unwrap();
    let started = Instant::now();
    let (mut rd, mut wr) = slow.into_split();
    let writer = tokio::spawn(async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: ";
        for b in head.iter().chain(std::iter::repeat(&b'a')) {
            if wr.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    assert_eq!(healthz(hub.addr).await, 200);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let cut = closed_within(&mut rd, Duration::from_secs(6)).await;
    writer.abort();
    let cut = cut.map(|_| started.elapsed());
    assert!(
        cut.is_some_and(|c| c >= Duration::from_millis(900)),
        "the slow client was not cut off after the header timeout: {cut:?}"
    );
    assert_eq!(healthz(hub.addr).await, 200);
}

/// A kept-alive connection that sits idle after its answer is closed after the header timeout
/// (the keep-alive idle limit), not held for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let limits = LimitsConfig {
        header_read_timeout_seconds: 1,
        ..LimitsConfig::default()
    };
    let hub = start(limits, false).await;
    let mut c = TcpStream::connect(hub.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    let idle = closed_within(&mut c, Duration::from_secs(6)).await;
    assert!(
        idle.is_some_and(|d| d >= Duration::from_millis(800)),
        "the idle connection was not closed after the timeout: {idle:?}"
    );
}

/// 1,000 bad handshakes on the TLS port (plain HTTP, a truncated TLS record, garbage, an
/// immediate close) leave the hub answering TLS clients, during and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_bad_handshakes_leave_the_tls_hub_serving() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let limits = LimitsConfig {
        tls_handshake_timeout_seconds: 1,
        ..LimitsConfig::default()
    };
    let hub = start(limits, true).await;
    assert_eq!(healthz_tls(hub.addr).await, 200);
    let addr = hub.addr;
    for round in 0..10 {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..100 {
            set.spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let _ = match i % 4 {
                    0 => s.write_all(HEALTHZ).await,
                    1 => {
                        s.write_all(&[0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00])
                            .await
                    }
                    2 => s.write_all(&[0xde, 0xad, 0xbe, 0xef].repeat(64)).await,
                    _ => Ok(()),
                };
                if i % 4 != 3 {
                    let _ = closed_within(&mut s, Duration::from_secs(5)).await;
                }
            });
        }
        while set.join_next().await.is_some() {}
        if round == 4 {
            assert_eq!(healthz_tls(addr).await, 200, "during the bad handshakes");
        }
    }
    assert_eq!(healthz_tls(addr).await, 200, "after 1,000 bad handshakes");
    assert_eq!(healthz_tls(addr).await, 200);
}

/// A client that opens a TLS connection and says nothing is dropped after the handshake
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_tls_client_is_dropped_after_the_handshake_timeout() {
    let limits = LimitsConfig {
        tls_handshake_timeout_seconds: 1,
        header_read_timeout_seconds: 30,
        ..LimitsConfig::default()
    };
    let hub = start(limits, true).await;
    let mut silent = TcpStream::connect(hub.addr).await.unwrap();
    let cut = closed_within(&mut silent, Duration::from_secs(5)).await;
    assert!(
        cut.is_some_and(|c| c >= Duration::from_millis(900)),
        "the silent client was not dropped after the handshake timeout: {cut:?}"
    );
}

/// With the cap at 4 connections held open, a fifth client waits; it is answered as soon as
/// one of the four goes away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds() {
    let limits = LimitsConfig {
        max_connections: 4,
        header_read_timeout_seconds: 30,
        ..LimitsConfig::default()
    };
    let hub = start(limits, false).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(hub.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = tokio::spawn(healthz(hub.addr));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !waiting.is_finished(),
        "a fifth connection was served past the cap of 4"
    );
    drop(held.pop());
    let code = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("the waiting client was not served after a slot freed")
        .unwrap();
    assert_eq!(code, 200);
}

/// Malformed HTTP: a garbage request line, a header without a colon, a bad or negative
/// `Content-Length`, both `Content-Length` and `Transfer-Encoding` (request smuggling), a bad
/// chunk size. Each is refused with 400 (or the connection closed, never a 2xx), and the hub
/// keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_and_the_hub_keeps_serving() {
    let hub = start(LimitsConfig::default(), false).await;
    let bad: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: hub\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost hub\r\n\r\n",
        b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
        b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
        b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n",
        b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ];
    for req in bad {
        let c = TcpStream::connect(hub.addr).await.unwrap();
        let code = tokio::time::timeout(Duration::from_secs(15), status(c, req))
            .await
            .expect("a malformed request hung the connection");
        assert!(
            code == 400 || code == 0,
            "{:?} got {code}, expected 400 or a closed connection",
            String::from_utf8_lossy(req)
        );
        assert_eq!(healthz(hub.addr).await, 200, "the hub stopped serving");
    }
    // the request smuggled behind a Content-Length + Transfer-Encoding request is never answered
    let mut c = TcpStream::connect(hub.addr).await.unwrap();
    c.write_all(bad[6]).await.unwrap();
    let mut all = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut all)).await;
    let all = String::from_utf8_lossy(&all);
    assert_eq!(all.matches("HTTP/1.1 ").count(), 1, "{all}");
    assert!(!all.contains("HTTP/1.1 200"), "{all}");
}

/// A head past the header limit gets 431; a body past the body limit gets 413, announced by
/// its length or sent in chunks; the hub then still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_bodies_are_refused() {
    let limits = LimitsConfig {
        max_header_bytes: 4096,
        max_body_bytes: 1024,
        ..LimitsConfig::default()
    };
    let hub = start(limits, false).await;
    let mut big_head = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: ".to_vec();
    big_head.extend(std::iter::repeat_n(b'a', 8000));
    big_head.extend_from_slice(b"\r\n\r\n");
    let c = TcpStream::connect(hub.addr).await.unwrap();
    assert_eq!(status(c, &big_head).await, 431);

    let mut long = b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n".to_vec();
    long.extend(std::iter::repeat_n(b' ', 4096));
    let c = TcpStream::connect(hub.addr).await.unwrap();
    let head = response_head(c, &long).await.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 413"), "{head}");
    // refused before the handler, yet with the security headers every response carries
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(head.contains("content-security-policy:"), "{head}");

    let mut chunked = b"POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(b"3e8\r\n");
        chunked.extend(std::iter::repeat_n(b' ', 1000));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let c = TcpStream::connect(hub.addr).await.unwrap();
    assert_eq!(status(c, &chunked).await, 413);

    // under the limits the same route answers (401: no such user)
    let body = r#"{"name":"x","password":"yyyyyy"}"#;
    let small = format!(
        "POST /api/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let c = TcpStream::connect(hub.addr).await.unwrap();
    assert_eq!(status(c, small.as_bytes()).await, 401);
    assert_eq!(healthz(hub.addr).await, 200);
}

/// On the shutdown signal the hub stops accepting, a request in flight still gets its answer,
/// and the server returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let started = Arc::new(tokio::sync::Notify::new());
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s, a) = (started.clone(), answered.clone());
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::get(move || async move {
            s.notify_one();
            tokio::time::sleep(Duration::from_millis(800)).await;
            a.store(true, std::sync::atomic::Ordering::SeqCst);
            "done"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kakehashi_hub::server::serve_app(
        app,
        listener,
        None,
        LimitsConfig::default(),
        async move {
            let _ = rx.await;
        },
    ));
    let c = TcpStream::connect(addr).await.unwrap();
    let inflight = tokio::spawn(status(
        c,
        b"GET /slow HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
    ));
    started.notified().await;
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server did not return after shutdown")
        .unwrap()
        .unwrap();
    // the server returns only once the request has its answer (the process exits when
    // `serve` returns)
    assert!(
        answered.load(std::sync::atomic::Ordering::SeqCst),
        "the server returned before the request in flight finished"
    );
    assert_eq!(
        inflight.await.unwrap(),
        200,
        "the request in flight was cut"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
