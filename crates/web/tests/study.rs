//! The EDC pages as HTML: the data-entry form (field types, branching evaluated server-side,
//! errors linked to their fields, missing-data codes, status, reason, lock and signature
//! controls, history), the study list, a study, the subject list and grid, in every language.

use chrono::{TimeZone, Utc};
use kakehashi_edc::Study;
use kakehashi_edc::dictionary::read_csv;
use kakehashi_edc::entry::{
    Actor, EntryError, FormData, FormStatus, Reauthenticated, SignatureMeaning, ValueError,
};
use kakehashi_edc::study::FormRights;
use kakehashi_web::Locale;
use kakehashi_web::i18n::MISSING_MARK;
use kakehashi_web::pages::{Chrome, Page, UserBadge, render};
use kakehashi_web::study::form::{FormContext, form_page};
use kakehashi_web::study::input::FormInput;
use kakehashi_web::study::subjects::{SubjectPage, SubjectRow, SubjectsPage};
use kakehashi_web::study::{MemberRow, StudiesPage, StudyPage, StudyRow};

const HEADER: &str = "\"Variable / Field Name\",\"Form Name\",\"Section Header\",\"Field Type\",\"Field Label\",\"Choices, Calculations, OR Slider Labels\",\"Field Note\",\"Text Validation Type OR Show Slider Number\",\"Text Validation Min\",\"Text Validation Max\",\"Identifier?\",\"Branching Logic (Show field only if...)\",\"Required Field?\",\"Custom Alignment\",\"Question Number (surveys only)\",\"Matrix Group Name\",\"Matrix Ranking?\",\"Field Annotation\"";

fn study() -> Study {
    let rows = [
        "intro,presentation,,descriptive,Enter what the chart says.,,,,,,,,,,,,,",
        "admdate,presentation,Admission,text,Admission date,,,date_dmy,,,,,y,,,,,",
        "fever,presentation,Signs,yesno,Fever,,,,,,,,y,,,,,",
        "temp,presentation,,text,Maximum temperature,,°C,number,25,45,,[fever] = '1',y,,,,,",
        "bleed,presentation,,radio,Bleeding,\"1, None | 2, Minor | 3, Major\",,,,,,,,,,,,",
        "sym,presentation,,checkbox,Symptoms,\"1, Headache | 2, Myalgia\",,,,,,,,,,,,",
        "route,presentation,,dropdown,Route,\"1, Tick bite | 2, Contact\",,,,,,,,,,,,",
        "comments,presentation,,notes,Comments,,,,,,,,,,,,,",
        "pain,presentation,,slider,Pain,None | Some | Worst,,number,,,,,,,,,,",
        "tempf,presentation,,calc,Temperature (°F),\"round([temp]*9/5+32,1)\",,,,,,,,,,,,",
        "scan,presentation,,file,Chest X-ray,,,,,,,,,,,,,",
        "outcome,outcome,,radio,Outcome,\"1, Discharged | 2, Died\",,,,,,,,,,,,",
    ];
    let csv = format!("{HEADER}\n{}\n", rows.join("\n"));
    let mut s = Study::from_dictionary("sfts", "SFTS registry", read_csv("t.csv", &csv).unwrap());
    for (k, de, ja) in [
        ("fever", "Fieber", "発熱"),
        ("temp", "Höchste Temperatur", "最高体温"),
        ("fever:section", "Zeichen", "徴候"),
        ("bleed=3", "Schwer", "重度"),
        ("form:presentation", "Aufnahme", "入院時"),
    ] {
        s.translations
            .entry("de".into())
            .or_default()
            .insert(k.into(), de.into());
        s.translations
            .entry("ja".into())
            .or_default()
            .insert(k.into(), ja.into());
    }
    s
}

fn actor() -> Actor {
    Actor {
        user: "dm".into(),
        full_name: "Dana Meyer".into(),
        site: "charite".into(),
        all_sites: true,
        open_queries: true,
        rights: FormRights {
            view: true,
            edit: true,
            lock: true,
            ..Default::default()
        },
    }
}

fn chrome(locale: Locale) -> Chrome {
    Chrome {
        locale,
        user: Some(UserBadge {
            name: "dm".into(),
            role: "researcher".into(),
        }),
        active: "studies".into(),
        path: "/studies/sfts".into(),
        csrf: "tok".into(),
        notice: None,
    }
}

