//! A whole subject's record as the logic language reads it: the form being checked is the
//! context (its event and instance), and `[event][var]` reaches the other events' forms.

use crate::entry::FormData;
use crate::logic::{Data, SmartVar, VarRef};
use chrono::NaiveDateTime;

/// One record's saved forms, read from the point of view of one form instance.
pub(crate) struct RecordView<'a> {
    /// Every saved form of the record.
    pub(crate) forms: &'a [&'a FormData],
    /// The form instance that is the context.
    pub(crate) at: &'a FormData,
    /// The study's events in order (unique names), for the event smart variables.
    pub(crate) events: &'a [&'a str],
    /// The clock for `"today"`.
    pub(crate) now: NaiveDateTime,
}

impl RecordView<'_> {
    /// The value of `key` at `event`: the context instance first, then the lowest instance
    /// of any form at that event that holds it (repeating forms elsewhere read instance 1
    /// unless the reference names one).
    fn lookup(&self, event: &str, key: &str, instance: Option<u32>) -> Option<String> {
        if event == self.at.event
            && instance.is_none_or(|i| i == self.at.instance)
            && let Some(v) = self.at.values.get(key)
        {
            return Some(v.clone());
        }
        self.forms
            .iter()
            .filter(|d| d.event == event && instance.is_none_or(|i| d.instance == i))
            .filter_map(|d| d.values.get(key).map(|v| (d.instance, v)))
            .min_by_key(|(i, _)| *i)
            .map(|(_, v)| v.clone())
    }
}

impl Data for RecordView<'_> {
    fn value(&self, var: &VarRef) -> Option<String> {
        let key = match &var.code {
            Some(c) => format!("{}___{c}", var.field),
            None => var.field.clone(),
        };
        let event = match &var.event {
            None => self.at.event.clone(),
            Some(e) => match SmartVar::from_name(e) {
                Some(s) => self.smart(s)?,
                None => e.clone(),
            },
        };
        let instance = match var.instance.as_deref() {
            None => None,
            Some(i) => match SmartVar::from_name(i) {
                Some(s) => self.smart(s)?.parse().ok(),
                None => i.parse().ok(),
            },
        };
        self.lookup(&event, &key, instance)
    }

    fn smart(&self, var: SmartVar) -> Option<String> {
        match var {
            SmartVar::EventName => Some(self.at.event.clone()),
            SmartVar::CurrentInstance => Some(self.at.instance.to_string()),
            SmartVar::RecordName => Some(self.at.record.clone()),
            SmartVar::RecordDagName => Some(self.at.site.clone()),
            SmartVar::InstrumentName => Some(self.at.form.clone()),
            SmartVar::FirstInstance => Some("1".into()),
            SmartVar::PreviousInstance => {
                (self.at.instance > 1).then(|| (self.at.instance - 1).to_string())
            }
            SmartVar::NextInstance => Some((self.at.instance + 1).to_string()),
            SmartVar::LastInstance => self
                .forms
                .iter()
                .filter(|d| d.event == self.at.event && d.form == self.at.form)
                .map(|d| d.instance)
                .max()
                .map(|i| i.to_string()),
            SmartVar::FirstEventName => self.events.first().map(|e| (*e).to_owned()),
            SmartVar::LastEventName => self.events.last().map(|e| (*e).to_owned()),
            SmartVar::PreviousEventName | SmartVar::NextEventName => {
                let i = self.events.iter().position(|e| *e == self.at.event)?;
                let j = if var == SmartVar::PreviousEventName {
                    i.checked_sub(1)?
                } else {
                    i + 1
                };
                self.events.get(j).map(|e| (*e).to_owned())
            }
            _ => None,
        }
    }

    fn now(&self) -> NaiveDateTime {
        self.now
    }
}
