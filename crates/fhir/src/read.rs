//! Streaming FHIR input in constant memory: NDJSON (FHIR Bulk Data `$export`), gzipped NDJSON,
//! JSON files holding a Bundle (collection, transaction, batch, searchset) or one resource,
//! and folders of these.
//!
//! Input is cut into [`Chunk`]s of raw resource bytes (a few MB each) so that parsing and view
//! evaluation can run in parallel; every record keeps its file and line (or Bundle entry) so a
//! problem is reported where it is. Bundles are streamed entry by entry, never loaded whole.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// One resource per line (`.ndjson`, `.jsonl`).
    Ndjson,
    /// Gzipped NDJSON (`.ndjson.gz`, `.jsonl.gz`).
    NdjsonGz,
    /// A Bundle or a single resource (`.json`).
    Json,
    /// Gzipped `.json`.
    JsonGz,
}

/// An input file and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The path.
    pub path: PathBuf,
    /// Its kind, from the file name.
    pub kind: InputKind,
}

/// A reading failure that stops reading a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path does not exist or cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file that is not FHIR JSON by its name.
    #[error("{0}: not a FHIR input file (expected .ndjson, .ndjson.gz, .jsonl, .json or .json.gz)")]
    UnknownKind(PathBuf),
    /// A gzip stream that ends early (a cut-short download).
    #[error("{path}: gzip data ends early after line {line} (file cut short?): {source}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The last complete line read.
        line: u64,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// A `.json` file that is not a JSON object (or is broken JSON).
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: Arc<Path>,
    /// 1-based line (NDJSON) or 1-based entry number (Bundle).
    pub line: u64,
    /// Whether `line` counts Bundle entries.
    pub entry: bool,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entry {
            write!(f, "{} entry {}", self.file.display(), self.line)
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// One record in a chunk: its line (or entry) number and its bytes in [`Chunk::data`].
#[derive(Debug, Clone)]
pub struct Record {
    /// Line or entry number (1-based).
    pub line: u64,
    /// Byte range in the chunk's data.
    pub range: Range<usize>,
}

/// Raw resources from one file, in order.
#[derive(Debug)]
pub struct Chunk {
    /// The file they come from.
    pub file: Arc<Path>,
    /// Whether record numbers count Bundle entries rather than lines.
    pub entries: bool,
    /// The bytes of all records, back to back.
    pub data: Vec<u8>,
    /// The records.
    pub records: Vec<Record>,
}

impl Chunk {
    fn new(file: Arc<Path>, entries: bool, capacity: usize) -> Chunk {
        Chunk {
            file,
            entries,
            data: Vec::with_capacity(capacity),
            records: Vec::new(),
        }
    }

    /// The location of record `i`.
    pub fn location(&self, i: usize) -> Location {
        Location {
            file: self.file.clone(),
            line: self.records[i].line,
            entry: self.entries,
        }
    }

    /// Calls `f` with each record's index, line (or entry) number and bytes.
    pub fn for_each(&self, mut f: impl FnMut(usize, u64, &[u8])) {
        for (i, r) in self.records.iter().enumerate() {
            f(
                i,
                r.line,
                self.data.get(r.range.clone()).unwrap_or_default(),
            );
        }
    }
}

/// What was read from one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Records handed on.
    pub records: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
}

fn kind_of(path: &Path) -> Option<InputKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".ndjson.gz") || name.ends_with(".jsonl.gz") {
        Some(InputKind::NdjsonGz)
    } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
        Some(InputKind::Ndjson)
    } else if name.ends_with(".json.gz") {
        Some(InputKind::JsonGz)
    } else if name.ends_with(".json") {
        Some(InputKind::Json)
    } else {
        None
    }
}

