//! `kakehashi demo`: a whole network on this machine.

use anyhow::{Context, bail};
use kakehashi_disclosure::Policy;
use kakehashi_ingest::{IngestOptions, ingest};
use kakehashi_store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

/// Tasks per minute a demo site answers per project: above the default of 30, so that the
/// hub's throughput benchmark (`bench/federation.py`, 200 questions at once) measures the hub
/// rather than the sites' rate limit (which `tests/gate.rs` and `tests/attacks_limits.rs` test).
const DEMO_RATE: u32 = 600;

/// The demo sites: id, display name, country, patients, and the smallest count each site's
/// steward lets out (Japanese sites are stricter here, to show how policies differ).
const SITES: [(&str, &str, &str, u64, u64); 4] = [
    ("de-berlin", "Charité Berlin (synthetic)", "DE", 20_000, 5),
    (
        "de-frankfurt",
        "Universitätsklinikum Frankfurt (synthetic)",
        "DE",
        15_000,
        5,
    ),
    ("jp-tokyo", "東京 (synthetic Tokyo)", "JP", 20_000, 10),
    ("jp-osaka", "大阪 (synthetic Osaka)", "JP", 15_000, 10),
];

/// The `site.toml` of a demo agent: the fields of [`kakehashi_site::agent::AgentConfig`] the
/// demo sets, written with the toml crate (paths with quotes, backslashes or non-ASCII
/// characters stay valid TOML).
#[derive(Serialize)]
struct DemoSiteToml<'a> {
    site_id: &'a str,
    hub: &'a str,
    token_file: &'a Path,
    site_dir: &'a Path,
    state_dir: &'a Path,
    poll_seconds: u64,
    allow_insecure: bool,
    disclosure: Policy,
    prefill: kakehashi_site::prefill::PrefillPolicy,
}

/// The demo sites' pre-fill policy: both registries, answered at once (a real steward starts
/// with `approval = "manual"` or lists only the items the ethics vote covers).
fn demo_prefill() -> kakehashi_site::prefill::PrefillPolicy {
    kakehashi_site::prefill::PrefillPolicy {
        studies: ["vhf-registry", "sfts-registry"]
            .map(|s| kakehashi_site::prefill::StudyPolicy {
                study: s.into(),
                items: None,
                approval: Some(kakehashi_site::steward::Approval::Auto),
            })
            .to_vec(),
    }
}

/// Writes a demo agent's `site.toml`.
fn write_site_toml(path: &Path, cfg: &DemoSiteToml<'_>) -> anyhow::Result<()> {
    let text = toml::to_string(cfg)
        .with_context(|| format!("writing {}: a path is not UTF-8", path.display()))?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The disclosure policy of a demo site: budgets large enough for a long demo session.
fn demo_policy(min_count: u64) -> Policy {
    Policy {
        min_count,
        rounding: 10,
        epsilon: Some(1.0),
        project_budget: Some(500.0),
        researcher_budget: Some(500.0),
        projects: vec!["demo".into(), "sfts-2026".into()],
        // the demo's projects may ask exact statistics (summaries, tables, GLM rounds)
        statistics: vec!["demo".into(), "sfts-2026".into()],
        tasks_per_minute: DEMO_RATE,
        ..Policy::default()
    }
}

/// Demo accounts: name, password, role, site.
const USERS: [(&str, &str, &str, Option<&str>); 5] = [
    ("researcher", "kakehashi-demo", "researcher", None),
    (
        "steward-de-berlin",
        "kakehashi-demo",
        "steward",
        Some("de-berlin"),
    ),
    (
        "steward-de-frankfurt",
        "kakehashi-demo",
        "steward",
        Some("de-frankfurt"),
    ),
    (
        "steward-jp-tokyo",
        "kakehashi-demo",
        "steward",
        Some("jp-tokyo"),
    ),
    (
        "steward-jp-osaka",
        "kakehashi-demo",
        "steward",
        Some("jp-osaka"),
    ),
];
const ADMIN_PASSWORD: &str = "kakehashi-admin";

/// Start a local network: hub, two German and two Japanese synthetic sites, web UI.
///
/// On first run makes the four sites' FHIR data (kakehashi synth) and loads each into its
/// site store (kakehashi ingest) under --data-dir; later runs reuse them and start in seconds.
/// Then starts the hub and one agent per site as separate processes on loopback, creates the
/// demo accounts, and prints the URL and credentials. Ctrl-C stops everything.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Where the demo keeps its sites, hub and agents.
    #[arg(long, default_value = "kakehashi-demo", env = "KAKEHASHI_DEMO_DIR")]
    data_dir: PathBuf,
    /// Port of the hub (API and web UI) on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Patients per site on first run (default: 15,000 to 20,000 per site).
    #[arg(long)]
    patients: Option<u64>,
    /// Make and load the sites, then exit without starting the network.
    #[arg(long)]
    prepare_only: bool,
    /// A mail server on this machine (`127.0.0.1:2525`, no TLS: e.g. `python3 -m aiosmtpd -n
    /// -l 127.0.0.1:2525`) the hub sends the office's reminders through, every minute.
    #[arg(long, value_name = "HOST:PORT")]
    smtp: Option<std::net::SocketAddr>,
}

