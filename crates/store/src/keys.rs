//! Resource identities and how a load resolves replacements, in bounded memory.
//!
//! Every loaded resource is known by a 128-bit key (XXH3-128 of its type index and id; a
//! collision among 10^12 resources has odds below 10^-14), its `meta.lastUpdated` and where its
//! rows are (segment, ordinal). A snapshot keeps these for all live resources sorted by key, in
//! one file per key range (the ranges follow each other: together they are one sorted list).
//! A load sorts its own keys in runs of [`RUN`] records (sorted and spilled to its
//! segment directory on a background thread), then merges them with the previous snapshot's file
//! in one pass, a key range per CPU side by side, each range written and synced by its own
//! thread into its own file (no join of the ranges, no one long sync at the end): per key the
//! latest `lastUpdated` wins, ties going to the later load and the later line. Memory stays at two runs whatever the number of
//! resources.

use crate::{StoreError, io_err};
use kakehashi_model::resource_types;
use roaring::RoaringTreemap;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Records gathered in memory before a run is sorted and spilled to disk (20 MB). While one run
/// is sorted and written in the background the next fills, so memory holds at most two.
pub const RUN: usize = 1 << 19;

const MAGIC: &[u8; 8] = b"KHKEYS01";
/// What the merge's read buffers may take together (each at least 34 KiB, at most 1 MiB).
const MERGE_BUFFERS: usize = 16 << 20;
const REC: usize = 34;

/// The identity of one loaded resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKey {
    /// XXH3-128 of the type index and the id.
    pub key: u128,
    /// `meta.lastUpdated` in µs since the epoch, or `i64::MIN` when absent.
    pub last_updated: i64,
    /// Ordinal within its load (the `_ord` of its rows).
    pub ord: u32,
    /// Index of its type in [`kakehashi_model::resource_types::R4_RESOURCE_TYPES`].
    pub type_index: u16,
}

impl ResourceKey {
    /// The key of resource `type_index`/`id`.
    #[inline]
    pub fn new(type_index: u16, id: &str, last_updated: i64, ord: u32) -> ResourceKey {
        // the hash of the type index's two bytes followed by the id's, in one shot over a stack
        // copy (FHIR ids have at most 64 characters): the streaming hasher allocates its buffer
        // for every key, and gives the same hash (a test holds the two equal)
        let mut buf = [0u8; 2 + 64];
        let key = match buf.get_mut(2..2 + id.len()) {
            Some(tail) => {
                tail.copy_from_slice(id.as_bytes());
                buf[..2].copy_from_slice(&type_index.to_le_bytes());
                twox_hash::XxHash3_128::oneshot(&buf[..2 + id.len()])
            }
            None => twox_hash::XxHash3_128::oneshot(
                &[&type_index.to_le_bytes()[..], id.as_bytes()].concat(),
            ),
        };
        ResourceKey {
            key,
            last_updated,
            ord,
            type_index,
        }
    }

    /// The key of a resource given by type name; `None` if the type is not a FHIR R4 one.
    pub fn named(
        resource_type: &str,
        id: &str,
        last_updated: i64,
        ord: u32,
    ) -> Option<ResourceKey> {
        resource_types::index(resource_type).map(|t| ResourceKey::new(t, id, last_updated, ord))
    }
}

/// A key with its segment: one record of a key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rec {
    key: u128,
    last_updated: i64,
    seg: u32,
    ord: u32,
    ty: u16,
}

impl Rec {
    fn encode(&self, out: &mut [u8; REC]) {
        out[0..16].copy_from_slice(&self.key.to_le_bytes());
        out[16..24].copy_from_slice(&self.last_updated.to_le_bytes());
        out[24..28].copy_from_slice(&self.seg.to_le_bytes());
        out[28..32].copy_from_slice(&self.ord.to_le_bytes());
        out[32..34].copy_from_slice(&self.ty.to_le_bytes());
    }

    fn decode(b: &[u8; REC]) -> Rec {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut k = [0u8; 16];
        k.copy_from_slice(&b[0..16]);
        let mut lu = [0u8; 8];
        lu.copy_from_slice(&b[16..24]);
        Rec {
            key: u128::from_le_bytes(k),
            last_updated: i64::from_le_bytes(lu),
            seg: u32_at(24),
            ord: u32_at(28),
            ty: u16::from_le_bytes([b[32], b[33]]),
        }
    }