fn ctx<'a>(
    s: &'a Study,
    d: &'a FormData,
    locale: Locale,
    entered: Option<&'a FormInput>,
    error: Option<&'a EntryError>,
) -> FormContext<'a> {
    FormContext {
        study: s,
        data: d,
        locale,
        entered,
        error,
        can_edit: true,
        can_lock: true,
        event_label: "Event 1".into(),
        version: "v1".into(),
        others: &[],
    }
}

fn html(
    s: &Study,
    d: &FormData,
    l: Locale,
    i: Option<&FormInput>,
    e: Option<&EntryError>,
) -> String {
    let p = form_page(&ctx(s, d, l, i, e));
    render(&Page::StudyForm(Box::new(p)), &chrome(l)).unwrap()
}

fn empty() -> FormData {
    FormData::new("S-1", "charite", "event_1_arm_1", "presentation", 1)
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn every_field_type_renders_accessibly() {
    let s = study();
    let h = html(&s, &empty(), Locale::En, None, None);
    // text with its format, labelled and described
    assert!(h.contains("<label for=\"f-admdate\">Admission date"));
    assert!(h.contains("placeholder=\"DD-MM-YYYY\""));
    assert!(h.contains("aria-describedby=\"note-admdate\""));
    // yes/no and radio as a fieldset with a legend; checkbox options named var___code
    assert!(h.contains("<legend>Fever"));
    assert!(h.contains("type=\"radio\" id=\"f-fever-1\" name=\"v_fever\" value=\"1\""));
    assert!(h.contains("name=\"v_sym___2\" value=\"1\""));
    assert!(h.contains("<input type=\"hidden\" name=\"version\" value=\"v1\">"));
    assert!(h.contains("<select id=\"f-route\" name=\"v_route\""));
    assert!(h.contains("<textarea id=\"f-comments\" name=\"v_comments\""));
    assert!(
        h.contains("type=\"number\" min=\"0\" max=\"100\""),
        "slider"
    );
    assert!(h.contains("<output id=\"f-tempf\">"), "calc is read-only");
    assert!(h.contains("File uploads are not supported"));
    assert!(h.contains("Enter what the chart says."), "descriptive text");
    // a required field is marked in words for screen readers
    assert!(h.contains("<span class=\"visually-hidden\">(required)</span>"));
    // a missing-data code per field, checkboxes too (saved as the option `sym___nask`)
    assert!(h.contains("<select id=\"m-admdate\" name=\"m_admdate\">"));
    assert!(h.contains("NASK: Not asked"));
    assert!(h.contains("<select id=\"m-sym\" name=\"m_sym\">"));
    // status and controls
    assert!(h.contains("<select id=\"form-status\" name=\"status\">"));
    assert!(h.contains("action=\"/studies/sfts/subjects/S-1/event_1_arm_1/presentation/1/lock\""));
    // only this form's fields
    assert!(!h.contains("f-outcome"));
}

#[test]
fn branching_hides_a_field_until_its_condition_holds() {
    let s = study();
    let mut d = empty();
    let h = html(&s, &d, Locale::En, None, None);
    assert!(
        !h.contains("id=\"f-temp\""),
        "temperature hidden without fever"
    );
    assert!(h.contains("One question is not shown"));
    let i = FormInput::from_pairs(&pairs(&[("shown", "fever"), ("v_fever", "1")])).unwrap();
    d.save(
        &actor(),
        &s.fields,
        &s.missing_codes,
        &i.changes(&s),
        FormStatus::Incomplete,
        None,
        Utc::now(),
    )
    .unwrap();
    let h = html(&s, &d, Locale::En, None, None);
    assert!(
        h.contains("id=\"f-temp\""),
        "temperature shown once fever is saved"
    );
    assert!(
        h.contains("Format: a number (decimal point). Range: 25 to 45."),
        "a number's hint in words"
    );
    assert!(
        !h.contains("inputmode=\"decimal\" value=\"\" placeholder"),
        "no placeholder for numbers"
    );
    // the calculation follows the saved value
    let i = FormInput::from_pairs(&pairs(&[("shown", "temp"), ("v_temp", "38.5")])).unwrap();
    d.save(
        &actor(),
        &s.fields,
        &s.missing_codes,
        &i.changes(&s),
        FormStatus::Incomplete,
        None,
        Utc::now(),
    )
    .unwrap();
    let h = html(&s, &d, Locale::En, None, None);
    assert!(
        h.contains("<output id=\"f-tempf\">101.3</output>"),
        "{}",
        &h[h.find("f-tempf").unwrap()..][..80]
    );
}

#[test]
fn a_refused_save_keeps_the_entries_and_links_each_error_to_its_field() {
    let s = study();
    let mut d = empty();
    let i = FormInput::from_pairs(&pairs(&[
        ("shown", "admdate"),
        ("shown", "fever"),
        ("shown", "temp"),
        ("v_admdate", "31-02-2026"),
        ("v_fever", "1"),
        ("v_temp", "50"),
        ("v_comments", "kept"),
        ("shown", "comments"),
        ("status", "complete"),
    ]))
    .unwrap();
    let e = d
        .save(
            &actor(),
            &s.fields,
            &s.missing_codes,
            &i.changes(&s),
            FormStatus::Complete,
            None,
            Utc::now(),
        )
        .unwrap_err();
    assert!(matches!(e, EntryError::Invalid(_)));
    assert!(d.values.is_empty(), "nothing saved");
    for l in Locale::ALL {
        let h = html(&s, &d, l, Some(&i), Some(&e));
        assert!(
            h.contains("value=\"31-02-2026\""),
            "{l}: the entry is re-shown"
        );
        assert!(h.contains("value=\"50\""));
        assert!(h.contains(">kept</textarea>"));
        assert!(
            h.contains("id=\"f-temp\""),
            "{l}: shown by the entered fever"
        );
        assert!(h.contains("aria-describedby=\"err-temp note-temp\" aria-invalid=\"true\""));
        let err = h.find("id=\"err-temp\"").unwrap();
        let field = h.find("id=\"f-temp\"").unwrap();
        assert!(
            err > field && err - field < 800,
            "{l}: the error is next to its field"
        );
        assert!(h.contains("id=\"err-admdate\""));
        assert!(h.contains("role=\"alert\" id=\"form-error\""));
        assert!(
            h.contains("<li><a href=\"#field-temp\">"),
            "{l}: the summary links to the field"
        );
        assert!(
            h.contains("<option value=\"complete\" selected>"),
            "{l}: status kept"
        );
    }
    let de = html(&s, &d, Locale::De, Some(&i), Some(&e));
    assert!(de.contains("„50“ liegt über dem Maximum 45."));
    let ja = html(&s, &d, Locale::Ja, Some(&i), Some(&e));
    assert!(ja.contains("「50」は最大値 45 を超えています。"));
    let _ = ValueError::Required;
}

#[test]
fn labels_follow_the_language_and_untranslated_text_is_marked_english() {
    let s = study();
    let mut d = empty();
    d.values.insert("fever".into(), "1".into());
    let de = html(&s, &d, Locale::De, None, None);
    assert!(de.contains("<legend>Fieber"));
    assert!(de.contains("Höchste Temperatur"));
    assert!(de.contains("<h1>Aufnahme</h1>"));
    assert!(de.contains("> Ja</label>"), "yes/no in the page's language");
    // admission date has no German text: English, marked
    assert!(de.contains(
        "<span lang=\"en\">Admission date</span> <span class=\"untranslated\">[nur Englisch]</span>"
    ));
    assert!(de.contains("Schwer") && de.contains("<span lang=\"en\">Minor</span>"));
    let ja = html(&s, &d, Locale::Ja, None, None);
    assert!(ja.contains("<legend>発熱") && ja.contains("[英語のみ]"));
    let en = html(&s, &d, Locale::En, None, None);
    assert!(
        !en.contains("class=\"untranslated\""),
        "English pages mark nothing"
    );
}

#[test]
fn a_complete_form_asks_for_a_reason_and_a_locked_one_offers_signing_and_shows_history() {
    let s = study();
    let mut d = empty();
    let a = actor();
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 9, 30, 0).unwrap();
    let ch = pairs(&[("admdate", "2026-05-30"), ("fever", "0"), ("bleed", "1")]);
    d.save(
        &a,
        &s.fields,
        &s.missing_codes,
        &ch,
        FormStatus::Complete,
        None,
        t,
    )
    .unwrap();
    let h = html(&s, &d, Locale::En, None, None);
    assert!(h.contains("The form is complete: give the reason for any change."));
    let e = d
        .save(
            &a,
            &s.fields,
            &s.missing_codes,
            &pairs(&[("bleed", "2")]),
            FormStatus::Complete,
            None,
            t,
        )
        .unwrap_err();
    let h = html(&s, &d, Locale::En, None, Some(&e));
    assert!(h.contains("id=\"reason-error\""));
    assert!(h.contains("aria-describedby=\"reason-error reason-hint\""));
    d.save(
        &a,
        &s.fields,
        &s.missing_codes,
        &pairs(&[("bleed", "2")]),
        FormStatus::Complete,
        Some("chart re-read"),
        t,
    )
    .unwrap();
    d.lock(&a, t).unwrap();
    d.sign(
        &a,
        Some(Reauthenticated::password_verified()),
        SignatureMeaning::Review,
        t,
    )
    .unwrap();
    let h = html(&s, &d, Locale::En, None, None);
    assert!(!h.contains("id=\"save\""), "no saving while locked");
    assert!(h.contains(" disabled>"), "inputs disabled while locked");
    assert!(h.contains("Locked by dm"));
    assert!(h.contains("<input id=\"sign-password\" name=\"password\" type=\"password\""));
    assert!(h.contains("<option value=\"approval\">I approve these data</option>"));
    assert!(h.contains("Dana Meyer (<code>dm</code>)"));
    assert!(h.contains("I have reviewed these data"));
    // history, newest first: bleed 1 → 2 with its reason
    let hist = &h[h.find("id=\"history\"").unwrap()..];
    assert!(
        hist.contains("Bleeding <code>bleed</code></td><td>1</td><td>2</td><td>chart re-read</td>"),
        "{hist}"
    );
    assert!(hist.find("chart re-read").unwrap() < hist.find("admdate").unwrap());
}

