//! The REDCap data dictionary: the 18-column CSV REDCap imports and exports, read into
//! [`Field`]s, checked, and written back.
//!
//! A dictionary is refused with every problem listed, each naming its CSV line, variable and
//! column: unknown field or validation types, duplicate or malformed variable names, bad
//! choices strings, logic that does not parse or refers to variables or checkbox codes the
//! dictionary lacks, min/max that do not fit the validation type.

mod types;

pub use types::{
    COLUMNS, Choice, ChoicesError, Field, FieldType, Validation, parse_choices, write_choices,
};

use crate::logic::{self, LogicError};
use std::collections::{BTreeMap, BTreeSet};

/// One problem of a dictionary: where, and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, field '{variable}', column '{column}': {problem}")]
pub struct DictionaryError {
    /// The line of the CSV (1 is the header), or the 1-based field position of a dictionary
    /// read from JSON.
    pub line: usize,
    /// The variable of that row (empty when it is the variable that is missing).
    pub variable: String,
    /// The column, by REDCap's name.
    pub column: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong in a dictionary cell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The header is not REDCap's 18 columns in order.
    #[error(
        "the header is not REDCap's data dictionary header (column {index} is '{found}', expected '{expected}')"
    )]
    Header {
        /// 1-based column.
        index: usize,
        /// What it says.
        found: String,
        /// What REDCap writes there.
        expected: &'static str,
    },
    /// A row with another number of cells.
    #[error("{0} cells, expected 18")]
    Cells(usize),
    /// The CSV does not read.
    #[error("unreadable CSV: {0}")]
    Csv(String),
    /// The dictionary has no fields.
    #[error("no fields")]
    Empty,
    /// Not a REDCap variable name.
    #[error(
        "'{0}' is not a variable name (lower-case letters, digits and '_', starting with a letter, at most 100 characters)"
    )]
    BadVariable(String),
    /// Not a form name.
    #[error(
        "'{0}' is not a form name (lower-case letters, digits and '_', starting with a letter)"
    )]
    BadForm(String),
    /// The variable appears twice.
    #[error("duplicate variable (first on line {0})")]
    Duplicate(usize),
    /// A form's fields are not contiguous.
    #[error(
        "form '{0}' continues after another form began (REDCap needs each form's fields together)"
    )]
    FormSplit(String),
    /// Unknown field type.
    #[error("unknown field type '{0}'")]
    FieldType(String),
    /// Unknown validation type.
    #[error("unknown validation type '{0}'")]
    Validation(String),
    /// Validation on a field that is not text.
    #[error("a {0} field takes no text validation")]
    ValidationOnNonText(&'static str),
    /// Choices that do not read.
    #[error("bad choices: {0}")]
    Choices(ChoicesError),
    /// Choices missing on a radio/dropdown/checkbox.
    #[error("a {0} field needs choices")]
    NoChoices(&'static str),
    /// A calc field without a formula.
    #[error("a calc field needs a calculation")]
    NoCalculation,
    /// Logic that does not parse.
    #[error("{0}")]
    Logic(LogicError),
    /// Logic naming a variable the dictionary lacks.
    #[error("refers to '[{0}]', which is not a field of this dictionary")]
    UnknownReference(String),
    /// Logic naming a checkbox option that does not exist.
    #[error("refers to '[{field}({code})]', but '{field}' has no checkbox option '{code}'")]
    UnknownCode {
        /// The field.
        field: String,
        /// The code.
        code: String,
    },
    /// A min or max that does not fit the validation type.
    #[error("'{value}' is not a valid {validation} bound")]
    Bound {
        /// The bound as written.
        value: String,
        /// The validation type.
        validation: &'static str,
    },
    /// Min above max.
    #[error("minimum '{min}' is above maximum '{max}'")]
    MinAboveMax {
        /// Min.
        min: String,
        /// Max.
        max: String,
    },
    /// A y/n column with something else.
    #[error("'{0}' is neither 'y' nor empty")]
    Flag(String),
    /// Custom alignment other than RV/RH/LV/LH.
    #[error("'{0}' is not one of RV, RH, LV, LH")]
    Alignment(String),
}

/// All problems of a dictionary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}: {} problem(s):\n{}", .problems.len(), .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct DictionaryErrors {
    /// The file or source read.
    pub source_name: String,
    /// The problems, in line order.
    pub problems: Vec<DictionaryError>,
}

