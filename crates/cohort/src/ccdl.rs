//! The MII Clinical Cohort Definition Language: model and reader.
//!
//! Reads CCDL v2 (`"version": "2"`) and the older structured-query form (a schema URL or no
//! version); both share the criterion shape. Every error names the offending element by its
//! path, e.g. `inclusionCriteria[1][0].valueFilter.comparator`.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

/// A CCDL problem, with the path of the element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CcdlError {
    /// Where, e.g. `inclusionCriteria[0][1].termCodes[0].system`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> CcdlError {
    CcdlError {
        path: if path.is_empty() {
            "(query)".into()
        } else {
            path.to_owned()
        },
        message: message.into(),
    }
}

/// A coded concept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TermCode {
    /// Code system URI.
    pub system: String,
    /// Code.
    pub code: String,
    /// Display (not part of the meaning).
    #[serde(skip)]
    pub display: String,
}

/// A comparator of a quantity filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparator {
    /// >
    Gt,
    /// ≥
    Ge,
    /// <
    Lt,
    /// ≤
    Le,
    /// =
    Eq,
    /// ≠
    Ne,
}

impl Comparator {
    /// Whether `v` compares to `x` as this comparator says.
    pub fn holds(self, v: f64, x: f64) -> bool {
        match self {
            Comparator::Gt => v > x,
            Comparator::Ge => v >= x,
            Comparator::Lt => v < x,
            Comparator::Le => v <= x,
            Comparator::Eq => (v - x).abs() < 1e-9,
            Comparator::Ne => (v - x).abs() >= 1e-9,
        }
    }
}

/// A filter on a criterion's value or on one of its attributes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Filter {
    /// One of these concepts.
    Concept {
        /// The concepts.
        concepts: Vec<TermCode>,
    },
    /// A comparison with a quantity.
    QuantityComparator {
        /// Comparator.
        comparator: Comparator,
        /// Value.
        value: f64,
        /// UCUM unit, if given.
        unit: Option<String>,
    },
    /// A closed range.
    QuantityRange {
        /// Lower bound (inclusive).
        min: f64,
        /// Upper bound (inclusive).
        max: f64,
        /// UCUM unit, if given.
        unit: Option<String>,
    },
    /// The resource references a resource matching one of these criteria.
    Reference {
        /// The referenced criteria (any of them).
        criteria: Vec<Criterion>,
    },
}

/// An attribute filter: an attribute code and its filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeFilter {
    /// The attribute (e.g. `status`, `bodySite`, `festgestellteDiagnose`).
    pub attribute: TermCode,
    /// Its filter.
    pub filter: Filter,
}

/// A time window; the criterion's own time must overlap it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeRestriction {
    /// From this day (inclusive).
    pub after: Option<NaiveDate>,
    /// Up to this day (inclusive).
    pub before: Option<NaiveDate>,
}

/// One criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    /// The context (`Diagnose`, `Laboruntersuchung`, `Patient`, `Bioprobe`, ...).
    pub context: TermCode,
    /// Synonymous codes (any matches).
    pub term_codes: Vec<TermCode>,
    /// A filter on the value.
    pub value_filter: Option<Filter>,
    /// Filters on attributes.
    pub attribute_filters: Vec<AttributeFilter>,
    /// A time window.
    pub time_restriction: Option<TimeRestriction>,
    /// Where it was in the query, for messages.
    #[serde(skip)]
    pub path: String,
}

/// A cohort query: (AND of ORs) AND NOT (OR of ANDs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// The form it was written in: `2` or `structured-query`.
    #[serde(skip)]
    pub form: String,
    /// Its display name.
    #[serde(skip)]
    pub display: String,
    /// Inclusion: every group must hold; a group holds when any of its criteria holds.
    pub inclusion: Vec<Vec<Criterion>>,
    /// Exclusion: a patient is excluded when any group holds; a group holds when all of its
    /// criteria hold.
    pub exclusion: Vec<Vec<Criterion>>,
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>, CcdlError> {
    v.as_object()
        .ok_or_else(|| err(path, "expected a JSON object"))
}

fn string(
    o: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
    required: bool,
) -> Result<Option<String>, CcdlError> {
    match o.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(err(&format!("{path}.{key}"), "is required")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(&format!("{path}.{key}"), "must be a string")),
    }
}

