//! References within a Bundle: entries that name each other by `fullUrl`
//! (`"subject": {"reference": "urn:uuid:…"}`, as Synthea and many hospital exporters write
//! transaction Bundles) resolve to the target entry's resource type and id, as SQL-on-FHIR's
//! `getReferenceKey()` asks.
//!
//! A Bundle file is read twice: [`scan`] first collects every entry's `fullUrl` → (type, id) in a
//! cheap pass that skips the resources' contents, then [`crate::read`] streams the entries as
//! before, each [`crate::read::Chunk`] of the file carrying the map (an `Arc`, shared). So
//! forward references (an entry naming a later one) resolve too, and a Bundle is never held in
//! memory: the map holds a few dozen bytes per entry of one file. NDJSON has no map.
//!
//! The evaluators ([`crate::fhirpath`], [`crate::plan`]) resolve through a [`RefScope`]: the
//! map of the resource's Bundle (if any) and a note of the references that resolve to nothing
//! (an `urn:uuid:` / `urn:oid:` reference not in its Bundle, or in NDJSON), so that ingest can
//! count and report them instead of leaving a column silently empty. Relative `Type/id`
//! references read as before, without a lookup; absolute ones whose `fullUrl` is in the Bundle
//! resolve to that entry, the others are read from their last two segments.

use crate::read::{InputFile, InputKind};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::{BufReader, Read};
use std::sync::Arc;

/// The entries of one Bundle by `fullUrl`: each one's resource type and id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BundleRefs {
    /// `fullUrl` → (index of the type in the R4 list, id).
    by_url: HashMap<Box<str>, (u16, Box<str>)>,
}

impl BundleRefs {
    /// The resource type and id of the entry whose `fullUrl` is `url`.
    pub fn get(&self, url: &str) -> Option<(&'static str, &str)> {
        let (t, id) = self.by_url.get(url)?;
        Some((kakehashi_model::resource_types::name(*t)?, id))
    }

    /// How many entries have a `fullUrl`.
    pub fn len(&self) -> usize {
        self.by_url.len()
    }

    /// Whether no entry has a `fullUrl`.
    pub fn is_empty(&self) -> bool {
        self.by_url.is_empty()
    }

    /// Adds an entry (the first of a repeated `fullUrl` is kept, as a server would refuse the
    /// second). `id` is the resource's id, or for an id-less resource with an `urn:uuid:`
    /// fullUrl the uuid, as [`crate::read`] names it.
    pub fn insert(&mut self, full_url: &str, resource_type: &str, id: Option<&str>) {
        let Some(t) = kakehashi_model::resource_types::index(resource_type) else {
            return;
        };
        let Some(id) = id.or_else(|| full_url.strip_prefix("urn:uuid:")) else {
            return;
        };
        if id.is_empty() {
            return;
        }
        self.by_url
            .entry(full_url.into())
            .or_insert_with(|| (t, id.into()));
    }
}

/// The map of a `.json` / `.json.gz` file holding a Bundle whose entries have `fullUrl`s; `None`
/// for NDJSON, a single resource, or a Bundle without `fullUrl`s. A file that cannot be read or
/// is broken JSON yields the entries before the break (the reading pass reports the problem).
pub fn scan(file: &InputFile) -> Option<Arc<BundleRefs>> {
    let f = std::fs::File::open(&file.path).ok()?;
    let refs = match file.kind {
        InputKind::Ndjson | InputKind::NdjsonGz => return None,
        InputKind::Json => scan_reader(BufReader::with_capacity(1 << 20, f)),
        InputKind::JsonGz => scan_reader(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f)),
        )),
    };
    refs.filter(|r| !r.is_empty()).map(Arc::new)
}

/// [`scan`] over any reader of a JSON document.
pub fn scan_reader<R: Read>(r: R) -> Option<BundleRefs> {
    let mut de = serde_json::Deserializer::from_reader(r);
    let mut refs = BundleRefs::default();
    let mut bundle = None;
    // an error (broken JSON, or the early stop at a resource that is not a Bundle) keeps what
    // was collected before it
    let _ = ScanTop {
        refs: &mut refs,
        bundle: &mut bundle,
    }
    .deserialize(&mut de);
    (bundle == Some(true)).then_some(refs)
}

