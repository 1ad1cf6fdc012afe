//! EDC study data in the store (migration 8), through their service on a real hub of each
//! backend: the site agent enrols site-minted pseudonyms (repeatable, the study's sites
//! only, active studies only), members see their own site's subjects unless their role sees
//! all, saves are validated and partial, identifying fields are refused and never stored, a
//! stale version is 409, a complete form needs a reason, locks, e-signatures with the
//! password re-entered (a wrong one refused and audited), unlocking voids signatures, a
//! withdrawn subject takes no data, a multi-row write is all or nothing, and every change is
//! in the audit log.

use super::Fresh;
use super::cases::user;
use kakehashi_edc::StudyStatus;
use kakehashi_edc::arc::registry;
use kakehashi_edc::entry::{FormKey, FormStatus, SignatureMeaning, SubjectStatus};
use kakehashi_edc::study::{EthicsApproval, Site};
use kakehashi_hub::db::{FormWrite, Role, StudyMember, Written};
use kakehashi_hub::service::studies::records::export::RecordsFormat;
use kakehashi_hub::service::studies::records::{self, Enrolment, Save, SignRequest};
use kakehashi_hub::service::studies::{self};
use std::collections::BTreeMap;

fn status(e: kakehashi_hub::ApiError) -> u16 {
    e.status.as_u16()
}

