//! Study enrolment at the site: the site's pseudonym secret (`pseudonym.secret` in the site
//! directory, 32 random bytes made on first use, mode 0600) and the mapping of local patient
//! ids to subject pseudonyms (`enrolments.sqlite` in the site directory), the only place
//! that can re-identify a subject. The steward enrols a patient (`kakehashi site enrol`, or
//! the console); the pseudonym is minted here
//! ([`kakehashi_federation::enrolment::pseudonym`]) and the agent sends the hub the study id
//! and the pseudonym after its next poll (`agent::enrolment`), never the patient id. A
//! second enrolment of the same patient in the same study is the same subject.

use chrono::Utc;
use kakehashi_federation::enrolment::{Enrolment, EnrolmentOutcome, pseudonym};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The secret's file in the site directory.
pub const SECRET_FILE: &str = "pseudonym.secret";
/// The mapping's database in the site directory.
pub const MAPPING_FILE: &str = "enrolments.sqlite";

/// Enrolment state that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// The secret file.
    #[error("{path}: {reason}")]
    Secret {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The mapping database.
    #[error("{path}: {source}")]
    Mapping {
        /// The file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A study id or patient id that cannot be used.
    #[error("{field}: {problem}")]
    Input {
        /// `study` or `patient`.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Reads the site's pseudonym secret, making it (32 random bytes, hex, mode 0600) when the
/// file does not exist.
pub fn site_secret(site_dir: &Path) -> Result<[u8; 32], EnrolmentError> {
    let path = site_dir.join(SECRET_FILE);
    let err = |m: String| EnrolmentError::Secret {
        path: path.clone(),
        reason: m,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim())
            .map_err(|e| err(format!("not a hex secret: {e}")))?
            .try_into()
            .map_err(|_| err("the secret must be 32 bytes (64 hex digits)".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut secret);
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, hex::encode(secret)).map_err(|e| err(e.to_string()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| err(e.to_string()))?;
            }
            // never replace a secret another process made meanwhile: pseudonyms would change
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&tmp);
                    Ok(secret)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let _ = std::fs::remove_file(&tmp);
                    site_secret(site_dir)
                }
                Err(e) => Err(err(e.to_string())),
            }
        }
        Err(e) => Err(err(e.to_string())),
    }
}

/// One enrolment as the site keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// The study.
    pub study: String,
    /// The pseudonym (the record id at the hub).
    pub record: String,
    /// When the steward enrolled the patient (RFC 3339).
    pub enrolled_at: String,
    /// Whether this call made it (false: the patient was enrolled in the study before).
    pub new: bool,
    /// What the hub answered: `None` until sent, else `enrolled`, `already`, or
    /// `refused: reason`.
    pub hub: Option<String>,
}

/// The site's enrolment mapping (local patient id ↔ pseudonym per study).
pub struct Enrolments {
    db: Connection,
    path: PathBuf,
    secret: [u8; 32],
}

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS enrolments (study TEXT NOT NULL, patient TEXT NOT NULL,
    record TEXT NOT NULL, enrolled_at TEXT NOT NULL, hub TEXT, sent_at TEXT,
    PRIMARY KEY (study, patient));
CREATE UNIQUE INDEX IF NOT EXISTS enrolments_record ON enrolments (study, record);";

fn check_id(field: &'static str, s: &str) -> Result<(), EnrolmentError> {
    let bad = |problem: &str| EnrolmentError::Input {
        field,
        problem: problem.into(),
    };
    if s.trim().is_empty() {
        return Err(bad("empty"));
    }
    if s.trim() != s || s.len() > 200 || s.chars().any(char::is_control) {
        return Err(bad(
            "1 to 200 characters, no control characters and no spaces around",
        ));
    }
    Ok(())
}

