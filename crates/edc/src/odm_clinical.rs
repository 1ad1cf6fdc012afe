//! CDISC ODM 1.3.2 with clinical data and its audit trail: the study's metadata, an
//! `AdminData` block (the users who entered, locked or signed; the sites as locations; the
//! signature meanings), and `ClinicalData` with one `SubjectData` per subject, its site and
//! enrolment as an audit record, and per event and form the value changes as transactions —
//! each `ItemData` with who, where, when and the reason for change (21 CFR 11.10(e)) — and the
//! form's latest e-signature. `FileType="Transactional"`, so a reader replays the changes in
//! order; the last transaction of an item is its current value.

use crate::entry::{FormData, Signature, SignatureMeaning, Subject};
use crate::odm::{escape, mdv_oid, open, write_study};
use crate::{FieldType, Study};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

fn stamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn meaning(m: SignatureMeaning) -> (&'static str, &'static str) {
    match m {
        SignatureMeaning::Review => ("review", "Reviewed the data"),
        SignatureMeaning::Approval => ("approval", "Approves the data"),
        SignatureMeaning::Responsibility => ("responsibility", "Takes responsibility for the data"),
        SignatureMeaning::Authorship => ("authorship", "Authored the data"),
    }
}

fn audit(o: &mut String, user: &str, site: &str, at: &DateTime<Utc>, reason: Option<&str>) {
    let _ = write!(
        o,
        "<AuditRecord><UserRef UserOID=\"U.{}\"/><LocationRef LocationOID=\"L.{}\"/><DateTimeStamp>{}</DateTimeStamp>",
        escape(user),
        escape(site),
        stamp(at)
    );
    if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
        let _ = write!(o, "<ReasonForChange>{}</ReasonForChange>", escape(r));
    }
    o.push_str("</AuditRecord>");
}

fn signature(o: &mut String, s: &Signature, site: &str) {
    let _ = write!(
        o,
        "<Signature><UserRef UserOID=\"U.{}\"/><LocationRef LocationOID=\"L.{}\"/><SignatureRef SignatureOID=\"SD.{}\"/><DateTimeStamp>{}</DateTimeStamp></Signature>",
        escape(&s.user),
        escape(site),
        meaning(s.meaning).0,
        stamp(&s.at)
    );
}

