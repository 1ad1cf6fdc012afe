//! Notifications: each cycle stores the reminders the office owes its people today
//! ([`kakehashi_office::reminder::due`]) in the outbox, written in the recipient's language,
//! then delivers what is due: immediately, or once a day as a digest, or not at all, as each
//! user chose per topic. A message goes out once whichever replica runs the cycle (the
//! outbox is unique by key and recipient, a delivery claims its row first); a failed delivery
//! is tried again later, with a growing pause, until `notify.max_attempts`.
//!
//! Other areas (the repository requests) add messages with [`enqueue`].

use crate::db::{OfficeTable, Outgoing};
use crate::error::ApiError;
use crate::mail::{MailError, Mailer};
use crate::service::ApiResult;
use crate::service::office::list;
use crate::{Hub, db::Role};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use kakehashi_office::agreement::Agreement;
use kakehashi_office::event::Event;
use kakehashi_office::governance::Body;
use kakehashi_office::reminder::{self, About};
use kakehashi_web::format::date;
use kakehashi_web::i18n::Arg;
use kakehashi_web::{Catalog, Locale};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The topics a user can choose for, and what each is about.
pub const TOPICS: [&str; 4] = ["renewal", "action", "event", "requests"];
/// How a user can hear of a topic.
pub const MODES: [&str; 3] = ["immediate", "digest", "off"];

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CycleReport {
    /// Reminders newly stored in the outbox.
    pub stored: usize,
    /// Messages sent one by one.
    pub sent: usize,
    /// Digests sent (each carrying one or more messages).
    pub digests: usize,
    /// Messages not sent: the user chose `off`, has no address, or is disabled.
    pub skipped: usize,
    /// Messages whose delivery failed and will be tried again.
    pub retrying: usize,
    /// Messages given up after `notify.max_attempts`.
    pub failed: usize,
}

fn locale(lang: &str) -> Locale {
    Locale::from_code(lang).unwrap_or(Locale::En)
}

fn s(v: impl Into<String>) -> Arg {
    Arg::Str(v.into())
}

/// Subject and body of a reminder in `lang`.
pub fn render(about: &About, lang: &str, hub_url: &str) -> (String, String) {
    let l = locale(lang);
    let c = Catalog::global();
    let d = |n: NaiveDate| s(date(l, n));
    let (subject, body) = match about {
        About::Renewal {
            title,
            decision_due,
            notice_deadline,
            days,
            ..
        } => {
            let args = [
                ("title", s(title.as_str())),
                ("due", d(*decision_due)),
                ("deadline", d(*notice_deadline)),
                ("days", Arg::Num(*days as f64)),
                ("link", s(format!("{hub_url}/office"))),
            ];
            let key = if *days < 0 { "overdue" } else { "due" };
            (
                c.text(l, &format!("mail-renewal-{key}-subject"), &args),
                c.text(l, &format!("mail-renewal-{key}-body"), &args),
            )
        }
        About::Action {
            event_title,
            text,
            due,
            days,
            ..
        } => {
            let args = [
                ("event", s(event_title.as_str())),
                ("text", s(text.as_str())),
                ("due", d(*due)),
                ("days", Arg::Num(*days as f64)),
                ("link", s(format!("{hub_url}/office#events"))),
            ];
            let key = if *days < 0 { "overdue" } else { "due" };
            (
                c.text(l, &format!("mail-action-{key}-subject"), &args),
                c.text(l, &format!("mail-action-{key}-body"), &args),
            )
        }
        About::Event {
            title,
            berlin,
            tokyo,
            location,
            ..
        } => {
            let args = [
                ("title", s(title.as_str())),
                ("berlin", s(berlin.as_str())),
                ("tokyo", s(tokyo.as_str())),
                ("location", s(location.as_str())),
                ("link", s(format!("{hub_url}/office#events"))),
            ];
            (
                c.text(l, "mail-event-subject", &args),
                c.text(l, "mail-event-body", &args),
            )
        }
    };
    let footer = c.text(
        l,
        "mail-footer",
        &[("link", s(format!("{hub_url}/notifications")))],
    );
    (subject, format!("{body}\n\n-- \n{footer}\n"))
}

/// Stores a message for `recipient` unless one with `key` is stored; whether it was new.
pub fn enqueue(
    hub: &Hub,
    key: &str,
    recipient: &str,
    topic: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    Ok(hub.db.enqueue(key, recipient, topic, subject, body, now)?)
}

