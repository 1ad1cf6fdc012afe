//! The checks of a dictionary as a whole: names, duplicates, form order, choices, logic and
//! its references, bounds.

use super::{COLUMNS, DictionaryError, DictionaryErrors, Field, FieldType, Problem, err};
use crate::logic;
use std::collections::{BTreeMap, BTreeSet};

/// Checks a dictionary's fields as a whole: names, duplicates, form order, choices, logic and
/// its references, bounds. `lines[i]` is where field `i` was read (its position if empty).
pub fn check(fields: &[Field], lines: &[usize]) -> Vec<DictionaryError> {
    let line_of = |i: usize| lines.get(i).copied().unwrap_or(i + 1);
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut forms_done: BTreeSet<&str> = BTreeSet::new();
    let mut current_form: Option<&str> = None;
    for (i, f) in fields.iter().enumerate() {
        let line = line_of(i);
        let var = f.variable.as_str();
        if !logic::valid_name(var) || var.len() > 100 {
            out.push(err(line, var, COLUMNS[0], Problem::BadVariable(var.into())));
        }
        if let Some(first) = seen.insert(var, line) {
            out.push(err(line, var, COLUMNS[0], Problem::Duplicate(first)));
            seen.insert(var, first);
        }
        if !logic::valid_name(&f.form) {
            out.push(err(line, var, COLUMNS[1], Problem::BadForm(f.form.clone())));
        }
        if current_form != Some(f.form.as_str()) {
            if let Some(prev) = current_form {
                forms_done.insert(prev);
            }
            if forms_done.contains(f.form.as_str()) {
                out.push(err(
                    line,
                    var,
                    COLUMNS[1],
                    Problem::FormSplit(f.form.clone()),
                ));
            }
            current_form = Some(&f.form);
        }
        if f.field_type.has_choices() && f.choices.is_empty() {
            out.push(err(
                line,
                var,
                COLUMNS[5],
                Problem::NoChoices(f.field_type.as_str()),
            ));
        }
        if f.field_type == FieldType::Calc && f.calculation.trim().is_empty() {
            out.push(err(line, var, COLUMNS[5], Problem::NoCalculation));
        }
        if f.validation.is_some() && f.field_type != FieldType::Text {
            out.push(err(
                line,
                var,
                COLUMNS[7],
                Problem::ValidationOnNonText(f.field_type.as_str()),
            ));
        }
        if !f.alignment.is_empty() && !["RV", "RH", "LV", "LH"].contains(&f.alignment.as_str()) {
            out.push(err(
                line,
                var,
                COLUMNS[13],
                Problem::Alignment(f.alignment.clone()),
            ));
        }
        check_bounds(f, line, &mut out);
    }
    // Logic, once every variable is known.
    let by_name: BTreeMap<&str, &Field> = fields.iter().map(|f| (f.variable.as_str(), f)).collect();
    for (i, f) in fields.iter().enumerate() {
        let line = line_of(i);
        let mut logic_cells = vec![(11, f.branching.as_str())];
        if f.field_type == FieldType::Calc {
            logic_cells.push((5, f.calculation.as_str()));
        }
        for (col, src) in logic_cells {
            if src.trim().is_empty() {
                continue;
            }
            match logic::parse(src) {
                Err(e) => out.push(err(line, &f.variable, COLUMNS[col], Problem::Logic(e))),
                Ok(expr) => {
                    for v in expr.vars() {
                        match by_name.get(v.field.as_str()) {
                            None => out.push(err(
                                line,
                                &f.variable,
                                COLUMNS[col],
                                Problem::UnknownReference(v.field.clone()),
                            )),
                            Some(target) => {
                                if let Some(code) = &v.code
                                    && !target.choices.iter().any(|c| &c.code == code)
                                {
                                    out.push(err(
                                        line,
                                        &f.variable,
                                        COLUMNS[col],
                                        Problem::UnknownCode {
                                            field: v.field.clone(),
                                            code: code.clone(),
                                        },
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn check_bounds(f: &Field, line: usize, out: &mut Vec<DictionaryError>) {
    let Some(v) = f.validation else {
        return;
    };
    let mut parsed = Vec::new();
    for (col, b) in [(8, &f.min), (9, &f.max)] {
        if b.is_empty() {
            parsed.push(None);
            continue;
        }
        // REDCap also accepts `today`/`now` as date bounds.
        let ok = if v.is_numeric() {
            crate::entry::parse_number(b, v).map(Bound::Num)
        } else if v.is_temporal() {
            if b == "today" || b == "now" {
                Some(Bound::Now)
            } else {
                crate::entry::parse_temporal(b, v).map(Bound::Text)
            }
        } else {
            Some(Bound::Now)
        };
        match ok {
            Some(x) => parsed.push(Some(x)),
            None => {
                out.push(err(
                    line,
                    &f.variable,
                    COLUMNS[col],
                    Problem::Bound {
                        value: b.clone(),
                        validation: v.as_str(),
                    },
                ));
                parsed.push(None);
            }
        }
    }
    let too_high = match (&parsed[0], &parsed[1]) {
        (Some(Bound::Num(a)), Some(Bound::Num(b))) => a > b,
        (Some(Bound::Text(a)), Some(Bound::Text(b))) => a > b,
        _ => false,
    };
    if too_high {
        out.push(err(
            line,
            &f.variable,
            COLUMNS[8],
            Problem::MinAboveMax {
                min: f.min.clone(),
                max: f.max.clone(),
            },
        ));
    }
}

enum Bound {
    Num(f64),
    Text(String),
    Now,
}

/// Checks fields that did not come from a CSV (a study's JSON).
pub fn check_fields(source_name: &str, fields: &[Field]) -> Result<(), DictionaryErrors> {
    let mut problems = check(fields, &[]);
    if fields.is_empty() {
        problems.push(err(1, "", COLUMNS[0], Problem::Empty));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DictionaryErrors {
            source_name: source_name.into(),
            problems,
        })
    }
}
