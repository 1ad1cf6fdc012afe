//! Pre-fill at the site: the steward's policy (`[prefill]` in `site.toml`: off unless a
//! study is listed; optionally only some items; automatic or manual approval, by default the
//! console's mode as for tasks), the decision on one request ([`decide`]: refuse, hold for
//! the steward, or go with the allowed items), and the steward's queue of held requests
//! (`<state_dir>/prefill.sqlite`, [`PrefillQueue`]), decided with `kakehashi site prefill`.
//! The agent's side (fetching, computing, sending, auditing) is `agent::prefill`.

use crate::steward::Approval;
use chrono::Utc;
use kakehashi_edc::prefill::PrefillItem;
use kakehashi_federation::prefill::PrefillRequest;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The steward's pre-fill policy (`[prefill]` in `site.toml`). Without it, or for a study
/// it does not list, every request is refused and nothing is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefillPolicy {
    /// The studies pre-fill is allowed for (`[[prefill.studies]]`).
    #[serde(default)]
    pub studies: Vec<StudyPolicy>,
}

/// Pre-fill allowed for one study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyPolicy {
    /// The study id.
    pub study: String,
    /// Only these fields (default: every item the study declares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    /// `auto` or `manual` (default: the console's approval mode, as for tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// What becomes of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Refused, with the reason sent to the hub (no value is sent).
    Refuse(String),
    /// Held for the steward (manual approval).
    Hold,
    /// Answered now: the items to read, and the fields the policy leaves out.
    Go {
        /// The items allowed.
        items: Vec<PrefillItem>,
        /// The fields asked that the policy leaves out.
        left_out: Vec<String>,
    },
}

/// Decides a request under the policy: refused unless the study is listed and the subject
/// was enrolled here (`patient` is the local patient the pseudonym maps to, if any); held
/// in manual approval unless the steward approved it (`approved`).
pub fn decide(
    policy: &PrefillPolicy,
    default_approval: Approval,
    r: &PrefillRequest,
    patient: Option<&str>,
    approved: bool,
) -> Decision {
    let Some(p) = policy.studies.iter().find(|s| s.study == r.study) else {
        return Decision::Refuse(format!(
            "this site's policy does not allow pre-fill for the study {}",
            r.study
        ));
    };
    if patient.is_none() {
        return Decision::Refuse(format!(
            "record {} is not a subject this site's steward enrolled in {}",
            r.record, r.study
        ));
    }
    let (items, left_out): (Vec<_>, Vec<_>) = r
        .items
        .iter()
        .cloned()
        .partition(|i| p.items.as_ref().is_none_or(|l| l.contains(&i.field)));
    if items.is_empty() {
        return Decision::Refuse(format!(
            "this site's policy allows none of the items asked for the study {}",
            r.study
        ));
    }
    if p.approval.unwrap_or(default_approval) == Approval::Manual && !approved {
        return Decision::Hold;
    }
    Decision::Go {
        items,
        left_out: left_out.into_iter().map(|i| i.field).collect(),
    }
}

/// The queue's database in the state directory.
pub const QUEUE_FILE: &str = "prefill.sqlite";

/// The queue cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// SQLite.
    #[error("{path}: {source}")]
    Db {
        /// The file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// No such request, or not waiting.
    #[error("request {0}: not waiting for a decision")]
    NotWaiting(String),
}

/// A request's state at the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Waiting for the steward.
    Waiting,
    /// Approved, to be answered.
    Approved,
    /// Refused by the steward, to be told the hub.
    Refused,
    /// Answered (values or a refusal sent).
    Sent,
}

impl QueueState {
    fn as_str(self) -> &'static str {
        match self {
            QueueState::Waiting => "waiting",
            QueueState::Approved => "approved",
            QueueState::Refused => "refused",
            QueueState::Sent => "sent",
        }
    }
    fn parse(s: &str) -> QueueState {
        match s {
            "approved" => QueueState::Approved,
            "refused" => QueueState::Refused,
            "sent" => QueueState::Sent,
            _ => QueueState::Waiting,
        }
    }
}

