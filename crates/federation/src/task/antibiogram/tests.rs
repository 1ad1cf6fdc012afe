//! The antibiogram table both ways: a site's counts through the gate and back.

use super::*;
use kakehashi_amr::AntibiogramCounts;
use kakehashi_amr::pool::{MDRO_MEASURES, SiteCounts};
use kakehashi_amr::{CellCounts, MdroCounts};
use kakehashi_disclosure::{CountTable, GatedTable, TableError};
use kakehashi_disclosure::{Gate, Policy, Question};
use kakehashi_model::ProjectId;

fn spec(v: serde_json::Value) -> AntibiogramSpec {
    parse_spec(v).unwrap().spec().clone()
}

fn parse_spec(v: serde_json::Value) -> Result<super::AntibiogramRequest, String> {
    super::AntibiogramRequest::from_json(&v.to_string()).map_err(|e| e.to_string())
}

fn counts() -> AntibiogramCounts {
    AntibiogramCounts {
        guideline: "EUCAST 2025".parse().unwrap(),
        cells: vec![
            CellCounts {
                year: None,
                organism: "B_ESCHR_COLI".into(),
                antimicrobial: "CIP".into(),
                tested: 60,
                s: 40,
                i: 2,
                r: 17,
                sdd: 0,
                ni: 1,
            },
            CellCounts {
                year: None,
                organism: "B_ESCHR_COLI".into(),
                antimicrobial: "MEM".into(),
                tested: 58,
                s: 57,
                i: 0,
                r: 1,
                sdd: 0,
                ni: 0,
            },
        ],
        organisms: vec![MdroCounts {
            year: None,
            organism: "B_ESCHR_COLI".into(),
            isolates: 61,
            mdr: 9,
            mrgn3: 4,
            g3cr: 7,
            ..Default::default()
        }],
    }
}

fn open(min_count: u64) -> serde_json::Value {
    serde_json::json!({"projects": ["*"], "min_count": min_count, "rounding": 1, "noise": "off"})
}

fn release(policy: serde_json::Value, t: CountTable, sens: u32) -> GatedTable {
    let gate = Gate::new(
        serde_json::from_value::<Policy>(policy).unwrap(),
        [7; 32],
        Box::new(kakehashi_disclosure::MemoryLedger::new()),
    )
    .unwrap();
    let p = ProjectId::new("p1").unwrap();
    gate.release(
        &Question {
            project: &p,
            researcher: "r",
            key: &kakehashi_disclosure::RepeatKey::of_data("q", "s1"),
            sensitivity: sens,
        },
        t,
    )
    .unwrap()
    .into_inner()
}

#[test]
fn exact_release_round_trips_to_the_sites_counts() {
    let s = spec(
        serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["Escherichia coli"], "antimicrobials": ["Ciprofloxacin", "MEM", "Gentamicin"]}),
    );
    let (t, sens) = count_table(&s, &counts()).unwrap();
    assert_eq!(sens, 2 * (3 + 5), "two isolates per patient by default");
    let g = release(open(0), t, sens);
    let back = site_counts("a", "DE", &g).unwrap();
    let want = SiteCounts::exact("a", "DE", &counts());
    for c in &want.cells {
        assert!(back.cells.contains(c), "{c:?} not in {:?}", back.cells);
    }
    // the named grid: gentamicin is released as zeros although no isolate was tested
    let genta = back
        .cells
        .iter()
        .find(|c| c.antimicrobial == "GEN")
        .unwrap();
    assert_eq!((genta.tested, genta.r), (Some(0), Some(0)));
    assert_eq!(back.organisms, want.organisms);
}

#[test]
fn suppressed_counts_come_back_as_unknown_with_the_sites_minimum() {
    let s = spec(
        serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP", "MEM"]}),
    );
    let (t, sens) = count_table(&s, &counts()).unwrap();
    let g = release(open(5), t, sens);
    let back = site_counts("a", "DE", &g).unwrap();
    assert_eq!(back.min_count, 5);
    let mem = back
        .cells
        .iter()
        .find(|c| c.antimicrobial == "MEM")
        .unwrap();
    assert_eq!((mem.s, mem.r, mem.tested), (Some(57), None, None));
    let cip = back
        .cells
        .iter()
        .find(|c| c.antimicrobial == "CIP")
        .unwrap();
    assert_eq!((cip.s, cip.i, cip.r), (Some(40), None, Some(17)));
}

