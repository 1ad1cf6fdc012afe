//! The compiled plans (`kakehashi_fhir::plan`, what ingest runs) against the interpreter
//! (`ViewDefinition::eval_with` + `BatchBuilder::push` in typed mode): over every case of the
//! SQL-on-FHIR v2 suite, over synthetic German and Japanese sites through the standard views,
//! and over resources broken on purpose, both must give the same record batches and the same
//! error messages, resource by resource.

use kakehashi_fhir::plan::{Members, Plans, Staging};
use kakehashi_fhir::sof::{BatchBuilder, Mode, ViewDefinition};
use serde_json::{Value, json};
use std::path::Path;

/// Runs both sides over `resources`; returns how many resources each accepted (they must agree).
fn compare(vd: &ViewDefinition, resources: &[Vec<u8>], strict: bool, what: &str) -> usize {
    compare_all(&[vd], resources, strict, what)[0]
}

/// [`compare`] for views of one type evaluated as ingest does: compiled together (one member
/// table), each resource through every view in turn. Returns how many resources each view accepted.
fn compare_all(
    vds: &[&ViewDefinition],
    resources: &[Vec<u8>],
    strict: bool,
    what: &str,
) -> Vec<usize> {
    let plans = Plans::new(vds.iter().copied());
    let mut want_b: Vec<BatchBuilder> = vds
        .iter()
        .map(|vd| BatchBuilder::new(vd, Mode::Typed))
        .collect();
    let mut got_b: Vec<BatchBuilder> = plans.plans().iter().map(|p| p.builder(1024)).collect();
    let mut accepted = vec![0; vds.len()];
    // one staging area and member table for all resources, recycled as ingest does
    let (mut spare, mut spare_members): (Staging<'static>, Members<'static>) = Default::default();
    let mut reader = kakehashi_fhir::json::Reader::new();
    for (i, r) in resources.iter().enumerate() {
        reader.read(r, |tape| {
            let v = kakehashi_fhir::fhirpath::Node::root(tape.expect("test resources are JSON"));
            let mut st = std::mem::take(&mut spare).recycle();
            let members = plans.members(v, std::mem::take(&mut spare_members));
            for (k, (vd, plan)) in vds.iter().zip(plans.plans()).enumerate() {
                let want: Result<Vec<_>, String> = (|| {
                    let mut rows = Vec::new();
                    vd.eval_with(v, &mut rows, strict).map_err(|e| e.to_string())?;
                    for row in &rows {
                        want_b[k].check(row).map_err(|e| e.to_string())?;
                    }
                    Ok(rows)
                })();
                let got = plan.eval(v, &members, strict, &mut st).map_err(|e| e.to_string());
                match (&want, &got) {
                    (Ok(rows), Ok(staged)) => {
                        assert_eq!(rows.len(), staged.rows(), "{what} (view {k}): resource {i}: row count");
                        for row in rows {
                            want_b[k].append_checked(row);
                        }
                        plan.append(&st, staged, &mut got_b[k]);
                        accepted[k] += 1;
                    }
                    (Err(w), Err(g)) => assert_eq!(w, g, "{what} (view {k}): resource {i}: error message"),
                    _ => panic!(
                        "{what} (view {k}): resource {i} (strict {strict}): interpreter {want:?}, plan {:?}",
                        got.as_ref().map(|s| s.rows())
                    ),
                }
            }
            spare = st.recycle();
            spare_members = members.recycle();
        });
    }
    for (k, (w, g)) in want_b.iter_mut().zip(&mut got_b).enumerate() {
        assert_eq!(
            w.finish(),
            g.finish(),
            "{what} (view {k}): record batches differ"
        );
    }
    accepted
}

#[test]
fn plans_match_the_interpreter_over_the_sql_on_fhir_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql-on-fhir-v2");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut views, mut compiled, mut total, mut accepted) = (0, 0, 0, 0);
    for f in files {
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let resources: Vec<Vec<u8>> = suite["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::to_vec(r).unwrap())
            .collect();
        for t in suite["tests"].as_array().unwrap() {
            let Ok(vd) = ViewDefinition::from_json(&t["view"]) else {
                continue;
            };
            let what = format!(
                "{}/{}",
                f.file_name().unwrap().to_string_lossy(),
                t["title"].as_str().unwrap_or("?")
            );
            for strict in [false, true] {
                accepted += compare(&vd, &resources, strict, &what);
            }
            let (c, n) = Plans::new([&vd]).plans()[0].compiled_share();
            views += 1;
            compiled += c;
            total += n;
        }
    }
    println!(
        "{views} views, {compiled} of {total} expressions compiled, {accepted} resource evaluations accepted"
    );
    // the suite must exercise the compiled paths, not only the interpreter fallback
    assert!(
        views > 100 && compiled * 2 > total,
        "{views} views, {compiled}/{total} compiled"
    );
    assert!(accepted > 500);
}