struct ScanTop<'s> {
    refs: &'s mut BundleRefs,
    /// Whether the top-level `resourceType` is `Bundle` (None: not seen yet).
    bundle: &'s mut Option<bool>,
}

impl<'de> DeserializeSeed<'de> for ScanTop<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScanTop<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "resourceType" => {
                    let t: serde_json::Value = map.next_value()?;
                    let bundle = t.as_str() == Some("Bundle");
                    *self.bundle = Some(bundle);
                    if !bundle {
                        // one resource: nothing to collect, stop reading
                        return Err(serde::de::Error::custom("not a Bundle"));
                    }
                }
                // read whatever the type (it may come last); dropped unless it is a Bundle
                "entry" => map.next_value_seed(ScanEntries {
                    refs: &mut *self.refs,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ScanEntries<'s> {
    refs: &'s mut BundleRefs,
}

impl<'de> DeserializeSeed<'de> for ScanEntries<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// An entry as the scan reads it: its `fullUrl` and its resource's type and id, nothing else
/// (values of other JSON types than expected are read and ignored, never an error).
#[derive(serde::Deserialize)]
struct ScanEntry {
    #[serde(rename = "fullUrl")]
    full_url: Option<serde_json::Value>,
    resource: Option<ScanResource>,
}

#[derive(serde::Deserialize)]
struct ScanResource {
    #[serde(rename = "resourceType")]
    resource_type: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
}

impl<'de> Visitor<'de> for ScanEntries<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bundle.entry as an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<Option<ScanEntry>>()? {
            let Some(ScanEntry {
                full_url: Some(serde_json::Value::String(url)),
                resource: Some(r),
            }) = e
            else {
                continue;
            };
            let Some(serde_json::Value::String(t)) = r.resource_type else {
                continue;
            };
            let id = match &r.id {
                Some(serde_json::Value::String(id)) => Some(id.as_str()),
                // a non-string id: the resource is refused when read; it names nothing
                Some(_) => continue,
                None => None,
            };
            self.refs.insert(&url, &t, id);
        }
        Ok(())
    }
}

/// A reference that resolved to nothing: an `urn:uuid:` or `urn:oid:` reference with no entry
/// of that `fullUrl` in its Bundle (or read from NDJSON, where there is no Bundle), or a
/// conditional reference (`Type?search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The reference as written.
    pub reference: String,
    /// The type the view asked for (`getReferenceKey(Patient)`), if any.
    pub want: Option<String>,
}

/// What is said of an unresolved reference: "`urn:uuid:…` (a Patient reference) names no entry
/// of its Bundle; its key is left empty", or that a conditional one is a search.
pub fn unresolved_message(u: &Unresolved) -> String {
    let what = u
        .want
        .as_deref()
        .map(|w| format!(" (a {w} reference)"))
        .unwrap_or_default();
    if u.reference.contains('?') {
        return format!(
            "`{}`{what} is a conditional reference (a search the receiving server runs on a transaction), which a load of files cannot resolve; its key is left empty",
            u.reference
        );
    }
    format!(
        "`{}`{what} names no entry of its Bundle (no entry has this fullUrl); its key is left empty",
        u.reference
    )
}

/// How an evaluation resolves references: through the map of the Bundle the resource came from
/// (if any), noting the references that resolve to nothing. One per worker and file (it is
/// not `Sync`); [`RefScope::take_unresolved`] empties the note between resources or views.
#[derive(Debug, Default)]
pub struct RefScope {
    bundle: Option<Arc<BundleRefs>>,
    noted: RefCell<Vec<Unresolved>>,
    count: Cell<u32>,
}

impl RefScope {
    /// A scope resolving within `bundle` (None: NDJSON or a file with no `fullUrl`s).
    pub fn new(bundle: Option<Arc<BundleRefs>>) -> RefScope {
        RefScope {
            bundle,
            noted: RefCell::default(),
            count: Cell::new(0),
        }
    }

    /// The Bundle's map, if any.
    #[inline]
    pub fn bundle(&self) -> Option<&BundleRefs> {
        self.bundle.as_deref()
    }

