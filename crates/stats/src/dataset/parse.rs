//! One variable as written → checked, with the field at fault.

use super::{CodePattern, Kind, SpecError, Variable, VariableWire, Window, age_band_labels, err};
use std::collections::BTreeSet;

pub(super) fn variable(
    i: usize,
    w: &VariableWire,
    before: &[Variable],
) -> Result<Variable, SpecError> {
    let at = |f: &str| format!("variables[{i}].{f}");
    let name_ok = w
        .name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && w.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
    if !name_ok || w.name == "offset" {
        return Err(err(
            at("name"),
            format!(
                "{:?} is not a variable name (letters, digits, _ and ., not starting with a digit)",
                w.name
            ),
        ));
    }
    if before.iter().any(|v| v.name == w.name) {
        return Err(err(at("name"), format!("{} is declared twice", w.name)));
    }
    let allowed: &[&str] = match w.kind.as_str() {
        "age_band" => &["breaks"],
        "sex" | "country" | "site" => &["levels"],
        "condition" => &["codes", "days_before", "days_after"],
        "lab" => &["codes", "pick", "unit", "days_before", "days_after"],
        "log" => &["of"],
        _ => &[],
    };
    let given = [
        ("levels", w.levels.is_some()),
        ("breaks", w.breaks.is_some()),
        ("codes", w.codes.is_some()),
        ("days_before", w.days_before.is_some()),
        ("days_after", w.days_after.is_some()),
        ("pick", w.pick.is_some()),
        ("unit", w.unit.is_some()),
        ("of", w.of.is_some()),
    ];
    if let Some((f, _)) = given.iter().find(|(f, g)| *g && !allowed.contains(f)) {
        return Err(err(
            at(f),
            format!("not used by a variable of kind {}", w.kind),
        ));
    }
    let window = Window {
        days_before: w.days_before,
        days_after: w.days_after,
    };
    let codes = |what: &str| -> Result<&Vec<String>, SpecError> {
        match &w.codes {
            Some(c) if !c.is_empty() && c.len() <= 1_000 => Ok(c),
            Some(c) if !c.is_empty() => {
                Err(err(at("codes"), format!("{} codes; at most 1000", c.len())))
            }
            _ => Err(err(at("codes"), format!("list at least one {what}"))),
        }
    };
    let kind = match w.kind.as_str() {
        "age_at_index" => Kind::AgeAtIndex,
        "age_band" => {
            let b = w.breaks.clone().unwrap_or_default();
            if b.is_empty() || b.windows(2).any(|p| p[0] >= p[1]) || b[0] == 0 {
                return Err(err(
                    at("breaks"),
                    "give ascending lower bounds in years, above 0 (18, 40, 60, 80)",
                ));
            }
            Kind::AgeBand(b)
        }
        "sex" => Kind::Sex,
        "country" => {
            if w.levels.as_ref().is_none_or(|l| l.len() < 2) {
                return Err(err(
                    at("levels"),
                    "declare the countries (DE, JP), the reference first",
                ));
            }
            Kind::Country
        }
        "site" => Kind::Site,
        "condition" => Kind::Condition {
            codes: codes("ICD-10 code or range")?
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    CodePattern::parse(c)
                        .map(|p| (c.clone(), p))
                        .map_err(|m| err(format!("variables[{i}].codes[{k}]"), m.to_string()))
                })
                .collect::<Result<_, _>>()?,
            window,
        },
        "lab" => Kind::Lab {
            codes: codes("system|code")?
                .iter()
                .enumerate()
                .map(|(k, c)| match c.split_once('|') {
                    Some((s, v)) if !s.is_empty() && !v.is_empty() => {
                        Ok((s.to_owned(), v.to_owned()))
                    }
                    _ => Err(err(
                        format!("variables[{i}].codes[{k}]"),
                        format!("{c:?} is not system|code (http://loinc.org|1988-5)"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            pick: w
                .pick
                .ok_or_else(|| err(at("pick"), "say which value: first, last, min or max"))?,
            unit: match &w.unit {
                Some(u) if !u.is_empty() => u.clone(),
                _ => {
                    return Err(err(
                        at("unit"),
                        "give the UCUM unit values are converted to (mg/L)",
                    ));
                }
            },
            window,
        },
        "icu_stay" => Kind::IcuStay,
        "length_of_stay" => Kind::LengthOfStay,
        "in_hospital_death" => Kind::InHospitalDeath,
        "log" => {
            let of = w.of.clone().unwrap_or_default();
            match before.iter().find(|v| v.name == of) {
                Some(v) if !v.kind.is_factor() => Kind::Log(of),
                Some(_) => return Err(err(at("of"), format!("{of} is categorical"))),
                None => {
                    return Err(err(
                        at("of"),
                        format!("{of:?} is not a variable declared before this one"),
                    ));
                }
            }
        }
        other => {
            return Err(err(
                at("kind"),
                format!(
                    "unknown kind {other:?} (age_at_index, age_band, sex, country, site, condition, lab, icu_stay, length_of_stay, in_hospital_death, log)"
                ),
            ));
        }
    };
    let levels = match (&kind, &w.levels) {
        (Kind::AgeBand(b), _) => Some(age_band_labels(b)),
        (Kind::Sex, None) => Some(vec!["female".into(), "male".into()]),
        (_, Some(l)) => {
            let mut seen = BTreeSet::new();
            if let Some(d) = l.iter().find(|x| !seen.insert(x.as_str())) {
                return Err(err(at("levels"), format!("{d:?} is listed twice")));
            }
            if l.len() < 2 {
                return Err(err(at("levels"), "a factor needs at least two levels"));
            }
            Some(l.clone())
        }
        (_, None) => None,
    };
    Ok(Variable {
        name: w.name.clone(),
        kind,
        levels,
    })
}