#[test]
fn a_missing_code_is_shown_as_chosen() {
    let s = study();
    let mut d = empty();
    d.values.insert("admdate".into(), "UNK".into());
    let h = html(&s, &d, Locale::En, None, None);
    assert!(h.contains("<option value=\"UNK\" selected>"));
    assert!(h.contains(
        "id=\"f-admdate\" name=\"v_admdate\" type=\"text\" inputmode=\"text\" value=\"\""
    ));
    // a checkbox's code is its extra option ticked
    d.values.insert("sym___nask".into(), "1".into());
    let h = html(&s, &d, Locale::En, None, None);
    let sym = &h[h.find("id=\"m-sym\"").unwrap()..];
    let sym = &sym[..sym.find("</select>").unwrap()];
    assert!(sym.contains("<option value=\"NASK\" selected>"), "{sym}");
    // and the form's input saves it so, the other codes cleared
    let pairs: Vec<(String, String)> = [("shown", "sym"), ("v_sym___1", "1"), ("m_sym", "UNK")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let changes = kakehashi_web::study::input::FormInput::from_pairs(&pairs)
        .unwrap()
        .changes(&s);
    assert!(changes.contains(&("sym___1".into(), "1".into())));
    assert!(changes.contains(&("sym___unk".into(), "1".into())));
    assert!(changes.contains(&("sym___nask".into(), String::new())));
}

#[test]
fn the_study_pages_render_in_every_language() {
    let s = study();
    let mut d = empty();
    d.values.insert("fever".into(), "1".into());
    let list = StudiesPage {
        studies: vec![StudyRow::new(
            "sfts",
            "SFTS registry",
            "SFTS",
            s.status,
            2,
            12,
            4,
            Some("data_manager"),
        )],
    };
    let one = StudyPage::new(
        &s,
        Locale::De,
        vec![MemberRow {
            user: "dm".into(),
            role: "data_manager".into(),
            site: String::new(),
        }],
        true,
    );
    let subjects = SubjectsPage {
        study: "sfts".into(),
        acronym: "SFTS".into(),
        subjects: vec![SubjectRow {
            record: "S-1".into(),
            site: "charite".into(),
            created: "2026-06-01".into(),
            status: "enrolled".into(),
        }],
        all_sites: false,
        site: "charite".into(),
        enrol_sites: vec![("charite".into(), "Charité".into())],
        record: "abc".into(),
        error: Some("no".into()),
    };
    let mut saved = FormData::new("S-1", "charite", "event_1_arm_1", "presentation", 1);
    saved.values.insert("fever".into(), "1".into());
    saved.status = FormStatus::Unverified;
    saved.lock = Some(kakehashi_edc::entry::Lock {
        user: "dm".into(),
        at: Utc::now(),
    });
    let g = kakehashi_edc::entry::subject::grid(&s, "S-1", &[saved]);
    let grid = SubjectPage::new(&s, Locale::Ja, "S-1", "charite", "enrolled", &g);
    for l in Locale::ALL {
        for p in [
            Page::Studies(list.clone()),
            Page::Study(Box::new(one.clone())),
            Page::StudySubjects(subjects.clone()),
            Page::StudySubject(grid.clone()),
            Page::StudyForm(Box::new(form_page(&ctx(&s, &d, l, None, None)))),
        ] {
            let h = render(&p, &chrome(l)).unwrap_or_else(|e| panic!("{l}: {e:#}"));
            if let Some(pos) = h.find(MISSING_MARK) {
                panic!(
                    "{l}: untranslated key near {}",
                    &h[pos..(pos + 60).min(h.len())]
                );
            }
            assert!(
                h.contains("href=\"/studies\" aria-current=\"page\""),
                "{l}: nav entry"
            );
        }
    }
    let h = render(&Page::StudySubject(grid), &chrome(Locale::En)).unwrap();
    assert!(h.contains("<li class=\"st-unverified\"><a href=\"/studies/sfts/subjects/S-1/event_1_arm_1/presentation/1\" id=\"cell-event_1_arm_1-presentation-1\">unverified, locked</a>"), "{h}");
    assert!(h.contains("st-empty"), "the outcome form has no data");
    let h = render(&Page::Study(Box::new(one)), &chrome(Locale::De)).unwrap();
    assert!(h.contains("format=redcap") && h.contains("format=odm"));
    assert!(h.contains("Aufnahme"));
}

#[test]
fn a_repeating_form_offers_its_next_instance_once_one_is_saved() {
    let mut s = study();
    s.repeating_forms.push(kakehashi_edc::study::RepeatingForm {
        event: "event_1_arm_1".into(),
        form: "outcome".into(),
    });
    let none = kakehashi_edc::entry::subject::grid(&s, "S-1", &[]);
    let h = render(
        &Page::StudySubject(SubjectPage::new(
            &s,
            Locale::En,
            "S-1",
            "charite",
            "enrolled",
            &none,
        )),
        &chrome(Locale::En),
    )
    .unwrap();
    assert!(h.contains("id=\"cell-event_1_arm_1-outcome-1\">no data</a>"));
    assert!(
        !h.contains("add an instance"),
        "nothing saved: instance 1 is the new one"
    );
    let mut one = FormData::new("S-1", "charite", "event_1_arm_1", "outcome", 1);
    one.values.insert("outcome".into(), "1".into());
    one.status = FormStatus::Complete;
    let g = kakehashi_edc::entry::subject::grid(&s, "S-1", &[one]);
    let h = render(
        &Page::StudySubject(SubjectPage::new(
            &s,
            Locale::En,
            "S-1",
            "charite",
            "enrolled",
            &g,
        )),
        &chrome(Locale::En),
    )
    .unwrap();
    assert!(
        h.contains("id=\"cell-event_1_arm_1-outcome-1\">#1: complete</a>"),
        "{h}"
    );
    assert!(h.contains(
        "<a href=\"/studies/sfts/subjects/S-1/event_1_arm_1/outcome/2\">add an instance</a>"
    ));
}

#[test]
fn a_field_whose_branching_reads_another_form_is_shown_from_the_records_other_forms() {
    let mut s = study();
    // the outcome form asks the cause of death only when the presentation recorded bleeding
    let mut cause = kakehashi_edc::Field::new(
        "cause",
        "outcome",
        kakehashi_edc::FieldType::Text,
        "Cause of death",
    );
    cause.branching = "[bleed] = '3'".into();
    s.fields.push(cause);
    let outcome = FormData::new("r1", "charite", "event_1_arm_1", "outcome", 1);
    let mut presentation = FormData::new("r1", "charite", "event_1_arm_1", "presentation", 1);
    let shown = |others: &[FormData]| {
        let c = FormContext {
            others,
            ..ctx(&s, &outcome, Locale::En, None, None)
        };
        form_page(&c).fields.iter().any(|f| f.var == "cause")
    };
    assert!(
        !shown(&[presentation.clone()]),
        "no bleeding recorded: hidden"
    );
    presentation.values.insert("bleed".into(), "3".into());
    assert!(
        shown(&[presentation]),
        "major bleeding on the other form: shown"
    );
}
