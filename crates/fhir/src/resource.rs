//! One FHIR resource from raw bytes: parsed in place (simd-json), checked to be a FHIR R4
//! resource, and problems reported with file, line and element.

use crate::read::Location;
use simd_json::BorrowedValue as Value;
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

/// Parses a record in place and checks it is a FHIR R4 resource with a known `resourceType`
/// (and, when `need_id`, an `id`). Returns the value and its type.
pub fn parse(bytes: &mut [u8], need_id: bool) -> Result<(Value<'_>, String), Reject> {
    let len = bytes.len();
    let v = simd_json::to_borrowed_value(bytes).map_err(|e| {
        let what = if e.index() + 1 >= len || matches!(e.error(), simd_json::ErrorType::Eof) {
            "invalid JSON (line cut short?)"
        } else {
            "invalid JSON"
        };
        (None, format!("{what}: {e}"))
    })?;
    let rt = {
        let Value::Object(m) = &v else {
            return Err((None, "not a FHIR resource: a JSON object is required".into()));
        };
        let rt = match m.get("resourceType") {
            Some(Value::String(s)) => s.to_string(),
            Some(_) => return Err((Some("resourceType".into()), "must be a string".into())),
            None => return Err((Some("resourceType".into()), "missing: not a FHIR resource".into())),
        };
        if !is_resource_type(&rt) {
            return Err((Some("resourceType".into()), format!("`{rt}` is not a FHIR R4 resource type")));
        }
        if need_id {
            match m.get("id") {
                Some(Value::String(s)) if is_valid_id(s) => {}
                Some(Value::String(s)) => return Err((Some(format!("{rt}.id")), format!("`{s}` is not a valid FHIR id"))),
                Some(_) => return Err((Some(format!("{rt}.id")), "must be a string".into())),
                None => return Err((Some(format!("{rt}.id")), "missing: a stored resource needs an id".into())),
            }
        }
        rt
    };
    Ok((v, rt))
}

/// FHIR `id`: 1–64 characters of `A-Z a-z 0-9 - .`.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `name` is a FHIR R4 (4.0.1) resource type.
pub fn is_resource_type(name: &str) -> bool {
    kakehashi_model::resource_types::index(name).is_some()
}

pub use kakehashi_model::resource_types::R4_RESOURCE_TYPES;

#[cfg(test)]
mod tests {
    use super::*;

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
            (r#"{"resourceType":"Patinet","id":"x"}"#, "not a FHIR R4 resource type"),
            (r#"{"resourceType":"Patient"}"#, "needs an id"),
        ];
        for (text, want) in cases {
            let mut b = text.as_bytes().to_vec();
            let err = parse(&mut b, true).err().unwrap_or_else(|| panic!("{text} accepted"));
            assert!(err.1.contains(want), "{text}: {err:?}");
        }
        let mut ok = br#"{"resourceType":"Patient","id":"p-1.2"}"#.to_vec();
        assert_eq!(parse(&mut ok, true).unwrap().1, "Patient");
    }
}
