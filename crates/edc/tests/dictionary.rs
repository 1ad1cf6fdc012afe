//! REDCap data dictionaries: the header is REDCap's 18 columns in order (as in REDCap's
//! "Download the current Data Dictionary"), a dictionary round-trips, and each kind of bad
//! dictionary is refused naming its line, field and column.

use kakehashi_edc::dictionary::{self, COLUMNS, FieldType, Problem, Validation};

fn header() -> String {
    COLUMNS
        .iter()
        .map(|c| {
            if c.contains(',') {
                format!("\"{c}\"")
            } else {
                (*c).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

const GOOD: &[&str] = &[
    "record_id,enrolment,,text,Record ID,,,,,,,,,,,,,",
    "onset,enrolment,Onset,text,Onset date,,,date_dmy,2020-01-01,today,,,y,,,,,",
    "age,enrolment,,text,Age,,,integer,0,120,,,,RH,,,,",
    "symptoms,enrolment,,checkbox,Symptoms,\"1, Fever | 2, Bleeding | 88, Other\",,,,,,,,,,,,",
    "symptoms_oth,enrolment,,text,Other symptom,,,,,,,[symptoms(88)] = '1',,,,,,",
    "sex,enrolment,,radio,Sex,\"1, Male | 2, Female\",,,,,y,,,,,,,@HIDDEN",
    "bmi,enrolment,,calc,BMI,\"round([weight]/([height]/100)^2,1)\",,,,,,,,,,,,",
    "weight,enrolment,,text,Weight,,kg,number,0,500,,,,,,,,",
    "height,enrolment,,text,Height,,cm,number,30,250,,,,,,,,",
    "pregnant,enrolment,,yesno,Pregnant?,,,,,,,[sex] = '2' and [age] >= 12,,,,,,",
    "done,outcome,,descriptive,Thank you,,,,,,,,,,,,,",
];

fn dict(rows: &[&str]) -> String {
    let mut s = header();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

#[test]
fn the_header_is_redcaps_18_columns_in_order() {
    assert_eq!(COLUMNS.len(), 18);
    assert_eq!(COLUMNS[0], "Variable / Field Name");
    assert_eq!(COLUMNS[5], "Choices, Calculations, OR Slider Labels");
    assert_eq!(COLUMNS[7], "Text Validation Type OR Show Slider Number");
    assert_eq!(COLUMNS[11], "Branching Logic (Show field only if...)");
    assert_eq!(COLUMNS[17], "Field Annotation");
}

#[test]
fn a_valid_dictionary_reads_and_round_trips() {
    let fields = dictionary::read_csv("good.csv", &dict(GOOD)).expect("valid");
    assert_eq!(fields.len(), GOOD.len());
    assert_eq!(fields[1].validation, Some(Validation::DateDmy));
    assert!(fields[1].required);
    assert_eq!(fields[3].field_type, FieldType::Checkbox);
    assert_eq!(fields[3].choices[2].code, "88");
    assert!(fields[5].identifier);
    assert_eq!(fields[5].annotation, "@HIDDEN");
    assert_eq!(fields[6].calculation, "round([weight]/([height]/100)^2,1)");
    let out = dictionary::write_csv(&fields);
    assert!(out.starts_with(&header()));
    assert_eq!(
        dictionary::read_csv("out.csv", &out).expect("reads back"),
        fields
    );
    // A BOM (Excel's UTF-8) is accepted.
    assert!(dictionary::read_csv("bom.csv", &format!("\u{feff}{}", dict(GOOD))).is_ok());
}

/// Replaces row `i` of GOOD and returns the single problem.
fn refused(i: usize, row: &str) -> dictionary::DictionaryError {
    let mut rows = GOOD.to_vec();
    rows[i] = row;
    let e = dictionary::read_csv("bad.csv", &dict(&rows)).expect_err("refused");
    assert_eq!(e.problems.len(), 1, "{e}");
    let p = e.problems[0].clone();
    assert_eq!(p.line, i + 2, "{e}");
    p
}

#[test]
fn bad_dictionaries_are_refused_naming_line_field_and_column() {
    let p = refused(2, "age,enrolment,,number,Age,,,,,,,,,,,,,");
    assert_eq!((p.variable.as_str(), p.column), ("age", "Field Type"));
    assert_eq!(p.problem, Problem::FieldType("number".into()));

    let p = refused(10, "onset,outcome,,text,Onset again,,,,,,,,,,,,,");
    assert_eq!(p.problem, Problem::Duplicate(3));
    assert_eq!(
        p.to_string(),
        "line 12, field 'onset', column 'Variable / Field Name': duplicate variable (first on line 3)"
    );

    let p = refused(
        9,
        "pregnant,enrolment,,yesno,Pregnant?,,,,,,,[sex] = '2' and ([age] >= 12,,,,,,",
    );
    assert_eq!(p.column, "Branching Logic (Show field only if...)");
    let Problem::Logic(l) = &p.problem else {
        panic!("{p}")
    };
    assert_eq!(l.position, 17, "{p}");
    assert!(
        p.to_string().contains("field 'pregnant'")
            && p.to_string().contains("at character 17: '(' is not closed"),
        "{p}"
    );

    let p = refused(
        9,
        "pregnant,enrolment,,yesno,Pregnant?,,,,,,,[sexx] = '2',,,,,,",
    );
    assert_eq!(p.problem, Problem::UnknownReference("sexx".into()));
    let p = refused(
        4,
        "symptoms_oth,enrolment,,text,Other,,,,,,,[symptoms(99)] = '1',,,,,,",
    );
    assert_eq!(
        p.problem,
        Problem::UnknownCode {
            field: "symptoms".into(),
            code: "99".into()
        }
    );
    let p = refused(
        6,
        "bmi,enrolment,,calc,BMI,\"roundd([weight],1)\",,,,,,,,,,,,",
    );
    assert_eq!(p.column, "Choices, Calculations, OR Slider Labels");
    assert!(p.to_string().contains("unknown function 'roundd'"), "{p}");

    let p = refused(
        5,
        "sex,enrolment,,radio,Sex,\"1, Male | Female\",,,,,,,,,,,,",
    );
    assert!(matches!(p.problem, Problem::Choices(_)), "{p}");
    assert!(
        p.to_string()
            .contains("option 2 ('Female') is not 'code, label'"),
        "{p}"
    );
    let p = refused(
        5,
        "sex,enrolment,,radio,Sex,\"1, Male | 1, Female\",,,,,,,,,,,,",
    );
    assert!(
        p.to_string().contains("the code '1' is listed twice"),
        "{p}"
    );
    let p = refused(5, "sex,enrolment,,radio,Sex,,,,,,,,,,,,,");
    assert_eq!(p.problem, Problem::NoChoices("radio"));

    let p = refused(2, "age,enrolment,,text,Age,,,intger,0,120,,,,,,,,");
    assert_eq!(
        (p.column, p.problem.clone()),
        (
            "Text Validation Type OR Show Slider Number",
            Problem::Validation("intger".into())
        )
    );
    let p = refused(2, "age,enrolment,,text,Age,,,integer,zero,120,,,,,,,,");
    assert_eq!(p.column, "Text Validation Min");
    let p = refused(2, "age,enrolment,,text,Age,,,integer,130,120,,,,,,,,");
    assert!(matches!(p.problem, Problem::MinAboveMax { .. }), "{p}");
    let p = refused(10, "Done,outcome,,descriptive,Thank you,,,,,,,,,,,,,");
    assert_eq!(p.problem, Problem::BadVariable("Done".into()));
    let p = refused(2, "age,enrolment,,text,Age,,,,,,,,yes,,,,,");
    assert_eq!(
        (p.column, p.problem.clone()),
        ("Required Field?", Problem::Flag("yes".into()))
    );
    // A form whose fields are not together (REDCap refuses it too).
    let mut rows = GOOD.to_vec();
    rows[5] = "sex,outcome,,radio,Sex,\"1, Male | 2, Female\",,,,,,,,,,,,";
    let e = dictionary::read_csv("split.csv", &dict(&rows)).expect_err("refused");
    // enrolment continues at line 8 (bmi), and outcome again at line 12 (done).
    assert_eq!(e.problems.len(), 2, "{e}");
    assert_eq!(
        (e.problems[0].line, e.problems[0].problem.clone()),
        (8, Problem::FormSplit("enrolment".into()))
    );
    let p = refused(2, "age,enrolment,,text,Age,,,,,,,,,,,,");
    assert_eq!(p.problem, Problem::Cells(17));

    // A wrong header is refused at line 1, naming the column.
    let bad = dict(GOOD).replacen("Field Label", "Label", 1);
    let e = dictionary::read_csv("h.csv", &bad).expect_err("refused");
    assert_eq!(e.problems[0].line, 1);
    assert!(
        e.to_string()
            .contains("column 5 is 'Label', expected 'Field Label'"),
        "{e}"
    );
    // Several problems are all listed, in line order.
    let mut rows = GOOD.to_vec();
    rows[2] = "age,enrolment,,number,Age,,,,,,,,,,,,,";
    rows[9] = "pregnant,enrolment,,yesno,Pregnant?,,,,,,,[nope] = '2',,,,,,";
    let e = dictionary::read_csv("two.csv", &dict(&rows)).expect_err("refused");
    assert_eq!(
        e.problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        [4, 11]
    );
}
