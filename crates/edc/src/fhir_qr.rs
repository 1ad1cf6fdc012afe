//! A study's forms as FHIR R4 `Questionnaire`s and its saved form instances as
//! `QuestionnaireResponse`s, in one `collection` Bundle: for systems that read FHIR rather
//! than REDCap or ODM (the MII's and JIHS's FHIR stores, SDC form fillers).
//!
//! Mapping: text by its validation (integer → `integer`, numbers → `decimal`, dates → `date`,
//! time → `time`, others — date-times too, which REDCap stores without a time zone that FHIR's
//! `dateTime` would need — `string`), notes → `text`, dropdown and radio → `choice`,
//! checkbox → `choice` with `repeats`, yes/no and true/false → `boolean`, slider → `integer`,
//! calculations → read-only `decimal`, descriptive → `display`, file → `attachment` (never
//! answered: the hub keeps no files). Branching logic travels as the SDC
//! `enableWhenExpression` extension in REDCap's language (FHIR's `enableWhen` cannot say it).
//! A missing-data code is answered as a `v3-NullFlavor` coding. Identifying fields are not in
//! the study's forms at the hub, so they are in neither resource.

use crate::dictionary::Validation;
use crate::entry::{FormData, FormStatus, MissingCode};
use crate::{Field, FieldType, Study};
use serde::Serialize;

const NULL_FLAVOR: &str = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
const ENABLE_WHEN_EXPRESSION: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";

/// A coding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    /// Its system (the study's code list, or NullFlavor).
    pub system: String,
    /// The code.
    pub code: String,
    /// Its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// An expression (FHIR `Expression`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expression {
    /// The language (`text/x-redcap-logic`).
    pub language: String,
    /// The expression.
    pub expression: String,
}

/// An extension carrying an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    /// Its URL.
    pub url: String,
    /// The expression.
    #[serde(rename = "valueExpression")]
    pub value_expression: Expression,
}

/// An answer option of a choice item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerOption {
    /// The coding.
    #[serde(rename = "valueCoding")]
    pub value_coding: Coding,
}

/// One item of a Questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireItem {
    /// The field's variable name.
    pub link_id: String,
    /// Its label.
    pub text: String,
    /// The FHIR item type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Required.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Several answers (checkboxes).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeats: bool,
    /// Calculated, not entered.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// The choices.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_option: Vec<AnswerOption>,
    /// The branching logic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
}

/// A form as a Questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    /// Always `Questionnaire`.
    pub resource_type: &'static str,
    /// `<study>-<form>`.
    pub id: String,
    /// Its canonical URL.
    pub url: String,
    /// The study's protocol version.
    pub version: String,
    /// The form's label.
    pub title: String,
    /// `active`, `draft` or `retired` after the study's status.
    pub status: &'static str,
    /// The fields.
    pub item: Vec<QuestionnaireItem>,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Answer {
    /// Text.
    #[serde(rename = "valueString")]
    String(String),
    /// Whole number.
    #[serde(rename = "valueInteger")]
    Integer(i64),
    /// Decimal.
    #[serde(rename = "valueDecimal")]
    Decimal(f64),
    /// Date.
    #[serde(rename = "valueDate")]
    Date(String),
    /// Time.
    #[serde(rename = "valueTime")]
    Time(String),
    /// Yes or no.
    #[serde(rename = "valueBoolean")]
    Boolean(bool),
    /// A choice, or a missing-data code.
    #[serde(rename = "valueCoding")]
    Coding(Coding),
}

/// One answered item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    /// The field's variable name.
    pub link_id: String,
    /// The answers.
    pub answer: Vec<Answer>,
}

/// A FHIR identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    /// Its system.
    pub system: String,
    /// The value.
    pub value: String,
}

/// A reference by identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentifierReference {
    /// The identifier.
    pub identifier: Identifier,
}

