//! EDC studies in the store (migration 7), through their service on a real hub of each
//! backend: only the network office creates studies (from JSON or a REDCap dictionary on
//! an existing study's base), bad input is refused naming line and field, a stale write
//! loses, members see their studies only, roles and sites must be the study's, REDCap API
//! tokens open the metadata API only while their holder's role has the API right, SQL in
//! text is kept verbatim, and every change is in the audit log.

use super::Fresh;
use super::cases::user;
use super::injection::NASTY;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kakehashi_edc::arc::registry;
use kakehashi_edc::study::{EthicsApproval, ProtocolCitation, Site};
use kakehashi_hub::db::{Role, StudyMember, secret_hash};
use kakehashi_hub::service::office::{
    citation,
    library::{self, NewVersion},
};
use kakehashi_hub::service::studies::redcap::{self, Params};
use kakehashi_hub::service::studies::{self, ActivationRequest, DictionaryImport, ExportFormat};
use kakehashi_office::Lang;
use kakehashi_office::library::{DocKind, Document};

fn status(e: kakehashi_hub::ApiError) -> u16 {
    e.status.as_u16()
}

fn member(u: &str, role: &str, dag: Option<&str>) -> StudyMember {
    StudyMember {
        user: u.into(),
        role: role.into(),
        dag: dag.map(String::from),
    }
}

fn ask(hub: &kakehashi_hub::Hub, token: &str, content: &str) -> redcap::Answer {
    let p = Params(vec![
        ("token".into(), token.into()),
        ("content".into(), content.into()),
        ("format".into(), "json".into()),
    ]);
    redcap::answer(hub, &p)
}