/// Expands inputs: files as given (their kind by name), folders recursively (FHIR files only,
/// in name order; other files and hidden entries are skipped).
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>, ReadError> {
    let mut out = Vec::new();
    for p in inputs {
        let meta = std::fs::metadata(p).map_err(|source| ReadError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            let kind = kind_of(p).ok_or_else(|| ReadError::UnknownKind(p.clone()))?;
            out.push(InputFile {
                path: p.clone(),
                kind,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<InputFile>) -> Result<(), ReadError> {
    let io = |source| ReadError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for p in entries {
        if p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else if let Some(kind) = kind_of(&p) {
            out.push(InputFile { path: p, kind });
        }
    }
    Ok(())
}

/// Reads one file, handing on chunks of about `chunk_bytes`; `on_chunk` returns `false` to stop.
pub fn read_file(
    file: &InputFile,
    chunk_bytes: usize,
    on_chunk: &mut dyn FnMut(Chunk) -> bool,
) -> Result<FileStats, ReadError> {
    let path: Arc<Path> = Arc::from(file.path.as_path());
    let f = File::open(&file.path).map_err(|source| ReadError::Io {
        path: file.path.clone(),
        source,
    })?;
    match file.kind {
        InputKind::Ndjson => read_ndjson(f, path, chunk_bytes, on_chunk, false),
        InputKind::NdjsonGz => {
            let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f));
            read_ndjson(gz, path, chunk_bytes, on_chunk, true)
        }
        InputKind::Json => read_json(
            BufReader::with_capacity(1 << 20, f),
            path,
            chunk_bytes,
            on_chunk,
        ),
        InputKind::JsonGz => {
            let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f));
            read_json(
                BufReader::with_capacity(1 << 20, gz),
                path,
                chunk_bytes,
                on_chunk,
            )
        }
    }
}

/// Reads NDJSON in blocks straight into the chunk (no copy through a line buffer), then finds
/// the lines in place; a line cut by a block boundary moves to the next chunk.
fn read_ndjson<R: Read>(
    mut r: R,
    path: Arc<Path>,
    chunk_bytes: usize,
    on_chunk: &mut dyn FnMut(Chunk) -> bool,
    gz: bool,
) -> Result<FileStats, ReadError> {
    const BLOCK: usize = 1 << 20;
    let mut stats = FileStats::default();
    let new_chunk = || Chunk::new(path.clone(), false, chunk_bytes + 2 * BLOCK);
    let mut chunk = new_chunk();
    // where the next line starts in `chunk.data`
    let mut line_start = 0usize;
    let mut line = 0u64;
    loop {
        let want = chunk_bytes
            .saturating_sub(chunk.data.len())
            .clamp(64 << 10, BLOCK);
        let got = match (&mut r).take(want as u64).read_to_end(&mut chunk.data) {
            Ok(n) => n,
            Err(source)
                if gz
                    || source.kind() == std::io::ErrorKind::InvalidData
                    || source.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                return Err(ReadError::Truncated {
                    path: path.to_path_buf(),
                    line,
                    source,
                });
            }
            Err(source) => {
                return Err(ReadError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let eof = got == 0;
        // every complete line so far (and at the end, the last one without a newline)
        loop {
            let end = match memchr::memchr(b'\n', &chunk.data[line_start..]) {
                Some(i) => line_start + i + 1,
                None if eof && line_start < chunk.data.len() => chunk.data.len(),
                None => break,
            };
            line += 1;
            stats.bytes += (end - line_start) as u64;
            let (mut begin, mut stop) = (line_start, end);
            line_start = end;
            while stop > begin && matches!(chunk.data[stop - 1], b'\n' | b'\r' | b' ' | b'\t') {
                stop -= 1;
            }
            while begin < stop && matches!(chunk.data[begin], b' ' | b'\t') {
                begin += 1;
            }
            // a UTF-8 byte order mark on the first line
            if line == 1 && chunk.data[begin..stop].starts_with(b"\xEF\xBB\xBF") {
                begin += 3;
            }
            if begin < stop {
                chunk.records.push(Record {
                    line,
                    range: begin..stop,
                });
                stats.records += 1;
            }
        }
        if eof {
            break;
        }
        if chunk.data.len() >= chunk_bytes && !chunk.records.is_empty() {
            // the partial last line starts the next chunk
            let mut next = new_chunk();
            next.data.extend_from_slice(&chunk.data[line_start..]);
            chunk.data.truncate(line_start);
            line_start = 0;
            if !on_chunk(std::mem::replace(&mut chunk, next)) {
                return Ok(stats);
            }
        }
    }
    if !chunk.records.is_empty() {
        on_chunk(chunk);
    }
    Ok(stats)
}

struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

struct JsonState<'c> {
    path: Arc<Path>,
    chunk_bytes: usize,
    chunk: Chunk,
    on_chunk: &'c mut dyn FnMut(Chunk) -> bool,
    stopped: bool,
    records: u64,
}

impl JsonState<'_> {
    fn push(&mut self, entry: u64, json: &str) {
        if self.stopped {
            return;
        }
        let start = self.chunk.data.len();
        self.chunk.data.extend_from_slice(json.trim().as_bytes());
        self.chunk.records.push(Record {
            line: entry,
            range: start..self.chunk.data.len(),
        });
        self.records += 1;
        if self.chunk.data.len() >= self.chunk_bytes {
            let full = std::mem::replace(
                &mut self.chunk,
                Chunk::new(self.path.clone(), true, self.chunk_bytes),
            );
            if !(self.on_chunk)(full) {
                self.stopped = true;
            }
        }
    }
}