#[test]
fn every_standard_view_compiles_fully() {
    for (view, vd) in kakehashi_fhir::standard::compiled() {
        let (c, n) = Plans::new([vd]).plans()[0].compiled_share();
        assert_eq!(
            c, n,
            "{view}: {c} of {n} expressions compile; the rest would run in the interpreter during ingest"
        );
    }
}

#[test]
fn plans_match_the_interpreter_over_synthetic_sites() {
    let tmp = tempfile::tempdir().unwrap();
    for (profile, patients) in [("de-berlin", 400), ("jp-tokyo", 300)] {
        let p = kakehashi_synth::Profile::load(profile).unwrap();
        let out = tmp.path().join(profile);
        let summary = kakehashi_synth::generate(&p, patients, 7, &out, &|_| {}).unwrap();
        let mut by_type: std::collections::BTreeMap<String, Vec<Vec<u8>>> = Default::default();
        for file in summary
            .files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "ndjson"))
        {
            for line in std::fs::read(file)
                .unwrap()
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let v: Value = serde_json::from_slice(line).unwrap();
                by_type
                    .entry(v["resourceType"].as_str().unwrap().to_owned())
                    .or_default()
                    .push(line.to_vec());
            }
        }
        let standard = kakehashi_fhir::standard::compiled();
        let types: std::collections::BTreeSet<&str> = standard
            .iter()
            .map(|(_, vd)| vd.resource.as_str())
            .collect();
        for ty in types {
            let resources = by_type.get(ty).cloned().unwrap_or_default();
            // as ingest runs them: all views of the type together
            let same: Vec<&ViewDefinition> = standard
                .iter()
                .filter(|(_, v)| v.resource == ty)
                .map(|(_, v)| v)
                .collect();
            let n = compare_all(&same, &resources, true, &format!("{profile} {ty}"));
            // every synthetic resource of the type is valid, so every one is accepted
            assert!(
                n.iter().all(|n| *n == resources.len()),
                "{profile} {ty}: {n:?} of {}",
                resources.len()
            );
        }
    }
}