/// The demo hub's configuration with a local mail server: no TLS (loopback only), a cycle a
/// minute, the digest at any hour.
fn smtp_config(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "--smtp {addr}: the demo sends mail without TLS, so only to a server on this machine"
    );
    let mut smtp = toml::Table::new();
    smtp.insert("host".into(), addr.ip().to_string().into());
    smtp.insert("port".into(), i64::from(addr.port()).into());
    smtp.insert("security".into(), "none".into());
    smtp.insert(
        "from".into(),
        "kakehashi demo <office@demo.kakehashi.test>".into(),
    );
    let mut notify = toml::Table::new();
    notify.insert("interval_seconds".into(), 60.into());
    notify.insert("digest_hour".into(), 0.into());
    let mut t = toml::Table::new();
    t.insert("smtp".into(), smtp.into());
    t.insert("notify".into(), notify.into());
    Ok(toml::to_string(&t)?)
}

/// Runs `kakehashi demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = &args.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (id, _, _, patients, _) in SITES {
        prepare_site(dir, id, args.patients.unwrap_or(patients))?;
    }
    if args.prepare_only {
        return Ok(ExitCode::SUCCESS);
    }
    super::check_reference_data();
    let exe = std::env::current_exe().context("finding the kakehashi binary")?;
    let url = format!("http://127.0.0.1:{}", args.port);
    let mut children = Children::default();
    let hub_log = log_file(dir, "hub")?;
    let mut config = Vec::new();
    if let Some(addr) = args.smtp {
        let path = dir.join("hub.toml");
        std::fs::write(&path, smtp_config(addr)?)
            .with_context(|| format!("writing {}", path.display()))?;
        config = vec![std::ffi::OsString::from("--config"), path.into_os_string()];
    }
    children.0.push((
        "hub".into(),
        kakehashi(&exe)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{}", args.port),
                "--data-dir",
            ])
            .arg(dir.join("hub"))
            .args(&config)
            .env("KAKEHASHI_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .stderr(hub_log)
            .spawn()
            .context("starting the hub")?,
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(setup_network(&exe, dir, &url, &mut children))?;
    println!("\nkakehashi demo network is running: {url}");
    println!(
        "  sign in as researcher / kakehashi-demo   (ask the network: feasibility, AMR, surveillance)"
    );
    println!(
        "  or steward-de-berlin / kakehashi-demo    (a site steward; likewise for de-frankfurt, jp-tokyo, jp-osaka)"
    );
    println!("  or admin / {ADMIN_PASSWORD}             (the network office)");
    println!(
        "  API token for the command line: {}",
        std::fs::read_to_string(dir.join("hub").join("researcher.token"))
            .unwrap_or_default()
            .trim()
    );
    println!(
        "  EDC studies (VHF and SFTS registries): REDCap-compatible API {url}/redcap/api/ with the token in {}",
        dir.join("hub").join("redcap-<study-id>.token").display()
    );
    for id in ["vhf-registry", "sfts-registry"] {
        let f = super::demo_studies::token_file(&dir.join("hub"), id);
        if let Ok(t) = std::fs::read_to_string(&f) {
            println!("    {id}: {}", t.trim());
        }
    }
    println!("  logs: {}", dir.join("logs").display());
    println!("Ctrl-C stops the hub and the four site agents.");
    rt.block_on(async {
        loop {
            tokio::select! {
                () = super::shutdown_signal() => break,
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if let Some(name) = children.exited() {
                        bail!("{name} stopped unexpectedly; see {}", dir.join("logs").join(format!("{name}.log")).display());
                    }
                }
            }
        }
        anyhow::Ok(())
    })?;
    drop(children);
    eprintln!("demo stopped");
    Ok(ExitCode::SUCCESS)
}