fn read_json<R: Read>(
    r: R,
    path: Arc<Path>,
    chunk_bytes: usize,
    on_chunk: &mut dyn FnMut(Chunk) -> bool,
) -> Result<FileStats, ReadError> {
    let mut counting = CountingReader { inner: r, bytes: 0 };
    let mut state = JsonState {
        path: path.clone(),
        chunk_bytes,
        chunk: Chunk::new(path.clone(), true, chunk_bytes),
        on_chunk,
        stopped: false,
        records: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(&mut counting);
    let single = TopLevel { state: &mut state }.deserialize(&mut de);
    let single = match single.and_then(|s| de.end().map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            let message = if e.is_eof() {
                format!(
                    "JSON ends early at line {} column {} (file cut short?)",
                    e.line(),
                    e.column()
                )
            } else {
                format!(
                    "invalid JSON at line {} column {}: {e}",
                    e.line(),
                    e.column()
                )
            };
            return Err(ReadError::Json {
                path: path.to_path_buf(),
                message,
            });
        }
    };
    if let Some(resource) = single {
        state.push(1, &resource);
    }
    let JsonState {
        chunk,
        on_chunk,
        stopped,
        records,
        ..
    } = state;
    if !stopped && !chunk.records.is_empty() {
        on_chunk(chunk);
    }
    Ok(FileStats {
        records,
        bytes: counting.bytes,
    })
}

/// The top-level object: a Bundle (entries streamed) or a single resource (returned whole).
struct TopLevel<'s, 'c> {
    state: &'s mut JsonState<'c>,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR resource or Bundle (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut others: Vec<(String, Box<RawValue>)> = Vec::new();
        let mut resource_type: Option<String> = None;
        let mut saw_entries = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "entry" if resource_type.as_deref() == Some("Bundle") => {
                    saw_entries = true;
                    map.next_value_seed(Entries {
                        state: &mut *self.state,
                    })?;
                }
                "resourceType" => {
                    let raw: Box<RawValue> = map.next_value()?;
                    resource_type = serde_json::from_str::<String>(raw.get()).ok();
                    others.push((key, raw));
                }
                _ => {
                    let raw: Box<RawValue> = map.next_value()?;
                    others.push((key, raw));
                }
            }
        }
        if resource_type.as_deref() == Some("Bundle") {
            // `entry` came before `resourceType`: it was kept whole, stream it now
            if !saw_entries && let Some((_, raw)) = others.iter().find(|(k, _)| k == "entry") {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                Entries {
                    state: &mut *self.state,
                }
                .deserialize(&mut de)
                .map_err(serde::de::Error::custom)?;
            }
            return Ok(None);
        }
        // a single resource: put it back together
        let mut s = String::from("{");
        for (i, (k, v)) in others.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&serde_json::to_string(k).unwrap_or_default());
            s.push(':');
            s.push_str(v.get());
        }
        s.push('}');
        Ok(Some(s))
    }
}

struct Entries<'s, 'c> {
    state: &'s mut JsonState<'c>,
}

impl<'de> DeserializeSeed<'de> for Entries<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

