//! The shipped standard ViewDefinitions agree with the typed site schema in `kakehashi-model`:
//! same resource, same column names in the same order, same declared types.

use kakehashi_fhir::standard;
use kakehashi_model::{ColumnType, View};
use serde_json::Value;

/// Collects `(name, type, collection)` of every column in select order, as SoF v2 orders them.
fn columns(select: &[Value], out: &mut Vec<(String, String, bool)>) {
    for s in select {
        if let Some(cols) = s.get("column").and_then(Value::as_array) {
            for c in cols {
                out.push((
                    c["name"].as_str().unwrap_or_default().to_owned(),
                    c["type"].as_str().unwrap_or_default().to_owned(),
                    c.get("collection")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                ));
            }
        }
        if let Some(nested) = s.get("select").and_then(Value::as_array) {
            columns(nested, out);
        }
        if let Some(union) = s.get("unionAll").and_then(Value::as_array) {
            // every branch of a unionAll has the same columns: take the first
            if let Some(first) = union.first() {
                columns(std::slice::from_ref(first), out);
            }
        }
    }
}

#[test]
fn every_standard_view_matches_the_model_schema() {
    for view in View::ALL {
        let vd: Value = serde_json::from_str(standard::json(view))
            .unwrap_or_else(|e| panic!("{view}: invalid JSON: {e}"));
        assert_eq!(vd["name"], view.name(), "{view}: name");
        assert_eq!(vd["resource"], view.resource(), "{view}: resource");
        let mut got = Vec::new();
        columns(vd["select"].as_array().expect("select array"), &mut got);
        let want: Vec<(String, String, bool)> = view
            .columns()
            .iter()
            .map(|c| {
                (
                    c.name.to_owned(),
                    c.ty.fhir_type().to_owned(),
                    c.ty == ColumnType::StringList,
                )
            })
            .collect();
        assert_eq!(
            got, want,
            "{view}: columns differ from kakehashi_model::schema"
        );
    }
}

#[test]
fn views_for_groups_by_resource_type() {
    let obs: Vec<View> = standard::views_for("Observation").collect();
    assert_eq!(obs.len(), 4);
    assert!(obs.contains(&View::MicrobiologySusceptibility));
    assert_eq!(standard::views_for("Basic").count(), 0);
}
