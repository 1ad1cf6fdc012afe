//! The partnership office in the store (migration 4), through its service on a real hub of
//! each backend: who may change what, the document review with its refused steps, content
//! kept by address, events whose changes raise their sequence, calendar feeds behind a
//! secret, SQL in text kept verbatim, and every change in the audit log.

use super::Fresh;
use super::cases::user;
use super::injection::NASTY;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{NaiveDate, NaiveDateTime};
use kakehashi_hub::db::Role;
use kakehashi_hub::service::office::calendar::{self, ActionUpdate, EventFilter};
use kakehashi_hub::service::office::governs;
use kakehashi_hub::service::office::library::{self, NewTranslation, NewVersion, StepRequest};
use kakehashi_hub::service::office::{self, NewDecision};
use kakehashi_office::event::{Action, ActionStatus, Event, EventKind, Participant, Presence};
use kakehashi_office::governance::{Body, BodyKind, BodyRole, Membership, Vote};
use kakehashi_office::library::{DocKind, Document, Governs, ReviewState, Step};
use kakehashi_office::{Lang, diff::Change};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn text(file: &str, body: &str) -> NewVersion {
    NewVersion {
        file_name: file.into(),
        content_base64: B64.encode(body),
        note: String::new(),
        replace: None,
    }
}

fn status(e: kakehashi_hub::ApiError) -> u16 {
    e.status.as_u16()
}

