//! Form validation for the UI's forms: each problem is tied to the field it concerns, as a
//! message key the page shows next to that field (in the user's language).

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Problems found in a submitted form, by field name; each value is a message key in the
/// Fluent files plus its arguments.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FieldErrors(pub BTreeMap<String, FieldError>);

/// One field's problem.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldError {
    /// Message key (e.g. `err-required`).
    pub key: String,
    /// Detail inserted into the message as `$detail` (e.g. a parser's message), may be empty.
    pub detail: String,
}

impl FieldErrors {
    /// No problems.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records a problem for `field` (the first one per field is kept).
    pub fn add(&mut self, field: &str, key: &str, detail: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| FieldError {
                key: key.to_owned(),
                detail: detail.into(),
            });
    }

    /// The problem of a field, if any.
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.get(field)
    }

    /// Requires a non-blank value.
    pub fn require(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(field, "err-required", "");
        }
    }

    /// Parses an optional number; records `err-number` if present and not a number.
    pub fn number(&mut self, field: &str, value: &str) -> Option<f64> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        match v.replace(',', ".").parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                self.add(field, "err-number", v);
                None
            }
        }
    }

    /// Parses an optional ISO date (`YYYY-MM-DD`, what `<input type="date">` sends).
    pub fn date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.add(field, "err-date", v);
                None
            }
        }
    }

    /// Requires `from <= to` when both are given; the error goes on `to_field`.
    pub fn ordered<T: PartialOrd>(&mut self, to_field: &str, from: Option<T>, to: Option<T>) {
        if let (Some(a), Some(b)) = (from, to)
            && a > b
        {
            self.add(to_field, "err-range-order", "");
        }
    }

    /// Requires a value to be one of `allowed`.
    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.add(field, "err-choice", value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_names_its_field() {
        let mut e = FieldErrors::default();
        e.require("username", "  ");
        assert_eq!(e.number("min_value", "12,5"), Some(12.5));
        assert_eq!(e.number("max_value", "abc"), None);
        let from = e.date("from", "2024-01-01");
        let to = e.date("to", "2023-12-31");
        e.ordered("to", from, to);
        assert_eq!(e.date("bad", "31.12.2023"), None);
        e.one_of("sex", "x", &["male", "female"]);
        assert_eq!(e.get("username").unwrap().key, "err-required");
        assert_eq!(e.get("max_value").unwrap().key, "err-number");
        assert_eq!(e.get("to").unwrap().key, "err-range-order");
        assert_eq!(e.get("bad").unwrap().detail, "31.12.2023");
        assert_eq!(e.get("sex").unwrap().key, "err-choice");
        assert!(e.get("min_value").is_none() && e.get("from").is_none());
    }
}
