//! A data dictionary's field: REDCap's 18 columns, typed.

use serde::{Deserialize, Serialize};

/// REDCap's data dictionary header, in its order (REDCap's "Data Dictionary" download).
pub const COLUMNS: [&str; 18] = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
];

/// REDCap's field types (the data dictionary's "Field Type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// One line of text, optionally validated.
    Text,
    /// Several lines of text.
    Notes,
    /// One choice from a list.
    Dropdown,
    /// One choice shown as radio buttons.
    Radio,
    /// Several choices; each option is its own `var___code` value.
    Checkbox,
    /// Yes (1) / No (0).
    Yesno,
    /// True (1) / False (0).
    Truefalse,
    /// An uploaded file.
    File,
    /// A slider 0–100.
    Slider,
    /// A calculation (the choices column holds the formula).
    Calc,
    /// Text shown, no value.
    Descriptive,
    /// A dropdown filled by an SQL query (REDCap admins only); kept to read dictionaries.
    Sql,
}

impl FieldType {
    /// The type written `s` in a dictionary.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Self::Text,
            "notes" => Self::Notes,
            "dropdown" => Self::Dropdown,
            "radio" => Self::Radio,
            "checkbox" => Self::Checkbox,
            "yesno" => Self::Yesno,
            "truefalse" => Self::Truefalse,
            "file" => Self::File,
            "slider" => Self::Slider,
            "calc" => Self::Calc,
            "descriptive" => Self::Descriptive,
            "sql" => Self::Sql,
            _ => return None,
        })
    }

    /// The dictionary spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Notes => "notes",
            Self::Dropdown => "dropdown",
            Self::Radio => "radio",
            Self::Checkbox => "checkbox",
            Self::Yesno => "yesno",
            Self::Truefalse => "truefalse",
            Self::File => "file",
            Self::Slider => "slider",
            Self::Calc => "calc",
            Self::Descriptive => "descriptive",
            Self::Sql => "sql",
        }
    }

    /// Whether the choices column holds a choice list.
    pub fn has_choices(self) -> bool {
        matches!(self, Self::Dropdown | Self::Radio | Self::Checkbox)
    }
}

/// REDCap's text validation types (those of a standard installation that studies use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// `YYYY-MM-DD`.
    DateYmd,
    /// `MM-DD-YYYY` as entered (stored Y-M-D).
    DateMdy,
    /// `DD-MM-YYYY` as entered (stored Y-M-D).
    DateDmy,
    /// `YYYY-MM-DD HH:MM`.
    DatetimeYmd,
    /// `MM-DD-YYYY HH:MM`.
    DatetimeMdy,
    /// `DD-MM-YYYY HH:MM`.
    DatetimeDmy,
    /// `YYYY-MM-DD HH:MM:SS`.
    DatetimeSecondsYmd,
    /// `MM-DD-YYYY HH:MM:SS`.
    DatetimeSecondsMdy,
    /// `DD-MM-YYYY HH:MM:SS`.
    DatetimeSecondsDmy,
    /// `HH:MM`.
    Time,
    /// `MM:SS`.
    TimeMmSs,
    /// A whole number.
    Integer,
    /// A number (decimal point).
    Number,
    /// A number with one decimal.
    Number1dp,
    /// A number with two decimals.
    Number2dp,
    /// A number with three decimals.
    Number3dp,
    /// A number with four decimals.
    Number4dp,
    /// A number with a decimal comma.
    NumberCommaDecimal,
    /// An e-mail address.
    Email,
    /// A (North American) phone number; kept to read dictionaries.
    Phone,
    /// A US ZIP code.
    Zipcode,
    /// Letters only.
    AlphaOnly,
}

impl Validation {
    /// All types with their dictionary spelling.
    pub const ALL: [(Validation, &'static str); 22] = [
        (Self::DateYmd, "date_ymd"),
        (Self::DateMdy, "date_mdy"),
        (Self::DateDmy, "date_dmy"),
        (Self::DatetimeYmd, "datetime_ymd"),
        (Self::DatetimeMdy, "datetime_mdy"),
        (Self::DatetimeDmy, "datetime_dmy"),
        (Self::DatetimeSecondsYmd, "datetime_seconds_ymd"),
        (Self::DatetimeSecondsMdy, "datetime_seconds_mdy"),
        (Self::DatetimeSecondsDmy, "datetime_seconds_dmy"),
        (Self::Time, "time"),
        (Self::TimeMmSs, "time_mm_ss"),
        (Self::Integer, "integer"),
        (Self::Number, "number"),
        (Self::Number1dp, "number_1dp"),
        (Self::Number2dp, "number_2dp"),
        (Self::Number3dp, "number_3dp"),
        (Self::Number4dp, "number_4dp"),
        (Self::NumberCommaDecimal, "number_comma_decimal"),
        (Self::Email, "email"),
        (Self::Phone, "phone"),
        (Self::Zipcode, "zipcode"),
        (Self::AlphaOnly, "alpha_only"),
    ];

    /// The type written `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(v, _)| *v)
    }

    /// The dictionary spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }

