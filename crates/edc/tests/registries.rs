//! The shipped VHF and SFTS registries: built from ARC's VHF preset and the SFTS derivation
//! file, valid as studies and as REDCap dictionaries, with the list types expanded, the SFTS
//! changes applied, and a translation coverage report.

use kakehashi_edc::arc::{self, coverage, coverage_report, sfts_study, vhf_study};
use kakehashi_edc::dictionary::{self, FieldType};

#[test]
fn vhf_registry_is_a_valid_study_with_the_six_forms() {
    let s = vhf_study().expect("the VHF registry builds");
    s.validate("vhf").expect("valid");
    assert_eq!(
        s.forms(),
        [
            "presentation",
            "daily",
            "medication",
            "pathogen_testing",
            "outcome",
            "follow_up"
        ]
    );
    // 629 ARC rows of the preset and the 3 gate questions they name, plus the list expansions.
    let rows = arc::read_rows("ARC.csv", arc::ARC_CSV).expect("ARC reads");
    let (preset, added) = arc::select_preset(&rows, arc::VHF_PRESET_COLUMN);
    assert_eq!(preset.len(), 632);
    assert_eq!(
        added,
        ["inter_ivfluid", "labs_dailydata", "sympt_dailydata"]
    );
    assert!(s.fields.len() > 632, "{}", s.fields.len());
    println!(
        "VHF registry: {} fields in {} forms",
        s.fields.len(),
        s.forms().len()
    );
    // user_list: inclu_disease with its _otherl2/_otherl3.
    let f = |v: &str| {
        s.fields
            .iter()
            .find(|f| f.variable == v)
            .unwrap_or_else(|| panic!("{v}"))
    };
    let antiviral = f("medi_antiviralagent");
    assert!(
        antiviral
            .choices
            .iter()
            .any(|c| c.label == "Favipiravir" && c.code == "13")
    );
    assert!(antiviral.choices.iter().any(|c| c.label == "Ribavirin"));
    assert_eq!(
        antiviral.choices.last().map(|c| c.label.as_str()),
        Some("Other")
    );
    let l2 = f("medi_antiviralagent_otherl2");
    assert_eq!(l2.field_type, FieldType::Dropdown);
    assert!(
        l2.choices.iter().any(|c| c.label == "Aciclovir"),
        "not in the VHF preset: offered under Other"
    );
    assert_eq!(
        f("medi_antiviralagent_otherl3").branching,
        "[medi_antiviralagent_otherl2]='88'"
    );
    // multi_list → checkbox; Other is 88 unless the list uses 88 itself.
    assert_eq!(f("drug14_steroid_type").field_type, FieldType::Checkbox);
    let tested = f("test_pathtested");
    assert!(
        tested
            .choices
            .iter()
            .any(|c| c.label == "SFTS virus" && c.code == "329")
    );
    let other = tested.choices.last().expect("choices");
    assert_eq!((other.code.as_str(), other.label.as_str()), ("88", "Other"));
    let mut lists = arc::Lists::default();
    lists.add("t_t", "Item,Value\nA,1\nB,88\n");
    let rows = arc::read_rows(
        "t.csv",
        "Form,Section,Variable,Type,Question,Answer Options,Validation,Minimum,Maximum,List,Skip Logic,Completion Guideline,Standardized Term Codelist,Standardized Term Code,Identifier\nf,,v,user_list,Q,,,,,t_t,,,,,\n",
    )
    .expect("rows");
    let fields = arc::to_fields("t.csv", &rows, &lists, "preset_x").expect("fields");
    assert_eq!(
        fields[0].choices.last().map(|c| c.code.as_str()),
        Some("888")
    );
    // list → 5 entries.
    let list_row = f("compl_unlisted_4item");
    assert_eq!(list_row.field_type, FieldType::Dropdown);
    // The dictionary round-trips through REDCap's CSV.
    let csv = dictionary::write_csv(&s.fields);
    let back = dictionary::read_csv("vhf.csv", &csv).expect("reads back");
    assert_eq!(back, s.fields);
}

