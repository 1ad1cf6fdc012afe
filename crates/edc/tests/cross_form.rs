//! Logic over the whole record while one form is saved: a calculated field on one form from
//! values of another form (computed and stored on save, with history), branching that names
//! another event (`[event][var]`) deciding "required", hidden fields keeping their values
//! (listed, not erased), and missing-data codes on a checkbox (`var___ni`).

use chrono::{DateTime, TimeZone, Utc};
use kakehashi_edc::dictionary::{self, COLUMNS};
use kakehashi_edc::entry::{Actor, EntryError, FormData, FormStatus, MissingCode, RecordContext};
use kakehashi_edc::study::FormRights;

const BASE: &str = "baseline_arm_1";
const DAY7: &str = "day7_arm_1";

fn fields() -> Vec<dictionary::Field> {
    let rows = [
        "record_id,demog,,text,Record ID,,,,,,,,,,,,,",
        "sex,demog,,radio,Sex,\"1, Male | 2, Female\",,,,,,,,,,,,",
        "weight,demog,,text,Weight (kg),,,number,1,300,,,,,,,,",
        "height,demog,,text,Height (cm),,,integer,30,250,,,,,,,,",
        "onset,demog,,text,Onset,,,date_ymd,,,,,,,,,,",
        "bmi,vitals,,calc,BMI,\"round([weight]/(([height]/100)^2),1)\",,,,,,,,,,,,",
        "days_ill,vitals,,calc,Days ill at visit,\"datediff([onset],[visit],'d')\",,,,,,,,,,,,",
        "visit,vitals,,text,Visit date,,,date_ymd,,,,,,,,,,",
        "pregnant,followup,,yesno,Pregnant?,,,,,,,[baseline_arm_1][sex] = '2',y,,,,,",
        "sympt,followup,,checkbox,Symptoms,\"1, Fever | 2, Bleeding\",,,,,,,y,,,,,",
    ];
    let csv = format!(
        "{}\n{}\n",
        COLUMNS.map(|c| format!("\"{c}\"")).join(","),
        rows.join("\n")
    );
    dictionary::read_csv("t.csv", &csv).expect("valid")
}

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, min, 0)
        .single()
        .expect("time")
}

fn nurse() -> Actor {
    Actor {
        user: "nina".into(),
        full_name: "Nina N.".into(),
        site: "site_a".into(),
        all_sites: false,
        open_queries: false,
        rights: FormRights {
            view: true,
            edit: true,
            ..FormRights::default()
        },
    }
}

fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const ALL: &[MissingCode] = &MissingCode::ALL;

fn demog(values: &[(&str, &str)]) -> FormData {
    let fs = fields();
    let mut d = FormData::new("R1", "site_a", BASE, "demog", 1);
    d.save(
        &nurse(),
        &fs,
        ALL,
        &set(values),
        FormStatus::Incomplete,
        None,
        at(0),
    )
    .expect("demog saves");
    d
}

#[test]
fn a_calc_reads_another_form_and_is_stored_on_save() {
    let fs = fields();
    let others = [demog(&[
        ("weight", "70"),
        ("height", "175"),
        ("onset", "2026-12-01"),
    ])];
    let ctx = RecordContext {
        fields: &fs,
        missing: ALL,
        others: &others,
    };
    let mut v = FormData::new("R1", "site_a", BASE, "vitals", 1);
    let written = v
        .save_in(
            &ctx,
            &nurse(),
            &set(&[("visit", "2026-12-07")]),
            FormStatus::Incomplete,
            None,
            at(1),
        )
        .expect("saves");
    // 70 / 1.75^2 = 22.857 → 22.9; onset → visit = 6 days
    assert_eq!(v.values.get("bmi").map(String::as_str), Some("22.9"));
    assert_eq!(v.values.get("days_ill").map(String::as_str), Some("6"));
    let changed: Vec<&str> = written.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(changed, ["visit", "bmi", "days_ill"]);
    // an entered value for a calc is refused, as before
    let e = v
        .save_in(
            &ctx,
            &nurse(),
            &set(&[("bmi", "30")]),
            FormStatus::Incomplete,
            None,
            at(2),
        )
        .expect_err("calc is not entered");
    assert!(matches!(e, EntryError::Invalid(_)), "{e}");

    // the other form changes: the calc follows at this form's next save
    let others = [demog(&[
        ("weight", "80"),
        ("height", "175"),
        ("onset", "2026-12-01"),
    ])];
    let ctx = RecordContext {
        others: &others,
        ..ctx
    };
    let written = v
        .save_in(&ctx, &nurse(), &[], FormStatus::Unverified, None, at(3))
        .expect("re-saves");
    assert_eq!(v.values.get("bmi").map(String::as_str), Some("26.1"));
    assert_eq!(written.len(), 1);
    assert_eq!(
        (written[0].old.as_str(), written[0].new.as_str()),
        ("22.9", "26.1")
    );

    // the form alone (no other forms): the calc is blank, not a stale number
    let mut alone = v.clone();
    alone
        .save(&nurse(), &fs, ALL, &[], FormStatus::Unverified, None, at(4))
        .expect("saves alone");
    assert_eq!(alone.values.get("bmi"), None);
}

