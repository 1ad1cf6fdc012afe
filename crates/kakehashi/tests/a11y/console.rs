//! A site steward console for the UI test: one more agent joins the demo network (registered
//! with the demo's admin token, over the demo's de-berlin store) with its `[console]` on a free
//! loopback port, so the browser can audit the console's pages too.

use super::{EXE, Proc, free_port};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The console steward's password.
pub const PASSWORD: &str = "console-password-1";

/// The Argon2 hash of a password, made by `kakehashi site --hash-password`.
fn hash_password(pw: &str) -> String {
    let mut c = Command::new(EXE)
        .args(["site", "--config", "unused.toml", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "{pw}").unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Registers a site `de-console` with the demo hub at `url`, starts its agent with a console,
/// waits until the console answers; the agent process (stopped on drop) and the console's URL.
pub async fn start(demo: &Path, url: &str) -> (Proc, String) {
    let admin = std::fs::read_to_string(demo.join("hub").join("admin.token")).unwrap();
    let adir = demo.join("agents").join("de-console");
    std::fs::create_dir_all(&adir).unwrap();
    let cport = free_port();
    let cfg = adir.join("site.toml");
    std::fs::write(
        &cfg,
        format!(
            "site_id = \"de-console\"\nhub = \"{url}\"\ntoken_file = {:?}\nsite_dir = {:?}\nstate_dir = {:?}\npoll_seconds = 5\nallow_insecure = true\n\n[disclosure]\nprojects = [\"*\"]\n\n[console]\nlisten = \"127.0.0.1:{cport}\"\npassword_hash = {:?}\n",
            adir.join("site.token").display().to_string(),
            demo.join("sites").join("de-berlin").display().to_string(),
            adir.join("state").display().to_string(),
            hash_password(PASSWORD),
        ),
    )
    .unwrap();
    let out = Command::new(EXE)
        .args(["site", "--config"])
        .arg(&cfg)
        .arg("--print-public-key")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pk = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}/api/admin/sites"))
        .bearer_auth(admin.trim())
        .json(&serde_json::json!({"id": "de-console", "name": "Berlin console (synthetic)", "country": "DE", "public_key": pk}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "registering: {}", r.status());
    let reg: serde_json::Value = r.json().await.unwrap();
    std::fs::write(adir.join("site.token"), reg["token"].as_str().unwrap()).unwrap();
    let agent = Proc(
        Command::new(EXE)
            .args(["site", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(adir.join("agent.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let console = format!("http://127.0.0.1:{cport}");
    let t = Instant::now();
    while !http
        .get(format!("{console}/login"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the console did not start: {}",
            std::fs::read_to_string(adir.join("agent.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (agent, console)
}