/// A saved form instance as a QuestionnaireResponse.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    /// Always `QuestionnaireResponse`.
    pub resource_type: &'static str,
    /// `<study>-<record>-<event>-<form>-<instance>`, shortened to FHIR's 64 characters.
    pub id: String,
    /// The Questionnaire's canonical URL.
    pub questionnaire: String,
    /// `completed` for a complete form, else `in-progress`.
    pub status: &'static str,
    /// The subject by its pseudonym.
    pub subject: IdentifierReference,
    /// The last change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored: Option<String>,
    /// The answers.
    pub item: Vec<ResponseItem>,
}

/// A Bundle entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Resource {
    /// A form.
    Questionnaire(Questionnaire),
    /// A form instance.
    Response(QuestionnaireResponse),
}

/// A Bundle entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// `urn:uuid:`-less full URL: the canonical URL or `urn:kakehashi:…`.
    pub full_url: String,
    /// The resource.
    pub resource: Resource,
}

/// The export.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: &'static str,
    /// Always `collection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When it was made.
    pub timestamp: String,
    /// Questionnaires first, then the responses.
    pub entry: Vec<Entry>,
}

fn item_type(f: &Field) -> &'static str {
    match f.field_type {
        FieldType::Text => match f.validation {
            Some(Validation::Integer) => "integer",
            Some(
                Validation::Number
                | Validation::Number1dp
                | Validation::Number2dp
                | Validation::Number3dp
                | Validation::Number4dp
                | Validation::NumberCommaDecimal,
            ) => "decimal",
            Some(Validation::DateYmd | Validation::DateMdy | Validation::DateDmy) => "date",
            Some(Validation::Time) => "time",
            _ => "string",
        },
        FieldType::Notes => "text",
        FieldType::Dropdown | FieldType::Radio | FieldType::Checkbox | FieldType::Sql => "choice",
        FieldType::Yesno | FieldType::Truefalse => "boolean",
        FieldType::Slider => "integer",
        FieldType::Calc => "decimal",
        FieldType::Descriptive => "display",
        FieldType::File => "attachment",
    }
}

/// The canonical URL of a study's form.
pub fn questionnaire_url(base: &str, study: &Study, form: &str) -> String {
    format!(
        "{}/fhir/Questionnaire/{}-{form}",
        base.trim_end_matches('/'),
        study.id
    )
}

fn code_system(base: &str, study: &Study, variable: &str) -> String {
    format!(
        "{}/fhir/CodeSystem/{}-{variable}",
        base.trim_end_matches('/'),
        study.id
    )
}

/// A form as a Questionnaire; `base` is the hub's URL.
pub fn questionnaire(base: &str, study: &Study, form: &str) -> Questionnaire {
    let item = study
        .fields
        .iter()
        .filter(|f| f.form == form && !f.identifier)
        .map(|f| QuestionnaireItem {
            link_id: f.variable.clone(),
            text: if f.label.is_empty() {
                f.variable.clone()
            } else {
                f.label.clone()
            },
            kind: item_type(f),
            required: f.required,
            repeats: f.field_type == FieldType::Checkbox,
            read_only: f.field_type == FieldType::Calc,
            answer_option: if item_type(f) == "choice" {
                f.choices
                    .iter()
                    .map(|c| AnswerOption {
                        value_coding: Coding {
                            system: code_system(base, study, &f.variable),
                            code: c.code.clone(),
                            display: Some(c.label.clone()),
                        },
                    })
                    .collect()
            } else {
                Vec::new()
            },
            extension: if f.branching.trim().is_empty() {
                Vec::new()
            } else {
                vec![Extension {
                    url: ENABLE_WHEN_EXPRESSION.into(),
                    value_expression: Expression {
                        language: "text/x-redcap-logic".into(),
                        expression: f.branching.clone(),
                    },
                }]
            },
        })
        .collect();
    Questionnaire {
        resource_type: "Questionnaire",
        id: format!("{}-{form}", study.id),
        url: questionnaire_url(base, study, form),
        version: study.protocol_version.clone(),
        title: study.form_label(form),
        status: match study.status {
            crate::StudyStatus::Draft | crate::StudyStatus::Sleeping => "draft",
            crate::StudyStatus::Active => "active",
            crate::StudyStatus::Closed => "retired",
        },
        item,
    }
}

