//! A site's snapshot in object storage: the site publishes its current snapshot to a bucket
//! (S3 or an S3-compatible store such as MinIO or Ceph), and DataFusion reads the Parquet files
//! straight from there, with the same projection and predicate pushdown as on local disk (ranged
//! GETs of the footers and the column chunks a plan needs).
//!
//! The layout in the bucket is the site directory's own (see `kakehashi_store`): immutable
//! `segments/<seg>/<view>.parquet` files, the snapshot's manifest and deletion bitmap, and
//! `CURRENT` written last, so a reader sees either the previous snapshot or the new one whole.
//! Publishing again uploads only the segments the bucket does not hold yet.
//!
//! Credentials and endpoint come from the standard environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, `AWS_ENDPOINT` for an S3-compatible server,
//! `AWS_ALLOW_HTTP=true` for one on plain HTTP). A `file://` URL names a folder on this machine
//! laid out the same way (a mounted share).

use crate::snapshot::{self, PlanError};
use crate::surveillance::{ScanError, TableSource};
use arrow::array::RecordBatch;
use datafusion::prelude::{Expr, SessionContext};
use kakehashi_model::View;
use kakehashi_store::{Snapshot, Store, StoreError, snapshot_file};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// The file that names the current snapshot, relative to the site's root.
const CURRENT: &str = "CURRENT";

/// Uploads of at least this size go in parts (S3 takes at most 5 GiB in one PUT).
const PART: usize = 16 * 1024 * 1024;

/// A problem with a site in object storage.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The URL is not one this build reads.
    #[error("{url}: {message} (expected s3://BUCKET/PREFIX or file:///ABSOLUTE/FOLDER)")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The object store refused or failed a request.
    #[error("{url}: {source}")]
    Object {
        /// The object's URL.
        url: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },
    /// A local file of the site could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The site holds no published snapshot.
    #[error(
        "{0}: no snapshot published here (run `kakehashi site publish --site-dir DIR --to {0}`)"
    )]
    Empty(String),
    /// The local store, or a manifest read from the bucket, could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// DataFusion could not plan or run a query, or the runtime did not start.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Where a site's snapshot lives in object storage: the store, and the prefix of the site's
/// folder in it.
#[derive(Debug, Clone)]
pub struct SiteUrl {
    text: String,
    root: url::Url,
    prefix: ObjectPath,
    store: Arc<dyn ObjectStore>,
}