#[test]
fn plans_match_the_interpreter_on_broken_resources() {
    let obs = |extra: Value| {
        let mut o = json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "1-1"}, {"system": "x", "code": "2"}]},
            "effectiveDateTime": "2024-01-02T03:04:05Z"
        });
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        serde_json::to_vec(&o).unwrap()
    };
    let cases = [
        obs(json!({})),
        obs(json!({"effectiveDateTime": "yesterday"})),
        obs(json!({"effectiveDateTime": 20240102})),
        obs(json!({"effectiveDateTime": null, "effectivePeriod": {"start": "2024-02", "end": "2024-03-01"}})),
        obs(json!({"effectiveInstant": "2024-01-02T03:04:05.123+09:00"})),
        obs(json!({"subject": {"reference": "Patient"}})),
        obs(json!({"subject": {"reference": 7}})),
        obs(json!({"subject": "Patient/p1"})),
        obs(json!({"subject": [{"reference": "Patient/p1"}, {"reference": "Patient/p2"}]})),
        obs(json!({"subject": {"reference": "Group/g1"}})),
        obs(json!({"subject": {"reference": "#p1"}, "specimen": {"reference": "urn:uuid:5f0c"}})),
        obs(json!({"status": {"text": "final"}})),
        obs(json!({"status": 3})),
        obs(json!({"code": {"coding": []}})),
        obs(json!({"code": {"coding": [null, {"code": "x"}]}})),
        obs(json!({"valueQuantity": {"value": "12", "system": "http://unitsofmeasure.org", "code": "mg"}})),
        obs(json!({"valueQuantity": {"value": 1.5, "comparator": "<", "system": "other", "code": "mg"}})),
        obs(json!({"valueQuantity": [{"value": 1}, {"value": 2}]})),
        obs(json!({"valueQuantity": {"value": 4, "code": "mg"}})),
        obs(json!({"valueCodeableConcept": {"coding": [{"system": "s", "code": "c"}, {"code": "d"}]}})),
        // sibling members of one object (a coding's, a Quantity's): keys with a type suffix,
        // arrays, nulls, an object where an array is expected
        obs(json!({"code": {"coding": [{"system": "a", "code": "c", "display": null}]}})),
        obs(json!({"code": {"coding": [{"systemUri": "a", "code": "c", "displayText": "x", "display": "y"}]}})),
        obs(json!({"valueQuantity": {"value": 2, "unit": ["a", "b"], "comparator": [">"], "system": null}})),
        obs(json!({"valueQuantity": {"valueDecimal": 2, "unit": "u"}})),
        obs(json!({"valueCodeableConcept": {"coding": {"system": "s", "code": "c"}}})),
        // a key written twice (JSON text, not a map): the first is the one read
        br#"{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"code":"c","system":"a","code":"d"}]},"valueQuantity":{"unit":"u","value":1,"unit":"v"}}"#.to_vec(),
        obs(json!({"valueBoolean": "yes"})),
        obs(json!({"valueString": "x", "valueQuantity": {"value": 3}, "valueBoolean": true})),
        obs(json!({"effectivePeriod": {"start": "2024-02-01"}, "effectiveInstant": "2024-01-02T03:04:05Z"})),
        obs(json!({"id": 12})),
        obs(json!({"valueString": 12})),
        obs(json!({"interpretation": [{"coding": [{"code": "H"}]}, {"coding": [{"code": "L"}]}]})),
        obs(
            json!({"category": [{"coding": [{"system": "http://loinc.org", "code": "18725-2"}]}], "component": [{"code": {"coding": [{"code": "a"}]}, "valueQuantity": {"value": 2}}]}),
        ),
        obs(
            json!({"category": [{"coding": [{"system": "http://loinc.org", "code": "18725-2"}, {"system": "http://loinc.org", "code": "x"}]}], "issued": "2024-13-01T00:00:00Z"}),
        ),
        obs(json!({"issued": "2024-01-01"})),
        obs(json!({"specimen": {"display": "no reference"}})),
        obs(json!({"derivedFrom": [{"reference": "Observation/a"}, {"reference": "bad"}]})),
        obs(
            json!({"extension": [{"url": "https://kakehashi.example/fhir/StructureDefinition/breakpoint-guideline", "valueString": "EUCAST 2024"}]}),
        ),
    ];
    // paths the standard views do not have: steps after `getReferenceKey()`, a type name as the
    // first step, `first()` in the middle, a member named with its choice suffix
    let odd = ViewDefinition::from_json(&json!({"resourceType": "ViewDefinition", "resource": "Observation", "select": [{"column": [
        {"name": "key_text", "path": "subject.getReferenceKey().ofType(string)", "type": "string"},
        {"name": "key_member", "path": "subject.getReferenceKey().reference", "type": "string"},
        {"name": "key_is_p1", "path": "subject.getReferenceKey(Patient).where($this = 'p1').exists()", "type": "boolean"},
        {"name": "typed_status", "path": "Observation.status", "type": "string"},
        {"name": "first_code", "path": "code.coding.first().code", "type": "string"},
        {"name": "suffixed", "path": "valueQuantity.value", "type": "decimal"},
        {"name": "ucum", "path": "value.ofType(Quantity).where(system = 'http://unitsofmeasure.org').exists()", "type": "boolean"},
        {"name": "micro_code", "path": "category.coding.where(code = '18725-2').code.first()", "type": "string"},
        {"name": "guideline_url", "path": "extension.url", "type": "string", "collection": true}
    ]}]}))
    .unwrap();
    // views that filter on the same criteria, tested once per resource for all of them: one that
    // holds for some resources (also a criterion of two standard views), one that fails with an
    // error for some (a text, not a boolean: errors are not kept, each view reports its own), and
    // one that reads a constant (not shared: the constant is the view's own)
    let filtered = |wheres: &[&str], status: &str| {
        let wheres: Vec<Value> = wheres.iter().map(|w| json!({"path": w})).collect();
        ViewDefinition::from_json(&json!({"resourceType": "ViewDefinition", "resource": "Observation",
            "constant": [{"name": "status", "valueString": status}], "where": wheres,
            "select": [{"column": [{"name": "id", "path": "getResourceKey()", "type": "string"}]}]}))
        .unwrap()
    };
    let micro = "category.coding.where(system = 'http://loinc.org' and code = '18725-2').exists()";
    let not_boolean = "category.coding.where(code = '18725-2').system";
    let shared = [micro, "status = %status"];
    let (final_only, amended_only) = (filtered(&shared, "final"), filtered(&shared, "amended"));
    let (erring, erring_too) = (
        filtered(&[not_boolean], "final"),
        filtered(&[not_boolean], "final"),
    );
    let mut observation: Vec<&ViewDefinition> = kakehashi_fhir::standard::compiled()
        .iter()
        .filter(|(_, vd)| vd.resource == "Observation")
        .map(|(_, vd)| vd)
        .collect();
    observation.extend([&odd, &final_only, &amended_only, &erring, &erring_too]);
    for strict in [false, true] {
        for vd in &observation {
            compare(
                vd,
                &cases,
                strict,
                &format!("broken observations, {:?}", vd.name),
            );
        }
        let accepted = compare_all(
            &observation,
            &cases,
            strict,
            "broken observations, views together",
        );
        // both erring views report the error on the micro observations (it is not kept as a
        // failed test for the second); rows of the others are checked against the interpreter
        let n = observation.len();
        assert!(
            accepted[n - 2] == accepted[n - 1] && accepted[n - 1] < cases.len(),
            "{accepted:?}"
        );
    }
}
