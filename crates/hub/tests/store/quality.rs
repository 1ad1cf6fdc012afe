//! EDC data quality in the store (migration 9), through its service on a real hub of each
//! backend: a registry rule finds a reversed outcome date in saved forms, queries are opened
//! from the findings in one step (monitors only; a second run opens none twice), each site
//! sees its own queries only, the workflow's refused steps (answering twice, a site closing,
//! another site answering, re-opening an open one) are refused with the right status and
//! change nothing, a stale step loses, the dashboard counts what the viewer sees, and every
//! step is in the audit log.

use super::Fresh;
use super::cases::user;
use kakehashi_edc::StudyStatus;
use kakehashi_edc::arc::registry;
use kakehashi_edc::entry::{FormKey, FormStatus, QueryAction, QueryStatus};
use kakehashi_edc::study::{EthicsApproval, Site};
use kakehashi_hub::db::{Role, StudyMember};
use kakehashi_hub::service::studies::quality::{self, Bulk, NewQuery, QueryFilter, Step};
use kakehashi_hub::service::studies::records::{self, Save};
use kakehashi_hub::service::studies::{self};
use std::collections::BTreeMap;

fn status(e: kakehashi_hub::ApiError) -> u16 {
    e.status.as_u16()
}

fn save(values: &[(&str, &str)]) -> Save {
    Save {
        version: None,
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        status: FormStatus::Incomplete,
        reason: None,
    }
}

fn step(action: QueryAction, text: &str) -> Step {
    Step {
        action,
        text: text.into(),
    }
}

