//! How a site reaches its hub: it refuses a plain `http://` hub unless the configuration says
//! `allow_insecure = true`, and with `hub_ca` or `hub_cert_sha256` it talks only to a hub
//! whose certificate matches (a real TLS hub on loopback).

use kakehashi_hub::config::{HubConfig, TlsConfig};
use kakehashi_site::agent::{AgentConfig, hub_client};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kakehashi");

/// The test certificates of the hub's transport tests (see their README).
fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../hub/tests/tls")
}

fn write_cfg(dir: &Path, hub: &str, extra: &str) -> PathBuf {
    let cfg = dir.join("site.toml");
    std::fs::write(
        &cfg,
        format!(
            "site_id = \"de-berlin\"\nhub = \"{hub}\"\ntoken = \"khs_x\"\nsite_dir = {:?}\n{extra}\n",
            dir.join("site").display().to_string()
        ),
    )
    .unwrap();
    cfg
}

/// An agent pointed at an `http://` hub without `allow_insecure` stops at once and says why.
#[test]
fn a_site_refuses_a_plain_http_hub_without_allow_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_cfg(dir.path(), "http://127.0.0.1:9", "");
    let mut child = Command::new(EXE)
        .args(["site", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let status = status.expect("the agent started with a plain http:// hub");
    assert!(!status.success());
    assert!(
        err.contains("plain http://") && err.contains("allow_insecure = true"),
        "{err}"
    );
    // the agent opened nothing before refusing
    assert!(!dir.path().join("site").join("agent").exists());
    // with the switch the client is built (the demo's case)
    let cfg = write_cfg(dir.path(), "http://127.0.0.1:9", "allow_insecure = true");
    assert!(hub_client(&AgentConfig::load(&cfg).unwrap()).is_ok());
}

fn sha256_of_pem(path: &Path) -> String {
    let der = CertificateDer::from_pem_file(path).unwrap();
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A TLS hub with a certificate from the test CA: the site reaches it with that CA or that
/// certificate's SHA-256 configured, and refuses it with another CA, another certificate's
/// SHA-256, or the system's roots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_talks_only_to_the_pinned_hub() {
    let dir = tempfile::tempdir().unwrap();
    let hub = kakehashi_hub::Hub::open(HubConfig {
        data_dir: dir.path().join("hub"),
        tls: Some(TlsConfig {
            cert: certs().join("hub.pem"),
            key: certs().join("hub.key"),
        }),
        ..HubConfig::default()
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kakehashi_hub::serve(hub, listener, async move {
        let _ = stopped.await;
    }));
    let ca = |f: &str| format!("hub_ca = {:?}", certs().join(f).display().to_string());
    let pin = |f: &str| format!("hub_cert_sha256 = \"{}\"", sha256_of_pem(&certs().join(f)));
    let cases = [
        (ca("ca.pem"), true),
        (pin("hub.pem"), true),
        (ca("other-ca.pem"), false),
        (pin("ca.pem"), false),
        (String::new(), false),
    ];
    for (extra, reaches) in cases {
        let cfg = write_cfg(dir.path(), &url, &extra);
        let client = hub_client(&AgentConfig::load(&cfg).unwrap()).unwrap();
        let r = client.get(format!("{url}/healthz")).send().await;
        match (reaches, r) {
            (true, Ok(r)) => assert_eq!(r.status(), 200, "{extra}"),
            (true, Err(e)) => panic!("{extra}: the pinned hub was refused: {e:?}"),
            (false, Ok(r)) => panic!("{extra}: reached a hub it must refuse ({})", r.status()),
            (false, Err(_)) => {}
        }
    }
    // a bad pin is a configuration error, named
    let cfg = write_cfg(dir.path(), &url, "hub_cert_sha256 = \"abc\"");
    let e = hub_client(&AgentConfig::load(&cfg).unwrap()).unwrap_err();
    assert!(e.to_string().contains("hub_cert_sha256"), "{e}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
