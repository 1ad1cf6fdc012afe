//! A throw-away PostgreSQL server for tests: `initdb` in a temporary folder, `postgres` on a
//! free loopback port with its unix socket in that folder, stopped and removed when dropped
//! (also when the test panics). As root (`initdb` refuses it), the server runs as the user
//! `postgres` or else `nobody`, through `runuser`. Without the binaries the tests skip, saying
//! so, unless `KAKEHASHI_REQUIRE_POSTGRES=1` (as `.ci/run` sets), which makes that a failure.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A running throw-away server.
pub struct TempPg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
    /// `postgres --version`.
    pub version: String,
    next_db: AtomicU32,
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: on `PATH`, or Debian's
/// `/usr/lib/postgresql/<version>/bin` (newest first).
fn find_bin() -> Option<PathBuf> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_all(&d) {
                return Some(d);
            }
        }
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_all(d))
        .collect();
    debian.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    debian.pop()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl TempPg {
    /// Starts a server, or `None` (with a message on stderr) when PostgreSQL is not installed.
    pub fn start(what: &str) -> Option<TempPg> {
        let Some(bin) = find_bin() else {
            let msg = format!(
                "SKIPPED {what} on PostgreSQL: initdb/pg_ctl/postgres not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
            );
            assert!(
                std::env::var("KAKEHASHI_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{msg}, and KAKEHASHI_REQUIRE_POSTGRES=1"
            );
            eprintln!("{msg}");
            return None;
        };
        let run_as = is_root().then(|| {
            ["postgres", "nobody"]
                .into_iter()
                .find(|u| user_exists(u))
                .expect("running as root, and neither user postgres nor nobody exists")
                .to_owned()
        });
        let dir = tempfile::Builder::new()
            .prefix("kh-pg-")
            .tempdir()
            .expect("temporary folder");
        std::fs::create_dir(dir.path().join("sock")).expect("socket folder");
        if let Some(u) = &run_as {
            run(Command::new("chown").arg("-R").arg(u).arg(dir.path()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let version = String::from_utf8_lossy(
            &run(Command::new(bin.join("postgres")).arg("--version")).stdout,
        )
        .trim()
        .to_owned();
        let pg = TempPg {
            dir,
            bin,
            port,
            run_as,
            version,
            next_db: AtomicU32::new(0),
        };
        let data = pg.dir.path().join("data");
        run(pg
            .cmd("initdb")
            .args(["-U", "kh", "-A", "trust", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data));
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            pg.port,
            pg.dir.path().join("sock").display()
        );
        run(pg
            .cmd("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(pg.dir.path().join("server.log"))
            .args(["-o", &opts, "start"]));
        Some(pg)
    }

    /// A command of the server's binaries, run as the server's user.
    fn cmd(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        let mut c = match &self.run_as {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        // a folder the server's user may enter (the test's own may be root's)
        c.current_dir(self.dir.path());
        c
    }

    /// The URL of database `db` (TCP on loopback, trusted).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://kh@127.0.0.1:{}/{db}", self.port)
    }

    /// A new empty database; its URL.
    pub fn new_database(&self) -> String {
        let name = format!("kh_{}", self.next_db.fetch_add(1, Ordering::Relaxed));
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connecting to the test server");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating a database");
        self.url(&name)
    }
}

impl Drop for TempPg {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .args(["-w", "-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .output();
    }
}
