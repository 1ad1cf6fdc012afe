//! The whole record as the logic language reads it while one form instance is saved or shown:
//! branching logic and calculations may name fields of other forms and other events
//! (`[var]`, `[event][var]`, `[var][instance]`), not only the form being saved.
//!
//! Rules followed (REDCap's): `[var]` names the field at the current event (on a repeating
//! form: the current instance when the field's form is the one saved, else the same instance
//! number if that form repeats too, else instance 1); `[event][var]` the field at that event
//! (instance 1 unless `[var][n]` names one); a field never saved reads as blank.
//! Calculated fields (`calc`) are computed when their form is saved, from the whole record,
//! and stored like entered values (with a history entry when the result changes); a calc on
//! another form that depends on this one is computed when that form is saved next, as REDCap
//! does on a form save.
//!
//! Hidden fields keep their values: when a change hides a field that holds a value, the value
//! stays stored and exported (REDCap keeps it too unless the user agrees to erase it), it no
//! longer counts for "required", and [`FormData::hidden_with_values`] lists such fields so
//! the form and the data-quality checks can flag them.

use super::value::MissingCode;
use super::workflow::FormData;
use crate::dictionary::{Field, FieldType};
use crate::logic::{self, Data, SmartVar, VarRef};
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// What a save or a branching decision reads beyond the form itself: the study's fields,
/// its missing-data codes and the record's other saved form instances.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    /// The study's fields (every form).
    pub fields: &'a [Field],
    /// The study's missing-data codes.
    pub missing: &'a [MissingCode],
    /// The record's other saved form instances (any order; the instance being saved, if
    /// present, is ignored).
    pub others: &'a [FormData],
}

impl<'a> RecordContext<'a> {
    /// A context of one form alone (no other forms of the record).
    pub fn alone(fields: &'a [Field], missing: &'a [MissingCode]) -> Self {
        RecordContext {
            fields,
            missing,
            others: &[],
        }
    }
}

/// One form instance's values (possibly not stored yet) inside its record.
pub(crate) struct RecordView<'a> {
    pub form: &'a FormData,
    pub values: &'a BTreeMap<String, String>,
    pub ctx: &'a RecordContext<'a>,
    pub now: NaiveDateTime,
}

impl RecordView<'_> {
    fn form_of(&self, field: &str) -> Option<&str> {
        self.ctx
            .fields
            .iter()
            .find(|f| f.variable == field)
            .map(|f| f.form.as_str())
    }

    fn instance_of(&self, v: &VarRef) -> Option<u32> {
        let i = v.instance.as_deref()?;
        match SmartVar::from_name(i) {
            Some(s) => self.smart(s)?.parse().ok(),
            None => i.parse().ok(),
        }
    }
}

impl Data for RecordView<'_> {
    fn value(&self, v: &VarRef) -> Option<String> {
        let key = match &v.code {
            Some(c) => format!("{}___{c}", v.field),
            None => v.field.clone(),
        };
        let event = match v.event.as_deref() {
            None => self.form.event.clone(),
            Some(e) => match SmartVar::from_name(e) {
                Some(s) => self.smart(s)?,
                None => e.to_owned(),
            },
        };
        // a field unknown to the dictionary reads from this form (the dictionary check
        // refuses such logic; tests may still use it)
        let form = self.form_of(&v.field).unwrap_or(&self.form.form);
        let explicit = self.instance_of(v);
        if form == self.form.form
            && event == self.form.event
            && explicit.is_none_or(|i| i == self.form.instance)
        {
            return self.values.get(&key).cloned();
        }
        let at = |instance: u32| {
            self.ctx.others.iter().find(|d| {
                d.form == form
                    && d.event == event
                    && d.instance == instance
                    && !(d.form == self.form.form
                        && d.event == self.form.event
                        && d.instance == self.form.instance)
            })
        };
        let d = match explicit {
            Some(i) => at(i),
            None if event == self.form.event => at(self.form.instance).or_else(|| at(1)),
            None => at(1),
        }?;
        d.values.get(&key).cloned()
    }

    fn smart(&self, v: SmartVar) -> Option<String> {
        match v {
            SmartVar::EventName => Some(self.form.event.clone()),
            SmartVar::CurrentInstance => Some(self.form.instance.to_string()),
            SmartVar::RecordName => Some(self.form.record.clone()),
            SmartVar::RecordDagName => Some(self.form.site.clone()),
            _ => None,
        }
    }

    fn now(&self) -> NaiveDateTime {
        self.now
    }
}

/// Whether `f` is shown with `values` as the form instance's values inside its record
/// (logic that does not parse shows the field: the dictionary check refuses it anyway).
pub(crate) fn shown_in(
    form: &FormData,
    values: &BTreeMap<String, String>,
    f: &Field,
    ctx: &RecordContext<'_>,
    now: NaiveDateTime,
) -> bool {
    if f.branching.trim().is_empty() {
        return true;
    }
    match logic::parse(&f.branching) {
        Ok(e) => logic::shown(
            &e,
            &RecordView {
                form,
                values,
                ctx,
                now,
            },
        ),
        Err(_) => true,
    }
}

/// The calculated fields of the form, computed from `values` inside the record, in
/// dictionary order (a calc may use one computed before it); each with its result (empty:
/// blank, or logic that does not parse).
pub(crate) fn calculate(
    form: &FormData,
    values: &mut BTreeMap<String, String>,
    ctx: &RecordContext<'_>,
    now: NaiveDateTime,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ctx
        .fields
        .iter()
        .filter(|f| f.form == form.form && f.field_type == FieldType::Calc)
    {
        let result = match logic::parse(&f.calculation) {
            Ok(e) => logic::eval(
                &e,
                &RecordView {
                    form,
                    values,
                    ctx,
                    now,
                },
            )
            .to_stored(),
            Err(_) => String::new(),
        };
        if result.is_empty() {
            values.remove(&f.variable);
        } else {
            values.insert(f.variable.clone(), result.clone());
        }
        out.push((f.variable.clone(), result));
    }
    out
}

impl FormData {
    /// Whether a field is shown with the stored values inside the whole record (its branching
    /// logic may name fields of other forms and events).
    pub fn is_shown_in(&self, f: &Field, ctx: &RecordContext<'_>) -> bool {
        shown_in(self, &self.values, f, ctx, NaiveDateTime::MIN)
    }

    /// The fields of this form that hold a value but are hidden by their branching logic
    /// (kept, as REDCap keeps them; to flag, not to erase).
    pub fn hidden_with_values(&self, ctx: &RecordContext<'_>) -> Vec<String> {
        ctx.fields
            .iter()
            .filter(|f| f.form == self.form && f.field_type != FieldType::Calc)
            .filter(|f| {
                self.values.iter().any(|(k, v)| {
                    if f.field_type == FieldType::Checkbox {
                        v == "1"
                            && k.strip_prefix(f.variable.as_str())
                                .is_some_and(|r| r.starts_with("___"))
                    } else {
                        k == &f.variable && !v.is_empty()
                    }
                })
            })
            .filter(|f| !self.is_shown_in(f, ctx))
            .map(|f| f.variable.clone())
            .collect()
    }
}
