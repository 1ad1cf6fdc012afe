//! A study's metadata as CDISC ODM 1.3.2 XML (`FileType="Snapshot"`, `Granularity="Metadata"`),
//! valid against the ODM 1.3.2 schema shipped in `crates/edc/schema/odm-1.3.2/`.
//!
//! Mapping: each event is a `StudyEventDef` (in `Protocol` order), each form a `FormDef` with
//! one `ItemGroupDef`, each field an `ItemDef` (checkbox options become boolean items
//! `var___code`, as REDCap's export columns), choices a `CodeList`, labels `Question`s with one
//! `TranslatedText` per language, min/max `RangeCheck`s (soft, as REDCap warns), branching
//! logic a `ConditionDef` (ODM's condition says when an item is *not* collected, so it holds
//! `not(…)` of REDCap's show-if logic) and calculations `MethodDef`s, both as
//! `FormalExpression Context="REDCap"`. Descriptive fields carry no data and are left out.
//!
//! The writer is a few lines of escaping rather than an XML crate: the output is a fixed
//! shape, written once, and checked against the schema by the tests.

use crate::dictionary::{Field, FieldType, Validation};
use crate::study::Study;
use std::fmt::Write;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => {}
            // characters XML 1.0 does not allow
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn data_type(f: &Field) -> &'static str {
    match f.field_type {
        FieldType::Calc => "float",
        FieldType::Slider => "integer",
        FieldType::Yesno | FieldType::Truefalse => "integer",
        FieldType::Checkbox => "boolean",
        FieldType::Text => match f.validation {
            Some(Validation::Integer) => "integer",
            Some(v) if v.is_numeric() => "float",
            Some(Validation::DateYmd | Validation::DateDmy | Validation::DateMdy) => "date",
            Some(v) if v.is_temporal() => "datetime",
            Some(Validation::Time) => "time",
            _ => "text",
        },
        _ => "text",
    }
}

/// Question/Description with the English text and each translation.
fn translated(out: &mut String, elem: &str, en: &str, study: &Study, key: &str) {
    let _ = write!(
        out,
        "<{elem}><TranslatedText xml:lang=\"en\">{}</TranslatedText>",
        escape(en)
    );
    for lang in study.translations.keys() {
        if let Some(t) = study.translated(lang, key) {
            let _ = write!(
                out,
                "<TranslatedText xml:lang=\"{}\">{}</TranslatedText>",
                escape(lang),
                escape(t)
            );
        }
    }
    let _ = write!(out, "</{elem}>");
}

/// Writes the study's metadata as ODM 1.3.2. `created` is the file's `CreationDateTime`
/// (ISO 8601 with offset; the caller reads the clock).
pub fn write_metadata(study: &Study, created: &str) -> String {
    let mut o = String::new();
    open(&mut o, study, created, "Snapshot", "Metadata");
    write_study(&mut o, study);
    o.push_str("</ODM>\n");
    o
}

/// The XML declaration and the opening `ODM` element.
pub(crate) fn open(
    o: &mut String,
    study: &Study,
    created: &str,
    file_type: &str,
    granularity: &str,
) {
    let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        o,
        "<ODM xmlns=\"http://www.cdisc.org/ns/odm/v1.3\" ODMVersion=\"1.3.2\" FileType=\"{file_type}\" Granularity=\"{granularity}\" FileOID=\"{}\" CreationDateTime=\"{}\" SourceSystem=\"kakehashi\">",
        escape(&format!("kakehashi.{}", study.id)),
        escape(created)
    );
}

/// The metadata version's OID.
pub(crate) fn mdv_oid(study: &Study) -> String {
    format!("MDV.{}.{}", study.id, study.protocol_version)
}

