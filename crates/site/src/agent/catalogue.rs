//! The site's catalogue at the hub. After each poll the hub answered, the agent reads its
//! catalogue file (`catalogue.toml`, else `catalogue.json`, in the site directory) and, when
//! its text differs from the last one it settled with the hub, checks it and sends it
//! (`POST /api/site/catalogue`): so once the hub first answers, and within one poll of an
//! edit; a hub that refuses polls or cannot be reached gets no catalogue calls on top. Reading a small
//! file and hashing it each cycle costs less than a file watcher and works on every file
//! system; an unchanged file is never sent again.
//!
//! The file is MIABIS aggregate metadata the steward writes (names, contacts, material
//! types, diseases, declared totals), no patient's or specimen's record, so it passes no
//! disclosure gate; each one sent is in the site's audit log (`catalogue_sent`, its SHA-256).
//! A file that fails the MIABIS checks is not sent (the error is logged once per version of
//! the file); one the hub refuses is not sent again until it changes; one the hub could not
//! be reached with is tried again after the next poll.

use super::Agent;
use super::backoff::CallError;
use crate::tasks::CATALOGUE_FILES;
use kakehashi_federation::catalogue::{CATALOGUE_VERSION, CatalogueReport};
use std::time::{Duration, Instant};

impl Agent {
    /// The catalogue file as it is now (none when the site has none or it cannot be read).
    fn catalogue_report(&self) -> Option<CatalogueReport> {
        for name in CATALOGUE_FILES {
            let p = self.cfg.site_dir.join(name);
            match std::fs::read_to_string(&p) {
                Ok(text) => {
                    return Some(CatalogueReport {
                        version: CATALOGUE_VERSION,
                        file: name.to_owned(),
                        text,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::error!(file = %p.display(), error = %e, "cannot read the catalogue");
                    return None;
                }
            }
        }
        None
    }

    /// Sends the catalogue when it changed since it was last settled with the hub.
    pub(super) async fn sync_catalogue(&self) {
        let Some(report) = self.catalogue_report() else {
            return;
        };
        let sha256 = report.sha256();
        let settled = |s: &str| {
            *self
                .catalogue_settled
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(s.to_owned());
        };
        if self
            .catalogue_settled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
            == Some(sha256.as_str())
        {
            return;
        }
        let path = self.cfg.site_dir.join(&report.file);
        if let Err(e) =
            kakehashi_biobank::parse_catalogue(&path.display().to_string(), &report.text)
        {
            tracing::error!(error = %e, "the catalogue is not sent to the hub until it is fixed");
            settled(&sha256);
            return;
        }
        let give_up = Some(Instant::now() + Duration::from_secs(self.cfg.poll_seconds.max(5)));
        let r = self
            .call("catalogue", give_up, || {
                self.http
                    .post(self.url("/api/site/catalogue"))
                    .json(&report)
                    .timeout(Duration::from_secs(30))
            })
            .await;
        match r {
            Ok(_) => {
                self.audit_event(
                    "catalogue_sent",
                    serde_json::json!({"file": report.file, "sha256": sha256}),
                );
                tracing::info!(file = %report.file, sha256 = %sha256, "catalogue sent to the hub");
                settled(&sha256);
            }
            Err(CallError::Refused { status, reason }) => {
                tracing::error!(%status, reason = %reason, "the hub refused the catalogue; it is sent again when the file changes");
                settled(&sha256);
            }
            Err(e @ CallError::GaveUp(_)) => {
                tracing::warn!(error = %e, "the catalogue did not reach the hub; trying again after the next poll");
            }
        }
    }
}