/// A command running this program, with the reference data folder this run was given.
fn kakehashi(exe: &Path) -> Command {
    let mut c = Command::new(exe);
    if let Some(d) = kakehashi_amr::data::configured_data_dir() {
        c.arg("--reference-data").arg(d);
    }
    c
}

fn prepare_site(dir: &Path, id: &str, patients: u64) -> anyhow::Result<()> {
    let site_dir = dir.join("sites").join(id);
    let store = Store::open(&site_dir);
    if store.current_id()?.is_none() {
        let fhir = dir.join("fhir").join(id);
        eprintln!("making {id}: {patients} synthetic patients ...");
        let p = kakehashi_synth::Profile::load(id)?;
        kakehashi_synth::generate(&p, patients, 1, &fhir, &|_| {})?;
        eprintln!("loading {id} ...");
        let s = ingest(&site_dir, &[fhir], &IngestOptions::default(), &|_| {})?;
        anyhow::ensure!(s.rejected == 0, "{id}: {} records rejected", s.rejected);
    }
    // the site's MIABIS catalogue beside its store (the agent and `kakehashi catalogue` read it)
    let catalogue = site_dir.join("catalogue.toml");
    if !catalogue.exists() {
        let p = kakehashi_synth::Profile::load(id)?;
        std::fs::write(&catalogue, kakehashi_synth::catalogue_toml(&p))
            .with_context(|| format!("writing {}", catalogue.display()))?;
    }
    let snap = store.current()?;
    eprintln!(
        "{id:<13} snapshot {} of {}: {} patients, {} resources",
        snap.id,
        snap.created.format("%Y-%m-%d %H:%M"),
        snap.resources.get("Patient").copied().unwrap_or(0),
        snap.resources.values().sum::<u64>()
    );
    Ok(())
}

fn log_file(dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("{name}.log")))
        .context("opening a log file")
}

/// The demo's child processes; dropped = stopped (SIGTERM, then SIGKILL after 5 s).
#[derive(Default)]
struct Children(Vec<(String, Child)>);