pub fn queries_keep_their_workflow_on_both_backends(fresh: Fresh<'_>) {
    let place = fresh();
    let data = tempfile::tempdir().unwrap();
    let hub = place.hub(data.path());
    let pw = kakehashi_hub::auth::hash_password("pw").unwrap();
    for n in ["office", "ana", "ken", "jun"] {
        let r = if n == "office" {
            Role::Admin
        } else {
            Role::Researcher
        };
        hub.db.put_user(n, &pw, r, None).unwrap();
    }
    let office = user("office", Role::Admin);
    let (ana, ken, jun) = (
        user("ana", Role::Researcher),
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
    vhf.status = StudyStatus::Active;
    vhf.ethics = ["DE", "JP"]
        .map(|c| EthicsApproval {
            country: c.into(),
            committee: format!("Ethics committee {c}"),
            reference: format!("EC-{c}-1"),
            approved_on: "2026-01-15".into(),
        })
        .to_vec();
    studies::create(&hub, &office, vhf).unwrap();
    let id = "vhf-registry";
    for (u, role, dag) in [
        ("ana", "data_entry", Some("de_charite")),
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
    let (de1, de2, jp1) = ("11".repeat(32), "22".repeat(32), "33".repeat(32));
    for (site, p) in [
        ("de_charite", &de1),
        ("de_charite", &de2),
        ("jp_jihs", &jp1),
    ] {
        records::enrol_from_site(&hub, site, id, p).unwrap();
    }
    let adm = "initial_assessment_arm_1";
    let out = "outcome__end_of_st_arm_1";
    let k = |record: &str, event: &str, form: &str| FormKey {
        record: record.into(),
        event: event.into(),
        form: form.into(),
        instance: 1,
    };
    // de1 and jp1: outcome before admission; de2: in order.
    for (u, r, admitted, ended) in [
        (&ana, &de1, "2026-05-10", "2026-05-02"),
        (&ana, &de2, "2026-05-10", "2026-05-20"),
        (&jun, &jp1, "2026-06-01", "2026-05-30"),
    ] {
        records::save(
            &hub,
            u,
            id,
            &k(r, adm, "presentation"),
            save(&[("pres_date", admitted)]),
        )
        .unwrap();
        records::save(
            &hub,
            u,
            id,
            &k(r, out, "outcome"),
            save(&[("outco_date", ended)]),
        )
        .unwrap();
    }

    // the check, as each sees it
    let check = "outcome_before_admission";
    let run = quality::run(&hub, &ken, id, check).unwrap();
    let found: Vec<&str> = run
        .findings
        .iter()
        .map(|f| f.finding.record.as_str())
        .collect();
    assert_eq!(found, [de1.as_str(), jp1.as_str()]);
    assert_eq!(run.records, 3);
    let mine = quality::run(&hub, &ana, id, check).unwrap();
    assert_eq!(mine.findings.len(), 1, "a site sees its own findings");
    assert_eq!(
        status(quality::run(&hub, &ken, id, "nope").unwrap_err()),
        404
    );

    // bulk opening: monitors only, all or the chosen, never twice
    let all = Bulk {
        findings: None,
        text: None,
    };
    assert_eq!(
        status(quality::open_from_check(&hub, &ana, id, check, all.clone()).unwrap_err()),
        403
    );
    let bad = Bulk {
        findings: Some(vec!["nope/x/y/1/z".into()]),
        text: None,
    };
    assert_eq!(
        status(quality::open_from_check(&hub, &ken, id, check, bad).unwrap_err()),
        400
    );
    let first = Bulk {
        findings: Some(vec![run.findings[0].id.clone()]),
        text: Some("Please check the outcome date".into()),
    };
    let o = quality::open_from_check(&hub, &ken, id, check, first).unwrap();
    assert_eq!((o.opened.len(), o.already_pending), (1, 0));
    let o = quality::open_from_check(&hub, &ken, id, check, all.clone()).unwrap();
    assert_eq!(
        (o.opened.len(), o.already_pending),
        (1, 1),
        "the pending one is not opened again"
    );
    let o = quality::open_from_check(&hub, &ken, id, check, all).unwrap();
    assert_eq!((o.opened.len(), o.already_pending), (0, 2));
    let run = quality::run(&hub, &ken, id, check).unwrap();
    assert!(run.findings.iter().all(|f| f.query.is_some()));

    // who sees which
    let everything = quality::queries(&hub, &ken, id, &QueryFilter::default()).unwrap();
    assert_eq!(everything.len(), 2);
    let de = quality::queries(&hub, &ana, id, &QueryFilter::default()).unwrap();
    assert_eq!(de.len(), 1);
    let q = &de[0];
    assert_eq!(q.query.record, de1);
    assert_eq!(q.query.thread[0].text, "Please check the outcome date");
    assert_eq!(q.query.check.as_deref(), Some(check));
    let jp_num = everything
        .iter()
        .find(|v| v.query.site == "jp_jihs")
        .unwrap()
        .num;
    assert_eq!(
        status(quality::query(&hub, &ana, id, jp_num).unwrap_err()),
        404
    );
    let filtered = quality::queries(
        &hub,
        &ken,
        id,
        &QueryFilter {
            site: Some("jp_jihs".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(filtered.len(), 1);

    // the workflow and its refusals
    let n = q.num;
    let refused = |u, a, code| {
        let before = hub.db.query_get(id, n).unwrap();
        assert_eq!(
            status(quality::act(&hub, u, id, n, step(a, "x")).unwrap_err()),
            code
        );
        assert_eq!(
            hub.db.query_get(id, n).unwrap(),
            before,
            "a refusal changes nothing"
        );
    };
    refused(&ana, QueryAction::Close, 403);
    refused(&jun, QueryAction::Answer, 404);
    refused(&ken, QueryAction::Reopen, 409);
    assert_eq!(
        status(quality::act(&hub, &ana, id, n, step(QueryAction::Answer, "  ")).unwrap_err()),
        400
    );
    let v = quality::act(
        &hub,
        &ana,
        id,
        n,
        step(QueryAction::Answer, "Date corrected"),
    )
    .unwrap();
    assert_eq!(v.query.status, QueryStatus::Answered);
    refused(&ana, QueryAction::Answer, 409);
    let v = quality::act(&hub, &ken, id, n, step(QueryAction::Reopen, "Still before")).unwrap();
    assert_eq!(v.query.status, QueryStatus::Open);
    let v = quality::act(&hub, &ana, id, n, step(QueryAction::Answer, "Now fixed")).unwrap();
    let v2 = quality::act(&hub, &ken, id, n, step(QueryAction::Close, "Thanks")).unwrap();
    assert_eq!(v2.query.status, QueryStatus::Closed);
    assert_eq!(v2.query.thread.len(), 5);
    assert_eq!(v.query.thread.len(), 4);
    // a step on what was read before another's step loses
    let stale = serde_json::to_string(&v.query).unwrap();
    assert!(!hub.db.query_swap(id, n, "open", &stale, &stale).unwrap());

    // by hand: a field of the form, a visible record
    let by_hand = |field: &str, record: &str| NewQuery {
        record: record.into(),
        event: adm.into(),
        form: "presentation".into(),
        instance: 1,
        field: field.into(),
        text: "Is the admission date right?".into(),
    };
    let e = quality::open(&hub, &ken, id, by_hand("nosuch", &de2)).unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(e.message.contains("nosuch"), "{}", e.message);
    assert_eq!(
        status(quality::open(&hub, &ana, id, by_hand("pres_date", &de2)).unwrap_err()),
        403,
        "data entry opens no queries"
    );
    let v = quality::open(&hub, &ken, id, by_hand("pres_date", &de2)).unwrap();
    assert_eq!((v.query.check, v.query.status), (None, QueryStatus::Open));

    // the dashboard: each sees their own
    let d = quality::dashboard(&hub, &ken, id).unwrap();
    let sites: Vec<(&str, u32)> = d
        .enrolment
        .iter()
        .map(|e| (e.site.as_str(), e.total))
        .collect();
    assert_eq!(sites, [("de_charite", 2), ("jp_jihs", 1)]);
    assert_eq!(d.closed, 1);
    let pending: u32 = d.queries.iter().map(|q| q.open.iter().sum::<u32>()).sum();
    assert_eq!(pending, 2, "jp_jihs' and the one by hand");
    let outcome = d.completeness.iter().find(|c| c.form == "outcome").unwrap();
    assert_eq!((outcome.expected, outcome.incomplete), (3, 3));
    let d = quality::dashboard(&hub, &ana, id).unwrap();
    let sites: Vec<&str> = d.enrolment.iter().map(|e| e.site.as_str()).collect();
    assert_eq!(sites, ["de_charite"]);
    assert!(d.queries.iter().all(|q| q.site == "de_charite"));

    let kinds: Vec<String> = hub
        .audit
        .tail(200)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "study_queries_open_from_check",
        "study_query_open",
        "study_query_answer",
        "study_query_reopen",
        "study_query_close",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing: {kinds:?}");
    }
}
