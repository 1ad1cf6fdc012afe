//! One form of one record at one event: its values, status, field history, lock and
//! e-signatures. Every method checks everything first and changes nothing when it refuses.
//!
//! Rules followed: a reason is required for every change once the form is complete (REDCap's
//! "require a reason for change" for completed forms); "complete" needs every shown required
//! field filled (a missing-data code counts as filled); a locked form takes no edit; only a
//! locked form can be e-signed, with the password re-entered (the hub checks it and passes
//! [`Reauthenticated`]) and the signer's printed name, the time and the meaning recorded, as
//! 21 CFR 11.50 requires; unlocking voids the signatures (REDCap does the same).

use super::context::{RecordContext, calculate, shown_in};
use super::record::{
    Actor, EntryError, FormStatus, HistoryEntry, Lock, Reauthenticated, Signature, SignatureMeaning,
};
use super::value::{MissingCode, validate_value};
use crate::dictionary::{Field, FieldType};
use crate::logic::{self, Data, SmartVar, VarRef};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The checkbox option codes of the missing-data codes (`ni`, `unk`, `nask`, `na`: REDCap's
/// `var___ni` columns).
pub fn checkbox_missing(missing: &[MissingCode]) -> impl Iterator<Item = String> + '_ {
    missing.iter().map(|m| m.code().to_ascii_lowercase())
}

/// One form of one record at one event (and instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormData {
    /// The record (subject pseudonym).
    pub record: String,
    /// The record's site.
    pub site: String,
    /// The event.
    pub event: String,
    /// The form.
    pub form: String,
    /// The repeat instance (1 when not repeating).
    pub instance: u32,
    /// The status.
    pub status: FormStatus,
    /// Values by variable (`var___code` for checkbox options).
    pub values: BTreeMap<String, String>,
    /// Every change, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The lock, when locked.
    pub lock: Option<Lock>,
    /// Signatures since the last lock.
    pub signatures: Vec<Signature>,
}

struct View<'a> {
    values: &'a BTreeMap<String, String>,
    event: &'a str,
    instance: u32,
    record: &'a str,
}

impl Data for View<'_> {
    fn value(&self, var: &VarRef) -> Option<String> {
        let key = match &var.code {
            Some(c) => format!("{}___{c}", var.field),
            None => var.field.clone(),
        };
        self.values.get(&key).cloned()
    }
    fn smart(&self, var: SmartVar) -> Option<String> {
        match var {
            SmartVar::EventName => Some(self.event.into()),
            SmartVar::CurrentInstance => Some(self.instance.to_string()),
            SmartVar::RecordName => Some(self.record.into()),
            _ => None,
        }
    }
    fn now(&self) -> NaiveDateTime {
        NaiveDateTime::MIN
    }
}

impl FormData {
    /// An empty form.
    pub fn new(record: &str, site: &str, event: &str, form: &str, instance: u32) -> Self {
        FormData {
            record: record.into(),
            site: site.into(),
            event: event.into(),
            form: form.into(),
            instance,
            status: FormStatus::Incomplete,
            values: BTreeMap::new(),
            history: Vec::new(),
            lock: None,
            signatures: Vec::new(),
        }
    }

    fn check_site(&self, a: &Actor) -> Result<(), EntryError> {
        if a.all_sites || a.site == self.site {
            Ok(())
        } else {
            Err(EntryError::OtherSite {
                user: a.user.clone(),
                user_site: a.site.clone(),
                record_site: self.site.clone(),
            })
        }
    }

    fn need(&self, a: &Actor, has: bool, right: &'static str) -> Result<(), EntryError> {
        if has {
            Ok(())
        } else {
            Err(EntryError::NoRight {
                user: a.user.clone(),
                right,
                form: self.form.clone(),
            })
        }
    }

    /// Whether a field is shown with the current values (its branching logic; logic that
    /// does not parse shows the field, as the dictionary check refuses such logic anyway).
    pub fn is_shown(&self, f: &Field) -> bool {
        if f.branching.trim().is_empty() {
            return true;
        }
        match logic::parse(&f.branching) {
            Ok(e) => logic::shown(
                &e,
                &View {
                    values: &self.values,
                    event: &self.event,
                    instance: self.instance,
                    record: &self.record,
                },
            ),
            Err(_) => true,
        }
    }