pub fn the_office_keeps_its_rules_on_both_backends(fresh: Fresh<'_>) {
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
    let (admin, ana, ken) = (
        user("office", Role::Admin),
        user("ana", Role::Researcher),
        user("ken", Role::Researcher),
    );
    let body = Body {
        id: "wg-amr".into(),
        name: "Working group AMR".into(),
        kind: BodyKind::WorkingGroup,
        theme: Some("AMR".into()),
        members: vec![
            Membership {
                person: "ana".into(),
                role: BodyRole::Chair,
                from: d("2026-01-01"),
                until: None,
            },
            Membership {
                person: "ken".into(),
                role: BodyRole::Member,
                from: d("2026-01-01"),
                until: None,
            },
        ],
    };
    assert_eq!(
        status(office::put_body(&hub, &ana, body.clone()).unwrap_err()),
        403,
        "only the office makes bodies"
    );
    office::put_body(&hub, &admin, body.clone()).unwrap();
    office::put_body(&hub, &ana, body.clone()).unwrap();
    assert_eq!(
        status(office::put_body(&hub, &ken, body).unwrap_err()),
        403,
        "a member does not edit the body"
    );

    // decisions: the chair records them; SQL in the text is kept verbatim
    let dec = |text: &str| NewDecision {
        body: "wg-amr".into(),
        date: d("2026-05-01"),
        text: text.into(),
        vote: Vote::Consensus,
        documents: vec![],
    };
    assert_eq!(
        status(office::add_decision(&hub, &ken, dec("x")).unwrap_err()),
        403
    );
    for nasty in NASTY {
        office::add_decision(&hub, &ana, dec(nasty)).unwrap();
    }
    let log = office::decisions(&hub, Some("wg-amr")).unwrap();
    let mut texts: Vec<&str> = log.iter().map(|d| d.text.as_str()).collect();
    let mut want = NASTY.to_vec();
    texts.sort();
    want.sort();
    assert_eq!(texts, want);

    // the document library
    let doc = Document {
        id: "proto-sari".into(),
        title: "SARI protocol".into(),
        kind: DocKind::Protocol,
        lang: Lang::En,
        governs: vec![],
    };
    assert_eq!(
        status(library::put_document(&hub, &ken, doc.clone()).unwrap_err()),
        403
    );
    library::put_document(&hub, &ana, doc).unwrap();
    let v1 = library::add_version(&hub, &ken, "proto-sari", text("p.md", "a\nb\nc\n")).unwrap();
    assert_eq!(v1.number, 1);
    assert_eq!(
        library::content(&hub, &v1.content.sha256).unwrap(),
        b"a\nb\nc\n"
    );
    let step = |by, version, lang: Option<&str>, step| {
        library::step(
            &hub,
            by,
            "proto-sari",
            StepRequest {
                version,
                lang: lang.map(str::to_owned),
                step,
            },
        )
    };
    step(&ken, 1, None, Step::Submit).unwrap();
    assert_eq!(
        status(step(&ken, 1, None, Step::Approve).unwrap_err()),
        403,
        "a member does not approve"
    );
    step(&ana, 1, None, Step::Approve).unwrap();
    let edit = NewVersion {
        replace: Some(1),
        ..text("p.md", "edited")
    };
    let e = library::add_version(&hub, &admin, "proto-sari", edit).unwrap_err();
    assert_eq!(status(e.clone()), 409);
    assert!(e.message.contains("cannot be edited"), "{}", e.message);
    let v2 = library::add_version(&hub, &ken, "proto-sari", text("p.md", "a\nB\nc\n")).unwrap();
    let tr = |lang: &str| NewTranslation {
        version: 2,
        lang: lang.into(),
        file_name: "p.md".into(),
        content_base64: B64.encode("ein\n"),
    };
    library::add_translation(&hub, &ken, "proto-sari", tr("de")).unwrap();
    assert_eq!(
        status(library::add_translation(&hub, &ken, "proto-sari", tr("en")).unwrap_err()),
        400
    );
    step(&ken, 2, Some("de"), Step::Submit).unwrap();
    let e = step(&ana, 2, Some("de"), Step::Approve).unwrap_err();
    assert_eq!(
        (
            e.status.as_u16(),
            e.message.contains("before its source version")
        ),
        (409, true),
        "{}",
        e.message
    );
    step(&ken, 2, None, Step::Submit).unwrap();
    step(&ana, 2, None, Step::Approve).unwrap();
    step(&ana, 2, Some("de"), Step::Approve).unwrap();
    let view = library::document(&hub, "proto-sari").unwrap();
    let states: Vec<_> = view.versions.iter().map(|v| v.review.state).collect();
    assert_eq!(states, [ReviewState::Superseded, ReviewState::Approved]);
    assert_eq!(view.translations[0].review.state, ReviewState::Approved);
    assert_eq!(view.versions[1].content.sha256, v2.content.sha256);
    let lines = library::version_diff(&hub, "proto-sari", 1, 2).unwrap();
    assert_eq!(lines.iter().filter(|l| l.change != Change::Same).count(), 2);
    library::add_version(&hub, &ken, "proto-sari", text("p.pdf", "%PDF-1.7\0")).unwrap();
    let e = library::version_diff(&hub, "proto-sari", 2, 3).unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(e.message.contains("not a text document"), "{}", e.message);
    let e = library::add_version(&hub, &ken, "proto-sari", text("run.exe", "MZ")).unwrap_err();
    assert!(
        e.message
            .starts_with("file_name: \"run.exe\" is not a type"),
        "{}",
        e.message
    );

    // what a document governs: a known subject, one document each; the version in force and
    // whether it has the text the software ships
    let icosari = Governs::CaseDefinition {
        name: "sari-icosari".into(),
    };
    let def = |id: &str, governs: Vec<Governs>| Document {
        id: id.into(),
        title: "ICOSARI".into(),
        kind: DocKind::Method,
        lang: Lang::En,
        governs,
    };
    let unknown = Governs::CaseDefinition {
        name: "sari-nowhere".into(),
    };
    let e = library::put_document(&hub, &ana, def("def-x", vec![unknown])).unwrap_err();
    assert_eq!(status(e.clone()), 400);
    assert!(
        e.message.starts_with("governs[0]: no case definition"),
        "{}",
        e.message
    );
    library::put_document(&hub, &ana, def("def-icosari", vec![icosari.clone()])).unwrap();
    let e = library::put_document(&hub, &ana, def("def-other", vec![icosari.clone()])).unwrap_err();
    assert!(
        e.message
            .contains("already governed by the document \"def-icosari\""),
        "{}",
        e.message
    );
    assert!(
        library::document(&hub, "def-other").is_err(),
        "nothing stored"
    );
    let g = governs::governing(&hub, &icosari).unwrap().unwrap();
    assert_eq!((g.version, g.pending, g.matches), (None, None, None));
    let shipped = kakehashi_surveillance::definition::SHIPPED
        .iter()
        .find(|(n, _)| *n == "sari-icosari")
        .unwrap()
        .1;
    library::add_version(&hub, &ken, "def-icosari", text("icosari.toml", shipped)).unwrap();
    let review = |n, s| {
        let req = StepRequest {
            version: n,
            lang: None,
            step: s,
        };
        library::step(
            &hub,
            if s == Step::Approve { &ana } else { &ken },
            "def-icosari",
            req,
        )
    };
    review(1, Step::Submit).unwrap();
    review(1, Step::Approve).unwrap();
    library::add_version(&hub, &ken, "def-icosari", text("icosari.toml", "changed")).unwrap();
    let g = governs::governing(&hub, &icosari).unwrap().unwrap();
    assert_eq!(
        (g.version, g.pending, g.matches),
        (Some(1), Some(2), Some(true))
    );
    assert_eq!(g.approved.unwrap().1, "ana");
    review(2, Step::Submit).unwrap();
    review(2, Step::Approve).unwrap();
    let g = governs::governing(&hub, &icosari).unwrap().unwrap();
    assert_eq!(
        (g.version, g.pending, g.matches),
        (Some(2), None, Some(false))
    );
    let other = Governs::CaseDefinition {
        name: "sari-who".into(),
    };
    assert!(governs::governing(&hub, &other).unwrap().is_none());

    // events: the chair makes them, a change raises the sequence, the owner closes an action
    let mut ev = Event {
        id: "wg-amr-2026-06".into(),
        title: "WG AMR".into(),
        kind: EventKind::Meeting,
        body: Some("wg-amr".into()),
        tz: "Asia/Tokyo".into(),
        start: t("2026-06-10 16:00"),
        end: t("2026-06-10 17:00"),
        location: "online".into(),
        agenda: vec!["Breakpoints".into()],
        participants: vec![Participant {
            person: "ken".into(),
            presence: Presence::Remote,
        }],
        minutes: None,
        actions: vec![Action {
            text: "Draft SOP".into(),
            owner: "ken".into(),
            due: d("2026-07-01"),
            status: ActionStatus::Open,
        }],
        sequence: 0,
    };
    assert_eq!(
        status(calendar::put_event(&hub, &ken, ev.clone()).unwrap_err()),
        403
    );
    let saved = calendar::put_event(&hub, &ana, ev.clone()).unwrap();
    assert_eq!(saved.event.berlin.0, "2026-06-10T09:00:00+02:00");
    assert_eq!(
        calendar::put_event(&hub, &ana, ev.clone())
            .unwrap()
            .event
            .event
            .sequence,
        0,
        "unchanged: same sequence"
    );
    ev.title = "WG AMR, June".into();
    assert_eq!(
        calendar::put_event(&hub, &ana, ev.clone())
            .unwrap()
            .event
            .event
            .sequence,
        1
    );
    // the office's own event (no body) is not taken over by a chair moving it into her body
    let mut visit = ev.clone();
    visit.id = "visit".into();
    visit.body = None;
    calendar::put_event(&hub, &admin, visit.clone()).unwrap();
    visit.body = Some("wg-amr".into());
    assert_eq!(
        status(calendar::put_event(&hub, &ana, visit).unwrap_err()),
        403
    );
    ev.end = t("2026-06-10 15:00");
    assert_eq!(
        status(calendar::put_event(&hub, &ana, ev).unwrap_err()),
        400
    );
    calendar::set_action(
        &hub,
        &ken,
        "wg-amr-2026-06",
        ActionUpdate {
            index: 0,
            status: ActionStatus::Done,
        },
    )
    .unwrap();
    let mine = calendar::events(
        &hub,
        &EventFilter {
            body: None,
            person: Some("ken".into()),
        },
    )
    .unwrap();
    let closed = mine.iter().find(|e| e.id == "wg-amr-2026-06").unwrap();
    assert_eq!(closed.actions[0].status, ActionStatus::Done);

    // feeds: a secret path; an unknown secret is 404
    let feed = calendar::new_feed(&hub, &ken, None).unwrap();
    let secret = feed
        .path
        .trim_start_matches("/office/calendar/")
        .trim_end_matches(".ics");
    let ics = calendar::feed_calendar(&hub, secret).unwrap();
    assert!(
        ics.contains("UID:wg-amr-2026-06@office.kakehashi\r\n"),
        "{ics}"
    );
    assert!(ics.contains("SEQUENCE:1\r\n"));
    assert_eq!(
        status(calendar::feed_calendar(&hub, "khcal_nope").unwrap_err()),
        404
    );
    let body_feed = calendar::new_feed(&hub, &ken, Some("wg-amr")).unwrap();
    assert_eq!(body_feed.scope, "body:wg-amr");

    let kinds: Vec<String> = hub
        .audit
        .tail(100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "office_body_saved",
        "office_decision_recorded",
        "office_version_added",
        "office_review_step",
        "office_translation_saved",
        "office_event_saved",
        "office_action_updated",
        "office_feed_created",
    ] {
        assert!(
            kinds.iter().any(|x| x == k),
            "{k} missing from the audit log: {kinds:?}"
        );
    }
}