pub fn studies_keep_their_rules_on_both_backends(fresh: Fresh<'_>) {
    let place = fresh();
    let data = tempfile::tempdir().unwrap();
    let hub = place.hub(data.path());
    for (n, r) in [
        ("office", Role::Admin),
        ("ana", Role::Researcher),
        ("ken", Role::Researcher),
    ] {
        hub.db.put_user(n, "h", r, None).unwrap();
    }
    let (office, ana, ken) = (
        user("office", Role::Admin),
        user("ana", Role::Researcher),
        user("ken", Role::Researcher),
    );
    let mut vhf = registry::vhf_study().unwrap();
    vhf.title = NASTY[0].into();
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

    // only the network office creates; a taken id is 409; a broken study names what
    assert_eq!(
        status(studies::create(&hub, &ana, vhf.clone()).unwrap_err()),
        403
    );
    let made = studies::create(&hub, &office, vhf.clone()).unwrap();
    assert_eq!(made.fields, vhf.fields.len());
    assert_eq!(made.sites, ["de_charite", "jp_jihs"]);
    assert_eq!(
        status(studies::create(&hub, &office, vhf.clone()).unwrap_err()),
        409
    );
    let mut broken = vhf.clone();
    broken.id = "broken".into();
    broken.sites.push(broken.sites[0].clone());
    let e = studies::create(&hub, &office, broken).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert!(e.message.contains("de_charite"), "{}", e.message);
    // SQL in the title is stored verbatim
    let back = studies::visible(&hub, &office, "vhf-registry").unwrap().0;
    assert_eq!(back, vhf);

    // a study cites the library's protocol version it runs under: the document must be a
    // protocol and have that version (400 naming the field, nothing stored), and the
    // document then names the study
    let mut cites = vhf.clone();
    cites.id = "cites".into();
    cites.protocol = Some(ProtocolCitation {
        document: "proto-vhf".into(),
        version: 1,
    });
    let e = studies::create(&hub, &office, cites.clone()).unwrap_err();
    assert_eq!(
        (
            e.status.as_u16(),
            e.message.starts_with("protocol.document:")
        ),
        (400, true),
        "{}",
        e.message
    );
    library::put_document(
        &hub,
        &office,
        Document {
            id: "proto-vhf".into(),
            title: "VHF registry protocol".into(),
            kind: DocKind::Protocol,
            lang: Lang::En,
            governs: vec![],
        },
    )
    .unwrap();
    library::add_version(
        &hub,
        &office,
        "proto-vhf",
        NewVersion {
            file_name: "p.md".into(),
            content_base64: B64.encode("# VHF registry protocol\n"),
            note: String::new(),
            replace: None,
        },
    )
    .unwrap();
    cites.protocol.as_mut().unwrap().version = 2;
    let e = studies::create(&hub, &office, cites.clone()).unwrap_err();
    assert_eq!(
        (
            e.status.as_u16(),
            e.message.starts_with("protocol.version:")
        ),
        (400, true),
        "{}",
        e.message
    );
    assert_eq!(
        status(studies::visible(&hub, &office, "cites").unwrap_err()),
        404
    );
    cites.protocol.as_mut().unwrap().version = 1;
    studies::create(&hub, &office, cites.clone()).unwrap();
    assert_eq!(
        citation::cited_by(&hub, "proto-vhf").unwrap(),
        [("cites".to_string(), cites.title.clone(), 1)]
    );
    let c = citation::cited(&hub, cites.protocol.as_ref().unwrap()).unwrap();
    assert_eq!((c.version, c.state, c.is_current()), (1, "draft", false));

    // a REDCap dictionary: refused naming line and field, else a study on the base's events
    let csv = kakehashi_edc::dictionary::write_csv(&vhf.fields[..40]);
    let bad = csv.replacen("\ndemog_sex,", "\nDemog Sex,", 1);
    assert_ne!(bad, csv, "the first 40 fields hold demog_sex");
    let e = studies::import_dictionary(
        &hub,
        &office,
        DictionaryImport {
            id: "small".into(),
            title: None,
            like: Some("vhf-registry".into()),
            csv: bad,
        },
    )
    .unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert!(
        e.message
            .contains("line 20, field 'Demog Sex', column 'Variable / Field Name'"),
        "{}",
        e.message
    );
    let small = vhf.fields[..40].to_vec();
    let forms: Vec<String> = {
        let mut f: Vec<String> = small.iter().map(|f| f.form.clone()).collect();
        f.dedup();
        f
    };
    let mut base = vhf.clone();
    base.id = "base".into();
    base = base.with_fields(small.clone());
    for a in &mut base.arms {
        for e in &mut a.events {
            e.forms.retain(|f| forms.contains(f));
        }
        a.events.retain(|e| !e.forms.is_empty());
    }
    base.repeating_forms.retain(|r| forms.contains(&r.form));
    kakehashi_edc::prefill::retain_known(&mut base);
    studies::create(&hub, &office, base).unwrap();
    let imported = studies::import_dictionary(
        &hub,
        &office,
        DictionaryImport {
            id: "small".into(),
            title: Some("Small".into()),
            like: Some("base".into()),
            csv,
        },
    )
    .unwrap();
    assert_eq!(imported.fields, 40);
    assert_eq!(imported.sites, ["de_charite", "jp_jihs"]);
    let small_study = studies::visible(&hub, &office, "small").unwrap().0;
    assert_eq!(small_study.fields, small);
    assert_eq!(small_study.roles, vhf.roles);

    // a stale write loses
    let json = hub.db.study_get("small").unwrap().unwrap();
    assert!(!hub.db.study_swap("small", "{}", "x", &json).unwrap());
    assert!(hub.db.study_swap("small", &json, "Small", &json).unwrap());

    // members: the study's roles and sites only, known users only
    for (m, field) in [
        (member("ana", "chief", None), "role"),
        (member("ana", "data_manager", Some("fr_paris")), "dag"),
        (member("nobody", "data_manager", None), "user"),
    ] {
        let e = studies::assign(&hub, &office, "vhf-registry", m).unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
        assert!(e.message.starts_with(field), "{}", e.message);
    }
    let dm = member("ana", "data_manager", Some("de_charite"));
    assert_eq!(
        status(studies::assign(&hub, &ana, "vhf-registry", dm.clone()).unwrap_err()),
        403
    );
    studies::assign(&hub, &office, "vhf-registry", dm.clone()).unwrap();
    studies::assign(
        &hub,
        &office,
        "vhf-registry",
        member("ken", "monitor", None),
    )
    .unwrap();
    assert_eq!(
        studies::members(&hub, &ana, "vhf-registry").unwrap(),
        [dm.clone(), member("ken", "monitor", None)]
    );
    // a new definition: the office only, same id, not dropping a role someone holds
    let mut v2 = vhf.clone();
    v2.protocol_version = "1.1".into();
    assert_eq!(
        status(studies::update(&hub, &ana, "vhf-registry", v2.clone()).unwrap_err()),
        403
    );
    assert_eq!(
        status(studies::update(&hub, &office, "small", v2.clone()).unwrap_err()),
        400
    );
    let mut dropping = v2.clone();
    dropping.roles.retain(|r| r.name != "monitor");
    let e = studies::update(&hub, &office, "vhf-registry", dropping).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert!(
        e.message.contains("ken holds the role monitor"),
        "{}",
        e.message
    );
    studies::update(&hub, &office, "vhf-registry", v2.clone()).unwrap();
    assert_eq!(
        studies::visible(&hub, &ana, "vhf-registry")
            .unwrap()
            .0
            .protocol_version,
        "1.1"
    );
    let seen = studies::list(&hub, &ana).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].role.as_deref(), Some("data_manager"));
    // vhf-registry, cites (the protocol citation above) and the two from dictionaries
    assert_eq!(studies::list(&hub, &office).unwrap().len(), 4);
    assert_eq!(
        status(studies::visible(&hub, &ana, "small").unwrap_err()),
        404
    );

    // export: a role with the export right; the monitor has none
    let dict = studies::export(&hub, &ana, "vhf-registry", ExportFormat::Redcap).unwrap();
    assert_eq!(dict, kakehashi_edc::dictionary::write_csv(&vhf.fields));
    let odm = studies::export(&hub, &ana, "vhf-registry", ExportFormat::Odm).unwrap();
    assert!(odm.contains("ODMVersion=\"1.3.2\""), "{}", &odm[..300]);
    assert_eq!(
        status(studies::export(&hub, &ken, "vhf-registry", ExportFormat::Redcap).unwrap_err()),
        403
    );

    // REDCap API tokens: the API right, one's own (or the office's for anyone)
    assert_eq!(
        status(studies::new_api_token(&hub, &ken, "vhf-registry", "ken").unwrap_err()),
        403
    );
    assert_eq!(
        status(studies::new_api_token(&hub, &ken, "vhf-registry", "ana").unwrap_err()),
        403
    );
    let token = studies::new_api_token(&hub, &ana, "vhf-registry", "ana").unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        hub.db.study_token(&secret_hash(&token)).unwrap(),
        Some(("vhf-registry".into(), "ana".into()))
    );
    let a = ask(&hub, &token, "metadata");
    assert_eq!(a.status, 200, "{}", a.body);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&a.body).unwrap();
    assert_eq!(rows.len(), vhf.fields.len());
    let a = ask(&hub, "0123456789ABCDEF0123456789ABCDEF", "metadata");
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        r#"{"error":"You do not have permissions to use the API"}"#
    );
    // the role loses the API right: the token opens nothing
    studies::assign(
        &hub,
        &office,
        "vhf-registry",
        member("ana", "monitor", None),
    )
    .unwrap();
    assert_eq!(ask(&hub, &token, "metadata").status, 403);
    studies::assign(&hub, &office, "vhf-registry", dm).unwrap();
    assert_eq!(ask(&hub, &token, "metadata").status, 200);
    // taken out of the study: the token is gone
    studies::unassign(&hub, &office, "vhf-registry", "ana").unwrap();
    assert_eq!(hub.db.study_token(&secret_hash(&token)).unwrap(), None);
    assert_eq!(
        status(studies::unassign(&hub, &office, "vhf-registry", "ana").unwrap_err()),
        404
    );

    // a sleeping protocol activated at one site in one step: refused as a whole naming the
    // site when its country has no ethics approval, only by the network office, recorded
    let mut outbreak = vhf.clone();
    outbreak.id = "outbreak".into();
    outbreak.status = kakehashi_edc::StudyStatus::Sleeping;
    outbreak.ethics = vec![EthicsApproval {
        country: "DE".into(),
        committee: "Charité EK".into(),
        reference: "EA2/001/26".into(),
        approved_on: "2026-10-01".into(),
    }];
    outbreak.protocol = None;
    studies::create(&hub, &office, outbreak.clone()).unwrap();
    let ask_for = |sites: &[&str]| ActivationRequest {
        sites: sites.iter().map(|s| s.to_string()).collect(),
        approvals: vec![],
        note: "imported case".into(),
    };
    let e = studies::activate(
        &hub,
        &office,
        "outbreak",
        ask_for(&["de_charite", "jp_jihs"]),
    )
    .unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert!(
        e.message.starts_with("sites[1]: 'jp_jihs' is in JP"),
        "{}",
        e.message
    );
    assert_eq!(
        studies::visible(&hub, &office, "outbreak").unwrap().0,
        outbreak
    );
    assert_eq!(
        status(studies::activate(&hub, &ana, "outbreak", ask_for(&["de_charite"])).unwrap_err()),
        403
    );
    let a = studies::activate(&hub, &office, "outbreak", ask_for(&["de_charite"])).unwrap();
    assert_eq!(
        (a.by.as_str(), a.sites.as_slice()),
        ("office", ["de_charite".to_string()].as_slice())
    );
    let now = studies::visible(&hub, &office, "outbreak").unwrap().0;
    assert_eq!(now.status, kakehashi_edc::StudyStatus::Active);
    assert_eq!(now.active_sites(), ["de_charite"]);
    // only the activated site enrols: its agent's pseudonym is taken, the other site's is 409
    let pseudonym = "ab".repeat(32);
    let (_, new) =
        studies::records::enrol_from_site(&hub, "de-charite", "outbreak", &pseudonym).unwrap();
    assert!(new);
    let e = studies::records::enrol_from_site(&hub, "jp-jihs", "outbreak", &"cd".repeat(32))
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 409);
    assert!(
        e.message.contains("not activated at jp_jihs"),
        "{}",
        e.message
    );
    assert_eq!(
        status(
            studies::activate(&hub, &office, "vhf-registry", ask_for(&["de_charite"])).unwrap_err()
        ),
        409,
        "a draft study is not activated"
    );

    let kinds: Vec<String> = hub
        .audit
        .tail(100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "study_created",
        "study_updated",
        "study_role_assigned",
        "study_role_removed",
        "study_api_token_created",
        "study_api_read",
        "study_activated",
    ] {
        assert!(
            kinds.iter().any(|x| x == k),
            "{k} missing from the audit log: {kinds:?}"
        );
    }
}
