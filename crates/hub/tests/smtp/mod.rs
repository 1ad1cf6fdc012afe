//! The SMTP sink the e-mail tests deliver to: Python's aiosmtpd on loopback with STARTTLS
//! and AUTH required (`sink.py`), each message received written as a JSON line. Without
//! aiosmtpd [`sink`] says SKIPPED, unless `KAKEHASHI_REQUIRE_SMTP=1` (set by `.ci/run`).
#![allow(dead_code)]

use kakehashi_hub::config::{SmtpConfig, SmtpSecurity};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const SINK_USER: &str = "hub";
pub const SINK_PASSWORD: &str = "sink-password";

pub struct Sink {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the sink, or says why it cannot (and fails when the run requires it).
pub fn sink() -> Option<Sink> {
    let required = std::env::var("KAKEHASHI_REQUIRE_SMTP").is_ok_and(|v| v == "1");
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !required,
            "KAKEHASHI_REQUIRE_SMTP=1 but Python's aiosmtpd is not installed"
        );
        eprintln!("SKIPPED: the SMTP tests need Python's aiosmtpd (pip install aiosmtpd)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.jsonl");
    let port = free_port();
    let tls = tests_dir().join("tls");
    let mut child = Command::new("python3")
        .arg(tests_dir().join("smtp/sink.py"))
        .arg(port.to_string())
        .arg(tls.join("hub.pem"))
        .arg(tls.join("hub.key"))
        .arg(&out)
        .args([SINK_USER, SINK_PASSWORD])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "READY", "the SMTP sink did not start");
    eprintln!("SMTP sink (aiosmtpd, STARTTLS and AUTH required) on 127.0.0.1:{port}");
    Some(Sink {
        child,
        port,
        out,
        _dir: dir,
    })
}

impl Sink {
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub fn smtp(port: u16, password: &str) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Starttls,
        user: Some(SINK_USER.into()),
        password: Some(password.into()),
        from: "kakehashi office <office@kakehashi.test>".into(),
        ca_file: Some(tests_dir().join("tls/ca.pem")),
        timeout_seconds: 10,
    }
}