fn number(o: &serde_json::Map<String, Value>, key: &str, path: &str) -> Result<f64, CcdlError> {
    match o.get(key) {
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| err(&format!("{path}.{key}"), "is not a finite number")),
        Some(_) => Err(err(&format!("{path}.{key}"), "must be a number")),
        None => Err(err(&format!("{path}.{key}"), "is required")),
    }
}

fn term_code(v: &Value, path: &str) -> Result<TermCode, CcdlError> {
    term_code_with(v, path, true)
}

/// A term code; selected concepts of a concept filter may leave the system empty (MII's own
/// examples do), and then match by code alone.
fn term_code_with(v: &Value, path: &str, system_required: bool) -> Result<TermCode, CcdlError> {
    let o = obj(v, path)?;
    let code = string(o, "code", path, true)?.unwrap_or_default();
    let system = string(o, "system", path, system_required)?.unwrap_or_default();
    if code.trim().is_empty() {
        return Err(err(&format!("{path}.code"), "must not be empty"));
    }
    if system_required && system.trim().is_empty() {
        return Err(err(&format!("{path}.system"), "must not be empty"));
    }
    Ok(TermCode {
        system,
        code,
        display: string(o, "display", path, false)?.unwrap_or_default(),
    })
}

fn unit(o: &serde_json::Map<String, Value>, path: &str) -> Result<Option<String>, CcdlError> {
    match o.get("unit") {
        None | Some(Value::Null) => Ok(None),
        Some(u) => {
            let uo = obj(u, &format!("{path}.unit"))?;
            Ok(string(uo, "code", &format!("{path}.unit"), true)?)
        }
    }
}

fn filter(v: &Value, path: &str, allow_reference: bool) -> Result<Filter, CcdlError> {
    let o = obj(v, path)?;
    let ty = string(o, "type", path, true)?.unwrap_or_default();
    match ty.as_str() {
        "concept" => {
            let list = o
                .get("selectedConcepts")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    err(
                        &format!("{path}.selectedConcepts"),
                        "a concept filter needs a list of selected concepts",
                    )
                })?;
            if list.is_empty() {
                return Err(err(
                    &format!("{path}.selectedConcepts"),
                    "must not be empty",
                ));
            }
            let concepts = list
                .iter()
                .enumerate()
                .map(|(i, c)| term_code_with(c, &format!("{path}.selectedConcepts[{i}]"), false))
                .collect::<Result<_, _>>()?;
            Ok(Filter::Concept { concepts })
        }
        "quantity-comparator" => {
            let c = string(o, "comparator", path, true)?.unwrap_or_default();
            let comparator = match c.as_str() {
                "gt" => Comparator::Gt,
                "ge" => Comparator::Ge,
                "lt" => Comparator::Lt,
                "le" => Comparator::Le,
                "eq" => Comparator::Eq,
                "ne" => Comparator::Ne,
                other => {
                    return Err(err(
                        &format!("{path}.comparator"),
                        format!("{other:?} is not one of gt, ge, lt, le, eq, ne"),
                    ));
                }
            };
            Ok(Filter::QuantityComparator {
                comparator,
                value: number(o, "value", path)?,
                unit: unit(o, path)?,
            })
        }
        "quantity-range" => {
            let (min, max) = (number(o, "minValue", path)?, number(o, "maxValue", path)?);
            if min > max {
                return Err(err(
                    &format!("{path}.minValue"),
                    format!("{min} is above maxValue {max}"),
                ));
            }
            Ok(Filter::QuantityRange {
                min,
                max,
                unit: unit(o, path)?,
            })
        }
        "reference" if allow_reference => {
            let list = o.get("criteria").and_then(Value::as_array).ok_or_else(|| {
                err(
                    &format!("{path}.criteria"),
                    "a reference filter needs criteria",
                )
            })?;
            if list.is_empty() {
                return Err(err(&format!("{path}.criteria"), "must not be empty"));
            }
            let criteria = list
                .iter()
                .enumerate()
                .map(|(i, c)| criterion(c, &format!("{path}.criteria[{i}]")))
                .collect::<Result<_, _>>()?;
            Ok(Filter::Reference { criteria })
        }
        "reference" => Err(err(
            &format!("{path}.type"),
            "a value filter cannot be a reference (use attributeFilters)",
        )),
        other => Err(err(
            &format!("{path}.type"),
            format!(
                "{other:?} is not a filter type (concept, quantity-comparator, quantity-range, reference)"
            ),
        )),
    }
}