impl SiteUrl {
    /// Parses `s3://bucket/prefix` (credentials and endpoint from the environment) or
    /// `file:///folder`.
    pub fn parse(text: &str) -> Result<SiteUrl, RemoteError> {
        let bad = |message: &str| RemoteError::Url {
            url: text.to_string(),
            message: message.to_string(),
        };
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        let (root, prefix, store): (url::Url, ObjectPath, Arc<dyn ObjectStore>) = match url.scheme()
        {
            "s3" => {
                let bucket = url.host_str().ok_or_else(|| bad("no bucket"))?;
                let store = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| bad(&e.to_string()))?;
                let root =
                    url::Url::parse(&format!("s3://{bucket}")).map_err(|e| bad(&e.to_string()))?;
                let prefix = ObjectPath::parse(url.path().trim_matches('/'))
                    .map_err(|e| bad(&e.to_string()))?;
                (root, prefix, Arc::new(store))
            }
            "file" => {
                let dir = url
                    .to_file_path()
                    .map_err(|()| bad("not an absolute local path"))?;
                let prefix =
                    ObjectPath::from_absolute_path(&dir).map_err(|e| bad(&e.to_string()))?;
                let root = url::Url::parse("file:///").map_err(|e| bad(&e.to_string()))?;
                (
                    root,
                    prefix,
                    Arc::new(object_store::local::LocalFileSystem::new()),
                )
            }
            other => return Err(bad(&format!("scheme `{other}` is not supported"))),
        };
        Ok(SiteUrl {
            text: text.trim_end_matches('/').to_string(),
            root,
            prefix,
            store,
        })
    }

    /// The object of a file relative to the site's root.
    fn path(&self, rel: &str) -> ObjectPath {
        rel.split('/')
            .fold(self.prefix.clone(), |p, part| p.join(part))
    }

    /// The URL of a file relative to the site's root, as DataFusion reads it.
    fn url_of(&self, rel: &str) -> String {
        let root = self.root.as_str().trim_end_matches('/');
        format!("{root}/{}", self.path(rel))
    }

    fn object_err(&self, rel: &str) -> impl FnOnce(object_store::Error) -> RemoteError + '_ {
        let url = format!("{}/{rel}", self.text);
        move |e| RemoteError::Object {
            url,
            source: Box::new(e),
        }
    }

    /// The bytes of a file, or `None` when there is no such object.
    async fn get(&self, rel: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.store.get(&self.path(rel)).await {
            Ok(r) => Ok(Some(
                r.bytes().await.map_err(self.object_err(rel))?.to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.object_err(rel)(e)),
        }
    }

    /// The size of an object, or `None` when there is none.
    async fn size(&self, rel: &str) -> Result<Option<u64>, RemoteError> {
        match self.store.head(&self.path(rel)).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.object_err(rel)(e)),
        }
    }

    async fn put_bytes(&self, rel: &str, bytes: Vec<u8>) -> Result<(), RemoteError> {
        self.store
            .put(&self.path(rel), PutPayload::from(bytes))
            .await
            .map_err(self.object_err(rel))?;
        Ok(())
    }

    /// Uploads a local file, in parts when it is large, without holding it in memory whole.
    async fn put_file(&self, rel: &str, file: &std::path::Path) -> Result<u64, RemoteError> {
        let io = |source| RemoteError::Io {
            path: file.to_owned(),
            source,
        };
        let mut f = std::fs::File::open(file).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        if len < PART as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            f.read_to_end(&mut bytes).map_err(io)?;
            self.put_bytes(rel, bytes).await?;
            return Ok(len);
        }
        let upload = self
            .store
            .put_multipart(&self.path(rel))
            .await
            .map_err(self.object_err(rel))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; PART];
        loop {
            let n = f.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            w.wait_for_capacity(2).await.map_err(self.object_err(rel))?;
            w.write(&buf[..n]);
        }
        w.finish().await.map_err(self.object_err(rel))?;
        Ok(len)
    }
}

impl std::fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// The snapshot published.
    pub snapshot: u64,
    /// Parquet files uploaded.
    pub uploaded: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Parquet files the bucket held already (segments never change once written).
    pub kept: usize,
}

/// Publishes the current snapshot of the site at `site` to `to`: every Parquet file the bucket
/// does not hold yet (same name and size), then the manifest and the deletion bitmap, then
/// `CURRENT`. Readers of the bucket see the previous snapshot until the last write.
pub fn publish(site: &Store, to: &SiteUrl) -> Result<Published, RemoteError> {
    let snap = site.current()?;
    let rt = snapshot::runtime()?;
    rt.block_on(async {
        let mut out = Published {
            snapshot: snap.id,
            uploaded: 0,
            bytes: 0,
            kept: 0,
        };
        // a segment's files are the bucket's already when the snapshot published there holds the
        // same segment from the same load (its number alone could be another site directory's)
        let published = published_segments(to).await?;
        for seg in &snap.segments {
            let same_load = published.get(&seg.seg) == Some(&seg.loaded);
            for file in seg.views.values() {
                let rel = file.file.as_str();
                let local = site.dir().join(rel);
                let len = std::fs::metadata(&local)
                    .map_err(|source| RemoteError::Io {
                        path: local.clone(),
                        source,
                    })?
                    .len();
                if same_load && to.size(rel).await? == Some(len) {
                    out.kept += 1;
                    continue;
                }
                out.bytes += to.put_file(rel, &local).await?;
                out.uploaded += 1;
            }
        }
        let deleted = snapshot_file(snap.id, "deleted");
        if snap.has_deletions() {
            to.put_file(&deleted, &site.dir().join(&deleted)).await?;
        }
        let manifest = snapshot_file(snap.id, "json");
        to.put_file(&manifest, &site.dir().join(&manifest)).await?;
        to.put_bytes(CURRENT, format!("{}\n", snap.id).into_bytes())
            .await?;
        Ok(out)
    })
}