fn answer(base: &str, study: &Study, f: &Field, v: &str) -> Option<Answer> {
    if let Some(m) = MissingCode::parse(v) {
        return Some(Answer::Coding(Coding {
            system: NULL_FLAVOR.into(),
            code: m.code().into(),
            display: Some(m.label().into()),
        }));
    }
    Some(match item_type(f) {
        "integer" => Answer::Integer(v.trim().parse().ok()?),
        "decimal" => Answer::Decimal(v.trim().replace(',', ".").parse().ok()?),
        "date" => Answer::Date(v.trim().to_owned()),
        "time" => Answer::Time(match v.trim().len() {
            5 => format!("{}:00", v.trim()),
            _ => v.trim().to_owned(),
        }),
        "boolean" => Answer::Boolean(v.trim() == "1"),
        "choice" => Answer::Coding(Coding {
            system: code_system(base, study, &f.variable),
            code: v.to_owned(),
            display: f
                .choices
                .iter()
                .find(|c| c.code == v)
                .map(|c| c.label.clone()),
        }),
        "display" | "attachment" => return None,
        _ => Answer::String(v.to_owned()),
    })
}

/// A saved form instance as a QuestionnaireResponse.
pub fn response(base: &str, study: &Study, d: &FormData) -> QuestionnaireResponse {
    let mut item = Vec::new();
    for f in study
        .fields
        .iter()
        .filter(|f| f.form == d.form && !f.identifier)
    {
        let answers: Vec<Answer> = if f.field_type == FieldType::Checkbox {
            f.choices
                .iter()
                .filter(|c| {
                    d.values
                        .get(&format!("{}___{}", f.variable, c.code))
                        .is_some_and(|v| v == "1")
                })
                .filter_map(|c| answer(base, study, f, &c.code))
                .collect()
        } else {
            d.values
                .get(&f.variable)
                .filter(|v| !v.is_empty())
                .and_then(|v| answer(base, study, f, v))
                .into_iter()
                .collect()
        };
        if !answers.is_empty() {
            item.push(ResponseItem {
                link_id: f.variable.clone(),
                answer: answers,
            });
        }
    }
    let mut id = format!(
        "{}-{}-{}-{}-{}",
        study.id, d.record, d.event, d.form, d.instance
    )
    .replace('_', "-");
    if id.len() > 64 {
        // FHIR ids are at most 64 characters: keep a stable digest of the whole
        use sha2::{Digest, Sha256};
        id = hex::encode(&Sha256::digest(id.as_bytes())[..16]);
    }
    QuestionnaireResponse {
        resource_type: "QuestionnaireResponse",
        id,
        questionnaire: questionnaire_url(base, study, &d.form),
        status: if d.status == FormStatus::Complete {
            "completed"
        } else {
            "in-progress"
        },
        subject: IdentifierReference {
            identifier: Identifier {
                system: format!(
                    "{}/fhir/sid/{}-subject",
                    base.trim_end_matches('/'),
                    study.id
                ),
                value: d.record.clone(),
            },
        },
        authored: d
            .history
            .iter()
            .map(|h| h.at)
            .max()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        item,
    }
}

/// The study's forms and the saved instances `forms` as one collection Bundle.
pub fn bundle(base: &str, study: &Study, forms: &[FormData], now: &str) -> Bundle {
    let mut entry: Vec<Entry> = study
        .forms()
        .into_iter()
        .map(|form| {
            let q = questionnaire(base, study, form);
            Entry {
                full_url: q.url.clone(),
                resource: Resource::Questionnaire(q),
            }
        })
        .collect();
    for d in forms {
        let r = response(base, study, d);
        entry.push(Entry {
            full_url: format!(
                "{}/fhir/QuestionnaireResponse/{}",
                base.trim_end_matches('/'),
                r.id
            ),
            resource: Resource::Response(r),
        });
    }
    Bundle {
        resource_type: "Bundle",
        kind: "collection",
        timestamp: now.to_owned(),
        entry,
    }
}