/// The `Study` element with its metadata.
pub(crate) fn write_study(o: &mut String, study: &Study) {
    let mdv = mdv_oid(study);
    let _ = writeln!(o, "<Study OID=\"{}\">", escape(&format!("S.{}", study.id)));
    let _ = writeln!(
        o,
        "<GlobalVariables><StudyName>{}</StudyName><StudyDescription>{}</StudyDescription><ProtocolName>{}</ProtocolName></GlobalVariables>",
        escape(&study.acronym),
        escape(&study.title),
        escape(&format!("{} {}", study.acronym, study.protocol_version))
    );
    let _ = writeln!(
        o,
        "<MetaDataVersion OID=\"{}\" Name=\"{}\">",
        escape(&mdv),
        escape(&format!(
            "{} protocol {}",
            study.acronym, study.protocol_version
        ))
    );
    let events: Vec<_> = study.events().collect();
    o.push_str("<Protocol>");
    for (i, e) in events.iter().enumerate() {
        let _ = write!(
            o,
            "<StudyEventRef StudyEventOID=\"SE.{}\" OrderNumber=\"{}\" Mandatory=\"No\"/>",
            escape(&e.unique_name),
            i + 1
        );
    }
    o.push_str("</Protocol>\n");
    for e in &events {
        let _ = write!(
            o,
            "<StudyEventDef OID=\"SE.{}\" Name=\"{}\" Repeating=\"{}\" Type=\"Scheduled\">",
            escape(&e.unique_name),
            escape(&e.label),
            if e.repeating { "Yes" } else { "No" }
        );
        for (i, f) in e.forms.iter().enumerate() {
            let _ = write!(
                o,
                "<FormRef FormOID=\"F.{}\" OrderNumber=\"{}\" Mandatory=\"No\"/>",
                escape(f),
                i + 1
            );
        }
        o.push_str("</StudyEventDef>\n");
    }
    let forms = study.forms();
    for form in &forms {
        let repeating = study.repeating_forms.iter().any(|r| r.form == *form);
        let _ = writeln!(
            o,
            "<FormDef OID=\"F.{0}\" Name=\"{1}\" Repeating=\"{2}\"><ItemGroupRef ItemGroupOID=\"IG.{0}\" Mandatory=\"Yes\"/></FormDef>",
            escape(form),
            escape(&study.form_label(form)),
            if repeating { "Yes" } else { "No" }
        );
    }
    for form in &forms {
        let _ = write!(
            o,
            "<ItemGroupDef OID=\"IG.{0}\" Name=\"{0}\" Repeating=\"No\">",
            escape(form)
        );
        let mut order = 0;
        for f in study.fields.iter().filter(|f| &f.form == form) {
            for oid in item_oids(f) {
                order += 1;
                let _ = write!(
                    o,
                    "<ItemRef ItemOID=\"I.{}\" OrderNumber=\"{order}\" Mandatory=\"{}\"",
                    escape(&oid),
                    if f.required { "Yes" } else { "No" }
                );
                if f.field_type == FieldType::Calc {
                    let _ = write!(o, " MethodOID=\"M.{}\"", escape(&f.variable));
                }
                if !f.branching.trim().is_empty() {
                    let _ = write!(
                        o,
                        " CollectionExceptionConditionOID=\"C.{}\"",
                        escape(&f.variable)
                    );
                }
                o.push_str("/>");
            }
        }
        o.push_str("</ItemGroupDef>\n");
    }
    for f in &study.fields {
        write_items(o, f, study);
    }
    for f in study.fields.iter().filter(|f| {
        matches!(
            f.field_type,
            FieldType::Radio | FieldType::Dropdown | FieldType::Yesno | FieldType::Truefalse
        )
    }) {
        let _ = write!(
            o,
            "<CodeList OID=\"CL.{0}\" Name=\"{0}\" DataType=\"{1}\">",
            escape(&f.variable),
            if f.options().iter().all(|c| c.code.parse::<i64>().is_ok()) {
                "integer"
            } else {
                "text"
            }
        );
        for c in f.options() {
            let _ = write!(o, "<CodeListItem CodedValue=\"{}\">", escape(&c.code));
            translated(
                o,
                "Decode",
                &c.label,
                study,
                &format!("{}={}", f.variable, c.code),
            );
            o.push_str("</CodeListItem>");
        }
        o.push_str("</CodeList>\n");
    }
    for f in study
        .fields
        .iter()
        .filter(|f| !f.branching.trim().is_empty())
    {
        let _ = write!(
            o,
            "<ConditionDef OID=\"C.{0}\" Name=\"{0} not shown\">",
            escape(&f.variable)
        );
        translated(
            o,
            "Description",
            &format!("Not collected unless: {}", f.branching),
            study,
            "",
        );
        let _ = writeln!(
            o,
            "<FormalExpression Context=\"REDCap\">not({})</FormalExpression></ConditionDef>",
            escape(&f.branching)
        );
    }
    for f in study
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Calc)
    {
        let _ = write!(
            o,
            "<MethodDef OID=\"M.{0}\" Name=\"{0}\" Type=\"Computation\">",
            escape(&f.variable)
        );
        translated(o, "Description", &f.label, study, "");
        let _ = writeln!(
            o,
            "<FormalExpression Context=\"REDCap\">{}</FormalExpression></MethodDef>",
            escape(&f.calculation)
        );
    }
    o.push_str("</MetaDataVersion>\n</Study>\n");
}

/// The item OIDs (without `I.`) a field becomes.
pub(crate) fn item_oids(f: &Field) -> Vec<String> {
    match f.field_type {
        FieldType::Descriptive => Vec::new(),
        FieldType::Checkbox => f
            .choices
            .iter()
            .map(|c| format!("{}___{}", f.variable, c.code))
            .collect(),
        _ => vec![f.variable.clone()],
    }
}

fn write_items(o: &mut String, f: &Field, study: &Study) {
    let ty = data_type(f);
    let label = if f.label.is_empty() {
        &f.variable
    } else {
        &f.label
    };
    if f.field_type == FieldType::Checkbox {
        for c in &f.choices {
            let oid = format!("{}___{}", f.variable, c.code);
            let _ = write!(
                o,
                "<ItemDef OID=\"I.{0}\" Name=\"{0}\" DataType=\"boolean\">",
                escape(&oid)
            );
            translated(
                o,
                "Question",
                &format!("{label}: {}", c.label),
                study,
                &format!("{}={}", f.variable, c.code),
            );
            o.push_str("</ItemDef>\n");
        }
        return;
    }
    if item_oids(f).is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<ItemDef OID=\"I.{0}\" Name=\"{0}\" DataType=\"{ty}\">",
        escape(&f.variable)
    );
    translated(o, "Question", label, study, &f.variable);
    for (bound, cmp) in [(&f.min, "GE"), (&f.max, "LE")] {
        if !bound.is_empty() && bound != "today" && bound != "now" {
            let _ = write!(
                o,
                "<RangeCheck Comparator=\"{cmp}\" SoftHard=\"Soft\"><CheckValue>{}</CheckValue></RangeCheck>",
                escape(bound)
            );
        }
    }
    if matches!(
        f.field_type,
        FieldType::Radio | FieldType::Dropdown | FieldType::Yesno | FieldType::Truefalse
    ) {
        let _ = write!(
            o,
            "<CodeListRef CodeListOID=\"CL.{}\"/>",
            escape(&f.variable)
        );
    }
    o.push_str("</ItemDef>\n");
}
