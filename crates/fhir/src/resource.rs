//! One FHIR resource from raw bytes: parsed ([`crate::json`]), checked to be a FHIR R4
//! resource, and problems reported with file, line and element.

use crate::fhirpath::{Node, get};
use crate::read::Location;
use std::fmt;

/// A problem with one record: where, which element (if known), what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File and line (or Bundle entry).
    pub location: Location,
    /// The element concerned, e.g. `Condition.subject` or a view column.
    pub element: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(e) => write!(f, "{}: {e}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

impl std::error::Error for Problem {}

/// Why a record is not a usable resource (element, message).
pub type Reject = (Option<String>, String);

/// Parses records ([`crate::json`]), reusing its buffers and tape from one record to the next
/// (no allocation per record once warm).
#[derive(Debug, Default)]
pub struct Parser {
    json: crate::json::Reader,
    /// The last resource type seen and its index: input files hold one type after another, so
    /// most records skip the lookup.
    last_type: Option<(String, u16)>,
}

impl Parser {
    /// A parser.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Parses `bytes` and checks that they are a FHIR R4 resource with a known `resourceType`
    /// (and, when `need_id`, a valid `id`); calls `f` with the root node, its type and the type's
    /// index in [`R4_RESOURCE_TYPES`], or with why the record is not a resource.
    pub fn parse<R>(
        &mut self,
        bytes: &[u8],
        need_id: bool,
        f: impl FnOnce(Result<(Node<'_>, &str, u16), Reject>) -> R,
    ) -> R {
        let last_type = &mut self.last_type;
        self.json.read(bytes, |parsed| match parsed {
            Err(e) if e.cut_short => f(Err((None, format!("invalid JSON (line cut short?): {e}")))),
            Err(e) => f(Err((None, format!("invalid JSON: {e}")))),
            Ok(tape) => {
                let root = Node::root(tape);
                f(check(root, need_id, last_type).map(|(rt, t)| (root, rt, t)))
            }
        })
    }
}

/// Checks that a parsed record is a FHIR R4 resource; returns its type and the type's index.
fn check<'a>(
    v: Node<'a>,
    need_id: bool,
    last: &mut Option<(String, u16)>,
) -> Result<(&'a str, u16), Reject> {
    if v.as_object().is_none() {
        return Err((
            None,
            "not a FHIR resource: a JSON object is required".into(),
        ));
    }
    let rt = match get(v, "resourceType") {
        Some(t) => t.as_str().ok_or_else(|| {
            (
                Some("resourceType".to_owned()),
                "must be a string".to_owned(),
            )
        })?,
        None => {
            return Err((
                Some("resourceType".into()),
                "missing: not a FHIR resource".into(),
            ));
        }
    };
    let index = match last {
        Some((name, index)) if crate::tape::same_bytes(name.as_bytes(), rt.as_bytes()) => *index,
        _ => {
            let Some(index) = kakehashi_model::resource_types::index(rt) else {
                return Err((
                    Some("resourceType".into()),
                    format!("`{rt}` is not a FHIR R4 resource type"),
                ));
            };
            *last = Some((rt.to_owned(), index));
            index
        }
    };
    if need_id {
        match get(v, "id") {
            Some(id) => match id.as_str() {
                Some(s) if is_valid_id(s) => {}
                Some(s) => {
                    return Err((
                        Some(format!("{rt}.id")),
                        format!("`{s}` is not a valid FHIR id"),
                    ));
                }
                None => return Err((Some(format!("{rt}.id")), "must be a string".into())),
            },
            None => {
                return Err((
                    Some(format!("{rt}.id")),
                    "missing: a stored resource needs an id".into(),
                ));
            }
        }
    }
    Ok((rt, index))
}

/// FHIR `id`: 1–64 characters of `A-Z a-z 0-9 - .`.
pub fn is_valid_id(s: &str) -> bool {
    // one table lookup per byte (checked for every resource loaded)
    const ID_BYTE: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
            b += 1;
        }
        t
    };
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| ID_BYTE[b as usize])
}

/// Whether `name` is a FHIR R4 (4.0.1) resource type.
pub fn is_resource_type(name: &str) -> bool {
    kakehashi_model::resource_types::index(name).is_some()
}

pub use kakehashi_model::resource_types::R4_RESOURCE_TYPES;

#[cfg(test)]
mod tests {
    use super::*;

    fn get_str_test(v: Node<'_>) -> String {
        crate::fhirpath::get_str(v, "status")
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn ids_are_1_to_64_letters_digits_dashes_and_dots() {
        for b in 0..=255u8 {
            let id = format!("a{}", b as char);
            let want = b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
            assert_eq!(is_valid_id(&id), want, "byte {b}");
        }
        assert!(is_valid_id(&"x".repeat(64)) && !is_valid_id(&"x".repeat(65)) && !is_valid_id(""));
        assert!(is_valid_id("de-berlin-p0000000-o2") && !is_valid_id("a_b") && !is_valid_id("a b"));
    }

    #[test]
    fn resource_types_are_sorted_for_binary_search() {
        assert!(R4_RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_resource_type("Observation"));
        assert!(!is_resource_type("Observaton"));
    }

    #[test]
    fn each_kind_of_bad_record_is_named() {
        let cases: [(&str, &str); 6] = [
            (r#"{"resourceType":"Patient","id":"p1""#, "invalid JSON"),
            ("not json", "invalid JSON"),
            ("[1,2]", "JSON object is required"),
            (r#"{"id":"x"}"#, "not a FHIR resource"),
            (
                r#"{"resourceType":"Patinet","id":"x"}"#,
                "not a FHIR R4 resource type",
            ),
            (r#"{"resourceType":"Patient"}"#, "needs an id"),
        ];
        for (text, want) in cases {
            let err = Parser::new()
                .parse(text.as_bytes(), true, |r| r.map(|(_, rt, _)| rt.to_owned()))
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"));
            assert!(err.1.contains(want), "{text}: {err:?}");
        }
        let mut p = Parser::new();
        let ok = br#"{"resourceType":"Patient","id":"p-1.2"}"#;
        assert_eq!(
            p.parse(ok, true, |r| r.map(|(_, rt, _)| rt.to_owned()))
                .unwrap(),
            "Patient"
        );
        // the type's index is its place in the list of R4 types
        let t = p.parse(ok, true, |r| r.map(|(_, _, t)| t)).unwrap();
        assert_eq!(R4_RESOURCE_TYPES[t as usize], "Patient");
        // the parser is reused: a second record parses on the recycled tape
        let ok = br#"{"resourceType":"Observation","id":"o1","status":"final"}"#;
        assert_eq!(
            p.parse(ok, true, |r| r.map(|(v, _, _)| get_str_test(v)))
                .unwrap(),
            "final"
        );
        // the remembered type does not let a near miss through, nor keep an old index
        let t = p.parse(ok, true, |r| r.map(|(_, _, t)| t)).unwrap();
        assert_eq!(R4_RESOURCE_TYPES[t as usize], "Observation");
        let near = br#"{"resourceType":"Observatioo","id":"o1"}"#;
        assert!(
            p.parse(near, true, |r| r.map(|(_, rt, _)| rt.to_owned()))
                .is_err()
        );
        let t = p
            .parse(br#"{"resourceType":"Patient","id":"p1"}"#, true, |r| {
                r.map(|(_, _, t)| t)
            })
            .unwrap();
        assert_eq!(R4_RESOURCE_TYPES[t as usize], "Patient");
    }
}
