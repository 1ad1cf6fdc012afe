//! The cohort index on disk, next to its snapshot: built once when the snapshot is committed
//! (`kakehashi ingest`), read back on a site's first count, so a query never waits for a build.
//!
//! ```text
//! SITE_DIR/snapshots/000007.cohort/
//!   manifest.json      format version, snapshot tag, tables, unavailable contexts, and the
//!                      XXH3-128 and size of every other file (checked on load)
//!   patients.arrow     birth date (days) and gender per patient ordinal
//!   known.roaring      the patients of the patient table
//!   codes.arrow        interned "system<US>code" names
//!   strings.arrow      interned units and attribute codes
//!   t<N>.arrow         one context table: columns sorted by code
//!   t<N>.bitmaps.arrow its patients per code (roaring bitmaps)
//! ```
//!
//! Arrow IPC files: a maintained format any Arrow reader opens. The directory is written under
//! a temporary name of the writer's own and renamed, so a snapshot's index is whole or absent,
//! also when two processes build it at once.

use super::{CohortError, CohortIndex, Interner, Table};
use arrow::array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    UInt8Array, UInt32Array,
};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use kakehashi_model::View;
use kakehashi_store::Snapshot;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Saves started by this process, for the temporary folders' names.
static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
use std::sync::Arc;

/// Version of the on-disk layout; another version is rebuilt, never misread.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Manifest {
    version: u32,
    tag: String,
    tables: Vec<TableEntry>,
    unavailable: Vec<(View, String, String)>,
    /// File name → (XXH3-128 as hex, bytes).
    files: BTreeMap<String, (String, u64)>,
}

#[derive(Serialize, Deserialize)]
struct TableEntry {
    view: View,
    column: String,
    file: String,
    attrs: Vec<String>,
}

/// The directory of a snapshot's index.
pub(super) fn dir_of(snap: &Snapshot) -> PathBuf {
    snap.dir()
        .join("snapshots")
        .join(format!("{:06}.cohort", snap.id))
}

fn bad(snap: &Snapshot, path: &Path, message: impl ToString) -> CohortError {
    CohortError::Index {
        path: path.to_owned(),
        message: message.to_string(),
        site: snap.dir().to_owned(),
    }
}

fn ipc_bytes(batch: &RecordBatch) -> Result<Vec<u8>, arrow::error::ArrowError> {
    let mut out = Vec::new();
    {
        let mut w = FileWriter::try_new(&mut out, &batch.schema())?;
        w.write(batch)?;
        w.finish()?;
    }
    Ok(out)
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, arrow::error::ArrowError> {
    RecordBatch::try_from_iter(cols)
}

fn strings_of(names: &[String]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(names.iter()))
}

