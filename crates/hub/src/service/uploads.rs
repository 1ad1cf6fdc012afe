//! Resumable uploads of large answers: a site creates an upload for (task, site) with the
//! answer's size and SHA-256, sends it in parts at their offsets, asks where the upload stands
//! after a failure, and commits it; the commit checks size and SHA-256 and hands the bytes to
//! [`sites::accept_answer`], the same path as a posted answer (signature, checks, audit,
//! idempotency). Partial uploads are spool files under `<data_dir>/uploads/` (never in the
//! database): `<id>.part` (the bytes so far, synced after every part) and `<id>.json` (what
//! the upload is). Each upload is capped at `[uploads] max_bytes`, each site at
//! `max_per_site` open uploads; an upload older than `expire_seconds` is removed.

use super::{ApiResult, sites};
use crate::db::SiteRow;
use crate::{ApiError, Hub};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Limits of resumable uploads (`[uploads]` in `hub.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadConfig {
    /// Largest answer one upload may carry, bytes; larger gets 413. Default 16 MiB.
    pub max_bytes: u64,
    /// Most uploads one site may have open at once; more get 429. Default 4.
    pub max_per_site: usize,
    /// Seconds after its creation an upload is removed, committed or not. Default 3600.
    pub expire_seconds: u64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            max_bytes: 16 * 1024 * 1024,
            max_per_site: 4,
            expire_seconds: 3600,
        }
    }
}

/// A new upload, as a site asks for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The task the answer is for.
    pub task: String,
    /// The answer's size, bytes.
    pub size: u64,
    /// The SHA-256 of the answer's bytes, hex.
    pub sha256: String,
}

/// One part of an upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Where the part begins; must be the upload's current offset.
    pub offset: u64,
    /// The part's bytes, base64.
    pub data: String,
}

/// Where an upload stands.
#[derive(Debug, Clone, Serialize)]
pub struct UploadState {
    /// Its id.
    pub id: String,
    /// The task.
    pub task: String,
    /// Bytes received so far (the offset of the next part).
    pub offset: u64,
    /// The declared size.
    pub size: u64,
    /// Whether it was committed.
    pub committed: bool,
}

/// What the hub keeps of an upload beside its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    id: String,
    site: String,
    task: String,
    size: u64,
    sha256: String,
    created: DateTime<Utc>,
    committed: bool,
}

/// An upload request the hub refuses; a part at another offset says where the upload stands.
#[derive(Debug)]
pub enum UploadError {
    /// Refused with this error.
    Api(ApiError),
    /// A part or commit that does not match the upload's offset (409).
    Offset {
        /// What the hub has.
        expected: u64,
        /// The message.
        message: String,
    },
}

impl From<ApiError> for UploadError {
    fn from(e: ApiError) -> Self {
        UploadError::Api(e)
    }
}

/// One upload request at a time: parts are appended in order and a commit sees whole files.
static LOCK: Mutex<()> = Mutex::new(());

fn err(status: StatusCode, code: &'static str, message: String) -> ApiError {
    ApiError {
        status,
        code,
        message,
    }
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("upload spool: {e}"))
}

fn dir(hub: &Hub) -> PathBuf {
    hub.cfg.data_dir.join("uploads")
}

fn meta_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.json"))
}

fn part_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.part"))
}

fn state(dir: &Path, m: &Meta) -> UploadState {
    let offset = if m.committed {
        m.size
    } else {
        std::fs::metadata(part_path(dir, &m.id)).map_or(0, |f| f.len())
    };
    UploadState {
        id: m.id.clone(),
        task: m.task.clone(),
        offset,
        size: m.size,
        committed: m.committed,
    }
}

fn write_meta(dir: &Path, m: &Meta) -> ApiResult<()> {
    let tmp = dir.join(format!("{}.json.tmp", m.id));
    let text = serde_json::to_vec(m).map_err(|e| ApiError::internal(e.to_string()))?;
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, meta_path(dir, &m.id)).map_err(io)
}

fn remove(dir: &Path, id: &str) {
    let _ = std::fs::remove_file(part_path(dir, id));
    let _ = std::fs::remove_file(meta_path(dir, id));
}

/// Every upload's record; removes the expired ones (and stray files) on the way.
fn uploads(hub: &Hub, dir: &Path) -> ApiResult<Vec<Meta>> {
    let expire = chrono::Duration::seconds(hub.cfg.uploads.expire_seconds as i64);
    let now = Utc::now();
    let mut kept = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)?.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".json") {
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
            {
                Some(m) if m.created + expire > now => kept.push(m),
                _ => remove(dir, id),
            }
        } else if name.ends_with(".part") || name.ends_with(".tmp") {
            let id = name.split('.').next().unwrap_or_default();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > hub.cfg.uploads.expire_seconds);
            if old || !meta_path(dir, id).exists() && name.ends_with(".part") {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    Ok(kept)
}

/// The upload `id` of `site` (another site's upload is not found, as an unknown one).
fn load(dir: &Path, site: &SiteRow, id: &str) -> ApiResult<Meta> {
    let not_found = || ApiError::not_found(format!("no upload {id} of site {}", site.id));
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(not_found());
    }
    let m: Meta = std::fs::read(meta_path(dir, id))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(not_found)?;
    if m.site != site.id.as_str() {
        return Err(not_found());
    }
    Ok(m)
}

/// Creates an upload, or finds the site's open upload of the same answer (same task, size and
/// SHA-256) so that a site that restarted resumes it. Returns whether it is new. Blocking.
pub fn create(hub: &Hub, site: &SiteRow, req: NewUpload) -> ApiResult<(bool, UploadState)> {
    let sha = req.sha256.trim().to_ascii_lowercase();
    if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "sha256: 64 hex digits, the SHA-256 of the answer's bytes",
        ));
    }
    if req.size == 0 {
        return Err(ApiError::bad_request(
            "size: an answer has at least one byte",
        ));
    }
    let cap = hub.cfg.uploads.max_bytes;
    if req.size > cap {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("size: {} bytes; an answer may have at most {cap}", req.size),
        ));
    }
    if !hub
        .db
        .task_sites(&req.task)?
        .iter()
        .any(|s| s == site.id.as_str())
    {
        return Err(ApiError::not_found(format!(
            "task {:?} was not sent to {}",
            req.task, site.id
        )));
    }
    let _one = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let dir = dir(hub);
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut open = 0;
    for m in uploads(hub, &dir)?
        .into_iter()
        .filter(|m| m.site == site.id.as_str())
    {
        if m.task == req.task && m.size == req.size && m.sha256 == sha {
            return Ok((false, state(&dir, &m)));
        }
        if m.task == req.task && !m.committed {
            // the site sends another answer to the task: the old one is dropped
            remove(&dir, &m.id);
        } else if !m.committed {
            open += 1;
        }
    }
    if open >= hub.cfg.uploads.max_per_site {
        return Err(err(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            format!(
                "site {} has {open} uploads open (at most {}): finish one first",
                site.id, hub.cfg.uploads.max_per_site
            ),
        ));
    }
    let m = Meta {
        id: uuid::Uuid::new_v4().to_string(),
        site: site.id.to_string(),
        task: req.task,
        size: req.size,
        sha256: sha,
        created: Utc::now(),
        committed: false,
    };
    std::fs::File::create(part_path(&dir, &m.id)).map_err(io)?;
    write_meta(&dir, &m)?;
    Ok((true, state(&dir, &m)))
}

/// Where the site's upload `id` stands. Blocking.
pub fn get(hub: &Hub, site: &SiteRow, id: &str) -> ApiResult<UploadState> {
    let dir = dir(hub);
    let _one = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    Ok(state(&dir, &load(&dir, site, id)?))
}

/// Appends a part at the upload's offset (another offset is refused with the offset the hub
/// has); the bytes are synced before the new offset is answered. Blocking.
pub fn append(hub: &Hub, site: &SiteRow, id: &str, part: Part) -> Result<UploadState, UploadError> {
    use base64::Engine;
    let dir = dir(hub);
    let _one = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let m = load(&dir, site, id)?;
    let now = state(&dir, &m);
    if m.committed || part.offset != now.offset {
        return Err(UploadError::Offset {
            expected: now.offset,
            message: format!(
                "part at offset {}, but upload {id} is at offset {}{}",
                part.offset,
                now.offset,
                if m.committed { " and committed" } else { "" }
            ),
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(part.data.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("data: not base64: {e}")))?;
    if now.offset + bytes.len() as u64 > m.size {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "data: the part ends at {}, past the upload's size {}",
                now.offset + bytes.len() as u64,
                m.size
            ),
        )
        .into());
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(part_path(&dir, id))
        .map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_data().map_err(io)?;
    Ok(state(&dir, &m))
}

/// Commits a complete upload: its size and SHA-256 must match what was declared (else 422 and
/// the upload is removed, nothing stored), then the bytes are accepted as a posted answer
/// ([`sites::accept_answer`]). Committing again is a no-op. Blocking.
pub fn commit(hub: &Hub, site: &SiteRow, id: &str) -> Result<(), UploadError> {
    let dir = dir(hub);
    let _one = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let mut m = load(&dir, site, id)?;
    if m.committed {
        return Ok(());
    }
    let now = state(&dir, &m);
    if now.offset != m.size {
        return Err(UploadError::Offset {
            expected: now.offset,
            message: format!(
                "upload {id} has {} of {} bytes: send the rest first",
                now.offset, m.size
            ),
        });
    }
    let bytes = std::fs::read(part_path(&dir, id)).map_err(io)?;
    let sha = hex::encode(Sha256::digest(&bytes));
    if sha != m.sha256 {
        remove(&dir, id);
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "checksum_mismatch",
            format!(
                "upload {id}: the bytes have SHA-256 {sha}, not the declared {}; nothing was stored, upload again",
                m.sha256
            ),
        )
        .into());
    }
    match sites::accept_answer(hub, site, &bytes) {
        Ok(()) => {
            let _ = std::fs::remove_file(part_path(&dir, id));
            m.committed = true;
            write_meta(&dir, &m)?;
            Ok(())
        }
        Err(e) => {
            // refused for good: the bytes can never become an answer
            if e.status.is_client_error() {
                remove(&dir, id);
            }
            Err(e.into())
        }
    }
}