impl Children {
    fn exited(&mut self) -> Option<String> {
        self.0
            .iter_mut()
            .find_map(|(n, c)| matches!(c.try_wait(), Ok(Some(_))).then(|| n.clone()))
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, c) in self.0.iter().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let until = std::time::Instant::now() + Duration::from_secs(5);
        for (_, c) in self.0.iter_mut().rev() {
            while matches!(c.try_wait(), Ok(None)) && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn setup_network(
    exe: &Path,
    dir: &Path,
    url: &str,
    children: &mut Children,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    // Wait for the hub.
    let started = std::time::Instant::now();
    loop {
        if http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if let Some(n) = children.exited() {
            bail!(
                "the {n} did not start; see {}",
                dir.join("logs").join("hub.log").display()
            );
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the hub did not answer at {url} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hub_dir = dir.join("hub");
    let admin_token_file = hub_dir.join("admin.token");
    let admin = match std::fs::read_to_string(&admin_token_file) {
        Ok(t) => t.trim().to_owned(),
        Err(_) => {
            let login = http
                .post(format!("{url}/api/login"))
                .json(&serde_json::json!({"name": "admin", "password": ADMIN_PASSWORD}))
                .send()
                .await?;
            anyhow::ensure!(
                login.status().is_success(),
                "signing in as admin: HTTP {}",
                login.status()
            );
            let session: serde_json::Value = login.json().await?;
            let session = session["session"]
                .as_str()
                .context("no session")?
                .to_owned();
            let t: serde_json::Value = http
                .post(format!("{url}/api/tokens"))
                .bearer_auth(&session)
                .json(&serde_json::json!({"label": "demo"}))
                .send()
                .await?
                .json()
                .await?;
            let t = t["token"].as_str().context("no token")?.to_owned();
            std::fs::write(&admin_token_file, &t)?;
            t
        }
    };
    let post = |path: &str, body: serde_json::Value| {
        let req = http
            .post(format!("{url}{path}"))
            .bearer_auth(&admin)
            .json(&body);
        async move {
            let r = req.send().await?;
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            anyhow::ensure!(status.is_success(), "hub: HTTP {status}: {text}");
            anyhow::Ok(text)
        }
    };
    for (name, pw, role, site) in USERS {
        post(
            "/api/admin/users",
            serde_json::json!({"name": name, "password": pw, "role": role, "site": site}),
        )
        .await?;
    }
    for (id, title) in [
        ("demo", "Demo: feasibility, AMR and SARI across the network"),
        ("sfts-2026", "SFTS clinical course, Japan–Germany"),
    ] {
        post(
            "/api/admin/projects",
            serde_json::json!({"id": id, "title": title, "members": ["researcher"]}),
        )
        .await?;
    }
    let researcher_token = hub_dir.join("researcher.token");
    if !researcher_token.exists() {
        let login = http
            .post(format!("{url}/api/login"))
            .json(&serde_json::json!({"name": "researcher", "password": "kakehashi-demo"}))
            .send()
            .await?;
        let session: serde_json::Value = login.json().await?;
        let session = session["session"]
            .as_str()
            .context("no session")?
            .to_owned();
        let t: serde_json::Value = http
            .post(format!("{url}/api/tokens"))
            .bearer_auth(&session)
            .json(&serde_json::json!({"label": "demo cli"}))
            .send()
            .await?
            .json()
            .await?;
        std::fs::write(&researcher_token, t["token"].as_str().context("no token")?)?;
    }
    let researcher = std::fs::read_to_string(&researcher_token)?
        .trim()
        .to_owned();
    // addresses for the reminders (sent only when the demo runs with --smtp)
    for (token, email) in [
        (&admin, "office@demo.kakehashi.test"),
        (&researcher, "researcher@demo.kakehashi.test"),
    ] {
        http.put(format!("{url}/api/me/notifications"))
            .bearer_auth(token)
            .json(&serde_json::json!({"email": email}))
            .send()
            .await?
            .error_for_status()
            .context("setting a demo user's e-mail address")?;
    }
    super::demo_office::seed(&http, url, &admin, &researcher)
        .await
        .context("seeding the partnership office")?;
    let sites: Vec<(&str, &str, &str)> =
        SITES.iter().map(|(id, n, c, _, _)| (*id, *n, *c)).collect();
    let study_ids = super::demo_studies::seed(&http, url, &admin, &hub_dir, &sites)
        .await
        .context("seeding the EDC studies")?;
    // the registries' subjects, enrolled at the sites before their agents start: each agent
    // sends the pseudonyms after its first poll; the forms are filled once the hub has them
    let subjects = super::demo_subjects::enrol(dir, &study_ids)
        .context("enrolling the demo subjects at de-berlin and jp-tokyo")?;
    {
        let (http, url, hub_dir) = (http.clone(), url.to_owned(), hub_dir.clone());
        tokio::spawn(async move {
            match super::demo_subjects::fill(&http, &url, &hub_dir, &subjects).await {
                Ok(n) => eprintln!(
                    "EDC: {} subjects enrolled at de-berlin and jp-tokyo reached the hub; {n} admission forms filled",
                    subjects.len()
                ),
                Err(e) => eprintln!("EDC: the demo subjects' forms were not filled: {e:#}"),
            }
        });
    }
    for (id, name, country, _, min_count) in SITES {
        let agent_dir = dir.join("agents").join(id);
        std::fs::create_dir_all(&agent_dir)?;
        let cfg = agent_dir.join("site.toml");
        let token_file = agent_dir.join("site.token");
        write_site_toml(
            &cfg,
            &DemoSiteToml {
                site_id: id,
                hub: url,
                token_file: &token_file,
                site_dir: &dir.join("sites").join(id),
                state_dir: &agent_dir.join("state"),
                poll_seconds: 20,
                allow_insecure: true,
                disclosure: demo_policy(min_count),
                prefill: demo_prefill(),
            },
        )?;
        if !token_file.exists() {
            let out = kakehashi(exe)
                .args(["site", "--config"])
                .arg(&cfg)
                .arg("--print-public-key")
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "{id}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let pk = String::from_utf8(out.stdout)?.trim().to_owned();
            let reg: serde_json::Value = serde_json::from_str(&post("/api/admin/sites", serde_json::json!({"id": id, "name": name, "country": country, "public_key": pk})).await?)?;
            std::fs::write(&token_file, reg["token"].as_str().context("no site token")?)?;
        }
        let log = log_file(dir, id)?;
        children.0.push((
            id.to_owned(),
            kakehashi(exe)
                .args(["site", "--config"])
                .arg(&cfg)
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting the {id} agent"))?,
        ));
    }
    // Wait until every site has checked in.
    let started = std::time::Instant::now();
    loop {
        let sites: Vec<serde_json::Value> = http
            .get(format!("{url}/api/sites"))
            .bearer_auth(&admin)
            .send()
            .await?
            .json()
            .await?;
        let online = sites.iter().filter(|s| s["status"] == "online").count();
        if online == SITES.len() {
            break;
        }
        if let Some(n) = children.exited() {
            bail!(
                "{n} stopped; see {}",
                dir.join("logs").join(format!("{n}.log")).display()
            );
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!(
                "only {online} of {} sites came online within 30 s; see {}",
                SITES.len(),
                dir.join("logs").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    seed_surveillance(&http, url, &researcher).await
}

/// Asks the network once for the first case definition's series as the demo researcher, so
/// that the surveillance page shows the current season on its first visit: a GET there asks
/// nothing and shows the newest stored run of the user's projects (27.2). The sites answer
/// while the banner is printed; the page waits for them if it is opened sooner.
async fn seed_surveillance(
    http: &reqwest::Client,
    url: &str,
    researcher: &str,
) -> anyhow::Result<()> {
    use kakehashi_federation::TaskSpec;
    use kakehashi_federation::surveillance::{SurveillanceRequest, definitions};
    let spec = TaskSpec::SurveillanceSeries(SurveillanceRequest::of(definitions()[0])?);
    let r = http
        .post(format!("{url}/api/tasks"))
        .bearer_auth(researcher)
        .json(&serde_json::json!({"project": "demo", "spec": spec}))
        .send()
        .await?;
    let status = r.status();
    anyhow::ensure!(
        status.is_success(),
        "asking the first surveillance run: HTTP {status}: {}",
        r.text().await.unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
#[path = "demo_tests.rs"]
mod tests;