    /// Which of two records of one resource is newer: later `lastUpdated`, then later load,
    /// then later line.
    fn rank(&self) -> (i64, u32, u32) {
        (self.last_updated, self.seg, self.ord)
    }

    fn position(&self) -> u64 {
        ((self.seg as u64) << 32) | self.ord as u64
    }
}

/// Writes a key file; `sync`: to disk before returning (not for the temporary runs of a load).
fn write_file(
    path: &Path,
    recs: impl IntoIterator<Item = Rec>,
    sync: bool,
) -> Result<(), StoreError> {
    let f = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    w.write_all(MAGIC).map_err(io_err(path))?;
    let mut buf = [0u8; REC];
    for r in recs {
        r.encode(&mut buf);
        w.write_all(&buf).map_err(io_err(path))?;
    }
    let f = w.into_inner().map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: e.into_error(),
    })?;
    if sync {
        f.sync_all().map_err(io_err(path))?;
    }
    Ok(())
}

/// A key file read in order.
struct FileRecs {
    path: PathBuf,
    r: BufReader<File>,
    /// Records left to read in the range (`u64::MAX`: to the end of the file).
    left: u64,
}

impl FileRecs {
    /// Opens a key file with a read buffer of `buf` bytes.
    fn open(path: &Path, buf: usize) -> Result<FileRecs, StoreError> {
        let f = File::open(path).map_err(io_err(path))?;
        let mut r = BufReader::with_capacity(buf, f);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(io_err(path))?;
        if &magic != MAGIC {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                message: "not a kakehashi key file".into(),
            });
        }
        Ok(FileRecs {
            path: path.to_owned(),
            r,
            left: u64::MAX,
        })
    }

    /// Opens a key file to read its records `start..end` (by index).
    fn open_range(path: &Path, buf: usize, start: u64, end: u64) -> Result<FileRecs, StoreError> {
        let mut f = FileRecs::open(path, buf)?;
        if start > 0 {
            f.r.seek(std::io::SeekFrom::Start(
                MAGIC.len() as u64 + start * REC as u64,
            ))
            .map_err(io_err(path))?;
        }
        f.left = end.saturating_sub(start);
        Ok(f)
    }

    fn next_rec(&mut self) -> Result<Option<Rec>, StoreError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left = self.left.saturating_sub(1);
        // the common case: the record is whole in the reader's buffer
        let avail = self.r.fill_buf().map_err(io_err(&self.path))?;
        if let Some(b) = avail
            .get(..REC)
            .and_then(|b| <&[u8; REC]>::try_from(b).ok())
        {
            let rec = Rec::decode(b);
            self.r.consume(REC);
            return Ok(Some(rec));
        }
        let mut buf = [0u8; REC];
        let mut got = 0;
        while got < REC {
            let n = self.r.read(&mut buf[got..]).map_err(io_err(&self.path))?;
            if n == 0 {
                return if got == 0 {
                    Ok(None)
                } else {
                    Err(StoreError::Corrupt {
                        path: self.path.clone(),
                        message: "key file ends inside a record".into(),
                    })
                };
            }
            got += n;
        }
        Ok(Some(Rec::decode(&buf)))
    }
}

/// The keys of one load, sorted in runs.
pub(crate) struct KeySorter {
    dir: PathBuf,
    seg: u32,
    buf: Vec<Rec>,
    runs: Vec<PathBuf>,
    /// The last run, being sorted and written by a background thread.
    pending: Option<std::thread::JoinHandle<Result<Vec<Rec>, StoreError>>>,
    /// The buffer of the last run written, emptied for the next (large buffers are reused, not
    /// freed and allocated again, which made the C allocator's heap grow with the input).
    spare: Option<Vec<Rec>>,
}

/// Where the merge reads sorted records from.
enum Source<'m> {
    File(FileRecs),
    Mem(std::slice::Iter<'m, Rec>),
}

impl Source<'_> {
    fn next(&mut self) -> Result<Option<Rec>, StoreError> {
        match self {
            Source::File(f) => f.next_rec(),
            Source::Mem(it) => Ok(it.next().copied()),
        }
    }
}

/// What the merge found.
pub(crate) struct Resolved {
    /// Key files written, one per key range ([`part_path`]).
    pub parts: u32,
    /// Live resources by type.
    pub resources: BTreeMap<String, u64>,
    /// Live resources whose rows are in the new segment.
    pub in_segment: u64,
    /// Types of which some resource was replaced by this load.
    pub replaced_types: BTreeSet<String>,
}

