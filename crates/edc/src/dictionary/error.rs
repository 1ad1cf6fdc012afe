//! What is wrong with a dictionary, and where.

use super::ChoicesError;
use crate::logic::LogicError;

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