impl Enrolments {
    /// Opens (creating on first use) the mapping and the secret in the site directory.
    pub fn open(site_dir: &Path) -> Result<Enrolments, EnrolmentError> {
        let secret = site_secret(site_dir)?;
        let path = site_dir.join(MAPPING_FILE);
        let map = |source| EnrolmentError::Mapping {
            path: path.clone(),
            source,
        };
        let db = Connection::open(&path).map_err(map)?;
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(map)?;
        db.execute_batch(SCHEMA).map_err(map)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Enrolments { db, path, secret })
    }

    fn map(&self) -> impl Fn(rusqlite::Error) -> EnrolmentError + '_ {
        |source| EnrolmentError::Mapping {
            path: self.path.clone(),
            source,
        }
    }

    /// The pseudonym a patient has (or would have) in a study at this site.
    pub fn pseudonym(&self, study: &str, patient: &str) -> String {
        pseudonym(&self.secret, study, patient)
    }

    /// Enrols a local patient in a study: mints the pseudonym and keeps the mapping; the
    /// agent sends it after its next poll. A second call for the same patient and study
    /// answers the first enrolment.
    pub fn enrol(&self, study: &str, patient: &str) -> Result<Enrolled, EnrolmentError> {
        check_id("study", study)?;
        check_id("patient", patient)?;
        let record = self.pseudonym(study, patient);
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let n = self
            .db
            .execute(
                "INSERT INTO enrolments (study, patient, record, enrolled_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (study, patient) DO NOTHING",
                params![study, patient, record, now],
            )
            .map_err(self.map())?;
        let mut e = self
            .find(study, &record)?
            .ok_or_else(|| EnrolmentError::Input {
                field: "patient",
                problem: "the enrolment was not kept".into(),
            })?;
        e.new = n == 1;
        Ok(e)
    }

    fn find(&self, study: &str, record: &str) -> Result<Option<Enrolled>, EnrolmentError> {
        self.db
            .query_row(
                "SELECT study, record, enrolled_at, hub FROM enrolments WHERE study = ?1 AND record = ?2",
                params![study, record],
                |r| {
                    Ok(Enrolled {
                        study: r.get(0)?,
                        record: r.get(1)?,
                        enrolled_at: r.get(2)?,
                        new: false,
                        hub: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(self.map())
    }

    /// The local patient id of a pseudonym (re-identification, at the site only).
    pub fn patient_of(&self, study: &str, record: &str) -> Result<Option<String>, EnrolmentError> {
        self.db
            .query_row(
                "SELECT patient FROM enrolments WHERE study = ?1 AND record = ?2",
                params![study, record],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.map())
    }

    /// Every enrolment, newest first (the console's list; no patient ids).
    pub fn list(&self) -> Result<Vec<Enrolled>, EnrolmentError> {
        let mut st = self
            .db
            .prepare(
                "SELECT study, record, enrolled_at, hub FROM enrolments ORDER BY enrolled_at DESC, study, record",
            )
            .map_err(self.map())?;
        let rows = st
            .query_map([], |r| {
                Ok(Enrolled {
                    study: r.get(0)?,
                    record: r.get(1)?,
                    enrolled_at: r.get(2)?,
                    new: false,
                    hub: r.get(3)?,
                })
            })
            .map_err(self.map())?;
        rows.collect::<Result<_, _>>().map_err(self.map())
    }

    /// The enrolments the hub has not answered yet (at most `limit`), oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<Enrolment>, EnrolmentError> {
        let mut st = self
            .db
            .prepare(
                "SELECT study, record FROM enrolments WHERE hub IS NULL ORDER BY enrolled_at, study, record LIMIT ?1",
            )
            .map_err(self.map())?;
        let rows = st
            .query_map(params![limit as i64], |r| {
                Ok(Enrolment {
                    study: r.get(0)?,
                    record: r.get(1)?,
                })
            })
            .map_err(self.map())?;
        rows.collect::<Result<_, _>>().map_err(self.map())
    }

    /// Records what the hub answered for an enrolment.
    pub fn settle(&self, e: &Enrolment, outcome: &EnrolmentOutcome) -> Result<(), EnrolmentError> {
        let word = match outcome {
            EnrolmentOutcome::Enrolled => "enrolled".to_owned(),
            EnrolmentOutcome::Already => "already".to_owned(),
            EnrolmentOutcome::Refused { reason } => format!("refused: {reason}"),
        };
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.db
            .execute(
                "UPDATE enrolments SET hub = ?3, sent_at = ?4 WHERE study = ?1 AND record = ?2",
                params![e.study, e.record, word, now],
            )
            .map_err(self.map())?;
        Ok(())
    }

    /// Sends a refused enrolment again with the next report (after the study was activated
    /// or the site added to it).
    pub fn retry(&self, study: &str, record: &str) -> Result<bool, EnrolmentError> {
        Ok(self
            .db
            .execute(
                "UPDATE enrolments SET hub = NULL WHERE study = ?1 AND record = ?2 AND hub LIKE 'refused%'",
                params![study, record],
            )
            .map_err(self.map())?
            == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_made_once_private_and_pseudonyms_are_stable() {
        let d = tempfile::tempdir().unwrap();
        let e = Enrolments::open(d.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let a = e.enrol("vhf-registry", "P-0001").unwrap();
        assert!(a.new);
        assert_eq!(a.hub, None);
        let again = e.enrol("vhf-registry", "P-0001").unwrap();
        assert!(!again.new);
        assert_eq!(again.record, a.record);
        drop(e);
        // reopened: the same secret, the same pseudonym
        let e = Enrolments::open(d.path()).unwrap();
        assert_eq!(e.pseudonym("vhf-registry", "P-0001"), a.record);
        assert_eq!(
            e.patient_of("vhf-registry", &a.record).unwrap().as_deref(),
            Some("P-0001")
        );
        // another site (another secret): another pseudonym
        let other = tempfile::tempdir().unwrap();
        let o = Enrolments::open(other.path()).unwrap();
        assert_ne!(o.pseudonym("vhf-registry", "P-0001"), a.record);
        // pending until the hub answers
        assert_eq!(e.pending(10).unwrap().len(), 1);
        let p = e.pending(10).unwrap().remove(0);
        e.settle(
            &p,
            &EnrolmentOutcome::Refused {
                reason: "draft".into(),
            },
        )
        .unwrap();
        assert!(e.pending(10).unwrap().is_empty());
        assert!(e.retry("vhf-registry", &a.record).unwrap());
        e.settle(&p, &EnrolmentOutcome::Enrolled).unwrap();
        assert_eq!(e.list().unwrap()[0].hub.as_deref(), Some("enrolled"));
        assert!(e.enrol("vhf-registry", " P-1").is_err());
        assert!(e.enrol("", "P-1").is_err());
    }
}