impl CohortIndex {
    /// Writes this index next to its snapshot (`snapshots/<id>.cohort/`), replacing any
    /// earlier copy atomically.
    pub fn save(&self, snap: &Snapshot) -> Result<(), CohortError> {
        let dir = dir_of(snap);
        // a name of this writer's own: two agents (or a test's sites shared by parallel tests)
        // that build the same snapshot's index at once must not write into one folder
        let unique = || {
            format!(
                "{}-{}",
                std::process::id(),
                SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
        };
        let tmp = dir.with_extension(format!("cohort.tmp-{}", unique()));
        let io = |p: &Path, e: std::io::Error| bad(snap, p, e);
        let arrow = |p: &Path, e: arrow::error::ArrowError| bad(snap, p, e);
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        let mut files = BTreeMap::new();
        let mut put = |name: &str, bytes: Vec<u8>| -> Result<(), CohortError> {
            let p = tmp.join(name);
            std::fs::write(&p, &bytes).map_err(|e| io(&p, e))?;
            let h = twox_hash::XxHash3_128::oneshot(&bytes);
            files.insert(name.to_owned(), (format!("{h:032x}"), bytes.len() as u64));
            Ok(())
        };
        let p = tmp.join("patients.arrow");
        let b = batch(vec![
            (
                "birth",
                Arc::new(Int32Array::from(self.birth.clone())) as ArrayRef,
            ),
            (
                "gender",
                Arc::new(UInt8Array::from(self.gender.clone())) as ArrayRef,
            ),
        ])
        .and_then(|b| ipc_bytes(&b))
        .map_err(|e| arrow(&p, e))?;
        put("patients.arrow", b)?;
        let mut known = Vec::new();
        self.known
            .serialize_into(&mut known)
            .map_err(|e| io(&tmp.join("known.roaring"), e))?;
        put("known.roaring", known)?;
        for (name, names) in [
            ("codes.arrow", &self.codes.names),
            ("strings.arrow", &self.strings.names),
        ] {
            let b = batch(vec![("name", strings_of(names))])
                .and_then(|b| ipc_bytes(&b))
                .map_err(|e| arrow(&tmp.join(name), e))?;
            put(name, b)?;
        }
        let mut tables = Vec::new();
        let mut keys: Vec<&(View, String)> = self.tables.keys().collect();
        keys.sort();
        for (n, key) in keys.into_iter().enumerate() {
            let t = &self.tables[key];
            let file = format!("t{n}.arrow");
            let mut attrs: Vec<&String> = t.attrs.keys().collect();
            attrs.sort();
            let mut cols: Vec<(&str, ArrayRef)> = vec![
                ("patient", Arc::new(UInt32Array::from(t.patient.clone()))),
                ("code", Arc::new(UInt32Array::from(t.code.clone()))),
                ("start", Arc::new(Int64Array::from(t.start.clone()))),
                ("end", Arc::new(Int64Array::from(t.end.clone()))),
                ("value", Arc::new(Float64Array::from(t.value.clone()))),
                ("unit", Arc::new(UInt32Array::from(t.unit.clone()))),
                ("vcode", Arc::new(UInt32Array::from(t.vcode.clone()))),
                ("id", Arc::new(UInt32Array::from(t.id.clone()))),
            ];
            let attr_names: Vec<String> = attrs.iter().map(|a| format!("attr:{a}")).collect();
            for (a, name) in attrs.iter().zip(&attr_names) {
                cols.push((name, Arc::new(UInt32Array::from(t.attrs[*a].clone()))));
            }
            let b = batch(cols)
                .and_then(|b| ipc_bytes(&b))
                .map_err(|e| arrow(&tmp.join(&file), e))?;
            put(&file, b)?;
            let mut codes: Vec<u32> = t.code_patients.keys().copied().collect();
            codes.sort_unstable();
            let mut blobs = Vec::with_capacity(codes.len());
            for c in &codes {
                let mut v = Vec::new();
                t.code_patients[c]
                    .serialize_into(&mut v)
                    .map_err(|e| io(&tmp.join(&file), e))?;
                blobs.push(v);
            }
            let bfile = format!("t{n}.bitmaps.arrow");
            let b = batch(vec![
                ("code", Arc::new(UInt32Array::from(codes)) as ArrayRef),
                (
                    "patients",
                    Arc::new(BinaryArray::from_iter_values(blobs.iter())) as ArrayRef,
                ),
            ])
            .and_then(|b| ipc_bytes(&b))
            .map_err(|e| arrow(&tmp.join(&bfile), e))?;
            put(&bfile, b)?;
            tables.push(TableEntry {
                view: key.0,
                column: key.1.clone(),
                file,
                attrs: attrs.into_iter().cloned().collect(),
            });
        }
        let mut unavailable: Vec<(View, String, String)> = self
            .unavailable
            .iter()
            .map(|((v, c), why)| (*v, c.clone(), why.clone()))
            .collect();
        unavailable.sort();
        let manifest = Manifest {
            version: VERSION,
            tag: self.tag.clone(),
            tables,
            unavailable,
            files,
        };
        let p = tmp.join("manifest.json");
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| bad(snap, &p, e))?;
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        // an earlier copy is moved aside whole (never deleted in place, which a reader could
        // see half-way), then this one is renamed in
        if dir.exists() {
            let old = dir.with_extension(format!("cohort.old-{}", unique()));
            if std::fs::rename(&dir, &old).is_ok() {
                let _ = std::fs::remove_dir_all(&old);
            }
        }
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // another writer's whole index got there first: it is the same index
            Err(_) if dir.join("manifest.json").exists() => {
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                Err(io(&dir, e))
            }
        }
    }

    /// Reads the index saved next to `snap` ([`CohortIndex::save`]). A missing or damaged index
    /// is an error naming the file and the command that rebuilds it; the index is never
    /// rebuilt silently here (that would make a query wait for minutes).
    pub fn load(snap: &Snapshot) -> Result<CohortIndex, CohortError> {
        let dir = dir_of(snap);
        let mp = dir.join("manifest.json");
        let text = std::fs::read(&mp).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad(snap, &mp, "no cohort index for this snapshot")
            } else {
                bad(snap, &mp, e)
            }
        })?;
        let m: Manifest = serde_json::from_slice(&text).map_err(|e| bad(snap, &mp, e))?;
        if m.version != VERSION {
            return Err(bad(
                snap,
                &mp,
                format!("index format {} (this build reads {VERSION})", m.version),
            ));
        }
        if m.tag != snap.tag() {
            return Err(bad(
                snap,
                &mp,
                format!("built for snapshot {}, not {}", m.tag, snap.tag()),
            ));
        }
        let read = |name: &str| -> Result<Vec<u8>, CohortError> {
            let p = dir.join(name);
            let bytes = std::fs::read(&p).map_err(|e| bad(snap, &p, e))?;
            let (hash, len) = m
                .files
                .get(name)
                .ok_or_else(|| bad(snap, &p, "not listed in manifest.json"))?;
            if bytes.len() as u64 != *len
                || format!("{:032x}", twox_hash::XxHash3_128::oneshot(&bytes)) != *hash
            {
                return Err(bad(snap, &p, "damaged (size or checksum differs)"));
            }
            Ok(bytes)
        };
        let ipc = |name: &str| -> Result<RecordBatch, CohortError> {
            let bytes = read(name)?;
            let p = dir.join(name);
            let mut r = FileReader::try_new(std::io::Cursor::new(bytes), None)
                .map_err(|e| bad(snap, &p, e))?;
            r.next()
                .ok_or_else(|| bad(snap, &p, "no record batch"))?
                .map_err(|e| bad(snap, &p, e))
        };
        let column = |b: &RecordBatch, name: &str, file: &str| -> Result<ArrayRef, CohortError> {
            b.column_by_name(name)
                .cloned()
                .ok_or_else(|| bad(snap, &dir.join(file), format!("no column {name}")))
        };
        fn values<T: arrow::datatypes::ArrowPrimitiveType>(a: &ArrayRef) -> Option<Vec<T::Native>> {
            a.as_any()
                .downcast_ref::<arrow::array::PrimitiveArray<T>>()
                .map(|p| p.values().to_vec())
        }
        use arrow::datatypes::{Float64Type, Int32Type, Int64Type, UInt8Type, UInt32Type};
        let typed = |file: &str, name: &str| {
            bad(
                snap,
                &dir.join(file),
                format!("column {name} has another type"),
            )
        };

        let pb = ipc("patients.arrow")?;
        let birth = values::<Int32Type>(&column(&pb, "birth", "patients.arrow")?)
            .ok_or_else(|| typed("patients.arrow", "birth"))?;
        let gender = values::<UInt8Type>(&column(&pb, "gender", "patients.arrow")?)
            .ok_or_else(|| typed("patients.arrow", "gender"))?;
        let known = RoaringBitmap::deserialize_from(&read("known.roaring")?[..])
            .map_err(|e| bad(snap, &dir.join("known.roaring"), e))?;
        let interner = |file: &str| -> Result<Interner, CohortError> {
            let b = ipc(file)?;
            let a = column(&b, "name", file)?;
            let s = a
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| typed(file, "name"))?;
            let names: Vec<String> = (0..s.len()).map(|i| s.value(i).to_owned()).collect();
            let map = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect();
            Ok(Interner { map, names })
        };
        let codes = interner("codes.arrow")?;
        let strings = interner("strings.arrow")?;
        let mut tables = HashMap::new();
        for e in &m.tables {
            let b = ipc(&e.file)?;
            let f = e.file.as_str();
            let u32s = |name: &str| -> Result<Vec<u32>, CohortError> {
                values::<UInt32Type>(&column(&b, name, f)?).ok_or_else(|| typed(f, name))
            };
            let mut t = Table {
                patient: u32s("patient")?,
                code: u32s("code")?,
                start: values::<Int64Type>(&column(&b, "start", f)?)
                    .ok_or_else(|| typed(f, "start"))?,
                end: values::<Int64Type>(&column(&b, "end", f)?).ok_or_else(|| typed(f, "end"))?,
                value: values::<Float64Type>(&column(&b, "value", f)?)
                    .ok_or_else(|| typed(f, "value"))?,
                unit: u32s("unit")?,
                vcode: u32s("vcode")?,
                id: u32s("id")?,
                ..Table::default()
            };
            for a in &e.attrs {
                t.attrs.insert(a.clone(), u32s(&format!("attr:{a}"))?);
            }
            t.index_postings();
            let bf = format!("{}.bitmaps.arrow", f.trim_end_matches(".arrow"));
            let bb = ipc(&bf)?;
            let codes_col = values::<UInt32Type>(&column(&bb, "code", &bf)?)
                .ok_or_else(|| typed(&bf, "code"))?;
            let blobs = column(&bb, "patients", &bf)?;
            let blobs = blobs
                .as_any()
                .downcast_ref::<BinaryArray>()
                .ok_or_else(|| typed(&bf, "patients"))?;
            for (i, c) in codes_col.into_iter().enumerate() {
                let bm = RoaringBitmap::deserialize_from(blobs.value(i))
                    .map_err(|e| bad(snap, &dir.join(&bf), e))?;
                t.code_patients.insert(c, bm);
            }
            tables.insert((e.view, e.column.clone()), t);
        }
        let mut ix = CohortIndex {
            tag: m.tag,
            patients: Interner::default(),
            birth,
            birth_ymd: Vec::new(),
            gender,
            known,
            codes,
            strings,
            ids: Interner::default(),
            tables,
            unavailable: m
                .unavailable
                .into_iter()
                .map(|(v, c, why)| ((v, c), why))
                .collect(),
        };
        ix.fill_birth_ymd();
        Ok(ix)
    }

    /// [`CohortIndex::load`], or, for a snapshot saved without an index (loaded by a library
    /// call rather than `kakehashi ingest`), [`CohortIndex::build_and_save`]. A damaged index is
    /// an error, never rebuilt silently.
    pub fn load_or_build(snap: &Snapshot) -> Result<CohortIndex, CohortError> {
        if dir_of(snap).exists() {
            CohortIndex::load(snap)
        } else {
            CohortIndex::build_and_save(snap)
        }
    }

    /// Builds the index of `snap` from its tables and saves it next to the snapshot (what
    /// `kakehashi ingest` does after each commit, and `kakehashi cohort index` on demand).
    pub fn build_and_save(snap: &Snapshot) -> Result<CohortIndex, CohortError> {
        let ix = CohortIndex::open(snap)?;
        ix.save(snap)?;
        Ok(ix)
    }
}