impl KeySorter {
    pub(crate) fn new(dir: PathBuf, seg: u32) -> KeySorter {
        KeySorter {
            dir,
            seg,
            buf: Vec::new(),
            runs: Vec::new(),
            pending: None,
            spare: None,
        }
    }

    pub(crate) fn add(
        &mut self,
        keys: impl IntoIterator<Item = ResourceKey>,
    ) -> Result<(), StoreError> {
        for k in keys {
            self.buf.push(Rec {
                key: k.key,
                last_updated: k.last_updated,
                seg: self.seg,
                ord: k.ord,
                ty: k.type_index,
            });
            if self.buf.len() >= RUN {
                self.spill()?;
            }
        }
        Ok(())
    }

    fn sort(buf: &mut [Rec]) {
        buf.sort_unstable_by_key(|r| (r.key, r.ord));
    }

    /// Sorts and writes the gathered keys as a run, in the background (the load goes on).
    fn spill(&mut self) -> Result<(), StoreError> {
        self.wait()?;
        let next = self.spare.take().unwrap_or_else(|| Vec::with_capacity(RUN));
        let mut run = std::mem::replace(&mut self.buf, next);
        let path = self.dir.join(format!(".keys-run-{}", self.runs.len()));
        self.runs.push(path.clone());
        self.pending = Some(std::thread::spawn(move || {
            Self::sort(&mut run);
            // a temporary file: a load that dies is discarded whole, so no need to sync it
            write_file(&path, run.iter().copied(), false)?;
            run.clear();
            Ok(run)
        }));
        Ok(())
    }

    /// Waits for the run being spilled.
    pub(crate) fn wait(&mut self) -> Result<(), StoreError> {
        match self.pending.take().map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(Ok(buf))) => {
                self.spare = Some(buf);
                Ok(())
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(_)) => Err(StoreError::Corrupt {
                path: self.dir.clone(),
                message: "the thread writing a key run failed".into(),
            }),
        }
    }

    /// Merges this load's keys with `base` (the previous snapshot's key files, if any) into
    /// the key files of `out` ([`part_path`]), adding replaced positions to `deleted`. The key
    /// space is cut into as many ranges as there are CPUs (at most four), each merged, written
    /// and synced by its own thread into its own file.
    pub(crate) fn merge(
        self,
        base: &[PathBuf],
        out: &Path,
        deleted: &mut RoaringTreemap,
    ) -> Result<Resolved, StoreError> {
        let parts = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        self.merge_in(base, out, deleted, parts)
    }

    /// [`KeySorter::merge`] in `parts` key ranges.
    fn merge_in(
        mut self,
        base: &[PathBuf],
        out: &Path,
        deleted: &mut RoaringTreemap,
        parts: usize,
    ) -> Result<Resolved, StoreError> {
        self.wait()?;
        // the last run stays in memory, sorted in two halves on two threads
        let mut mem = std::mem::take(&mut self.buf);
        let half = mem.len() / 2;
        let (lo, hi) = mem.split_at_mut(half);
        std::thread::scope(|s| {
            s.spawn(|| Self::sort(lo));
            Self::sort(hi);
        });
        let (lo, hi) = mem.split_at(half);
        let mut files: Vec<(&Path, Vec<u64>)> = Vec::new();
        for path in base.iter().chain(&self.runs).map(PathBuf::as_path) {
            files.push((path, file_cuts(path, parts)?));
        }
        let mem_cuts = |m: &[Rec]| -> Vec<usize> {
            let mut cuts = vec![0];
            cuts.extend((1..parts).map(|p| m.partition_point(|r| r.key < range_start(p, parts))));
            cuts.push(m.len());
            cuts
        };
        let (lo_cuts, hi_cuts) = (mem_cuts(lo), mem_cuts(hi));
        // read buffers share a fixed budget, so memory does not grow with the number of runs
        let buf = (MERGE_BUFFERS / (parts * (files.len() + 1))).clamp(REC * 1024, 1 << 20);
        // each range to a temporary file, renamed once all are written and synced
        let tmp_path = |p: usize| {
            let part = part_path(out, p);
            part.with_file_name(format!(
                "{}.tmp",
                part.file_name().and_then(|n| n.to_str()).unwrap_or("keys")
            ))
        };
        let seg = self.seg;
        let merged: Vec<Result<Part, StoreError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..parts)
                .map(|p| {
                    let (files, lo_cuts, hi_cuts, path) = (&files, &lo_cuts, &hi_cuts, tmp_path(p));
                    s.spawn(move || -> Result<Part, StoreError> {
                        let mut sources = Vec::new();
                        for (file, cuts) in files {
                            sources.push(Source::File(FileRecs::open_range(
                                file,
                                buf,
                                cuts[p],
                                cuts[p + 1],
                            )?));
                        }
                        sources.push(Source::Mem(lo[lo_cuts[p]..lo_cuts[p + 1]].iter()));
                        sources.push(Source::Mem(hi[hi_cuts[p]..hi_cuts[p + 1]].iter()));
                        merge_sources(sources, seg, &path)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(thread_failed(out))))
                .collect()
        });
        let mut by_type = vec![0u64; resource_types::R4_RESOURCE_TYPES.len() + 1];
        let mut replaced: BTreeSet<u16> = BTreeSet::new();
        let mut in_segment = 0u64;
        let merged = merged
            .into_iter()
            .collect::<Result<Vec<Part>, StoreError>>()?;
        for part in merged {
            for (t, n) in by_type.iter_mut().zip(&part.by_type) {
                *t += n;
            }
            replaced.extend(part.replaced);
            in_segment += part.in_segment;
            *deleted |= part.deleted;
        }
        // every range is on disk: the files take their names (the snapshot that lists them is
        // written after, and its directory synced)
        for p in 0..parts {
            let to = part_path(out, p);
            std::fs::rename(tmp_path(p), &to).map_err(io_err(&to))?;
        }
        for r in &self.runs {
            let _ = std::fs::remove_file(r);
        }
        let type_name = |t: u16| {
            resource_types::name(t)
                .unwrap_or("(unknown type)")
                .to_owned()
        };
        Ok(Resolved {
            parts: parts as u32,
            resources: by_type
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(t, n)| (type_name(t as u16), n))
                .collect(),
            in_segment,
            replaced_types: replaced.into_iter().map(type_name).collect(),
        })
    }
}

