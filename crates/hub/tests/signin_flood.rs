//! A flood of sign-ins does not multiply the hub's memory: Argon2 (19 MiB per computation)
//! runs on a fixed pair of threads, so 64 sign-ins at once cost two computations' memory, not
//! 64 (about 1.2 GB when each ran on its own blocking thread). Its own test binary, so that
//! the process's peak memory is this hub's.

use kakehashi_hub::Hub;
use kakehashi_hub::config::HubConfig;
use std::net::{IpAddr, Ipv4Addr};

/// The process's peak resident memory so far (VmHWM), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_sign_ins_at_once_do_not_take_sixty_four_argon2_memories() {
    const N: usize = 64;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cfg = HubConfig {
        data_dir: dir.path().join("hub"),
        ..HubConfig::default()
    };
    let hub = Hub::open(cfg).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kakehashi_hub::serve(hub, listener, std::future::pending()));

    // clients from eight loopback addresses, so no address reaches its throttle (20 failures)
    // and every sign-in is checked with Argon2
    let clients: Vec<reqwest::Client> = (0..8u8)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
                .build()
                .unwrap()
        })
        .collect();
    let sign_in = |c: reqwest::Client, name: String| {
        let url = format!("{url}/api/login");
        async move {
            c.post(url)
                .json(&serde_json::json!({"name": name, "password": "wrong password"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // one first, so the workers and the dummy hash exist before the baseline
    assert_eq!(sign_in(clients[0].clone(), "warm-up".into()).await, 401);
    let before = peak_rss_mib();

    let all: Vec<_> = (0..N)
        .map(|i| tokio::spawn(sign_in(clients[i % 8].clone(), format!("nobody-{i}"))))
        .collect();
    let mut statuses = Vec::new();
    for h in all {
        statuses.push(h.await.unwrap());
    }
    let grown = peak_rss_mib().saturating_sub(before);
    assert!(
        statuses.iter().all(|&s| s == 401),
        "every sign-in was checked and refused: {statuses:?}"
    );
    eprintln!("{N} sign-ins at once: peak memory grew by {grown} MiB");
    assert!(
        grown < 300,
        "{N} sign-ins at once grew the peak memory by {grown} MiB (19 MiB per Argon2 computation)"
    );
    // and the hub still signs in
    assert_eq!(sign_in(clients[1].clone(), "after".into()).await, 401);
}