fn date(
    o: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<NaiveDate>, CcdlError> {
    match string(o, key, path, false)? {
        None => Ok(None),
        Some(s) => {
            let day = s.get(..10).unwrap_or(&s);
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    err(
                        &format!("{path}.{key}"),
                        format!("{s:?} is not a date (YYYY-MM-DD)"),
                    )
                })
        }
    }
}

fn criterion(v: &Value, path: &str) -> Result<Criterion, CcdlError> {
    let o = obj(v, path)?;
    let context = match o.get("context") {
        Some(c) => term_code(c, &format!("{path}.context"))?,
        None => {
            return Err(err(
                &format!("{path}.context"),
                "is required: the criterion's context (e.g. Diagnose, Laboruntersuchung, Patient)",
            ));
        }
    };
    let codes = o
        .get("termCodes")
        .and_then(Value::as_array)
        .ok_or_else(|| err(&format!("{path}.termCodes"), "is required: a list of codes"))?;
    if codes.is_empty() {
        return Err(err(&format!("{path}.termCodes"), "must not be empty"));
    }
    let term_codes = codes
        .iter()
        .enumerate()
        .map(|(i, c)| term_code(c, &format!("{path}.termCodes[{i}]")))
        .collect::<Result<_, _>>()?;
    let value_filter = match o.get("valueFilter") {
        None | Some(Value::Null) => None,
        Some(f) => Some(filter(f, &format!("{path}.valueFilter"), false)?),
    };
    let mut attribute_filters = Vec::new();
    if let Some(list) = o.get("attributeFilters") {
        let list = list
            .as_array()
            .ok_or_else(|| err(&format!("{path}.attributeFilters"), "must be a list"))?;
        for (i, a) in list.iter().enumerate() {
            let p = format!("{path}.attributeFilters[{i}]");
            let ao = obj(a, &p)?;
            let attribute = match ao.get("attributeCode") {
                Some(c) => term_code(c, &format!("{p}.attributeCode"))?,
                None => return Err(err(&format!("{p}.attributeCode"), "is required")),
            };
            attribute_filters.push(AttributeFilter {
                attribute,
                filter: filter(a, &p, true)?,
            });
        }
    }
    let time_restriction = match o.get("timeRestriction") {
        None | Some(Value::Null) => None,
        Some(t) => {
            let p = format!("{path}.timeRestriction");
            let to = obj(t, &p)?;
            let (after, before) = (date(to, "afterDate", &p)?, date(to, "beforeDate", &p)?);
            if after.is_none() && before.is_none() {
                return Err(err(&p, "needs afterDate, beforeDate or both"));
            }
            if let (Some(a), Some(b)) = (after, before)
                && a > b
            {
                return Err(err(
                    &format!("{p}.afterDate"),
                    format!("{a} is after beforeDate {b}"),
                ));
            }
            Some(TimeRestriction { after, before })
        }
    };
    for key in o.keys() {
        if !matches!(
            key.as_str(),
            "context"
                | "termCodes"
                | "valueFilter"
                | "attributeFilters"
                | "timeRestriction"
                | "display"
                | "id"
                | "selectedConcepts"
        ) {
            return Err(err(
                &format!("{path}.{key}"),
                "is not a CCDL criterion element; the engine refuses what it would otherwise ignore",
            ));
        }
    }
    Ok(Criterion {
        context,
        term_codes,
        value_filter,
        attribute_filters,
        time_restriction,
        path: path.to_owned(),
    })
}

fn groups(o: &serde_json::Map<String, Value>, key: &str) -> Result<Vec<Vec<Criterion>>, CcdlError> {
    let Some(v) = o.get(key) else {
        return Ok(Vec::new());
    };
    let outer = v
        .as_array()
        .ok_or_else(|| err(key, "must be a list of lists of criteria"))?;
    outer
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let inner = g
                .as_array()
                .ok_or_else(|| err(&format!("{key}[{i}]"), "must be a list of criteria"))?;
            if inner.is_empty() {
                return Err(err(&format!("{key}[{i}]"), "must not be empty"));
            }
            inner
                .iter()
                .enumerate()
                .map(|(j, c)| criterion(c, &format!("{key}[{i}][{j}]")))
                .collect()
        })
        .collect()
}