    /// Saves changed values (`variable` or `variable___code` → entered text; empty clears)
    /// and sets the status, reading this form alone: [`FormData::save_in`] with no other
    /// form of the record. `fields` are the study's fields; `missing` its missing-data codes.
    /// Returns the history entries written.
    #[allow(clippy::too_many_arguments)]
    pub fn save(
        &mut self,
        actor: &Actor,
        fields: &[Field],
        missing: &[MissingCode],
        changes: &[(String, String)],
        status: FormStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>, EntryError> {
        let ctx = RecordContext::alone(fields, missing);
        self.save_in(&ctx, actor, changes, status, reason, at)
    }

    /// Saves changed values inside the whole record: branching logic ("required" applies to
    /// shown fields only) and the form's calculated fields read the record's other forms and
    /// events too ([`super::context`]). A checkbox takes a missing-data code as the extra
    /// option `var___ni` (`___unk`, `___nask`, `___na`) as REDCap does. Calculated values
    /// are stored and their changes written to the history. Returns the history entries
    /// written.
    pub fn save_in(
        &mut self,
        ctx: &RecordContext<'_>,
        actor: &Actor,
        changes: &[(String, String)],
        status: FormStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Vec<HistoryEntry>, EntryError> {
        let (fields, missing) = (ctx.fields, ctx.missing);
        self.need(actor, actor.rights.edit, "edit")?;
        self.check_site(actor)?;
        if self.lock.is_some() {
            return Err(EntryError::Locked {
                form: self.form.clone(),
            });
        }
        let on_form: BTreeMap<&str, &Field> = fields
            .iter()
            .filter(|f| f.form == self.form)
            .map(|f| (f.variable.as_str(), f))
            .collect();
        let mut new_values = self.values.clone();
        let mut invalid = Vec::new();
        let mut entries = Vec::new();
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        for (name, raw) in changes {
            let (var, code) = match name.split_once("___") {
                Some((v, c)) => (v, Some(c)),
                None => (name.as_str(), None),
            };
            let Some(f) = on_form.get(var) else {
                return Err(EntryError::UnknownField {
                    field: name.clone(),
                    form: self.form.clone(),
                });
            };
            let known_code = code.is_none_or(|c| {
                f.field_type == FieldType::Checkbox
                    && (f.choices.iter().any(|x| x.code == c)
                        || checkbox_missing(missing).any(|m| m == c))
            });
            if !known_code || (f.field_type == FieldType::Checkbox && code.is_none()) {
                return Err(EntryError::UnknownField {
                    field: name.clone(),
                    form: self.form.clone(),
                });
            }
            match validate_value(f, raw, missing) {
                Err(e) => invalid.push((name.clone(), e)),
                Ok(v) => {
                    let old = self.values.get(name).cloned().unwrap_or_default();
                    if old != v {
                        entries.push(HistoryEntry {
                            user: actor.user.clone(),
                            at,
                            field: name.clone(),
                            old,
                            new: v.clone(),
                            reason: reason.map(String::from),
                        });
                        if v.is_empty() {
                            new_values.remove(name);
                        } else {
                            new_values.insert(name.clone(), v);
                        }
                    }
                }
            }
        }
        if !invalid.is_empty() {
            return Err(EntryError::Invalid(invalid));
        }
        if self.status == FormStatus::Complete && !entries.is_empty() && reason.is_none() {
            return Err(EntryError::ReasonRequired {
                form: self.form.clone(),
            });
        }
        let now = at.naive_utc();
        for (var, result) in calculate(self, &mut new_values, ctx, now) {
            let old = self.values.get(&var).cloned().unwrap_or_default();
            if old != result {
                entries.push(HistoryEntry {
                    user: actor.user.clone(),
                    at,
                    field: var,
                    old,
                    new: result,
                    reason: reason.map(String::from),
                });
            }
        }
        if status == FormStatus::Complete {
            let empty: Vec<String> = on_form
                .values()
                .filter(|f| f.required && shown_in(self, &new_values, f, ctx, now))
                .filter(|f| {
                    if f.field_type == FieldType::Checkbox {
                        let ticked = |c: &str| {
                            new_values
                                .get(&format!("{}___{c}", f.variable))
                                .is_some_and(|v| v == "1")
                        };
                        !(f.choices.iter().any(|c| ticked(&c.code))
                            || checkbox_missing(missing).any(|c| ticked(&c)))
                    } else {
                        new_values.get(&f.variable).is_none_or(|v| v.is_empty())
                    }
                })
                .map(|f| f.variable.clone())
                .collect();
            if !empty.is_empty() {
                return Err(EntryError::RequiredMissing {
                    form: self.form.clone(),
                    fields: empty,
                });
            }
        }
        self.values = new_values;
        self.status = status;
        self.history.extend(entries.iter().cloned());
        Ok(entries)
    }

    /// Locks the form.
    pub fn lock(&mut self, actor: &Actor, at: DateTime<Utc>) -> Result<(), EntryError> {
        self.need(actor, actor.rights.lock, "lock")?;
        self.check_site(actor)?;
        if self.lock.is_some() {
            return Err(EntryError::Locked {
                form: self.form.clone(),
            });
        }
        self.lock = Some(Lock {
            user: actor.user.clone(),
            at,
        });
        Ok(())
    }

    /// Unlocks the form; its signatures are void (returned for the audit trail).
    pub fn unlock(&mut self, actor: &Actor) -> Result<Vec<Signature>, EntryError> {
        self.need(actor, actor.rights.lock, "lock")?;
        self.check_site(actor)?;
        if self.lock.is_none() {
            return Err(EntryError::NotLocked {
                form: self.form.clone(),
            });
        }
        self.lock = None;
        Ok(std::mem::take(&mut self.signatures))
    }

    /// E-signs the locked form: the signer's printed name, the time and the meaning.
    pub fn sign(
        &mut self,
        actor: &Actor,
        proof: Option<Reauthenticated>,
        meaning: SignatureMeaning,
        at: DateTime<Utc>,
    ) -> Result<Signature, EntryError> {
        self.need(actor, actor.rights.lock, "lock")?;
        self.check_site(actor)?;
        if self.lock.is_none() {
            return Err(EntryError::NotLocked {
                form: self.form.clone(),
            });
        }
        if proof.is_none() {
            return Err(EntryError::NotReauthenticated);
        }
        let s = Signature {
            user: actor.user.clone(),
            full_name: actor.full_name.clone(),
            at,
            meaning,
        };
        self.signatures.push(s.clone());
        Ok(s)
    }
}
