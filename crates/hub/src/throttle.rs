//! Sign-in throttling, per account and per client address: after a few failures in a row
//! each further attempt must wait a delay that doubles with every failure (1 s, 2 s, 4 s, …
//! up to 15 minutes); while it runs, sign-in answers 429 without checking the password.
//! A success clears the account's count; a quiet quarter of an hour forgets both. Kept in
//! memory: it guards one hub process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures in a row an account may have before it is slowed down.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures in a row one client address may have (over all accounts) before it is slowed.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// One throttled key: an account (`user:name`) or an address (`addr:ip`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    name: String,
    free: u32,
}

impl Key {
    /// The keys of one sign-in attempt: the account, and the address when known.
    pub fn of(user: &str, addr: Option<IpAddr>) -> Vec<Key> {
        let mut k = vec![Key {
            name: format!("user:{}", user.trim().to_lowercase()),
            free: ACCOUNT_FREE_FAILURES,
        }];
        if let Some(a) = addr {
            k.push(Key {
                name: format!("addr:{a}"),
                free: ADDRESS_FREE_FAILURES,
            });
        }
        k
    }

    /// What the key names (`user:alice`, `addr:127.0.0.1`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The failure counts of the keys.
#[derive(Default)]
pub struct Throttle {
    keys: Mutex<HashMap<String, Failures>>,
}

fn delay(count: u32, free: u32) -> Duration {
    if count < free {
        return Duration::ZERO;
    }
    let secs = 1u64 << (count - free).min(20);
    Duration::from_secs(secs).min(MAX_DELAY)
}

impl Throttle {
    /// How long an attempt with these keys must still wait (`None`: it may go ahead).
    pub fn wait(&self, keys: &[Key]) -> Option<Duration> {
        let now = Instant::now();
        let mut m = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| {
                let f = *m.get(&k.name)?;
                if now.duration_since(f.last) >= WINDOW {
                    m.remove(&k.name);
                    return None;
                }
                let until = f.last + delay(f.count, k.free);
                (until > now).then(|| until - now)
            })
            .max()
    }

    /// Counts a failure for each key; returns the keys this failure started slowing down.
    pub fn failed(&self, keys: &[Key]) -> Vec<Key> {
        let now = Instant::now();
        let mut m = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, f| now.duration_since(f.last) < WINDOW);
        }
        keys.iter()
            .filter(|k| {
                let f = m.entry(k.name.clone()).or_insert(Failures {
                    count: 0,
                    last: now,
                });
                if now.duration_since(f.last) >= WINDOW {
                    f.count = 0;
                }
                f.count += 1;
                f.last = now;
                f.count == k.free
            })
            .cloned()
            .collect()
    }

    /// A successful sign-in clears the account's failures (the address keeps its count).
    pub fn succeeded(&self, keys: &[Key]) {
        let mut m = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys.iter().filter(|k| k.name.starts_with("user:")) {
            m.remove(&k.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_after_the_free_failures_and_doubles() {
        assert_eq!(delay(4, 5), Duration::ZERO);
        assert_eq!(delay(5, 5), Duration::from_secs(1));
        assert_eq!(delay(7, 5), Duration::from_secs(4));
        assert_eq!(delay(60, 5), MAX_DELAY);
        let t = Throttle::default();
        let keys = Key::of("Alice", Some("10.0.0.1".parse().unwrap()));
        for i in 1..ACCOUNT_FREE_FAILURES {
            assert!(t.failed(&keys).is_empty(), "{i}");
            assert_eq!(t.wait(&keys), None);
        }
        let started = t.failed(&keys);
        assert_eq!(started.len(), 1);
        assert_eq!(started[0].name(), "user:alice");
        assert!(
            t.wait(&Key::of("alice ", None)).is_some(),
            "the account waits"
        );
        assert_eq!(
            t.wait(&Key::of("bob", Some("10.0.0.1".parse().unwrap()))),
            None,
            "the address alone is not slowed yet"
        );
        t.succeeded(&keys);
        assert_eq!(t.wait(&keys), None);
    }
}