/// Reads and checks a REDCap data dictionary CSV (a leading BOM is ignored).
pub fn read_csv(source_name: &str, text: &str) -> Result<Vec<Field>, DictionaryErrors> {
    let fail = |problems| DictionaryErrors {
        source_name: source_name.into(),
        problems,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    let mut lines = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(i + 1);
                problems.push(err(line, "", COLUMNS[0], Problem::Csv(e.to_string())));
                return Err(fail(problems));
            }
        };
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(i + 1);
        if i == 0 {
            for (k, expected) in COLUMNS.iter().enumerate() {
                let found = rec.get(k).unwrap_or("").trim();
                if found != *expected {
                    problems.push(err(
                        line,
                        "",
                        expected,
                        Problem::Header {
                            index: k + 1,
                            found: found.into(),
                            expected,
                        },
                    ));
                    return Err(fail(problems));
                }
            }
            continue;
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let variable = rec.get(0).unwrap_or("").trim().to_owned();
        if rec.len() != COLUMNS.len() {
            problems.push(err(line, &variable, COLUMNS[0], Problem::Cells(rec.len())));
        }
        let cell = |k: usize| rec.get(k).unwrap_or("").trim().to_owned();
        // A row with a bad cell is still kept, so that the logic of other rows that names it
        // is not reported as well.
        let (f, mut p) = row_to_field(line, &cell);
        problems.append(&mut p);
        fields.push(f);
        lines.push(line);
    }
    problems.extend(check(&fields, &lines));
    if fields.is_empty() && problems.is_empty() {
        problems.push(err(1, "", COLUMNS[0], Problem::Empty));
    }
    if problems.is_empty() {
        Ok(fields)
    } else {
        // One problem per cell: the row's own reading comes first (a choices string that
        // does not parse is not also reported as missing).
        problems.sort_by_key(|p| p.line);
        let mut seen = BTreeSet::new();
        problems.retain(|p| seen.insert((p.line, p.column)));
        Err(fail(problems))
    }
}

fn err(line: usize, variable: &str, column: &'static str, problem: Problem) -> DictionaryError {
    DictionaryError {
        line,
        variable: variable.into(),
        column,
        problem,
    }
}

fn flag(line: usize, var: &str, col: usize, s: &str, out: &mut Vec<DictionaryError>) -> bool {
    match s {
        "" => false,
        "y" | "Y" => true,
        other => {
            out.push(err(line, var, COLUMNS[col], Problem::Flag(other.into())));
            false
        }
    }
}

/// One row's cells into a field, and the cell-local problems (types, flags).
fn row_to_field(line: usize, cell: &dyn Fn(usize) -> String) -> (Field, Vec<DictionaryError>) {
    let mut p = Vec::new();
    let var = cell(0);
    let field_type = match FieldType::parse(&cell(3)) {
        Some(t) => t,
        None => {
            p.push(err(line, &var, COLUMNS[3], Problem::FieldType(cell(3))));
            FieldType::Text
        }
    };
    let mut f = Field::new(&var, &cell(1), field_type, &cell(4));
    f.section_header = cell(2);
    let choices = cell(5);
    if field_type.has_choices() {
        if choices.is_empty() {
            p.push(err(
                line,
                &var,
                COLUMNS[5],
                Problem::NoChoices(field_type.as_str()),
            ));
        } else {
            match parse_choices(&choices) {
                Ok(c) => f.choices = c,
                Err(e) => p.push(err(line, &var, COLUMNS[5], Problem::Choices(e))),
            }
        }
    } else {
        f.calculation = choices;
    }
    f.note = cell(6);
    let v = cell(7);
    if !v.is_empty() {
        if field_type == FieldType::Slider {
            f.slider_number = v;
        } else if field_type != FieldType::Text {
            p.push(err(
                line,
                &var,
                COLUMNS[7],
                Problem::ValidationOnNonText(field_type.as_str()),
            ));
        } else {
            match Validation::parse(&v) {
                Some(x) => f.validation = Some(x),
                None => p.push(err(line, &var, COLUMNS[7], Problem::Validation(v))),
            }
        }
    }
    f.min = cell(8);
    f.max = cell(9);
    f.identifier = flag(line, &var, 10, &cell(10), &mut p);
    f.branching = cell(11);
    f.required = flag(line, &var, 12, &cell(12), &mut p);
    f.alignment = cell(13);
    f.question_number = cell(14);
    f.matrix_group = cell(15);
    f.matrix_ranking = flag(line, &var, 16, &cell(16), &mut p);
    f.annotation = cell(17);
    (f, p)
}

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

/// Writes fields as a REDCap data dictionary CSV (REDCap's header; every cell quoted where
/// needed; `\n` line ends).
pub fn write_csv(fields: &[Field]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let yn = |b: bool| if b { "y" } else { "" };
    // Writing to a Vec<u8> cannot fail.
    let _ = w.write_record(COLUMNS);
    for f in fields {
        let validation = match (f.field_type, f.validation) {
            (FieldType::Slider, _) => f.slider_number.clone(),
            (_, Some(v)) => v.as_str().to_owned(),
            _ => String::new(),
        };
        let _ = w.write_record([
            f.variable.as_str(),
            &f.form,
            &f.section_header,
            f.field_type.as_str(),
            &f.label,
            &f.choices_column(),
            &f.note,
            &validation,
            &f.min,
            &f.max,
            yn(f.identifier),
            &f.branching,
            yn(f.required),
            &f.alignment,
            &f.question_number,
            &f.matrix_group,
            yn(f.matrix_ranking),
            &f.annotation,
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
