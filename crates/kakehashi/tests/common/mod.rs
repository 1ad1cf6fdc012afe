//! Helpers shared by integration tests.

pub mod browser;
pub mod net;

use std::path::{Path, PathBuf};

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

/// Writes FHIR resources as NDJSON (`DIR/NAME`) and loads them with `kakehashi ingest` into the
/// site directory `DIR/site`, which it returns; the load must succeed.
#[allow(dead_code)] // not every test file that shares this module loads a site
pub fn ingest_lines(dir: &Path, name: &str, lines: &[serde_json::Value]) -> PathBuf {
    let fhir = dir.join(name);
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(&fhir, text).unwrap();
    let site = dir.join("site");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["ingest", "--site-dir"])
        .arg(&site)
        .arg(&fhir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    site
}
