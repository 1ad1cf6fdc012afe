//! REDCap's API shapes of a study's metadata: the keys and their order as REDCap writes them,
//! checkbox options as `var___code` columns (codes lower-cased, anything else `_`), each form's
//! `_complete`, no columns for calc/file/descriptive fields, the filters REDCap takes, and CSV
//! with REDCap's header.

use kakehashi_edc::api;
use kakehashi_edc::dictionary::{Choice, Field, FieldType};
use kakehashi_edc::study::{Arm, Event, RepeatingForm, Study};

fn study() -> Study {
    let mut cb = Field::new("symptoms", "intake", FieldType::Checkbox, "Symptoms");
    cb.choices = vec![
        Choice {
            code: "1".into(),
            label: "Fever".into(),
        },
        Choice {
            code: "Oth-2".into(),
            label: "Other".into(),
        },
    ];
    let mut calc = Field::new("bmi", "intake", FieldType::Calc, "BMI");
    calc.calculation = "[weight] / ([height] ^ 2)".into();
    let fields = vec![
        Field::new("record_id", "intake", FieldType::Text, "Record"),
        cb,
        Field::new("weight", "intake", FieldType::Text, "Weight"),
        Field::new("height", "intake", FieldType::Text, "Height"),
        calc,
        Field::new("note", "intake", FieldType::Descriptive, "Read this"),
        Field::new("day_temp", "daily", FieldType::Text, "Temperature"),
        Field::new("scan", "daily", FieldType::File, "Scan"),
    ];
    let mut s = Study::from_dictionary("t", "Test", fields);
    let ev = |n: &str, forms: &[&str], repeating: bool| Event {
        unique_name: n.into(),
        label: n.into(),
        day_offset: 0,
        window_before: 0,
        window_after: 0,
        repeating,
        forms: forms.iter().map(|f| (*f).into()).collect(),
    };
    s.arms = vec![
        Arm {
            number: 1,
            name: "Arm 1".into(),
            events: vec![
                ev("base_arm_1", &["intake", "daily"], false),
                ev("day_arm_1", &["daily"], true),
            ],
        },
        Arm {
            number: 2,
            name: "Arm 2".into(),
            events: vec![ev("base_arm_2", &["intake"], false)],
        },
    ];
    s.repeating_forms = vec![RepeatingForm {
        event: "base_arm_1".into(),
        form: "daily".into(),
    }];
    s
}

#[test]
fn export_field_names_are_redcaps_columns() {
    let s = study();
    let names: Vec<String> = api::export_field_names(&s, None)
        .into_iter()
        .map(|r| r.export_field_name)
        .collect();
    assert_eq!(
        names,
        [
            "record_id",
            "symptoms___1",
            "symptoms___oth_2",
            "weight",
            "height",
            "intake_complete",
            "day_temp",
            "daily_complete"
        ]
    );
    let one = api::export_field_names(&s, Some("symptoms"));
    assert_eq!(one.len(), 2);
    assert_eq!(one[1].choice_value, "Oth-2");
    assert_eq!(one[1].original_field_name, "symptoms");
}

#[test]
fn metadata_rows_have_redcaps_18_keys_in_order_and_filter_by_field_and_form() {
    let s = study();
    let rows = api::metadata(&s, &[], &[]);
    assert_eq!(rows.len(), 8);
    let v = serde_json::to_value(&rows[1]).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "field_name",
            "form_name",
            "section_header",
            "field_type",
            "field_label",
            "select_choices_or_calculations",
            "field_note",
            "text_validation_type_or_show_slider_number",
            "text_validation_min",
            "text_validation_max",
            "identifier",
            "branching_logic",
            "required_field",
            "custom_alignment",
            "question_number",
            "matrix_group_name",
            "matrix_ranking",
            "field_annotation"
        ]
    );
    assert_eq!(
        v["select_choices_or_calculations"],
        "1, Fever | Oth-2, Other"
    );
    assert_eq!(
        rows[4].select_choices_or_calculations,
        "[weight] / ([height] ^ 2)"
    );
    let some = api::metadata(&s, &["bmi".into()], &["daily".into()]);
    let names: Vec<&str> = some.iter().map(|r| r.field_name.as_str()).collect();
    assert_eq!(names, ["bmi", "day_temp", "scan"]);
}

#[test]
fn events_arms_mappings_and_repeats_follow_the_arms() {
    let s = study();
    let e = api::events(&s, &[]);
    assert_eq!(
        e.iter()
            .map(|e| (e.unique_event_name.as_str(), e.arm_num, e.event_id))
            .collect::<Vec<_>>(),
        [
            ("base_arm_1", 1, 1),
            ("day_arm_1", 1, 2),
            ("base_arm_2", 2, 3)
        ]
    );
    let only2 = api::events(&s, &[2]);
    assert_eq!(only2.len(), 1);
    assert_eq!(only2[0].event_id, 3, "ids do not change with the filter");
    assert_eq!(api::arms(&s, &[2]).len(), 1);
    let m = api::form_event_mapping(&s, &[1]);
    assert_eq!(
        m.iter()
            .map(|m| (m.unique_event_name.as_str(), m.form.as_str()))
            .collect::<Vec<_>>(),
        [
            ("base_arm_1", "intake"),
            ("base_arm_1", "daily"),
            ("day_arm_1", "daily")
        ]
    );
    let r = api::repeating(&s);
    assert_eq!(
        r.iter()
            .map(|r| (r.event_name.as_str(), r.form_name.as_str()))
            .collect::<Vec<_>>(),
        [("day_arm_1", ""), ("base_arm_1", "daily")],
        "the repeating event (form empty), then the repeating form"
    );
    let p = api::project(&s, 7, "2026-01-01 00:00:00");
    assert_eq!(p.is_longitudinal, 1);
    assert_eq!(p.has_repeating_instruments_or_events, 1);
    assert_eq!(p.in_production, 0, "a draft is not in production");
    assert_eq!(
        p.missing_data_codes,
        "NI, No information | UNK, Unknown | NASK, Not asked | NA, Not applicable"
    );
}

#[test]
fn csv_has_redcaps_header_and_quotes_where_needed() {
    let s = study();
    let csv = api::to_csv(&api::arms(&s, &[])).unwrap();
    assert_eq!(csv, "arm_num,name\n1,Arm 1\n2,Arm 2\n");
    let csv = api::to_csv(&api::metadata(&s, &["symptoms".into()], &[])).unwrap();
    assert!(
        csv.starts_with("field_name,form_name,section_header,field_type,"),
        "{csv}"
    );
    assert!(
        csv.contains("symptoms,intake,,checkbox,Symptoms,\"1, Fever | Oth-2, Other\","),
        "{csv}"
    );
    let none: Vec<api::ArmRow> = Vec::new();
    assert_eq!(api::to_csv(&none).unwrap(), "");
}