    /// Whether values are dates or date-times (min/max are dates then).
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            Self::DateYmd
                | Self::DateMdy
                | Self::DateDmy
                | Self::DatetimeYmd
                | Self::DatetimeMdy
                | Self::DatetimeDmy
                | Self::DatetimeSecondsYmd
                | Self::DatetimeSecondsMdy
                | Self::DatetimeSecondsDmy
        )
    }

    /// Whether values are numbers (min/max are numbers then).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Integer
                | Self::Number
                | Self::Number1dp
                | Self::Number2dp
                | Self::Number3dp
                | Self::Number4dp
                | Self::NumberCommaDecimal
        )
    }
}

/// One option of a radio, dropdown or checkbox field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The raw coded value (what is stored and what logic compares).
    pub code: String,
    /// The label shown.
    pub label: String,
}

/// One field (one dictionary row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Variable / Field Name.
    pub variable: String,
    /// Form Name (the instrument).
    pub form: String,
    /// Section Header shown above the field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub section_header: String,
    /// Field Type.
    pub field_type: FieldType,
    /// Field Label.
    pub label: String,
    /// Choices of a radio/dropdown/checkbox field, parsed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// The formula of a calc field, or slider labels.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub calculation: String,
    /// Field Note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Text Validation Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// The slider's "Show Slider Number" (`number`), which shares the validation column.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub slider_number: String,
    /// Text Validation Min.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub min: String,
    /// Text Validation Max.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max: String,
    /// Identifier? (identifying data: never leaves the site).
    #[serde(default)]
    pub identifier: bool,
    /// Branching Logic.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub branching: String,
    /// Required Field?
    #[serde(default)]
    pub required: bool,
    /// Custom Alignment (`RV`, `RH`, `LV`, `LH`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alignment: String,
    /// Question Number (surveys only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub question_number: String,
    /// Matrix Group Name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub matrix_group: String,
    /// Matrix Ranking?
    #[serde(default)]
    pub matrix_ranking: bool,
    /// Field Annotation (action tags, codes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub annotation: String,
}

impl Field {
    /// A field with the given name, form, type and label and nothing else set.
    pub fn new(variable: &str, form: &str, field_type: FieldType, label: &str) -> Self {
        Field {
            variable: variable.into(),
            form: form.into(),
            section_header: String::new(),
            field_type,
            label: label.into(),
            choices: Vec::new(),
            calculation: String::new(),
            note: String::new(),
            validation: None,
            slider_number: String::new(),
            min: String::new(),
            max: String::new(),
            identifier: false,
            branching: String::new(),
            required: false,
            alignment: String::new(),
            question_number: String::new(),
            matrix_group: String::new(),
            matrix_ranking: false,
            annotation: String::new(),
        }
    }

    /// The choices column as written: `code, label | code, label`, or the calculation.
    pub fn choices_column(&self) -> String {
        if self.field_type.has_choices() {
            write_choices(&self.choices)
        } else {
            self.calculation.clone()
        }
    }

    /// The options a value of this field may take (yes/no and true/false included).
    pub fn options(&self) -> Vec<Choice> {
        let c = |code: &str, label: &str| Choice {
            code: code.into(),
            label: label.into(),
        };
        match self.field_type {
            FieldType::Yesno => vec![c("1", "Yes"), c("0", "No")],
            FieldType::Truefalse => vec![c("1", "True"), c("0", "False")],
            _ => self.choices.clone(),
        }
    }
}

/// `code, label | code, label`.
pub fn write_choices(choices: &[Choice]) -> String {
    choices
        .iter()
        .map(|c| format!("{}, {}", c.code, c.label))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// What is wrong with a choices string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoicesError {
    /// Nothing listed.
    #[error("no choices listed")]
    Empty,
    /// An option without `code, label`.
    #[error("option {index} ('{text}') is not 'code, label'")]
    NoComma {
        /// 1-based option number.
        index: usize,
        /// The option as written.
        text: String,
    },
    /// An option with an empty code.
    #[error("option {index} has an empty code")]
    EmptyCode {
        /// 1-based option number.
        index: usize,
    },
    /// A code that is not letters, digits, `_`, `-` or `.` (checkbox codes also become
    /// column names `var___code`).
    #[error("option {index} has the code '{code}', which is not letters, digits, '_', '-' or '.'")]
    BadCode {
        /// 1-based option number.
        index: usize,
        /// The code.
        code: String,
    },
    /// The same code twice.
    #[error("the code '{0}' is listed twice")]
    Duplicate(String),
}

/// Reads REDCap's `code, label | code, label` (a newline also separates options, as in
/// dictionaries exported from older REDCap versions).
pub fn parse_choices(s: &str) -> Result<Vec<Choice>, ChoicesError> {
    let mut out: Vec<Choice> = Vec::new();
    for (i, part) in s.split(['|', '\n']).enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let index = i + 1;
        let Some((code, label)) = part.split_once(',') else {
            return Err(ChoicesError::NoComma {
                index,
                text: part.into(),
            });
        };
        let code = code.trim();
        if code.is_empty() {
            return Err(ChoicesError::EmptyCode { index });
        }
        if !code
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(ChoicesError::BadCode {
                index,
                code: code.into(),
            });
        }
        if out.iter().any(|c| c.code == code) {
            return Err(ChoicesError::Duplicate(code.into()));
        }
        out.push(Choice {
            code: code.into(),
            label: label.trim().into(),
        });
    }
    if out.is_empty() {
        return Err(ChoicesError::Empty);
    }
    Ok(out)
}
