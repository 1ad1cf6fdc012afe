//! Counting rules: leaves only, the window, the minimum of aliquots, per-donor caps.

use super::*;
use kakehashi_biobank::criteria::DiagnosisWindow;
use kakehashi_biobank::icd10::Icd10;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn spec(id: &str, p: &str, m: MaterialType, day: &str, org: &str) -> SpecimenRecord {
    SpecimenRecord {
        id: id.into(),
        patient: p.into(),
        material: Some(m),
        collected: Some(d(day)),
        storage: Some(StorageTemperature::DeepFreezer),
        storage_since: None,
        aliquots: 1,
        organisation: Some(org.into()),
        parent: None,
        volume_ul: None,
    }
}

const CAPS: Caps = Caps {
    cells: 2,
    samples: 5,
};

#[test]
fn parents_count_as_their_aliquots() {
    let mut primary = spec("p", "a", MaterialType::Blood, "2025-01-01", "c1");
    primary.aliquots = 1;
    let mut group = spec("g", "a", MaterialType::Serum, "2025-01-01", "c1");
    group.parent = Some("p".into());
    group.aliquots = 4;
    let cells = count(
        &[primary, group],
        None,
        &SpecimenCriteria::default(),
        &["c1".into()],
        CAPS,
    );
    assert_eq!(
        cells,
        vec![Cell {
            collection: "c1".into(),
            material: "Serum".into(),
            donors: 1,
            samples: 4
        }]
    );
}

#[test]
fn window_minimum_and_caps() {
    let crit = SpecimenCriteria {
        material_types: vec![MaterialType::Serum],
        storage_temperatures: vec![],
        window: Some(DiagnosisWindow {
            icd10: Some(Icd10::parse("A93.8").unwrap()),
            positive_test: None,
            days_before: 0,
            days_after: 30,
        }),
        min_aliquots: 2,
        min_volume_ul: 0,
    };
    let mut s = vec![
        // a: two sera in the window, one after it
        spec("1", "a", MaterialType::Serum, "2025-06-02", "c1"),
        spec("2", "a", MaterialType::Serum, "2025-06-20", "c1"),
        spec("3", "a", MaterialType::Serum, "2025-08-01", "c1"),
        // b: one serum only (below the minimum of two)
        spec("4", "b", MaterialType::Serum, "2025-06-02", "c1"),
        // c: twelve sera in an unknown collection, and plasma
        spec("6", "c", MaterialType::Plasma, "2025-06-02", "c1"),
    ];
    for i in 0..12 {
        s.push(spec(
            &format!("c{i}"),
            "c",
            MaterialType::Serum,
            "2025-06-03",
            "elsewhere",
        ));
    }
    let diag: HashMap<String, NaiveDate> = [
        ("a", "2025-06-01"),
        ("b", "2025-06-01"),
        ("c", "2025-06-01"),
    ]
    .iter()
    .map(|(p, x)| (p.to_string(), d(x)))
    .collect();
    let cells = count(&s, Some(&diag), &crit, &["c1".into()], CAPS);
    assert_eq!(
        cells,
        vec![
            Cell {
                collection: "-".into(),
                material: "Serum".into(),
                donors: 1,
                samples: 5
            },
            Cell {
                collection: "c1".into(),
                material: "Serum".into(),
                donors: 1,
                samples: 2
            },
        ]
    );
    // no diagnosis: no window
    let cells = count(&s, Some(&HashMap::new()), &crit, &["c1".into()], CAPS);
    assert!(cells.is_empty());
}

#[test]
fn a_minimum_volume_drops_small_and_unmeasured_aliquots() {
    let mut big = spec("1", "a", MaterialType::Serum, "2025-01-01", "c1");
    big.volume_ul = Some(1000);
    let mut small = spec("2", "b", MaterialType::Serum, "2025-01-01", "c1");
    small.volume_ul = Some(250);
    let unknown = spec("3", "c", MaterialType::Serum, "2025-01-01", "c1");
    let crit = SpecimenCriteria {
        min_volume_ul: 500,
        ..Default::default()
    };
    let cells = count(&[big, small, unknown], None, &crit, &["c1".into()], CAPS);
    assert_eq!(cells.len(), 1);
    assert_eq!((cells[0].donors, cells[0].samples), (1, 1));
}

#[test]
fn one_donor_counts_in_at_most_the_capped_cells() {
    let s: Vec<SpecimenRecord> = [
        MaterialType::Serum,
        MaterialType::Plasma,
        MaterialType::Dna,
        MaterialType::Blood,
    ]
    .iter()
    .enumerate()
    .map(|(i, m)| spec(&i.to_string(), "a", *m, "2025-01-01", "c1"))
    .collect();
    let cells = count(&s, None, &SpecimenCriteria::default(), &["c1".into()], CAPS);
    assert_eq!(cells.iter().map(|c| c.donors).sum::<u64>(), 2);
}

#[test]
fn storage_follows_the_measured_range() {
    assert_eq!(
        storage(Some(-85.0), Some(-75.0)),
        Some(StorageTemperature::DeepFreezer)
    );
    assert_eq!(
        storage(Some(-196.0), Some(-150.0)),
        Some(StorageTemperature::Below135)
    );
    assert_eq!(storage(None, Some(4.0)), Some(StorageTemperature::Fridge));
    assert_eq!(storage(None, None), None);
}