/// A held request as the steward sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Held {
    /// The hub's request id.
    pub id: String,
    /// The study.
    pub study: String,
    /// The pseudonym.
    pub record: String,
    /// The form.
    pub form: String,
    /// Who asked at the hub.
    pub requested_by: String,
    /// The fields asked.
    pub fields: Vec<String>,
    /// Its state.
    pub state: QueueState,
    /// The steward's comment on a refusal.
    pub comment: Option<String>,
}

/// The steward's queue of pre-fill requests held for approval.
pub struct PrefillQueue {
    db: Connection,
    path: PathBuf,
}

impl PrefillQueue {
    /// Opens (creating) the queue in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<PrefillQueue, QueueError> {
        let path = state_dir.join(QUEUE_FILE);
        let e = |source| QueueError::Db {
            path: path.clone(),
            source,
        };
        let db = Connection::open(&path).map_err(e)?;
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(e)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS prefill (id TEXT PRIMARY KEY, study TEXT NOT NULL,
             record TEXT NOT NULL, form TEXT NOT NULL, requested_by TEXT NOT NULL,
             fields TEXT NOT NULL, state TEXT NOT NULL, comment TEXT, received_at TEXT NOT NULL,
             decided_at TEXT)",
        )
        .map_err(e)?;
        Ok(PrefillQueue { db, path })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> QueueError + '_ {
        |source| QueueError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Records a request as waiting (once); its state now.
    pub fn hold(&self, r: &PrefillRequest) -> Result<QueueState, QueueError> {
        let fields: Vec<&str> = r.items.iter().map(|i| i.field.as_str()).collect();
        self.db
            .execute(
                "INSERT INTO prefill (id, study, record, form, requested_by, fields, state, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'waiting', ?7) ON CONFLICT (id) DO NOTHING",
                params![
                    r.id,
                    r.study,
                    r.record,
                    r.form,
                    r.requested_by,
                    fields.join(" "),
                    Utc::now().to_rfc3339()
                ],
            )
            .map_err(self.err())?;
        Ok(self.state(&r.id)?.unwrap_or(QueueState::Waiting))
    }

    /// A request's state, if held.
    pub fn state(&self, id: &str) -> Result<Option<QueueState>, QueueError> {
        self.db
            .query_row("SELECT state FROM prefill WHERE id = ?1", [id], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map(|s| s.map(|s| QueueState::parse(&s)))
            .map_err(self.err())
    }

    /// The steward's comment on a refused request.
    pub fn comment(&self, id: &str) -> Result<Option<String>, QueueError> {
        self.db
            .query_row("SELECT comment FROM prefill WHERE id = ?1", [id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }

    /// The steward approves (`true`) or refuses a waiting request.
    pub fn decide(&self, id: &str, approve: bool, comment: &str) -> Result<(), QueueError> {
        let state = if approve {
            QueueState::Approved
        } else {
            QueueState::Refused
        };
        let n = self
            .db
            .execute(
                "UPDATE prefill SET state = ?2, comment = ?3, decided_at = ?4 WHERE id = ?1 AND state = 'waiting'",
                params![
                    id,
                    state.as_str(),
                    Some(comment.trim()).filter(|c| !c.is_empty()),
                    Utc::now().to_rfc3339()
                ],
            )
            .map_err(self.err())?;
        if n == 1 {
            Ok(())
        } else {
            Err(QueueError::NotWaiting(id.to_owned()))
        }
    }

    /// Marks a request answered.
    pub fn sent(&self, id: &str) -> Result<(), QueueError> {
        self.db
            .execute("UPDATE prefill SET state = 'sent' WHERE id = ?1", [id])
            .map_err(self.err())?;
        Ok(())
    }

    /// Every held request, newest first.
    pub fn list(&self) -> Result<Vec<Held>, QueueError> {
        let mut st = self
            .db
            .prepare(
                "SELECT id, study, record, form, requested_by, fields, state, comment FROM prefill ORDER BY received_at DESC, id",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                Ok(Held {
                    id: r.get(0)?,
                    study: r.get(1)?,
                    record: r.get(2)?,
                    form: r.get(3)?,
                    requested_by: r.get(4)?,
                    fields: r
                        .get::<_, String>(5)?
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    state: QueueState::parse(&r.get::<_, String>(6)?),
                    comment: r.get(7)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi_edc::prefill::Source;
    use kakehashi_federation::prefill::PREFILL_VERSION;

    fn request() -> PrefillRequest {
        PrefillRequest {
            version: PREFILL_VERSION,
            id: "pf-1".into(),
            study: "vhf-registry".into(),
            record: "ab".repeat(32),
            event: "e".into(),
            form: "presentation".into(),
            instance: 1,
            requested_by: "alice".into(),
            requested_at: "2026-01-01T00:00:00Z".into(),
            items: ["demog_age", "demog_sex"]
                .map(|f| PrefillItem {
                    field: f.into(),
                    source: Source::Age,
                })
                .to_vec(),
        }
    }

    #[test]
    fn off_unless_listed_enrolled_only_items_and_approval() {
        let r = request();
        let off = PrefillPolicy::default();
        assert!(matches!(
            decide(&off, Approval::Auto, &r, Some("P-1"), false),
            Decision::Refuse(m) if m.contains("does not allow pre-fill")
        ));
        let mut on = PrefillPolicy {
            studies: vec![StudyPolicy {
                study: "vhf-registry".into(),
                items: Some(vec!["demog_sex".into()]),
                approval: None,
            }],
        };
        assert!(matches!(
            decide(&on, Approval::Auto, &r, None, false),
            Decision::Refuse(m) if m.contains("not a subject")
        ));
        match decide(&on, Approval::Auto, &r, Some("P-1"), false) {
            Decision::Go { items, left_out } => {
                assert_eq!(items.len(), 1);
                assert_eq!(left_out, ["demog_age"]);
            }
            d => panic!("{d:?}"),
        }
        assert_eq!(
            decide(&on, Approval::Manual, &r, Some("P-1"), false),
            Decision::Hold
        );
        on.studies[0].approval = Some(Approval::Auto);
        assert!(matches!(
            decide(&on, Approval::Manual, &r, Some("P-1"), false),
            Decision::Go { .. }
        ));
        let toml = "[[studies]]\nstudy = \"vhf-registry\"\napproval = \"manual\"\n";
        let p: PrefillPolicy = toml::from_str(toml).unwrap();
        assert_eq!(p.studies[0].approval, Some(Approval::Manual));
        assert!(
            toml::from_str::<PrefillPolicy>("[[studies]]\nstudy = \"x\"\nallow = 1\n").is_err()
        );
    }

    #[test]
    fn the_queue_holds_once_and_records_the_decision() {
        let d = tempfile::tempdir().unwrap();
        let q = PrefillQueue::open(d.path()).unwrap();
        let r = request();
        assert_eq!(q.hold(&r).unwrap(), QueueState::Waiting);
        assert_eq!(q.hold(&r).unwrap(), QueueState::Waiting);
        assert_eq!(q.list().unwrap().len(), 1);
        q.decide("pf-1", false, "not this one").unwrap();
        assert!(q.decide("pf-1", true, "").is_err());
        assert_eq!(q.state("pf-1").unwrap(), Some(QueueState::Refused));
        assert_eq!(q.comment("pf-1").unwrap().as_deref(), Some("not this one"));
        q.sent("pf-1").unwrap();
        assert_eq!(q.list().unwrap()[0].state, QueueState::Sent);
    }
}