/// The whole study as ODM 1.3.2: metadata, admin data, and the clinical data of `subjects`
/// with the saved `forms` (of those subjects; others are left out) and their history.
pub fn write_clinical(
    study: &Study,
    subjects: &[Subject],
    forms: &[FormData],
    created: &str,
) -> String {
    let mut o = String::new();
    open(&mut o, study, created, "Transactional", "All");
    write_study(&mut o, study);
    let known: BTreeSet<&str> = subjects.iter().map(|s| s.record.as_str()).collect();
    let forms: Vec<&FormData> = forms
        .iter()
        .filter(|f| known.contains(f.record.as_str()))
        .collect();
    // who appears, with a printed name where a signature gave one
    let mut users: BTreeMap<&str, &str> = BTreeMap::new();
    let mut meanings: BTreeSet<SignatureMeaning> = BTreeSet::new();
    for s in subjects {
        users.entry(&s.enrolled_by).or_insert("");
        if let Some(w) = &s.withdrawal {
            users.entry(&w.by).or_insert("");
        }
    }
    for f in &forms {
        for h in &f.history {
            users.entry(&h.user).or_insert("");
        }
        if let Some(l) = &f.lock {
            users.entry(&l.user).or_insert("");
        }
        for s in &f.signatures {
            users.insert(&s.user, &s.full_name);
            meanings.insert(s.meaning);
        }
    }
    let study_oid = format!("S.{}", study.id);
    let mdv = mdv_oid(study);
    let _ = writeln!(o, "<AdminData StudyOID=\"{}\">", escape(&study_oid));
    for (u, name) in &users {
        let _ = write!(
            o,
            "<User OID=\"U.{0}\"><LoginName>{0}</LoginName>",
            escape(u)
        );
        if !name.is_empty() {
            let _ = write!(o, "<FullName>{}</FullName>", escape(name));
        }
        o.push_str("</User>\n");
    }
    let effective = study.activations.iter().map(|a| a.at).min().map_or_else(
        || created.get(..10).unwrap_or("1970-01-01").to_owned(),
        |t| t.format("%Y-%m-%d").to_string(),
    );
    let mut sites: Vec<(&str, &str)> = study
        .sites
        .iter()
        .map(|s| (s.dag.as_str(), s.name.as_str()))
        .collect();
    for s in subjects {
        if !sites.iter().any(|(d, _)| *d == s.site) {
            sites.push((&s.site, &s.site));
        }
    }
    for (dag, name) in &sites {
        let _ = writeln!(
            o,
            "<Location OID=\"L.{}\" Name=\"{}\" LocationType=\"Site\"><MetaDataVersionRef StudyOID=\"{}\" MetaDataVersionOID=\"{}\" EffectiveDate=\"{}\"/></Location>",
            escape(dag),
            escape(name),
            escape(&study_oid),
            escape(&mdv),
            escape(&effective)
        );
    }
    for m in &meanings {
        let (oid, text) = meaning(*m);
        let _ = writeln!(
            o,
            "<SignatureDef OID=\"SD.{oid}\" Methodology=\"Electronic\"><Meaning>{text}</Meaning><LegalReason>21 CFR Part 11 §11.50: signed after re-entering the password</LegalReason></SignatureDef>"
        );
    }
    o.push_str("</AdminData>\n");
    let _ = writeln!(
        o,
        "<ClinicalData StudyOID=\"{}\" MetaDataVersionOID=\"{}\">",
        escape(&study_oid),
        escape(&mdv)
    );
    let items: BTreeMap<&str, Vec<String>> = study
        .forms()
        .into_iter()
        .map(|form| {
            let oids = study
                .fields
                .iter()
                .filter(|f| f.form == form && f.field_type != FieldType::Descriptive)
                .flat_map(crate::odm::item_oids)
                .collect();
            (form, oids)
        })
        .collect();
    for s in subjects {
        let _ = write!(
            o,
            "<SubjectData SubjectKey=\"{}\" TransactionType=\"Insert\">",
            escape(&s.record)
        );
        audit(&mut o, &s.enrolled_by, &s.site, &s.enrolled_at, None);
        let _ = write!(o, "<SiteRef LocationOID=\"L.{}\"/>", escape(&s.site));
        for event in study.events() {
            let mut here: Vec<&&FormData> = forms
                .iter()
                .filter(|f| f.record == s.record && f.event == event.unique_name)
                .collect();
            if here.is_empty() {
                continue;
            }
            here.sort_by_key(|f| {
                (
                    event
                        .forms
                        .iter()
                        .position(|x| *x == f.form)
                        .unwrap_or(usize::MAX),
                    f.instance,
                )
            });
            let _ = write!(
                o,
                "<StudyEventData StudyEventOID=\"SE.{}\">",
                escape(&event.unique_name)
            );
            for f in here {
                let _ = write!(o, "<FormData FormOID=\"F.{}\"", escape(&f.form));
                if study.is_repeating(&f.event, &f.form) {
                    let _ = write!(o, " FormRepeatKey=\"{}\"", f.instance);
                }
                o.push_str(" TransactionType=\"Insert\">");
                if let Some(sig) = f.signatures.last() {
                    signature(&mut o, sig, &f.site);
                }
                let _ = write!(o, "<ItemGroupData ItemGroupOID=\"IG.{}\">", escape(&f.form));
                let on_form = items.get(f.form.as_str());
                let mut written: BTreeSet<&str> = BTreeSet::new();
                for h in &f.history {
                    if !on_form.is_some_and(|v| v.contains(&h.field)) {
                        continue;
                    }
                    let first = written.insert(&h.field);
                    let kind = if h.new.is_empty() {
                        "Remove"
                    } else if first && h.old.is_empty() {
                        "Insert"
                    } else {
                        "Update"
                    };
                    let _ = write!(
                        o,
                        "<ItemData ItemOID=\"I.{}\" TransactionType=\"{kind}\"",
                        escape(&h.field)
                    );
                    if h.new.is_empty() {
                        o.push_str(" IsNull=\"Yes\">");
                    } else {
                        let _ = write!(o, " Value=\"{}\">", escape(&h.new));
                    }
                    audit(&mut o, &h.user, &f.site, &h.at, h.reason.as_deref());
                    o.push_str("</ItemData>");
                }
                // values without a recorded change (imported): their current value
                for (k, v) in &f.values {
                    if written.contains(k.as_str())
                        || v.is_empty()
                        || !on_form.is_some_and(|x| x.contains(k))
                    {
                        continue;
                    }
                    let _ = write!(
                        o,
                        "<ItemData ItemOID=\"I.{}\" Value=\"{}\"/>",
                        escape(k),
                        escape(v)
                    );
                }
                o.push_str("</ItemGroupData></FormData>");
            }
            o.push_str("</StudyEventData>");
        }
        o.push_str("</SubjectData>\n");
    }
    o.push_str("</ClinicalData>\n</ODM>\n");
    o
}
