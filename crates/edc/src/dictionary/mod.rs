//! The REDCap data dictionary: the 18-column CSV REDCap imports and exports, read into
//! [`Field`]s, checked, and written back.
//!
//! A dictionary is refused with every problem listed, each naming its CSV line, variable and
//! column: unknown field or validation types, duplicate or malformed variable names, bad
//! choices strings, logic that does not parse or refers to variables or checkbox codes the
//! dictionary lacks, min/max that do not fit the validation type.

mod check;
mod error;
mod types;

pub use check::{check, check_fields};
pub use error::{DictionaryError, DictionaryErrors, Problem};
pub use types::{
    COLUMNS, Choice, ChoicesError, Field, FieldType, Validation, parse_choices, write_choices,
};

use std::collections::BTreeSet;

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

pub(crate) fn err(
    line: usize,
    variable: &str,
    column: &'static str,
    problem: Problem,
) -> DictionaryError {
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
