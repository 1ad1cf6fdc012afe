//! A refused save, lock or signature in the page's language: each value problem next to its
//! field, the missing reason next to the reason box, the rest at the top of the form.

use crate::Locale;
use crate::i18n::{Arg, Catalog};
use kakehashi_edc::entry::{EntryError, ValueError};
use std::collections::BTreeMap;

/// A refusal placed on the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placed {
    /// Messages by variable.
    pub fields: BTreeMap<String, String>,
    /// The message for the reason box.
    pub reason: Option<String>,
    /// The message for the form as a whole.
    pub form: Option<String>,
}

fn s(v: &str) -> Arg {
    Arg::Str(v.to_owned())
}

/// A value's problem in the page's language.
pub fn value_message(e: &ValueError, locale: Locale) -> String {
    let (key, args): (&str, Vec<(&str, Arg)>) = match e {
        ValueError::Required => ("study-err-required", vec![]),
        ValueError::NotInteger(v) => ("study-err-integer", vec![("value", s(v))]),
        ValueError::NotNumber(v) => ("study-err-number", vec![("value", s(v))]),
        ValueError::Decimals { value, decimals } => (
            "study-err-decimals",
            vec![
                ("value", s(value)),
                ("decimals", Arg::Num(*decimals as f64)),
            ],
        ),
        ValueError::Temporal {
            value, expected, ..
        } => (
            "study-err-temporal",
            vec![("value", s(value)), ("expected", s(expected))],
        ),
        ValueError::Email(v) => ("study-err-email", vec![("value", s(v))]),
        ValueError::Text { value, validation } => (
            "study-err-text",
            vec![("value", s(value)), ("validation", s(validation))],
        ),
        ValueError::BelowMin { value, min } => (
            "study-err-below-min",
            vec![("value", s(value)), ("min", s(min))],
        ),
        ValueError::AboveMax { value, max } => (
            "study-err-above-max",
            vec![("value", s(value)), ("max", s(max))],
        ),
        ValueError::NotAChoice(v) => ("study-err-choice", vec![("value", s(v))]),
        ValueError::NotEnterable(_) => ("study-err-not-enterable", vec![]),
        ValueError::MissingCodeNotEnabled(v) => ("study-err-missing-code", vec![("value", s(v))]),
    };
    Catalog::global().text(locale, key, &args)
}

/// Where each part of a refusal goes.
pub fn place(e: &EntryError, locale: Locale) -> Placed {
    let cat = Catalog::global();
    let mut p = Placed::default();
    match e {
        EntryError::Invalid(list) => {
            for (name, v) in list {
                let var = name.split_once("___").map(|(v, _)| v).unwrap_or(name);
                p.fields
                    .entry(var.to_owned())
                    .or_insert_with(|| value_message(v, locale));
            }
            p.form = Some(cat.text(locale, "study-err-invalid", &[]));
        }
        EntryError::RequiredMissing { fields, .. } => {
            for f in fields {
                p.fields.insert(
                    f.clone(),
                    cat.text(locale, "study-err-required-complete", &[]),
                );
            }
            p.form = Some(cat.text(locale, "study-err-not-complete", &[]));
        }
        EntryError::ReasonRequired { .. } => {
            p.reason = Some(cat.text(locale, "study-err-reason", &[]));
        }
        EntryError::Locked { .. } => p.form = Some(cat.text(locale, "study-err-locked", &[])),
        EntryError::NotLocked { .. } => {
            p.form = Some(cat.text(locale, "study-err-not-locked", &[]))
        }
        EntryError::NoRight { right, .. } => {
            p.form = Some(cat.text(locale, "study-err-no-right", &[("right", s(right))]))
        }
        EntryError::OtherSite { record_site, .. } => {
            p.form = Some(cat.text(locale, "study-err-other-site", &[("site", s(record_site))]))
        }
        EntryError::UnknownField { field, .. } => {
            p.form = Some(cat.text(locale, "study-err-unknown-field", &[("field", s(field))]))
        }
        EntryError::NotReauthenticated => {
            p.form = Some(cat.text(locale, "study-err-password", &[]))
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_goes_to_its_place_in_each_language() {
        let e = EntryError::Invalid(vec![
            (
                "temp".into(),
                ValueError::AboveMax {
                    value: "50".into(),
                    max: "45".into(),
                },
            ),
            ("sym___9".into(), ValueError::NotAChoice("x".into())),
        ]);
        for l in Locale::ALL {
            let p = place(&e, l);
            assert!(p.fields["temp"].contains("50") && p.fields["temp"].contains("45"));
            assert!(
                p.fields.contains_key("sym"),
                "a checkbox option's problem is the field's"
            );
            assert!(
                !p.fields["temp"].contains('⟦'),
                "{l:?}: {}",
                p.fields["temp"]
            );
            assert!(p.form.is_some());
        }
        let r = place(
            &EntryError::ReasonRequired {
                form: "presentation".into(),
            },
            Locale::De,
        );
        assert!(r.reason.is_some() && r.form.is_none() && r.fields.is_empty());
    }
}