/// The first key of range `p` of `parts` (equal slices of the 128-bit key space; keys are
/// hashes, so the ranges hold about as many each).
fn range_start(p: usize, parts: usize) -> u128 {
    (u128::MAX / parts as u128) * p as u128
}

/// Where each of `parts` key ranges starts in a sorted key file, by record index, and its
/// number of records last: found by binary search, reading a key at a time.
fn file_cuts(path: &Path, parts: usize) -> Result<Vec<u64>, StoreError> {
    use std::os::unix::fs::FileExt;
    let f = File::open(path).map_err(io_err(path))?;
    let len = f.metadata().map_err(io_err(path))?.len();
    let body = len
        .checked_sub(MAGIC.len() as u64)
        .filter(|b| b % REC as u64 == 0);
    let Some(body) = body else {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            message: "key file ends inside a record".into(),
        });
    };
    let n = body / REC as u64;
    let key_at = |i: u64| -> Result<u128, StoreError> {
        let mut k = [0u8; 16];
        f.read_exact_at(&mut k, MAGIC.len() as u64 + i * REC as u64)
            .map_err(io_err(path))?;
        Ok(u128::from_le_bytes(k))
    };
    let mut cuts = vec![0];
    for p in 1..parts {
        let start = range_start(p, parts);
        let (mut a, mut b) = (*cuts.last().unwrap_or(&0), n);
        while a < b {
            let mid = a + (b - a) / 2;
            if key_at(mid)? < start {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        cuts.push(a);
    }
    cuts.push(n);
    Ok(cuts)
}

fn thread_failed(path: &Path) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        message: "a thread merging keys failed".into(),
    }
}

/// What the merge of one key range found.
struct Part {
    by_type: Vec<u64>,
    in_segment: u64,
    replaced: BTreeSet<u16>,
    deleted: RoaringTreemap,
}

