//! Writing a load: one new segment of Parquet files, then the atomic switch to a new snapshot.

use crate::keys::{KeySorter, ResourceKey};
use crate::{
    CURRENT, Segment, Snapshot, Store, StoreError, ViewFile, io_err, sync_dir, write_atomic,
};
use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::Utc;
use kakehashi_model::View;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

fn take_lock(dir: &Path) -> Result<Lock, StoreError> {
    let path = dir.join("LOCK");
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                let _ = write!(f, "{}", std::process::id());
                return Ok(Lock { path });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // a lock left by a process that died (e.g. killed mid-load) is taken over
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                match holder {
                    Some(pid) if pid_alive(pid) && pid != std::process::id() => {
                        return Err(StoreError::Locked(dir.to_owned()));
                    }
                    _ => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        }
    }
    Err(StoreError::Locked(dir.to_owned()))
}

/// A load in progress: a new segment being written. Dropping it without [`LoadWriter::commit`]
/// removes the segment; readers never see it.
pub struct LoadWriter {
    dir: PathBuf,
    seg: u32,
    seg_dir: PathBuf,
    base: Option<Snapshot>,
    /// Per view: its file's writer, rows written, path, and schema (the view's columns, then
    /// `_seg` and `_ord`).
    writers: BTreeMap<View, (ArrowWriter<File>, u64, PathBuf, Arc<Schema>)>,
    keys: KeySorter,
    committed: bool,
    _lock: Lock,
}

/// Parquet settings for a view's file: Snappy, row groups of 256k rows, min/max statistics per
/// row group for instants and numbers (what range queries prune on), and no dictionary for the
/// columns that are (nearly) unique per row, the ids and instants, where building one costs time
/// and the encoder abandons it anyway. Text columns, ids and references included, keep no
/// statistics: their min and max over a row group in load order span nearly every value unless
/// an export happens to be sorted by that very column, and comparing every value with them cost
/// 1.6% of ingest's instructions for the ids alone.
///
/// The ordinal `_ord` rises by 0 or 1 from row to row: delta-encoded it takes a bit or two per
/// row, where plain it took four bytes that Snappy could not shrink (a sixth of the files' size
/// at 2 million resources), at the same speed. The segment `_seg` is one number for the whole
/// file: delta-encoded too, it costs no dictionary lookup per row (0.45% of ingest's
/// instructions).
///
/// Statistics are kept per row group, not per page: nothing here prunes by page (the cohort index
/// reads whole columns; rows are in load order, so pages of codes and dates overlap anyway), and
/// page statistics cost about 5% of ingest time.
fn props(schema: &Schema) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(256 * 1024))
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for f in schema.fields() {
        let name = f.name();
        // identifiers, instants and measured values rarely repeat within a row group: a
        // dictionary would cost a hash per value, then be dropped for plain encoding anyway
        let distinct = matches!(f.data_type(), DataType::Timestamp(..) | DataType::Float64);
        if name == "_ord" || name == "_seg" {
            let c = ColumnPath::from(name.as_str());
            b = b
                .set_column_dictionary_enabled(c.clone(), false)
                .set_column_encoding(c.clone(), Encoding::DELTA_BINARY_PACKED)
                .set_column_compression(c, Compression::UNCOMPRESSED);
        } else if distinct {
            b = b.set_column_dictionary_enabled(ColumnPath::from(name.as_str()), false);
        } else if matches!(f.data_type(), DataType::Utf8) {
            // codes, systems, displays, ids: their min and max over a row group in load order
            // span nearly every value, so they would prune nothing (comparing every string with
            // them cost about 1.5% of ingest for the codes, as much again for the ids)
            let c = ColumnPath::from(name.as_str());
            if name == "id" || name.ends_with("_id") {
                b = b.set_column_dictionary_enabled(c.clone(), false);
            }
            b = b.set_column_statistics_enabled(c, EnabledStatistics::None);
        }
    }
    b.build()
}

/// The finished view files of a load and their rows, by view.
type ClosedViews = (BTreeMap<View, ViewFile>, BTreeMap<View, u64>);

