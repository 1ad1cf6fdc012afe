//! Value validation at entry time: per field type and text validation type, ranges, choice
//! codes, required fields, and the missing-data codes.
//!
//! Dates and date-times are stored as REDCap stores them (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM`,
//! `…:SS`) whatever the display order; they are accepted as stored or in the field's display
//! order (`date_dmy`: `31-12-2026` or `31/12/2026`). Numbers are stored with a decimal point.

use crate::dictionary::{Field, FieldType, Validation};
use crate::logic::eval::parse_date;
use serde::{Deserialize, Serialize};

/// The missing-data codes (REDCap's, as ISARIC's BRIDGE project enables them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingCode {
    /// NI: no information.
    #[serde(rename = "NI")]
    NoInformation,
    /// UNK: unknown.
    #[serde(rename = "UNK")]
    Unknown,
    /// NASK: not asked.
    #[serde(rename = "NASK")]
    NotAsked,
    /// NA: not applicable.
    #[serde(rename = "NA")]
    NotApplicable,
}

impl MissingCode {
    /// All four, in REDCap's order.
    pub const ALL: [MissingCode; 4] = [
        Self::NoInformation,
        Self::Unknown,
        Self::NotAsked,
        Self::NotApplicable,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoInformation => "NI",
            Self::Unknown => "UNK",
            Self::NotAsked => "NASK",
            Self::NotApplicable => "NA",
        }
    }

    /// The English label.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoInformation => "No information",
            Self::Unknown => "Unknown",
            Self::NotAsked => "Not asked",
            Self::NotApplicable => "Not applicable",
        }
    }

    /// The code written `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }

    /// REDCap's project setting text: `NI, No information` one per line.
    pub fn redcap_setting(codes: &[MissingCode]) -> String {
        codes
            .iter()
            .map(|m| format!("{}, {}", m.code(), m.label()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A required field left empty.
    #[error("a value is required")]
    Required,
    /// Not a whole number.
    #[error("'{0}' is not a whole number")]
    NotInteger(String),
    /// Not a number.
    #[error("'{0}' is not a number")]
    NotNumber(String),
    /// A number with the wrong number of decimals.
    #[error("'{value}' must have exactly {decimals} decimal place(s)")]
    Decimals {
        /// As entered.
        value: String,
        /// How many it needs.
        decimals: u32,
    },
    /// A date, date-time or time in the wrong format or impossible.
    #[error("'{value}' is not a valid {validation} value (expected {expected})")]
    Temporal {
        /// As entered.
        value: String,
        /// The validation type.
        validation: &'static str,
        /// The expected form, e.g. `DD-MM-YYYY`.
        expected: &'static str,
    },
    /// Not an e-mail address.
    #[error("'{0}' is not an e-mail address")]
    Email(String),
    /// Failed another text validation.
    #[error("'{value}' does not satisfy {validation}")]
    Text {
        /// As entered.
        value: String,
        /// The validation type.
        validation: &'static str,
    },
    /// Below the minimum.
    #[error("'{value}' is below the minimum {min}")]
    BelowMin {
        /// As entered.
        value: String,
        /// The minimum.
        min: String,
    },
    /// Above the maximum.
    #[error("'{value}' is above the maximum {max}")]
    AboveMax {
        /// As entered.
        value: String,
        /// The maximum.
        max: String,
    },
    /// Not one of the field's codes.
    #[error("'{0}' is not one of the field's codes")]
    NotAChoice(String),
    /// A value for a field that holds none (descriptive, calc).
    #[error("a {0} field takes no entered value")]
    NotEnterable(&'static str),
    /// A missing-data code the study does not use.
    #[error("'{0}' is not a missing-data code of this study")]
    MissingCodeNotEnabled(String),
}

/// Reads a number as the validation type requires.
pub fn parse_number(s: &str, v: Validation) -> Option<f64> {
    let s = s.trim();
    let plain = |t: &str| -> Option<f64> {
        let body = t.strip_prefix(['-', '+']).unwrap_or(t);
        if body.is_empty()
            || !body.chars().all(|c| c.is_ascii_digit() || c == '.')
            || body.matches('.').count() > 1
            || body == "."
        {
            return None;
        }
        t.parse().ok()
    };
    match v {
        Validation::Integer => {
            let body = s.strip_prefix(['-', '+']).unwrap_or(s);
            if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse::<i64>().ok().map(|n| n as f64)
        }
        Validation::NumberCommaDecimal => plain(&s.replace(',', ".")),
        _ => plain(s),
    }
}

fn decimals_required(v: Validation) -> Option<u32> {
    match v {
        Validation::Number1dp => Some(1),
        Validation::Number2dp => Some(2),
        Validation::Number3dp => Some(3),
        Validation::Number4dp => Some(4),
        _ => None,
    }
}

/// The display order and the expected form of a temporal validation type.
fn temporal_shape(v: Validation) -> (&'static str, u8, &'static str) {
    // (date order, time parts 0/2/3, expected text)
    match v {
        Validation::DateYmd => ("ymd", 0, "YYYY-MM-DD"),
        Validation::DateMdy => ("mdy", 0, "MM-DD-YYYY"),
        Validation::DateDmy => ("dmy", 0, "DD-MM-YYYY"),
        Validation::DatetimeYmd => ("ymd", 2, "YYYY-MM-DD HH:MM"),
        Validation::DatetimeMdy => ("mdy", 2, "MM-DD-YYYY HH:MM"),
        Validation::DatetimeDmy => ("dmy", 2, "DD-MM-YYYY HH:MM"),
        Validation::DatetimeSecondsYmd => ("ymd", 3, "YYYY-MM-DD HH:MM:SS"),
        Validation::DatetimeSecondsMdy => ("mdy", 3, "MM-DD-YYYY HH:MM:SS"),
        _ => ("dmy", 3, "DD-MM-YYYY HH:MM:SS"),
    }
}

fn parse_time(t: &str, parts: u8) -> Option<String> {
    let p: Vec<&str> = t.split(':').collect();
    if p.len() != parts as usize || p.iter().any(|x| x.len() != 2) {
        return None;
    }
    let n: Vec<u32> = p.iter().map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if n[0] > 23 || n[1] > 59 || n.get(2).is_some_and(|s| *s > 59) {
        return None;
    }
    Some(p.join(":"))
}

/// Reads a date or date-time (as stored, or in the type's display order) into the stored form.
pub fn parse_temporal(s: &str, v: Validation) -> Option<String> {
    let s = s.trim();
    let (order, time_parts, _) = temporal_shape(v);
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let d = parse_date(date, "ymd").or_else(|| parse_date(date, order))?;
    let date = d.format("%Y-%m-%d").to_string();
    match (time_parts, time) {
        (0, None) => Some(date),
        (0, Some(_)) | (_, None) => None,
        (n, Some(t)) => Some(format!("{date} {}", parse_time(t, n)?)),
    }
}

/// Checks one entered value against its field and returns the value to store (dates in
/// stored form, numbers with a decimal point). An empty value is accepted here (the form
/// check applies "required"); a missing-data code enabled for the study is stored as is.
pub fn validate_value(f: &Field, raw: &str, missing: &[MissingCode]) -> Result<String, ValueError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    if let Some(m) = MissingCode::parse(value) {
        return if missing.contains(&m) {
            Ok(value.to_owned())
        } else {
            Err(ValueError::MissingCodeNotEnabled(value.into()))
        };
    }
    match f.field_type {
        FieldType::Descriptive | FieldType::Calc => {
            return Err(ValueError::NotEnterable(f.field_type.as_str()));
        }
        FieldType::Radio | FieldType::Dropdown | FieldType::Yesno | FieldType::Truefalse => {
            return if f.options().iter().any(|c| c.code == value) {
                Ok(value.into())
            } else {
                Err(ValueError::NotAChoice(value.into()))
            };
        }
        FieldType::Checkbox => {
            // One option's state, `0`/`1`; the option code is checked by the caller.
            return if value == "0" || value == "1" {
                Ok(value.into())
            } else {
                Err(ValueError::NotAChoice(value.into()))
            };
        }
        FieldType::Slider => {
            return match parse_number(value, Validation::Integer) {
                Some(n) if (0.0..=100.0).contains(&n) => Ok(value.into()),
                _ => Err(ValueError::NotInteger(value.into())),
            };
        }
        _ => {}
    }
    let Some(v) = f.validation else {
        return Ok(raw.to_owned());
    };
    let stored = if v.is_numeric() {
        let Some(n) = parse_number(value, v) else {
            return Err(if v == Validation::Integer {
                ValueError::NotInteger(value.into())
            } else {
                ValueError::NotNumber(value.into())
            });
        };
        if let Some(d) = decimals_required(v) {
            let got = value.split_once('.').map(|(_, x)| x.len()).unwrap_or(0);
            if got != d as usize {
                return Err(ValueError::Decimals {
                    value: value.into(),
                    decimals: d,
                });
            }
        }
        check_range(f, v, value, Key::Num(n))?;
        value.replace(',', ".")
    } else if v.is_temporal() {
        let (_, _, expected) = temporal_shape(v);
        let Some(s) = parse_temporal(value, v) else {
            return Err(ValueError::Temporal {
                value: value.into(),
                validation: v.as_str(),
                expected,
            });
        };
        check_range(f, v, value, Key::Text(s.clone()))?;
        s
    } else {
        match v {
            Validation::Time => parse_time(value, 2).ok_or(ValueError::Temporal {
                value: value.into(),
                validation: "time",
                expected: "HH:MM",
            })?,
            Validation::TimeMmSs => {
                let ok = value.split_once(':').is_some_and(|(m, s)| {
                    m.len() == 2
                        && s.len() == 2
                        && m.parse::<u32>().is_ok_and(|m| m < 60)
                        && s.parse::<u32>().is_ok_and(|s| s < 60)
                });
                if !ok {
                    return Err(ValueError::Temporal {
                        value: value.into(),
                        validation: "time_mm_ss",
                        expected: "MM:SS",
                    });
                }
                value.into()
            }
            Validation::Email => {
                let ok = value.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty()
                        && d.contains('.')
                        && !d.starts_with('.')
                        && !d.ends_with('.')
                        && !value.contains(char::is_whitespace)
                });
                if !ok {
                    return Err(ValueError::Email(value.into()));
                }
                value.into()
            }
            Validation::AlphaOnly => {
                if !value.chars().all(char::is_alphabetic) {
                    return Err(ValueError::Text {
                        value: value.into(),
                        validation: v.as_str(),
                    });
                }
                value.into()
            }
            Validation::Zipcode => {
                let digits: Vec<char> = value.chars().filter(|c| *c != '-').collect();
                if !(digits.len() == 5 || digits.len() == 9)
                    || !digits.iter().all(char::is_ascii_digit)
                {
                    return Err(ValueError::Text {
                        value: value.into(),
                        validation: v.as_str(),
                    });
                }
                value.into()
            }
            _ => {
                let digits = value.chars().filter(char::is_ascii_digit).count();
                if digits < 7
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_digit() || " ()+-.".contains(c))
                {
                    return Err(ValueError::Text {
                        value: value.into(),
                        validation: v.as_str(),
                    });
                }
                value.into()
            }
        }
    };
    Ok(stored)
}

enum Key {
    Num(f64),
    Text(String),
}

fn check_range(f: &Field, v: Validation, value: &str, key: Key) -> Result<(), ValueError> {
    for (bound, is_min) in [(&f.min, true), (&f.max, false)] {
        if bound.is_empty() || bound == "today" || bound == "now" {
            continue;
        }
        let outside = match &key {
            Key::Num(n) => {
                parse_number(bound, v).is_some_and(|b| if is_min { *n < b } else { *n > b })
            }
            Key::Text(s) => {
                parse_temporal(bound, v).is_some_and(|b| if is_min { *s < b } else { *s > b })
            }
        };
        if outside {
            return Err(if is_min {
                ValueError::BelowMin {
                    value: value.into(),
                    min: bound.clone(),
                }
            } else {
                ValueError::AboveMax {
                    value: value.into(),
                    max: bound.clone(),
                }
            });
        }
    }
    Ok(())
}