#[derive(serde::Deserialize)]
struct Entry {
    #[serde(rename = "fullUrl")]
    full_url: Option<String>,
    resource: Option<Box<RawValue>>,
}

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bundle.entry as an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(e) = seq.next_element::<Option<Entry>>()? {
            n += 1;
            let Some(Entry {
                full_url,
                resource: Some(raw),
            }) = e
            else {
                continue;
            };
            let text = raw.get();
            // transaction bundles: a resource without id is named by its urn:uuid fullUrl
            let has_id = serde_json::from_str::<IdProbe>(text)
                .map(|p| p.id.is_some())
                .unwrap_or(true);
            match full_url
                .as_deref()
                .and_then(|u| u.strip_prefix("urn:uuid:"))
            {
                Some(uuid) if !has_id && text.trim_start().starts_with('{') => {
                    let body = text.trim_start()[1..].trim_start();
                    let sep = if body.starts_with('}') { "" } else { "," };
                    let with_id = format!(
                        "{{\"id\":{}{sep}{body}",
                        serde_json::to_string(uuid).unwrap_or_default()
                    );
                    self.state.push(n, &with_id);
                }
                _ => self.state.push(n, text),
            }
        }
        let _ = IgnoredAny;
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct IdProbe {
    id: Option<serde::de::IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(
        file: &InputFile,
        chunk: usize,
    ) -> (Vec<(u64, String)>, Result<FileStats, ReadError>) {
        let mut got = Vec::new();
        let r = read_file(file, chunk, &mut |c: Chunk| {
            for rec in &c.records {
                got.push((
                    rec.line,
                    String::from_utf8_lossy(&c.data[rec.range.clone()]).into_owned(),
                ));
            }
            true
        });
        (got, r)
    }

    #[test]
    fn ndjson_lines_keep_their_numbers_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Patient.ndjson");
        std::fs::write(&p, "{\"a\":1}\n\n  {\"a\":2}\r\n{\"a\":3}").unwrap();
        let f = InputFile {
            path: p,
            kind: InputKind::Ndjson,
        };
        let (got, r) = collect(&f, 8);
        assert_eq!(
            got,
            vec![
                (1, "{\"a\":1}".into()),
                (3, "{\"a\":2}".into()),
                (4, "{\"a\":3}".into())
            ]
        );
        assert_eq!(r.unwrap().records, 3);
    }

    /// Lines cut by block and chunk boundaries come out whole, numbered, in order, plain and
    /// gzipped alike.
    #[test]
    fn long_files_split_into_chunks_at_line_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = (0..20_000)
            .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 97)))
            .collect();
        let mut text = String::from("\u{FEFF}");
        for (i, l) in lines.iter().enumerate() {
            text.push_str(l);
            text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
            if i % 1000 == 0 {
                text.push('\n');
            }
        }
        text.push_str("{\"last\":true}");
        let plain = dir.path().join("Big.ndjson");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("Big.ndjson.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for (path, kind) in [(plain, InputKind::Ndjson), (gz, InputKind::NdjsonGz)] {
            let mut chunks = 0;
            let mut got = Vec::new();
            let stats = read_file(&InputFile { path, kind }, 100_000, &mut |c: Chunk| {
                chunks += 1;
                got.extend(c.records.iter().map(|r| {
                    (
                        r.line,
                        String::from_utf8_lossy(&c.data[r.range.clone()]).into_owned(),
                    )
                }));
                true
            })
            .unwrap();
            assert!(chunks > 10, "{kind:?}: {chunks} chunks");
            assert_eq!(stats.records, 20_001);
            assert_eq!(stats.bytes, text.len() as u64);
            let mut want = Vec::new();
            let mut line = 0;
            for (i, l) in lines.iter().enumerate() {
                line += 1;
                want.push((line, l.clone()));
                if i % 1000 == 0 {
                    line += 1; // the blank line after it
                }
            }
            want.push((line + 1, "{\"last\":true}".to_owned()));
            assert_eq!(got, want, "{kind:?}");
        }
    }

    #[test]
    fn gzip_cut_short_is_reported_with_the_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Obs.ndjson.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..2000 {
            writeln!(enc, "{{\"resourceType\":\"Observation\",\"id\":\"o{i}\"}}").unwrap();
        }
        let bytes = enc.finish().unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let f = InputFile {
            path: p,
            kind: InputKind::NdjsonGz,
        };
        let (_, r) = collect(&f, 1 << 20);
        let e = r.unwrap_err();
        assert!(matches!(e, ReadError::Truncated { .. }), "{e}");
        assert!(e.to_string().contains("Obs.ndjson.gz"), "{e}");
    }

    #[test]
    fn bundles_stream_entries_and_single_resources_pass_whole() {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("b.json");
        std::fs::write(
            &b,
            r#"{"resourceType":"Bundle","type":"transaction","entry":[
                {"fullUrl":"urn:uuid:u1","resource":{"resourceType":"Patient","gender":"female"}},
                {"request":{"method":"DELETE","url":"Patient/x"}},
                {"resource":{"resourceType":"Patient","id":"p2"}}]}"#,
        )
        .unwrap();
        let (got, r) = collect(
            &InputFile {
                path: b,
                kind: InputKind::Json,
            },
            1 << 20,
        );
        assert_eq!(r.unwrap().records, 2);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.starts_with("{\"id\":\"u1\","), "{}", got[0].1);
        assert_eq!(
            got[1],
            (3, r#"{"resourceType":"Patient","id":"p2"}"#.into())
        );
        let s = dir.path().join("s.json");
        std::fs::write(
            &s,
            r#"{"resourceType":"Patient","id":"x","name":[{"family":"F"}]}"#,
        )
        .unwrap();
        let (got, _) = collect(
            &InputFile {
                path: s,
                kind: InputKind::Json,
            },
            1 << 20,
        );
        let v: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
        assert_eq!(v["name"][0]["family"], "F");
        // other resources have `entry` too (List): they pass whole
        let l = dir.path().join("l.json");
        std::fs::write(
            &l,
            r#"{"resourceType":"List","id":"l1","entry":[{"item":{"reference":"Patient/p"}}]}"#,
        )
        .unwrap();
        let (got, _) = collect(
            &InputFile {
                path: l,
                kind: InputKind::Json,
            },
            1 << 20,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].1.contains("\"item\""));
        // a Bundle whose resourceType comes last
        let late = dir.path().join("late.json");
        std::fs::write(&late, r#"{"entry":[{"resource":{"resourceType":"Patient","id":"z"}}],"resourceType":"Bundle"}"#).unwrap();
        let (got, _) = collect(
            &InputFile {
                path: late,
                kind: InputKind::Json,
            },
            1 << 20,
        );
        assert_eq!(
            got,
            vec![(1, r#"{"resourceType":"Patient","id":"z"}"#.to_string())]
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"resourceType":"Bundle","entry":[{"resource":{"#).unwrap();
        let (_, r) = collect(
            &InputFile {
                path: bad,
                kind: InputKind::Json,
            },
            1 << 20,
        );
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("bad.json") && msg.contains("ends early"),
            "{msg}"
        );
    }

    #[test]
    fn discover_walks_folders_and_refuses_unknown_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.ndjson"), "").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let files = discover(&[dir.path().to_owned()]).unwrap();
        assert_eq!(files.len(), 2);
        assert!(matches!(
            discover(&[dir.path().join("notes.txt")]),
            Err(ReadError::UnknownKind(_))
        ));
        assert!(matches!(
            discover(&[dir.path().join("missing")]),
            Err(ReadError::Io { .. })
        ));
    }

    /// Records come out of chunks of any size whole and in order, and one parser reused over
    /// them reads each as it reads a copy made alone: same resources, same errors, the cut last
    /// line of a file included.
    #[test]
    fn records_of_any_chunk_size_parse_as_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Mixed.ndjson");
        let text = concat!(
            "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"text\":\"A \\\"B\\\"\"}]}\n",
            "{\"resourceType\":\"Patient\",\"id\":\"p2\"}  \n",
            "[1,2]\n",
            "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\"}\n",
            "{\"resourceType\":\"Patient\",\"id\":\"p3\""
        );
        std::fs::write(&p, text).unwrap();
        let outcome =
            |r: Result<(crate::fhirpath::Node<'_>, &str, u16), crate::resource::Reject>| match r {
                Ok((v, rt, _)) => format!(
                    "{rt} {}",
                    crate::fhirpath::get_str(v, "id").unwrap_or_default()
                ),
                Err((_, m)) => m,
            };
        let mut parser = crate::resource::Parser::new();
        for chunk_bytes in [16, 1 << 20] {
            let (mut in_place, mut copied) = (Vec::new(), Vec::new());
            read_file(
                &InputFile {
                    path: p.clone(),
                    kind: InputKind::Ndjson,
                },
                chunk_bytes,
                &mut |c: Chunk| {
                    for r in &c.records {
                        copied.push(crate::resource::Parser::new().parse(
                            &c.data[r.range.clone()],
                            true,
                            outcome,
                        ));
                    }
                    c.for_each(|_, _, rec| in_place.push(parser.parse(rec, true, outcome)));
                    true
                },
            )
            .unwrap();
            assert_eq!(in_place, copied, "chunks of {chunk_bytes} bytes");
            assert_eq!(
                in_place[..2],
                ["Patient p1".to_owned(), "Patient p2".to_owned()]
            );
            assert!(
                in_place[2].contains("JSON object is required"),
                "{}",
                in_place[2]
            );
            assert_eq!(in_place[3], "Observation o1");
            assert!(
                in_place[4].starts_with("invalid JSON (line cut short?)"),
                "{}",
                in_place[4]
            );
        }
    }
}