impl LoadWriter {
    pub(crate) fn begin(store: &Store) -> Result<LoadWriter, StoreError> {
        let dir = store.dir().to_owned();
        std::fs::create_dir_all(dir.join("segments")).map_err(io_err(&dir))?;
        std::fs::create_dir_all(dir.join("snapshots")).map_err(io_err(&dir))?;
        let lock = take_lock(&dir)?;
        let base = match store.current_id()? {
            Some(id) => Some(store.snapshot(id)?),
            None => None,
        };
        // remove what a crashed load left: segments and snapshots the current one does not know
        let live: Vec<u32> = base
            .as_ref()
            .map(|b| b.segments.iter().map(|s| s.seg).collect())
            .unwrap_or_default();
        let seg_root = dir.join("segments");
        for e in std::fs::read_dir(&seg_root)
            .map_err(io_err(&seg_root))?
            .flatten()
        {
            let keep = e
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| live.contains(&n));
            if !keep {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let current = base.as_ref().map(|b| b.id).unwrap_or(0);
        let snap_root = dir.join("snapshots");
        for e in std::fs::read_dir(&snap_root)
            .map_err(io_err(&snap_root))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.split('.').next().and_then(|n| n.parse::<u64>().ok());
            if name.starts_with('.') || id.is_some_and(|id| id > current) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let seg = live.iter().max().map_or(1, |m| m + 1);
        let seg_dir = seg_root.join(format!("{seg:06}"));
        std::fs::create_dir_all(&seg_dir).map_err(io_err(&seg_dir))?;
        let keys = KeySorter::new(seg_dir.clone(), seg);
        Ok(LoadWriter {
            dir,
            seg,
            seg_dir,
            base,
            writers: BTreeMap::new(),
            keys,
            committed: false,
            _lock: lock,
        })
    }

    /// The new segment's number (the `_seg` of its rows).
    pub fn seg(&self) -> u32 {
        self.seg
    }

    /// Appends rows of a view; `ords[i]` is the ordinal of the resource row `i` came from.
    pub fn write(
        &mut self,
        view: View,
        batch: &RecordBatch,
        ords: &[u32],
    ) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if batch.num_rows() != ords.len() {
            return Err(StoreError::Parquet {
                path: self.seg_dir.clone(),
                message: format!(
                    "{}: {} rows but {} ordinals (one per row is required)",
                    view.name(),
                    batch.num_rows(),
                    ords.len()
                ),
            });
        }
        let (w, rows, path, schema) = match self.writers.entry(view) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                // the file's schema, made once: the view's columns, then `_seg` and `_ord`
                let mut fields: Vec<Field> = batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new("_seg", DataType::UInt32, false));
                fields.push(Field::new("_ord", DataType::UInt32, false));
                let schema = Arc::new(Schema::new(fields));
                let path = self.seg_dir.join(format!("{}.parquet", view.name()));
                let f = File::create(&path).map_err(io_err(&path))?;
                let w =
                    ArrowWriter::try_new(f, schema.clone(), Some(props(&schema))).map_err(|e| {
                        StoreError::Parquet {
                            path: path.clone(),
                            message: e.to_string(),
                        }
                    })?;
                e.insert((w, 0, path, schema))
            }
        };
        let mut cols = batch.columns().to_vec();
        cols.push(Arc::new(UInt32Array::from(vec![self.seg; ords.len()])) as ArrayRef);
        cols.push(Arc::new(UInt32Array::from(ords.to_vec())) as ArrayRef);
        // a batch whose columns do not have the file's types is refused here, naming the file
        let full = RecordBatch::try_new(schema.clone(), cols).map_err(|e| StoreError::Parquet {
            path: path.clone(),
            message: e.to_string(),
        })?;
        w.write(&full).map_err(|e| StoreError::Parquet {
            path: path.clone(),
            message: e.to_string(),
        })?;
        *rows += full.num_rows() as u64;
        Ok(())
    }

    /// Records the resources of this load (every resource whose rows were written, and those of
    /// types without a view, so that counts stay right). Keys are sorted in bounded runs.
    pub fn add_keys(
        &mut self,
        keys: impl IntoIterator<Item = ResourceKey>,
    ) -> Result<(), StoreError> {
        self.keys.add(keys)
    }

    /// Makes the load visible: finishes the files, resolves replacements, writes the snapshot
    /// and switches `CURRENT`. Returns the new snapshot.
    pub fn commit(mut self) -> Result<Snapshot, StoreError> {
        // the view files are finished and made durable on another thread while the keys merge
        // (both are done before the switch below)
        let (writers, dir, seg_dir) = (
            std::mem::take(&mut self.writers),
            self.dir.clone(),
            self.seg_dir.clone(),
        );
        let close = move || -> Result<ClosedViews, StoreError> {
            let mut views = BTreeMap::new();
            let mut new_rows = BTreeMap::new();
            for (view, (w, rows, path, _)) in writers {
                let f = w.into_inner().map_err(|e| StoreError::Parquet {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                f.sync_all().map_err(io_err(&path))?;
                let rel = path
                    .strip_prefix(&dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                views.insert(view, ViewFile { file: rel, rows });
                new_rows.insert(view, rows);
            }
            sync_dir(&seg_dir)?;
            Ok((views, new_rows))
        };

        // resolve replacements against every live resource: one merge of sorted keys
        let base_id = self.base.as_ref().map(|b| b.id);
        let id = base_id.unwrap_or(0) + 1;
        let snaps = self.dir.join("snapshots");
        let mut deleted = self
            .base
            .as_ref()
            .map(|b| b.deleted_set.clone())
            .unwrap_or_default();
        let before = deleted.len();
        let base_keys: Vec<PathBuf> = match &self.base {
            Some(b) => {
                let files = b.key_files();
                let old = snaps.join(format!("{:06}.keys.parquet", b.id));
                if !files[0].exists() && old.exists() {
                    crate::keys::upgrade_parquet_keys(&old, &files[0])?;
                }
                files
            }
            None => Vec::new(),
        };
        let seg = self.seg;
        let sorter = std::mem::replace(&mut self.keys, KeySorter::new(self.seg_dir.clone(), seg));
        let (closed, resolved) = std::thread::scope(|s| {
            let closing = s.spawn(close);
            let resolved = sorter.merge(
                &base_keys,
                &snaps.join(format!("{id:06}.keys")),
                &mut deleted,
            );
            (closing.join(), resolved)
        });
        let (views, new_rows) = closed.map_err(|_| StoreError::Parquet {
            path: self.seg_dir.clone(),
            message: "finishing the view files failed (thread panicked)".into(),
        })??;
        let resolved = resolved?;
        let (resources, replaced_types, key_parts) =
            (resolved.resources, resolved.replaced_types, resolved.parts);
        let mut segments = self
            .base
            .as_ref()
            .map(|b| b.segments.clone())
            .unwrap_or_default();
        segments.push(Segment {
            seg,
            loaded: Utc::now(),
            resources: 0,
            views,
        });
        let mut snap = Snapshot {
            id,
            created: Utc::now(),
            parent: base_id,
            segments,
            resources,
            rows: BTreeMap::new(),
            deleted: deleted.len(),
            key_parts,
            dir: self.dir.clone(),
            deleted_set: deleted,
        };
        if let Some(last) = snap.segments.last_mut() {
            last.resources = resolved.in_segment;
        }
        // live rows per view: exact; recounted only for views whose type had replacements
        for view in View::ALL {
            let base_rows = self
                .base
                .as_ref()
                .and_then(|b| b.rows.get(&view))
                .copied()
                .unwrap_or(0);
            let rows =
                if snap.deleted_set.len() != before && replaced_types.contains(view.resource()) {
                    crate::read::count_live(&snap, view)?
                } else {
                    base_rows + new_rows.get(&view).copied().unwrap_or(0)
                };
            if rows > 0 {
                snap.rows.insert(view, rows);
            }
        }
        if !snap.deleted_set.is_empty() {
            let mut bytes = Vec::new();
            snap.deleted_set
                .serialize_into(&mut bytes)
                .map_err(io_err(&snaps))?;
            write_atomic(&snaps.join(format!("{id:06}.deleted")), &bytes)?;
        }
        let json = serde_json::to_vec_pretty(&snap).map_err(|e| StoreError::Corrupt {
            path: snaps.clone(),
            message: format!("snapshot {id} does not serialise: {e}"),
        })?;
        write_atomic(&snaps.join(format!("{id:06}.json")), &json)?;
        // the switch: from here on readers see the new snapshot
        write_atomic(&self.dir.join(CURRENT), format!("{id}\n").as_bytes())?;
        self.committed = true;
        if let Some(parent) = base_id {
            drop_old_keys(&snaps, parent);
        }
        Ok(snap)
    }
}

/// Removes the key files of the snapshots before `parent`. Only a load reads key files, and a
/// load always starts from the current snapshot; the parent's are kept as a spare. Without this
/// a site loading daily would keep a full key index (34 bytes per resource) per load forever.
/// Reading an old snapshot needs its manifest, deletion bitmap and Parquet files, which stay.
/// Best effort: a file that cannot be removed now is removed after a later load.
fn drop_old_keys(snaps: &Path, parent: u64) {
    let Ok(entries) = std::fs::read_dir(snaps) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((id, ext)) = name.split_once('.') else {
            continue;
        };
        let is_keys = ext == "keys" || ext.starts_with("keys.");
        if is_keys && id.parse::<u64>().is_ok_and(|id| id < parent) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl Drop for LoadWriter {
    fn drop(&mut self) {
        if !self.committed {
            self.writers.clear();
            // a key run still being written in the background would land in a removed folder
            let _ = self.keys.wait();
            let _ = std::fs::remove_dir_all(&self.seg_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn times_and_numbers_keep_statistics_and_dictionaries_only_where_values_repeat() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("patient_id", DataType::Utf8, true),
            Field::new("code", DataType::Utf8, true),
            Field::new(
                "effective",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("value", DataType::Float64, true),
            Field::new("_seg", DataType::UInt32, false),
            Field::new("_ord", DataType::UInt32, false),
        ]);
        let p = props(&schema);
        let col = |n: &str| ColumnPath::from(n);
        // what range queries prune on keeps its min and max; text does not
        for kept in ["effective", "value"] {
            assert_eq!(
                p.statistics_enabled(&col(kept)),
                EnabledStatistics::Chunk,
                "{kept}"
            );
        }
        for text in ["id", "patient_id", "code"] {
            assert_eq!(
                p.statistics_enabled(&col(text)),
                EnabledStatistics::None,
                "{text}"
            );
        }
        for plain in ["id", "patient_id", "effective", "value"] {
            assert!(!p.dictionary_enabled(&col(plain)), "{plain}");
        }
        assert!(p.dictionary_enabled(&col("code")));
        // the load's own columns: a constant and a rising count, delta-encoded, no dictionary
        for own in ["_seg", "_ord"] {
            assert!(!p.dictionary_enabled(&col(own)), "{own}");
            assert_eq!(
                p.encoding(&col(own)),
                Some(Encoding::DELTA_BINARY_PACKED),
                "{own}"
            );
        }
    }

    #[test]
    fn ordinals_are_delta_encoded_and_read_back() {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_ord",
            DataType::UInt32,
            false,
        )]));
        // as a load writes them: rising, a resource's rows sharing its ordinal
        let mut ords: Vec<u32> = (0..200_000u32)
            .map(|i| i / 3 + (i % 7 == 0) as u32)
            .collect();
        ords.sort_unstable();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(UInt32Array::from(ords.clone())) as ArrayRef],
        )
        .unwrap();
        let file = tempfile::tempfile().unwrap();
        let mut w = ArrowWriter::try_new(
            file.try_clone().unwrap(),
            schema.clone(),
            Some(props(&schema)),
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        // four bytes a row plain; delta-encoded well under one
        let size = file.metadata().unwrap().len() as usize;
        assert!(
            size < ords.len() / 4,
            "{size} bytes for {} ordinals",
            ords.len()
        );
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let chunk = reader.metadata().row_group(0).column(0).clone();
        assert!(
            chunk
                .encodings()
                .any(|e| e == Encoding::DELTA_BINARY_PACKED),
            "{:?}",
            chunk.encodings().collect::<Vec<_>>()
        );
        let back: Vec<u32> = reader
            .build()
            .unwrap()
            .flat_map(|b| {
                b.unwrap()
                    .column(0)
                    .as_any()
                    .downcast_ref::<UInt32Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(back, ords);
    }
}