/// Stores the reminders due on `now`'s day; how many were new.
pub fn store_reminders(hub: &Hub, now: DateTime<Utc>) -> ApiResult<usize> {
    let agreements: Vec<Agreement> = list(hub, OfficeTable::Agreements, None)?;
    let bodies: Vec<Body> = list(hub, OfficeTable::Bodies, None)?;
    let events: Vec<Event> = list(hub, OfficeTable::Events, None)?;
    let office: Vec<String> = hub
        .db
        .user_rows(now)?
        .into_iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .map(|u| u.name)
        .collect();
    let url = hub.cfg.url();
    let mut stored = 0;
    for r in reminder::due(now.date_naive(), &agreements, &bodies, &events, &office) {
        // a person named in the office's records but without an account hears nothing
        let Some(to) = hub.db.recipient(&r.to)? else {
            continue;
        };
        let (subject, body) = render(&r.about, &to.lang, &url);
        if hub
            .db
            .enqueue(&r.key, &r.to, r.about.topic(), &subject, &body, now)?
        {
            stored += 1;
        }
    }
    Ok(stored)
}

/// What to do with one recipient's due messages.
struct Plan {
    address: Option<String>,
    lang: String,
    now: Vec<Outgoing>,
    digest: Vec<Outgoing>,
}

/// The pause before attempt `attempts + 1`: 2, 4, 8 … minutes, at most six hours.
fn backoff(attempts: i64) -> Duration {
    Duration::minutes(1i64 << attempts.clamp(1, 9)).min(Duration::hours(6))
}

/// Sorts the due messages by recipient and marks what will not be sent.
fn plan(hub: &Hub, now: DateTime<Utc>, report: &mut CycleReport) -> ApiResult<Vec<(String, Plan)>> {
    let mut by: BTreeMap<String, Vec<Outgoing>> = BTreeMap::new();
    for m in hub.db.due_messages(now, 1000)? {
        by.entry(m.recipient.clone()).or_default().push(m);
    }
    let mut plans = Vec::new();
    for (user, msgs) in by {
        let who = hub.db.recipient(&user)?;
        let prefs: BTreeMap<String, String> = hub.db.notify_prefs(&user)?.into_iter().collect();
        let mut p = Plan {
            address: who.as_ref().and_then(|w| w.email.clone()),
            lang: who.as_ref().map_or_else(|| "en".into(), |w| w.lang.clone()),
            now: vec![],
            digest: vec![],
        };
        for m in msgs {
            let skip = match (&who, prefs.get(&m.topic).map(String::as_str)) {
                (None, _) => Some("no such user"),
                (Some(w), _) if w.disabled => Some("account disabled"),
                (_, Some("off")) => Some("the user turned this topic off"),
                (Some(w), _) if w.email.is_none() => Some("no e-mail address"),
                _ => None,
            };
            if let Some(why) = skip {
                hub.db.finish_message(m.id, "skipped", Some(why), now)?;
                report.skipped += 1;
            } else if prefs.get(&m.topic).map(String::as_str) == Some("digest") {
                p.digest.push(m);
            } else {
                p.now.push(m);
            }
        }
        plans.push((user, p));
    }
    Ok(plans)
}

/// After a failed attempt: retried later, or given up at `max_attempts`.
fn failed(
    hub: &Hub,
    m: &Outgoing,
    e: &MailError,
    now: DateTime<Utc>,
    report: &mut CycleReport,
) -> ApiResult<()> {
    let attempts = m.attempts + 1;
    tracing::warn!(message = m.id, recipient = %m.recipient, attempts, error = %e, "sending a notification failed");
    if attempts >= hub.cfg.notify.max_attempts {
        hub.db
            .finish_message(m.id, "failed", Some(&e.to_string()), now)?;
        report.failed += 1;
    } else {
        hub.db
            .retry_message(m.id, &e.to_string(), now + backoff(attempts))?;
        report.retrying += 1;
    }
    Ok(())
}

