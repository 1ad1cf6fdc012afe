//! The canonical form against a model of what queries mean: random queries written in many
//! ways give one text, and queries whose texts are equal count the same patients of a random
//! population (so a text shared by two different questions would be found).

use super::*;
use proptest::prelude::*;
use serde_json::json;

const ICD: &str = "http://fhir.de/CodeSystem/bfarm/icd-10-gm";
const LOINC: &str = "http://loinc.org";
const DIAG: [&str; 5] = ["J18", "J10", "A41", "I21", "E11"];
const LABS: [&str; 3] = ["2160-0", "718-7", "777-3"];
const CMP: [&str; 4] = ["gt", "ge", "lt", "le"];

/// One criterion of the model.
#[derive(Debug, Clone, PartialEq)]
enum C {
    /// Any of these diagnoses (indices into DIAG).
    Diag(Vec<usize>),
    /// A result of LABS[code] compared with value.
    Lab { code: usize, cmp: usize, value: i32 },
    /// Age in [min, max] years.
    Age { min: u8, max: u8 },
    /// Gender female (true) or male.
    Female(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Q {
    inc: Vec<Vec<C>>,
    exc: Vec<Vec<C>>,
}

fn crit() -> impl Strategy<Value = C> {
    prop_oneof![
        prop::collection::vec(0..DIAG.len(), 1..4).prop_map(C::Diag),
        (0..LABS.len(), 0..CMP.len(), -2i32..4).prop_map(|(code, cmp, value)| C::Lab {
            code,
            cmp,
            value
        }),
        (0u8..4, 0u8..4).prop_map(|(a, b)| C::Age {
            min: a.min(b) * 20,
            max: a.max(b) * 20 + 10
        }),
        any::<bool>().prop_map(C::Female),
    ]
}

fn query() -> impl Strategy<Value = Q> {
    let groups = |min| prop::collection::vec(prop::collection::vec(crit(), 1..4), min..3);
    (groups(1), groups(0)).prop_map(|(inc, exc)| Q { inc, exc })
}

/// A small deterministic generator for the ways of writing and for populations.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// The query as CCDL, written one of many equivalent ways (`r` picks them): lists shuffled,
/// displays and ids made up, codes repeated with other displays, context aliases, age in
/// months, gender synonyms, single-code diagnosis criteria split into an OR of criteria, an
/// inclusion group repeated with one more criterion.
fn write(q: &Q, r: &mut Lcg) -> Value {
    let display = |r: &mut Lcg| format!("display {}", r.next());
    let write_c = |c: &C, r: &mut Lcg| -> Vec<Value> {
        match c {
            C::Diag(codes) => {
                let mut list: Vec<Value> = Vec::new();
                for &i in codes {
                    for _ in 0..1 + r.below(2) {
                        list.push(json!({"system": ICD, "code": DIAG[i], "display": display(r)}));
                    }
                }
                r.shuffle(&mut list);
                let ctx = ["Diagnose", "Condition", "diagnosis"][r.below(3)];
                let one = |codes: Vec<Value>, r: &mut Lcg| {
                    json!({"context": {"system": "fdpg.mii.cds", "code": ctx, "display": display(r)},
                           "termCodes": codes, "id": format!("id-{}", r.next())})
                };
                if r.below(2) == 0 {
                    vec![one(list, r)]
                } else {
                    // the same OR as one criterion per code
                    list.into_iter().map(|c| one(vec![c], r)).collect()
                }
            }
            C::Lab { code, cmp, value } => {
                let ctx = ["Laboruntersuchung", "Observation", "laboratory"][r.below(3)];
                vec![
                    json!({"context": {"system": "fdpg.mii.cds", "code": ctx, "display": display(r)},
                    "termCodes": [{"system": LOINC, "code": LABS[*code], "display": display(r)}],
                    "valueFilter": {"type": "quantity-comparator", "comparator": CMP[*cmp], "value": *value as f64,
                                    "unit": {"code": "mg/dL"}}}),
                ]
            }
            C::Age { min, max } => {
                let code =
                    [(LOINC, "30525-0"), ("http://snomed.info/sct", "424144002")][r.below(2)];
                let (k, unit) = [(1.0, "a"), (12.0, "mo")][r.below(2)];
                vec![
                    json!({"context": {"system": "fdpg.mii.cds", "code": "Patient"},
                    "termCodes": [{"system": code.0, "code": code.1, "display": display(r)}],
                    "valueFilter": {"type": "quantity-range", "minValue": *min as f64 * k, "maxValue": *max as f64 * k,
                                    "unit": {"code": unit}}}),
                ]
            }
            C::Female(f) => {
                let names: &[&str] = if *f {
                    &["female", "F", "LA3-6"]
                } else {
                    &["male", "M", "LA2-8"]
                };
                vec![
                    json!({"context": {"system": "fdpg.mii.cds", "code": "Patient"},
                    "termCodes": [{"system": LOINC, "code": "76689-9", "display": display(r)}],
                    "valueFilter": {"type": "concept", "selectedConcepts": [{"system": "http://hl7.org/fhir/administrative-gender", "code": names[r.below(names.len())]}]}}),
                ]
            }
        }
    };
    let mut inc: Vec<Vec<Value>> = q
        .inc
        .iter()
        .map(|g| {
            let mut v: Vec<Value> = g.iter().flat_map(|c| write_c(c, r)).collect();
            r.shuffle(&mut v);
            v
        })
        .collect();
    // exclusion groups are ANDs: a criterion split into an OR would change them
    let mut exc: Vec<Vec<Value>> = q
        .exc
        .iter()
        .map(|g| {
            let mut v: Vec<Value> = g
                .iter()
                .map(|c| {
                    let mut w = write_c(c, r);
                    while w.len() > 1 {
                        w = write_c(c, r);
                    }
                    w.remove(0)
                })
                .collect();
            r.shuffle(&mut v);
            v
        })
        .collect();
    // a redundant group: a superset of another inclusion group holds whenever that one does
    if r.below(3) == 0 {
        let mut g = inc[r.below(inc.len())].clone();
        g.extend(write_c(&C::Female(r.below(2) == 0), r));
        inc.push(g);
    }
    r.shuffle(&mut inc);
    r.shuffle(&mut exc);
    let mut o = json!({"version": "2", "display": display(r), "inclusionCriteria": inc});
    if !exc.is_empty() {
        o["exclusionCriteria"] = json!(exc);
    }
    o
}

/// A patient of the model.
#[derive(Debug)]
struct P {
    diag: Vec<usize>,
    labs: Vec<(usize, i32)>,
    age: u8,
    female: bool,
}

fn population(r: &mut Lcg, n: usize) -> Vec<P> {
    (0..n)
        .map(|_| P {
            diag: (0..r.below(3)).map(|_| r.below(DIAG.len())).collect(),
            labs: (0..r.below(3))
                .map(|_| (r.below(LABS.len()), r.below(7) as i32 - 3))
                .collect(),
            age: r.below(90) as u8,
            female: r.below(2) == 0,
        })
        .collect()
}

fn holds(c: &C, p: &P) -> bool {
    match c {
        C::Diag(codes) => p.diag.iter().any(|d| codes.contains(d)),
        C::Lab { code, cmp, value } => p.labs.iter().any(|(k, v)| {
            *k == *code
                && match CMP[*cmp] {
                    "gt" => v > value,
                    "ge" => v >= value,
                    "lt" => v < value,
                    _ => v <= value,
                }
        }),
        C::Age { min, max } => (*min..=*max).contains(&p.age),
        C::Female(f) => p.female == *f,
    }
}

/// Who the query counts: every inclusion group has a criterion that holds, and no exclusion
/// group has all of its criteria holding.
fn counted(q: &Q, pop: &[P]) -> Vec<bool> {
    pop.iter()
        .map(|p| {
            q.inc.iter().all(|g| g.iter().any(|c| holds(c, p)))
                && !q.exc.iter().any(|g| g.iter().all(|c| holds(c, p)))
        })
        .collect()
}

fn canonical(v: &Value) -> String {
    Query::from_value(v)
        .unwrap_or_else(|e| panic!("{e}: {v}"))
        .canonical()
}

/// A small change of a query: one that may or may not change what it means.
fn mutate(q: &Q, r: &mut Lcg) -> Q {
    let mut q = q.clone();
    let new = |r: &mut Lcg| match r.below(4) {
        0 => C::Diag(vec![r.below(DIAG.len())]),
        1 => C::Lab {
            code: r.below(LABS.len()),
            cmp: r.below(CMP.len()),
            value: r.below(6) as i32 - 2,
        },
        2 => C::Age {
            min: 20,
            max: 20 + r.below(50) as u8,
        },
        _ => C::Female(r.below(2) == 0),
    };
    let gi = r.below(q.inc.len());
    match r.below(6) {
        0 => q.inc[gi].push(new(r)),
        1 => q.inc.push(vec![new(r)]),
        2 => q.exc.push(vec![new(r)]),
        3 => {
            let ci = r.below(q.inc[gi].len());
            q.inc[gi][ci] = new(r);
        }
        4 if q.inc[gi].len() > 1 => {
            q.inc[gi].pop();
        }
        _ => {
            if let Some(g) = q.exc.first_mut() {
                g.push(new(r));
            } else {
                q.exc.push(vec![new(r)]);
            }
        }
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Same meaning ⇒ same text: the query written two different ways.
    #[test]
    fn the_same_query_written_differently_has_one_canonical_form(q in query(), a in any::<u64>(), b in any::<u64>()) {
        let (x, y) = (write(&q, &mut Lcg(a)), write(&q, &mut Lcg(b)));
        prop_assert_eq!(canonical(&x), canonical(&y), "{}\n{}", x, y);
    }

    /// Different meaning ⇒ different text: whenever a changed query has the same text, it
    /// counts the same patients of a random population.
    #[test]
    fn queries_with_one_canonical_form_count_the_same_patients(q in query(), seed in any::<u64>()) {
        let mut r = Lcg(seed);
        let m = mutate(&q, &mut r);
        let pop = population(&mut r, 400);
        if canonical(&write(&q, &mut r)) == canonical(&write(&m, &mut r)) {
            prop_assert_eq!(counted(&q, &pop), counted(&m, &pop), "{:?}\n{:?}", q, m);
        }
    }
}

#[test]
fn a_changed_meaning_changes_the_text_for_each_kind_of_change() {
    // each mutation that changes who is counted changes the text; checked on a fixed query
    let q = Q {
        inc: vec![vec![C::Diag(vec![0, 1])], vec![C::Age { min: 20, max: 70 }]],
        exc: vec![vec![C::Lab {
            code: 0,
            cmp: 0,
            value: 1,
        }]],
    };
    let base = canonical(&write(&q, &mut Lcg(1)));
    let changes = [
        Q {
            inc: vec![vec![C::Diag(vec![0, 2])], q.inc[1].clone()],
            ..q.clone()
        },
        Q {
            inc: vec![q.inc[0].clone(), vec![C::Age { min: 20, max: 60 }]],
            ..q.clone()
        },
        Q {
            exc: vec![vec![C::Lab {
                code: 0,
                cmp: 1,
                value: 1,
            }]],
            ..q.clone()
        },
        Q {
            exc: vec![vec![C::Lab {
                code: 0,
                cmp: 0,
                value: 2,
            }]],
            ..q.clone()
        },
        Q {
            exc: vec![],
            ..q.clone()
        },
        Q {
            inc: vec![q.inc[0].clone(), q.inc[1].clone(), vec![C::Female(true)]],
            ..q.clone()
        },
    ];
    for m in &changes {
        assert_ne!(canonical(&write(m, &mut Lcg(2))), base, "{m:?}");
    }
}

#[test]
fn the_same_code_twice_with_other_displays_is_the_same_question() {
    let q = |codes: Value| json!({"version": "2", "inclusionCriteria": [[{"context": {"system": "fdpg.mii.cds", "code": "Diagnose"}, "termCodes": codes}]]});
    let once = q(json!([{"system": ICD, "code": "J18", "display": "Pneumonia"}]));
    let twice = q(
        json!([{"system": ICD, "code": "J18", "display": "Pneumonie"}, {"system": ICD, "code": "J18", "display": "肺炎"}]),
    );
    assert_eq!(canonical(&once), canonical(&twice));
}

#[test]
fn only_age_criteria_make_the_evaluation_date_part_of_the_question() {
    let with = |c: C| {
        Query::from_value(&write(
            &Q {
                inc: vec![vec![c]],
                exc: vec![],
            },
            &mut Lcg(3),
        ))
        .unwrap()
        .depends_on_evaluation_date()
    };
    assert!(with(C::Age { min: 0, max: 10 }));
    assert!(!with(C::Female(true)));
    assert!(!with(C::Diag(vec![1])));
}