impl Query {
    /// Reads a CCDL query (v2 or structured-query form) from JSON text.
    pub fn parse(json: &str) -> Result<Query, CcdlError> {
        let v: Value =
            serde_json::from_str(json).map_err(|e| err("", format!("not valid JSON: {e}")))?;
        Query::from_value(&v)
    }

    /// Reads a CCDL query from a JSON value.
    pub fn from_value(v: &Value) -> Result<Query, CcdlError> {
        let o = obj(v, "")?;
        let form = match o.get("version") {
            Some(Value::String(s)) if s == "2" => "2".to_owned(),
            Some(Value::String(s)) if s.starts_with("http") => "structured-query".to_owned(),
            None => "structured-query".to_owned(),
            Some(other) => {
                return Err(err(
                    "version",
                    format!(
                        "{other} is not a CCDL version this engine reads (\"2\" or a structured-query schema URL)"
                    ),
                ));
            }
        };
        for key in o.keys() {
            if !matches!(
                key.as_str(),
                "version" | "display" | "inclusionCriteria" | "exclusionCriteria" | "$schema"
            ) {
                return Err(err(key, "is not a CCDL query element"));
            }
        }
        let inclusion = groups(o, "inclusionCriteria")?;
        if inclusion.is_empty() {
            return Err(err(
                "inclusionCriteria",
                "a query needs at least one inclusion criterion",
            ));
        }
        let exclusion = groups(o, "exclusionCriteria")?;
        Ok(Query {
            form,
            display: o
                .get("display")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            inclusion,
            exclusion,
        })
    }

    /// The query in a canonical form: every part that can change the count and nothing that
    /// cannot (displays, order, duplicates, aliases dropped; see [`crate::canonical`]), so the
    /// same meaning gives the same text (the disclosure gate keys noise and budget on it).
    pub fn canonical(&self) -> String {
        crate::canonical::query(self)
    }

    /// Whether the count depends on the day it is evaluated (the query has an age criterion):
    /// then the evaluation date is part of the question.
    pub fn depends_on_evaluation_date(&self) -> bool {
        crate::canonical::depends_on_evaluation_date(self)
    }

    /// All criteria, with their role, for display.
    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.inclusion.iter().chain(&self.exclusion).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = r#"{"version":"2","inclusionCriteria":[[{"context":{"code":"Diagnose","system":"fdpg.mii.cds","display":"D"},
        "termCodes":[{"code":"J18","system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","display":"x"},{"code":"J10","system":"http://fhir.de/CodeSystem/bfarm/icd-10-gm","display":"y"}]}]]}"#;

    #[test]
    fn canonical_form_ignores_order_and_displays() {
        let a = Query::parse(Q).unwrap();
        let b = Query::parse(
            &Q.replace(r#""display":"x""#, r#""display":"other""#)
                .replace("J18", "TMP")
                .replace("J10", "J18")
                .replace("TMP", "J10"),
        )
        .unwrap();
        assert_eq!(a.canonical(), b.canonical());
        let c = Query::parse(&Q.replace("J10", "J11")).unwrap();
        assert_ne!(a.canonical(), c.canonical());
    }

    #[test]
    fn errors_name_the_offending_element() {
        let bad = Q.replace(
            r#""termCodes":[{"code":"J18""#,
            r#""termCodes":[{"cod":"J18""#,
        );
        assert_eq!(
            Query::parse(&bad).unwrap_err().path,
            "inclusionCriteria[0][0].termCodes[0].code"
        );
        let bad = Q.replace(r#""display":"D"}"#, r#""display":"D"},"valueFilter":{"type":"quantity-comparator","comparator":"gte","value":1}"#);
        let e = Query::parse(&bad).unwrap_err();
        assert_eq!(e.path, "inclusionCriteria[0][0].valueFilter.comparator");
        assert!(
            Query::parse("{")
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
        assert_eq!(
            Query::parse(r#"{"inclusionCriteria":[]}"#)
                .unwrap_err()
                .path,
            "inclusionCriteria"
        );
        let e = Query::parse(&Q.replace(r#""termCodes""#, r#""unknownThing":1,"termCodes""#))
            .unwrap_err();
        assert_eq!(e.path, "inclusionCriteria[0][0].unknownThing");
    }
}
