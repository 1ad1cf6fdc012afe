//! The pre-fill panel of the data-entry form as HTML: shown only on forms with declared
//! items; the ask button; a pending request; each proposal with its source, an accept form
//! (CSRF, the field, the value to edit) and a link from its field; an item without a value
//! with the site's note; a refusal with the site's reason; every text in every language.

use kakehashi_edc::Study;
use kakehashi_edc::arc::registry;
use kakehashi_edc::entry::FormData;
use kakehashi_web::Locale;
use kakehashi_web::i18n::MISSING_MARK;
use kakehashi_web::pages::{Chrome, Page, UserBadge, render};
use kakehashi_web::study::form::{FormContext, form_page};
use kakehashi_web::study::prefill::{Proposed, prefill_panel};

fn chrome(locale: Locale) -> Chrome {
    Chrome {
        locale,
        user: Some(UserBadge {
            name: "dm".into(),
            role: "researcher".into(),
        }),
        active: "studies".into(),
        path: "/studies/vhf-registry".into(),
        csrf: "tok".into(),
        notice: None,
    }
}

fn page(s: &Study, d: &FormData, l: Locale, latest: Option<(&str, Option<&str>)>) -> String {
    let c = FormContext {
        study: s,
        data: d,
        locale: l,
        entered: None,
        error: None,
        can_edit: true,
        can_lock: false,
        event_label: "Admission".into(),
        version: "v1".into(),
        others: &[],
    };
    let mut p = form_page(&c);
    let proposed = [
        Proposed {
            field: "labs_platelets_109l",
            value: Some("355"),
            source: "Observation http://loinc.org|26515-7 = 355 /nL (2024-02-15T11:00:00+00:00)"
                .into(),
            note: None,
        },
        Proposed {
            field: "labs_dailydata",
            value: Some("1"),
            source: "a choice field".into(),
            note: None,
        },
        Proposed {
            field: "labs_ldh",
            value: None,
            source: String::new(),
            note: Some("no value in days 0 to 2 of the stay"),
        },
    ];
    if let Some((status, refused)) = latest {
        let shown: &[Proposed<'_>] = if status == "proposed" { &proposed } else { &[] };
        p.prefill = prefill_panel(
            s,
            l,
            d,
            Some((status, "alice", "2026-12-08T00:00:00Z", refused)),
            shown,
        );
    }
    render(&Page::StudyForm(Box::new(p)), &chrome(l)).unwrap()
}

#[test]
fn the_panel_shows_proposals_with_their_source_to_accept_or_edit() {
    let s = registry::vhf_study().unwrap();
    let mut d = FormData::new(
        &"ab".repeat(32),
        "de_a",
        "initial_assessment_arm_1",
        "daily",
        1,
    );
    // nothing asked yet: the panel and its button only
    let h = page(&s, &d, Locale::En, None);
    assert!(h.contains("id=\"prefill-request\""), "{h}");
    assert!(!h.contains("id=\"prefill-table\""));
    // pending
    let h = page(&s, &d, Locale::En, Some(("pending", None)));
    assert!(h.contains("id=\"prefill-pending\""));
    assert!(h.contains("Asked by alice"));
    // proposed: the value in an accept form, its source, the note of an item without one
    d.values.insert("labs_dailydata".into(), "1".into());
    let h = page(&s, &d, Locale::En, Some(("proposed", None)));
    assert!(
        h.contains("action=\"/studies/vhf-registry/subjects/"),
        "{h}"
    );
    assert!(h.contains("/daily/1/prefill/accept\""));
    assert!(h.contains("name=\"csrf\" value=\"tok\""));
    assert!(h.contains("name=\"field\" value=\"labs_platelets_109l\""));
    assert!(h.contains("id=\"pv-labs_platelets_109l\" name=\"value\" type=\"text\" value=\"355\""));
    assert!(h.contains("id=\"accept-labs_platelets_109l\""));
    assert!(h.contains("26515-7 = 355 "), "{h}");
    assert!(h.contains("no value in days 0 to 2 of the stay"));
    assert!(!h.contains("id=\"accept-labs_ldh\""), "nothing to accept");
    // a choice's code comes with its label
    assert!(h.contains("id=\"pl-labs_dailydata\">= Yes"), "{h}");
    assert!(!h.contains("id=\"pl-labs_platelets_109l\""));
    // next to its field too (the field is shown: the daily labs are asked)
    assert!(h.contains("id=\"proposal-labs_platelets_109l\""), "{h}");
    // accepted: marked
    d.values.insert("labs_platelets_109l".into(), "355".into());
    let h = page(&s, &d, Locale::En, Some(("proposed", None)));
    assert!(h.contains("id=\"accepted-labs_platelets_109l\""));
    // refused: the site's reason
    let h = page(
        &s,
        &d,
        Locale::En,
        Some((
            "refused",
            Some("this site's policy does not allow pre-fill for the study vhf-registry"),
        )),
    );
    assert!(h.contains("id=\"prefill-refused\""));
    assert!(h.contains("does not allow pre-fill"));
    for l in [Locale::En, Locale::De, Locale::Ja] {
        for st in ["pending", "proposed", "refused"] {
            let h = page(&s, &d, l, Some((st, Some("x"))));
            assert!(!h.contains(MISSING_MARK), "{l:?} {st}: an untranslated key");
        }
    }
}

#[test]
fn a_form_without_declared_items_has_no_panel() {
    let s = registry::vhf_study().unwrap();
    let d = FormData::new(
        &"ab".repeat(32),
        "de_a",
        "outcome__end_of_st_arm_1",
        "outcome",
        1,
    );
    let h = page(&s, &d, Locale::En, None);
    assert!(!h.contains("id=\"prefill\""));
    assert!(!h.contains("prefill-request"));
}