    /// Notes a reference that resolved to nothing (once per reference and wanted type until
    /// taken: the evaluators may read one reference more than once).
    pub(crate) fn note(&self, reference: &str, want: Option<&str>) {
        let mut noted = self.noted.borrow_mut();
        if noted
            .iter()
            .any(|u| u.reference == reference && u.want.as_deref() == want)
        {
            return;
        }
        noted.push(Unresolved {
            reference: reference.to_owned(),
            want: want.map(str::to_owned),
        });
        self.count.set(noted.len() as u32);
    }

    /// Whether a reference was noted since the last [`RefScope::take_unresolved`] (one load).
    #[inline]
    pub fn has_unresolved(&self) -> bool {
        self.count.get() != 0
    }

    /// The references noted so far, emptying the note.
    pub fn take_unresolved(&self) -> Vec<Unresolved> {
        self.count.set(0);
        std::mem::take(&mut *self.noted.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_collects_full_urls_of_bundles_only() {
        let b = r#"{"resourceType":"Bundle","type":"transaction","entry":[
            {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","name":[{"family":"F"}]}},
            {"fullUrl":"urn:uuid:e","resource":{"id":"e1","resourceType":"Encounter","subject":{"reference":"urn:uuid:p"}}},
            {"fullUrl":"https://x.org/fhir/Observation/o9","resource":{"resourceType":"Observation","id":"o9"}},
            {"fullUrl":"urn:oid:1.2.3","resource":{"resourceType":"Condition","id":"c1"}},
            {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"dup"}},
            {"fullUrl":"urn:oid:9","resource":{"resourceType":"Patient"}},
            {"fullUrl":"urn:uuid:bad","resource":{"resourceType":"Patient","id":7}},
            {"fullUrl":"urn:uuid:unknown","resource":{"resourceType":"Patinet","id":"x"}},
            {"request":{"method":"DELETE","url":"Patient/x"}}, null]}"#;
        let r = scan_reader(b.as_bytes()).unwrap();
        assert_eq!(r.get("urn:uuid:p"), Some(("Patient", "p")));
        assert_eq!(r.get("urn:uuid:e"), Some(("Encounter", "e1")));
        assert_eq!(
            r.get("https://x.org/fhir/Observation/o9"),
            Some(("Observation", "o9"))
        );
        assert_eq!(r.get("urn:oid:1.2.3"), Some(("Condition", "c1")));
        for missing in ["urn:oid:9", "urn:uuid:bad", "urn:uuid:unknown", "Patient/x"] {
            assert_eq!(r.get(missing), None, "{missing}");
        }
        assert_eq!(r.len(), 4);
        // `entry` before `resourceType`
        let late = r#"{"entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient"}}],"resourceType":"Bundle"}"#;
        assert_eq!(
            scan_reader(late.as_bytes()).unwrap().get("urn:uuid:a"),
            Some(("Patient", "a"))
        );
        // other resources with `entry` (List) and single resources give no map
        let list =
            r#"{"resourceType":"List","id":"l","entry":[{"item":{"reference":"Patient/p"}}]}"#;
        assert_eq!(scan_reader(list.as_bytes()), None);
        assert_eq!(scan_reader(r#"{"entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient"}}],"resourceType":"List"}"#.as_bytes()), None);
        // broken JSON keeps the entries before the break
        let cut = r#"{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient"}},{"fullUrl":"urn:uu"#;
        assert_eq!(
            scan_reader(cut.as_bytes()).unwrap().get("urn:uuid:a"),
            Some(("Patient", "a"))
        );
    }

    #[test]
    fn a_scope_notes_each_unresolved_reference_once() {
        let s = RefScope::new(None);
        assert!(!s.has_unresolved());
        s.note("urn:uuid:x", Some("Patient"));
        s.note("urn:uuid:x", Some("Patient"));
        s.note("urn:uuid:x", None);
        assert!(s.has_unresolved());
        let got = s.take_unresolved();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Unresolved {
                reference: "urn:uuid:x".into(),
                want: Some("Patient".into())
            }
        );
        assert!(!s.has_unresolved() && s.take_unresolved().is_empty());
    }
}