/// Delivers the messages due at `now`.
pub async fn deliver(
    hub: &Arc<Hub>,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<CycleReport, ApiError> {
    let (plans, mut report) = hub
        .blocking(move |h| {
            let mut r = CycleReport::default();
            Ok((plan(h, now, &mut r)?, r))
        })
        .await?;
    let lease = now + Duration::minutes(10);
    let digest_time = now.hour() >= hub.cfg.notify.digest_hour;
    for (user, p) in plans {
        let Some(address) = p.address else { continue };
        for m in p.now {
            let id = m.id;
            if !hub
                .blocking(move |h| Ok(h.db.claim_message(id, now, lease)?))
                .await?
            {
                continue; // another replica has it
            }
            let sent = mailer.send(&user, &address, &m.subject, &m.body).await;
            let mut r = CycleReport::default();
            hub.blocking(move |h| {
                match &sent {
                    Ok(()) => {
                        h.db.finish_message(m.id, "sent", None, now)?;
                        r.sent += 1;
                    }
                    Err(e) => failed(h, &m, e, now, &mut r)?,
                }
                Ok(r)
            })
            .await
            .map(|r| add(&mut report, &r))?;
        }
        if p.digest.is_empty() || !digest_time {
            continue;
        }
        let day = now.date_naive().to_string();
        let (u, d) = (user.clone(), day.clone());
        let ids: Vec<i64> = p.digest.iter().map(|m| m.id).collect();
        let claimed = hub
            .blocking(move |h| {
                if !h.db.claim_digest(&u, &d, now)? {
                    return Ok(vec![]);
                }
                let mut got = vec![];
                for id in ids {
                    if h.db.claim_message(id, now, lease)? {
                        got.push(id);
                    }
                }
                Ok(got)
            })
            .await?;
        let msgs: Vec<Outgoing> = p
            .digest
            .into_iter()
            .filter(|m| claimed.contains(&m.id))
            .collect();
        if msgs.is_empty() {
            continue;
        }
        let (subject, body) = digest(&msgs, &p.lang);
        let sent = mailer.send(&user, &address, &subject, &body).await;
        let r = hub
            .blocking(move |h| {
                let mut r = CycleReport::default();
                match &sent {
                    Ok(()) => {
                        for m in &msgs {
                            h.db.finish_message(m.id, "sent", Some("in the daily digest"), now)?;
                        }
                        r.digests += 1;
                    }
                    Err(e) => {
                        h.db.release_digest(&user, &day)?;
                        for m in &msgs {
                            failed(h, m, e, now, &mut r)?;
                        }
                    }
                }
                Ok(r)
            })
            .await?;
        add(&mut report, &r);
    }
    Ok(report)
}

fn add(into: &mut CycleReport, r: &CycleReport) {
    into.stored += r.stored;
    into.sent += r.sent;
    into.digests += r.digests;
    into.skipped += r.skipped;
    into.retrying += r.retrying;
    into.failed += r.failed;
}

/// One message carrying several: their subjects as a list, then each in full.
fn digest(msgs: &[Outgoing], lang: &str) -> (String, String) {
    let l = locale(lang);
    let c = Catalog::global();
    let subject = c.text(
        l,
        "mail-digest-subject",
        &[("n", Arg::Num(msgs.len() as f64))],
    );
    let mut body = String::new();
    for m in msgs {
        body.push_str(&format!("* {}\n", m.subject));
    }
    for m in msgs {
        body.push_str(&format!("\n\n== {}\n\n{}", m.subject, m.body));
    }
    (subject, body)
}

/// One cycle: store today's reminders, deliver what is due. The audit log records what was
/// sent (counts, never the text).
pub async fn cycle(hub: &Arc<Hub>, now: DateTime<Utc>) -> Result<CycleReport, ApiError> {
    let Some(mailer) = hub.mailer.clone() else {
        return Err(ApiError::conflict(
            "this hub sends no e-mail: its configuration has no [smtp] section".to_owned(),
        ));
    };
    let stored = hub.blocking(move |h| store_reminders(h, now)).await?;
    let mut report = deliver(hub, &mailer, now).await?;
    report.stored = stored;
    if report != CycleReport::default() {
        let detail =
            serde_json::to_value(&report).map_err(|e| ApiError::internal(e.to_string()))?;
        hub.blocking(move |h| h.audit_log("notifications", detail))
            .await?;
    }
    Ok(report)
}

/// Runs a cycle every `notify.interval_seconds` while the hub lives; nothing without `[smtp]`.
pub fn spawn_loop(hub: &Arc<Hub>) {
    if hub.mailer.is_none() {
        return;
    }
    let every = std::time::Duration::from_secs(hub.cfg.notify.interval_seconds.max(1));
    let weak = Arc::downgrade(hub);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is now: the first cycle comes one interval after start
        loop {
            tick.tick().await;
            let Some(hub) = weak.upgrade() else { break };
            if let Err(e) = cycle(&hub, Utc::now()).await {
                tracing::warn!(error = %e, "a notification cycle failed");
            }
        }
    });
}