#[test]
fn sfts_registry_is_derived_by_the_data_file() {
    let vhf = vhf_study().expect("vhf");
    let s = sfts_study().expect("the SFTS registry builds");
    s.validate("sfts").expect("valid");
    let has = |v: &str| s.fields.iter().any(|f| f.variable == v);
    for v in [
        "sfts_expo_tickbite",
        "sfts_expo_animal",
        "sfts_expo_nosocomial",
        "sfts_expo_household",
        "sfts_thrombocytopenia",
        "sfts_leukopenia",
        "sfts_rtpcr",
        "sfts_igm",
        "sfts_igg",
        "sfts_favipiravir",
        "labs_creatineki",
        "labs_ldh",
        "labs_astsgot",
        "labs_altsgpt",
    ] {
        assert!(has(v), "{v}");
    }
    assert!(!has("vacci_ebola") && !has("diagn_ebola_type"));
    assert_eq!(s.fields.len(), vhf.fields.len() - 6 + 18);
    let onset = s
        .fields
        .iter()
        .find(|f| f.variable == "pres_onsetdate")
        .expect("onset");
    assert!(onset.required);
    // Logic naming an event the study lacks is refused (ARC's daily items name the
    // admission event: [initial_assessment_arm_1][demog_calcage_days]).
    let mut broken = s.clone();
    broken.arms[0].events[0].unique_name = "admission_arm_1".into();
    broken.arms[0].events[0].forms.clear();
    broken.arms[0].events.push(kakehashi_edc::study::Event {
        unique_name: "baseline_arm_1".into(),
        label: "Baseline".into(),
        day_offset: 0,
        window_before: 0,
        window_after: 0,
        repeating: false,
        forms: vec!["presentation".into()],
    });
    let e = broken.validate("broken").expect_err("unknown event");
    assert!(
        e.to_string()
            .contains("event 'initial_assessment_arm_1', which no arm has"),
        "{e}"
    );
    // The added items carry German and Japanese text; the report lists what has none.
    assert_eq!(
        s.translated("ja", "sfts_expo_tickbite"),
        Some("発症前14日間にマダニ刺咬がありましたか？")
    );
    assert_eq!(s.translated("de", "sfts_rtpcr=1"), Some("Positiv"));
    // Every label and choice the SFTS derivation adds has German and Japanese text.
    for f in s.fields.iter().filter(|f| f.variable.starts_with("sfts_")) {
        for lang in ["de", "ja"] {
            assert!(
                s.translated(lang, &f.variable).is_some(),
                "{lang} {}",
                f.variable
            );
            for c in f.options() {
                let key = format!("{}={}", f.variable, c.code);
                assert!(s.translated(lang, &key).is_some(), "{lang} {key}");
            }
        }
    }
    let c = coverage(&s, &["de", "ja"]);
    for lang in ["de", "ja"] {
        let missing = &c.missing[lang];
        assert!(
            !missing.iter().any(|k| k.starts_with("sfts_")
                || k.starts_with("form:")
                || k.ends_with(":section")),
            "{lang}: {missing:?}"
        );
        assert!(missing.len() < c.total);
    }
    let report = coverage_report(&s, &c);
    assert!(
        report.contains("| de |") && report.contains("`inclu_disease` (item)"),
        "{}",
        &report[..400]
    );
    println!(
        "SFTS registry: {} fields; de {} of {} translated, ja {} of {}",
        s.fields.len(),
        c.total - c.missing["de"].len(),
        c.total,
        c.total - c.missing["ja"].len(),
        c.total
    );
}

#[test]
fn a_derivation_naming_a_missing_field_or_leaving_logic_dangling_is_refused() {
    let base = arc::registry::vhf_fields().expect("vhf");
    let d = arc::Derivation::parse(
        "t.toml",
        "id='x'\ntitle='x'\nacronym='X'\nremove=['no_such_field']\n",
    )
    .expect("reads");
    let e = arc::derive("t.toml", &base, &d).expect_err("refused");
    assert!(e.to_string().contains("remove 'no_such_field'"), "{e}");
    // Removing vacci_ebola alone leaves [vacci_ebola]='1' in the fields after it.
    let d = arc::Derivation::parse(
        "t.toml",
        "id='x'\ntitle='x'\nacronym='X'\nremove=['vacci_ebola']\n",
    )
    .expect("reads");
    let e = arc::derive("t.toml", &base, &d).expect_err("refused");
    assert!(
        e.to_string().contains("field 'vacci_ebola_date'")
            && e.to_string().contains("[vacci_ebola]"),
        "{e}"
    );
    let e = arc::Derivation::parse("t.toml", "id='x'\ntitle='x'\nacronym='X'\nremov=['a']\n")
        .expect_err("unknown key");
    assert!(e.to_string().contains("remov"), "{e}");
}
