//! The site store: one table per standard view, held as Parquet files, changed only by atomic
//! snapshots.
//!
//! ```text
//! SITE_DIR/
//!   CURRENT                      the current snapshot id (replaced atomically by rename)
//!   snapshots/000007.json        a snapshot: its segments, files per view, row counts
//!   snapshots/000007.keys        every live resource, sorted by key: XXH3-128 of type and id,
//!                                lastUpdated, segment, ordinal, type (34-byte records); the
//!   snapshots/000007.keys.1 ...  first key range, then the next ones (`key_parts` in all)
//!   snapshots/000007.deleted     replaced resources (roaring treemap of segment<<32 | ordinal)
//!   segments/000007/<view>.parquet  the rows one load wrote, with `_seg` and `_ord` columns
//! ```
//!
//! A load writes a new segment, then a new snapshot file, then switches `CURRENT`; files are
//! never changed after they are written. A crash before the switch leaves the previous
//! snapshot current, and the next load removes the orphaned files. Re-loading a resource
//! (same type and id) replaces it in every view of its type when its `meta.lastUpdated` is the
//! same or later: the older rows are marked deleted by (segment, ordinal) and readers skip them.

mod keys;
mod load;
mod read;

pub use keys::ResourceKey;
pub use load::LoadWriter;
pub use read::{ScanError, TableScan};

use chrono::{DateTime, Utc};
use kakehashi_model::View;
use roaring::RoaringTreemap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A store problem.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system trouble, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A store file that does not read back (damaged or from another version).
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Parquet or Arrow trouble.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The directory holds no snapshot yet.
    #[error("{0}: no data loaded yet (run `kakehashi ingest --site-dir {0} INPUT...`)")]
    Empty(PathBuf),
    /// Another load holds the store.
    #[error("{0}: another load is running (lock file {0}/LOCK)")]
    Locked(PathBuf),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The files and row count of one view in one segment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ViewFile {
    /// Path relative to the site directory.
    pub file: String,
    /// Rows written (including rows deleted later).
    pub rows: u64,
}

/// What one load added.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    /// Segment number (unique, increasing).
    pub seg: u32,
    /// When it was loaded.
    pub loaded: DateTime<Utc>,
    /// Resources it holds (including later replaced ones).
    pub resources: u64,
    /// Its file per view (views without rows have none).
    pub views: BTreeMap<View, ViewFile>,
}

/// A consistent state of the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// Snapshot id (increasing).
    pub id: u64,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// The snapshot it was made from.
    pub parent: Option<u64>,
    /// Its segments, oldest first.
    pub segments: Vec<Segment>,
    /// Live resources by type.
    pub resources: BTreeMap<String, u64>,
    /// Live rows by view.
    pub rows: BTreeMap<View, u64>,
    /// Replaced resources (in any segment) not yet compacted away.
    pub deleted: u64,
    /// How many key files hold the live resources' keys, one per key range (`000007.keys`,
    /// `000007.keys.1`, ...); 1 for snapshots written before keys were kept by range.
    #[serde(default = "one_key_part")]
    pub key_parts: u32,
    #[serde(skip)]
    pub(crate) dir: PathBuf,
    #[serde(skip)]
    pub(crate) deleted_set: RoaringTreemap,
}

fn one_key_part() -> u32 {
    1
}

impl Snapshot {
    /// The site directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key files of the live resources, one per key range, in key order
    /// (`snapshots/000007.keys`, `000007.keys.1`, ...).
    pub fn key_files(&self) -> Vec<PathBuf> {
        let first = self
            .dir
            .join("snapshots")
            .join(format!("{:06}.keys", self.id));
        (0..self.key_parts.max(1) as usize)
            .map(|p| keys::part_path(&first, p))
            .collect()
    }

    /// Snapshot `id` of the site at `dir` from its manifest (`snapshots/000007.json`) and its
    /// deletion bitmap (`snapshots/000007.deleted`, absent when nothing was replaced), as read
    /// from the site directory or from a copy of it in object storage (`dir` then only names
    /// where the bytes came from, in errors).
    pub fn from_manifest(
        dir: &Path,
        id: u64,
        manifest: &[u8],
        deleted: Option<&[u8]>,
    ) -> Result<Snapshot, StoreError> {
        let corrupt = |ext: &str, message: String| StoreError::Corrupt {
            path: dir.join(snapshot_file(id, ext)),
            message,
        };
        let mut s: Snapshot =
            serde_json::from_slice(manifest).map_err(|e| corrupt("json", e.to_string()))?;
        if s.id != id {
            return Err(corrupt(
                "json",
                format!("holds snapshot {}, not {id}", s.id),
            ));
        }
        s.dir = dir.to_owned();
        s.deleted_set = match deleted {
            Some(bytes) => RoaringTreemap::deserialize_from(bytes)
                .map_err(|e| corrupt("deleted", e.to_string()))?,
            None => RoaringTreemap::new(),
        };
        Ok(s)
    }