#[test]
fn an_open_spec_is_refused_and_by_year_grids_have_every_declared_year() {
    // refused when the request is made (at the hub, before any site computes), naming the list
    let open_json = serde_json::json!({"guideline": "EUCAST 2025", "by_year": true});
    let e = parse_spec(open_json.clone()).unwrap_err();
    assert!(e.contains("spec.organisms"), "{e}");
    let half = serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"]});
    let e = parse_spec(half).unwrap_err();
    assert!(e.contains("spec.antimicrobials"), "{e}");
    // and the released table refuses one too (a spec that bypassed the request)
    let open_spec: AntibiogramSpec = serde_json::from_value(open_json).unwrap();
    assert!(matches!(
        count_table(&open_spec, &counts()),
        Err(TableError::Undeclared(_))
    ));
    let s = spec(
        serde_json::json!({"guideline": "EUCAST 2025", "by_year": true, "organisms": ["E. coli"], "antimicrobials": ["CIP", "MEM"], "period": {"from": "2022-01-01", "to": "2024-12-31"}}),
    );
    let mut c = counts();
    for x in &mut c.cells {
        x.year = Some(2024);
    }
    c.organisms[0].year = Some(2024);
    let (t, sens) = count_table(&s, &c).unwrap();
    assert_eq!(sens, 2 * (2 + 5));
    // 2022 and 2023 have no isolate and are released all the same
    assert_eq!(t.len(), 3 * (2 * CATEGORIES.len() + MDRO_MEASURES.len()));
    // the grid is known before computing: a site's admission refuses it by its size
    assert_eq!(declared_cells(&s), Some(t.cells()));
    let pooled = AntibiogramSpec {
        by_year: false,
        ..s.clone()
    };
    assert_eq!(
        declared_cells(&pooled),
        Some(count_table(&pooled, &counts()).unwrap().0.cells())
    );
    let ten_thousand_years = AntibiogramSpec {
        period: kakehashi_amr::Period {
            from: "0001-01-01".parse().ok(),
            to: "9999-12-31".parse().ok(),
        },
        ..s.clone()
    };
    assert_eq!(
        declared_cells(&ten_thousand_years),
        Some(9999 * (2 * 5 + 10))
    );
    assert_eq!(declared_cells(&open_spec), None);
    let g = release(open(0), t, sens);
    let back = site_counts("a", "JP", &g).unwrap();
    let years: std::collections::BTreeSet<Option<i32>> =
        back.cells.iter().map(|c| c.year).collect();
    assert_eq!(
        years,
        std::collections::BTreeSet::from([Some(2022), Some(2023), Some(2024)])
    );
    // an organism code the reference does not know cannot become a row key
    c.cells[0].organism = "patient-123".into();
    assert!(count_table(&s, &c).is_err());
}

/// Without noise, an organism's isolates are withheld where they would give a single
/// withheld category away (all 61 isolates tested for one drug: 61 − 57 − 0 = 4 resistant).
#[test]
fn without_noise_isolates_do_not_give_a_withheld_category_away() {
    let s = spec(
        serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["MEM"]}),
    );
    let mut c = counts();
    c.cells.retain(|x| x.antimicrobial == "MEM");
    c.cells[0].s = 57;
    c.cells[0].r = 4;
    c.organisms[0].isolates = 61;
    let (t, sens) = count_table(&s, &c).unwrap();
    let back = site_counts("a", "DE", &release(open(5), t, sens)).unwrap();
    assert_eq!(back.cells[0].r, None);
    assert_eq!(back.organisms[0].counts["isolates"], None);
    c.organisms[0].isolates = 90;
    let (t, sens) = count_table(&s, &c).unwrap();
    let back = site_counts("a", "DE", &release(open(5), t, sens)).unwrap();
    assert_eq!(back.organisms[0].counts["isolates"], Some(90));
}

/// The sensitivity is per patient: k isolates, each under every nested listed organism.
#[test]
fn sensitivity_follows_k_and_nested_organisms() {
    let s = spec(
        serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["Enterobacterales", "E. coli"], "antimicrobials": ["CIP"], "max_isolates_per_patient": 3}),
    );
    let empty = AntibiogramCounts {
        guideline: s.guideline,
        cells: Vec::new(),
        organisms: Vec::new(),
    };
    let (_, sens) = count_table(&s, &empty).unwrap();
    assert_eq!(sens, 3 * 2 * (1 + 5));
    let flat = AntibiogramSpec {
        organisms: vec!["Klebsiella pneumoniae".into(), "E. coli".into()],
        ..s
    };
    assert_eq!(count_table(&flat, &empty).unwrap().1, 3 * (1 + 5));
    let e =
        parse_spec(serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP"], "max_isolates_per_patient": 0}))
            .unwrap_err();
    assert!(
        e.starts_with("spec.spec.max_isolates_per_patient: 0 is not"),
        "{e}"
    );
    // the same through the task's wire, as the hub reads it
    let e = crate::TaskSpec::from_json(
        r#"{"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP"], "max_isolates_per_patient": -1}}"#,
        "hub",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("spec.spec.max_isolates_per_patient: "), "{e}");
}

#[test]
fn bad_specs_name_the_field() {
    let e = parse_spec(
        serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli", "Unobtainium"], "antimicrobials": ["CIP"]}),
    )
    .unwrap_err();
    assert!(
        e.contains("organisms[1]") && e.contains("Unobtainium"),
        "{e}"
    );
    let e = parse_spec(serde_json::json!({"guideline": "EUCAST 1999", "organisms": ["E. coli"], "antimicrobials": ["CIP"]})).unwrap_err();
    assert!(e.contains("1999"), "{e}");
    let e =
        parse_spec(serde_json::json!({"guideline": "EUCAST 2025", "organisms": ["E. coli"], "antimicrobials": ["CIP"], "colour": "red"})).unwrap_err();
    assert!(e.starts_with("spec.spec.colour: "), "{e}");
}

#[test]
fn a_table_of_another_task_is_not_read_as_an_antibiogram() {
    let g = release(open(0), CountTable::scalar("patients", 3), 1);
    assert!(
        site_counts("a", "DE", &g)
            .unwrap_err()
            .to_string()
            .contains("not an antibiogram table")
    );
}
