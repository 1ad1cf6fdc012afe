//! Helpers shared by integration tests.

pub mod browser;
pub mod net;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The directory of a fixture shared by all tests of one test process: `PREFIX-PID` in the
/// temporary directory. A `static` is never dropped, so the fixture cannot remove itself; the
/// directories of earlier runs whose process is gone are removed here instead (on systems with
/// `/proc`; elsewhere they stay).
pub fn process_dir(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    let me = std::process::id();
    if Path::new("/proc/self").exists()
        && let Ok(entries) = std::fs::read_dir(&tmp)
    {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| {
                n.strip_prefix(prefix)?
                    .strip_prefix('-')?
                    .parse::<u32>()
                    .ok()
            });
            if let Some(pid) = pid
                && pid != me
                && !Path::new("/proc").join(pid.to_string()).exists()
            {
                // another test run may remove it at the same moment: an error here is harmless
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tmp.join(format!("{prefix}-{me}"))
}

/// The shared reference data beside the repository (`../shared/data`), wherever it is checked out.
#[allow(dead_code)] // not every test file that shares this module reads them
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The MII KDS transaction Bundles (`Bundle-*.json`, written by the MII, not by us; the
/// single-resource files beside them repeat their entries), sorted.
#[allow(dead_code)]
pub fn kds_bundles() -> Vec<PathBuf> {
    let dir = shared_data().join("fhir-samples/mii-kds-testdata/resources");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("Bundle-") && n.ends_with(".json"))
        })
        .collect();
    v.sort();
    assert!(v.len() >= 20, "{} MII bundles", v.len());
    v
}

/// Writes FHIR resources as NDJSON (`DIR/NAME`) and loads them with `kakehashi ingest` into the
/// site directory `DIR/site`, which it returns; the load must succeed.
#[allow(dead_code)] // not every test file that shares this module loads a site
pub fn ingest_lines(dir: &Path, name: &str, lines: &[serde_json::Value]) -> PathBuf {
    let fhir = dir.join(name);
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(&fhir, text).unwrap();
    let site = dir.join("site");
    ingest(&site, &[fhir]);
    site
}

/// Loads FHIR files or folders into a site directory with `kakehashi ingest`; the load must
/// succeed.
#[allow(dead_code)]
pub fn ingest(site: &Path, inputs: &[PathBuf]) {
    let out = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["ingest", "--site-dir"])
        .arg(site)
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, stopped (TERM, then KILL after 8 s) when dropped.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while matches!(self.0.try_wait(), Ok(None)) && t.elapsed() < Duration::from_secs(8) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kakehashi demo` with `patients` per site in `dir` on a free port, its stderr in
/// `dir/demo.err`; the process (stopped when dropped) and the hub's URL.
pub fn spawn_demo(dir: &Path, patients: u32, stdout: std::process::Stdio) -> (Proc, String) {
    let port = free_port();
    let demo = Proc(
        Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args([
                "demo",
                "--patients",
                &patients.to_string(),
                "--port",
                &port.to_string(),
                "--data-dir",
            ])
            .arg(dir)
            .stdout(stdout)
            .stderr(std::fs::File::create(dir.join("demo.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    (demo, format!("http://127.0.0.1:{port}"))
}
