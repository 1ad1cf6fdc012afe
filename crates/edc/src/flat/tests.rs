use super::*;
use crate::arc::registry;

fn study() -> Study {
    registry::vhf_study().unwrap()
}

fn checkbox(s: &Study) -> &Field {
    s.fields
        .iter()
        .find(|f| f.field_type == FieldType::Checkbox && f.form == "presentation")
        .unwrap()
}

#[test]
fn columns_follow_redcaps_order() {
    let s = study();
    let c = columns(
        &s,
        &ExportOptions {
            dags: true,
            ..Default::default()
        },
    );
    assert_eq!(
        &c[..5],
        [
            record_id_field(&s),
            EVENT,
            REPEAT_INSTRUMENT,
            REPEAT_INSTANCE,
            DAG
        ]
    );
    let cb = checkbox(&s);
    let first = format!("{}___{}", cb.variable, cb.choices[0].code);
    assert!(c.contains(&first));
    assert!(!c.contains(&cb.variable));
    let pres_end = c.iter().position(|x| x == "presentation_complete").unwrap();
    let daily_first = s.fields.iter().find(|f| f.form == "daily").unwrap();
    assert!(c.iter().position(|x| x == &daily_first.variable).unwrap() > pres_end);
    // fields[]: those fields only, no form status unless asked
    let only = columns(
        &s,
        &ExportOptions {
            fields: vec!["demog_age".into()],
            ..Default::default()
        },
    );
    assert_eq!(
        only,
        [
            record_id_field(&s),
            EVENT,
            REPEAT_INSTRUMENT,
            REPEAT_INSTANCE,
            "demog_age"
        ]
    );
}

#[test]
fn rows_round_trip_and_refusals_name_record_field_and_value() {
    let s = study();
    let cb = checkbox(&s);
    let tick = format!("{}___{}", cb.variable, cb.choices[0].code);
    let mut pres = FormData::new("r1", "de_a", "initial_assessment_arm_1", "presentation", 1);
    pres.values.insert("demog_age".into(), "41".into());
    pres.values.insert("demog_sex".into(), "2".into());
    pres.values.insert(tick.clone(), "1".into());
    pres.status = FormStatus::Unverified;
    let mut med1 = FormData::new("r1", "de_a", "summary_medication_arm_1", "medication", 1);
    let med_field = s
        .fields
        .iter()
        .find(|f| {
            f.form == "medication" && f.field_type == FieldType::Text && f.validation.is_none()
        })
        .unwrap();
    med1.values
        .insert(med_field.variable.clone(), "favipiravir".into());
    let mut med2 = med1.clone();
    med2.instance = 2;
    med2.values
        .insert(med_field.variable.clone(), "ribavirin".into());
    let forms = [pres, med1, med2];
    let rec = FlatRecord {
        record: "r1",
        site: "de_a",
        forms: &forms,
    };
    let (cols, rows) = export(&s, &[rec], &ExportOptions::default());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][EVENT], "initial_assessment_arm_1");
    assert_eq!(rows[0]["demog_age"], "41");
    assert_eq!(rows[0][&tick], "1");
    assert_eq!(rows[0]["presentation_complete"], "1");
    assert_eq!(rows[1][REPEAT_INSTRUMENT], "medication");
    assert_eq!(rows[2][REPEAT_INSTANCE], "2");
    assert_eq!(rows[2][&med_field.variable], "ribavirin");
    // CSV keeps the column order
    let csv = to_csv(&cols, &rows);
    assert!(csv.starts_with(&format!("{},{EVENT},", record_id_field(&s))));

    // back: the same changes per form instance
    let back = import(&s, &rows, Overwrite::Normal).unwrap();
    let pres_back = back.iter().find(|f| f.form == "presentation").unwrap();
    assert!(
        pres_back
            .changes
            .contains(&("demog_age".into(), "41".into()))
    );
    assert_eq!(pres_back.status, Some(FormStatus::Unverified));
    assert_eq!(back.iter().filter(|f| f.form == "medication").count(), 2);

    // filterLogic on a row
    let filter = Some(crate::logic::parse("[demog_age] > 40").unwrap());
    let (_, hit) = export(
        &s,
        &[rec],
        &ExportOptions {
            filter,
            ..Default::default()
        },
    );
    assert_eq!(hit.len(), 1);

    // refusals: unknown columns; wrong code, date, event, all named
    let mut bad = rows[0].clone();
    bad.insert("no_such_field".into(), "1".into());
    assert_eq!(
        import(&s, &[bad], Overwrite::Normal)
            .unwrap_err()
            .to_string(),
        "The following fields were not found in the project as real data fields: no_such_field"
    );
    let mut bad = rows[0].clone();
    bad.insert("demog_sex".into(), "9".into());
    bad.insert("pres_onsetdate".into(), "2026-02-30".into());
    let e = import(&s, &[bad], Overwrite::Normal)
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"r1\",\"demog_sex\",\"9\","), "{e}");
    assert!(
        e.contains("\"r1\",\"pres_onsetdate\",\"2026-02-30\","),
        "{e}"
    );
    let mut bad = rows[0].clone();
    bad.insert(EVENT.into(), "nowhere_arm_1".into());
    let e = import(&s, &[bad], Overwrite::Normal)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'nowhere_arm_1' is not valid"), "{e}");
    let mut bad = rows[1].clone();
    bad.insert(REPEAT_INSTRUMENT.into(), "presentation".into());
    assert!(import(&s, &[bad], Overwrite::Normal).is_err());

    // overwrite: blanks clear; normal: blanks are left out
    let mut blank = rows[0].clone();
    blank.insert("demog_age".into(), String::new());
    let n = import(&s, std::slice::from_ref(&blank), Overwrite::Normal).unwrap();
    assert!(!n[0].changes.iter().any(|(k, _)| k == "demog_age"));
    let o = import(&s, &[blank], Overwrite::Overwrite).unwrap();
    let pres_o = o.iter().find(|f| f.form == "presentation").unwrap();
    assert!(
        pres_o
            .changes
            .contains(&("demog_age".into(), String::new()))
    );
}

#[test]
fn a_checkbox_missing_code_is_a_column_only_when_used_and_imports_back() {
    let s = study();
    let cb = checkbox(&s);
    let last = format!(
        "{}___{}",
        cb.variable,
        cb.choices.last().map(|c| c.code.as_str()).unwrap_or("")
    );
    let unk = format!("{}___unk", cb.variable);
    let mut pres = FormData::new("r1", "de_a", "initial_assessment_arm_1", "presentation", 1);
    pres.values.insert("demog_age".into(), "41".into());
    let plain = [pres.clone()];
    let rec = |forms| FlatRecord {
        record: "r1",
        site: "de_a",
        forms,
    };
    let (cols, _) = export(&s, &[rec(&plain)], &ExportOptions::default());
    assert!(
        !cols
            .iter()
            .any(|c| c.starts_with(&format!("{}___", cb.variable)) && c.ends_with("unk"))
    );
    pres.values.insert(unk.clone(), "1".into());
    let used = [pres];
    let (cols, rows) = export(&s, &[rec(&used)], &ExportOptions::default());
    // right after the checkbox's own options, as REDCap puts it
    let at = cols.iter().position(|c| c == &last).unwrap();
    assert_eq!(cols[at + 1], unk);
    assert_eq!(rows[0][&unk], "1");
    let back = import(&s, &rows, Overwrite::Normal).unwrap();
    assert!(back[0].changes.contains(&(unk.clone(), "1".into())));
}