    /// The Parquet files of a view relative to the site directory
    /// (`segments/000007/patient.parquet`), oldest first.
    pub fn relative_files(&self, view: View) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| s.views.get(&view))
            .map(|f| f.file.as_str())
            .collect()
    }

    /// The Parquet files of a view (absolute paths), oldest first. They carry the internal
    /// columns `_seg` and `_ord`; use [`Snapshot::is_live`] or [`Snapshot::scan`] to skip
    /// replaced rows.
    pub fn files(&self, view: View) -> Vec<PathBuf> {
        self.segments
            .iter()
            .filter_map(|s| s.views.get(&view))
            .map(|f| self.dir.join(&f.file))
            .collect()
    }

    /// Whether the row of resource `ord` in segment `seg` is current (not replaced).
    pub fn is_live(&self, seg: u32, ord: u32) -> bool {
        !self.deleted_set.contains(((seg as u64) << 32) | ord as u64)
    }

    /// Whether any row of any view was replaced.
    pub fn has_deletions(&self) -> bool {
        !self.deleted_set.is_empty()
    }

    /// The replaced resources, as `segment << 32 | ordinal`.
    pub fn deleted_set(&self) -> &RoaringTreemap {
        &self.deleted_set
    }

    /// A stable text naming this snapshot's data (site-dir independent), for deterministic
    /// disclosure noise and caches: snapshot id and creation instant.
    pub fn tag(&self) -> String {
        format!("{}@{}", self.id, self.created.to_rfc3339())
    }
}

/// A file of snapshot `id` relative to the site directory: `snapshots/000007.<ext>` (`json` the
/// manifest, `deleted` the replaced rows, `keys` the key index).
pub fn snapshot_file(id: u64, ext: &str) -> String {
    format!("snapshots/{id:06}.{ext}")
}

/// A site directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

pub(crate) const CURRENT: &str = "CURRENT";

impl Store {
    /// Opens (without creating) a site directory.
    pub fn open(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current snapshot id, if any data was loaded.
    pub fn current_id(&self) -> Result<Option<u64>, StoreError> {
        let p = self.dir.join(CURRENT);
        match std::fs::read_to_string(&p) {
            Ok(s) => s.trim().parse().map(Some).map_err(|_| StoreError::Corrupt {
                path: p,
                message: format!("`{}` is not a snapshot id", s.trim()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path: p, source }),
        }
    }

    /// The current snapshot.
    pub fn current(&self) -> Result<Snapshot, StoreError> {
        let id = self
            .current_id()?
            .ok_or_else(|| StoreError::Empty(self.dir.clone()))?;
        self.snapshot(id)
    }

    /// A snapshot by id.
    pub fn snapshot(&self, id: u64) -> Result<Snapshot, StoreError> {
        let p = self.dir.join(snapshot_file(id, "json"));
        let text = std::fs::read(&p).map_err(io_err(&p))?;
        let dp = self.dir.join(snapshot_file(id, "deleted"));
        let deleted = match std::fs::read(&dp) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(StoreError::Io { path: dp, source }),
        };
        Snapshot::from_manifest(&self.dir, id, &text, deleted.as_deref())
    }

    /// Every snapshot still on disk, oldest first.
    pub fn snapshots(&self) -> Result<Vec<Snapshot>, StoreError> {
        let dir = self.dir.join("snapshots");
        let mut ids: Vec<u64> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(StoreError::Io { path: dir, source }),
        };
        ids.sort_unstable();
        ids.into_iter().map(|id| self.snapshot(id)).collect()
    }

    /// Starts a load: takes the store's lock and prepares a new segment. Nothing is visible to
    /// readers until [`LoadWriter::commit`].
    pub fn begin_load(&self) -> Result<LoadWriter, StoreError> {
        LoadWriter::begin(self)
    }
}

/// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, fsync of the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let dir = path.parent().expect("store paths have a parent");
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// The Arrow schema of a view's table (without the internal `_seg`/`_ord` columns), from the
/// typed site schema in `kakehashi_model`.
pub fn arrow_schema(view: View) -> arrow::datatypes::SchemaRef {
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use kakehashi_model::ColumnType;
    let fields: Vec<Field> = view
        .columns()
        .iter()
        .map(|c| {
            let dt = match c.ty {
                ColumnType::String => DataType::Utf8,
                ColumnType::StringList => DataType::List(std::sync::Arc::new(Field::new(
                    "item",
                    DataType::Utf8,
                    true,
                ))),
                ColumnType::Boolean => DataType::Boolean,
                ColumnType::Integer => DataType::Int64,
                ColumnType::Decimal => DataType::Float64,
                ColumnType::Date => DataType::Date32,
                ColumnType::DateTime => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
                }
            };
            Field::new(c.name, dt, true)
        })
        .collect();
    std::sync::Arc::new(Schema::new(fields))
}