/// Merges sorted sources into the key file `path`, synced before it returns: per key the newest
/// record is kept, the others' positions are deleted.
fn merge_sources(mut sources: Vec<Source<'_>>, seg: u32, path: &Path) -> Result<Part, StoreError> {
    let mut heads = Vec::with_capacity(sources.len());
    for src in &mut sources {
        heads.push(src.next()?);
    }
    let f = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    w.write_all(MAGIC).map_err(io_err(path))?;
    let mut part = Part {
        by_type: vec![0u64; resource_types::R4_RESOURCE_TYPES.len() + 1],
        in_segment: 0,
        replaced: BTreeSet::new(),
        deleted: RoaringTreemap::new(),
    };
    let mut current: Option<Rec> = None;
    let mut buf = [0u8; REC];
    let mut emit = |r: Rec, w: &mut BufWriter<File>, part: &mut Part| -> Result<(), StoreError> {
        part.by_type[(r.ty as usize).min(resource_types::R4_RESOURCE_TYPES.len())] += 1;
        if r.seg == seg {
            part.in_segment += 1;
        }
        r.encode(&mut buf);
        w.write_all(&buf).map_err(io_err(path))
    };
    let order = |r: &Rec| (r.key, r.seg, r.ord);
    // the smallest head: a scan over a few sources, a heap over many
    let mut heap: BinaryHeap<std::cmp::Reverse<(u128, u32, u32, usize)>> = BinaryHeap::new();
    let use_heap = sources.len() > 8;
    if use_heap {
        for (src, h) in heads.iter().enumerate() {
            if let Some(r) = h {
                let (k, s, o) = order(r);
                heap.push(std::cmp::Reverse((k, s, o, src)));
            }
        }
    }
    loop {
        let src = if use_heap {
            match heap.pop() {
                Some(std::cmp::Reverse((.., src))) => src,
                None => break,
            }
        } else {
            match heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|r| (order(r), i)))
                .min()
            {
                Some((_, src)) => src,
                None => break,
            }
        };
        let Some(r) = heads[src] else { break };
        heads[src] = sources[src].next()?;
        if use_heap && let Some(n) = &heads[src] {
            let (k, s, o) = order(n);
            heap.push(std::cmp::Reverse((k, s, o, src)));
        }
        match current {
            Some(c) if c.key == r.key => {
                part.replaced.insert(r.ty);
                let (win, lose) = if r.rank() >= c.rank() { (r, c) } else { (c, r) };
                part.deleted.insert(lose.position());
                current = Some(win);
            }
            Some(c) => {
                emit(c, &mut w, &mut part)?;
                current = Some(r);
            }
            None => current = Some(r),
        }
    }
    if let Some(c) = current {
        emit(c, &mut w, &mut part)?;
    }
    let f = w.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(part)
}

/// Key file `p` of a snapshot whose first key file is `first` (`000007.keys`, then
/// `000007.keys.1`, ...): the key ranges in order.
pub(crate) fn part_path(first: &Path, p: usize) -> PathBuf {
    if p == 0 {
        first.to_owned()
    } else {
        first.with_extension(format!("keys.{p}"))
    }
}