fn pseudonym(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn key(record: &str, event: &str, form: &str, instance: u32) -> FormKey {
    FormKey {
        record: record.into(),
        event: event.into(),
        form: form.into(),
        instance,
    }
}

fn save(values: &[(&str, &str)], status: FormStatus, version: Option<&str>) -> Save {
    Save {
        version: version.map(String::from),
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        status,
        reason: None,
    }
}

pub fn records_keep_their_rules_on_both_backends(fresh: Fresh<'_>) {
    let place = fresh();
    let data = tempfile::tempdir().unwrap();
    let hub = place.hub(data.path());
    let pw = kakehashi_hub::auth::hash_password("sign-me").unwrap();
    for n in ["office", "ana", "ivo", "ken", "jun"] {
        let r = if n == "office" {
            Role::Admin
        } else {
            Role::Researcher
        };
        hub.db.put_user(n, &pw, r, None).unwrap();
    }
    let office = user("office", Role::Admin);
    let (ana, ivo, ken, jun) = (
        user("ana", Role::Researcher),
        user("ivo", Role::Researcher),
        user("ken", Role::Researcher),
        user("jun", Role::Researcher),
    );
    let mut vhf = registry::vhf_study().unwrap();
    vhf.sites = vec![
        Site {
            dag: "de_charite".into(),
            name: "Charité Berlin".into(),
            country: "DE".into(),
        },
        Site {
            dag: "jp_jihs".into(),
            name: "JIHS Tokyo".into(),
            country: "JP".into(),
        },
    ];
    studies::create(&hub, &office, vhf.clone()).unwrap();
    let id = "vhf-registry";
    for (u, role, dag) in [
        ("ana", "data_entry", Some("de_charite")),
        ("ivo", "investigator", Some("de_charite")),
        ("ken", "monitor", None),
        ("jun", "data_entry", Some("jp_jihs")),
    ] {
        let m = StudyMember {
            user: u.into(),
            role: role.into(),
            dag: dag.map(String::from),
        };
        studies::assign(&hub, &office, id, m).unwrap();
    }

    // enrolment by the site agent: active studies only, its own sites, pseudonyms only
    let (de1, de2, jp1) = (pseudonym(1), pseudonym(2), pseudonym(3));
    assert_eq!(
        status(records::enrol_from_site(&hub, "de_charite", id, &de1).unwrap_err()),
        409,
        "a draft study takes no subjects"
    );
    let mut active = vhf.clone();
    active.status = StudyStatus::Active;
    active.ethics = ["DE", "JP"]
        .map(|c| EthicsApproval {
            country: c.into(),
            committee: format!("Ethics committee {c}"),
            reference: format!("EC-{c}-1"),
            approved_on: "2026-01-15".into(),
        })
        .to_vec();
    studies::update(&hub, &office, id, active).unwrap();
    assert_eq!(
        status(records::enrol_from_site(&hub, "fr_paris", id, &de1).unwrap_err()),
        403
    );
    assert_eq!(
        status(records::enrol_from_site(&hub, "de_charite", id, "Erika Mustermann").unwrap_err()),
        400
    );
    let (s, new) = records::enrol_from_site(&hub, "de_charite", id, &de1).unwrap();
    assert!(new);
    assert_eq!(
        (s.site.as_str(), s.enrolled_by.as_str()),
        ("de_charite", "site:de_charite")
    );
    let (again, new) = records::enrol_from_site(&hub, "de_charite", id, &de1).unwrap();
    assert!(
        !new,
        "a second enrolment of the same patient is the same subject"
    );
    assert_eq!(again, s);
    assert_eq!(
        status(records::enrol_from_site(&hub, "jp_jihs", id, &de1).unwrap_err()),
        409,
        "another site's pseudonym"
    );
    records::enrol_from_site(&hub, "jp_jihs", id, &jp1).unwrap();
    // a member brings a pseudonym minted at their site; not another site's
    assert_eq!(
        status(
            records::enrol(
                &hub,
                &ana,
                id,
                Enrolment {
                    record: de2.clone(),
                    dag: Some("jp_jihs".into())
                }
            )
            .unwrap_err()
        ),
        403
    );
    let s2 = records::enrol(
        &hub,
        &ana,
        id,
        Enrolment {
            record: de2.clone(),
            dag: None,
        },
    )
    .unwrap();
    assert_eq!(s2.site, "de_charite");
    assert_eq!(
        status(
            records::enrol(
                &hub,
                &ken,
                id,
                Enrolment {
                    record: pseudonym(9),
                    dag: None
                }
            )
            .unwrap_err()
        ),
        403,
        "the monitor enters no data"
    );

    // lists: own site unless the role sees all; the office is no member
    let seen = |u| -> Vec<String> {
        records::subjects(&hub, u, id)
            .unwrap()
            .into_iter()
            .map(|s| s.record)
            .collect()
    };
    assert_eq!(seen(&ana), [de1.clone(), de2.clone()]);
    assert_eq!(seen(&jun), std::slice::from_ref(&jp1));
    assert_eq!(seen(&ken).len(), 3);
    assert_eq!(
        status(records::subjects(&hub, &office, id).unwrap_err()),
        404
    );
    assert_eq!(
        status(records::subject(&hub, &ana, id, &jp1).unwrap_err()),
        404
    );

    // save: partial, validated, identifying fields refused and never stored
    let adm = "initial_assessment_arm_1";
    let k = key(&de1, adm, "presentation", 1);
    let v0 = records::form(&hub, &ana, id, &k).unwrap();
    assert_eq!(v0.version, "new");
    assert!(v0.rights.edit && !v0.rights.lock);
    let e = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(
            &[("demog_birthdate", "1970-05-04")],
            FormStatus::Incomplete,
            None,
        ),
    )
    .unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(e.message.contains("demog_birthdate"), "{}", e.message);
    assert_eq!(
        hub.db.form_get(id, &de1, adm, "presentation", 1).unwrap(),
        None
    );
    let e = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(&[("demog_age", "forty")], FormStatus::Incomplete, None),
    )
    .unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(e.message.contains("demog_age"), "{}", e.message);
    let v1 = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(
            &[("demog_age", "41"), ("demog_sex", "1")],
            FormStatus::Incomplete,
            Some("new"),
        ),
    )
    .unwrap();
    assert_eq!(v1.data.values["demog_age"], "41");
    assert_ne!(v1.version, "new");
    // a stale version loses, nothing changes
    let e = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(&[("demog_age", "42")], FormStatus::Incomplete, Some("new")),
    )
    .unwrap_err();
    assert_eq!(status(e), 409);
    assert_eq!(records::form(&hub, &ivo, id, &k).unwrap(), {
        let mut v = v1.clone();
        v.rights = vhf
            .roles
            .iter()
            .find(|r| r.name == "investigator")
            .unwrap()
            .rights("presentation");
        v
    });
    // complete (no required field empty in this form's shown fields), then a reason is needed
    let done = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(&[], FormStatus::Complete, Some(&v1.version)),
    );
    let done = match done {
        Ok(d) => d,
        Err(e) => panic!("complete refused: {}", e.message),
    };
    let e = records::save(
        &hub,
        &ana,
        id,
        &k,
        save(
            &[("demog_age", "42")],
            FormStatus::Complete,
            Some(&done.version),
        ),
    )
    .unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(e.message.contains("reason"), "{}", e.message);
    let mut with_reason = save(
        &[("demog_age", "42")],
        FormStatus::Complete,
        Some(&done.version),
    );
    with_reason.reason = Some("typo in the age".into());
    let v2 = records::save(&hub, &ana, id, &k, with_reason).unwrap();
    let h = records::history(&hub, &ken, id, &k).unwrap();
    let ages: Vec<(&str, &str, Option<&str>)> = h
        .iter()
        .filter(|e| e.field == "demog_age")
        .map(|e| (e.old.as_str(), e.new.as_str(), e.reason.as_deref()))
        .collect();
    assert_eq!(
        ages,
        [("", "41", None), ("41", "42", Some("typo in the age"))]
    );
    // other sites, other keys
    assert_eq!(status(records::form(&hub, &jun, id, &k).unwrap_err()), 404);
    assert_eq!(
        status(records::form(&hub, &ana, id, &key(&de1, adm, "outcome", 1)).unwrap_err()),
        404
    );
    assert_eq!(
        status(records::form(&hub, &ana, id, &key(&de1, adm, "presentation", 2)).unwrap_err()),
        400
    );
    assert_eq!(
        status(
            records::save(
                &hub,
                &ken,
                id,
                &k,
                save(&[("demog_age", "1")], FormStatus::Complete, None)
            )
            .unwrap_err()
        ),
        403,
        "the monitor only views"
    );

    // lock: the lock right; a locked form takes no edit; e-sign with the password re-entered
    assert_eq!(
        status(records::lock(&hub, &ana, id, &k, None).unwrap_err()),
        403
    );
    let locked = records::lock(&hub, &ivo, id, &k, Some(&v2.version)).unwrap();
    assert!(locked.data.lock.is_some());
    let mut r = save(&[("demog_age", "43")], FormStatus::Complete, None);
    r.reason = Some("again".into());
    assert_eq!(
        status(records::save(&hub, &ivo, id, &k, r).unwrap_err()),
        409
    );
    let wrong = SignRequest {
        password: "guess".into(),
        meaning: SignatureMeaning::Approval,
        version: None,
    };
    assert_eq!(
        status(records::sign(&hub, &ivo, id, &k, wrong).unwrap_err()),
        403
    );
    let signed = records::sign(
        &hub,
        &ivo,
        id,
        &k,
        SignRequest {
            password: "sign-me".into(),
            meaning: SignatureMeaning::Approval,
            version: Some(locked.version.clone()),
        },
    )
    .unwrap();
    assert_eq!(signed.data.signatures.len(), 1);
    assert_eq!(signed.data.signatures[0].user, "ivo");
    let grid = records::subject(&hub, &ken, id, &de1).unwrap().grid;
    let cell = &grid[0].cells[0];
    assert_eq!(cell.form, "presentation");
    assert_eq!(
        (
            cell.instances[0].status,
            cell.instances[0].locked,
            cell.instances[0].signed
        ),
        (FormStatus::Complete, true, true)
    );
    let open = records::unlock(&hub, &ivo, id, &k, Some(&signed.version)).unwrap();
    assert!(open.data.lock.is_none() && open.data.signatures.is_empty());

    // a repeating form has instances 1, 2, …
    let med = "summary_medication_arm_1";
    for i in [1, 2] {
        records::save(
            &hub,
            &ana,
            id,
            &key(&de1, med, "medication", i),
            save(&[], FormStatus::Incomplete, None),
        )
        .unwrap();
    }
    let grid = records::subject(&hub, &ana, id, &de1).unwrap().grid;
    let row = grid.iter().find(|r| r.event == med).unwrap();
    let cell = row.cells.iter().find(|c| c.form == "medication").unwrap();
    assert!(cell.repeating);
    assert_eq!(
        cell.instances
            .iter()
            .map(|c| c.instance)
            .collect::<Vec<_>>(),
        [1, 2]
    );

    // withdrawal: a reason, then no new data
    let w = records::withdraw(&hub, &ivo, id, &de2, "consent withdrawn").unwrap();
    assert_eq!(w.status, SubjectStatus::Withdrawn);
    assert_eq!(
        status(
            records::save(
                &hub,
                &ana,
                id,
                &key(&de2, adm, "presentation", 1),
                save(&[("demog_age", "5")], FormStatus::Incomplete, None)
            )
            .unwrap_err()
        ),
        409
    );

    // a write of several rows: all or nothing
    let doc = hub
        .db
        .form_get(id, &de1, med, "medication", 1)
        .unwrap()
        .unwrap();
    let ok = FormWrite {
        record: &de1,
        event: med,
        form: "medication",
        instance: 1,
        doc: "{\"changed\":1}",
        old: Some(&doc),
    };
    let stale = FormWrite {
        instance: 2,
        old: Some("not what is stored"),
        ..ok
    };
    assert_eq!(
        hub.db.records_write(id, &[], &[ok, stale]).unwrap(),
        Written::Stale(format!("{de1}/{med}/medication/2"))
    );
    assert_eq!(
        hub.db
            .form_get(id, &de1, med, "medication", 1)
            .unwrap()
            .unwrap(),
        doc
    );

    // the birth date never reached the store
    let rows = place.raw_int("SELECT count(*) FROM study_forms WHERE doc LIKE '%demog_birthdate%'");
    assert_eq!(rows, 0);

    // exports: a role without the export right is refused; the data manager gets every
    // site's subjects as flat CSV with the DAG column and as ODM with the audit trail
    assert_eq!(
        status(records::export::export(&hub, &ana, id, RecordsFormat::Csv).unwrap_err()),
        403
    );
    hub.db.put_user("dan", &pw, Role::Researcher, None).unwrap();
    let dan = user("dan", Role::Researcher);
    let m = StudyMember {
        user: "dan".into(),
        role: "data_manager".into(),
        dag: None,
    };
    studies::assign(&hub, &office, id, m).unwrap();
    let csv = records::export::export(&hub, &dan, id, RecordsFormat::Csv).unwrap();
    let header = csv.text().lines().next().unwrap();
    assert!(header.contains("redcap_data_access_group"), "{header}");
    assert!(
        csv.text().contains(de1.as_str()),
        "the Berlin subject with data in the CSV"
    );
    let odm = records::export::export(&hub, &dan, id, RecordsFormat::Odm).unwrap();
    assert!(odm.content_type.starts_with("application/xml"));
    assert!(
        odm.text()
            .contains(&format!("<SubjectData SubjectKey=\"{de1}\""))
    );
    assert!(
        odm.text().contains("<ItemData ItemOID=\"I.demog_age\""),
        "the saved age"
    );
    assert!(
        odm.text().contains("<UserRef UserOID=\"U.ana\"/>"),
        "who saved it"
    );
    assert!(
        !odm.text().contains("demog_birthdate\" Value"),
        "no identifying value"
    );
    assert_eq!(csv.subjects, odm.subjects);
    let fhir = records::export::export(&hub, &dan, id, RecordsFormat::Fhir).unwrap();
    let b: serde_json::Value = serde_json::from_str(fhir.text()).unwrap();
    assert_eq!(b["resourceType"], "Bundle");
    let responses: Vec<&serde_json::Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "QuestionnaireResponse")
        .collect();
    assert!(
        responses
            .iter()
            .any(|r| r["subject"]["identifier"]["value"] == de1.as_str()),
        "the Berlin subject's forms as responses"
    );

    let kinds: Vec<String> = hub
        .audit
        .tail(200)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "study_subject_enrolled",
        "study_subject_withdrawn",
        "study_form_saved",
        "study_form_locked",
        "study_form_sign_refused",
        "study_form_signed",
        "study_form_unlocked",
        "study_records_exported",
    ] {
        assert!(
            kinds.iter().any(|x| x == k),
            "{k} missing from the audit log: {kinds:?}"
        );
    }
}
