//! How the agent calls the hub: one helper ([`Agent::call`]) for every request (polls,
//! answers, refusals, task-state reports, upload parts). Network errors, timeouts, `5xx`,
//! `408` and `429` are retried after a pause drawn by [`Backoff`] (exponential with jitter,
//! at least the hub's `Retry-After`); any other `4xx` is final: the hub refused the request
//! and sending it again cannot change that.

use super::Agent;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// The longest `Retry-After` the agent honours (a larger one is read as this).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Exponential backoff with full jitter: the n-th pause after consecutive failures is drawn
/// uniformly between the base and `min(cap, base × 2ⁿ)`; a success starts again at the base.
/// Two agents that fail together thus retry at different times.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    ceiling: Duration,
}

impl Backoff {
    /// A backoff from `base` up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        let base = base.max(Duration::from_millis(1));
        let cap = cap.max(base);
        Backoff {
            base,
            cap,
            ceiling: base,
        }
    }

    /// The pause before the next attempt (at least `retry_after`, when the hub sent one, up
    /// to ten minutes); the ceiling of the following pause doubles, up to the cap.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let lo = self.base.as_millis() as u64;
        let hi = self.ceiling.as_millis() as u64;
        let drawn = Duration::from_millis(if hi > lo {
            rand::random_range(lo..=hi)
        } else {
            lo
        });
        self.ceiling = (self.ceiling * 2).min(self.cap);
        drawn.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER))
    }

    /// Starts again at the base (after a success).
    pub fn reset(&mut self) {
        self.ceiling = self.base;
    }
}

/// What the hub's answer to a request means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Done (`2xx`).
    Done,
    /// Try again later (`5xx`, `408`, `429`, or anything unexpected).
    Later,
    /// Final: the hub refused the request (any other `4xx`).
    Refused,
}

/// How the agent treats a status the hub answered with.
pub fn classify(status: StatusCode) -> Retry {
    if status.is_success() {
        Retry::Done
    } else if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS {
        Retry::Later
    } else if status.is_client_error() {
        Retry::Refused
    } else {
        Retry::Later
    }
}

/// The hub's `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// Why a call to the hub did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CallError {
    /// The hub refused the request with a final `4xx`, and said why.
    #[error("the hub refused it: HTTP {status}: {reason}")]
    Refused {
        /// The status.
        status: StatusCode,
        /// The hub's message (its JSON body's `message`, else the body).
        reason: String,
    },
    /// Still failing when the caller's time was up.
    #[error("gave up: {0}")]
    GaveUp(String),
}

/// The hub's reason in an error body (`{"error": .., "message": ..}`), else the body itself.
pub(crate) fn reason_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(500).collect())
}

impl Agent {
    /// The agent's backoff from its settings.
    pub(crate) fn backoff(&self) -> Backoff {
        let (base, cap) = self.cfg.backoff();
        Backoff::new(base, cap)
    }

    /// Sends the request `make` builds until the hub takes it (`2xx`, returned), refuses it
    /// (a final `4xx`), or `give_up` passes; pauses between attempts by [`Backoff`].
    pub(crate) async fn call(
        &self,
        what: &str,
        give_up: Option<Instant>,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CallError> {
        let mut backoff = self.backoff();
        loop {
            match self.attempt(make()).await {
                Ok(resp) => return Ok(resp),
                Err(Attempt::Refused { status, reason }) => {
                    return Err(CallError::Refused { status, reason });
                }
                Err(Attempt::Later { error, retry_after }) => {
                    self.pause(what, &mut backoff, give_up, error, retry_after)
                        .await?
                }
            }
        }
    }

    /// One attempt: the response when the hub took the request, else what to do about it.
    pub(crate) async fn attempt(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Attempt> {
        match req.bearer_auth(&self.token).send().await {
            Ok(resp) => match classify(resp.status()) {
                Retry::Done => Ok(resp),
                Retry::Refused => {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    Err(Attempt::Refused {
                        status,
                        reason: reason_of(&body),
                    })
                }
                Retry::Later => Err(Attempt::Later {
                    retry_after: retry_after(resp.headers()),
                    error: format!("HTTP {}", resp.status()),
                }),
            },
            Err(e) => Err(Attempt::Later {
                error: e.to_string(),
                retry_after: None,
            }),
        }
    }

    /// Waits the next pause of `backoff`, or gives up when it would end after `give_up`.
    pub(crate) async fn pause(
        &self,
        what: &str,
        backoff: &mut Backoff,
        give_up: Option<Instant>,
        error: String,
        retry_after: Option<Duration>,
    ) -> Result<(), CallError> {
        let pause = backoff.next(retry_after);
        if give_up.is_some_and(|g| Instant::now() + pause > g) {
            tracing::warn!(what, error, "giving up");
            return Err(CallError::GaveUp(error));
        }
        tracing::warn!(
            what,
            error,
            retry_in_ms = pause.as_millis() as u64,
            "hub call failed; retrying"
        );
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// A final `4xx`.
    Refused {
        /// The status.
        status: StatusCode,
        /// The hub's message.
        reason: String,
    },
    /// A failure worth another try.
    Later {
        /// What went wrong.
        error: String,
        /// The hub's `Retry-After`.
        retry_after: Option<Duration>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_with_jitter_up_to_the_cap_and_reset() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_millis(1000));
        let mut b = Backoff::new(base, cap);
        let first: Vec<Duration> = (0..12).map(|_| b.next(None)).collect();
        assert_eq!(first[0], base);
        assert!(first.iter().all(|d| *d >= base && *d <= cap), "{first:?}");
        // the n-th pause stays under base × 2ⁿ
        for (n, d) in first.iter().enumerate().take(4) {
            assert!(*d <= base * 2u32.pow(n as u32), "{n}: {d:?}");
        }
        let mut other = Backoff::new(base, cap);
        let second: Vec<Duration> = (0..12).map(|_| other.next(None)).collect();
        assert_ne!(first, second, "no jitter");
        b.reset();
        assert_eq!(b.next(None), base);
        // Retry-After wins over a shorter pause, within reason
        assert_eq!(b.next(Some(Duration::from_secs(5))), Duration::from_secs(5));
        assert_eq!(b.next(Some(Duration::from_secs(86_400))), MAX_RETRY_AFTER);
    }

    #[test]
    fn only_final_client_errors_are_final() {
        for (code, want) in [
            (200, Retry::Done),
            (204, Retry::Done),
            (400, Retry::Refused),
            (403, Retry::Refused),
            (404, Retry::Refused),
            (409, Retry::Refused),
            (410, Retry::Refused),
            (413, Retry::Refused),
            (422, Retry::Refused),
            (408, Retry::Later),
            (429, Retry::Later),
            (500, Retry::Later),
            (502, Retry::Later),
            (503, Retry::Later),
        ] {
            assert_eq!(
                classify(StatusCode::from_u16(code).unwrap()),
                want,
                "{code}"
            );
        }
    }
}