/// Converts a key file of the first store format (Parquet with type and id text) to the
/// current one, so stores written by earlier versions keep loading.
pub(crate) fn upgrade_parquet_keys(parquet: &Path, out: &Path) -> Result<(), StoreError> {
    use arrow::array::{Array, Int64Array, StringArray, UInt32Array};
    let f = File::open(parquet).map_err(io_err(parquet))?;
    let perr = |m: String| StoreError::Parquet {
        path: parquet.to_owned(),
        message: m,
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| perr(e.to_string()))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| perr(e.to_string()))?;
    let mut recs = Vec::new();
    for b in reader {
        let b = b.map_err(|e| perr(e.to_string()))?;
        let col = |i: usize| b.column(i).clone();
        let (t, id, lu, seg, ord) = (col(0), col(1), col(2), col(3), col(4));
        let t = t
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| perr("keys: type column".into()))?;
        let id = id
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| perr("keys: id column".into()))?;
        let lu = lu
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| perr("keys: last_updated column".into()))?;
        let seg = seg
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| perr("keys: _seg column".into()))?;
        let ord = ord
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| perr("keys: _ord column".into()))?;
        for i in 0..b.num_rows() {
            let k = ResourceKey::named(t.value(i), id.value(i), lu.value(i), ord.value(i))
                .ok_or_else(|| {
                    perr(format!(
                        "keys: `{}` is not a FHIR R4 resource type",
                        t.value(i)
                    ))
                })?;
            recs.push(Rec {
                key: k.key,
                last_updated: k.last_updated,
                seg: seg.value(i),
                ord: k.ord,
                ty: k.type_index,
            });
        }
    }
    KeySorter::sort(&mut recs);
    let tmp = out.with_extension("keys.tmp");
    write_file(&tmp, recs, true)?;
    std::fs::rename(&tmp, out).map_err(io_err(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys are stored with every snapshot: the one-shot hash must stay the streaming one.
    #[test]
    fn keys_hash_as_the_type_and_id_streamed() {
        for id in [
            "",
            "p1",
            "de-berlin-p0000000-o2",
            &"x".repeat(64),
            &"y".repeat(65),
            &"z".repeat(300),
        ] {
            for t in [0u16, 7, 112, 300] {
                let mut h = twox_hash::XxHash3_128::new();
                h.write(&t.to_le_bytes());
                h.write(id.as_bytes());
                assert_eq!(
                    ResourceKey::new(t, id, 0, 0).key,
                    h.finish_128(),
                    "{t} {id}"
                );
            }
        }
    }

    fn key(id: &str, lu: i64, ord: u32) -> ResourceKey {
        ResourceKey::named("Patient", id, lu, ord).expect("R4 type")
    }

    #[test]
    fn records_round_trip() {
        let r = Rec {
            key: u128::MAX - 7,
            last_updated: -5,
            seg: 3,
            ord: 9,
            ty: 105,
        };
        let mut b = [0u8; REC];
        r.encode(&mut b);
        assert_eq!(Rec::decode(&b), r);
        assert_ne!(key("a", 0, 0).key, key("b", 0, 0).key);
        assert_ne!(
            key("a", 0, 0).key,
            ResourceKey::named("Observation", "a", 0, 0).unwrap().key
        );
    }

    /// A store written by the first version (keys in Parquet, by type and id text) keeps
    /// loading: its keys are converted, and a newer copy of a resource still replaces the old.
    #[test]
    fn first_format_key_files_are_upgraded() {
        use arrow::array::{ArrayRef, Int64Array, StringArray, UInt32Array};
        use arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("000001.keys.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("type", DataType::Utf8, false),
            Field::new("id", DataType::Utf8, false),
            Field::new("last_updated", DataType::Int64, false),
            Field::new("_seg", DataType::UInt32, false),
            Field::new("_ord", DataType::UInt32, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["Patient", "Patient", "Observation"])),
            Arc::new(StringArray::from(vec!["p1", "p2", "p1"])),
            Arc::new(Int64Array::from(vec![10, 10, 10])),
            Arc::new(UInt32Array::from(vec![1, 1, 1])),
            Arc::new(UInt32Array::from(vec![0, 1, 2])),
        ];
        let batch = arrow::record_batch::RecordBatch::try_new(schema.clone(), cols).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(File::create(&old).unwrap(), schema, None)
            .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let base = dir.path().join("000001.keys");
        upgrade_parquet_keys(&old, &base).unwrap();
        let mut s2 = KeySorter::new(dir.path().to_owned(), 2);
        s2.add([key("p1", 20, 0)]).unwrap();
        let mut deleted = RoaringTreemap::new();
        let r = s2
            .merge(&[base], &dir.path().join("000002.keys"), &mut deleted)
            .unwrap();
        assert_eq!(r.resources["Patient"], 2);
        assert_eq!(r.resources["Observation"], 1);
        assert_eq!(
            deleted.iter().collect::<Vec<_>>(),
            vec![1u64 << 32],
            "old Patient/p1 replaced, Observation/p1 kept"
        );
    }

    /// Spilled runs and the base files merge to the same answer as a map would give, whether
    /// the merge scans a few sources or keeps a heap of many, and in however many key ranges
    /// it runs: the key files, read in order, hold the same records byte for byte.
    #[test]
    fn merge_over_runs_keeps_the_latest_of_each_resource() {
        for (run, runs) in [(700, 3), (150, 14)] {
            let whole = merge_over_runs(run, runs, 1);
            for parts in [2, 3, 5] {
                assert!(
                    merge_over_runs(run, runs, parts) == whole,
                    "{parts} key ranges, runs of {run}"
                );
            }
        }
    }

    /// A key file cut inside a record is refused by name before the merge reads it.
    #[test]
    fn a_cut_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut s1 = KeySorter::new(dir.path().to_owned(), 1);
        s1.add((0..50u32).map(|i| key(&format!("p{i}"), 10, i)))
            .unwrap();
        let base = dir.path().join("1.keys");
        s1.merge(&[], &base, &mut RoaringTreemap::new()).unwrap();
        let bytes = std::fs::read(&base).unwrap();
        std::fs::write(&base, &bytes[..bytes.len() - 5]).unwrap();
        let mut s2 = KeySorter::new(dir.path().to_owned(), 2);
        s2.add([key("p1", 20, 0)]).unwrap();
        let e = s2
            .merge(
                std::slice::from_ref(&base),
                &dir.path().join("2.keys"),
                &mut RoaringTreemap::new(),
            )
            .err()
            .expect("a cut file is an error");
        assert!(
            matches!(&e, StoreError::Corrupt { path, .. } if path == &base),
            "{e}"
        );
        assert!(e.to_string().contains("ends inside a record"), "{e}");
    }

    fn merge_over_runs(run: usize, runs: usize, parts: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        // load 1: ids 0..3000, lastUpdated 10
        let mut s1 = KeySorter::new(dir.path().to_owned(), 1);
        s1.add((0..3000u32).map(|i| key(&format!("p{i}"), 10, i)))
            .unwrap();
        let base = dir.path().join("1.keys");
        let mut deleted = RoaringTreemap::new();
        let r1 = s1.merge_in(&[], &base, &mut deleted, parts).unwrap();
        assert_eq!(r1.parts as usize, parts);
        let base: Vec<PathBuf> = (0..parts).map(|p| part_path(&base, p)).collect();
        assert_eq!(r1.resources["Patient"], 3000);
        assert!(deleted.is_empty());
        // load 2, in runs of 700: ids 2000..4000 (newer for < 3000), p0 older, p1 twice (second wins)
        let mut s2 = KeySorter::new(dir.path().to_owned(), 2);
        let mut keys: Vec<ResourceKey> = (2000..4000u32)
            .map(|i| key(&format!("p{i}"), 20, i - 2000))
            .collect();
        keys.push(key("p0", 5, 2000));
        keys.push(key("p1", 30, 2001));
        keys.push(key("p1", 30, 2002));
        for chunk in keys.chunks(run) {
            s2.add(chunk.iter().copied()).unwrap();
            s2.spill().unwrap();
        }
        assert_eq!(s2.runs.len(), runs);
        s2.wait().unwrap();
        let out = dir.path().join("2.keys");
        let r2 = s2.merge_in(&base, &out, &mut deleted, parts).unwrap();
        assert_eq!(r2.resources["Patient"], 4000);
        assert_eq!(r2.in_segment, 2000 + 1);
        assert!(r2.replaced_types.contains("Patient"));
        // replaced: load 1's p2000..p2999 and p1; load 2's p0 (older) and its first p1
        assert!(deleted.contains((1u64 << 32) | 2500));
        assert!(deleted.contains((1u64 << 32) | 1));
        assert!(deleted.contains((2u64 << 32) | 2000));
        assert!(deleted.contains((2u64 << 32) | 2001));
        assert!(!deleted.contains((2u64 << 32) | 2002));
        assert!(!deleted.contains(1u64 << 32));
        assert_eq!(deleted.len(), 1000 + 1 + 1 + 1);
        // the merged files, in order, are sorted and have one record per resource
        let (mut last, mut all, mut again) = (None, Vec::new(), Vec::new());
        for p in 0..parts {
            let mut f = FileRecs::open(&part_path(&out, p), 4096).unwrap();
            while let Some(r) = f.next_rec().unwrap() {
                assert!(
                    last.is_none_or(|l| l < r.key),
                    "key range {p} of {parts} follows the one before"
                );
                last = Some(r.key);
                all.push(r);
            }
            // a read buffer that cuts records in two gives the same records
            let mut small = FileRecs::open(&part_path(&out, p), 100).unwrap();
            while let Some(r) = small.next_rec().unwrap() {
                again.push(r);
            }
        }
        assert_eq!(all.len(), 4000);
        assert_eq!(again, all);
        assert!(!part_path(&out, parts).exists(), "one file per key range");
        assert!(
            !dir.path().join(".keys-run-0").exists(),
            "runs are removed after the merge"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            left.iter().all(|n| !n.ends_with(".tmp")),
            "no temporary file is left: {left:?}"
        );
        (0..parts)
            .flat_map(|p| {
                std::fs::read(part_path(&out, p))
                    .unwrap()
                    .split_off(MAGIC.len())
            })
            .collect()
    }
}