#[test]
fn branching_on_another_event_decides_required_and_hidden_values_are_kept() {
    let fs = fields();
    let female = [demog(&[("sex", "2")])];
    let male = [demog(&[("sex", "1")])];
    let ctx = |others| RecordContext {
        fields: &fs,
        missing: ALL,
        others,
    };
    let pregnant = fs.iter().find(|f| f.variable == "pregnant").expect("field");
    let mut fu = FormData::new("R1", "site_a", DAY7, "followup", 1);
    assert!(fu.is_shown_in(pregnant, &ctx(&female)));
    assert!(!fu.is_shown_in(pregnant, &ctx(&male)));

    // female at baseline: "pregnant" is shown at day 7 and required
    let e = fu
        .save_in(
            &ctx(&female),
            &nurse(),
            &set(&[("sympt___1", "1")]),
            FormStatus::Complete,
            None,
            at(1),
        )
        .expect_err("required");
    assert_eq!(
        e,
        EntryError::RequiredMissing {
            form: "followup".into(),
            fields: vec!["pregnant".into()]
        }
    );
    fu.save_in(
        &ctx(&female),
        &nurse(),
        &set(&[("sympt___1", "1"), ("pregnant", "1")]),
        FormStatus::Incomplete,
        None,
        at(2),
    )
    .expect("saves");
    // the form alone cannot see baseline: "pregnant" is hidden there, and completing passes
    let mut alone = fu.clone();
    alone
        .save(&nurse(), &fs, ALL, &[], FormStatus::Complete, None, at(3))
        .expect("complete alone");

    // baseline corrected to male: "pregnant" is hidden, its value kept and listed
    assert_eq!(fu.hidden_with_values(&ctx(&male)), ["pregnant"]);
    assert!(fu.hidden_with_values(&ctx(&female)).is_empty());
    fu.save_in(
        &ctx(&male),
        &nurse(),
        &[],
        FormStatus::Complete,
        None,
        at(4),
    )
    .expect("complete: the hidden field is not required");
    assert_eq!(fu.values.get("pregnant").map(String::as_str), Some("1"));
}

#[test]
fn a_checkbox_takes_missing_data_codes_as_extra_options() {
    let fs = fields();
    let ctx = RecordContext::alone(&fs, ALL);
    let mut fu = FormData::new("R1", "site_a", DAY7, "followup", 1);
    // a required checkbox with only a missing-data code ticked counts as answered
    fu.save_in(
        &ctx,
        &nurse(),
        &set(&[("sympt___unk", "1")]),
        FormStatus::Complete,
        None,
        at(1),
    )
    .expect("UNK ticked");
    assert_eq!(fu.values.get("sympt___unk").map(String::as_str), Some("1"));
    // a code the study does not use, or an unknown option, is refused by name
    let only_ni = RecordContext::alone(&fs, &[MissingCode::NoInformation]);
    let mut fresh = FormData::new("R1", "site_a", DAY7, "followup", 1);
    for bad in ["sympt___nask", "sympt___9"] {
        let e = fresh
            .save_in(
                &only_ni,
                &nurse(),
                &set(&[(bad, "1")]),
                FormStatus::Incomplete,
                None,
                at(2),
            )
            .expect_err(bad);
        assert_eq!(
            e,
            EntryError::UnknownField {
                field: bad.into(),
                form: "followup".into()
            }
        );
    }
    // nothing ticked: a required checkbox is empty
    let e = fresh
        .save_in(&only_ni, &nurse(), &[], FormStatus::Complete, None, at(3))
        .expect_err("required");
    assert!(matches!(e, EntryError::RequiredMissing { .. }), "{e}");
}
