//! A one-line summary of a task's question for the steward, read from its wire JSON (the same
//! text the hub sent), so it follows the task contract without re-parsing it: criteria of a
//! cohort by their display (or code), the antibiogram's guideline, organisms, drugs and
//! period, the surveillance series' definition and weeks; any other field as `name: value`.

use serde_json::Value;

/// The longest summary, in characters.
const MAX: usize = 240;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) if !a.is_empty() => {
            Some(a.iter().filter_map(text).collect::<Vec<_>>().join(", "))
        }
        Value::Object(o) => {
            // a period, a guideline, a coding: its parts in order
            let parts: Vec<String> = o
                .iter()
                .filter_map(|(k, v)| text(v).map(|t| format!("{k} {t}")))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    }
}

/// Criterion names of a CCDL group (`inclusionCriteria` or `exclusionCriteria`): lists of
/// lists of criteria, each named by its first term code's display, else its code.
fn criteria(ccdl: &Value, group: &str) -> Vec<String> {
    ccdl.get(group)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|any_of| {
            any_of
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    c.pointer("/termCodes/0/display")
                        .or_else(|| c.pointer("/termCodes/0/code"))
                        .or_else(|| c.pointer("/context/display"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect()
}

/// A readable one-line summary of a task's question (`spec`, the wire JSON of the task's
/// specification).
pub fn summary(spec: &Value) -> String {
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or("");
    let mut parts: Vec<String> = Vec::new();
    if let Some(ccdl) = spec.get("ccdl") {
        let inc = criteria(ccdl, "inclusionCriteria");
        let exc = criteria(ccdl, "exclusionCriteria");
        parts.push(format!("patients with {}", inc.join(" and ")));
        if !exc.is_empty() {
            parts.push(format!("without {}", exc.join(", ")));
        }
    } else if let Some(Value::Object(o)) = spec.get("spec") {
        for (k, v) in o {
            if let Some(t) = text(v) {
                parts.push(format!("{}: {t}", k.replace('_', " ")));
            }
        }
    }
    if let Value::Object(o) = spec {
        for (k, v) in o {
            if matches!(k.as_str(), "type" | "ccdl" | "spec" | "schema_version") {
                continue;
            }
            if let Some(t) = text(v) {
                parts.push(format!("{}: {t}", k.replace('_', " ")));
            }
        }
    }
    let mut s = if parts.is_empty() {
        kind.replace('_', " ")
    } else {
        parts.join(" · ")
    };
    if s.chars().count() > MAX {
        s = s.chars().take(MAX - 1).collect::<String>() + "…";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cohort_reads_as_its_criteria() {
        let spec = json!({"type": "cohort", "ccdl": {"version": "x",
            "inclusionCriteria": [[{"termCodes": [{"code": "U07.1", "display": "COVID-19"}]}],
                                  [{"termCodes": [{"code": "J12.9"}]}, {"termCodes": [{"code": "J18.9", "display": "Pneumonia"}]}]],
            "exclusionCriteria": [[{"termCodes": [{"code": "Z51"}]}]]}});
        assert_eq!(
            summary(&spec),
            "patients with COVID-19 and J12.9 or Pneumonia · without Z51"
        );
    }

    #[test]
    fn other_tasks_read_as_their_fields() {
        let s = summary(
            &json!({"type": "surveillance_series", "definition": "sari-icosari", "by": ["age"], "from": "2023-W40", "to": null}),
        );
        assert_eq!(s, "definition: sari-icosari · by: age · from: 2023-W40");
        let s = summary(
            &json!({"type": "antibiogram", "spec": {"guideline": "EUCAST 2025", "organisms": ["Escherichia coli"], "antimicrobials": [], "period": {"from": "2024-01-01", "to": "2024-12-31"}}}),
        );
        assert_eq!(
            s,
            "guideline: EUCAST 2025 · organisms: Escherichia coli · period: from 2024-01-01 to 2024-12-31"
        );
        let long = summary(&json!({"type": "surveillance_series", "definition": "x".repeat(400)}));
        assert_eq!(long.chars().count(), MAX);
    }
}
