//! A sleeping protocol activated at chosen sites in one step: the checks refuse as a whole and
//! change nothing, the activation is recorded with the approvals it brought, and only the named
//! sites collect.

use chrono::{TimeZone, Utc};
use kakehashi_edc::arc::registry;
use kakehashi_edc::study::{ActivationError, EthicsApproval, Site};
use kakehashi_edc::{Study, StudyStatus};

fn sleeping() -> Study {
    let mut s = registry::vhf_study().unwrap();
    s.status = StudyStatus::Sleeping;
    s.sites = vec![
        Site {
            dag: "de_berlin".into(),
            name: "Charité".into(),
            country: "DE".into(),
        },
        Site {
            dag: "de_frankfurt".into(),
            name: "Frankfurt".into(),
            country: "DE".into(),
        },
        Site {
            dag: "jp_tokyo".into(),
            name: "JIHS".into(),
            country: "JP".into(),
        },
    ];
    s.ethics = vec![approval("DE", "EK-2026-101")];
    s.validate("sleeping").unwrap();
    s
}

fn approval(country: &str, reference: &str) -> EthicsApproval {
    EthicsApproval {
        country: country.into(),
        committee: format!("{country} ethics committee"),
        reference: reference.into(),
        approved_on: "2026-11-02".into(),
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_sleeping_study_is_activated_at_chosen_sites_only() {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    let mut s = sleeping();
    assert!(!s.is_active_at("de_berlin"));
    let a = s
        .activate(&names(&["de_berlin"]), vec![], "office", at, "CCHF cluster")
        .unwrap();
    assert_eq!(s.status, StudyStatus::Active);
    assert_eq!(s.active_sites(), ["de_berlin"]);
    assert!(!s.is_active_at("de_frankfurt"));
    assert_eq!((a.by.as_str(), a.note.as_str()), ("office", "CCHF cluster"));
    // the study still validates: the not yet active Japanese site needs no approval yet
    s.validate("activated").unwrap();
    // Japan needs its approval: refused as a whole, nothing changed
    let before = s.clone();
    let e = s
        .activate(
            &names(&["de_frankfurt", "jp_tokyo"]),
            vec![],
            "office",
            at,
            "",
        )
        .unwrap_err();
    assert_eq!(
        e,
        ActivationError::NoApproval {
            index: 1,
            site: "jp_tokyo".into(),
            country: "JP".into()
        }
    );
    assert_eq!(s, before);
    let a = s
        .activate(
            &names(&["de_frankfurt", "jp_tokyo"]),
            vec![approval("JP", "JIHS-R-55")],
            "office",
            at,
            "",
        )
        .unwrap();
    assert_eq!(a.approvals.len(), 1);
    assert_eq!(s.ethics.len(), 2, "the approval is recorded with the study");
    assert_eq!(s.active_sites(), ["de_berlin", "de_frankfurt", "jp_tokyo"]);
    assert_eq!(s.activations.len(), 2);
    s.validate("all active").unwrap();
    // the record survives the JSON
    let back: Study = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn activations_that_cannot_be_are_refused_naming_the_site() {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    let mut s = sleeping();
    let before = s.clone();
    for (sites, want) in [
        (vec![], "sites: name at least one site to activate"),
        (
            vec!["de_berlin", "xx_nowhere"],
            "sites[1]: the study has no site 'xx_nowhere'",
        ),
        (
            vec!["de_berlin", "de_berlin"],
            "sites[1]: 'de_berlin' is active already",
        ),
    ] {
        let e = s
            .activate(&names(&sites), vec![], "office", at, "")
            .unwrap_err();
        assert_eq!(e.to_string(), want);
        assert_eq!(s, before);
    }
    let mut blank = approval("JP", "");
    blank.reference = " ".into();
    let e = s
        .activate(&names(&["jp_tokyo"]), vec![blank], "office", at, "")
        .unwrap_err();
    assert_eq!(e.to_string(), "approvals[0].reference: required");
    s.activate(&names(&["de_berlin"]), vec![], "office", at, "")
        .unwrap();
    let e = s
        .activate(&names(&["de_berlin"]), vec![], "office", at, "")
        .unwrap_err();
    assert_eq!(e.to_string(), "sites[0]: 'de_berlin' is active already");
    for status in [StudyStatus::Draft, StudyStatus::Closed] {
        let mut d = sleeping();
        d.status = status;
        let e = d
            .activate(&names(&["de_berlin"]), vec![], "office", at, "")
            .unwrap_err();
        assert!(matches!(e, ActivationError::State { .. }), "{e}");
    }
}

#[test]
fn a_study_active_as_a_whole_collects_at_every_site() {
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    let mut s = sleeping();
    s.sites.truncate(2);
    s.status = StudyStatus::Active;
    assert_eq!(s.active_sites(), ["de_berlin", "de_frankfurt"]);
    let e = s
        .activate(&names(&["de_frankfurt"]), vec![], "office", at, "")
        .unwrap_err();
    assert_eq!(e.to_string(), "sites[0]: 'de_frankfurt' is active already");
}