/// The segments of the snapshot the bucket's `CURRENT` names, by number with the instant of
/// their load (empty when nothing was published there yet).
async fn published_segments(
    url: &SiteUrl,
) -> Result<std::collections::HashMap<u32, chrono::DateTime<chrono::Utc>>, RemoteError> {
    Ok(match read_current(url).await {
        Ok(snap) => snap.segments.iter().map(|s| (s.seg, s.loaded)).collect(),
        Err(RemoteError::Empty(_)) => Default::default(),
        Err(e) => return Err(e),
    })
}

/// The snapshot the bucket's `CURRENT` names, with its deletion bitmap.
async fn read_current(url: &SiteUrl) -> Result<Snapshot, RemoteError> {
    let current = url
        .get(CURRENT)
        .await?
        .ok_or_else(|| RemoteError::Empty(url.text.clone()))?;
    let text = String::from_utf8_lossy(&current);
    let id: u64 = text.trim().parse().map_err(|_| StoreError::Corrupt {
        path: PathBuf::from(format!("{url}/{CURRENT}")),
        message: format!("`{}` is not a snapshot id", text.trim()),
    })?;
    let manifest_rel = snapshot_file(id, "json");
    let manifest = url
        .get(&manifest_rel)
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            path: PathBuf::from(format!("{url}/{manifest_rel}")),
            message: "named by CURRENT but missing".into(),
        })?;
    let deleted = url.get(&snapshot_file(id, "deleted")).await?;
    let origin = PathBuf::from(url.text.clone());
    Ok(Snapshot::from_manifest(
        &origin,
        id,
        &manifest,
        deleted.as_deref(),
    )?)
}

/// A site's current snapshot read from object storage.
pub struct RemoteSite {
    url: SiteUrl,
    snapshot: Snapshot,
    rt: tokio::runtime::Runtime,
}

impl RemoteSite {
    /// Opens the snapshot `CURRENT` names at `url`.
    pub fn open(url: &SiteUrl) -> Result<RemoteSite, RemoteError> {
        let rt = snapshot::runtime()?;
        let snapshot = rt.block_on(read_current(url))?;
        Ok(RemoteSite {
            url: url.clone(),
            snapshot,
            rt,
        })
    }

    /// The snapshot read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// A DataFusion session over the given views (all when `None`), reading from the bucket.
    async fn session(&self, views: Option<&[View]>) -> Result<SessionContext, PlanError> {
        let ctx = SessionContext::new_with_config(snapshot::config());
        ctx.register_object_store(&self.url.root, self.url.store.clone());
        let url_of = |rel: &str| self.url.url_of(rel);
        snapshot::register_views(&ctx, &self.snapshot, views, &url_of).await?;
        Ok(ctx)
    }

    /// Runs one SQL statement over the snapshot (the same tables as `kakehashi sql`).
    pub fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, crate::sql::SqlError> {
        self.rt.block_on(async {
            let ctx = self.session(None).await?;
            let df = ctx.sql(sql).await.map_err(crate::sql::query_error)?;
            df.collect().await.map_err(crate::sql::query_error)
        })
    }

    fn stream(
        &self,
        view: View,
        columns: &[&str],
        filter: Option<Expr>,
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.rt.block_on(async {
            let ctx = self.session(Some(&[view])).await?;
            let df = snapshot::view_frame(&ctx, view, columns, filter).await?;
            snapshot::for_each_batch(df, view.name(), f).await?
        })
    }
}

/// Every read goes through DataFusion (rows in no particular order), so the computations that
/// read this way (surveillance series, SQL) run on a published site as on a local one.
impl TableSource for RemoteSite {
    fn scan(&self, view: View, columns: &[&str]) -> Result<Vec<RecordBatch>, ScanError> {
        let mut out = Vec::new();
        self.stream(view, columns, None, &mut |b| {
            out.push(b);
            Ok(())
        })?;
        Ok(out)
    }

    fn scan_each(
        &self,
        view: View,
        columns: &[&str],
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.stream(view, columns, None, f)
    }

    fn scan_each_where(
        &self,
        view: View,
        columns: &[&str],
        keep: &Expr,
        f: &mut dyn FnMut(RecordBatch) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.stream(view, columns, Some(keep.clone()), f)
    }
}
